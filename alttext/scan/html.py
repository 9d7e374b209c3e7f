"""HTML scanner: every visible image and whether it has a text alternative (axe-core rules).

Images are <img>, <input type=image>, <area href>, <svg role=img> and any other
element with role=img. Hidden content (hidden, inert, aria-hidden="true",
inline display:none, <template>) and everything that is never an element
(comments, raw text such as <script>, attribute values) is skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from alttext.scan.base import AltSlot, ImageRef
from alttext.scan.html_patterns import ALL_FOREIGN_TAGS, FLAGS, scan, scan_pattern, tags
from alttext.scan.html_tree import (
    CLOSE_IN_SCOPE,
    FOREIGN_ROOTS,
    Attribute,
    DocumentTree,
    element_extent,
    is_self_closing,
    parse_attributes,
    text_content,
    words,
)

Attributes = dict[str, Attribute]

# Cheap tests on the whole document decide which work it needs at all. They run on
# its UTF-8 bytes, ASCII-lower-cased: far faster than str.lower() on non-ASCII text,
# and exactly HTML's case-insensitivity. `in` and literal-prefixed patterns are fast.
_IMAGE_MARKERS = (b"<img", b"<image", b"<input", b"<area", b"role")
_MAYBE_ROLE_IMG = re.compile(rb"""role[\t\n\f\r ]*=[\t\n\f\r ]*["']?[^"'>]*?(?:img|graphics-|&)""")
_MAYBE_DISPLAY_NONE = re.compile(rb"display[\t\n\f\r ]*:[\t\n\f\r ]*none")
_MAYBE_VISIBILITY_HIDDEN = re.compile(rb"visibility[\t\n\f\r ]*:[\t\n\f\r ]*(?:hidden|collapse)")
_HIDDEN_STYLE = re.compile(
    r"(?<![\w-])(?:display[\t\n\f\r ]*:[\t\n\f\r ]*none|visibility[\t\n\f\r ]*:[\t\n\f\r ]*(?:hidden|collapse))\b",
    FLAGS,
)
# JavaScript's \s, which axe-core uses to call an alt "only whitespace".
_BLANK = re.compile("[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]*")
_TABINDEX = re.compile(r"[\t\n\f\r ]*[+-]?[0-9]")
_BACKGROUND_URL = re.compile(r"""background(?:-image)?[\t\n\f\r ]*:[^;]*?url\([\t\n\f\r ]*(["']?)([^"')]*)\1""", FLAGS)

# How far a caption, label or <title> text is read: such texts are short, and a bound
# keeps documents full of unclosed elements linear.
TEXT_LIMIT = 2048
SVG_TITLE_SEARCH_LIMIT = 65536

PRESENTATIONAL_ROLES = frozenset({"presentation", "none"})
# Roles that need an accessible name (axe-core's accessibleNameRequired). image-alt does
# not apply to an <img> whose explicit role is another one, unless it is focusable.
NAME_REQUIRED_ROLES = words(
    "alertdialog application button checkbox combobox dialog img image link listbox menuitem "
    "menuitemcheckbox menuitemradio meter option progressbar radio searchbox slider spinbutton switch "
    "textbox toolbar treeitem graphics-document graphics-symbol"
)
SVG_IMAGE_ROLES = frozenset({"img", "graphics-document", "graphics-symbol"})
NOT_ROLE_IMG_ELEMENTS = frozenset({"img", "input", "area", "object", "svg"})
GLOBAL_ARIA = words(
    "aria-atomic aria-busy aria-controls aria-current aria-describedby aria-details aria-disabled "
    "aria-dropeffect aria-errormessage aria-flowto aria-grabbed aria-haspopup aria-hidden aria-invalid "
    "aria-keyshortcuts aria-label aria-labelledby aria-live aria-owns aria-relevant aria-roledescription"
)
ARIA_ROLES = words(
    "alert alertdialog application article banner blockquote button caption cell checkbox code columnheader "
    "combobox comment complementary contentinfo definition deletion dialog directory document emphasis feed "
    "figure form generic grid gridcell group heading img image insertion link list listbox listitem log main "
    "mark marquee math menu menubar menuitem menuitemcheckbox menuitemradio meter navigation none note option "
    "paragraph presentation progressbar radio radiogroup region row rowgroup rowheader scrollbar search "
    "searchbox separator slider spinbutton status strong subscript suggestion superscript switch tab table "
    "tablist tabpanel term text textbox time timer toolbar tooltip tree treegrid treeitem "
    "graphics-document graphics-object graphics-symbol"
)


def find_images(text: str) -> list[ImageRef]:
    """Every image in `text` that is not hidden, in document order."""
    folded = text.encode("utf-8", "surrogatepass").lower()
    if not any(marker in folded for marker in _IMAGE_MARKERS):
        return []
    start_names, end_names, attribute_names = _names_for(folded)
    if b"<svg" not in folded and b"<math" not in folded:
        return _Scan(text).run(scan_pattern(start_names, end_names, attribute_names))
    return _Scan(text, modes=_Modes(start_names, end_names, attribute_names)).run(None)


# In SVG and MathML these start tags (and the end tags </p> and </br>) leave foreign content
# for HTML again, as the tree builder's "breakout" rule says.
BREAKOUT_TAGS = words(
    "b big blockquote body br center code dd div dl dt em embed h1 h2 h3 h4 h5 h6 head hr i img li "
    "listing menu meta nobr ol p pre ruby s small span strong strike sub sup table tt u ul var"
)


# Elements of SVG and MathML whose content is HTML again (integration points), by their root.
_ISLANDS = {"foreignobject": "svg", "desc": "svg", "title": "svg", "mi": "math", "mo": "math", "mn": "math",
            "ms": "math", "mtext": "math"}


@dataclass(frozen=True)
class _Modes:
    """The scan patterns for a document with SVG or MathML: in HTML (raw-text elements,
    <template>, no CDATA), in foreign content (none of those; stops at breakout tags), and
    in HTML inside an SVG <foreignObject> (stops at its end)."""

    start_names: frozenset[str]
    end_names: frozenset[str]
    attribute_names: frozenset[str]

    def pattern(self, context: str | None) -> re.Pattern[str]:
        roots = frozenset(FOREIGN_ROOTS)
        if context in FOREIGN_ROOTS:
            start = (self.start_names - {"template"}) | roots | BREAKOUT_TAGS | frozenset(_ISLANDS) | {"font"}
            ends = self.end_names | roots | {"br"} | CLOSE_IN_SCOPE
            return scan_pattern(start, ends, self.attribute_names, foreign=True)
        ends = self.end_names | {context} if context in _ISLANDS else self.end_names
        return scan_pattern(self.start_names | roots, ends, self.attribute_names)


def _names_for(folded: bytes) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """The tags this document needs looked at: start tags, end tags, start tags with these attributes."""
    start_names = {"img", "input", "area"}
    if b"<image" in folded:
        start_names.add("image")
    end_names: set[str] = set()
    attribute_names: set[str] = set()
    if b"<template" in folded:
        start_names.add("template")
    if b"<figure" in folded:
        start_names |= {"figure", "figcaption"}
        end_names.add("figure")
    if b"role" in folded and _MAYBE_ROLE_IMG.search(folded):
        attribute_names.add("role")
    if b"hidden" in folded:
        attribute_names |= {"hidden", "aria-hidden"}
    if b"inert" in folded:
        attribute_names.add("inert")
    if _MAYBE_DISPLAY_NONE.search(folded) or _MAYBE_VISIBILITY_HIDDEN.search(folded):
        attribute_names.add("style")
    return frozenset(start_names), frozenset(end_names), frozenset(attribute_names)


@dataclass
class _Figure:
    own_images: list[int] = field(default_factory=list)  # indexes, not those of nested figures
    caption: str | None = None


@dataclass
class _Scan:
    text: str
    images: list[ImageRef] = field(default_factory=list)
    figures: list[_Figure] = field(default_factory=list)
    ids: dict[str, tuple[str, int, Attributes]] | None = None
    id_texts: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] | None = None
    tree: DocumentTree | None = None
    modes: _Modes | None = None
    # Open <svg>/<math> roots and <foreignObject> HTML islands, innermost last (with `modes`).
    contexts: list[str] = field(default_factory=list)

    def run(self, pattern: re.Pattern[str] | None) -> list[ImageRef]:
        pos = 0
        while True:
            current = pattern or self._pattern()
            match = scan(current, self.text, pos)
            pos = match.end()
            if match["tag"] is not None and match["gt"]:
                if self.modes is not None and self._switch_context(match):
                    continue
                pos = self._tag(match, pos)
            elif match["stray"] is None:
                break
        while self.figures:
            self._close_figure()
        return self.images

    def _pattern(self) -> re.Pattern[str]:
        assert self.modes is not None
        return self.modes.pattern(self.contexts[-1] if self.contexts else None)

    @property
    def _foreign(self) -> bool:
        return bool(self.contexts) and self.contexts[-1] in FOREIGN_ROOTS

    def _switch_context(self, match: re.Match[str]) -> bool:
        """Follow the tags that enter or leave foreign content; True when the tag needs nothing more."""
        name, closing = match["name"].lower(), bool(match["close"])
        if self._foreign and ((not closing and name in BREAKOUT_TAGS) or (closing and name in ("p", "br")) or (
                name == "font" and not closing and _FONT_BREAKOUT.search(match["attrs"] or ""))):
            while self._foreign:  # back to HTML: the tag is then handled as HTML
                self.contexts.pop()
            return closing
        if closing and self._foreign and name in CLOSE_IN_SCOPE:
            # the end tag of an HTML element open around the <svg> or <math> closes that too
            assert self.modes is not None  # contexts are only switched with modes
            if name not in self._ancestors(match.start("tag") - 1):
                return name not in self.modes.end_names
            while self._foreign:
                self.contexts.pop()
            return name not in self.modes.end_names
        if name in FOREIGN_ROOTS:
            if closing:
                if self._foreign and self.contexts[-1] == name:
                    self.contexts.pop()
                return True
            attributes = parse_attributes(self.text, *match.span("attrs"))
            if not is_self_closing(self.text, match.end(), attributes) and not _is_hidden(attributes):
                self.contexts.append(name)  # a hidden one is skipped whole by _tag
            return False  # an <svg role=img> is an image too
        if name in _ISLANDS and self.contexts:
            if closing and self.contexts[-1] == name:
                self.contexts.pop()
            elif not closing and self._foreign and self.contexts[-1] == _ISLANDS[name]:
                self.contexts.append(name)
            return True
        return False

    def _tag(self, match: re.Match[str], pos: int) -> int:
        """Handle one interesting tag; returns where scanning goes on."""
        name = match["name"].lower()
        if match["close"]:
            if name == "figure" and self.figures:
                self._close_figure()
            return pos
        attrs_start, attrs_end = match.span("attrs")
        attributes = parse_attributes(self.text, attrs_start, attrs_end) if attrs_start < attrs_end else {}
        if name == "template" or _is_hidden(attributes):
            return element_extent(self.text, pos, name, outer=lambda: self._ancestors(match.start("tag")))[1]
        if name == "figure":
            self.figures.append(_Figure())
        elif name == "figcaption" and self.figures and self.figures[-1].caption is None:
            content_end = element_extent(self.text, pos, name, _FIGURE_TAGS, pos + TEXT_LIMIT)[0]
            self.figures[-1].caption = text_content(self.text, pos, content_end)
        image = self._image(match, name, attributes)
        if image is not None:
            if self.figures:
                self.figures[-1].own_images.append(len(self.images))
            self.images.append(image)
        return pos

    def _image(self, match: re.Match[str], name: str, attributes: Attributes) -> ImageRef | None:
        if name == "img":
            return self._img(match, attributes)
        if name == "image":  # the HTML parser makes it an <img>, except as SVG's own <image>
            return None if self._in_foreign_content(match.start("tag")) else self._img(match, attributes)
        if name == "input":
            kind_ok = attributes.get("type", _NONE).value.lower() == "image"
            return self._input_or_area(match, attributes, "input", "ALT003") if kind_ok else None
        if name == "area":  # only a link area of an image map is announced (axe-core's area-alt)
            in_map = "href" in attributes and "map" in self._ancestors(match.start("tag"))
            return self._input_or_area(match, attributes, "area", "ALT004") if in_map else None
        role = _role(attributes)
        if name == "svg" and role in SVG_IMAGE_ROLES:
            return self._svg(match, attributes)
        if role == "img" and name not in NOT_ROLE_IMG_ELEMENTS:
            return self._role_img(match, attributes)
        return None

    def _img(self, match: re.Match[str], attributes: Attributes) -> ImageRef:
        alt = attributes.get("alt")
        if alt is not None:
            if alt.value and _is_blank(alt.value):
                return _image_ref(match, attributes, "img", alt.value, "ALT002", _value_slot(alt))
            return _image_ref(match, attributes, "img", alt.value)
        name = self._aria_name(attributes)
        if name is not None:
            return _image_ref(match, attributes, "img", name)
        if _needs_no_name(attributes):
            return _image_ref(match, attributes, "img", None)
        return _image_ref(match, attributes, "img", None, "ALT001", _attribute_slot(match, "alt"))

    def _input_or_area(self, match: re.Match[str], attributes: Attributes, kind: str, rule: str) -> ImageRef:
        alt = attributes.get("alt")
        if alt is not None and not _is_blank(alt.value):
            return _image_ref(match, attributes, kind, alt.value)
        name = self._aria_name(attributes)
        if name is None and kind == "input":
            name = self._label_text(match, attributes)
        if name is not None:
            return _image_ref(match, attributes, kind, name)
        if alt is None:
            return _image_ref(match, attributes, kind, None, rule, _attribute_slot(match, "alt"))
        return _image_ref(match, attributes, kind, alt.value, rule, _value_slot(alt))

    def _svg(self, match: re.Match[str], attributes: Attributes) -> ImageRef:
        self_closing = is_self_closing(self.text, match.end(), attributes)
        title = None if self_closing else _svg_title(self.text, match.end())
        name = title or self._aria_name(attributes)
        if name is not None:
            return _image_ref(match, attributes, "svg", name, src="")
        if self_closing:
            slot = _attribute_slot(match, "aria-label")
        else:
            slot = AltSlot(match.end(), match.end(), "svg-title", "title")
        return _image_ref(match, attributes, "svg", None, "ALT005", slot, src="")

    def _role_img(self, match: re.Match[str], attributes: Attributes) -> ImageRef:
        style = attributes.get("style")
        background = _BACKGROUND_URL.search(style.value) if style else None
        src = background[2] if background else ""
        name = self._aria_name(attributes)
        if name is not None:
            return _image_ref(match, attributes, "role-img", name, src=src)
        return _image_ref(match, attributes, "role-img", None, "ALT006", _attribute_slot(match, "aria-label"), src)

    def _aria_name(self, attributes: Attributes) -> str | None:
        """The first non-blank of aria-label, aria-labelledby targets' text, title."""
        label = attributes.get("aria-label")
        if label is not None and not _is_blank(label.value):
            return label.value
        labelledby = attributes.get("aria-labelledby")
        if labelledby is not None:
            texts = [self._text_of_id(id_) for id_ in labelledby.value.split()]
            joined = " ".join(text for text in texts if text)
            if joined:
                return joined
        title = attributes.get("title")
        if title is not None and not _is_blank(title.value):
            return title.value
        return None

    def _label_text(self, match: re.Match[str], attributes: Attributes) -> str | None:
        """The text of a <label for=> this control's id, or of a <label> around it."""
        id_ = attributes.get("id")
        if id_ is not None and id_.value:
            if self.labels is None:
                self.labels = _labels_by_target(self.text)
            text = self.labels.get(id_.value)
            if text:
                return text
        start = match.start("tag")
        if "label" not in self._ancestors(start):
            return None
        opener = _last_label_start(self.text, start)
        if opener is None:
            return None
        content_end = element_extent(self.text, opener, "label", limit=opener + TEXT_LIMIT)[0]
        return text_content(self.text, opener, max(content_end, match.end())) or None

    def _in_foreign_content(self, offset: int) -> bool:
        """Inside <svg> or <math>, unless an HTML island (<foreignObject>) is nearer."""
        if self.modes is not None:
            return self._foreign
        for name in reversed(self._ancestors(offset)):
            if name == "foreignobject":
                return False
            if name in FOREIGN_ROOTS:
                return True
        return False

    def _ancestors(self, offset: int) -> list[str]:
        """The ancestors of the element at `offset`, for the rare tags that may close one."""
        if self.tree is None:
            self.tree = DocumentTree(self.text)
        return self.tree.ancestors(offset)

    def _text_of_id(self, id_: str) -> str:
        if self.ids is None:
            self.ids = _elements_by_id(self.text)
        if id_ not in self.id_texts:
            self.id_texts[id_] = self._text_of_element(*self.ids[id_]) if id_ in self.ids else ""
        return self.id_texts[id_]

    def _text_of_element(self, name: str, pos: int, attributes: Attributes) -> str:
        label = attributes.get("aria-label")
        if label is not None and not _is_blank(label.value):
            return label.value.strip()
        if name == "img":
            return attributes.get("alt", _NONE).value.strip()
        return text_content(self.text, pos, element_extent(self.text, pos, name, limit=pos + TEXT_LIMIT)[0])

    def _close_figure(self) -> None:
        figure = self.figures.pop()
        if figure.caption is None:
            return
        for index in figure.own_images:
            image = self.images[index]
            self.images[index] = ImageRef(
                image.start, image.end, image.src, image.kind, image.alt, image.rule, image.slot, figure.caption
            )


