"""The GitHub Action: action.yml's structure, and its run step executed in a shell with the
GITHUB_* files pointed at temporary files."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from alttext.action import ActionInputs, InputError, parse_bool, parse_paths, summary
from alttext.findings import Finding

REPO_ROOT = Path(__file__).resolve().parent.parent
ACTION_YML = REPO_ROOT / "hooks" / "action" / "action.yml"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


@pytest.fixture(scope="module")
def action() -> dict:
    return yaml.safe_load(ACTION_YML.read_text(encoding="utf-8"))


def run_steps(action: dict) -> list[dict]:
    return [step for step in action["runs"]["steps"] if "run" in step]


# --- action.yml ---------------------------------------------------------------------------


def test_action_has_the_required_keys(action: dict) -> None:
    assert {"name", "description", "inputs", "outputs", "runs"} <= set(action)
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) == {
        "paths", "mode", "model", "fail-on-findings", "fail-on-weak-alt", "cache-path", "backend", "python-version",
    }
    for name, spec in action["inputs"].items():
        assert spec.get("description"), name
        assert "default" in spec, name


def test_every_run_step_names_its_shell_and_pastes_no_expression(action: dict) -> None:
    steps = run_steps(action)
    assert len(steps) == 2
    for step in steps:
        assert step["shell"] == "bash"
        assert "${{" not in step["run"], f"an expression pasted into shell in step {step.get('name')!r}"


def test_used_actions_are_pinned_to_a_version(action: dict) -> None:
    used = [step["uses"] for step in action["runs"]["steps"] if "uses" in step]
    assert sorted(used) == ["actions/cache@v4", "actions/cache@v4", "actions/setup-python@v5"]


def test_expressions_name_only_declared_inputs_and_steps(action: dict) -> None:
    text = ACTION_YML.read_text(encoding="utf-8")
    step_ids = {step["id"] for step in action["runs"]["steps"] if "id" in step}
    for expression in EXPRESSION.findall(text):
        for name in re.findall(r"inputs\.([\w-]+)", expression):
            assert name in action["inputs"], expression
        for name in re.findall(r"steps\.([\w-]+)", expression):
            assert name in step_ids, expression


def test_the_script_reads_exactly_what_the_run_step_passes(action: dict) -> None:
    run_step = next(step for step in run_steps(action) if step.get("id") == "alttext")
    assert run_step["run"].strip() == "python -m alttext.action"
    source = (REPO_ROOT / "alttext" / "action.py").read_text(encoding="utf-8")
    read = set(re.findall(r'env\.get\("(ALTTEXT_[A-Z_]+)"', source))
    assert read == set(run_step["env"])


def test_outputs_come_from_the_run_step(action: dict) -> None:
    for name, spec in action["outputs"].items():
        assert spec["value"] == f"${{{{ steps.alttext.outputs.{name} }}}}"


# --- the pure parts -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", (".",), id="empty-means-workspace"),
        pytest.param("docs\nREADME.md\n", ("docs", "README.md"), id="one-per-line"),
        pytest.param("docs README.md", ("docs", "README.md"), id="several-per-line"),
        pytest.param("'my docs'/a.md\n", ("my docs/a.md",), id="quoted"),
        pytest.param("docs/c#.md\n#1-notes.md docs/a.md#x\n", ("docs/c#.md", "#1-notes.md", "docs/a.md#x"),
                     id="hash-is-part-of-the-name"),
    ],
)
def test_parse_paths(text: str, expected: tuple[str, ...]) -> None:
    assert parse_paths(text) == expected


@pytest.mark.parametrize(
    ("env", "message"),
    [
        pytest.param({"ALTTEXT_MODE": "rewrite"}, "input 'mode'", id="bad-mode"),
        pytest.param({"ALTTEXT_FAIL_ON_FINDINGS": "maybe"}, "input 'fail-on-findings'", id="bad-bool"),
        pytest.param({"ALTTEXT_PATHS": "'unclosed"}, "input 'paths'", id="bad-quote"),
        pytest.param({"ALTTEXT_BACKEND": "tensorflow"}, "input 'backend' is 'tensorflow'; use one of: auto, torch, onnx, openai, vlm",
                     id="bad-backend"),
    ],
)
def test_bad_inputs_name_the_input(env: dict[str, str], message: str) -> None:
    with pytest.raises(InputError, match=message):
        ActionInputs.from_env(env)


@pytest.mark.parametrize(
    ("text", "expected"),
    [pytest.param("true", True, id="true"), pytest.param("False", False, id="false"), pytest.param(" yes ", True, id="yes")],
)
def test_parse_bool(text: str, expected: bool) -> None:
    assert parse_bool(text, "x") is expected


def test_summary_escapes_table_cells_and_shows_proposals() -> None:
    finding = Finding("docs/a|b.md", 3, 1, 3, 20, "ALT101", "Markdown image has no alt text", "img/<x>.png")
    text = summary([finding], [], {("docs/a|b.md", 3, "img/<x>.png"): "A chart | with a pipe"}, mode="suggest")
    row = text.splitlines()[-1]
    assert row == (
        r"| docs/a\|b.md | 3 | <code>img/&lt;x>.png</code> | ALT101 Markdown image has no alt text | A chart \| with a pipe |"
    )


# --- the run step, executed ----------------------------------------------------------------

DOCS = {
    "docs/guide.md": "# Guide\n\nSome text.\n\n![](img/chart.png)\n\n![A red chart](img/chart.png)\n",
    "docs/page.html": '<!doctype html>\n<p>Hi</p>\n<img src="img/logo.png">\n<img src="x.png" alt="">\n',
    "docs/ok.md": "# Fine\n\n![Blue logo](img/logo.png)\n",
}


def evaluate(value: str, inputs: dict[str, str], runner_temp: str) -> str:
    """The few expressions action.yml uses in `env:`: inputs.* and runner.temp."""
    def one(match: re.Match[str]) -> str:
        expression = match.group(1)
        if expression == "runner.temp":
            return runner_temp
        return inputs[expression.removeprefix("inputs.")]

    return EXPRESSION.sub(one, value)


def run_action_step(action: dict, workspace: Path, tmp_path: Path, **overrides: str) -> tuple[int, str, str, dict[str, str], dict]:
    inputs = {name: str(spec["default"]) for name, spec in action["inputs"].items()} | overrides
    step = next(step for step in run_steps(action) if step.get("id") == "alttext")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ALTTEXT_", "GITHUB_"))}
    env |= {name: evaluate(str(value), inputs, str(tmp_path)) for name, value in step["env"].items()}
    summary_file, output_file = tmp_path / "summary.md", tmp_path / "output.txt"
    env |= {
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_STEP_SUMMARY": str(summary_file),
        "GITHUB_OUTPUT": str(output_file),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    }
    done = subprocess.run(["bash", "-c", step["run"]], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
    outputs = dict(line.split("=", 1) for line in output_file.read_text(encoding="utf-8").splitlines()) if output_file.exists() else {}
    sarif_path = Path(outputs["sarif-file"]) if "sarif-file" in outputs else None
    sarif = json.loads(sarif_path.read_text(encoding="utf-8")) if sarif_path else {}
    text = summary_file.read_text(encoding="utf-8") if summary_file.exists() else ""
    return done.returncode, done.stdout, text, outputs, sarif


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "workspace"
    for name, text in DOCS.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def test_check_reports_annotations_sarif_and_summary(action: dict, workspace: Path, tmp_path: Path) -> None:
    status, stdout, text, outputs, sarif = run_action_step(action, workspace, tmp_path, paths="docs")
    assert status == 1
    assert stdout.splitlines() == [
        (
            "::error file=docs/guide.md,line=5,col=1,endLine=5,endColumn=19,title=ALT101 markdown-alt-missing::"
            "Markdown image has no alt text (img/chart.png)"
        ),
        (
            "::error file=docs/page.html,line=3,col=1,endLine=3,endColumn=25,title=ALT001 img-alt-missing::"
            "<img> has no alt text (img/logo.png)"
        ),
    ]
    assert outputs == {"sarif-file": str(tmp_path / "alttext.sarif"), "findings": "2", "changed-files": "0"}
    results = sarif["runs"][0]["results"]
    assert [(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]) for r in results] == [
        ("ALT101", "docs/guide.md"),
        ("ALT001", "docs/page.html"),
    ]
    assert sarif["version"] == "2.1.0"
    assert "2 images need attention in 2 files." in text
    assert "| docs/guide.md | 5 | <code>img/chart.png</code> | ALT101 Markdown image has no alt text |" in text


def test_check_passes_a_clean_tree(action: dict, workspace: Path, tmp_path: Path) -> None:
    status, stdout, text, outputs, sarif = run_action_step(action, workspace, tmp_path, paths="docs/ok.md")
    assert (status, stdout, outputs["findings"]) == (0, "", "0")
    assert sarif["runs"][0]["results"] == []
    assert "Every image has a text alternative." in text


def test_fail_on_findings_false_reports_but_passes(action: dict, workspace: Path, tmp_path: Path) -> None:
    status, stdout, _, outputs, _ = run_action_step(action, workspace, tmp_path, paths="docs", **{"fail-on-findings": "false"})
    assert status == 0
    assert outputs["findings"] == "2"
    assert stdout.count("::error ") == 2


def test_more_than_ten_findings_point_to_the_summary(action: dict, workspace: Path, tmp_path: Path) -> None:
    (workspace / "docs" / "many.md").write_text("".join(f"![](img/{n}.png)\n\n" for n in range(12)), encoding="utf-8")
    status, stdout, _, outputs, sarif = run_action_step(action, workspace, tmp_path, paths="docs")
    assert status == 1
    assert outputs["findings"] == "14"
    assert len(sarif["runs"][0]["results"]) == 14
    assert stdout.splitlines()[-1].startswith("::notice title=alttext::4 more findings than GitHub shows per step")


def test_input_that_is_shell_syntax_stays_a_path(action: dict, workspace: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    status, _, text, _, _ = run_action_step(action, workspace, tmp_path, paths=f"docs/ok.md\n$(touch {marker})")
    assert not marker.exists()
    assert status == 2
    assert "no such file or folder" in text


def test_bad_mode_fails_with_a_clear_error(action: dict, workspace: Path, tmp_path: Path) -> None:
    status, stdout, _, outputs, _ = run_action_step(action, workspace, tmp_path, mode="rewrite")
    assert status == 2
    assert stdout.startswith("::error title=alttext::input 'mode' is 'rewrite'")
    assert outputs == {}


# --- suggest and fix, with the tiny captioning model --------------------------------------


@pytest.fixture
def captioned_workspace(workspace: Path, tiny_model_dir: Path) -> tuple[Path, dict[str, str]]:
    """The workspace with its images, and what the captioner says for each."""
    import shutil

    from alttext.integration import caption_images

    images = REPO_ROOT / "tests" / "data" / "sites" / "mkdocs" / "docs" / "img"
    shutil.copytree(images, workspace / "docs" / "img")
    paths = [str(workspace / "docs" / "img" / name) for name in ("chart.png", "logo.png")]
    found, problems = caption_images(paths, model=str(tiny_model_dir), device="cpu", cache=str(workspace.parent / "expected-cache"))
    assert not problems
    return workspace, {Path(path).name: alt for path, alt in found.items()}


def test_suggest_shows_proposals_and_writes_nothing(
    action: dict, captioned_workspace: tuple[Path, dict[str, str]], tiny_model_dir: Path, tmp_path: Path
) -> None:
    workspace, captions = captioned_workspace
    before = {name: (workspace / name).read_bytes() for name in DOCS}
    status, stdout, text, outputs, sarif = run_action_step(
        action, workspace, tmp_path, paths="docs", mode="suggest", model=str(tiny_model_dir)
    )
    assert status == 1
    assert {name: (workspace / name).read_bytes() for name in DOCS} == before
    assert outputs["changed-files"] == "0"
    assert f"proposed alt text: {captions['chart.png']!r}" in stdout.splitlines()[0]
    messages = [result["message"]["text"] for result in sarif["runs"][0]["results"]]
    assert messages[1] == f"<img> has no alt text; proposed alt text: {captions['logo.png']!r} (img/logo.png)"
    assert "| Proposed alt text |" in text
    assert text.splitlines()[-1].endswith(f"| {captions['logo.png']} |")


def test_suggest_with_the_onnx_backend_gives_the_torch_proposals(
    action: dict, captioned_workspace: tuple[Path, dict[str, str]], tiny_onnx_dir: Path, tmp_path: Path
) -> None:
    """The backend input: an ONNX export of the same model proposes the same alt text."""
    workspace, captions = captioned_workspace
    status, stdout, _, outputs, sarif = run_action_step(
        action, workspace, tmp_path, paths="docs", mode="suggest", model=str(tiny_onnx_dir), backend="onnx"
    )
    assert status == 1, stdout
    assert outputs["changed-files"] == "0"
    messages = [result["message"]["text"] for result in sarif["runs"][0]["results"]]
    assert messages[1] == f"<img> has no alt text; proposed alt text: {captions['logo.png']!r} (img/logo.png)"


def test_the_onnx_backend_installs_without_torch(action: dict) -> None:
    install = next(step for step in run_steps(action) if step.get("name") == "Install alttext")
    script = install["run"]
    onnx_branch = script.split('elif [ "$ALTTEXT_BACKEND" = "onnx" ]; then', 1)[1].split("else", 1)[0]
    assert '"$root[caption-onnx]"' in onnx_branch and "torch" not in onnx_branch.replace("PyTorch", "")
    assert install["env"]["ALTTEXT_BACKEND"] == "${{ inputs.backend }}"


def test_fix_writes_proposals_and_passes_when_nothing_is_left(
    action: dict, captioned_workspace: tuple[Path, dict[str, str]], tiny_model_dir: Path, tmp_path: Path
) -> None:
    from alttext.fix.slots import escape_html_attribute, escape_markdown

    workspace, captions = captioned_workspace
    status, _, text, outputs, _ = run_action_step(action, workspace, tmp_path, paths="docs", mode="fix", model=str(tiny_model_dir))
    assert status == 0, text
    assert outputs == {"sarif-file": str(tmp_path / "alttext.sarif"), "findings": "2", "changed-files": "2"}
    guide = (workspace / "docs" / "guide.md").read_text(encoding="utf-8")
    page = (workspace / "docs" / "page.html").read_text(encoding="utf-8")
    assert guide == DOCS["docs/guide.md"].replace("![](img/chart.png)", f"![{escape_markdown(captions['chart.png'])}](img/chart.png)")
    assert page == DOCS["docs/page.html"].replace('<img src="img/logo.png">', f'<img alt="{escape_html_attribute(captions["logo.png"])}" src="img/logo.png">')
    assert "alt text written into 2 files; 0 left to fix by hand." in text


def test_a_bad_project_config_fails_with_its_message(action: dict, workspace: Path, tmp_path: Path) -> None:
    (workspace / "pyproject.toml").write_text("[tool.alttext]\nbogus = 1\n", encoding="utf-8")
    status, stdout, _, outputs, _ = run_action_step(action, workspace, tmp_path, paths="docs")
    assert status == 2
    assert stdout.startswith("::error title=alttext::") and "unknown key bogus" in stdout
    assert outputs == {}


# --- one configuration, file names with `#`, and what fix mode reports --------------------------


def test_the_workspace_table_is_read(action: dict, workspace: Path, tmp_path: Path) -> None:
    (workspace / "pyproject.toml").write_text('[tool.alttext]\nignore = ["ALT001"]\n', encoding="utf-8")
    status, stdout, _, outputs, _ = run_action_step(action, workspace, tmp_path, paths="docs")
    assert status == 1
    assert outputs["findings"] == "1"
    assert "title=ALT101" in stdout and "ALT001" not in stdout


def test_a_hash_in_paths_is_part_of_the_file_name(action: dict, workspace: Path, tmp_path: Path) -> None:
    (workspace / "docs" / "c#.md").write_text("![](img/x.png)\n", encoding="utf-8")
    status, stdout, _, outputs, _ = run_action_step(action, workspace, tmp_path, paths="docs/c#.md")
    assert (status, outputs["findings"]) == (1, "1")
    assert stdout.startswith("::error file=docs/c#.md,line=1,")


@pytest.mark.parametrize(("weak_input", "expected_status"), [("", 0), ("true", 1)], ids=["weak-is-a-warning", "weak-fails"])
def test_fix_notices_what_it_wrote_and_fails_only_on_what_is_left(
    action: dict, captioned_workspace: tuple[Path, dict[str, str]], tiny_model_dir: Path, tmp_path: Path,
    weak_input: str, expected_status: int,
) -> None:
    workspace, captions = captioned_workspace
    (workspace / "pyproject.toml").write_text(f'[tool.alttext]\nmodel = "{tiny_model_dir}"\n', encoding="utf-8")
    (workspace / "docs" / "weak.md").write_text("![image](img/logo.png)\n", encoding="utf-8")
    status, stdout, text, outputs, sarif = run_action_step(
        action, workspace, tmp_path, paths="docs", mode="fix", **{"fail-on-weak-alt": weak_input}
    )
    assert status == expected_status, stdout
    lines = stdout.splitlines()
    assert [line.split(" ", 1)[0] for line in lines] == ["::notice", "::notice", "::warning"]
    assert lines[0].startswith("::notice file=docs/guide.md,line=5,col=1,title=ALT101 alt text written::")
    assert f"alt text written: {captions['chart.png']!r} (img/chart.png)" in lines[0]
    assert "title=ALT302" in lines[2]
    assert [result["ruleId"] for result in sarif["runs"][0]["results"]] == ["ALT302"]
    assert outputs["changed-files"] == "2"
    assert "0 left to fix by hand" in text
