"""reStructuredText scanner: image, figure and image substitution directives without `:alt:`.

Line based, following the docutils rules that matter for finding directives:
explicit markup blocks end at the first non-blank line indented no deeper
than their `..`; comments, literal blocks and code-like directive bodies are
skipped; other directives' bodies (notes, list items, block quotes) are read.
Indentation counts columns with tabs expanded to 8, as docutils does.
"""

from __future__ import annotations

import itertools
import operator
import re

from alttext.scan.base import AltSlot, ImageRef

RULE = "ALT201"
_DIRECTIVE_ENDS = ("image", "image ", "figure", "figure ")
_LINE_END = re.compile(r"\r\n|\r|\n")
_BLANKS = " \t\v\f"
_NAME = r"[^\W_]+(?:[-._+:][^\W_]+)*"  # docutils' "simplename"
_EXPLICIT = re.compile(r"\.\.(?=[ \t]|$)")
_DIRECTIVE = re.compile(rf"[ \t]+({_NAME}) ?::(?=[ \t]|$)")
_SUBSTITUTION = re.compile(
    rf"[ \t]+\|(?![ \t])[^|]*(?<![ \t])\|[ \t]+({_NAME}) ?::(?=[ \t]|$)"
)
_NOT_COMMENT = re.compile(r"[ \t]+(?:\[|_)")  # footnotes, citations, hyperlink targets
_FIELD_MARKER = re.compile(r":(?![: ])(?:[^:\\]|\\.|:(?![ `]|$))*(?<! ):(?: +|$)")
_LIST_MARKER = re.compile(
    r"(?:[-*+\u2022\u2023\u2043]|\(?(?:\d+|#|[a-zA-Z]|[ivxlcdmIVXLCDM]+)[.)])[ \t]+(?=\S)"
)
# A quoted literal block: unindented lines starting with the same ASCII punctuation.
_QUOTE = re.compile(r"[!-/:-@\[-`{-~]")
_IMAGE_KINDS = {"image": "rst-image", "figure": "rst-figure"}
# Directives whose body is not reStructuredText: nothing inside them is a directive.
_OPAQUE = frozenset(
    [
        "code",
        "code-block",
        "sourcecode",
        "literalinclude",
        "parsed-literal",
        "raw",
        "math",
        "highlight",
        "doctest",
        "testcode",
        "testoutput",
        "testsetup",
        "testcleanup",
        "ipython",
        "jupyter-execute",
        "code-cell",
        "productionlist",
        "graphviz",
        "graph",
        "digraph",
        "mermaid",
        "plantuml",
        "uml",
        "toctree",
        "csv-table",
    ]
)


def find_images(text: str) -> list[ImageRef]:
    """Every image, figure and image substitution of an rST document, in document order."""
    if not _may_hold_image(text):
        return []
    return _Scanner(text).run()


def _may_hold_image(text: str) -> bool:
    """Whether some `::` follows `image` or `figure` (any case, one optional space)."""
    pos = text.find("::")
    while pos >= 0:
        if text[max(pos - 7, 0) : pos].lower().endswith(_DIRECTIVE_ENDS):
            return True
        pos = text.find("::", pos + 2)
    return False


def _split_lines(text: str) -> tuple[list[str], list[int]]:
    """The lines (without line ends) and their start offsets; LF, CRLF and CR end a line."""
    if "\r" in text:
        lines = _LINE_END.split(text)
        starts = [0] + [match.end() for match in _LINE_END.finditer(text)]
    else:  # the common case, all in C
        lines = text.split("\n")
        starts = [
            0,
            *map(
                operator.add, itertools.accumulate(map(len, lines)), itertools.count(1)
            ),
        ]
    if lines[-1] == "":  # the text ends with a line end: no line after it
        lines.pop()
    return lines, starts[: len(lines)]


def _leading(line: str) -> str:
    return line[: len(line) - len(line.lstrip(_BLANKS))]


def _indent(line: str) -> int:
    lead = _leading(line)
    if lead.isascii() and " " * len(lead) == lead:
        return len(lead)
    return len(lead.replace("\v", " ").replace("\f", " ").expandtabs(8))


def _text_indent(line: str) -> int:
    """Column where a paragraph's text starts: after a list marker if there is one."""
    marker = _LIST_MARKER.match(line, len(_leading(line)))
    return len(line[: marker.end()].expandtabs(8)) if marker else _indent(line)


