"""Renderers: the same findings as text, JSON, GitHub workflow annotations or SARIF."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from alttext.findings import Finding
from alttext.lint import FileError
from alttext.rules import MISSING_ALT_RULES

Renderer = Callable[[Sequence[Finding], Sequence[FileError]], str]
FORMATS = ("text", "json", "github", "sarif")


def level(rule_id: str) -> str:
    """Missing alt text is an "error"; weak alt text is a "warning"."""
    return "error" if rule_id in MISSING_ALT_RULES else "warning"


def describe(finding: Finding) -> str:
    """The message with the image source: `<img> has no alt text (assets/cat.png)`."""
    return f"{finding.message} ({finding.src})" if finding.src else finding.message


def renderer(name: str) -> Renderer:
    """The render function of format `name` (one of FORMATS)."""
    if name == "text":
        from alttext.output.text import render
    elif name == "json":
        from alttext.output.json import render
    elif name == "github":
        from alttext.output.github import render
    elif name == "sarif":
        from alttext.output.sarif import render
    else:
        raise ValueError(f"unknown output format {name!r}; choose from {', '.join(FORMATS)}")
    return render
