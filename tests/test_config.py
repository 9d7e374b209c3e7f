from __future__ import annotations

import os
from pathlib import Path

import pytest

from alttext.cli import main
from alttext.config import (
    DEFAULT_MAX_ALT_LENGTH,
    Config,
    ConfigError,
    find_pyproject,
    load_config,
    resolve_rules,
    with_overrides,
)
from alttext.rules import RULES


def write_pyproject(folder: Path, body: str) -> Path:
    path = folder / "pyproject.toml"
    path.write_text(body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("selectors", "expected"),
    [
        pytest.param(["ALT001"], {"ALT001"}, id="id"),
        pytest.param(["alt001"], {"ALT001"}, id="id-any-case"),
        pytest.param(["alt-is-filename"], {"ALT301"}, id="name"),
        pytest.param(["ALT3"], {"ALT301", "ALT302", "ALT303", "ALT304"}, id="prefix"),
        pytest.param(["ALT00"], {"ALT001", "ALT002", "ALT003", "ALT004", "ALT005", "ALT006"}, id="html-prefix"),
        pytest.param(["ALL"], set(RULES), id="all"),
        pytest.param(["ALT101", " ALT201 ", ""], {"ALT101", "ALT201"}, id="several-trimmed"),
    ],
)
def test_resolve_rules(selectors: list[str], expected: set[str]) -> None:
    assert resolve_rules(selectors, "here") == expected


@pytest.mark.parametrize(
    "selector",
    [
        pytest.param("ALT999", id="unknown-id"),
        pytest.param("E501", id="other-tool"),
        pytest.param("alt-missing", id="unknown-name"),
    ],
)
def test_resolve_rules_rejects_unknown(selector: str) -> None:
    with pytest.raises(ConfigError, match=f"here: unknown rule '{selector}'"):
        resolve_rules([selector], "here")


def test_load_config_reads_every_key(tmp_path: Path) -> None:
    path = write_pyproject(
        tmp_path,
        """
[project]
name = "docs"

[tool.alttext]
include = ["docs/**"]
exclude = ["docs/drafts", "*.min.html"]
select = ["ALT0", "markdown-alt-missing"]
ignore = ["ALT002"]
max-alt-length = 80
site-root = "public"
model = "nlpconnect/vit-gpt2-image-captioning"
batch_size = 8
""",
    )
    config = load_config(str(path))
    assert config.include == ("docs/**",)
    assert config.exclude == ("docs/drafts", "*.min.html")
    assert config.rules == {"ALT001", "ALT003", "ALT004", "ALT005", "ALT006", "ALT101"}
    assert config.max_alt_length == 80
    assert config.site_root == str(tmp_path / "public")
    assert config.root == str(tmp_path)
    assert config.source == str(path)
    # max-alt-length is passed on too: the captioner composes alt text within the same limit.
    assert config.extra == {"model": "nlpconnect/vit-gpt2-image-captioning", "batch-size": 8, "max-alt-length": 80}


def test_empty_table_gives_defaults(tmp_path: Path) -> None:
    config = load_config(str(write_pyproject(tmp_path, "[tool.alttext]\n")))
    assert config.rules == set(RULES)
    assert config.max_alt_length == DEFAULT_MAX_ALT_LENGTH
    assert config.site_root is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param("[tool.alttext]\nmax-alt-lenght = 3\n", r"unknown key max-alt-lenght \(known keys: ", id="unknown-key"),
        pytest.param("[tool.alttext]\nfoo = 1\nbar = 2\n", "unknown keys bar, foo", id="unknown-keys"),
        pytest.param("[tool.alttext]\nmax-alt-length = 0\n", "max-alt-length: expected a positive whole number", id="zero-length"),
        pytest.param("[tool.alttext]\nmax-alt-length = true\n", "max-alt-length: expected a positive whole number", id="bool-length"),
        pytest.param('[tool.alttext]\nmax-alt-length = "80"\n', "max-alt-length: expected a positive whole number", id="string-length"),
        pytest.param("[tool.alttext]\nexclude = [1, 2]\n", "exclude: expected a list of strings", id="numbers-as-globs"),
        pytest.param('[tool.alttext]\nselect = ["ALT777"]\n', "select: unknown rule 'ALT777'", id="unknown-rule"),
        pytest.param('[tool.alttext]\nsite-root = ""\n', "site-root: expected a folder path", id="empty-site-root"),
        pytest.param("[tool.alttext\nx = 1\n", "not valid TOML", id="bad-toml"),
        pytest.param("[tool]\nalttext = 3\n", r"\[tool.alttext\] must be a table", id="not-a-table"),
    ],
)
def test_load_config_errors_name_the_file(tmp_path: Path, body: str, message: str) -> None:
    path = write_pyproject(tmp_path, body)
    with pytest.raises(ConfigError, match=message) as raised:
        load_config(str(path))
    assert str(raised.value).startswith(str(path))


