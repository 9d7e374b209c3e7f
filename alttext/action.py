"""The GitHub Action's step: `python -m alttext.action`, configured by environment variables.

The composite action (hooks/action/action.yml) passes its inputs as
ALTTEXT_PATHS, ALTTEXT_MODE, ALTTEXT_MODEL, ALTTEXT_FAIL_ON_FINDINGS,
ALTTEXT_CACHE_PATH and ALTTEXT_SARIF_FILE, never by pasting them into shell.
This step checks the workspace and reports three ways:

- workflow annotations on stdout (GitHub shows 10 per step; the rest are in the SARIF file),
- a SARIF file for github/codeql-action/upload-sarif (output `sarif-file`),
- a job summary in $GITHUB_STEP_SUMMARY: every image, its problem and its proposed alt text.

Modes: `check` only reports; `suggest` also captions each image without alt text
and shows the proposal; `fix` writes the proposals into the files.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import shlex
import sys
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from alttext.findings import Finding
from alttext.lint import FileError
from alttext.printable import printable

MODES = ("check", "suggest", "fix")
SUMMARY_ROW_LIMIT = 500  # GitHub caps a step summary at 1 MiB
ANNOTATIONS_SHOWN = 10


class InputError(Exception):
    """An action input that makes no sense; the message names the input."""


@dataclass(frozen=True)
class ActionInputs:
    paths: tuple[str, ...]
    mode: str = "check"
    model: str | None = None
    fail_on_findings: bool = True
    cache_path: str = ".alttext-cache"
    sarif_file: str = "alttext.sarif"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ActionInputs:
        mode = env.get("ALTTEXT_MODE", "check").strip() or "check"
        if mode not in MODES:
            raise InputError(f"input 'mode' is {mode!r}; use one of: {', '.join(MODES)}")
        return cls(
            paths=parse_paths(env.get("ALTTEXT_PATHS", "")),
            mode=mode,
            model=env.get("ALTTEXT_MODEL", "").strip() or None,
            fail_on_findings=parse_bool(env.get("ALTTEXT_FAIL_ON_FINDINGS", "true"), "fail-on-findings"),
            cache_path=env.get("ALTTEXT_CACHE_PATH", "").strip() or ".alttext-cache",
            sarif_file=env.get("ALTTEXT_SARIF_FILE", "").strip() or "alttext.sarif",
        )


def parse_paths(text: str) -> tuple[str, ...]:
    """One path per line or several per line, shell-quoted when they hold spaces; `.` when empty."""
    try:
        paths = [path for line in text.splitlines() for path in shlex.split(line, comments=True)]
    except ValueError as error:
        raise InputError(f"input 'paths': {error}") from None
    return tuple(paths) or (".",)


def parse_bool(text: str, name: str) -> bool:
    value = text.strip().lower()
    if value in ("true", "yes", "1", "on"):
        return True
    if value in ("false", "no", "0", "off", ""):
        return False
    raise InputError(f"input '{name}' is {text!r}; use true or false")


# --- checking ----------------------------------------------------------------------------


def check_paths(paths: Sequence[str]) -> tuple[list[Finding], list[FileError]]:
    """Findings and file errors for `paths`, with the project's [tool.alttext] configuration."""
    from alttext.config import Config, ConfigError, find_pyproject, load_config
    from alttext.lint import check_file
    from alttext.walk import collect_files

    pyproject = find_pyproject(".")
    try:
        config = load_config(pyproject) if pyproject else Config()
    except ConfigError as error:
        raise InputError(str(error)) from None
    files = collect_files(paths, include=config.include, exclude=config.exclude, root=config.root)
    findings, errors = [], list(files.errors)
    for path in files.paths:
        result = check_file(path, config)
        findings += result.findings
        errors += result.errors
    return findings, errors


# --- proposing and writing alt text ------------------------------------------------------

_LOCATED_ERROR = re.compile(r"^(?P<path>.+?):(?P<line>\d+)(?::\d+)?: error: (?P<message>.*)$")


def propose_alt(inputs: ActionInputs) -> tuple[dict[tuple[str, int, str], str], list[str], list[FileError]]:
    """Caption every image without alt text (as `alttext suggest` does) and, in fix mode, write it.

    Returns the proposals by (path, line, src), the files written, and the errors of the run.
    """
    from alttext.commands.fix import settings_from_args
    from alttext.config import ConfigError
    from alttext.integration import propose, write_proposals

    args = argparse.Namespace(paths=list(inputs.paths), model=inputs.model, device=None, cache=inputs.cache_path,
                              fetch_remote=None, root=None, site_root=None, config=None,
                              write_decorative=False)
    try:
        settings = settings_from_args(args)
    except ConfigError as error:
        raise InputError(str(error)) from None
    proposals = propose(inputs.paths, root=".", settings=settings)
    found = {
        (os.path.normpath(target.path), target.line, target.ref.src): target.alt
        for target in proposals.targets
        if target.alt and target.problem is None
    }
    changed = write_proposals(proposals).changed if inputs.mode == "fix" else []
    return found, changed, [located_error(message) for message in proposals.messages if ": error: " in message]


def located_error(message: str) -> FileError:
    """A pipeline message "path:line:col: error: text" as a FileError."""
    match = _LOCATED_ERROR.match(message)
    if not match:
        path, _, text = message.partition(": error: ")
        return FileError(path or "alttext", text or message)
    return FileError(match["path"], match["message"], int(match["line"]))


# --- reporting ----------------------------------------------------------------------------


