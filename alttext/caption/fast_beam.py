"""Beam-search and greedy bookkeeping, step for step as transformers 5's `generate` does it.

The model forward pass lives elsewhere (fast_vit_gpt2.py); this module only turns each
step's logits into the next tokens, which beams to keep and which sequences are done, with
the same tensor operations in the same order as `GenerationMixin._beam_search` and
`GenerationMixin._sample` (greedy), so ties and rounding resolve identically.
"""

from __future__ import annotations

import math

import torch
from torch.nn import functional

from alttext.caption.search_plan import SearchPlan, cut_after_eos

__all__ = ["BeamSearch", "GreedySearch", "SearchPlan", "cut_after_eos", "processors"]

FINISHED_PENALTY = -1.0e9  # transformers' "very large negative value"


def processors(plan: SearchPlan, device: torch.device) -> list:
    """The logits processors generate() builds for these settings, in its order."""
    from transformers import NoRepeatNGramLogitsProcessor

    chosen: list = []
    if plan.no_repeat_ngram_size > 0:
        chosen.append(NoRepeatNGramLogitsProcessor(plan.no_repeat_ngram_size))
    if plan.min_length > 0 and plan.eos_ids:
        chosen.append(MinLength(plan.min_length, plan.eos_ids))
    return chosen


class MinLength:
    """transformers' MinLengthLogitsProcessor, in place: EOS scores are -inf while the sequence is short.

    The same values as the original's `torch.where` over a copy of the whole [rows, vocab]
    tensor, without that copy (the scores here are always a fresh tensor of our own).
    """

    def __init__(self, min_length: int, eos_ids: tuple[int, ...]) -> None:
        self.min_length, self.eos_ids = min_length, list(eos_ids)

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        if input_ids.shape[-1] < self.min_length:
            scores[:, self.eos_ids] = -math.inf
        return scores


