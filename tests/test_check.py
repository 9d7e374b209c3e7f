from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alttext import batch, document
from alttext.cli import main
from alttext.config import Config
from alttext.lint import _position_finder, check_file, check_text
from alttext.textpos import LineIndex
from tests.conftest import FIXTURES, REPO_ROOT

ALL = Config()


def rules_at(findings: list) -> list[tuple[str, int, int]]:
    return [(finding.rule, finding.line, finding.column) for finding in findings]


# ---- check_text: ImageRefs become findings with positions and messages


@pytest.mark.parametrize(
    ("syntax", "text", "expected"),
    [
        pytest.param("markdown", "# T\n\n![](cat.png)\n", [("ALT101", 3, 1)], id="md-missing"),
        pytest.param("markdown", "text ![ok](a.png) and ![](b.png)\n", [("ALT101", 1, 23)], id="md-second-on-line"),
        pytest.param("markdown", "![image](a.png)\n", [("ALT302", 1, 1)], id="md-placeholder"),
        pytest.param("markdown", "![a.png](a.png)\n", [("ALT301", 1, 1)], id="md-own-file-name"),
        pytest.param("markdown", "![Photo of a bridge](a.png)\n", [("ALT303", 1, 1)], id="md-lead-in"),
        pytest.param("markdown", "![" + "long " * 30 + "](a.png)\n", [("ALT304", 1, 1)], id="md-too-long"),
        pytest.param("markdown", "```\n![](a.png)\n```\n", [], id="md-code-is-not-an-image"),
        pytest.param("markdown", "a\r\nb\r\n![](c.png)\r\n", [("ALT101", 3, 1)], id="md-crlf-lines"),
        pytest.param("markdown", "a\rb\r![](c.png)\r", [("ALT101", 3, 1)], id="md-cr-lines"),
        pytest.param("markdown", "<img src=a.png>\n", [("ALT001", 1, 1)], id="md-raw-html"),
        pytest.param("html", '<p>\n  <img src="a.png">\n</p>', [("ALT001", 2, 3)], id="html-missing"),
        pytest.param("html", '<img src="a.png" alt="">', [], id="html-decorative"),
        pytest.param("html", '<img src="a.png" alt=" ">', [("ALT002", 1, 1)], id="html-blank"),
        pytest.param("html", '<img src="IMG_0042.JPG" alt="IMG_0042.JPG">', [("ALT301", 1, 1)], id="html-filename"),
        pytest.param("html", '<img src="a.png" alt="untitled">', [("ALT302", 1, 1)], id="html-placeholder"),
        pytest.param("html", '<input type="image" src="go.png">', [("ALT003", 1, 1)], id="html-input-image"),
        pytest.param("html", '<map><area href="/" shape="rect" coords="0,0,1,1"></map>', [("ALT004", 1, 6)], id="html-area"),
        pytest.param("html", '<svg role="img"><circle r="1"/></svg>', [("ALT005", 1, 1)], id="html-svg"),
        pytest.param("html", '<span role="img"></span>', [("ALT006", 1, 1)], id="html-role-img"),
        pytest.param("html", '<script>x = "<img src=a.png>"</script>', [], id="html-script-text"),
        pytest.param("rst", ".. image:: a.png\n", [("ALT201", 1, 1)], id="rst-image"),
        pytest.param("rst", "Text\n\n.. figure:: a.png\n\n   Caption.\n", [("ALT201", 3, 1)], id="rst-figure"),
        pytest.param("rst", ".. |x| image:: a.png\n", [("ALT201", 1, 1)], id="rst-substitution"),
        pytest.param("rst", ".. image:: a.png\n   :alt: screenshot\n", [("ALT302", 1, 1)], id="rst-placeholder"),
        pytest.param("rst", ".. image:: a.png\n   :alt: A red door\n", [], id="rst-good"),
    ],
)
def test_check_text(syntax: str, text: str, expected: list[tuple[str, int, int]]) -> None:
    findings = check_text("doc", text, syntax, ALL)
    assert rules_at(findings) == expected
    for finding in findings:
        assert finding.path == "doc"
        assert (finding.end_line, finding.end_column) > (finding.line, finding.column)


