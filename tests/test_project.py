"""[tool.alttext] with a host's options on top, key by key: what every integration reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from alttext.config import ConfigError
from alttext.project import fix_settings, from_text, host_keys, option_name, project_config

# For each key: a value in the table, a value the host gives, and how to read it back.
CASES: dict[str, tuple[Any, Any]] = {
    "include": (["docs/**"], ["guide/*"]),
    "exclude": (["docs/drafts"], ["drafts/*"]),
    "select": (["ALT1"], ["ALT001"]),
    "ignore": (["ALT304"], ["ALT302"]),
    "max-alt-length": (80, 100),
    "model": ("org/table-model", "org/host-model"),
    "device": ("cpu", "cuda"),
    "dtype": ("fp32", "bf16"),
    "quantize": ("int8", "none"),
    "batch-size": (8, 16),
    "num-beams": (2, 3),
    "max-length": (12, 20),
    "no-repeat-ngram-size": (2, 0),
    "final-period": (False, True),
    "caption-max-length": (60, 90),
    "cache": ("table-cache", "host-cache"),
    "cache-dir": ("table-cache-dir", "host-cache-dir"),
    "fetch-remote": (False, True),
    "decorative": (["docs/img/rule.png"], ["icons/*"]),
    "ocr": ("off", "all"),
    "language": ("de", "fr"),
    "non-english": ("warn", "review"),
    "backend": ("torch", "onnx"),
    "prompt-template": ("table-prompt.txt", "host-prompt.txt"),
    "api-base": ("http://127.0.0.1:8000/v1", "http://127.0.0.1:9000/v1"),
    "api-key-env": ("TABLE_KEY", "HOST_KEY"),
    "request-timeout": (30, 12.5),
    "concurrency": (2, 8),
    "max-retries": (1, 0),
}


def read_back(tmp_path: Path, key: str, host_value: Any) -> Any:
    host = tmp_path / "docs"
    config = project_config(str(tmp_path), {key: host_value}, host_root=str(host), host="test")
    settings = fix_settings(config, [str(host)], root=str(tmp_path), site_root=None)
    options = settings.captioner_options
    return {
        "include": config.include, "exclude": config.exclude, "select": config.select, "ignore": config.ignore,
        "max-alt-length": config.max_alt_length, "fetch-remote": settings.fetch_remote,
        "decorative": config.decorative, "non-english": settings.non_english,
        "language": settings.language.value if settings.language else None,
        "cache": options.get("cache"), "cache-dir": options.get("cache"),
    }.get(key, options.get(key.replace("-", "_")))


def test_every_key_is_covered() -> None:
    assert set(host_keys()) <= set(CASES)


@pytest.mark.parametrize("key", sorted(CASES))
def test_host_option_replaces_the_table_key(tmp_path: Path, key: str) -> None:
    table_value, host_value = CASES[key]
    (tmp_path / "docs").mkdir()
    value = repr(table_value).replace("'", '"').replace("False", "false").replace("True", "true")
    (tmp_path / "pyproject.toml").write_text(f"[tool.alttext]\n{key} = {value}\n", encoding="utf-8")
    from_table = read_back(tmp_path, key, None)
    from_host = read_back(tmp_path, key, host_value)
    assert from_table != from_host
    expected = {
        "include": ("docs/guide/*",), "exclude": ("docs/drafts/*",), "decorative": ("docs/icons/*",), "select": {"ALT001"},
        "ignore": {"ALT302"}, "cache": str(tmp_path / "docs" / "host-cache"),
        "cache-dir": str(tmp_path / "docs" / "host-cache-dir"),
        "prompt-template": str(tmp_path / "docs" / "host-prompt.txt"),
    }.get(key, host_value)
    assert from_host == expected


def test_host_globs_start_at_its_folder_and_plain_names_match_anywhere(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.alttext]\n", encoding="utf-8")
    config = project_config(str(tmp_path), {"exclude": ["drafts/*", "*.min.html"]}, host_root=str(tmp_path / "docs"),
                            host="test")
    assert config.exclude == ("docs/drafts/*", "*.min.html")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param({"num-beams": "four"}, "test option alttext_num_beams: expected int, got 'four'", id="type"),
        pytest.param({"final_period": 1}, "test option alttext_final_period: expected bool, got 1", id="bool"),
        pytest.param({"select": ["ALT999"]}, "unknown rule 'ALT999'", id="rule"),
    ],
)
def test_bad_host_values_name_the_option(tmp_path: Path, options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        project_config(str(tmp_path), options, host_root=str(tmp_path), host="test", prefix="alttext_")


def test_text_values_are_read_as_the_keys_type() -> None:
    assert [from_text("num-beams", "3"), from_text("final-period", "true"), from_text("model", "7")] == [3, True, "7"]


def test_option_names() -> None:
    assert option_name("max-alt-length") == "max_alt_length"
    assert option_name("num-beams", "alttext_") == "alttext_num_beams"
