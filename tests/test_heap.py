"""Freed memory stays in the process while captioning, so large tensors need no fresh pages."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc settings")

FAULTS_PER_LARGE_TENSOR = textwrap.dedent("""
    import resource, sys
    from alttext.caption.heap import keep_freed_memory
    applied = keep_freed_memory() if sys.argv[1] == "keep" else False
    import torch

    def faults():
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt

    for _ in range(10):  # 40 MB each: the first few need fresh pages, until freed ones fit the next
        torch.ones(10_000_000).sum()
    before = faults()
    for _ in range(5):
        torch.ones(10_000_000).sum()
    print(applied, (faults() - before) // 5)
""")


def faults_per_tensor(mode: str) -> tuple[str, int]:
    result = subprocess.run([sys.executable, "-c", FAULTS_PER_LARGE_TENSOR, mode],
                            capture_output=True, text=True, check=True)
    applied, faults = result.stdout.split()
    return applied, int(faults)


def test_a_freed_large_tensor_is_reused_without_page_faults():
    applied, faults = faults_per_tensor("keep")
    assert applied == "True"
    assert faults < 100  # a 40 MB tensor in fresh pages faults about 10,000 times


def test_without_the_settings_each_large_tensor_faults_in_afresh():
    """The control: what keep_freed_memory() saves."""
    applied, faults = faults_per_tensor("default")
    assert applied == "False"
    assert faults > 5_000


def test_keep_freed_memory_is_idempotent():
    from alttext.caption.heap import keep_freed_memory

    assert keep_freed_memory() is keep_freed_memory()
