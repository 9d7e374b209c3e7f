"""Rules about the quality of alt text that exists: ALT301..ALT304.

Each rule is a pure function of the alt text (and the image source) that
returns a message, or None when the alt text passes.

Decisions where guides disagree:
- A bare "logo" is a placeholder: it does not say whose logo it is. "Acme logo"
  or "Acme" is fine, so only the single word is reported.
- "screenshot of ..." is not a redundant lead-in: that a picture is a screenshot
  of the program (and not a drawing of it) is information. "image of",
  "picture of", "photo of", "graphic of" and the like are redundant, because a
  screen reader already says "image".
- Empty alt (alt="") marks a decorative image and is never a quality problem.
- ALT301 flags only what is a file name beyond doubt: the image's own name, a camera or
  screenshot tool's name, or a lone word ending in an image extension. Digits alone do
  not make a file name ("W3C", "HTML5", "MP3 player").
- A template expression (`{{ alt }}`) is a value not known yet: no quality rule applies.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

IMAGE_EXTENSIONS = (
    "png|jpe?g|jfif|gif|webp|svg|svgz|bmp|tiff?|avif|heic|heif|ico|apng|jxl|eps|psd|raw|cr2|nef|dng"
)
# `cat.png`, `img/hero_banner@2x.webp`: one "word" ending in an image extension, a file name
# by its form alone. Alt text that mentions a file among other words may well be deliberate.
_FILENAME = re.compile(rf"^[^\s.]\S*\.(?:{IMAGE_EXTENSIONS})$", re.IGNORECASE)
# Template expressions: `{{ alt }}`, `{{ $alt }}`, `{% ... %}`, `${alt}`, `<%= alt %>`. The
# value is only known when the page is rendered, so the quality rules say nothing about it.
_TEMPLATE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\$\{[^}]*\}|<%.*?%>", re.DOTALL)
# Names that cameras, phones and screenshot tools give, with or without an extension.
_CAMERA_NAME = re.compile(
    r"""^(?:
        (?:img|dsc|dscn|dscf|pxl|mvimg|gopr|dji|wp|vid)[ _-]?\d{3,}[\w-]*  # IMG_2043, DSC0001, PXL_2023...
      | (?:screen[ _-]?shot|screenshot|capture|bildschirmfoto)[ _-]?\d[\d ._:at-]*(?:[ap]m)?  # Screenshot 2023-01-01 at 10.00.00
      | (?:image|img|photo|pic)\d+                                     # image001
    )(?:\.\w{2,4})?$""",
    re.IGNORECASE | re.VERBOSE,
)

PLACEHOLDER_WORDS = frozenset(
    {
        "image", "images", "img", "photo", "photos", "photograph", "picture", "pictures", "pic",
        "graphic", "graphics", "icon", "figure", "fig", "screenshot", "screen shot", "screencap",
        "untitled", "untitled image", "no title", "alt", "alt text", "alttext", "alt tag",
        "alternative text", "alternate text", "image description", "description", "caption",
        "placeholder", "placeholder image", "spacer", "blank", "empty", "todo", "tbd", "tba",
        "fixme", "xxx", "none", "null", "undefined", "nan", "n a", "na", "logo", "banner",
        "thumbnail", "thumb", "avatar", "diagram", "chart", "illustration", "drawing", "artwork",
        "insert image here", "image here", "add alt text", "enter alt text", "alt text here",
        "click here", "link", "here", "more", "this", "foo", "test", "asdf", "lorem ipsum",
        "an image", "a picture", "a photo", "the image", "my image", "my photo",
    }
)
# A placeholder noun with a number: "image 1", "Figure 2", "photo #3".
_NUMBERED_PLACEHOLDER = re.compile(
    r"^(?:image|img|photo|picture|pic|graphic|figure|fig|screenshot|diagram|chart|untitled)(?: ?no)? ?\d+$"
)
# "drawing of", "painting of", "screenshot of" name the medium, which can matter; these never do.
_LEAD_IN_NOUNS = r"(?:image|picture|pic|photo|photograph|graphic|img)"
_LEAD_IN = re.compile(
    rf"^(?:(?:an?|the|this)\s+)?{_LEAD_IN_NOUNS}s?(?:\s+(?:of|showing|shows|depicting|depicts|that\s+shows)|\s*:|\s+[-–—])\s*\S",
    re.IGNORECASE,
)
_NON_WORD = re.compile(r"[\W_]+")


def normalize(alt: str) -> str:
    """Lower case, punctuation and runs of space folded to one space, trimmed."""
    return _NON_WORD.sub(" ", alt.lower()).strip()


def source_file_name(src: str) -> str:
    """The file name of an image source: `../img/My%20Cat.png?v=2#x` -> `My Cat.png`."""
    path = src.split("#", 1)[0].split("?", 1)[0].rstrip("/")
    return unquote(path.rsplit("/", 1)[-1]).strip()


def alt_is_filename(alt: str, src: str) -> str | None:
    """ALT301: the alt text is a file name (`IMG_2043.jpg`, `DSC0001`, the image's own name)."""
    text = alt.strip()
    own_name = source_file_name(src)
    own_stem = own_name.rsplit(".", 1)[0] if "." in own_name else own_name
    if own_name and text.lower() == own_name.lower():
        return f"alt text {text!r} is the image's file name; describe what the image shows"
    if own_stem and text.lower() == own_stem.lower() and _looks_machine_made(own_stem):
        return f"alt text {text!r} is the image's file name without extension; describe what the image shows"
    if _FILENAME.match(text) or _CAMERA_NAME.match(text):
        return f"alt text {text!r} is a file name; describe what the image shows"
    return None


def _looks_machine_made(stem: str) -> bool:
    # "team-photo" or "chart_v2" read as file names; a plain word like "Cat", or one with
    # digits like "W3C" or "HTML5" (a name people write), may be a fine alt.
    return not any(char.isspace() for char in stem) and any(char in "_-.+@" for char in stem)


def is_template(alt: str) -> bool:
    """Whether the alt text is (or holds) a template expression whose value is not known yet."""
    return ("{" in alt or "<%" in alt) and _TEMPLATE.search(alt) is not None


def alt_is_placeholder(alt: str) -> str | None:
    """ALT302: the alt text is a placeholder word (`image`, `photo`, `untitled`, `TODO`) or no word at all."""
    words = normalize(alt)
    if not words:
        return f"alt text {alt.strip()!r} has no words; describe the image, or use empty alt if it is decorative"
    if words == "logo":
        return f"alt text {alt.strip()!r} is a placeholder; name whose logo it is, such as 'Acme' or 'Acme logo'"
    if words in PLACEHOLDER_WORDS or _NUMBERED_PLACEHOLDER.match(words):
        return f"alt text {alt.strip()!r} is a placeholder; describe what the image shows"
    return None


def alt_has_redundant_lead_in(alt: str) -> str | None:
    """ALT303: the alt text starts with `image of`, `picture of`, `photo of` ... (screen readers say "image")."""
    match = _LEAD_IN.match(alt.strip())
    if not match:
        return None
    lead_in = alt.strip()[: match.end() - 1].rstrip()
    return f"alt text starts with {lead_in!r}; screen readers already announce an image, so start with what it shows"


def alt_is_too_long(alt: str, max_length: int) -> str | None:
    """ALT304: the alt text (whitespace runs counted as one space) is longer than `max_length`."""
    length = len(" ".join(alt.split()))
    if length <= max_length:
        return None
    return (
        f"alt text is {length} characters, over the limit of {max_length}; "
        "keep it short and put the detail in a caption or the surrounding text"
    )


def quality_problems(alt: str, src: str, max_length: int) -> list[tuple[str, str]]:
    """(rule id, message) for each quality rule that the alt text breaks; [] for decorative alt."""
    if not alt.strip() or is_template(alt):
        return []
    checks = [
        ("ALT301", alt_is_filename(alt, src)),
        ("ALT302", None),
        ("ALT303", alt_has_redundant_lead_in(alt)),
        ("ALT304", alt_is_too_long(alt, max_length)),
    ]
    if checks[0][1] is None:  # a file name is not also reported as a placeholder
        checks[1] = ("ALT302", alt_is_placeholder(alt))
    return [(rule, message) for rule, message in checks if message is not None]
