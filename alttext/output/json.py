"""A JSON list of findings, each with path, line, column, end_line, end_column, rule, message, src."""

from __future__ import annotations

import json
from collections.abc import Sequence

from alttext.findings import Finding
from alttext.lint import FileError


def render(findings: Sequence[Finding], errors: Sequence[FileError] = ()) -> str:
    return json.dumps([finding.as_dict() for finding in findings], indent=2, ensure_ascii=False) + "\n"
