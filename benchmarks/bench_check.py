"""How fast is `alttext check`, next to markdownlint-cli2 (MD045) and htmlhint (alt-require)?

    python benchmarks/bench_check.py [--files 2400] [--keep DIR]

Generates a mixed docs tree (Markdown, HTML, reStructuredText; most documents
have no image, some have several; HTML pages carry navigation and scripts) in
a temporary folder, then times, as whole processes and best of 3:

- `alttext check` on the whole tree,
- markdownlint-cli2 with only MD045 on the Markdown files, and `alttext check` on the same files,
- htmlhint with only alt-require on the HTML files, and `alttext check` on the same files,
- `alttext check` on one small file (median of 10).

The peers are installed from npm into benchmarks/.node (git-ignored) on first use.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
NODE_PREFIX = HERE / ".node"
NODE_BIN = NODE_PREFIX / "node_modules" / ".bin"
PEERS = ["markdownlint-cli2", "htmlhint"]
ALTTEXT = [sys.executable, "-m", "alttext", "check"]

WORDS = ["the", "of", "and", "to", "in", "is", "for", "that", "with", "on", "as", "by", "this", "are", "from", "be", "it", "or", "can", "an", "at", "which", "your", "you", "configuration", "server", "request", "response", "client", "token", "cache", "build", "deploy", "module", "function", "value", "option", "default", "install", "release", "version", "document", "page", "image", "chart", "table", "list", "section", "example", "project", "user", "data", "file", "folder", "path", "command", "output", "input", "error", "warning", "setting", "plugin", "theme", "template", "render", "markdown", "html", "browser", "network", "database", "query", "index", "search", "schema", "field", "record"]


# ---------------------------------------------------------------- the tree


def sentence(rng: random.Random, low: int = 8, high: int = 24) -> str:
    words = rng.choices(WORDS, k=rng.randint(low, high))
    return " ".join(words).capitalize() + "."


def paragraph(rng: random.Random) -> str:
    return " ".join(sentence(rng) for _ in range(rng.randint(2, 6)))


def image_count(rng: random.Random) -> int:
    """Most documents have no image; some have one; a few have several."""
    roll = rng.random()
    return 0 if roll < 0.7 else 1 if roll < 0.9 else rng.randint(2, 6)


def alt_text(rng: random.Random) -> str:
    return rng.choice(["", "A bar chart of requests per second", "Diagram of the build pipeline", "image"]) if rng.random() < 0.5 else "Screenshot of the settings page"


def markdown_doc(rng: random.Random) -> str:
    parts = [f"# {sentence(rng, 2, 5)[:-1]}\n", paragraph(rng)]
    images = image_count(rng)
    for section in range(rng.randint(3, 9)):
        parts.append(f"## {sentence(rng, 2, 4)[:-1]}")
        parts.append(paragraph(rng))
        kind = rng.random()
        if kind < 0.3:
            parts.append("\n".join(f"- {sentence(rng, 4, 10)} See [the {w} guide]({w}.md)." for w in rng.choices(WORDS, k=4)))
        elif kind < 0.5:
            parts.append("```python\n" + "\n".join(f"{w} = call_{w}({rng.randint(0, 99)})  # {sentence(rng, 2, 5)}" for w in rng.choices(WORDS, k=6)) + "\n```")
        elif kind < 0.6:
            parts.append("| Option | Default | Meaning |\n| --- | --- | --- |\n" + "\n".join(f"| `{w}` | `{rng.randint(0, 9)}` | {sentence(rng, 3, 8)} |" for w in rng.choices(WORDS, k=5)))
        elif kind < 0.7:
            parts.append("> " + paragraph(rng))
        if images and rng.random() < 0.5:
            images -= 1
            parts.append(f"![{alt_text(rng)}](images/{rng.choice(WORDS)}-{section}.png)")
    parts += [f"![{alt_text(rng)}](images/extra-{index}.png)" for index in range(images)]
    return "\n\n".join(parts) + "\n"


NAV = "\n".join(f'      <li><a href="/{w}/">{w.capitalize()}</a></li>' for w in WORDS[20:60])
SCRIPT = "\n".join(f"    window.dataLayer.push({{'{w}': {i}, 'html': '<div class=\"x\">{w}</div>'}});" for i, w in enumerate(WORDS[:40]))


def html_doc(rng: random.Random) -> str:
    body = []
    images = image_count(rng)
    for section in range(rng.randint(3, 10)):
        body.append(f"      <h2 id=\"s{section}\">{sentence(rng, 2, 5)[:-1]}</h2>")
        body.append(f"      <p>{paragraph(rng)} <a href=\"/{rng.choice(WORDS)}/\">More</a>.</p>")
        if rng.random() < 0.3:
            body.append("      <pre><code>" + "\n".join(f"{w}: {rng.randint(0, 99)}" for w in rng.choices(WORDS, k=6)) + "</code></pre>")
        if images and rng.random() < 0.5:
            images -= 1
            alt = alt_text(rng)
            alt_attribute = f' alt="{alt}"' if alt or rng.random() < 0.3 else ""
            body.append(f'      <img src="/images/{rng.choice(WORDS)}-{section}.png"{alt_attribute} width="640" height="360">')
    body += [f'      <img src="/images/extra-{index}.png">' for index in range(images)]
    main = "\n".join(body)
    return f"""<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{sentence(rng, 2, 5)[:-1]} - Docs</title>
    <link rel="stylesheet" href="/assets/main.css">
    <script>
{SCRIPT}
    </script>
  </head>
  <body>
    <header><a href="/"><img src="/assets/logo.svg" alt="Example Docs"></a></header>
    <nav><ul>
{NAV}
    </ul></nav>
    <main>
{main}
    </main>
    <footer><p>{sentence(rng)}</p></footer>
    <script src="/assets/search.js" defer></script>
  </body>
