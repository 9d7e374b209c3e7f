"""The suggest/apply file: one JSON entry per image without alt text, for a person to review.

`suggest` writes it; a person edits `alt`, or sets `status` to "decorative" or
"skip"; `apply` writes exactly the reviewed entries and refuses any entry
whose document or image changed since (by SHA-256).

Decorative images: HTML `<img>` gets `alt=""`, reStructuredText an empty
`:alt:`. Markdown has no decorative syntax; `![](x.png)` already renders as
`alt=""`, so a decorative Markdown image is left as it is (and noted).
Elements whose alt text may not be empty (`<input type=image>`, `<area>`,
`role="img"`) cannot be decorative; such entries are refused.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from alttext import __version__
from alttext.fix.plan import DECORATIVE_KINDS, Target

FORMAT = "alttext-proposals"
VERSION = 1
WRITE_STATUSES = ("proposed", "accepted")
STATUSES = (*WRITE_STATUSES, "decorative", "skip")
_FIELDS: dict[str, type | tuple[type, ...]] = {
    "document": str, "line": int, "column": int, "src": str, "image": (str, type(None)),
    "image_sha256": (str, type(None)), "document_sha256": str, "alt": str, "status": str,
}


class ProposalsError(Exception):
    """A proposals file that cannot be used; the message names the file (and entry)."""


@dataclass(frozen=True)
class Entry:
    number: int  # 1-based position in the file, for messages
    document: str  # path as apply opens it
    line: int
    column: int
    src: str
    image_sha256: str | None
    document_sha256: str
    alt: str
    status: str


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build(targets: Sequence[Target], documents: dict[str, bytes], base: str) -> dict[str, Any]:
    """The proposals file for `targets`; paths are written relative to `base` (the file's folder)."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "generator": f"alttext {__version__}",
        "entries": [_entry(target, documents[target.path], base) for target in targets],
    }


def _entry(target: Target, document: bytes, base: str) -> dict[str, Any]:
    image_hash = None
    if target.image.payload is not None:
        try:
            image_hash = sha256(target.image.read_bytes())
        except OSError:
            image_hash = None
    entry: dict[str, Any] = {
        "document": _relative(target.path, base),
        "line": target.line,
        "column": target.column,
        "src": target.ref.src,
        "image": _relative(target.image.path, base) if target.image.path else None,
        "image_sha256": image_hash,
        "document_sha256": sha256(document),
        "alt": target.alt or "",
        "status": _status(target),
        "kind": target.ref.kind,
        "figure_caption": target.ref.caption,
        "text": target.image_text,  # all text read from the image: the long description when alt is short
        "image_kind": target.image_kind,
        "context": target.context.as_dict(),
        "warnings": list(target.warnings),
    }
    if target.problem:
        entry["problem"] = target.problem
    return entry


def _status(target: Target) -> str:
    if target.judged_decorative and decorative_problem(target) is None:
        return "decorative"  # a model's verdict, proposed for the reviewer to accept
    if target.problem:
        return "skip"
    if target.alt == "":
        return "decorative"  # marked so, and asked to write an empty alt
    return "proposed" if target.alt else "skip"


def _relative(path: str, base: str) -> str:
    return os.path.relpath(os.path.abspath(path), os.path.abspath(base)).replace(os.sep, "/")


def dumps(proposals: dict[str, Any]) -> str:
    return json.dumps(proposals, indent=2, ensure_ascii=False) + "\n"


def load(path: str) -> list[Entry]:
    """The entries of a proposals file, validated; document paths made relative to here."""
    try:
        with open(path, "rb") as file:
            data = json.loads(file.read().decode("utf-8"))
    except OSError as error:
        raise ProposalsError(f"{path}: cannot read: {error.strerror or error}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ProposalsError(f"{path}: not a JSON file: {error}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("entries"), list):
        raise ProposalsError(f"{path}: not an alttext proposals file (written by `alttext suggest`)")
    if data.get("version") != VERSION:
        raise ProposalsError(f"{path}: proposals version {data.get('version')!r}; this alttext reads {VERSION}")
    base = os.path.dirname(path)
    return [_parse(raw, number, path, base) for number, raw in enumerate(data["entries"], 1)]


def _parse(raw: object, number: int, path: str, base: str) -> Entry:
    where = f"{path}: entry {number}"
    if not isinstance(raw, dict):
        raise ProposalsError(f"{where}: expected an object")
    for name, kind in _FIELDS.items():
        if name not in raw or not isinstance(raw[name], kind) or isinstance(raw[name], bool):
            raise ProposalsError(f"{where}: field {name!r} is missing or has the wrong type")
    if raw["status"] not in STATUSES:
        raise ProposalsError(f"{where}: status {raw['status']!r} is not one of {', '.join(STATUSES)}")
    document = os.path.normpath(os.path.join(base, raw["document"]))
    return Entry(number, document, raw["line"], raw["column"], raw["src"], raw["image_sha256"],
                 raw["document_sha256"], raw["alt"], raw["status"])


def decorative_problem(target: Target) -> str | None:
    """Why `target` cannot be marked decorative by an alt edit, or None when it can."""
    kind = target.ref.kind
    if kind.startswith("markdown"):
        return "kept as it is: Markdown has no decorative form; ![](...) already renders as alt=\"\""
    if kind not in DECORATIVE_KINDS:
        article = "an" if kind[:1].lower() in "aeiou" else "a"
        return f"{article} <{kind}> element cannot be decorative through its alt text; hide it (aria-hidden) by hand"
    return None
