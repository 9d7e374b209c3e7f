"""Which images of a document get alt text, and the proven rewrite that gives it to them.

`plan_document` finds the images that lack alt text and the image file (or
bytes) behind each; `rewrite` turns chosen alt texts into edits, applies them
and verifies the result. Neither reads nor writes documents itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from alttext.context import ImageContext, Sourced, image_contexts
from alttext.document import Document
from alttext.findings import Edit, apply_edits
from alttext.fix.resolve import ResolvedImage, Resolver
from alttext.fix.slots import alt_edit, normalize_alt
from alttext.fix.verify import Change, verify_rewrite
from alttext.scan import find_images
from alttext.scan.base import ImageRef
from alttext.suppress import image_marks
from alttext.textpos import LineIndex


@dataclass
class Target:
    """One image that lacks alt text, and what became of it."""

    path: str
    index: int  # among all images of the document, in order
    ref: ImageRef
    line: int
    column: int
    image: ResolvedImage
    alt: str | None = None
    problem: str | None = None
    is_error: bool = False
    warnings: list[str] = field(default_factory=list)
    hit_limit: bool = False
    content_hash: str | None = None
    context: ImageContext = field(default_factory=ImageContext)
    captioned: bool = False  # the alt text came from the captioner (not from the image's own title)
    image_text: str = ""  # the text read from the image, where the captioner reads text
    salient: tuple[str, ...] = ()  # the parts of that text a reader takes in first
    image_kind: str | None = None  # screenshot, logo, diagram, photo... where the captioner says
    description: str | None = None  # the captioner's own description (in English)
    prompted: bool = False  # a prompted model wrote `alt`, told the context and the page's language
    judged_decorative: bool = False  # a prompted model said the image adds nothing to the page

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"

    @property
    def needs_caption(self) -> bool:
        return self.alt is None and self.problem is None and self.image.payload is not None


@dataclass
class DocumentPlan:
    path: str
    syntax: str
    document: Document
    images: list[ImageRef]
    targets: list[Target]


@dataclass(frozen=True)
class Rewrite:
    """The new text and bytes of a document, and why it must not be written (if so)."""

    plan: DocumentPlan
    text: str
    data: bytes
    changes: list[Change]
    problems: list[str]

    @property
    def changed(self) -> bool:
        return not self.problems and self.data != self.plan.document.raw


# Images alttext finds but cannot give alt text without reflowing their markup.
NO_SLOT_PROBLEM = ("alt text cannot be written here without reflowing the markup "
                   "(a grid table cell, or a MyST directive with YAML options); add it by hand")


# Kinds whose alt text can say "decorative": an empty alt attribute or :alt: option.
DECORATIVE_KINDS = ("img", "rst-image", "rst-figure", "rst-substitution")


@dataclass(frozen=True)
class Marking:
    """Which images are meant to have no alt text: the `decorative` globs (relative to
    `root`), and whether a decorative image that can say so gets an empty alt."""

    decorative: tuple[str, ...] = ()
    root: str = "."
    write_empty_alt: bool = False


def plan_document(document: Document, syntax: str, resolver: Resolver, marking: Marking = Marking(),
                  language: Sourced | None = None) -> DocumentPlan:
    """The images of `document` that lack alt text, each with the image it shows and its context.

    Images marked decorative or whose missing-alt rule is ignored (inline, or by a
    `decorative` glob) are left alone; with `write_empty_alt`, a decorative <img> or
    rST image gets alt="" / an empty :alt: instead. `language` (the site's) applies
    where the page declares none.
    """
    images = find_images(document.text, syntax)
    marks, _ = image_marks(document.text, syntax, images, decorative=marking.decorative,
                           document=document.path, root=marking.root)
    lines = LineIndex(document.text)
    targets = []
    for index, (ref, mark) in enumerate(zip(images, marks)):
        if not ref.needs_alt:
            continue  # has alt text (a person's, or decorative "")
        empty_alt = mark.decorative and marking.write_empty_alt and ref.kind in DECORATIVE_KINDS and ref.slot is not None
        if mark.silences(ref.rule or "") and not empty_alt:
            continue  # meant to have none, or its finding is silenced
        line, column = lines.position(ref.start)
        if empty_alt:
            targets.append(Target(document.path, index, ref, line, column, ResolvedImage(ref.src), alt=""))
            continue
        # An image whose alt text cannot be written is neither read nor fetched.
        image = (resolver.resolve(ref.src, document.path, file_path=_is_directive(ref),
                                  raw_html=is_raw_html(ref, syntax)) if ref.slot is not None
                 else ResolvedImage(ref.src, problem=NO_SLOT_PROBLEM))
        target = Target(document.path, index, ref, line, column, image, problem=image.problem, is_error=image.is_error)
        if image.text is not None:
            target.alt = normalize_alt(image.text)  # an SVG's own title says it best
        targets.append(target)
    if targets:  # context costs a second look at the document: only where proposals are made
        _add_contexts(document, syntax, images, targets, language)
    return DocumentPlan(document.path, syntax, document, images, targets)


def _is_directive(ref: ImageRef) -> bool:
    """An rST (or MyST) image directive: docutils reads its argument as a file path, not a URL."""
    return ref.kind.startswith(("rst-", "myst-"))


def is_raw_html(ref: ImageRef, syntax: str) -> bool:
    """An HTML tag written inside a Markdown document (not a Markdown image or a MyST fence)."""
    return syntax == "markdown" and not ref.kind.startswith(("markdown-", "myst-"))


def _add_contexts(document: Document, syntax: str, images: list[ImageRef], targets: list[Target],
                  language: Sourced | None) -> None:
    """Each target's context; a document whose context cannot be read still gets its proposals."""
    try:
        contexts = image_contexts(document.text, syntax, images)
    except Exception as error:  # noqa: BLE001 - context improves proposals; losing it must not lose the file
        contexts = [ImageContext() for _ in images]
        for target in targets:
            target.warnings.append(f"the page around the image could not be read ({type(error).__name__}); "
                                   "the proposal ignores its caption, link and language")
    for target in targets:
        target.context = contexts[target.index].with_default_language(language)


def rewrite(plan: DocumentPlan, alts: Mapping[int, str] | None = None) -> Rewrite:
    """Give each image (by index) its alt text; default: every target that has one."""
    if alts is None:
        alts = {t.index: t.alt for t in plan.targets if t.alt is not None and t.problem is None}
    changes = []
    for index, alt in sorted(alts.items()):
        slot = plan.images[index].slot
        assert slot is not None, "only images with an alt slot are planned"
        edit = alt_edit(slot, normalize_alt(alt))
        if slot.form.startswith(("html", "svg")):
            edit = Edit(edit.start, edit.end, encodable_html(edit.replacement, plan.document.encoding))
        changes.append(Change(index, normalize_alt(alt), edit))
    old_text = plan.document.text
    text = apply_edits(old_text, [change.edit for change in changes])
    problems = verify_rewrite(old_text, text, plan.syntax, plan.images, changes) if changes else []
    try:
        data = plan.document.encode(text)
    except UnicodeEncodeError as error:
        problems.append(f"alt text {error.object[error.start:error.end]!r} cannot be written in {plan.document.encoding}")
        data = plan.document.raw
    return Rewrite(plan, text, data, changes, problems)


def encodable_html(markup: str, encoding: str) -> str:
    """`markup` with each character that `encoding` cannot hold as a character reference.

    A Latin-1 page gets `&#8594;` for an arrow; HTML reads it back as the same text.
    """
    return markup.encode(encoding, errors="xmlcharrefreplace").decode(encoding)
