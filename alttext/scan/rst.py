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
from dataclasses import replace

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
_FOOTNOTE = re.compile(r"[ \t]+\[")  # footnotes and citations: their bodies are rST
_TARGET = re.compile(r"[ \t]+_")  # hyperlink targets: their bodies are URLs
_FIELD_MARKER = re.compile(r":(?![: ])(?:[^:\\]|\\.|:(?![ `]|$))*(?<! ):(?: +|$)")
_ENUMERATOR = r"\(?(?:\d+|#|[a-zA-Z]|[ivxlcdmIVXLCDM]+)[.)]"
# The markers of a list item line, nested ones included (`* - text`).
_ITEM_MARKERS = re.compile(
    rf"[ \t]*(?:(?:[-*+\u2022\u2023\u2043]|{_ENUMERATOR})[ \t]+)+(?=\S)"
)
# A quoted literal block: unindented lines starting with the same ASCII punctuation.
_QUOTE = re.compile(r"[!-/:-@\[-`{-~]")
_GRID_BORDER = re.compile(r"\+(?:[-=]+\+)+")  # a grid table's top border and row separators
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
        lengths = itertools.accumulate(map(len, lines))
        starts = [0, *map(operator.add, lengths, itertools.count(1))]
    if lines[-1] == "":  # the text ends with a line end: no line after it
        lines.pop()
    return lines, starts[: len(lines)]


def _document_offset(pieces: list[tuple[int, str]], offset: int) -> int:
    """Where `offset` in the joined cell text ("\n" between pieces) lies in the document."""
    for start, piece in pieces:
        if offset <= len(piece):
            return start + offset
        offset -= len(piece) + 1
    start, piece = pieces[-1]
    return start + len(piece)


def _leading(line: str) -> str:
    return line[: len(line) - len(line.lstrip(_BLANKS))]


def _column(prefix: str) -> int:
    """The column after `prefix`, tabs expanded to 8 as docutils does."""
    if "\t" not in prefix and "\v" not in prefix and "\f" not in prefix:
        return len(prefix)
    return len(prefix.replace("\v", " ").replace("\f", " ").expandtabs(8))


def _indent(line: str) -> int:
    return _column(_leading(line))


def _ends_literal(stripped: str) -> bool:
    """A paragraph line ending in `::` (but not a `::::` title adornment) introduces a literal block."""
    return stripped.endswith("::") and not (
        len(stripped) > 2 and stripped.strip(":") == ""
    )