@pytest.mark.parametrize(
    ("text", "rule", "message", "src"),
    [
        pytest.param("<img src=assets/cat.png>", "ALT001", "<img> has no alt text", "assets/cat.png", id="img"),
        pytest.param("<img src=a.png alt=' '>", "ALT002", "<img> alt text is only whitespace", "a.png", id="blank"),
        pytest.param("<input type=image src=b.png>", "ALT003", '<input type="image"> has no alt text', "b.png", id="input"),
    ],
)
def test_messages(text: str, rule: str, message: str, src: str) -> None:
    [finding] = check_text("p.html", text, "html", ALL)
    assert (finding.rule, finding.message, finding.src) == (rule, message, src)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(".. image:: a.png\n", "reStructuredText image has no :alt: option", id="image"),
        pytest.param(".. figure:: a.png\n", "reStructuredText figure has no :alt: option", id="figure"),
        pytest.param(".. |a| image:: a.png\n", "reStructuredText image substitution has no :alt: option", id="substitution"),
    ],
)
def test_rst_messages_name_the_directive(text: str, message: str) -> None:
    [finding] = check_text("a.rst", text, "rst", ALL)
    assert finding.message == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("```{image} a.png\n```\n", "MyST image has no :alt: option", id="myst-image"),
        pytest.param("```{figure} a.png\n:width: 10px\n```\n", "MyST figure has no :alt: option", id="myst-figure"),
    ],
)
def test_myst_messages_name_myst(text: str, message: str) -> None:
    [finding] = check_text("a.md", text, "markdown", ALL)
    assert (finding.rule, finding.message) == ("ALT201", message)


@pytest.mark.parametrize(
    ("config", "rules"),
    [
        pytest.param(Config(), ["ALT101", "ALT302", "ALT304"], id="all"),
        pytest.param(Config(select=frozenset({"ALT101"})), ["ALT101"], id="select"),
        pytest.param(Config(ignore=frozenset({"ALT101", "ALT304"})), ["ALT302"], id="ignore"),
        pytest.param(Config(max_alt_length=500), ["ALT101", "ALT302"], id="longer-limit"),
    ],
)
def test_config_selects_rules(config: Config, rules: list[str]) -> None:
    text = "![](a.png)\n![image](b.png)\n![" + "x" * 200 + "](c.png)\n"
    assert [finding.rule for finding in check_text("a.md", text, "markdown", config)] == rules


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet="ab\n\r\u2028\x0c", max_size=60), data=st.data())
def test_positions_agree_with_the_line_index(text: str, data: st.DataObject) -> None:
    offset = data.draw(st.integers(min_value=0, max_value=len(text)))
    expected = LineIndex(text).position(offset)
    assert _position_finder(text, 1)(offset) == expected
    assert _position_finder(text, 100)(offset) == expected


# ---- check_file: reading, decoding and bad input


def test_check_file_bom_is_not_a_character(tmp_path: Path) -> None:
    path = tmp_path / "bom.md"
    path.write_bytes(b"\xef\xbb\xbf![](a.png)\n")
    assert rules_at(check_file(str(path), ALL).findings) == [("ALT101", 1, 1)]


def test_check_file_declared_latin1_html(tmp_path: Path) -> None:
    path = tmp_path / "old.html"
    path.write_bytes(b'<meta charset="iso-8859-1"><p>caf\xe9</p>\n<img src="caf\xe9.png">')
    result = check_file(str(path), ALL)
    assert result.errors == []
    assert [(f.rule, f.line, f.src) for f in result.findings] == [("ALT001", 2, "café.png")]


def test_check_file_utf16_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "wide.html"
    path.write_bytes("\ufeff<p>\n<img src=a.png>".encode("utf-16-le"))
    assert rules_at(check_file(str(path), ALL).findings) == [("ALT001", 2, 1)]


def make_bad_inputs(folder: Path) -> dict[str, str]:
    """Files that cannot be checked, with the error each must give."""
    (folder / "folder.md").mkdir()
    (folder / "binary.md").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")
    (folder / "latin1.html").write_bytes(b"<p>\n<img src=a.png alt='caf\xe9'>")
    (folder / "latin1.md").write_bytes(b"line one\nline two caf\xe9\n")
    (folder / "unknown-charset.html").write_bytes(b'<meta charset="klingon"><img src=a.png>')
    os.symlink("nowhere.md", folder / "dangling.md")
    os.symlink("loop.md", folder / "loop.md")
    return {
        "folder.md": "cannot read: Is a directory",
        "binary.md": "binary file (contains NUL bytes), not a text document",
        "latin1.html": "not valid utf-8 (byte 0xe9); save the file as UTF-8 or declare its charset",
        "latin1.md": "not valid utf-8 (byte 0xe9); save the file as UTF-8 or declare its charset",
        "unknown-charset.html": "declares unknown charset 'klingon'",
        "dangling.md": "cannot read: No such file or directory",
        "loop.md": "cannot read: Too many levels of symbolic links",
    }