def test_find_pyproject_walks_up_to_the_one_with_an_alttext_table(tmp_path: Path) -> None:
    write_pyproject(tmp_path, "[tool.alttext]\nmax-alt-length = 50\n")
    inner = tmp_path / "docs" / "guide"
    inner.mkdir(parents=True)
    write_pyproject(tmp_path / "docs", "[project]\nname = 'no-alttext-here'\n")
    assert find_pyproject(str(inner)) == str(tmp_path / "pyproject.toml")
    assert find_pyproject(str(inner / "page.md")) == str(tmp_path / "pyproject.toml")


def test_find_pyproject_none(tmp_path: Path) -> None:
    assert find_pyproject(str(tmp_path)) is None or not str(find_pyproject(str(tmp_path))).startswith(str(tmp_path))


@pytest.mark.parametrize(
    ("overrides", "rules", "max_length", "exclude"),
    [
        pytest.param({}, {"ALT101", "ALT301"}, 125, ("a",), id="none"),
        pytest.param({"select": ["ALT2,ALT304"]}, {"ALT201", "ALT304"}, 125, ("a",), id="select-replaces"),
        pytest.param({"ignore": ["ALT301"]}, {"ALT101"}, 125, ("a",), id="ignore-adds"),
        pytest.param({"max_alt_length": 40}, {"ALT101", "ALT301"}, 40, ("a",), id="max-length"),
        pytest.param({"exclude": ["b", "c"]}, {"ALT101", "ALT301"}, 125, ("a", "b", "c"), id="exclude-adds"),
    ],
)
def test_with_overrides(overrides: dict, rules: set[str], max_length: int, exclude: tuple[str, ...]) -> None:
    base = Config(select=frozenset({"ALT101", "ALT301", "ALT302"}), ignore=frozenset({"ALT302"}), exclude=("a",))
    config = with_overrides(base, **overrides)
    assert config.rules == rules
    assert config.max_alt_length == max_length
    assert config.exclude == exclude


def test_with_overrides_rejects_bad_values() -> None:
    with pytest.raises(ConfigError, match="--max-alt-length"):
        with_overrides(Config(), max_alt_length=0)
    with pytest.raises(ConfigError, match="--select: unknown rule 'nope'"):
        with_overrides(Config(), select=["nope"])


# ---- through main()

PAGE = "![IMG_0001.jpg](a.png)\n\n![](b.png)\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "page.md").write_text(PAGE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    ("table", "argv", "rules"),
    [
        pytest.param("", [], ["ALT301", "ALT101"], id="defaults"),
        pytest.param('select = ["ALT1"]', [], ["ALT101"], id="config-select"),
        pytest.param('ignore = ["alt-is-filename"]', [], ["ALT101"], id="config-ignore-by-name"),
        pytest.param('select = ["ALT1"]', ["--select", "ALT3"], ["ALT301"], id="flag-overrides-config"),
        pytest.param('ignore = ["ALT101"]', ["--ignore", "ALT301"], [], id="flag-ignore-adds"),
        pytest.param('exclude = ["docs/page.md"]', [], [], id="config-exclude"),
    ],
)
def test_main_uses_config(project: Path, capsys: pytest.CaptureFixture[str], table: str, argv: list[str], rules: list[str]) -> None:
    write_pyproject(project, f"[tool.alttext]\n{table}\n")
    code = main(["check", "--format", "json", *argv, "docs"])
    import json

    found = [finding["rule"] for finding in json.loads(capsys.readouterr().out)]
    assert found == rules
    assert code == (1 if rules else 0)


def test_main_config_found_from_the_first_path(project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    write_pyproject(project, '[tool.alttext]\nselect = ["ALT101"]\n')
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
    assert main(["check", str(project / "docs")]) == 1
    assert "ALT301" not in capsys.readouterr().out


def test_main_unknown_key_exits_2_naming_the_file(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_pyproject(project, "[tool.alttext]\nmax_alt_len = 3\n")
    assert main(["check", "docs"]) == 2
    error = capsys.readouterr().err
    assert f"alttext: error: {path}: [tool.alttext]: unknown key max_alt_len" in error


def test_main_explicit_config(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = project / "other"
    other.mkdir()
    write_pyproject(project, '[tool.alttext]\nselect = ["ALT3"]\n')
    config = write_pyproject(other, '[tool.alttext]\nselect = ["ALT101"]\n')
    assert main(["check", "--config", str(config), "docs"]) == 1
    out = capsys.readouterr().out
    assert "ALT101" in out and "ALT301" not in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["--config", "missing.toml"], "--config missing.toml: no such file", id="missing-config"),
        pytest.param(["--select", "ALT9"], "--select: unknown rule 'ALT9'", id="bad-select"),
        pytest.param(["--max-alt-length", "0"], "--max-alt-length: expected a positive whole number", id="bad-length"),
        pytest.param(["--jobs", "0"], "--jobs: expected a positive whole number", id="bad-jobs"),
    ],
)
def test_main_usage_errors_exit_2(project: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    assert main(["check", *argv, "docs"]) == 2
    assert message in capsys.readouterr().err


def test_main_site_root_is_relative_to_the_config(project: Path) -> None:
    write_pyproject(project, '[tool.alttext]\nsite-root = "site"\n')
    assert load_config(str(project / "pyproject.toml")).site_root == os.path.join(str(project), "site")
