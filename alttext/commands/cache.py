"""`alttext cache import RESULTS...`: fill the caption cache from captions made elsewhere (Spark)."""

from __future__ import annotations

import argparse
import sys

EPILOG = """\
RESULTS are Parquet files or folders of part files with the columns sha256, caption, raw,
error, model and settings, as alttext.spark writes them. Afterwards `alttext fix`, `suggest`
and `caption` answer those images from the cache, with no model loaded, as long as they use
the same model and settings. Rows with an error are counted and skipped.
exit status: 0 imported, 2 a file cannot be read or is not a results table.
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("cache", help="manage the caption cache",
                                   description="Manage the caption cache.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    importer = actions.add_parser(
        "import",
        help="store captions from Parquet results (alttext.spark) in the cache",
        description="Store the captions of Parquet results tables in the caption cache.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    importer.add_argument("results", nargs="+", metavar="RESULTS", help="Parquet file or folder")
    importer.add_argument("--cache", metavar="PATH",
                          help="caption cache file or folder (default: as for `alttext caption`)")
    importer.add_argument("--config", metavar="FILE", help="pyproject.toml to read [tool.alttext] from")
    importer.set_defaults(run=run_import)


def run_import(args: argparse.Namespace) -> int:
    from alttext.caption.cache import CaptionCache, default_cache_path
    from alttext.caption.results_table import ResultsError, import_results
    from alttext.commands.caption import _options
    from alttext.config import ConfigError

    try:
        where = _options(args).get("cache", True)
    except ConfigError as error:
        print(f"alttext: error: {error}", file=sys.stderr)
        return 2
    if where is False:
        print("alttext: error: the caption cache is turned off in [tool.alttext]; give --cache PATH", file=sys.stderr)
        return 2
    with CaptionCache(default_cache_path() if where is True else where) as cache:
        try:
            report = import_results(args.results, cache)
        except ResultsError as error:
            print(f"alttext: error: {error}", file=sys.stderr)
            return 2
        print(f"Imported {report.stored} caption{'s' * (report.stored != 1)} into {cache.path}"
              + (f"; skipped {report.failed} row{'s' * (report.failed != 1)} with an error" if report.failed else "")
              + ".", file=sys.stderr)
    return 0