def test_check_file_bad_inputs_give_errors_naming_the_file(tmp_path: Path) -> None:
    expected = make_bad_inputs(tmp_path)
    for name, message in expected.items():
        path = str(tmp_path / name)
        result = check_file(path, ALL)
        assert result.findings == []
        assert [(error.path, error.message) for error in result.errors] == [(path, message)], name


def test_check_file_error_has_the_line(tmp_path: Path) -> None:
    make_bad_inputs(tmp_path)
    [error] = check_file(str(tmp_path / "latin1.md"), ALL).errors
    assert error.line == 2
    assert str(error) == f"{tmp_path / 'latin1.md'}:2: error: not valid utf-8 (byte 0xe9); save the file as UTF-8 or declare its charset"


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True, reason="root can read a chmod 000 file")
def test_check_file_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "secret.md"
    path.write_text("![](a.png)")
    path.chmod(0)
    try:
        [error] = check_file(str(path), ALL).errors
    finally:
        path.chmod(0o644)
    assert error.message == "cannot read: Permission denied"


def test_check_file_over_the_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(document, "MAX_DOCUMENT_BYTES", 1024 * 1024)
    path = tmp_path / "huge.md"
    path.write_bytes(b"x" * (3 * 1024 * 1024))
    [error] = check_file(str(path), ALL).errors
    assert error.message == "file is 3.0 MiB, over the 1 MiB limit"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_check_file_named_pipe_is_an_error_not_a_hang(tmp_path: Path) -> None:
    path = tmp_path / "pipe.md"
    os.mkfifo(path)
    [error] = check_file(str(path), ALL).errors
    assert error.message == "not a regular file (a pipe, socket or device)"


