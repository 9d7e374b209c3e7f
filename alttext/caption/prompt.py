"""The prompt a prompted back end gets for one image, and how its answer is read.

Pure and torch-free. `PromptTemplate` is a text file with named {placeholders}
(DEFAULT_TEMPLATE unless `prompt-template` names another); `build_prompt`
fills it from the image's context (alttext.context.ImageContext), the text read
from the image and the length limit. The model is asked for a small JSON object,
`{"alt": "...", "decorative": false}`; `parse_answer` reads it, falls back to
plain text when the answer is not JSON, and refuses answers that are no alt text.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import string
from collections.abc import Callable
from dataclasses import dataclass

from alttext.caption.prompted import Prompt
from alttext.context import ImageContext, is_english
from alttext.quality import alt_is_placeholder

# Bump when `parse_answer` can read the same answer differently: it is part of the cache key.
ANSWER_VERSION = "1"
# Where the template's system message ends and its user message starts (a line of its own).
SPLIT_LINE = "---"
MAX_PIECE_CHARS = 300  # a longer title, heading, caption or link is cut: the prompt stays small
MAX_PARAGRAPH_CHARS = 500
MAX_TEXT_CHARS = 1000  # likewise the text read from the image

DEFAULT_TEMPLATE = """\
You write alt text for one image of a documentation page. A screen reader reads your alt text \
in place of the image, so it says what the image shows or does for this page, in at most \
{max_length} characters.
Rules:
- Do not start with "image of", "picture of" or "photo of": the screen reader already says it is an image.
- Do not repeat the figure caption: it is read right after the image. Say only what it does not.
- If the image is the only content of a link, name where the link goes or what it does, not the picture.
- Keep the words the image shows that matter to the reader.
- If the image adds nothing to the page (a divider, a spacer, pure decoration), answer decorative.
- Write in the page's language: {language}.
Answer with JSON only, no other text: {{"alt": "...", "decorative": false}}
---
What the page says around the image:
{context}
Text read from the image: {image_text}
Write the alt text for this image.
"""

PLACEHOLDERS = {
    "context": "every piece of context that is known, one per line (\"- Page title: ...\")",
    "page_title": "the page's title (empty when unknown)",
    "heading": "the nearest heading above the image",
    "figure_caption": "the figure's caption",
    "link_target": "where the link around the image goes",
    "link_text": "the link's own text beside the image",
    "paragraph": "the paragraph the image stands in, else the nearest one before it",
    "link_only_content": "\"yes\" when the image is the link's only content, else \"no\"",
    "image_text": "the text read from the image (\"none\" when there is none)",
    "language": "the page's language as a BCP 47 tag (\"en\" when the page declares none)",
    "max_length": "the longest alt text wanted, in characters",
}


class PromptTemplateError(ValueError):
    """A prompt template that cannot be used; the message names the file."""


class AnswerError(ValueError):
    """A model's answer that is no usable alt text; the message says why (names no image)."""


@dataclass(frozen=True)
class PromptTemplate:
    system: str
    user: str
    source: str = "the default prompt template"

    @property
    def key(self) -> str:
        """A short hash of the template's text, for the cache key."""
        return hashlib.sha256(f"{self.system}\0{self.user}".encode()).hexdigest()[:16]


def parse_template(text: str, source: str) -> PromptTemplate:
    """The template in `text`: above a `---` line the system message, below it the user's."""
    lines = text.splitlines()
    if SPLIT_LINE in (line.strip() for line in lines):
        at = [line.strip() for line in lines].index(SPLIT_LINE)
        system, user = "\n".join(lines[:at]).strip(), "\n".join(lines[at + 1:]).strip()
    else:
        system, user = "", text.strip()
    for part in (system, user):
        _check_fields(part, source)
    if not user:
        raise PromptTemplateError(f"{source}: the prompt template has no user message (below its {SPLIT_LINE} line)")
    return PromptTemplate(system, user, source)


def _check_fields(text: str, source: str) -> None:
    known = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
    try:
        fields = [(name, spec, conversion) for _, name, spec, conversion in string.Formatter().parse(text)
                  if name is not None]
    except ValueError as error:
        raise PromptTemplateError(f"{source}: not a valid prompt template ({error}); "
                                  "write a literal brace as {{ or }}") from None
    for name, spec, conversion in fields:
        if name not in PLACEHOLDERS:
            shown = f"{{{name}}}" if name else "{} (a placeholder needs a name)"
            raise PromptTemplateError(f"{source}: unknown placeholder {shown} in the prompt template (known: {known})")
        if spec or conversion:
            raise PromptTemplateError(f"{source}: placeholder {{{name}}} takes no format or conversion")


