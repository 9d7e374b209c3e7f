"""`alttext check`: report every image without a text alternative, and weak alt text."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from alttext.printable import printable

if TYPE_CHECKING:  # imported lazily at run time: `alttext --help` stays fast
    from alttext.config import Config
    from alttext.findings import Finding
    from alttext.lint import FileError, FileResult

EPILOG = """\
exit status: 0 no problems, 1 problems found, 2 a file could not be checked or a usage/config error.
rules: ALT001-ALT006 HTML, ALT101 Markdown, ALT201 reStructuredText (missing alt text);
ALT301 file name, ALT302 placeholder, ALT303 "image of ...", ALT304 too long (weak alt text).
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "check",
        help="report images without alt text",
        description="Report images without a text alternative in HTML, Markdown and reStructuredText files.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="files and folders to check, - for stdin (default: .)")
    parser.add_argument("--format", choices=("text", "json", "github", "sarif"), default="text", help="output format (default: text)")
    parser.add_argument("--select", action="append", metavar="RULES", help="only these rules: ids, names or prefixes, comma-separated (ALT0,ALT101)")
    parser.add_argument("--ignore", action="append", metavar="RULES", help="skip these rules (added to the configured ones)")
    parser.add_argument("--max-alt-length", type=int, metavar="N", help="longest alt text before ALT304 (default: 125)")
    parser.add_argument("--exclude", action="append", metavar="GLOB", help="skip files matching this glob (repeatable)")
    parser.add_argument("--config", metavar="FILE", help="pyproject.toml to read [tool.alttext] from (default: the nearest one)")
    parser.add_argument("--stdin-filename", metavar="NAME", help="name (and so syntax) of the document read from stdin")
    parser.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of stdout")
    parser.add_argument("--jobs", "-j", type=int, metavar="N", help="processes to use (default: all cores; 1 = none extra)")
    parser.add_argument("--verbose", "-v", action="store_true", help="list the files skipped in the folders given, and why")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from alttext.config import ConfigError

    try:
        config = _config(args)
        paths = _paths(args)
    except ConfigError as error:
        print(printable(f"alttext: error: {error}"), file=sys.stderr)
        return 2
    findings, errors, checked, skipped = _check(paths, args, config)
    try:
        _report(findings, errors, args)
    except OSError as error:
        print(printable(f"alttext: error: cannot write {args.output}: {error.strerror or error}"), file=sys.stderr)
        return 2
    if args.verbose:
        for document, reason in skipped:
            print(f"{document}: skipped: {reason}", file=sys.stderr)
    _summary(findings, errors, checked, skipped)
    if errors:
        return 2
    return 1 if findings else 0


def _config(args: argparse.Namespace) -> Config:
    from alttext.config import (
        Config,
        ConfigError,
        find_pyproject,
        load_config,
        with_overrides,
    )

    if args.config and not os.path.isfile(args.config):
        raise ConfigError(f"--config {args.config}: no such file")
    start = next((path for path in args.paths if path != "-"), ".")
    source = args.config or find_pyproject(start)
    config = load_config(source) if source else Config(root=os.getcwd())
    if args.jobs is not None and args.jobs < 1:
        raise ConfigError("--jobs: expected a positive whole number")
    return with_overrides(
        config, select=args.select, ignore=args.ignore, exclude=args.exclude, max_alt_length=args.max_alt_length
    )


def _paths(args: argparse.Namespace) -> list[str]:
    from alttext.config import ConfigError

    if args.stdin_filename and not args.paths:
        return ["-"]
    if "-" in args.paths and not args.stdin_filename:
        raise ConfigError("reading stdin (-) needs --stdin-filename NAME, whose extension gives the syntax")
    return args.paths or ["."]


