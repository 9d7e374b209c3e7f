"""Beam search and greedy decoding in NumPy, step for step as fast_beam.py does them in torch.

For back ends that run without torch (the ONNX Runtime one). The bookkeeping is the same as
transformers 5's `generate` (see fast_beam.py, whose structure this follows line by line); the
plan (search_plan.py) is shared by both. Scores are float32 throughout, as in
torch, so the two agree wherever the model's logits do.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from alttext.caption.search_plan import SearchPlan, cut_after_eos

FINISHED_PENALTY = np.float32(-1.0e9)
CHUNK = 64  # values per slice whose maximum bounds a wide row's top k (see _topk_wide)
WIDE_ROW = 4 * CHUNK  # rows at least this many times k wide take _topk_wide

Processor = Callable[[np.ndarray, np.ndarray], np.ndarray]


def processors(plan: SearchPlan) -> list[Processor]:
    """The logits processors generate() builds for these settings, in its order."""
    chosen: list[Processor] = []
    if plan.no_repeat_ngram_size > 0:
        chosen.append(no_repeat_ngram(plan.no_repeat_ngram_size))
    if plan.min_length > 0 and plan.eos_ids:
        chosen.append(min_length(plan.min_length, plan.eos_ids))
    return chosen


def no_repeat_ngram(size: int) -> Processor:
    """transformers' NoRepeatNGramLogitsProcessor: a token that would repeat an n-gram gets -inf."""

    def process(input_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
        length = input_ids.shape[1]
        if length + 1 < size:
            return scores
        for row, tokens in enumerate(input_ids.tolist()):
            prefix = tuple(tokens[length + 1 - size :]) if size > 1 else ()
            banned = [gram[-1] for gram in zip(*(tokens[i:] for i in range(size))) if gram[:-1] == prefix]
            if banned:
                scores[row, banned] = -np.inf
        return scores

    return process


def min_length(length: int, eos_ids: tuple[int, ...]) -> Processor:
    def process(input_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
        if input_ids.shape[-1] < length:
            scores[:, list(eos_ids)] = -np.inf
        return scores

    return process


def log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def topk(values: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k largest values along the last axis, largest first, and their indices (lowest index
    first among equal values, as torch.topk)."""
    if values.ndim == 2 and values.shape[-1] >= WIDE_ROW * k:
        return _topk_wide(values, k)
    if k < values.shape[-1]:
        part = np.argpartition(-values, k - 1, axis=-1)[..., :k]
    else:
        part = np.broadcast_to(np.arange(values.shape[-1]), values.shape).copy()
    chosen = np.take_along_axis(values, part, axis=-1)
    order = np.lexsort((part, -chosen), axis=-1)  # by value, then by index, as torch.topk on ties
    indices = np.take_along_axis(part, order, axis=-1)
    return np.take_along_axis(values, indices, axis=-1), indices


def _topk_wide(values: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """topk for rows of thousands of values (a beam search's beams x vocabulary), in a few passes.

    Each row's maxima over CHUNK-wide slices are values of the row, so at least k of its values
    are at least the k-th largest maximum: every value at that bound or above is a candidate,
    ties included, and the few candidates are ordered exactly as topk orders them. A partial
    sort of the whole row (argpartition) costs several times as much."""
    rows, width = values.shape
    whole = width // CHUNK * CHUNK
    maxima = values[:, :whole].reshape(rows, -1, CHUNK).max(axis=-1)
    bound = -np.partition(-maxima, k - 1, axis=-1)[:, k - 1 : k]
    row, column = np.nonzero(values >= bound)
    found = values[row, column]
    order = np.lexsort((column, -found, row))  # by row, then value (largest first), then index
    firsts = np.concatenate(([0], np.cumsum(np.bincount(row, minlength=rows))[:-1]))
    chosen = order[firsts[:, None] + np.arange(k)]
    return found[chosen], column[chosen]


def _gather(array: np.ndarray, indices: np.ndarray) -> np.ndarray:
    while indices.ndim < array.ndim:
        indices = indices[..., None]
    return np.take_along_axis(array, indices, axis=1)


class BeamSearch:
    """transformers' vectorised beam search for `batch` images (fast_beam.BeamSearch in NumPy)."""

    def __init__(self, plan: SearchPlan, batch: int) -> None:
        self.plan, self.batch = plan, batch
        beams = plan.num_beams
        self.keep = max(2, 1 + len(plan.eos_ids)) * beams
        self.top_mask = np.arange(self.keep) < beams
        self.eos = np.array(plan.eos_ids, dtype=np.int64)
        self.running = np.full((batch, beams, plan.max_length), plan.fill_id, dtype=np.int64)
        self.running[:, :, 0] = plan.start_id
        self.sequences = self.running.copy()
        self.running_scores = np.zeros((batch, beams), dtype=np.float32)
        self.running_scores[:, 1:] = -1e9
        self.scores = np.full((batch, beams), -1e9, dtype=np.float32)
        self.finished = np.zeros((batch, beams), dtype=bool)
        self.lengths = np.zeros((batch, beams), dtype=np.int64)
        self.improvable = np.ones((batch, 1), dtype=bool)
        self.sources = np.zeros((batch, beams), dtype=np.int64)
        self.cur_len = 1
        self.processors = processors(plan)

    def input_ids(self) -> np.ndarray:
        return self.running[:, :, : self.cur_len].reshape(self.batch * self.plan.num_beams, self.cur_len)

    def step(self, logits: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
        plan, batch, beams, cur_len = self.plan, self.batch, self.plan.num_beams, self.cur_len
        log_probs = log_softmax(logits.astype(np.float32, copy=False))
        for processor in self.processors:
            log_probs = processor(self.input_ids(), log_probs)
        vocab = log_probs.shape[-1]
        log_probs = log_probs.reshape(batch, beams, vocab) + self.running_scores[:, :, None]
        top_log_probs, top_indices = topk(log_probs.reshape(batch, -1), self.keep)
        top_beams, top_ids = top_indices // vocab, top_indices % vocab
        top_sequences = _gather(self.running, top_beams)
        top_sequences[:, :, cur_len] = top_ids
        top_sources = top_beams + np.arange(batch)[:, None] * beams
        hits = np.isin(top_ids, self.eos) | (cur_len + 1 >= plan.max_length)
        self._keep_running(top_log_probs, top_sequences, top_sources, hits)
        self._update_finished(top_log_probs, top_sequences, hits)
        self.cur_len += 1
        self._update_improvable()
        done = not self._unfinished(hits)
        return self.running[:, :, cur_len].reshape(-1), self.sources.reshape(-1), done

    def _keep_running(self, top_log_probs, top_sequences, top_sources, hits) -> None:
        running_log_probs = top_log_probs + hits.astype(np.float32) * FINISHED_PENALTY
        next_indices = topk(running_log_probs, self.plan.num_beams)[1]
        self.running = _gather(top_sequences, next_indices)
        self.running_scores = _gather(running_log_probs, next_indices)
        self.sources = _gather(top_sources, next_indices)

    def _update_finished(self, top_log_probs, top_sequences, hits) -> None:
        plan, cur_len = self.plan, self.cur_len
        just_finished = hits & self.top_mask[None, :]
        scores = top_log_probs / np.float32((cur_len + 1 - 1) ** plan.length_penalty)
        full = np.all(self.finished, axis=-1, keepdims=True) & (plan.early_stopping is True)
        scores = scores + full.astype(np.float32) * FINISHED_PENALTY
        scores = scores + (~self.improvable).astype(np.float32) * FINISHED_PENALTY
        scores = scores + (~just_finished).astype(np.float32) * FINISHED_PENALTY
        top_lengths = np.full(hits.shape, cur_len, dtype=np.int64)
        merged_scores = np.concatenate((self.scores, scores), axis=1)
        best = topk(merged_scores, plan.num_beams)[1]
        self.sequences = _gather(np.concatenate((self.sequences, top_sequences), axis=1), best)
        self.scores = _gather(merged_scores, best)
        self.lengths = _gather(np.concatenate((self.lengths, top_lengths), axis=1), best)
        self.finished = _gather(np.concatenate((self.finished, just_finished), axis=1), best)

    def _update_improvable(self) -> None:
        plan = self.plan
        if plan.early_stopping == "never" and plan.length_penalty > 0.0:
            best_length = plan.max_length - 1
        else:
            best_length = self.cur_len - 1
        best_running = self.running_scores[:, :1] / np.float32(best_length**plan.length_penalty)
        worst = np.where(self.finished, self.scores.min(axis=1, keepdims=True), np.float32(-1.0e9))
        self.improvable = self.improvable & np.any(best_running > worst, axis=-1, keepdims=True)

    def _unfinished(self, hits: np.ndarray) -> bool:
        open_beam = not (bool(np.all(self.finished)) and self.plan.early_stopping is True)
        return bool(np.any(self.improvable)) and open_beam and not bool(np.all(hits))

    def results(self) -> list[list[int]]:
        best = self.sequences[:, 0, :].tolist()
        lengths = self.lengths[:, 0].tolist()
        return [row[: 1 + length] for row, length in zip(best, lengths)]


class GreedySearch:
    """transformers' greedy decoding (fast_beam.GreedySearch in NumPy)."""

    def __init__(self, plan: SearchPlan, batch: int) -> None:
        self.plan = plan
        self.eos = np.array(plan.eos_ids, dtype=np.int64)
        self.input_ids = np.full((batch, 1), plan.start_id, dtype=np.int64)
        self.unfinished = np.ones(batch, dtype=np.int64)
        self.processors = processors(plan)
        self.sources = np.arange(batch)

    def step(self, logits: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
        scores = logits.astype(np.float32, copy=True)
        for processor in self.processors:
            scores = processor(self.input_ids, scores)
        tokens = np.argmax(scores, axis=-1).astype(np.int64)
        if len(self.plan.eos_ids):
            tokens = tokens * self.unfinished + self.plan.pad_id * (1 - self.unfinished)
        self.input_ids = np.concatenate([self.input_ids, tokens[:, None]], axis=-1)
        stop = np.isin(tokens, self.eos) | (self.input_ids.shape[1] >= self.plan.max_length)
        self.unfinished = self.unfinished & ~stop
        done = self.unfinished.max() == 0 or self.input_ids.shape[1] >= self.plan.max_length
        return tokens, self.sources, bool(done)

    def results(self) -> list[list[int]]:
        return [cut_after_eos(row, self.plan.eos_ids) for row in self.input_ids.tolist()]