def _ends_literal(stripped: str) -> bool:
    """A paragraph line ending in `::` (but not a `::::` title adornment) introduces a literal block."""
    return stripped.endswith("::") and not (
        len(stripped) > 2 and stripped.strip(":") == ""
    )


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.lines, self.starts = _split_lines(text)
        first_end = _LINE_END.search(text)
        self.default_newline = first_end.group() if first_end else "\n"
        self.refs: list[ImageRef] = []

    def line(self, index: int) -> str:
        return self.lines[index]

    def blank(self, index: int) -> bool:
        return not self.lines[index].strip()

    def line_end(self, index: int) -> tuple[int, str]:
        """Offset of the end of line `index` (before its line end), and that line end."""
        end = self.starts[index] + len(self.lines[index])
        newline = self.text[end : end + 2]
        return end, newline if newline == "\r\n" else newline[:1]

    def run(self) -> list[ImageRef]:
        index, skip_deeper_than, literal_after = 0, -1, -1
        paragraph_indent, previous_blank = -1, True
        lines = self.lines
        while index < len(lines):
            line = lines[index]
            stripped = line.strip()
            if not stripped:
                previous_blank = True
                index += 1
                continue
            indent = _indent(line)
            if skip_deeper_than >= 0 and indent > skip_deeper_than:
                index += 1
                continue
            skip_deeper_than = -1
            if literal_after >= 0 and previous_blank:
                if indent > literal_after:  # the literal block of a `::` paragraph
                    skip_deeper_than, literal_after = literal_after, -1
                    continue
                if indent == literal_after and _QUOTE.match(stripped):
                    index, literal_after = self.quoted_literal_end(index, indent), -1
                    continue
            literal_after = -1
            if stripped.startswith("..") and (
                explicit := _EXPLICIT.match(line, len(line) - len(line.lstrip(_BLANKS)))
            ):
                index, skip_deeper_than = self.explicit(index, explicit.end(), indent)
                paragraph_indent, previous_blank = -1, False
                continue
            if previous_blank or indent != paragraph_indent:
                paragraph_indent = _text_indent(line)
            if _ends_literal(stripped):
                literal_after = paragraph_indent
            previous_blank = False
            index += 1
        return self.refs

    def quoted_literal_end(self, index: int, indent: int) -> int:
        """The first line after the quoted literal block that starts at `index`."""
        line = self.line(index)
        quote = line[len(_leading(line))]
        while index < len(self.lines) and not self.blank(index):
            line = self.line(index)
            if _indent(line) != indent or not line.lstrip(_BLANKS).startswith(quote):
                break
            index += 1
        return index

    def explicit(self, index: int, after_dots: int, column: int) -> tuple[int, int]:
        """Handle the explicit markup block at `index`: (next line to read, skip-deeper-than column)."""
        line = self.line(index)
        directive = _DIRECTIVE.match(line, after_dots)
        substitution = None if directive else _SUBSTITUTION.match(line, after_dots)
        found = directive or substitution
        if found:
            name = found.group(1).lower()
            if name in _IMAGE_KINDS:
                kind = _IMAGE_KINDS[name] if directive else "rst-substitution"
                return self.image(index, found.end(), column, kind), -1
            return index + 1, (column if directive and name in _OPAQUE else -1)
        if _NOT_COMMENT.match(line, after_dots):
            return index + 1, -1
        if not line[after_dots:].strip() and (
            index + 1 >= len(self.lines) or self.blank(index + 1)
        ):
            # an empty comment: the indented block after it is a block quote
            return index + 1, -1
        return index + 1, column  # a comment: its whole indented body is comment text

    def image(self, index: int, after_marker: int, column: int, kind: str) -> int:
        """Record the image directive at `index`; return the line after its argument and options."""
        body_end = self.body_end(index, column)
        block = [index]  # arguments and options: up to the first blank line of the body
        while block[-1] + 1 < body_end and not self.blank(block[-1] + 1):
            block.append(block[-1] + 1)
        texts = [self.line(index)[after_marker:]] + [
            self.line(i).strip() for i in block[1:]
        ]
        first_option = next(
            (n for n, part in enumerate(texts) if n > 0 and _FIELD_MARKER.match(part)),
            len(texts),
        )
        src = "".join("".join(texts[:first_option]).split())
        if src:
            self.refs.append(
                self.image_ref(
                    index, block, first_option, texts, src, kind, column, body_end
                )
            )
        return block[-1] + 1

    def image_ref(
        self,
        index: int,
        block: list[int],
        first_option: int,
        texts: list[str],
        src: str,
        kind: str,
        column: int,
        body_end: int,
    ) -> ImageRef:
        option_lines = block[first_option:]
        alt = _alt_option(self, option_lines)
        end, newline = self.line_end(block[-1])
        slot = AltSlot(
            start=end,
            end=end,
            form="rst-option",
            indent=self.option_indent(index, option_lines, body_end),
            newline=newline or self.default_newline,
        )
        return ImageRef(
            start=self.starts[index] + len(_leading(self.line(index))),
            end=end,
            src=src,
            kind=kind,
            alt=alt,
            rule=RULE if alt is None else None,
            slot=slot,
            caption=self.caption(block[-1] + 1, body_end)
            if kind == "rst-figure"
            else None,
        )

    def body_end(self, index: int, column: int) -> int:
        """The first line after the explicit markup block that starts at `index`."""
        end = index + 1
        while end < len(self.lines) and (
            self.blank(end) or _indent(self.line(end)) > column
        ):
            end += 1
        while end > index + 1 and self.blank(end - 1):
            end -= 1
        return end

    def option_indent(self, index: int, option_lines: list[int], body_end: int) -> str:
        """Indentation for a new option: an existing option's, the body's, or three spaces."""
        if option_lines:
            return _leading(self.line(option_lines[0]))
        for body_line in range(index + 1, body_end):
            if not self.blank(body_line):
                return _leading(self.line(body_line))
        return _leading(self.line(index)) + "   "

    def caption(self, index: int, body_end: int) -> str | None:
        """A figure's caption: the first paragraph of its content, unless that is a comment."""
        while index < body_end and self.blank(index):
            index += 1
        paragraph = []
        while index < body_end and not self.blank(index):
            paragraph.append(self.line(index).strip())
            index += 1
        if not paragraph or _EXPLICIT.match(paragraph[0]):
            return None
        return " ".join(paragraph)


def _alt_option(scanner: _Scanner, option_lines: list[int]) -> str | None:
    """The `:alt:` value (lines joined as docutils joins them), or None when there is none."""
    if not option_lines:
        return None
    option_indent = _indent(scanner.line(option_lines[0]))
    value: list[str] | None = None
    for number in option_lines:
        line = scanner.line(number)
        stripped = line.strip()
        marker = _FIELD_MARKER.match(stripped)
        if _indent(line) <= option_indent and marker:
            if value is not None:
                break  # the next option ends the alt value
            if marker.group().strip().lower() == ":alt:":
                value = [stripped[marker.end() :].strip()]
        elif value is not None:
            value.append(stripped)
    if value is None:
        return None
    return "\n".join(part for part in value if part)