def test_check_file_unknown_extension(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("![](a.png)")
    [error] = check_file(str(path), ALL).errors
    assert "not an HTML, Markdown or reStructuredText file" in error.message


def test_scanner_crash_is_an_error_for_that_file_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import alttext.lint

    def broken(text: str, syntax: str) -> list:
        raise IndexError("list index out of range")

    monkeypatch.setattr(alttext.lint, "find_images", broken)
    path = tmp_path / "a.md"
    path.write_text("![](a.png)")
    [error] = check_file(str(path), ALL).errors
    assert error.message == "internal error in the markdown scanner: IndexError: list index out of range"


# ---- main(): output, exit codes, stdin


def run_main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_fixtures_match_expected_output(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(REPO_ROOT)
    code, out, err = run_main(["check", "fixtures/"], capsys)
    assert out == (FIXTURES / "expected-check.txt").read_text(encoding="utf-8")
    assert code == 1
    assert err.endswith("files: 16 without alt text, 8 with weak alt text.\n")


def test_fixtures_in_parallel_match_serial(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(REPO_ROOT)
    monkeypatch.setattr(batch, "MIN_FILES_FOR_POOL", 1)
    monkeypatch.setattr(batch, "MIN_BYTES_FOR_POOL", 0)
    pools = []
    real_pool = batch._check_in_pool
    monkeypatch.setattr(batch, "_check_in_pool", lambda *args: pools.append(args[2]) or real_pool(*args))
    code, out, _ = run_main(["check", "--jobs", "2", "fixtures/"], capsys)
    assert pools == [2]
    assert out == (FIXTURES / "expected-check.txt").read_text(encoding="utf-8")
    assert code == 1


def test_many_files_in_a_pool_keep_order_and_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    for index in range(120):
        body = "![](x.png)\n" if index % 7 == 0 else "No images here.\n"
        (tmp_path / f"page-{index:03d}.md").write_text(body)
    (tmp_path / "page-050.md").write_bytes(b"\0binary")
    monkeypatch.setattr(batch, "MIN_BYTES_FOR_POOL", 0)
    pools = []
    real_pool = batch._check_in_pool
    monkeypatch.setattr(batch, "_check_in_pool", lambda *args: pools.append(args[2]) or real_pool(*args))
    serial = run_main(["check", "--jobs", "1", "."], capsys)
    pooled = run_main(["check", "--jobs", "2", "."], capsys)
    assert pools == [2]
    assert pooled == serial
    code, out, err = pooled
    assert code == 2
    assert out.splitlines()[:2] == ["page-000.md:1:1: ALT101 Markdown image has no alt text (x.png)", "page-007.md:1:1: ALT101 Markdown image has no alt text (x.png)"]
    assert len(out.splitlines()) == 18
    assert "page-050.md: error: binary file (contains NUL bytes), not a text document\n" in err


def test_a_dead_worker_share_is_checked_by_the_parent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = []
    for index in range(40):
        path = tmp_path / f"p{index:02d}.md"
        path.write_text("![](x.png)\n" * (index % 3))
        paths.append(str(path))
    parent = os.getpid()
    real_share = batch._check_share

    def share_that_dies_in_a_worker(*args: object) -> object:
        if os.getpid() != parent:
            os._exit(1)  # as if killed before it sent anything
        return real_share(*args)

    monkeypatch.setattr(batch, "_check_share", share_that_dies_in_a_worker)
    monkeypatch.setattr(batch, "MIN_BYTES_FOR_POOL", 0)
    results = batch.check_files(paths, ALL, jobs=2)
    assert [len(result.findings) for result in results] == [index % 3 for index in range(40)]


@pytest.mark.parametrize(
    ("sizes", "count", "shares"),
    [
        pytest.param([5, 5, 5, 5], 2, [[0, 2], [1, 3]], id="even"),
        pytest.param([100, 1, 1, 1, 1], 2, [[0], [1, 2, 3, 4]], id="one-big-file"),
        pytest.param([1, 2, 3], 4, [[2], [1], [0]], id="more-workers-than-files"),
        pytest.param([0, 0, 0, 0], 2, [[0, 2], [1, 3]], id="empty-files-still-spread"),
    ],
)
def test_balanced_shares(sizes: list[int], count: int, shares: list[list[int]]) -> None:
    assert batch.balanced_shares(sizes, count) == shares


@pytest.mark.parametrize(
    ("files", "code"),
    [
        pytest.param({"a.md": "![Cat](a.png)\n", "b.html": "<img src=a.png alt=''>"}, 0, id="clean"),
        pytest.param({"a.md": "![](a.png)\n"}, 1, id="findings"),
        pytest.param({"a.md": "![](a.png)\n", "b.md": b"\xff\xfe\x00"}, 2, id="error-beats-findings"),
        pytest.param({}, 0, id="no-documents"),
    ],
)
def test_exit_codes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], files: dict, code: int) -> None:
    monkeypatch.chdir(tmp_path)
    for name, body in files.items():
        (tmp_path / name).write_bytes(body if isinstance(body, bytes) else body.encode())
    assert run_main(["check"], capsys)[0] == code


def test_bad_inputs_through_main_other_files_still_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    expected = make_bad_inputs(tmp_path)
    (tmp_path / "good.md").write_text("![](cat.png)\n")
    (tmp_path / "declared.html").write_bytes(b'<meta charset="latin-1"><img src="caf\xe9.png">')
    os.symlink(".", tmp_path / "cycle")
    code, out, err = run_main(["check", "."], capsys)
    assert code == 2
    assert out.splitlines() == [
        "declared.html:1:25: ALT001 <img> has no alt text (café.png)",
        "good.md:1:1: ALT101 Markdown image has no alt text (cat.png)",
    ]
    errors = err.splitlines()[:-1]
    for name, message in expected.items():
        if name == "folder.md":
            continue  # a folder is walked, not read
        where = f"{name}:2" if name.startswith("latin1") else name
        assert f"{where}: error: {message}" in errors
    assert "cycle: error: symbolic link loop: this folder links back to a folder above it" in errors
    assert err.splitlines()[-1] == "2 problems in 2 of 2 files: 2 without alt text, 0 with weak alt text. 7 paths could not be checked."


def test_directory_named_like_a_document_given_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "odd.md").mkdir()
    (tmp_path / "odd.md" / "inner.md").write_text("![](a.png)\n")
    code, out, _ = run_main(["check", "odd.md"], capsys)
    assert (code, out) == (1, "odd.md/inner.md:1:1: ALT101 Markdown image has no alt text (a.png)\n")


def test_missing_path_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.md").write_text("![](a.png)\n")
    code, out, err = run_main(["check", "a.md", "missing/"], capsys)
    assert code == 2
    assert out.startswith("a.md:1:1: ALT101")
    assert "missing/: error: no such file or folder" in err


def fake_stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))


