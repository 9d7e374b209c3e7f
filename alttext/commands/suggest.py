"""`alttext suggest`: proposals for every image without alt text, as JSON to review by hand."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

EPILOG = """\
Each entry has the document, line, column, source, image SHA-256, document SHA-256,
the proposed alt text and a status. Edit "alt", or set "status" to "decorative" or
"skip", then run `alttext apply FILE`.
exit status: 0 no image lacks alt text, 1 proposals written, 2 an error.
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from alttext.commands.fix import add_common_arguments

    parser = subparsers.add_parser(
        "suggest",
        help="write alt text proposals to a JSON file for review",
        description="Propose alt text for images without it, as a JSON file a person reviews before `alttext apply`.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_common_arguments(parser)
    parser.add_argument("-o", "--output", metavar="FILE", default="-", help="the JSON file (default: stdout)")
    parser.add_argument("--review", metavar="FILE.html", help="also write a self-contained review page")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from alttext.commands.fix import collect_and_caption
    from alttext.fix import proposals

    started = collect_and_caption(args)
    if started is None:
        return 2
    collected, log = started
    base = os.path.dirname(os.path.abspath(args.output)) if args.output != "-" else os.getcwd()
    documents = {plan.path: plan.document.raw for plan in collected.plans}
    text = proposals.dumps(proposals.build(collected.targets, documents, base))
    written = args.output != "-" and _write(args.output, text, log)
    if args.output == "-":
        sys.stdout.write(text)
    if args.review:
        from alttext.commands.fix import write_review_page

        write_review_page(args.review, collected, log)
    count = len(collected.targets)
    log.note(f"{count} image{'s' * (count != 1)} without alt text" + (f"; proposals in {args.output}" if written else ""))
    if log.errors:
        return 2
    return 1 if count else 0


def _write(path: str, text: str, log: Any) -> bool:
    from alttext.fix.atomic import write_atomic

    try:
        write_atomic(path, text.encode("utf-8"))
    except OSError as error:
        log.error(f"{path}: error: cannot write the proposals: {error.strerror or error}")
        return False
    return True
