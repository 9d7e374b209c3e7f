"""What a caption search does, resolved from the generation settings and the model's config.

Shared by the torch loop (fast_beam.py) and the NumPy one (np_search.py); imports neither.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Settings of a model's own generation config that the fast loops reproduce (or that only
# matter when sampling, which they never do). Any other non-default setting means generate().
FAST_PATH_SETTINGS = frozenset({
    "max_length", "min_length", "num_beams", "no_repeat_ngram_size", "early_stopping", "length_penalty",
    "bos_token_id", "eos_token_id", "pad_token_id", "decoder_start_token_id", "transformers_version",
    "_from_model_config", "temperature", "top_k", "top_p", "typical_p",
})
NEUTRAL_SETTINGS: dict[str, Any] = {
    "do_sample": False, "use_cache": True, "output_attentions": False, "output_hidden_states": False,
    "output_scores": False, "output_logits": False, "return_dict_in_generate": False, "num_return_sequences": 1,
    "repetition_penalty": 1.0, "encoder_repetition_penalty": 1.0, "encoder_no_repeat_ngram_size": 0,
    "bad_words_ids": None, "forced_bos_token_id": None, "forced_eos_token_id": None, "remove_invalid_values": False,
    "exponential_decay_length_penalty": None, "suppress_tokens": None, "begin_suppress_tokens": None,
    "num_beam_groups": 1, "diversity_penalty": 0.0, "min_new_tokens": None, "max_new_tokens": None,
    "epsilon_cutoff": 0.0, "eta_cutoff": 0.0, "renormalize_logits": False, "low_memory": None,
}


@dataclass(frozen=True)
class SearchPlan:
    """Everything the search needs, resolved from the generation settings and the model."""

    max_length: int
    num_beams: int
    min_length: int
    no_repeat_ngram_size: int
    length_penalty: float
    early_stopping: bool | str
    start_id: int
    eos_ids: tuple[int, ...]
    fill_id: int  # what beam search puts in unfilled positions (pad, else the first EOS)
    pad_id: int  # what greedy decoding appends after a sequence's EOS


def unreproduced_settings(generation_config: Mapping[str, Any]) -> list[str]:
    """Names of a generation config's non-default settings that the fast loops do not reproduce."""
    odd = [name for name, value in generation_config.items()
           if name not in FAST_PATH_SETTINGS and NEUTRAL_SETTINGS.get(name, object()) != value]
    return odd


def plan_search(settings: Any, generation_config: Mapping[str, Any], model_start_id: int | None) -> SearchPlan | None:
    """The plan for `settings` (GenerationSettings) under a model's generation config; None
    when the model has no decoder start token."""
    start_id = first_set(generation_config.get("decoder_start_token_id"), model_start_id)
    if start_id is None:
        return None
    eos_ids = as_tuple(generation_config.get("eos_token_id"))
    pad_id = first_set(generation_config.get("pad_token_id"), eos_ids[0] if eos_ids else None)
    return SearchPlan(
        max_length=settings.max_length,
        num_beams=settings.num_beams,
        min_length=settings.min_length,
        no_repeat_ngram_size=settings.no_repeat_ngram_size,
        length_penalty=first_set(generation_config.get("length_penalty"), 1.0),
        early_stopping=first_set(generation_config.get("early_stopping"), False),
        start_id=start_id,
        eos_ids=eos_ids,
        fill_id=(pad_id if pad_id else eos_ids[0]) if eos_ids else -1,
        pad_id=pad_id if pad_id is not None else -1,
    )


def cut_after_eos(row: list[int], eos_ids: tuple[int, ...] | list[int]) -> list[int]:
    """Keep a generated row up to and including its first EOS after the start token."""
    for index in range(1, len(row)):
        if row[index] in eos_ids:
            return row[: index + 1]
    return row


def first_set(*values: Any) -> Any:
    return next((value for value in values if value is not None), None)


def as_tuple(value: int | list[int] | None) -> tuple[int, ...]:
    if value is None:
        return ()
    return tuple(value) if isinstance(value, (list, tuple)) else (int(value),)