def _check(
    paths: list[str], args: argparse.Namespace, config: Config
) -> tuple[list[Finding], list[FileError], int, list[tuple[str, str]]]:
    from alttext.batch import check_files
    from alttext.walk import collect_files

    files = collect_files([p for p in paths if p != "-"], include=config.include, exclude=config.exclude, root=config.root)
    findings: list[Finding] = []
    errors = list(files.errors)
    if "-" in paths:
        result = _check_stdin(args.stdin_filename, config)
        findings += result.findings
        errors += result.errors
    for result in check_files(files.paths, config, args.jobs):
        findings += sorted(result.findings, key=lambda f: (f.line, f.column, f.rule))
        errors += result.errors
    examined = [*files.paths, *([args.stdin_filename] if "-" in paths else [])]
    return findings, errors, _fully_checked(examined, findings, errors), files.skipped


def _fully_checked(examined: list[str], findings: list[Finding], errors: list[FileError]) -> int:
    """How many of the examined files were checked: a file that could not be read or parsed
    (an error and nothing found) is not counted."""
    failed = {error.path for error in errors} - {finding.path for finding in findings}
    return sum(1 for path in examined if path not in failed)


def _check_stdin(name: str, config: Config) -> FileResult:
    from alttext import document
    from alttext.lint import FileError, FileResult, check_decoded, file_error
    from alttext.scan import syntax_for_path

    syntax = syntax_for_path(name)
    if syntax is None:
        return FileResult(errors=[FileError(name, "--stdin-filename must end in .html, .htm, .xhtml, .md, .markdown or .rst")])
    limit = document.MAX_DOCUMENT_BYTES
    raw = sys.stdin.buffer.read(limit + 1)  # never more than the limit for files, however much comes
    if len(raw) > limit:
        return FileResult(errors=[FileError(name, f"stdin is over the {_size(limit)} limit for a document")])
    try:
        text = document.decode(raw, name, html=syntax == "html").text
    except document.DocumentError as error:
        return FileResult(errors=[file_error(name, error)])
    return check_decoded(name, text, syntax, config)


def _size(count: int) -> str:
    return f"{count / 2**20:.0f} MiB" if count >= 2**20 else f"{count} bytes"


def _report(findings: list[Finding], errors: list[FileError], args: argparse.Namespace) -> None:
    from alttext.output import renderer

    for error in errors:
        print(printable(str(error)), file=sys.stderr)
    report = renderer(args.format)(findings, errors)
    if args.output and args.output != "-":
        _write_atomically(args.output, report)
    else:
        sys.stdout.write(report)
        sys.stdout.flush()


def _write_atomically(path: str, report: str) -> None:
    """Write the whole report or nothing: a reader never sees half a file."""
    temporary = f"{path}.{os.getpid()}.tmp"
    try:
        with open(temporary, "w", encoding="utf-8") as file:
            file.write(report)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _summary(findings: list[Finding], errors: list[FileError], checked: int, skipped: list[tuple[str, str]]) -> None:
    from alttext.rules import MISSING_ALT_RULES

    files_word = "file" if checked == 1 else "files"
    if findings:
        missing = sum(1 for f in findings if f.rule in MISSING_ALT_RULES)
        with_problems = len({f.path for f in findings})
        line = (
            f"{len(findings)} problem{'s' * (len(findings) != 1)} in {with_problems} of {checked} {files_word}: "
            f"{missing} without alt text, {len(findings) - missing} with weak alt text."
        )
    elif checked == 0 and errors:
        line = ""
    elif checked == 0:
        line = "No HTML, Markdown or reStructuredText files found."
    else:
        line = f"No problems in {checked} {files_word}."
    if errors:
        unreadable = len({error.path for error in errors})
        could_not = f"{unreadable} {'path' if unreadable == 1 else 'paths'} could not be checked"
        line = f"{line} {could_not}." if line else f"{could_not[0].upper()}{could_not[1:]}; no file was checked."
    if skipped:
        line += f" {_skipped_summary(skipped)}"
    print(line, file=sys.stderr)


def _skipped_summary(skipped: list[tuple[str, str]]) -> str:
    """`5 files skipped (3 ignored by .gitignore, 2 in tool folders); -v lists them.`"""
    from collections import Counter

    kinds = Counter("in build output" if reason.startswith("build output") else
                    "in tool folders" if reason == "tool folder" else reason for _, reason in skipped)
    why = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
    return f"{len(skipped)} file{'s' * (len(skipped) != 1)} skipped ({why}); -v lists them."