_NONE = Attribute("", 0, 0, None)
_FONT_BREAKOUT = re.compile(r"(?:^|[\t\n\f\r /])(?:color|face|size)(?:[\t\n\f\r /=>]|$)", re.IGNORECASE)
_FIGURE_TAGS = frozenset({"figure"})
_SVG_TAGS = frozenset({"svg"})


def _image_ref(
    match: re.Match[str],
    attributes: Attributes,
    kind: str,
    alt: str | None,
    rule: str | None = None,
    slot: AltSlot | None = None,
    src: str | None = None,
) -> ImageRef:
    if src is None:
        src = attributes["src"].value if "src" in attributes else ""
    return ImageRef(match.start("tag"), match.end(), src, kind, alt, rule, slot)


def _is_blank(value: str) -> bool:
    return _BLANK.fullmatch(value) is not None


def _is_hidden(attributes: Attributes) -> bool:
    if "hidden" in attributes or "inert" in attributes:
        return True
    if attributes.get("aria-hidden", _NONE).value.strip().lower() == "true":
        return True
    style = attributes.get("style")
    return style is not None and _HIDDEN_STYLE.search(style.value) is not None


def _role(attributes: Attributes) -> str | None:
    """The explicit role: the first token of role= that is a known ARIA role."""
    role = attributes.get("role")
    if role is None:
        return None
    return next((token for token in role.value.lower().split() if token in ARIA_ROLES), None)


