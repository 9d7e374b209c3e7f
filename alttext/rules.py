"""The rules alttext reports, by stable id. Ids never change meaning once released."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    summary: str
    fixable: bool  # `alttext fix` can write alt text for it


RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in [
        Rule("ALT001", "img-alt-missing", "<img> has no alt attribute and no other accessible name", True),
        Rule("ALT002", "img-alt-blank", "<img> alt attribute is only whitespace", True),
        Rule("ALT003", "input-image-alt-missing", '<input type="image"> has no non-empty alt, aria name or title', True),
        Rule("ALT004", "area-alt-missing", "<area href> has no non-empty alt, aria name or title", True),
        Rule("ALT005", "svg-img-name-missing", '<svg role="img"> has no <title> child and no aria name', True),
        Rule("ALT006", "role-img-name-missing", 'element with role="img" has no aria name or title', True),
        Rule("ALT101", "markdown-alt-missing", "Markdown image has an empty description", True),
        Rule("ALT201", "rst-alt-missing", "reStructuredText image, figure or substitution has no :alt: option", True),
        Rule("ALT301", "alt-is-filename", "alt text is a file name", False),
        Rule("ALT302", "alt-is-placeholder", "alt text is a placeholder such as 'image' or 'photo'", False),
        Rule("ALT303", "alt-redundant-prefix", "alt text starts with a redundant lead-in such as 'image of'", False),
        Rule("ALT304", "alt-too-long", "alt text is longer than the configured limit", False),
    ]
}

MISSING_ALT_RULES = frozenset(rule.id for rule in RULES.values() if rule.fixable)
