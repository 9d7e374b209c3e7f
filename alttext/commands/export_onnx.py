"""`alttext export-onnx --model ID|DIR OUT`: write a model's ONNX export for the onnx back end."""

from __future__ import annotations

import argparse
import sys

EPILOG = """\
OUT then works as a model folder: alttext caption --model OUT (the onnx back end is picked for a
folder that holds only an ONNX export), on a machine with just `pip install 'alttext[caption-onnx]'`.
Exporting needs the caption extra (torch, transformers) and onnx: pip install 'alttext[caption,onnx-export]'.
exit status: 0 exported and every sample image captioned alike, 1 exported but some sample image's
tokens differ from the torch loop's, 2 the model cannot be loaded or exported.
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "export-onnx",
        help="export a captioning model to ONNX (for the torch-free onnx back end)",
        description="Export a ViT/DeiT/Swin + GPT-2 VisionEncoderDecoder model (such as the default model) "
                    "to ONNX in the published encoder/decoder layout, and check it against torch.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("out", metavar="OUT", help="folder to write (created if missing)")
    parser.add_argument("--model", metavar="ID|DIR", help="hub id or local folder (default: the default model)")
    parser.add_argument("--revision", metavar="REV", help="model revision for a hub id")
    parser.add_argument("--int8", action="store_true", help="also write dynamic int8 copies (*_quantized.onnx)")
    parser.add_argument("--decoders", choices=("merged", "separate"), default="merged",
                        help="merged (default): one decoder_model_merged.onnx for both steps, its weights "
                             "stored and loaded once; separate: decoder_model.onnx and "
                             "decoder_with_past_model.onnx (Optimum's other layout, twice the decoder's memory)")
    parser.add_argument("--check-images", type=int, default=8, metavar="N",
                        help="sample images to compare with the torch loop (default: 8; 0 = no check)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from alttext.caption.model import DEFAULT_MODEL, ModelUnavailable

    try:
        from alttext.caption.onnx_export import export_onnx

        report = export_onnx(args.model or DEFAULT_MODEL, args.out, int8=args.int8,
                             check_images=max(0, args.check_images), revision=args.revision,
                             merged=args.decoders == "merged")
    except ImportError as error:
        print(f"alttext: error: export-onnx needs torch, transformers and onnx ({error.name} is missing): "
              "pip install 'alttext[caption,onnx-export]'", file=sys.stderr)
        return 2
    except (ModelUnavailable, OSError, ValueError) as error:
        print(f"alttext: error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {', '.join(report.files)} to {report.folder}")
    if report.images_checked:
        print(f"checked: {report.images_equal} of {report.images_checked} sample images have the same tokens "
              "as the torch loop")
    return 0 if report.images_equal == report.images_checked else 1
