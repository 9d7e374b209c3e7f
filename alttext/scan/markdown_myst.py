"""MyST directive fences in Markdown: ```` ```{image} path ```` and ```` ```{figure} path ````.

myst-parser (Sphinx, Jupyter Book) turns these fences into rST image and
figure directives, so they need an `:alt:` option as their rST twins do.
Options are `:name: value` lines at the top of the fence body, or a YAML
block between `---` lines.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from alttext.scan.base import AltSlot, ImageRef
from alttext.scan.markdown_positions import SourceLines

if TYPE_CHECKING:
    from markdown_it.token import Token

RULE = "ALT201"
# A fence that is or may hold an rST-style image (`{eval-rst}` holds rST).
MYST_HINT = re.compile(r"(?:`{3,}|~{3,})[ \t]*\{(?:image|figure|eval-rst)\}")
_INFO = re.compile(r"\{(image|figure)\}(?:[ \t]+(.*))?")
_DIRECTIVE_NAME = re.compile(r"\{([\w:.+-]+)\}")
# Directives whose body is not Markdown (eval-rst is rST, and scanned as such).
OPAQUE_DIRECTIVES = frozenset(
    [
        "code",
        "code-block",
        "sourcecode",
        "code-cell",
        "literalinclude",
        "math",
        "raw",
        "highlight",
        "doctest",
        "testcode",
        "testoutput",
        "ipython",
        "jupyter-execute",
        "mermaid",
        "graphviz",
        "graph",
        "digraph",
        "plantuml",
        "uml",
        "csv-table",
        "toctree",
        "include",
    ]
)
_OPTION = re.compile(r":([\w-]+):(?:[ \t]+(.*))?")
_YAML_ALT = re.compile(r"alt[ \t]*:[ \t]*(.*)")
_NOT_CONTAINER = re.compile(r"[^\s>]")


def myst_image(token: Token, text: str, lines: SourceLines) -> ImageRef | None:
    """The image of a `{image}` or `{figure}` fence token, or None for other fences."""
    match = _INFO.fullmatch(token.info.strip())
    if match is None or not (match.group(2) or "").strip() or token.map is None:
        return None
    name, src = match.group(1), match.group(2).strip()
    body = token.content.split("\n")
    if body and body[0].strip() == "---":
        return _with_yaml_options(token, text, lines, name, src, body)
    option_count = 0
    while option_count < len(body) and _OPTION.fullmatch(body[option_count].strip()):
        option_count += 1
    alt = _option_alt(body[:option_count])
    opening = token.map[0]
    last_line = opening + option_count
    line_start, line_text = lines.line(last_line)
    end = line_start + len(line_text)
    newline = _line_end_at(text, end)
    return ImageRef(
        start=_fence_start(token, lines),
        end=end,
        src=src,
        kind=f"myst-{name}",
        alt=alt,
        rule=RULE if alt is None else None,
        slot=AltSlot(
            end,
            end,
            form="rst-option",
            indent=_body_prefix(token, lines, option_count),
            newline=newline,
        ),
        caption=_caption(body[option_count:]) if name == "figure" else None,
    )


def myst_directive_name(info: str) -> str | None:
    """`note` for a fence info string `{note} Title`; None when it is no MyST directive."""
    match = _DIRECTIVE_NAME.match(info.strip())
    return match.group(1).lower() if match else None


def _with_yaml_options(
    token: Token, text: str, lines: SourceLines, name: str, src: str, body: list[str]
) -> ImageRef:
    """A fence whose options are a YAML block: found, but a `:alt:` line cannot go there."""
    closing = next(
        (index for index in range(1, len(body)) if body[index].strip() == "---"),
        len(body),
    )
    alt = next(
        (
            found.group(1).strip()
            for line in body[1:closing]
            if (found := _YAML_ALT.fullmatch(line.strip()))
        ),
        None,
    )
    assert token.map is not None
    line_start, line_text = lines.line(min(token.map[0] + closing + 1, len(lines) - 1))
    return ImageRef(
        start=_fence_start(token, lines),
        end=line_start + len(line_text),
        src=src,
        kind=f"myst-{name}",
        alt=alt,
        rule=RULE if alt is None else None,
        caption=_caption(body[closing + 1 :]) if name == "figure" else None,
    )


def _option_alt(options: list[str]) -> str | None:
    for line in options:
        option = _OPTION.fullmatch(line.strip())
        if option and option.group(1).lower() == "alt":
            return (option.group(2) or "").strip()
    return None


def _fence_start(token: Token, lines: SourceLines) -> int:
    assert token.map is not None
    line_start, line_text = lines.line(token.map[0])
    return line_start + max(line_text.find(token.markup), 0)


def _body_prefix(token: Token, lines: SourceLines, option_count: int) -> str:
    """What starts a line of the fence body in the source: quote markers and indentation."""
    assert token.map is not None
    if option_count:
        _, option_line = lines.line(token.map[0] + 1)
        return option_line[: len(option_line) - len(option_line.lstrip(" \t>"))]
    _, opening = lines.line(token.map[0])
    prefix = opening[: max(opening.find(token.markup), 0)]
    return _NOT_CONTAINER.sub(" ", prefix)  # list markers become the spaces under them


def _line_end_at(text: str, pos: int) -> str:
    ending = text[pos : pos + 2]
    if ending == "\r\n":
        return ending
    return ending[:1] if ending[:1] in ("\r", "\n") else "\n"


def _caption(content: list[str]) -> str | None:
    """A figure's caption: the first paragraph of its content."""
    paragraph: list[str] = []
    for line in content:
        if not line.strip():
            if paragraph:
                break
            continue
        paragraph.append(line.strip())
    return " ".join(paragraph) or None
