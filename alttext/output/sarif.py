"""SARIF 2.1.0, the format GitHub code scanning and other tools import.

Locations are relative to the current folder (uriBaseId %SRCROOT%), with
forward slashes, and columns count Unicode code points as every other output does.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Sequence
from urllib.parse import quote

from alttext import __version__
from alttext.findings import Finding
from alttext.lint import FileError
from alttext.output import describe, level
from alttext.rules import RULES, Rule

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/alttext/"
_WHY = {
    True: (
        "Screen readers announce an image without a text alternative by its file name or not at all, "
        "so people who cannot see it lose what it says (WCAG 2 success criterion 1.1.1, Non-text Content). "
        "Add a short description of what the image shows, or mark a purely decorative image as such "
        '(alt="" in HTML, an empty description in Markdown). `alttext fix` can write one.'
    ),
    False: (
        "The image has alt text, but it does not tell a screen-reader user what the image shows. "
        "Describe the content or function of the image in a short phrase."
    ),
}


def rule_descriptor(rule: Rule) -> dict[str, object]:
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": f"{rule.summary}. {_WHY[rule.fixable]}"},
        "helpUri": f"{INFORMATION_URI}#{rule.name}",
        "help": {"text": _WHY[rule.fixable]},
        "defaultConfiguration": {"level": level(rule.id)},
        "properties": {"tags": ["accessibility", "wcag2-1.1.1"]},
    }


def artifact_location(path: str) -> dict[str, str]:
    """A URI relative to %SRCROOT% (the current folder), or an absolute file URI outside it."""
    absolute = os.path.abspath(path)
    relative = os.path.relpath(absolute, os.getcwd())
    if relative == os.pardir or relative.startswith(os.pardir + os.sep):
        return {"uri": "file://" + quote(absolute.replace(os.sep, "/"))}
    return {"uri": quote(relative.replace(os.sep, "/")), "uriBaseId": "%SRCROOT%"}


def result(finding: Finding, rule_index: int, occurrence: int) -> dict[str, object]:
    # Stable across edits above the image: the rule, the file, the source and which one of them it is.
    identity = f"{finding.rule}\0{finding.path}\0{finding.src}\0{occurrence}".encode()
    return {
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": level(finding.rule),
        "message": {"text": describe(finding)},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": artifact_location(finding.path),
                    "region": {
                        "startLine": finding.line,
                        "startColumn": finding.column,
                        "endLine": finding.end_line,
                        "endColumn": finding.end_column,
                    },
                }
            }
        ],
        "partialFingerprints": {"alttextFinding/v1": hashlib.sha256(identity).hexdigest()[:32]},
    }


def notification(error: FileError) -> dict[str, object]:
    location: dict[str, object] = {"artifactLocation": artifact_location(error.path)}
    if error.line:
        location["region"] = {"startLine": error.line}
    return {"level": "error", "message": {"text": error.message}, "locations": [{"physicalLocation": location}]}


def sarif_log(findings: Sequence[Finding], errors: Sequence[FileError] = ()) -> dict[str, object]:
    rule_ids = list(RULES)
    seen: Counter[tuple[str, str, str]] = Counter()
    results = []
    for finding in findings:
        key = (finding.rule, finding.path, finding.src)
        results.append(result(finding, rule_ids.index(finding.rule), seen[key]))
        seen[key] += 1
    cwd = os.getcwd().replace(os.sep, "/").rstrip("/")
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "alttext",
                        "informationUri": INFORMATION_URI,
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": [rule_descriptor(rule) for rule in RULES.values()],
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": "file://" + quote(cwd) + "/"}},
                "columnKind": "unicodeCodePoints",
                "invocations": [
                    {
                        "executionSuccessful": not errors,
                        "toolExecutionNotifications": [notification(error) for error in errors],
                    }
                ],
                "results": results,
            }
        ],
    }


def render(findings: Sequence[Finding], errors: Sequence[FileError] = ()) -> str:
    return json.dumps(sarif_log(findings, errors), indent=2, ensure_ascii=False) + "\n"
