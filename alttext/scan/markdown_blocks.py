"""Open up the indented blocks of the Markdown extensions MkDocs sites use.

Admonitions (`!!! note`), collapsible blocks (`??? note`, `???+ note`) and
content tabs (`=== "Tab"`) hold Markdown indented by four spaces. To CommonMark
a body paragraph after a blank line is indented code, so images there would
go unseen. Before parsing, each marker line becomes an empty line and its body
loses those four spaces: line numbers stay, and every line stays the end of
its source line, which is all the offset mapping needs.
"""

from __future__ import annotations

import re

_MARKER = re.compile(
    r'(?:!!!|\?\?\?\+?)[ \t]+[\w-]+(?:[ \t]+"[^"]*")?[ \t]*$|===[ \t]+"[^"]*"[ \t]*$'
)
_MAYBE_MARKER = re.compile(r'^[ ]*(?:!!!|\?\?\?|===[ \t]+")', re.MULTILINE)


def open_extension_blocks(text: str) -> str:
    """`text` (LF line ends) with admonition, details and tab bodies dedented to plain Markdown."""
    if _MAYBE_MARKER.search(text) is None:
        return text
    lines = text.split("\n")
    bodies: list[int] = []  # the body column of each open block, innermost last
    for number, line in enumerate(lines):
        content = line.lstrip(" ")
        indent = len(line) - len(content)
        if content:
            while bodies and indent < bodies[-1]:
                bodies.pop()
        if content and _MARKER.match(content):
            bodies.append(indent + 4)
            lines[number] = ""
        elif bodies:
            lines[number] = line[min(indent, 4 * len(bodies)) :]
    return "\n".join(lines)
