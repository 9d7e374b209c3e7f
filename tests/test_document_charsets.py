"""Declared charsets are read with the WHATWG Encoding Standard's label table, as browsers do."""

from __future__ import annotations

import pytest
import webencodings
from hypothesis import given, settings
from hypothesis import strategies as st
from webencodings.labels import LABELS

from alttext.document import DocumentError, decode


@pytest.mark.parametrize(
    ("label", "body", "text"),
    [
        pytest.param("ascii", b"caf\xe9 \x80", "café €", id="ascii-is-windows-1252"),
        pytest.param("US-ASCII", b"caf\xe9", "café", id="us-ascii-any-case"),
        pytest.param("iso-8859-1", b"\x93quoted\x94", "\u201cquoted\u201d", id="latin1-label-is-windows-1252"),
        pytest.param("unicode", b"caf\xc3\xa9", "café", id="unicode-is-utf16-so-utf8"),
        pytest.param("utf-16be", b"caf\xc3\xa9", "café", id="utf16-declared-in-ascii-is-utf8"),
        pytest.param("x-user-defined", b"caf\xe9", "café", id="x-user-defined-is-windows-1252"),
        pytest.param("gb2312", "中文".encode("gbk"), "中文", id="gb2312-is-gbk"),
        pytest.param("latin-1", b"caf\xe9", "café", id="python-name-still-read"),
    ],
)
def test_declared_charset_labels(label: str, body: bytes, text: str) -> None:
    page = f'<meta charset="{label}"><p>'.encode("ascii") + body
    assert decode(page, "p.html", html=True).text.endswith(text)


def test_replacement_labels_are_refused_with_a_reason() -> None:
    with pytest.raises(DocumentError, match="iso-2022-kr.*browsers do not decode"):
        decode(b'<meta charset="iso-2022-kr"><p>x', "p.html", html=True)


@settings(max_examples=200, deadline=None)
@given(label=st.sampled_from(sorted(LABELS)), body=st.binary(max_size=40).filter(lambda b: b"\0" not in b))
def test_every_label_decodes_as_the_encoding_standard_says(label: str, body: bytes) -> None:
    """Each WHATWG label gives the text its encoding gives (UTF-16 labels in an ASCII-readable
    <meta> mean UTF-8), or a clear error; never a LookupError or another encoding."""
    expected_name = webencodings.lookup(label).name
    page = f'<meta charset="{label}">'.encode("ascii") + body
    if expected_name == "replacement":
        with pytest.raises(DocumentError):
            decode(page, "p.html", html=True)
        return
    name = {"utf-16le": "utf-8", "utf-16be": "utf-8", "x-user-defined": "windows-1252"}.get(expected_name, expected_name)
    try:
        expected = webencodings.decode(page, webencodings.lookup(name), errors="strict")[0]
    except UnicodeDecodeError:
        with pytest.raises(DocumentError, match="not valid"):
            decode(page, "p.html", html=True)
        return
    assert decode(page, "p.html", html=True).text == expected
