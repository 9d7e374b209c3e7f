"""How a model's fp32 matrix products run on the CPU: through oneDNN, with weights laid out for it.

torch computes an fp32 `nn.Linear` with MKL's sgemm. oneDNN, which torch also ships, computes
the same products faster on CPUs that MKL does not tune for: on an AMD EPYC, 7-27% for the
encoder's and 1.6-2x for the vocabulary's (`python benchmarks/bench_products.py` measures
both for each of the default model's shapes). Both multiply and accumulate in fp32; only the
order of the additions differs, so results differ in the last bits, as MKL's own do between a
product of one row and one of many.

`use_fast_products(model)` switches a loaded model's layers over in place, so alttext's own
decoding loop and `model.generate` on that model compute the very same values.
"""

from __future__ import annotations

from typing import Any

import torch
from transformers.pytorch_utils import Conv1D


def onednn_available() -> bool:
    """True when this torch build ships oneDNN's fp32 linear kernel."""
    return torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_linear_pointwise")


def use_fast_products(model: Any) -> None:
    """Run every fp32 `nn.Linear` and GPT-2 `Conv1D` of `model` through oneDNN (CPU models only)."""
    if not onednn_available():
        return
    use_column_major_weights(model)
    for module in model.modules():
        if type(module) is torch.nn.Linear:
            module.__class__ = OneDnnLinear
        elif type(module) is Conv1D:
            module.__class__ = OneDnnConv1D


def use_column_major_weights(model: Any) -> None:
    """Store GPT-2's Conv1D weights transposed in memory: same values, shape and products.

    Conv1D keeps a weight as [in, out]; stored column-major, its transpose is the contiguous
    [out, in] matrix oneDNN takes as it is. For MKL too: with 3072 outputs, row-major rows lie
    12 KiB apart, a power of two that makes the product's packing thrash the cache.
    """
    with torch.no_grad():
        for module in model.modules():
            weight = module.weight if isinstance(module, Conv1D) else None
            if weight is not None and weight.dim() == 2 and weight.is_contiguous() and weight.shape[1] > 1:
                transposed = weight.t().contiguous()
                # Rewrite the same storage in place: a new tensor per weight would leave the
                # old ones as holes in the heap that activations cannot reuse.
                weight.data = weight.data.as_strided(weight.shape, (1, weight.shape[0]))
                weight.data.copy_(transposed.t())


class OneDnnLinear(torch.nn.Linear):
    """An `nn.Linear` whose fp32 CPU inference products run through oneDNN."""

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        if _runs_on_onednn(input, self.weight):
            return _linear(input, self.weight, self.bias)
        return super().forward(input)


class OneDnnConv1D(Conv1D):
    """GPT-2's `Conv1D` (x @ W + b, W stored [in, out]) through oneDNN once W is column-major."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = self.weight.t()  # [out, in]; contiguous after use_column_major_weights
        if weight.is_contiguous() and _runs_on_onednn(x, weight):
            return _linear(x, weight, self.bias)
        return super().forward(x)


def _runs_on_onednn(input: torch.Tensor, weight: torch.Tensor) -> bool:
    # oneDNN's kernel has no backward: anything that may need gradients stays on torch's own.
    needs_grad = torch.is_grad_enabled() and (input.requires_grad or weight.requires_grad)
    return (
        not needs_grad
        and input.device.type == "cpu"
        and input.dtype == torch.float32
        and weight.dtype == torch.float32
        and not input.is_mkldnn
    )


def _linear(input: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    return torch.ops.mkldnn._linear_pointwise(input, weight, bias, "none", [], "")


def stock_layers(model: Any) -> Any:
    """Undo `use_fast_products` in place (the weights' values never changed): for exporters,
    which know torch's own layers but not a oneDNN kernel call."""
    for module in model.modules():
        if type(module) is OneDnnLinear:
            module.__class__ = torch.nn.Linear  # type: ignore[assignment]  # a subclass back to its base
        elif type(module) is OneDnnConv1D:
            module.__class__ = Conv1D  # type: ignore[assignment]
    return model
