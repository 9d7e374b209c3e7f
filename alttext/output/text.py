"""`path:line:col: RULE message (src)`, one finding a line, as compilers and editors read them."""

from __future__ import annotations

from collections.abc import Sequence

from alttext.findings import Finding
from alttext.lint import FileError
from alttext.output import describe
from alttext.printable import printable


def render(findings: Sequence[Finding], errors: Sequence[FileError] = ()) -> str:
    return "".join(f"{printable(f.path)}:{f.line}:{f.column}: {f.rule} {printable(describe(f))}\n" for f in findings)
