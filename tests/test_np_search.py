"""The NumPy search's pieces against transformers' own (the whole search is compared in
test_onnx_backend.py)."""

from __future__ import annotations

import numpy as np
import pytest

from alttext.caption.np_search import log_softmax, no_repeat_ngram, topk


@pytest.mark.parametrize(("values", "k", "indices"), [
    pytest.param([1.0, 3.0, 2.0], 2, [1, 2], id="plain"),
    pytest.param([5.0, 5.0, 1.0, 5.0], 2, [0, 1], id="ties-lowest-index-first"),
    pytest.param([0.0, -1e9, -1e9, -1e9], 3, [0, 1, 2], id="penalised-ties"),
    pytest.param([2.0, 1.0], 2, [0, 1], id="k-equals-width"),
])
def test_topk(values: list[float], k: int, indices: list[int]) -> None:
    got_values, got_indices = topk(np.array([values], dtype=np.float32), k)
    assert got_indices.tolist() == [indices]
    assert got_values.tolist() == [[values[i] for i in indices]]


def test_no_repeat_ngram_bans_what_transformers_bans() -> None:
    torch = pytest.importorskip("torch")
    from transformers import NoRepeatNGramLogitsProcessor

    rng = np.random.default_rng(0)
    for size in (1, 2, 3):
        ids = rng.integers(0, 6, (5, 9))
        scores = rng.standard_normal((5, 6)).astype(np.float32)
        expected = NoRepeatNGramLogitsProcessor(size)(torch.tensor(ids), torch.tensor(scores)).numpy()
        assert np.array_equal(no_repeat_ngram(size)(ids, scores.copy()), expected)


def test_log_softmax_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    logits = np.random.default_rng(1).standard_normal((4, 400)).astype(np.float32) * 5
    expected = torch.log_softmax(torch.tensor(logits), dim=-1).numpy()
    np.testing.assert_allclose(log_softmax(logits), expected, rtol=0, atol=2e-6)


def sorted_topk(values: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """topk by a full stable sort: largest first, lowest index first among equal values."""
    order = np.lexsort((np.broadcast_to(np.arange(values.shape[-1]), values.shape), -values), axis=-1)[:, :k]
    return np.take_along_axis(values, order, axis=-1), order


@pytest.mark.parametrize("kind", ["normal", "few-distinct", "mostly-minus-infinity", "penalised-columns"])
def test_topk_of_wide_rows_equals_a_full_sort(kind: str) -> None:
    """A beam search's rows (beams x vocabulary) take the bounded path; ties and -inf stay exact."""
    rng = np.random.default_rng(7)
    for _ in range(25):
        rows, width = int(rng.integers(1, 12)), int(rng.integers(2048, 6000))
        if kind == "normal":
            values = rng.standard_normal((rows, width)).astype(np.float32)
        elif kind == "few-distinct":
            values = rng.integers(0, 3, (rows, width)).astype(np.float32)
        elif kind == "mostly-minus-infinity":
            values = np.full((rows, width), -np.inf, dtype=np.float32)
            values[:, rng.integers(0, width, 3)] = 1.0
        else:
            values = rng.standard_normal((rows, width)).astype(np.float32)
            values[:, ::7] = -1e9
        got, expected = topk(values, 8), sorted_topk(values, 8)
        assert np.array_equal(got[1], expected[1])
        assert np.array_equal(got[0], expected[0])
