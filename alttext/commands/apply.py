"""`alttext apply`: write exactly the reviewed entries of an `alttext suggest` file."""

from __future__ import annotations

import argparse
import sys

from alttext.printable import printable

EPILOG = """\
Entries with status "proposed" or "accepted" get their alt text; "decorative" gets
alt="" (HTML <img>) or an empty :alt: (reStructuredText); "skip" is left alone.
An entry whose document or image changed since `alttext suggest` is refused.
exit status: 0 nothing to write, 1 files changed (or would change), 2 an entry was refused or an error.
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "apply",
        help="write the reviewed alt text of a suggest file",
        description="Write the alt text of reviewed `alttext suggest` proposals into the documents.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("proposals", metavar="FILE.json", help="the file written by alttext suggest")
    parser.add_argument("--diff", action="store_true", help="print a unified diff instead of writing")
    parser.add_argument("--dry-run", action="store_true", help="say what would change; write nothing")
    parser.add_argument("--fetch-remote", action="store_true", help="download http(s) images to check their hash")
    parser.add_argument("--root", metavar="DIR", default=".", help="project root: nothing outside it is read or written")
    parser.add_argument("--site-root", metavar="DIR", help="folder that /absolute image paths start from")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from alttext.commands.fix import mkdocs_docs_dir
    from alttext.config import ConfigError, find_pyproject, load_config
    from alttext.confine import real_inside
    from alttext.fix import run as pipeline
    from alttext.fix.apply import plan_entries
    from alttext.fix.proposals import ProposalsError, load
    from alttext.fix.resolve import Resolver
    from alttext.mkdocs_urls import read_mkdocs_site

    try:
        entries = load(args.proposals)
        source = find_pyproject(args.proposals)
        config_root = load_config(source).root if source else "."
        site_root = args.site_root or (load_config(source).site_root if source else None) or mkdocs_docs_dir(config_root)
    except (ProposalsError, ConfigError) as error:
        print(printable(f"alttext: error: {error}"), file=sys.stderr)
        return 2
    log = pipeline.Log()
    resolver = Resolver(project_root=args.root, site_root=site_root, fetch_remote=args.fetch_remote,
                        mkdocs=read_mkdocs_site(config_root))
    proposals = plan_entries(entries, resolver, log)
    if args.diff:
        pipeline.write_diff(proposals, sys.stdout.buffer)
    else:
        pipeline.describe(proposals, log)
    if not (args.diff or args.dry_run):
        documents = sorted({entry.document for entry in entries if real_inside(entry.document, args.root)})
        pipeline.remove_stale_temporaries(documents, log)
    done = proposals if args.diff or args.dry_run else pipeline.write_all(proposals, log, root=args.root)
    images, files = sum(len(p.changes) for p in done), len(done)
    verb = "Would write" if args.diff or args.dry_run else "Wrote"
    log.note(f"{verb} alt text for {images} image{'s' * (images != 1)} in {files} file{'s' * (files != 1)}."
             + (f" {log.errors} entr{'ies' if log.errors != 1 else 'y'} refused or failed." if log.errors else ""))
    if log.errors:
        return 2
    return 1 if proposals else 0
