"""Merge `decoder_model.onnx` and `decoder_with_past_model.onnx` into `decoder_model_merged.onnx`.

The merged graph is the one Hugging Face Optimum's `merge_decoders` writes and transformers.js
repositories publish: the union of both decoders' inputs plus a boolean `use_cache_branch` of
shape [1], and one `If` node on it whose `then` branch is the with-past decoder and `else`
branch the first-step decoder. A caller feeds zero-length past tensors (sequence length 0) with
use_cache_branch=False on the first step. The with-past decoder does not return the image's
cross-attention keys and values, so its branch returns empty constants for them (batch 0), as
Optimum's do; a reader keeps those from the first step.

Each branch's own names are prefixed (`no_past/`, `with_past/`) so the two stay apart; weights
the two decoders share are stored once, in the outer graph. Needs the `onnx` package, not torch.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from alttext.caption.onnx_model import DECODER, DECODER_MERGED, DECODER_WITH_PAST, QUANTIZED, USE_CACHE_BRANCH

DECODER_FILE = f"{DECODER}.onnx"
DECODER_WITH_PAST_FILE = f"{DECODER_WITH_PAST}.onnx"
DECODER_MERGED_FILE = f"{DECODER_MERGED}.onnx"


def merge_folder(folder: Path, files: list[str]) -> list[str]:
    """Replace each pair of decoders in `files` (fp32, int8) by its merged graph; the new file list."""
    written = list(files)
    for suffix in ("", QUANTIZED):
        first, with_past = (name.replace(".onnx", f"{suffix}.onnx") for name in (DECODER_FILE, DECODER_WITH_PAST_FILE))
        if first not in files or with_past not in files:
            continue
        target = DECODER_MERGED_FILE.replace(".onnx", f"{suffix}.onnx")
        merge_decoder_files(folder / first, folder / with_past, folder / target)
        for name in (first, with_past):
            (folder / name).unlink()
            written.remove(name)
        written.append(target)
    return written


def merge_decoder_files(decoder: Path, decoder_with_past: Path, out: Path) -> None:
    import onnx

    merged = merge_decoders(onnx.load(str(decoder)), onnx.load(str(decoder_with_past)))
    onnx.checker.check_model(merged, full_check=True)
    onnx.save(merged, str(out))


def merge_decoders(decoder: Any, decoder_with_past: Any) -> Any:
    """One ModelProto running `decoder_with_past` when use_cache_branch is true, else `decoder`."""
    from onnx import TensorProto, helper

    shared: dict[bytes, Any] = {}
    no_past = _branch(decoder.graph, "no_past", shared, [])
    with_past = _branch(decoder_with_past.graph, "with_past", shared, list(decoder.graph.output))
    inputs = list(decoder.graph.input)
    inputs += [value for value in decoder_with_past.graph.input if value.name not in {i.name for i in inputs}]
    flag = helper.make_tensor_value_info(USE_CACHE_BRANCH, TensorProto.BOOL, [1])
    outputs = list(decoder.graph.output)
    choose = helper.make_node("If", [USE_CACHE_BRANCH], [value.name for value in outputs], name="use_cache_if",
                              then_branch=with_past, else_branch=no_past)
    graph = helper.make_graph([choose], "decoder_merged", [*inputs, flag], outputs,
                              initializer=list(shared.values()))
    opsets = {entry.domain: entry for entry in [*decoder.opset_import, *decoder_with_past.opset_import]}
    return helper.make_model(graph, opset_imports=list(opsets.values()), ir_version=decoder.ir_version,
                             producer_name="alttext")


def _branch(graph: Any, prefix: str, shared: dict[bytes, Any], outputs: list[Any]) -> Any:
    """`graph` as an If branch: no inputs (the outer graph's are in scope), its own names prefixed,
    large weights moved to `shared` (by content), and `outputs` (the first-step decoder's) all
    returned, an empty constant standing in for each one `graph` lacks."""
    from onnx import helper, numpy_helper

    renamed = {name: f"{prefix}/{name}" for node in graph.node for name in node.output if name}
    kept = []
    for weight in graph.initializer:
        array = numpy_helper.to_array(weight)
        if array.ndim == 0 or (array.ndim == 1 and array.dtype.kind in "iu"):  # small: stays in the branch
            renamed[weight.name] = f"{prefix}/{weight.name}"
            kept.append(numpy_helper.from_array(array, renamed[weight.name]))
            continue
        key = hashlib.sha256(f"{array.dtype}{array.shape}".encode() + array.tobytes()).digest()
        if key not in shared:
            shared[key] = numpy_helper.from_array(array, f"shared/{len(shared)}/{weight.name}")
        renamed[weight.name] = shared[key].name
    nodes = []
    for node in graph.node:
        if any(attribute.type in (attribute.GRAPH, attribute.GRAPHS) for attribute in node.attribute):
            raise ValueError(f"decoder node {node.name!r} has a subgraph; merging those is not supported")
        copy = type(node)()
        copy.CopyFrom(node)
        copy.name = f"{prefix}/{node.name}" if node.name else ""
        copy.input[:] = [renamed.get(name, name) for name in node.input]
        copy.output[:] = [renamed.get(name, name) for name in node.output]
        nodes.append(copy)
    own = {value.name: value for value in graph.output}
    results = []
    for value in outputs or list(graph.output):
        if value.name not in own:
            renamed[value.name] = f"{prefix}/{value.name}"
            nodes.append(helper.make_node("Constant", [], [renamed[value.name]], name=f"{prefix}/empty/{value.name}",
                                          value=_empty_like(value)))
        results.append(_renamed_value(value, renamed[value.name]))
    return helper.make_graph(nodes, prefix, [], results, initializer=kept)


def _empty_like(value: Any) -> Any:
    """An empty tensor of `value`'s type and rank: its first dynamic axis 0, the others 1 (as Optimum)."""
    from onnx import helper

    dims, emptied = [], False
    for dim in value.type.tensor_type.shape.dim:
        if dim.HasField("dim_value"):
            dims.append(dim.dim_value)
        else:
            dims.append(1 if emptied else 0)
            emptied = True
    return helper.make_tensor("empty", value.type.tensor_type.elem_type, dims, vals=[])


def _renamed_value(value: Any, name: str) -> Any:
    copy = type(value)()
    copy.CopyFrom(value)
    copy.name = name
    return copy