class _Explicit:
    """What an explicit markup block tells the line loop."""

    def __init__(
        self, next_line: int, skip_deeper_than: int = -1, text_follows: bool = False
    ) -> None:
        self.next_line = next_line
        self.skip_deeper_than = skip_deeper_than  # -1: read the body; else skip it
        self.text_follows = (
            text_follows  # the first line's text goes on in the lines below
        )


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.lines, self.starts = _split_lines(text)
        first_end = _LINE_END.search(text)
        self.default_newline = first_end.group() if first_end else "\n"
        self.refs: list[ImageRef] = []

    def blank(self, index: int) -> bool:
        return not self.lines[index].strip()

    def line_end(self, index: int) -> tuple[int, str]:
        """Offset of the end of line `index` (before its line end), and that line end."""
        end = self.starts[index] + len(self.lines[index])
        newline = self.text[end : end + 2]
        return end, newline if newline == "\r\n" else newline[:1]

    def run(self) -> list[ImageRef]:
        index, skip_deeper_than, literal_after = 0, -1, -1
        paragraph_indent, item_paragraph, previous_blank = -1, False, True
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
            if previous_blank and _GRID_BORDER.fullmatch(stripped) and "\t" not in line:
                index = self.grid_table(index, len(_leading(line)))
                paragraph_indent, item_paragraph, previous_blank = -1, False, False
                continue
            # A line that goes on with a paragraph is text, whatever it starts with;
            # only a new list item after an item's line starts something new.
            continues = not previous_blank and indent == paragraph_indent
            items = (
                _ITEM_MARKERS.match(line) if item_paragraph or not continues else None
            )
            if not continues or items:
                dots = items.end() if items else len(line) - len(line.lstrip(_BLANKS))
                explicit = (
                    _EXPLICIT.match(line, dots) if line.startswith("..", dots) else None
                )
                if explicit:
                    found = self.explicit(index, dots, explicit.end())
                    index, skip_deeper_than = found.next_line, found.skip_deeper_than
                    paragraph_indent, item_paragraph, previous_blank = -1, False, False
                    if (
                        found.text_follows
                        and index < len(lines)
                        and not self.blank(index)
                    ):
                        paragraph_indent = _indent(lines[index])
                    continue
                paragraph_indent = _column(line[:dots]) if items else indent
                item_paragraph = items is not None
            if _ends_literal(stripped):
                literal_after = paragraph_indent
            previous_blank = False
            index += 1
        return self.refs

    def grid_table(self, index: int, left: int) -> int:
        """Find the images in the cells of the grid table whose top border is line `index`.

        Each cell's text is scanned as a document of its own and its findings are mapped back
        to the table's lines. They get no slot: an `:alt:` line would not fit the cell's width.
        Returns the first line after the table.
        """
        lines, end = self.lines, index + 1
        while end < len(lines) and lines[end][left : left + 1] in ("+", "|") and lines[end][:left].strip() == "":
            end += 1
        columns = [left + offset for offset, char in enumerate(lines[index][left:]) if char == "+"]
        row: list[int] = []
        for current in range(index + 1, end):
            if _GRID_BORDER.fullmatch(lines[current].strip()):
                self.grid_row(row, columns)
                row = []
            else:
                row.append(current)
        return end

    def grid_row(self, row: list[int], columns: list[int]) -> None:
        """The images in one row of a grid table: its cells lie between bars found on every line."""
        bars = [column for column in columns if all(self.lines[line][column : column + 1] in ("|", "+") for line in row)]
        for first, last in itertools.pairwise(bars):
            pieces = [(self.starts[line] + first + 1, self.lines[line][first + 1 : last]) for line in row]
            cell = "\n".join(piece for _, piece in pieces)
            for ref in find_images(cell):
                self.refs.append(replace(ref, start=_document_offset(pieces, ref.start),
                                         end=_document_offset(pieces, ref.end), slot=None))

    def quoted_literal_end(self, index: int, indent: int) -> int:
        """The first line after the quoted literal block that starts at `index`."""
        quote = self.lines[index].strip()[0]
        while index < len(self.lines) and not self.blank(index):
            line = self.lines[index]
            if _indent(line) != indent or not line.lstrip(_BLANKS).startswith(quote):
                break
            index += 1
        return index

    def explicit(self, index: int, dots: int, after_dots: int) -> _Explicit:
        """Handle the explicit markup block whose `..` is at `dots` on line `index`."""
        line = self.lines[index]
        column = _column(line[:dots])
        text_follows = bool(line[after_dots:].strip())
        directive = _DIRECTIVE.match(line, after_dots)
        substitution = None if directive else _SUBSTITUTION.match(line, after_dots)
        found = directive or substitution
        if found:
            name = found.group(1).lower()
            if name in _IMAGE_KINDS:
                kind = _IMAGE_KINDS[name] if directive else "rst-substitution"
                return _Explicit(self.image(index, dots, found.end(), kind))
            opaque = directive is not None and name in _OPAQUE
            follows = bool(line[found.end() :].strip())
            return _Explicit(index + 1, column if opaque else -1, follows)
        if _FOOTNOTE.match(line, after_dots):
            return _Explicit(index + 1, -1, text_follows)
        if not text_follows and (index + 1 >= len(self.lines) or self.blank(index + 1)):
            # an empty comment: the indented block after it is a block quote
            return _Explicit(index + 1)
        # a comment or a hyperlink target: its indented body is not rST
        return _Explicit(index + 1, column)

    def image(self, index: int, dots: int, after_marker: int, kind: str) -> int:
        """Record the image directive at `index`; return the line after its argument and options."""
        column = _column(self.lines[index][:dots])
        body_end = self.body_end(index, column)
        block = [index]  # arguments and options: up to the first blank line of the body
        while block[-1] + 1 < body_end and not self.blank(block[-1] + 1):
            block.append(block[-1] + 1)
        texts = [self.lines[index][after_marker:]] + [
            self.lines[i].strip() for i in block[1:]
        ]
        first_option = next(
            (n for n, part in enumerate(texts) if n > 0 and _FIELD_MARKER.match(part)),
            len(texts),
        )
        src = "".join("".join(texts[:first_option]).split())
        if src:
            option_lines = block[first_option:]
            alt = self.alt_option(option_lines)
            end, newline = self.line_end(block[-1])
            slot = AltSlot(
                start=end,
                end=end,
                form="rst-option",
                indent=self.option_indent(index, dots, option_lines, body_end),
                newline=newline or self.default_newline,
            )
            self.refs.append(
                ImageRef(
                    start=self.starts[index] + dots,
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
            )
        return block[-1] + 1

    def body_end(self, index: int, column: int) -> int:
        """The first line after the explicit markup block that starts at `index`."""
        end = index + 1
        while end < len(self.lines) and (
            self.blank(end) or _indent(self.lines[end]) > column
        ):
            end += 1
        while end > index + 1 and self.blank(end - 1):
            end -= 1
        return end

    def option_indent(
        self, index: int, dots: int, option_lines: list[int], body_end: int
    ) -> str:
        """Indentation for a new option: an existing option's, the body's, or three columns in."""
        if option_lines:
            return _leading(self.lines[option_lines[0]])
        for body_line in range(index + 1, body_end):
            if not self.blank(body_line):
                return _leading(self.lines[body_line])
        line = self.lines[index]
        if dots == len(_leading(line)):
            return line[:dots] + "   "
        return " " * (_column(line[:dots]) + 3)  # after list markers

    def alt_option(self, option_lines: list[int]) -> str | None:
        """The `:alt:` value (lines joined as docutils joins them), or None when there is none."""
        if not option_lines:
            return None
        option_indent = _indent(self.lines[option_lines[0]])
        value: list[str] | None = None
        for number in option_lines:
            line = self.lines[number]
            stripped = line.strip()
            marker = _FIELD_MARKER.match(stripped)
            if marker and _indent(line) <= option_indent:
                if value is not None:
                    break  # the next option ends the alt value
                if marker.group().strip().lower() == ":alt:":
                    value = [stripped[marker.end() :].strip()]
            elif value is not None:
                value.append(stripped)
        if value is None:
            return None
        return "\n".join(part for part in value if part)

    def caption(self, index: int, body_end: int) -> str | None:
        """A figure's caption: the first paragraph of its content, unless that is a comment."""
        while index < body_end and self.blank(index):
            index += 1
        paragraph = []
        while index < body_end and not self.blank(index):
            paragraph.append(self.lines[index].strip())
            index += 1
        if not paragraph or _EXPLICIT.match(paragraph[0]):
            return None
        return " ".join(paragraph)
