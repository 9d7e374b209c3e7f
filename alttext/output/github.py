"""GitHub Actions workflow commands: one annotation per finding, shown on the pull request:
`::error` for missing alt text, `::warning` for weak alt text.

Control characters in paths and values are first shown as escapes (a file
name cannot colour the log or forge a line); then escaping follows the
runner: `%`, CR and LF in the message; also `:` and `,` in property values,
which would otherwise end the value.
"""

from __future__ import annotations

from collections.abc import Sequence

from alttext.findings import Finding
from alttext.lint import FileError
from alttext.output import describe, level
from alttext.printable import printable
from alttext.rules import RULES


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(finding: Finding) -> str:
    rule = RULES.get(finding.rule)
    title = f"{finding.rule} {rule.name}" if rule else finding.rule
    properties = {
        "file": printable(finding.path),
        "line": finding.line,
        "col": finding.column,
        "endLine": finding.end_line,
        "endColumn": finding.end_column,
        "title": title,
    }
    listed = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items())
    return f"::{level(finding.rule)} {listed}::{escape_data(printable(describe(finding)))}"


def error_annotation(error: FileError) -> str:
    properties = f"file={escape_property(printable(error.path))}"
    if error.line:
        properties += f",line={error.line}"
    return f"::error {properties},title=alttext error::{escape_data(printable(error.message))}"


def render(findings: Sequence[Finding], errors: Sequence[FileError] = ()) -> str:
    lines = [annotation(finding) for finding in findings] + [error_annotation(error) for error in errors]
    return "".join(line + "\n" for line in lines)
