"""The GitHub Action's step: `python -m alttext.action`, configured by environment variables.

The composite action (hooks/action/action.yml) passes its inputs as
ALTTEXT_PATHS, ALTTEXT_MODE, ALTTEXT_MODEL, ALTTEXT_FAIL_ON_FINDINGS,
ALTTEXT_FAIL_ON_WEAK_ALT, ALTTEXT_CACHE_PATH and ALTTEXT_SARIF_FILE, never by
pasting them into shell. The workspace's [tool.alttext] is read as the command
line reads it; the model and cache-path inputs, when set, replace its keys.
This step checks the workspace and reports three ways:

- workflow annotations on stdout (GitHub shows 10 per step; the rest are in the SARIF file),
- a SARIF file for github/codeql-action/upload-sarif (output `sarif-file`),
- a job summary in $GITHUB_STEP_SUMMARY: every image, its problem and its proposed alt text.

Modes: `check` only reports; `suggest` also captions each image without alt text
and shows the proposal; `fix` writes the proposals into the files: each image
written gets a notice, and only what is still wrong is reported as a finding.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shlex
import sys
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from alttext.config import Config
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
    fail_on_weak_alt: bool | None = None  # None: in check and suggest mode, not in fix mode
    cache_path: str | None = None  # None: [tool.alttext] cache, or the default
    backend: str | None = None  # None: [tool.alttext] backend, or auto
    sarif_file: str = "alttext.sarif"

    @property
    def weak_alt_fails(self) -> bool:
        """Whether weak alt text (which fix does not rewrite) fails the step."""
        return self.mode != "fix" if self.fail_on_weak_alt is None else self.fail_on_weak_alt

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
            fail_on_weak_alt=_optional_bool(env.get("ALTTEXT_FAIL_ON_WEAK_ALT", ""), "fail-on-weak-alt"),
            cache_path=env.get("ALTTEXT_CACHE_PATH", "").strip() or None,
            backend=_backend(env.get("ALTTEXT_BACKEND", "")),
            sarif_file=env.get("ALTTEXT_SARIF_FILE", "").strip() or "alttext.sarif",
        )


def _backend(text: str) -> str | None:
    from alttext.caption.backends import BACKENDS  # imports neither torch nor numpy

    value = text.strip().lower()
    if value and value not in BACKENDS:
        raise InputError(f"input 'backend' is {text.strip()!r}; use one of: {', '.join(BACKENDS)}")
    return value or None


def parse_paths(text: str) -> tuple[str, ...]:
    """One path per line or several per line, shell-quoted when they hold spaces; `.` when empty.

    A `#` is part of a file name (`docs/c#.md`), never a comment: YAML has taken its comments out.
    """
    try:
        paths = [path for line in text.splitlines() for path in shlex.split(line, comments=False)]
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


def _optional_bool(text: str, name: str) -> bool | None:
    return parse_bool(text, name) if text.strip() else None


# --- checking ----------------------------------------------------------------------------


def project(inputs: ActionInputs) -> Config:
    """The workspace's [tool.alttext], with the model, cache-path and backend inputs on top when set."""
    from alttext.config import ConfigError
    from alttext.project import project_config

    try:
        options = {"model": inputs.model, "cache": inputs.cache_path, "backend": inputs.backend}
        return project_config(".", options, host_root=".",
                              host="action input")
    except ConfigError as error:
        raise InputError(str(error)) from None


def check_paths(paths: Sequence[str], config: Config) -> tuple[list[Finding], list[FileError]]:
    """Findings and file errors for `paths`, with the project's configuration."""
    from alttext.lint import check_file
    from alttext.walk import collect_files

    files = collect_files(paths, include=config.include, exclude=config.exclude, root=config.root)
    findings, errors = [], list(files.errors)
    for path in files.paths:
        result = check_file(path, config)
        findings += result.findings
        errors += result.errors
    return findings, errors


# --- proposing and writing alt text ------------------------------------------------------

_LOCATED_ERROR = re.compile(r"^(?P<path>.+?):(?P<line>\d+)(?::\d+)?: error: (?P<message>.*)$")


def propose_alt(
    inputs: ActionInputs, config: Config
) -> tuple[dict[tuple[str, int, str], str], list[str], list[FileError]]:
    """Caption every image without alt text (as `alttext suggest` does) and, in fix mode, write it.

    Returns the proposals by (path, line, src), the files written, and the errors of the run.
    """
    from alttext.config import ConfigError
    from alttext.integration import in_host_terms, propose, write_proposals
    from alttext.project import fix_settings

    try:
        settings = fix_settings(config, list(inputs.paths), root=".", site_root=None)
    except ConfigError as error:
        raise InputError(str(error)) from None
    proposals = propose(inputs.paths, root=".", settings=settings)
    found = {
        (os.path.normpath(target.path), target.line, target.ref.src): target.alt
        for target in proposals.targets
        if target.alt and target.problem is None
    }
    changed = write_proposals(proposals).changed if inputs.mode == "fix" else []
    errors = [located_error(in_host_terms(message, MODEL_HINT)) for message in proposals.messages if ": error: " in message]
    return found, [os.path.normpath(path) for path in changed], errors


MODEL_HINT = "set the action's model input to /path/to/folder"


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


def written_notices(written: Sequence[Finding], proposals: Mapping[tuple[str, int, str], str]) -> str:
    """One `::notice` per image fix mode gave alt text: done, not a problem."""
    from alttext.output.github import escape_data, escape_property

    return "".join(
        f"::notice file={escape_property(f.path)},line={f.line},col={f.column},title={f.rule} alt text written::"
        f"{escape_data(f'alt text written: {proposals[proposal_key(f)]!r} ({f.src})')}\n"
        for f in written
    )


def run(inputs: ActionInputs, env: Mapping[str, str]) -> int:
    from alttext.rules import MISSING_ALT_RULES

    config = project(inputs)
    findings, errors = check_paths(inputs.paths, config)
    proposals: dict[tuple[str, int, str], str] = {}
    changed: list[str] = []
    if inputs.mode != "check" and findings:
        proposals, changed, caption_errors = propose_alt(inputs, config)
        errors += caption_errors
    # What fix could not write stays a finding; what it wrote is for the workflow to commit.
    remaining = check_paths(inputs.paths, config)[0] if changed else findings
    if inputs.mode == "fix":
        written = [f for f in findings if os.path.normpath(f.path) in changed and proposal_key(f) in proposals
                   and f.rule in MISSING_ALT_RULES]
        shown, notices = remaining, written_notices(written, proposals)
    else:
        shown, notices = [with_proposal(f, proposals.get(proposal_key(f))) for f in findings], ""
    sys.stdout.write(notices + workflow_annotations(shown, errors))
    with open(inputs.sarif_file, "w", encoding="utf-8") as file:
        file.write(sarif(shown, errors))
    missing = [f for f in remaining if f.rule in MISSING_ALT_RULES]
    text = summary(findings, errors, proposals, mode=inputs.mode, changed=changed, remaining=len(missing))
    append_file(env.get("GITHUB_STEP_SUMMARY"), text)
    outputs = {"sarif-file": inputs.sarif_file, "findings": str(len(findings)), "changed-files": str(len(changed))}
    append_file(env.get("GITHUB_OUTPUT"), output_lines(outputs))
    if errors:
        return 2
    failing = remaining if inputs.weak_alt_fails else missing
    return int(inputs.fail_on_findings and bool(failing))


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