def with_proposal(finding: Finding, proposal: str | None) -> Finding:
    """The finding, its message extended by the proposed alt text (shown in annotations and SARIF)."""
    if not proposal:
        return finding
    return dataclasses.replace(finding, message=f"{finding.message}; proposed alt text: {proposal!r}")


def workflow_annotations(findings: Sequence[Finding], errors: Sequence[FileError]) -> str:
    from alttext.output import renderer

    text = renderer("github")(findings, errors)
    hidden = len(findings) + len(errors) - ANNOTATIONS_SHOWN
    if hidden > 0:
        text += f"::notice title=alttext::{hidden} more findings than GitHub shows per step; see the job summary or the SARIF file\n"
    return text


def sarif(findings: Sequence[Finding], errors: Sequence[FileError]) -> str:
    from alttext.output import renderer

    return renderer("sarif")(findings, errors)


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return printable(text).replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;")


def _code(text: str) -> str:
    return f"<code>{_cell(text)}</code>" if text else ""


def summary(
    findings: Sequence[Finding],
    errors: Sequence[FileError],
    proposals: Mapping[tuple[str, int, str], str],
    *,
    mode: str,
    changed: Sequence[str] = (),
    remaining: int | None = None,
) -> str:
    """The job summary: a count, then one table row per image, then the files that could not be read."""
    lines = ["## alttext", "", headline(findings, errors, mode=mode, changed=changed, remaining=remaining), ""]
    if findings:
        show_proposals = mode != "check"
        header = "| File | Line | Image | Problem |" + (" Proposed alt text |" if show_proposals else "")
        lines += [header, "|---|---:|---|---|" + ("---|" if show_proposals else "")]
        for finding in findings[:SUMMARY_ROW_LIMIT]:
            row = f"| {_cell(finding.path)} | {finding.line} | {_code(finding.src)} | {finding.rule} {_cell(finding.message)} |"
            if show_proposals:
                row += f" {_cell(proposals.get(proposal_key(finding), ''))} |"
            lines.append(row)
        if len(findings) > SUMMARY_ROW_LIMIT:
            lines.append(f"\n{len(findings) - SUMMARY_ROW_LIMIT} more in the SARIF file.")
    if errors:
        lines += ["", "### Files that could not be checked", ""]
        lines += [f"- {_cell(str(error))}" for error in errors]
    return "\n".join(lines) + "\n"


def headline(
    findings: Sequence[Finding], errors: Sequence[FileError], *, mode: str, changed: Sequence[str], remaining: int | None
) -> str:
    if not findings and not errors:
        return "Every image has a text alternative."
    files = len({finding.path for finding in findings})
    text = f"{len(findings)} image{'s' if len(findings) != 1 else ''} need attention in {files} file{'s' if files != 1 else ''}"
    if mode == "fix":
        text += f"; alt text written into {len(changed)} file{'s' if len(changed) != 1 else ''}"
        if remaining is not None:
            text += f"; {remaining} left to fix by hand"
    if errors:
        text += f"; {len(errors)} file{'s' if len(errors) != 1 else ''} could not be checked"
    return text + "."


def proposal_key(finding: Finding) -> tuple[str, int, str]:
    return (os.path.normpath(finding.path), finding.line, finding.src)


# --- GitHub's files -----------------------------------------------------------------------


def append_file(path: str | None, text: str) -> None:
    if path:
        with open(path, "a", encoding="utf-8") as file:
            file.write(text)


def output_lines(outputs: Mapping[str, str]) -> str:
    """Step outputs in GITHUB_OUTPUT syntax; a value with a newline gets a heredoc delimiter."""
    text = ""
    for name, value in outputs.items():
        if "\n" in value:
            delimiter = f"ghadelimiter_{uuid.uuid4()}"
            text += f"{name}<<{delimiter}\n{value}\n{delimiter}\n"
        else:
            text += f"{name}={value}\n"
    return text


# --- the step -----------------------------------------------------------------------------


def run(inputs: ActionInputs, env: Mapping[str, str]) -> int:
    findings, errors = check_paths(inputs.paths)
    proposals: dict[tuple[str, int, str], str] = {}
    changed: list[str] = []
    if inputs.mode != "check" and findings:
        proposals, changed, caption_errors = propose_alt(inputs)
        errors += caption_errors
    # What fix could not write stays a finding; what it wrote is for the workflow to commit.
    remaining = check_paths(inputs.paths)[0] if changed else findings
    shown = [with_proposal(finding, proposals.get(proposal_key(finding))) for finding in findings]
    sys.stdout.write(workflow_annotations(shown, errors))
    with open(inputs.sarif_file, "w", encoding="utf-8") as file:
        file.write(sarif(shown, errors))
    text = summary(findings, errors, proposals, mode=inputs.mode, changed=changed, remaining=len(remaining))
    append_file(env.get("GITHUB_STEP_SUMMARY"), text)
    outputs = {"sarif-file": inputs.sarif_file, "findings": str(len(findings)), "changed-files": str(len(changed))}
    append_file(env.get("GITHUB_OUTPUT"), output_lines(outputs))
    if errors:
        return 2
    return int(inputs.fail_on_findings and bool(remaining))


def main(argv: Sequence[str] | None = None) -> int:
    env = os.environ
    try:
        inputs = ActionInputs.from_env(env)
        workspace = env.get("GITHUB_WORKSPACE")
        if workspace:
            os.chdir(workspace)
        return run(inputs, env)
    except InputError as error:
        from alttext.output.github import escape_data

        print(f"::error title=alttext::{escape_data(printable(str(error)))}")
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
