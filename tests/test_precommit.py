"""The pre-commit hooks, run by a real `pre-commit try-repo` against this repository.

try-repo installs the hook from a temporary commit of this working tree into a
fresh virtual environment, exactly as a user's pre-commit would. The fix hook's
environment installs the caption extra (torch, transformers, pillow): the
test pins every package to the version this test environment runs, through
PIP_CONSTRAINT, so pip takes the same (CPU) builds instead of whatever is newest.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
IMAGE = REPO_ROOT / "tests" / "data" / "sites" / "mkdocs" / "docs" / "img" / "chart.png"
DOC = "# Notes\n\nSome text.\n\n![](chart.png)\n\n![A logo](chart.png)\n"

pytestmark = pytest.mark.slow


def pre_commit(repo: Path, *args: str, env: dict[str, str] | None = None, timeout: int = 300) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-m", "pre_commit", *args],
        cwd=repo, capture_output=True, text=True, timeout=timeout, env=env, check=False,
    )
    return done.returncode, done.stdout + done.stderr


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    repo = tmp_path / "project"
    repo.mkdir()
    git(repo, "init", "-q")
    git(repo, "config", "user.email", "test@example.com")
    git(repo, "config", "user.name", "Test")
    (repo / "notes.md").write_text(DOC, encoding="utf-8")
    shutil.copy(IMAGE, repo / "chart.png")
    git(repo, "add", ".")
    return repo


@pytest.fixture
def hook_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ, PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"))
    env.pop("PRE_COMMIT", None)
    return env


def test_manifest_declares_the_hooks() -> None:
    hooks = {hook["id"]: hook for hook in yaml.safe_load((REPO_ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"alttext-check", "alttext-fix", "alttext-fix-onnx"}
    for hook in hooks.values():
        assert hook["language"] == "python"
        assert hook["types_or"] == ["html", "markdown", "rst"]
    assert hooks["alttext-check"]["entry"] == "alttext check"
    assert "additional_dependencies" not in hooks["alttext-check"]  # light: no torch
    assert hooks["alttext-fix"]["entry"] == "alttext fix"
    assert hooks["alttext-fix"]["require_serial"] is True
    assert hooks["alttext-fix"]["additional_dependencies"] == [".[caption]"]
    assert hooks["alttext-fix-onnx"]["entry"] == "alttext fix --backend onnx"
    assert hooks["alttext-fix-onnx"]["additional_dependencies"] == [".[caption-onnx]"]


def test_check_hook_fails_naming_file_and_line(project: Path, hook_env: dict[str, str]) -> None:
    status, output = pre_commit(project, "try-repo", str(REPO_ROOT), "alttext-check", "--files", "notes.md", env=hook_env)
    assert status == 1, output
    assert "notes.md:5:1: ALT101 Markdown image has no alt text (chart.png)" in output
    assert "- hook id: alttext-check" in output


def test_check_hook_passes_files_with_alt_text(project: Path, hook_env: dict[str, str]) -> None:
    (project / "notes.md").write_text("# Notes\n\n![A red bar](chart.png)\n", encoding="utf-8")
    git(project, "add", ".")
    status, output = pre_commit(project, "try-repo", str(REPO_ROOT), "alttext-check", "--all-files", env=hook_env)
    assert status == 0, output
    assert "Passed" in output


def pinned_versions(path: Path) -> Path:
    """Every installed distribution at its installed version, for PIP_CONSTRAINT."""
    frozen = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--exclude-editable"], capture_output=True, text=True, check=True
    ).stdout
    lines = [line for line in frozen.splitlines() if line and not line.startswith(("-e", "alttext"))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def use_model(project: Path, model: Path, cache: Path) -> None:
    """Point the project's [tool.alttext] at `model`, for the CLI and the hooks alike."""
    (project / "pyproject.toml").write_text(
        f'[tool.alttext]\nmodel = "{model.as_posix()}"\ncache = "{cache.as_posix()}"\n', encoding="utf-8")
    git(project, "add", ".")


def fix_with(project: Path, hook: str, env: dict[str, str]) -> str:
    """Run `hook` on notes.md; it must write alt text for the first image only, and fail for it."""
    status, output = pre_commit(project, "try-repo", str(REPO_ROOT), hook, "--files", "notes.md", env=env, timeout=1200)
    assert status == 1, output  # files were changed
    assert "- files were modified by this hook" in output
    fixed = (project / "notes.md").read_text(encoding="utf-8")
    first_image = fixed.splitlines()[4]
    assert first_image.startswith("![") and first_image.endswith("](chart.png)") and first_image != "![](chart.png)"
    assert fixed.replace(first_image, "![](chart.png)") == DOC  # nothing else changed
    return fixed


def test_fix_hook_writes_alt_text_then_passes(
    project: Path, hook_env: dict[str, str], tiny_model_dir: Path, tmp_path: Path
) -> None:
    use_model(project, tiny_model_dir, tmp_path / "cache")
    # PIP_NO_COMPILE: byte-compiling torch's thousands of modules would double the install time.
    env = dict(hook_env, PIP_CONSTRAINT=str(pinned_versions(tmp_path / "constraints.txt")), HF_HUB_OFFLINE="1",
               PIP_NO_COMPILE="1")
    fixed = fix_with(project, "alttext-fix", env)

    # The second run: check and fix both pass on the fixed file.
    git(project, "add", ".")
    for hook in ("alttext-check", "alttext-fix"):
        status, output = pre_commit(project, "try-repo", str(REPO_ROOT), hook, "--files", "notes.md", env=env,
                                    timeout=1200)
        assert status == 0 and "Passed" in output, output
    assert (project / "notes.md").read_text(encoding="utf-8") == fixed


def test_onnx_fix_hook_writes_alt_text_without_torch(
    project: Path, hook_env: dict[str, str], tiny_onnx_dir: Path, tmp_path: Path
) -> None:
    use_model(project, tiny_onnx_dir, tmp_path / "cache")
    # The hook's environment must install without PyTorch: a constraint no torch version meets.
    constraints = pinned_versions(tmp_path / "constraints.txt")
    pins = [line for line in constraints.read_text(encoding="utf-8").splitlines() if not line.startswith("torch==")]
    constraints.write_text("\n".join([*pins, "torch<0"]) + "\n", encoding="utf-8")
    fix_with(project, "alttext-fix-onnx", dict(hook_env, PIP_CONSTRAINT=str(constraints), HF_HUB_OFFLINE="1"))