</html>
"""


def rst_doc(rng: random.Random) -> str:
    title = sentence(rng, 2, 5)[:-1]
    parts = [f"{title}\n{'=' * len(title)}", paragraph(rng)]
    images = image_count(rng)
    for section in range(rng.randint(3, 8)):
        heading = sentence(rng, 2, 4)[:-1]
        parts += [f"{heading}\n{'-' * len(heading)}", paragraph(rng)]
        if rng.random() < 0.3:
            parts.append(".. code-block:: python\n\n" + "\n".join(f"   {w} = {rng.randint(0, 99)}" for w in rng.choices(WORDS, k=5)))
        if images and rng.random() < 0.5:
            images -= 1
            alt = alt_text(rng)
            option = f"\n   :alt: {alt}" if alt else ""
            parts.append(f".. image:: images/{rng.choice(WORDS)}-{section}.png\n   :width: 400px{option}")
    parts += [f".. figure:: images/extra-{index}.png\n\n   A caption." for index in range(images)]
    return "\n\n".join(parts) + "\n"


def generate_tree(root: Path, files: int, seed: int = 20240601) -> dict[str, list[Path]]:
    """A docs tree of about `files` documents: half Markdown, a third HTML, the rest rST."""
    rng = random.Random(seed)
    by_syntax: dict[str, list[Path]] = {"markdown": [], "html": [], "rst": []}
    makers: list[tuple[str, str, Callable[[random.Random], str]]] = [
        ("markdown", ".md", markdown_doc),
        ("html", ".html", html_doc),
        ("rst", ".rst", rst_doc),
    ]
    for index in range(files):
        syntax, suffix, make = rng.choices(makers, weights=[50, 33, 17])[0]
        folder = root / syntax / f"section-{index % 40:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"page-{index:05d}{suffix}"
        text = make(rng)
        if index % 400 == 0:  # a few long pages: changelogs, API references
            text = text + "\n".join(make(rng) for _ in range(20))
        path.write_text(text, encoding="utf-8")
        by_syntax[syntax].append(path)
    return by_syntax


# ---------------------------------------------------------------- running


def ensure_peers() -> None:
    if all((NODE_BIN / peer).exists() for peer in PEERS):
        return
    print(f"installing {', '.join(PEERS)} into {NODE_PREFIX} ...", file=sys.stderr)
    subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(NODE_PREFIX), *PEERS], check=True)


def timed(command: list[str], cwd: Path, runs: int = 3) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """Best wall time and best CPU time (user + system, the process and its children) of
    `runs` runs, and the output of the last one. CPU time says more on a busy machine."""
    best_wall = best_cpu = float("inf")
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        completed = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
        best_wall = min(best_wall, time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        best_cpu = min(best_cpu, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    if completed.returncode not in (0, 1):
        raise SystemExit(f"{command[0]} failed ({completed.returncode}):\n{completed.stderr[-2000:]}")
    return best_wall, best_cpu, completed


def count_alttext(completed: subprocess.CompletedProcess[str]) -> int:
    return len(json.loads(completed.stdout))


def count_markdownlint(completed: subprocess.CompletedProcess[str]) -> int:
    return len(re.findall(r"MD045", completed.stdout + completed.stderr))


def count_htmlhint(completed: subprocess.CompletedProcess[str]) -> int:
    return len(re.findall(r"alt-require", completed.stdout + completed.stderr))


def size_of(paths: list[Path]) -> int:
    return sum(path.stat().st_size for path in paths)


def row(name: str, paths: list[Path], timing: tuple[float, float, subprocess.CompletedProcess[str]], count: Callable[[subprocess.CompletedProcess[str]], int]) -> dict[str, object]:
    seconds, cpu, done = timing
    size = size_of(paths)
    return {"name": name, "files": len(paths), "mb": size / 1e6, "seconds": seconds, "cpu": cpu, "mbps": size / 1e6 / seconds, "findings": count(done)}


def measure(root: Path, by_syntax: dict[str, list[Path]]) -> list[dict[str, object]]:
    everything = [path for paths in by_syntax.values() for path in paths]
    markdown, html = by_syntax["markdown"], by_syntax["html"]
    missing_alt = ["--select", "ALT0,ALT1,ALT2", "--format", "json"]
    (root / ".markdownlint-cli2.jsonc").write_text(json.dumps({"config": {"default": False, "MD045": True}}))
    return [
        row("alttext check (whole tree, all rules)", everything, timed([*ALTTEXT, "--format", "json", "."], root), count_alttext),
        row("markdownlint-cli2 MD045 (Markdown)", markdown, timed([str(NODE_BIN / "markdownlint-cli2"), "markdown/**/*.md"], root), count_markdownlint),
        row("alttext check (Markdown, missing alt)", markdown, timed([*ALTTEXT, *missing_alt, "markdown"], root), count_alttext),
        row("htmlhint alt-require (HTML)", html, timed([str(NODE_BIN / "htmlhint"), "--rules", "alt-require", "--format", "unix", "--nocolor", "html"], root), count_htmlhint),
        row("alttext check (HTML, missing alt)", html, timed([*ALTTEXT, *missing_alt, "html"], root), count_alttext),
    ]


def small_file_time(root: Path) -> float:
    small = root / "small.md"
    small.write_text("# Title\n\nSome text.\n\n![](cat.png)\n", encoding="utf-8")
    times = []
    for _ in range(10):
        start = time.perf_counter()
        subprocess.run([*ALTTEXT, str(small)], cwd=root, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def print_table(rows: list[dict[str, object]], small: float) -> None:
    print(f"{'run':40} {'files':>6} {'MB':>6} {'wall s':>7} {'MB/s':>6} {'CPU s':>6} {'MB/CPU-s':>8} {'findings':>8}")
    for r in rows:
        print(
            f"{r['name']:40} {r['files']:>6} {r['mb']:>6.2f} {r['seconds']:>7.3f} {r['mbps']:>6.1f} "
            f"{r['cpu']:>6.2f} {float(r['mb']) / float(r['cpu']):>8.1f} {r['findings']:>8}"  # type: ignore[arg-type]
        )
    by_name = {str(r["name"]): r for r in rows}
    for ours, peer in [
        ("alttext check (Markdown, missing alt)", "markdownlint-cli2 MD045 (Markdown)"),
        ("alttext check (HTML, missing alt)", "htmlhint alt-require (HTML)"),
    ]:
        wall = float(by_name[peer]["seconds"]) / float(by_name[ours]["seconds"])  # type: ignore[arg-type]
        cpu = float(by_name[peer]["cpu"]) / float(by_name[ours]["cpu"])  # type: ignore[arg-type]
        print(
            f"{ours}: {wall:.1f}x as fast as {peer.split(' (')[0]} (wall), {cpu:.1f}x less CPU; "
            f"findings: ours {by_name[ours]['findings']}, theirs {by_name[peer]['findings']}"
        )
    print(f"alttext check on one small file: {small * 1000:.0f} ms wall (median of 10)")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {os.cpu_count()} cores, load average {load:.1f} at the end, Python {sys.version.split()[0]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2400, help="documents to generate (default: 2400)")
    parser.add_argument("--keep", metavar="DIR", help="generate the tree in DIR and keep it")
    args = parser.parse_args(argv)
    ensure_peers()
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="alttext-bench-"))
    try:
        by_syntax = generate_tree(root, args.files)
        total = size_of([path for paths in by_syntax.values() for path in paths])
        print(f"tree: {sum(map(len, by_syntax.values()))} documents, {total / 1e6:.1f} MB in {root}")
        print_table(measure(root, by_syntax), small_file_time(root))
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
