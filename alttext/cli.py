"""The `alttext` command: a thin shell that hands each subcommand to its module.

Command modules must be cheap to import: heavy libraries (torch, transformers,
markdown-it) are imported inside the functions that need them.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from alttext import __version__
from alttext.interrupts import Terminated, exit_status, terminate_as_interrupt

COMMAND_MODULES = [
    "alttext.commands.check",
    "alttext.commands.fix",
    "alttext.commands.suggest",
    "alttext.commands.apply",
    "alttext.commands.caption",
    "alttext.commands.cache",
    "alttext.commands.export_onnx",
    "alttext.commands.serve",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="alttext",
        description="Find images without a text alternative and write alt text for them.",
    )
    parser.add_argument("--version", action="version", version=f"alttext {__version__}")
    subcommands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).add_parser(subcommands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with terminate_as_interrupt():
            return int(args.run(args))
    except KeyboardInterrupt as interrupt:
        print(f"alttext: {'terminated' if isinstance(interrupt, Terminated) else 'interrupted'}", file=sys.stderr)
        return exit_status(interrupt)
    except BrokenPipeError:
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