def _needs_no_name(attributes: Attributes) -> bool:
    """An <img> that image-alt does not apply to: presentational (without a conflict), or with
    an explicit role that needs no name on an element that cannot take focus."""
    role = _role(attributes)
    if role in PRESENTATIONAL_ROLES:
        return not _has_conflict(attributes)
    return role is not None and role not in NAME_REQUIRED_ROLES and not _is_focusable(attributes)


def _is_focusable(attributes: Attributes) -> bool:
    tabindex = attributes.get("tabindex")
    return tabindex is not None and _TABINDEX.match(tabindex.value) is not None


def _has_conflict(attributes: Attributes) -> bool:
    """A presentational role is ignored on a focusable element or one with global aria-*."""
    return _is_focusable(attributes) or any(name in GLOBAL_ARIA for name in attributes)


def _attribute_slot(match: re.Match[str], attribute: str) -> AltSlot:
    """Insert a new attribute right after the tag name (it then wins over any later duplicate)."""
    return AltSlot(match.end("name"), match.end("name"), "html-attribute", attribute)


def _value_slot(attribute: Attribute) -> AltSlot:
    if attribute.quote is None:  # a bare `alt`: give it a value rather than add a second alt
        return AltSlot(attribute.start, attribute.end, "html-bare-value", "alt")
    return AltSlot(attribute.start, attribute.end, "html-value", "alt", attribute.quote)


