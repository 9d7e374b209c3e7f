"""A decoding loop for VisionEncoderDecoder models with a GPT-2 decoder, token-exact with `generate`.

Where transformers' `generate` spends its time needlessly, this loop does not:
- the cross-attention keys and values of the image tokens are computed once per image and
  layer and shared by that image's beams (transformers computes and re-orders them per beam);
- the first step runs once per image, since all beams start from the same token;
- the self-attention cache is preallocated, and only it is re-ordered between steps.
Every other operation is the same module call on the same values, so the logits, and hence the
chosen tokens, match transformers' for the same settings.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.nn import functional

from alttext.caption.fast_beam import BeamSearch, GreedySearch
from alttext.caption.search_plan import SearchPlan

LM_HEAD_CHUNK = 1024  # vocabulary rows per matrix product on the CPU (see _lm_head)
ENCODER_IMAGES = 8  # images per encoder pass (see cross_keys_values)
# Below 4 rows the CPU's matrix products take another path, which rounds differently: a chunk
# of fewer images is padded so an image's caption never depends on how many share its chunk.
MIN_PRODUCT_ROWS = 4


def supports(model: Any) -> bool:
    """True for a VisionEncoderDecoder whose decoder is GPT-2 with cross-attention and SDPA attention."""
    from transformers import GPT2LMHeadModel, VisionEncoderDecoderModel

    if not isinstance(model, VisionEncoderDecoderModel) or not isinstance(model.decoder, GPT2LMHeadModel):
        return False
    config = model.decoder.config
    return bool(config.add_cross_attention) and config._attn_implementation == "sdpa"


class _Gpt2Decoder:
    """GPT-2 decoding state for one batch: shared cross-attention K/V and a beam-ordered self cache."""

    def __init__(self, model: Any, cross: list[tuple[torch.Tensor, torch.Tensor]], steps: int) -> None:
        self.gpt2 = model.decoder
        self.blocks = list(self.gpt2.transformer.h)
        self.steps = steps
        self.cross = cross
        self.cache = torch.empty(0)  # [row, layer, key/value, head, step, head_dim], made at step 0

    def logits(self, tokens: torch.Tensor, position: int) -> torch.Tensor:
        """One decoding step for [rows] tokens at `position`; returns fp32 logits [rows, vocab]."""
        transformer = self.gpt2.transformer
        position_ids = torch.arange(1, device=tokens.device).unsqueeze(0) + position
        hidden = transformer.wte(tokens[:, None]) + transformer.wpe(position_ids)
        for index, block in enumerate(self.blocks):
            hidden = self._block(index, block, hidden, position)
        hidden = transformer.ln_f(hidden)[:, -1, :]
        return _lm_head(self.gpt2.lm_head, hidden).to(dtype=torch.float32)

    def _block(self, index: int, block: Any, hidden: torch.Tensor, position: int) -> torch.Tensor:
        hidden = self._self_attention(index, block.attn, block.ln_1(hidden), position) + hidden
        hidden = hidden + self._cross_attention(index, block.crossattention, block.ln_cross_attn(hidden))
        return hidden + block.mlp(block.ln_2(hidden))

    def _self_attention(self, index: int, attention: Any, hidden: torch.Tensor, position: int) -> torch.Tensor:
        query, key, value = attention.c_attn(hidden).split(attention.split_size, dim=2)
        shape = (*key.shape[:-1], -1, attention.head_dim)
        query, key, value = (part.view(shape).transpose(1, 2) for part in (query, key, value))
        if position == 0 and index == 0:
            rows, heads, _, head_dim = key.shape
            shape = (rows, len(self.blocks), 2, heads, self.steps, head_dim)
            self.cache = torch.empty(shape, dtype=key.dtype, device=key.device)
        keys, values = self.cache[:, index, 0], self.cache[:, index, 1]
        keys[:, :, position] = key[:, :, 0]
        values[:, :, position] = value[:, :, 0]
        output = functional.scaled_dot_product_attention(
            query, keys[:, :, : position + 1], values[:, :, : position + 1], scale=attention.scaling
        )
        return attention.c_proj(output.transpose(1, 2).reshape(*output.shape[:1], 1, -1).contiguous())

    def _cross_attention(self, index: int, attention: Any, hidden: torch.Tensor) -> torch.Tensor:
        query = attention.q_attn(hidden)
        rows = query.shape[0]
        keys, values = self.cross[index]
        images = keys.shape[0]
        group = rows // images  # the beams of one image share its keys and values
        query = query.view(images, group, -1, attention.head_dim).transpose(1, 2)
        output = functional.scaled_dot_product_attention(query, keys, values, scale=attention.scaling)
        return attention.c_proj(output.transpose(1, 2).reshape(rows, 1, -1).contiguous())

    def reorder(self, sources: torch.Tensor, filled: int) -> None:
        """Make cache row i hold the history of source row sources[i] (beam re-ordering).

        Only the `filled` steps so far are moved, a layer at a time, so the temporary copy is
        one layer's history rather than a second whole cache.
        """
        if sources.shape[0] != self.cache.shape[0]:  # after the shared first step: a row per beam
            self.cache = self.cache.index_select(0, sources)
            return
        for layer in range(self.cache.shape[1]):
            history = self.cache[:, layer, :, :, :filled]
            history.copy_(history.index_select(0, sources))


def _lm_head(head: Any, hidden: torch.Tensor) -> torch.Tensor:
    """The vocabulary logits, a slice of the vocabulary at a time.

    With MKL, one matrix product against the whole 50257 x 768 embedding runs at half the
    CPU's speed for a few dozen rows; slices that stay in cache run near full speed. Each logit
    is the same dot product either way, so the values are identical. (oneDNN's products, see
    cpu_products.py, run as fast whole: its layers are called as they are.)
    """
    if type(head) is not torch.nn.Linear or hidden.device.type != "cpu":
        return head(hidden)
    weight, bias = head.weight, head.bias
    logits = hidden.new_empty((hidden.shape[0], weight.shape[0]))
    for start in range(0, weight.shape[0], LM_HEAD_CHUNK):
        end = start + LM_HEAD_CHUNK
        logits[:, start:end] = functional.linear(hidden, weight[start:end], None if bias is None else bias[start:end])
    return logits


def encode(model: Any, pixel_values: torch.Tensor) -> torch.Tensor:
    """The encoder's last hidden state, projected to the decoder's width where the model does."""
    states = model.encoder(pixel_values=pixel_values, return_dict=True).last_hidden_state
    if model.encoder.config.hidden_size != model.decoder.config.hidden_size and (
        getattr(model.decoder.config, "cross_attention_hidden_size", None) is None
    ):
        states = model.enc_to_dec_proj(states)
    return states


def cross_keys_values(model: Any, pixel_values: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Per decoder layer, the cross-attention keys and values of every image: [image, head, token, head_dim].

    The encoder runs ENCODER_IMAGES images at a time. Its activations for a whole chunk would
    take more memory than the keys and values kept for decoding, and its matrix products, with
    197 rows per image, are as fast for a few images as for many.
    """
    blocks = model.decoder.transformer.h
    images = pixel_values.shape[0]
    cross: list[tuple[torch.Tensor, torch.Tensor]] = []
    for start in range(0, images, ENCODER_IMAGES):
        states = encode(model, pixel_values[start : start + ENCODER_IMAGES])
        for index, block in enumerate(blocks):
            attention = block.crossattention
            keys, values = attention.c_attn(states).split(attention.split_size, dim=2)
            shape = (*keys.shape[:-1], -1, attention.head_dim)
            keys, values = keys.view(shape).transpose(1, 2), values.view(shape).transpose(1, 2)
            if start == 0:
                cross.append((keys.new_empty((images, *keys.shape[1:])), values.new_empty((images, *values.shape[1:]))))
            cross[index][0][start : start + keys.shape[0]] = keys
            cross[index][1][start : start + values.shape[0]] = values
    return cross


