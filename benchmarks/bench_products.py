"""fp32 matrix products on one CPU core: torch's default (MKL) against oneDNN, for the default model's shapes.

    python benchmarks/bench_products.py [--repeats 7]

Each row is x [rows, in] times a weight [out, in], as the default model's layers run them:
the ViT encoder on 8 images (1,576 rows), and the GPT-2 decoder's steps for 16 images (greedy)
or 16 images x 4 beams. Prints GFLOP/s (median of --repeats timed runs, after a warm-up), the
ratio, and the largest difference between the two results relative to the largest value.
"""

from __future__ import annotations

import argparse
import statistics
import time

SHAPES = [  # (what, rows, in, out)
    ("encoder q/k/v/out, 8 images", 1576, 768, 768),
    ("encoder MLP up, 8 images", 1576, 768, 3072),
    ("encoder MLP down, 8 images", 1576, 3072, 768),
    ("cross-attention keys+values, 8 images", 1576, 768, 1536),
    ("decoder qkv, 16 rows", 16, 768, 2304),
    ("decoder MLP up, 16 rows", 16, 768, 3072),
    ("decoder MLP down, 16 rows", 16, 3072, 768),
    ("vocabulary, 16 rows", 16, 768, 50257),
    ("decoder qkv, 64 rows", 64, 768, 2304),
    ("decoder MLP up, 64 rows", 64, 768, 3072),
    ("vocabulary, 64 rows", 64, 768, 50257),
]


def gflops(product, rows: int, inputs: int, outputs: int, repeats: int) -> float:
    product()
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        product()
        seconds.append(time.perf_counter() - started)
    return 2 * rows * inputs * outputs / statistics.median(seconds) / 1e9


def compare(rows: int, inputs: int, outputs: int, repeats: int) -> tuple[float, float, float]:
    """MKL's and oneDNN's GFLOP/s for one shape, and their largest relative difference."""
    import torch

    x, weight, bias = torch.randn(rows, inputs), torch.randn(outputs, inputs) * 0.02, torch.randn(outputs)
    onednn = torch.ops.mkldnn._linear_pointwise
    mkl = gflops(lambda: torch.nn.functional.linear(x, weight, bias), rows, inputs, outputs, repeats)
    dnn = gflops(lambda: onednn(x, weight, bias, "none", [], ""), rows, inputs, outputs, repeats)
    expected = torch.nn.functional.linear(x, weight, bias)
    difference = (onednn(x, weight, bias, "none", [], "") - expected).abs().max() / expected.abs().max()
    return mkl, dnn, float(difference)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    options = parser.parse_args(argv)

    import torch

    from alttext.caption.cpu_products import onednn_available

    if not onednn_available():
        raise SystemExit("this torch build has no oneDNN")
    torch.set_num_threads(1)
    torch.manual_seed(0)
    print("| product | rows x in x out | MKL GFLOP/s | oneDNN GFLOP/s | oneDNN / MKL | largest difference |")
    print("|---|---|---:|---:|---:|---:|")
    with torch.inference_mode():
        for what, rows, inputs, outputs in SHAPES:
            mkl, dnn, difference = compare(rows, inputs, outputs, options.repeats)
            print(f"| {what} | {rows} x {inputs} x {outputs} | {mkl:.1f} | {dnn:.1f} | {dnn / mkl:.2f} "
                  f"| {difference:.1e} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