def _svg_title(text: str, pos: int) -> str | None:
    """The text of the first direct <title> child of the <svg> whose start tag ends at `pos`."""
    depth = 0
    for match in tags(text, pos, ALL_FOREIGN_TAGS):
        name = match["name"].lower()
        if match["close"]:
            depth -= 1
            if depth < 0:
                return None
        elif name == "svg" or match.start("tag") > pos + SVG_TITLE_SEARCH_LIMIT:
            return None  # a nested <svg>, the next one after an unclosed <svg>, or too far
        elif depth == 0 and name == "title" and match["gt"]:
            content_end = element_extent(text, match.end(), name, _SVG_TAGS, match.end() + TEXT_LIMIT)[0]
            return text_content(text, match.end(), content_end) or None
        elif match["gt"]:
            attributes = parse_attributes(text, match.start("attrs"), match.end("attrs"))
            depth += not is_self_closing(text, match.end(), attributes)
    return None


_LABEL_START = re.compile(r"<label(?=[\t\n\f\r />])", re.IGNORECASE)


def _labels_by_target(text: str) -> dict[str, str]:
    """The text of each <label for=...>, by the id it names; the first label of an id wins."""
    labels: dict[str, str] = {}
    for match in tags(text, 0):
        if match["close"] or not match["gt"] or match["name"].lower() != "label":
            continue
        attributes = parse_attributes(text, match.start("attrs"), match.end("attrs"))
        target = attributes.get("for")
        if target is not None and target.value not in labels:
            content_end = element_extent(text, match.end(), "label", limit=match.end() + TEXT_LIMIT)[0]
            labels[target.value] = text_content(text, match.end(), content_end)
    return labels


def _last_label_start(text: str, before: int) -> int | None:
    """The end of the last `<label ...>` start tag before offset `before`."""
    last = None
    for match in tags(text, max(0, text.rfind("<", 0, max(0, before - TEXT_LIMIT)))):
        if match.start("tag") >= before:
            break
        if not match["close"] and match["gt"] and match["name"].lower() == "label":
            last = match.end()
    return last


def _elements_by_id(text: str) -> dict[str, tuple[str, int, Attributes]]:
    """Every element with an id: (name, end of start tag, attributes); the first of duplicates wins."""
    elements: dict[str, tuple[str, int, Attributes]] = {}
    for match in tags(text, 0):
        if match["close"] or not match["gt"] or "id" not in match["attrs"].lower():
            continue
        attributes = parse_attributes(text, match.start("attrs"), match.end("attrs"))
        if "id" in attributes:
            elements.setdefault(attributes["id"].value, (match["name"].lower(), match.end(), attributes))
    return elements
