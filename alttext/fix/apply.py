"""Apply reviewed proposals: exactly the entries a person kept, on unchanged documents only."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence

from alttext.confine import outside_message, real_inside
from alttext.document import DocumentError, read_document
from alttext.fix.plan import NO_SLOT_PROBLEM, Rewrite, Target, plan_document, rewrite
from alttext.fix.proposals import WRITE_STATUSES, Entry, decorative_problem, sha256
from alttext.fix.resolve import Resolver
from alttext.fix.run import Log
from alttext.fix.slots import normalize_alt, unescape_markdown
from alttext.scan import find_images, syntax_for_path
from alttext.scan.base import ImageRef, ScanTooComplex


def plan_entries(entries: Sequence[Entry], resolver: Resolver, log: Log) -> list[Rewrite]:
    """A proven rewrite per document with entries to write; every refusal is logged as an error."""
    by_document: dict[str, list[Entry]] = defaultdict(list)
    for entry in entries:
        if entry.status != "skip":
            by_document[entry.document].append(entry)
    result = []
    for path, document_entries in by_document.items():
        proposal = _plan_one(path, document_entries, resolver, log)
        if proposal is not None:
            result.append(proposal)
    return result


def _plan_one(path: str, entries: list[Entry], resolver: Resolver, log: Log) -> Rewrite | None:
    syntax = syntax_for_path(path)
    if not real_inside(path, resolver.project_root):
        log.error(f"{path}: error: {outside_message(path, resolver.project_root)}; "
                  f"its {len(entries)} entries were not applied")
        return None
    try:
        document = read_document(path, html=syntax == "html")
        if syntax is None:
            raise DocumentError(f"{path}: not an HTML, Markdown or reStructuredText file")
    except DocumentError as error:
        log.error(f"{error}; its {_entries(len(entries))} {_were(len(entries))} not applied")
        return None
    if sha256(document.raw) != entries[0].document_sha256 or len({e.document_sha256 for e in entries}) > 1:
        if already_applied(entries, find_images(document.text, syntax)):
            log.note(f"{path}: already has the alt text of its {_entries(len(entries))}: nothing to do")
            return None
        log.error(f"{path}: error: changed since the proposals were made; its {_entries(len(entries))} {_were(len(entries))} not "
                  "applied (run alttext suggest again)")
        return None
    try:
        plan = plan_document(document, syntax, resolver)
    except ScanTooComplex as error:
        log.error(f"{path}: error: {error}; its {_entries(len(entries))} {_were(len(entries))} not applied")
        return None
    targets = {(t.line, t.column, t.ref.src): t for t in plan.targets}
    alts = {}
    for entry in entries:
        alt = _alt_for(entry, targets.get((entry.line, entry.column, entry.src)), log)
        if alt is not None:
            alts[targets[(entry.line, entry.column, entry.src)].index] = alt
    if not alts:
        return None
    proposal = rewrite(plan, alts)
    if proposal.problems:
        log.error(f"{path}: error: not written, the result could not be proven to change only alt text: "
                  + "; ".join(proposal.problems))
        return None
    return proposal


def _entries(count: int) -> str:
    return "1 entry" if count == 1 else f"{count} entries"


def _were(count: int) -> str:
    return "was" if count == 1 else "were"


def already_applied(entries: Sequence[Entry], images: Sequence[ImageRef]) -> bool:
    """Whether every entry's alt text is already on an image of its source (each image counted once),
    as after an earlier `apply` of the same file; a Markdown image marked decorative stays as it was."""
    unused = list(images)
    for entry in entries:
        wanted = "" if entry.status == "decorative" else normalize_alt(entry.alt)
        match = next((image for image in unused if image.src == entry.src and _written_alt(image) == wanted), None)
        if match is None:
            return False
        unused.remove(match)
    return True


def _written_alt(image: ImageRef) -> str:
    """An image's alt text as read: Markdown and rST keep their backslash escapes in the source."""
    alt = image.alt or ""
    if image.kind in ("img", "input", "area"):
        return alt
    if image.kind.startswith(("markdown", "myst")):
        return unescape_markdown(alt)  # as escape_markdown wrote it: escapes and references
    return re.sub(r"\\(.)", r"\1", alt)


def _alt_for(entry: Entry, target: Target | None, log: Log) -> str | None:
    """The alt text to write for `entry`, or None (with the reason logged)."""
    where = f"{entry.document}:{entry.line}:{entry.column}"
    if target is None:
        log.error(f"{where}: error: no image without alt text here any more ({entry.src}); entry {entry.number} not applied")
        return None
    if target.image.is_error and (target.image.outside_root or entry.image_sha256 is not None):
        # An image outside the root is refused, and one that cannot be read says why (not "changed").
        log.error(f"{where}: error: {target.image.problem} ({entry.src}); entry {entry.number} not applied")
        return None
    if target.ref.slot is None:
        log.error(f"{where}: error: {NO_SLOT_PROBLEM} ({entry.src}); entry {entry.number} not applied")
        return None
    if entry.image_sha256 is not None and _image_hash(target) != entry.image_sha256:
        log.error(f"{where}: error: the image changed since the proposals were made ({entry.src}); "
                  f"entry {entry.number} not applied")
        return None
    if entry.status == "decorative":
        problem = decorative_problem(target)
        if problem is None:
            return ""
        (log.note if target.ref.kind.startswith("markdown") else log.error)(f"{where}: {problem} ({entry.src})")
        return None
    assert entry.status in WRITE_STATUSES
    alt = normalize_alt(entry.alt)
    if not alt:
        log.error(f"{where}: error: entry {entry.number} has empty alt text; set status \"decorative\" or \"skip\"")
        return None
    return alt


def _image_hash(target: Target) -> str | None:
    if target.image.payload is None:
        return None
    try:
        return sha256(target.image.read_bytes())
    except OSError:
        return None