@torch.inference_mode()
def generate(model: Any, pixel_values: torch.Tensor, plan: SearchPlan) -> list[list[int]]:
    """Token ids per image: start token, generated tokens, through the first EOS."""
    images, beams = pixel_values.shape[0], plan.num_beams
    if images < MIN_PRODUCT_ROWS:  # decode copies of the last image too, so no step has fewer rows
        pixel_values = torch.cat([pixel_values, pixel_values[-1:].expand(MIN_PRODUCT_ROWS - images, -1, -1, -1)])
    rows = pixel_values.shape[0]
    decoder = _Gpt2Decoder(model, cross_keys_values(model, pixel_values), plan.max_length - 1)
    device = pixel_values.device
    search = BeamSearch(plan, rows, device) if beams > 1 else GreedySearch(plan, rows, device)
    tokens = torch.full((rows,), plan.start_id, dtype=torch.long, device=device)
    logits = decoder.logits(tokens, 0)
    if beams > 1:  # every beam starts from the same token: run that step once, then copy it
        logits = logits.repeat_interleave(beams, dim=0)
    for position in range(1, plan.max_length):
        tokens, sources, done = search.step(logits)
        if done:
            break
        if beams > 1:
            decoder.reorder(sources // beams if position == 1 else sources, position)
        logits = decoder.logits(tokens, position)
    return search.results()[:images]