@pytest.mark.parametrize(
    ("argv", "data", "code", "out"),
    [
        pytest.param(["-", "--stdin-filename", "docs/x.md"], b"\n![](a.png)\n", 1, "docs/x.md:2:1: ALT101 Markdown image has no alt text (a.png)\n", id="markdown"),
        pytest.param(["--stdin-filename", "page.html"], b"<img src=a.png>", 1, "page.html:1:1: ALT001 <img> has no alt text (a.png)\n", id="no-dash-needed"),
        pytest.param(["-", "--stdin-filename", "a.rst"], b".. image:: a.png\n   :alt: A door\n", 0, "", id="clean-rst"),
        pytest.param(["-", "--stdin-filename", "a.html"], b'<meta charset="latin-1"><img alt="caf\xe9">', 0, "", id="declared-charset"),
    ],
)
def test_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str], data: bytes, code: int, out: str) -> None:
    fake_stdin(monkeypatch, data)
    assert run_main(["check", *argv], capsys)[:2] == (code, out)


@pytest.mark.parametrize(
    ("argv", "data", "error"),
    [
        pytest.param(["-"], b"", "alttext: error: reading stdin (-) needs --stdin-filename NAME", id="no-name"),
        pytest.param(["-", "--stdin-filename", "a.txt"], b"", "a.txt: error: --stdin-filename must end in", id="unknown-syntax"),
        pytest.param(["-", "--stdin-filename", "a.md"], b"\xff\xff", "a.md:1: error: not valid utf-8", id="undecodable"),
    ],
)
def test_stdin_errors(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str], data: bytes, error: str) -> None:
    fake_stdin(monkeypatch, data)
    code, _, err = run_main(["check", *argv], capsys)
    assert code == 2
    assert error in err


@pytest.mark.parametrize("fmt", ["text", "json", "github", "sarif"])
def test_output_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.md").write_text("![](a.png)\n")
    code, out, err = run_main(["check", "--format", fmt, "--output", "report.out", "a.md"], capsys)
    assert (code, out) == (1, "")
    report = (tmp_path / "report.out").read_text()
    assert "ALT101" in report
    if fmt in ("json", "sarif"):
        json.loads(report)
    assert os.listdir(tmp_path) == sorted(["a.md", "report.out"]) or set(os.listdir(tmp_path)) == {"a.md", "report.out"}
    assert err == "1 problem in 1 of 1 file: 1 without alt text, 0 with weak alt text.\n"


def test_output_file_that_cannot_be_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.md").write_text("![](a.png)\n")
    code, out, err = run_main(["check", "--output", "no/such/folder/report.txt", "a.md"], capsys)
    assert (code, out) == (2, "")
    assert "alttext: error: cannot write no/such/folder/report.txt: No such file or directory" in err
    assert os.listdir(tmp_path) == ["a.md"]


def test_json_format_through_main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(REPO_ROOT)
    code, out, _ = run_main(["check", "--format", "json", "--select", "ALT2", "fixtures/docs/api.rst"], capsys)
    assert code == 1
    assert [(f["line"], f["column"], f["src"]) for f in json.loads(out)] == [
        (4, 1, "../images/logo.svg"),
        (15, 1, "../images/downloads-chart.webp"),
        (24, 1, "../images/cat.png"),
    ]


def test_max_alt_length_flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.md").write_text("![A tabby cat asleep on a red sofa](a.png)\n")
    assert run_main(["check", "a.md"], capsys)[0] == 0
    code, out, _ = run_main(["check", "--max-alt-length", "10", "a.md"], capsys)
    assert code == 1
    assert "ALT304 alt text is 32 characters, over the limit of 10" in out


def test_nothing_to_check_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("![](a.png)")
    assert run_main(["check"], capsys) == (0, "", "No HTML, Markdown or reStructuredText files found.\n")


def test_clean_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.md").write_text("No images.\n")
    assert run_main(["check"], capsys) == (0, "", "No problems in 1 file.\n")


def test_check_never_imports_heavy_libraries() -> None:
    code = (
        "import sys\n"
        "from alttext.cli import main\n"
        "code = main(['check', '--format', 'sarif', 'fixtures'])\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in {'torch', 'transformers', 'PIL', 'numpy', 'bs4'})\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    assert "HEAVY []" in done.stderr, done.stderr[-2000:]


def test_one_file_imports_nothing_it_does_not_need(tmp_path: Path) -> None:
    """`-X importtime` lists every module `check` imports for one file: no model, no image
    library, no process pool, no TOML parser when there is no config."""
    (tmp_path / "page.md").write_text("![](a.png)\n")
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "alttext", "check", "page.md"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    imported = {line.split("|")[-1].strip().split(".")[0] for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "alttext" in imported
    assert done.returncode == 1, done.stderr[-2000:]
    assert not imported & {"torch", "transformers", "PIL", "numpy", "multiprocessing", "concurrent", "pickle", "tomllib"}
