"""The site's language and the policy for pages not in English, from [tool.alttext] or a host.

A page's own declaration (`<html lang>`, front matter `lang`/`language`) wins;
the site's language (MkDocs `theme.language`, Sphinx `language`, else
`language` in [tool.alttext]) applies to the pages that declare none.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from alttext.context import Sourced

NON_ENGLISH_POLICIES = ("text-only", "warn", "review")
DEFAULT_NON_ENGLISH = "text-only"


class LanguageError(ValueError):
    """A language setting that cannot be used; the message names where it was set."""


def site_language(value: object, origin: str) -> Sourced | None:
    """A site-wide language tag, remembered with the setting it came from."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not value.strip() or any(char.isspace() for char in value.strip()):
        raise LanguageError(f"{origin}: expected a language tag such as \"fr\" or \"pt-BR\", got {value!r}")
    return Sourced(value.strip(), origin=origin)


def non_english_policy(value: object, origin: str) -> str:
    if value not in NON_ENGLISH_POLICIES:
        raise LanguageError(f"{origin}: expected one of {', '.join(NON_ENGLISH_POLICIES)}, got {value!r}")
    return str(value)


def from_config(extra: Mapping[str, object], source: str | None) -> tuple[Sourced | None, str]:
    """(site language, non-english policy) from the pass-through keys of [tool.alttext]."""
    table = f"{os.path.basename(source)} [tool.alttext]" if source else "[tool.alttext]"
    language = site_language(extra.get("language"), f"{table} language")
    policy = non_english_policy(extra.get("non-english", DEFAULT_NON_ENGLISH), f"{table} non-english")
    return language, policy