def load_template(path: str | os.PathLike[str] | None) -> PromptTemplate:
    """The template in the file at `path`; the default one for None."""
    if path is None:
        return parse_template(DEFAULT_TEMPLATE, "the default prompt template")
    name = os.fspath(path)
    try:
        with open(name, "rb") as file:
            text = file.read().decode("utf-8")
    except OSError as error:
        raise PromptTemplateError(f"{name}: cannot read the prompt template: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise PromptTemplateError(f"{name}: the prompt template is not UTF-8 text") from None
    return parse_template(text, name)


def build_prompt(template: PromptTemplate, context: ImageContext | None, image_text: str, max_length: int) -> Prompt:
    """The prompt for one image: the template filled from its context and text."""
    values = prompt_values(context or ImageContext(), image_text, max_length)
    return Prompt(template.system.format(**values), template.user.format(**values),
                  language=(context.language_code if context else None), max_length=max_length)


def prompt_values(context: ImageContext, image_text: str, max_length: int) -> dict[str, str]:
    link = context.link
    pieces = {
        "page_title": _piece(context.page_title.value if context.page_title else ""),
        "heading": _piece(context.heading.value if context.heading else ""),
        "figure_caption": _piece(context.figure_caption.value if context.figure_caption else ""),
        "link_target": _piece(link.target.value if link else ""),
        "link_text": _piece(link.text if link else ""),
        "paragraph": _piece(context.paragraph.value if context.paragraph else "", MAX_PARAGRAPH_CHARS),
    }
    text = _piece(image_text, MAX_TEXT_CHARS)
    language = context.language_code or "en"
    return {
        **pieces,
        "link_only_content": "yes" if context.is_functional else "no",
        "image_text": text or "none",
        "language": language,
        "max_length": str(max_length),
        "context": _context_lines(pieces, context.is_functional, language),
    }


def _context_lines(pieces: dict[str, str], functional: bool, language: str) -> str:
    lines = [f"- {label}: {pieces[name]}" for name, label in (
        ("page_title", "Page title"), ("heading", "Nearest heading"), ("figure_caption", "Figure caption"),
        ("paragraph", "Text around the image"),
    ) if pieces[name]]
    if pieces["link_target"]:
        role = "the image is the link's only content" if functional else "the link also has text"
        text = f" (link text: {pieces['link_text']})" if pieces["link_text"] else ""
        lines.append(f"- Link: the image is inside a link to {pieces['link_target']}; {role}{text}")
    lines.append(f"- Page language: {language}")
    return "\n".join(lines)


def _piece(value: str, limit: int = MAX_PIECE_CHARS) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "\u2026"


def prompt_key(prompt: Prompt) -> str:
    """A short hash of everything a prompt asks, for the cache key."""
    text = json.dumps([prompt.system, prompt.user, prompt.language, prompt.max_length], ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# Answers ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Answer:
    alt: str  # "" when decorative
    decorative: bool = False


_FENCE = re.compile(r"^```[\w-]*\s*\n?(.*?)\n?```$", re.DOTALL)
_LABEL = re.compile(r"(?i)^(?:alt(?:ernative)?[ _-]?text|alt)\s*:\s*")
_QUOTES = "\"'\u201c\u201d\u2018\u2019`"


def parse_answer(raw: str, prompt: Prompt, clean: Callable[[str], str] | None = None) -> Answer:
    """The alt text in a model's raw answer; raises AnswerError for one that is no alt text.

    `clean` (clean_caption with the run's options) tidies an answer for an English page;
    other languages keep their words, only their spacing is normalised.
    """
    text = raw.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1).strip()
    answer = _from_json(text)
    if answer is None:
        if text.startswith(("{", "[")):
            raise AnswerError("the answer is malformed JSON")
        answer = Answer(_LABEL.sub("", text))
    if answer.decorative:
        return Answer("", True)
    return Answer(_valid_alt(answer.alt, prompt, clean))


def _from_json(text: str) -> Answer | None:
    """The answer in a JSON text: None when it is no JSON (then it is read as plain text)."""
    try:
        value = json.loads(text)
    except ValueError:
        match = re.search(r"\{.*\}", text, re.DOTALL)  # JSON after a sentence of preamble
        if match is None or text.startswith("{"):
            return None
        try:
            value = json.loads(match.group(0))
        except ValueError:
            return None
    if isinstance(value, str):
        return Answer(value)
    if not isinstance(value, dict):
        raise AnswerError(f"the answer is JSON but not an object ({type(value).__name__})")
    decorative = value.get("decorative") in (True, "true", "yes")
    alt = value.get("alt", value.get("alt_text"))
    if decorative:
        return Answer("", True)
    if not isinstance(alt, str):
        raise AnswerError('the JSON answer has no "alt" string')
    return Answer(alt)


def _valid_alt(alt: str, prompt: Prompt, clean: Callable[[str], str] | None) -> str:
    alt = " ".join(alt.split()).strip(_QUOTES + " ")
    if clean is not None and is_english(prompt.language):
        alt = clean(alt)
    if not alt:
        raise AnswerError("the answer is empty")
    placeholder = alt_is_placeholder(alt)
    if placeholder:
        raise AnswerError(f"the answer {alt!r} is a placeholder, not alt text")
    if len(alt) > prompt.max_length:
        raise AnswerError(f"the answer is {len(alt)} characters long, over the limit of {prompt.max_length}")
    return alt