def apply_processors(processors: list, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
    for processor in processors:
        scores = processor(input_ids, scores)
    return scores


def _gather(tensor: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
    """GenerationMixin._gather_beams: pick beams along dim 1."""
    while indices.dim() < tensor.dim():
        indices = indices.unsqueeze(-1)
    return torch.take_along_dim(tensor, indices, dim=1)


class BeamSearch:
    """The state of transformers' vectorised beam search for `batch` images."""

    def __init__(self, plan: SearchPlan, batch: int, device: torch.device) -> None:
        self.plan, self.batch, self.device = plan, batch, device
        beams = plan.num_beams
        self.keep = max(2, 1 + len(plan.eos_ids)) * beams
        self.top_mask = torch.cat((torch.ones(beams, dtype=torch.bool), torch.zeros(self.keep - beams, dtype=torch.bool)))
        self.top_mask = self.top_mask.to(device)
        self.eos = torch.tensor(plan.eos_ids, dtype=torch.long, device=device)
        self.running = torch.full((batch, beams, plan.max_length), plan.fill_id, dtype=torch.long, device=device)
        self.running[:, :, 0] = plan.start_id
        self.sequences = self.running.clone()
        self.running_scores = torch.zeros((batch, beams), dtype=torch.float, device=device)
        self.running_scores[:, 1:] = -1e9
        self.scores = torch.full((batch, beams), -1e9, dtype=torch.float, device=device)
        self.finished = torch.zeros((batch, beams), dtype=torch.bool, device=device)
        self.lengths = torch.zeros((batch, beams), dtype=torch.long, device=device)
        self.improvable = torch.ones((batch, 1), dtype=torch.bool, device=device)
        self.cur_len = 1
        self.processors = processors(plan, device)

    def input_ids(self) -> torch.Tensor:
        """The running sequences as the logits processors see them: [batch * beams, cur_len]."""
        return self.running[:, :, : self.cur_len].reshape(self.batch * self.plan.num_beams, self.cur_len)

    def step(self, logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, bool]:
        """Consume [batch * beams, vocab] fp32 logits; return (next tokens, source rows, done)."""
        plan, batch, beams, cur_len = self.plan, self.batch, self.plan.num_beams, self.cur_len
        log_probs = functional.log_softmax(logits, dim=-1)
        log_probs = apply_processors(self.processors, self.input_ids(), log_probs)
        vocab = log_probs.shape[-1]
        log_probs = log_probs.reshape(batch, beams, vocab) + self.running_scores[:, :, None]
        top_log_probs, top_indices = torch.topk(log_probs.reshape(batch, -1), k=self.keep)
        top_beams = top_indices // vocab
        top_ids = top_indices % vocab
        top_sequences = _gather(self.running, top_beams)
        top_sequences[:, :, cur_len] = top_ids
        top_sources = top_beams + torch.arange(batch, device=self.device).view(-1, 1) * beams
        hits = torch.isin(top_ids, self.eos) | (cur_len + 1 >= plan.max_length)
        self._keep_running(top_log_probs, top_sequences, top_sources, hits)
        self._update_finished(top_log_probs, top_sequences, hits)
        self.cur_len += 1
        self._update_improvable()
        done = not self._unfinished(hits)
        return self.running[:, :, cur_len].reshape(-1), self.sources.reshape(-1), done

    def _keep_running(self, top_log_probs, top_sequences, top_sources, hits) -> None:
        running_log_probs = top_log_probs + hits.to(torch.float32) * FINISHED_PENALTY
        next_indices = torch.topk(running_log_probs, k=self.plan.num_beams)[1]
        self.running = _gather(top_sequences, next_indices)
        self.running_scores = _gather(running_log_probs, next_indices)
        self.sources = _gather(top_sources, next_indices)

    def _update_finished(self, top_log_probs, top_sequences, hits) -> None:
        plan, cur_len = self.plan, self.cur_len
        just_finished = hits & self.top_mask[None, :]
        scores = top_log_probs / ((cur_len + 1 - 1) ** plan.length_penalty)
        full = torch.all(self.finished, dim=-1, keepdim=True) & (plan.early_stopping is True)
        scores += full.to(torch.float32) * FINISHED_PENALTY
        scores += (~self.improvable).to(torch.float32) * FINISHED_PENALTY
        scores += (~just_finished) * FINISHED_PENALTY
        top_lengths = torch.full_like(hits, cur_len, dtype=torch.long)
        merged_scores = torch.cat((self.scores, scores), dim=1)
        best = torch.topk(merged_scores, k=plan.num_beams)[1]
        self.sequences = _gather(torch.cat((self.sequences, top_sequences), dim=1), best)
        self.scores = _gather(merged_scores, best)
        self.lengths = _gather(torch.cat((self.lengths, top_lengths), dim=1), best)
        self.finished = _gather(torch.cat((self.finished, just_finished), dim=1), best)

    def _update_improvable(self) -> None:
        plan = self.plan
        if plan.early_stopping == "never" and plan.length_penalty > 0.0:
            best_length = plan.max_length - 1
        else:
            best_length = self.cur_len - 1
        best_running = self.running_scores[:, :1] / (best_length**plan.length_penalty)
        worst_finished = torch.where(self.finished, torch.min(self.scores, dim=1, keepdim=True)[0], -1.0e9)
        self.improvable = self.improvable & torch.any(best_running > worst_finished, dim=-1, keepdim=True)

    def _unfinished(self, hits: torch.Tensor) -> bool:
        improvement_possible = torch.any(self.improvable)
        open_beam = ~(torch.all(self.finished) & (self.plan.early_stopping is True))
        valid_continuations = ~torch.all(hits)
        return bool(improvement_possible & open_beam & valid_continuations)

    def results(self) -> list[list[int]]:
        """The best finished sequence of each image, start token included, without padding."""
        best = self.sequences[:, 0, :].tolist()
        lengths = self.lengths[:, 0].tolist()
        return [row[: 1 + length] for row, length in zip(best, lengths)]


class GreedySearch:
    """The state of transformers' greedy decoding (`_sample` without sampling)."""

    def __init__(self, plan: SearchPlan, batch: int, device: torch.device) -> None:
        self.plan, self.batch = plan, batch
        self.eos = torch.tensor(plan.eos_ids, dtype=torch.long, device=device)
        self.input_ids = torch.full((batch, 1), plan.start_id, dtype=torch.long, device=device)
        self.unfinished = torch.ones(batch, dtype=torch.long, device=device)
        self.processors = processors(plan, device)
        self.sources = torch.arange(batch, device=device)

    def step(self, logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, bool]:
        scores = apply_processors(self.processors, self.input_ids, logits)
        tokens = torch.argmax(scores, dim=-1)
        if len(self.plan.eos_ids):
            tokens = tokens * self.unfinished + self.plan.pad_id * (1 - self.unfinished)
        self.input_ids = torch.cat([self.input_ids, tokens[:, None]], dim=-1)
        stop = torch.isin(tokens, self.eos) | (self.input_ids.shape[1] >= self.plan.max_length)
        self.unfinished = self.unfinished & ~stop
        done = self.unfinished.max() == 0 or self.input_ids.shape[1] >= self.plan.max_length
        return tokens, self.sources, bool(done)

    def results(self) -> list[list[int]]:
        return [cut_after_eos(row, self.plan.eos_ids) for row in self.input_ids.tolist()]
