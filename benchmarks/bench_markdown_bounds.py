"""How long do pathological Markdown lines take: alttext's scanner next to markdown-it-py alone?

    python benchmarks/bench_markdown_bounds.py [--max-mb 5]

Lines of `![![![...` of growing size are scanned by alttext (which reports a paragraph of
unclosed brackets as too complex) and parsed by markdown-it-py, the parser alttext uses,
without any bound (only up to 0.2 MB: it needs about 65 microseconds per `![`). A dense
real document (an image every 45 bytes) is measured too, as the work the bound must allow.
CPU seconds (time.process_time), best of 3.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from markdown_it import MarkdownIt

from alttext.scan.base import ScanTooComplex
from alttext.scan.markdown import find_images


def cpu_seconds(work: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        work()
        best = min(best, time.process_time() - start)
    return best


def alttext_scan(text: str) -> str:
    try:
        return f"{len(find_images(text))} images"
    except ScanTooComplex as error:
        return f"too complex ({str(error)[:40]}...)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-mb", type=float, default=5.0, help="largest pathological line in MB (default: 5)")
    args = parser.parse_args()
    markdown_it = MarkdownIt("commonmark")
    rows = []
    per_opener = None
    for size in sorted({0.05, 0.2, 1.0, args.max_mb}):
        text = "![" * int(size * 1e6 / 2) + "\n"
        openers = len(text) // 2
        outcome = alttext_scan(text)
        ours = cpu_seconds(lambda text=text: alttext_scan(text))
        if size <= 0.2:
            theirs = f"{cpu_seconds(lambda text=text: markdown_it.parse(text), repeat=1):.2f}"
            per_opener = float(theirs) / openers
        else:  # too slow to run: estimated from the rate measured at 0.2 MB
            theirs = f"~{per_opener * openers:.0f} (estimated)" if per_opener else "not run"
        rows.append((f"`![` x {openers:,}", size, ours, theirs, outcome))
    dense = "".join(f"Text with a [link](x) and ![alt {i}](i{i}.png).\n\n" for i in range(40_000))
    rows.append(("dense real document", len(dense) / 1e6, cpu_seconds(lambda: find_images(dense)),
                 f"{cpu_seconds(lambda: markdown_it.parse(dense)):.2f}", alttext_scan(dense)))
    print("| input | MB | alttext CPU s | markdown-it-py CPU s | alttext says |")
    print("| --- | ---: | ---: | ---: | --- |")
    for name, megabytes, ours, theirs, outcome in rows:
        print(f"| {name} | {megabytes:.2f} | {ours:.2f} | {theirs} | {outcome} |")


if __name__ == "__main__":
    main()
