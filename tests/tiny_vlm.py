"""Tiny, randomly initialised Florence-2 and SmolVLM models, saved like real ones.

Same classes and files as florence-community/Florence-2-base and
HuggingFaceTB/SmolVLM-256M-Instruct (config.json, safetensors weights, processor, image
processor, tokenizer, SmolVLM's chat template), built offline: the tokenizers are byte-level
BPE trained here on a few sentences, the vision towers have one or two layers and take 32x32
images. They load through the same `from_pretrained` path as a downloaded model; only the
sizes differ.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

CORPUS = [
    "a bar chart of monthly users, rising from january to june",
    "the settings page of the app with the dark theme switched on",
    "a photo of two people shaking hands in front of a building",
    "the company logo, a blue circle with a white arrow",
    "what is the text in the image? describe in detail what is shown in the image.",
    "write alt text for the image. page title, heading, figure caption, link target.",
    "a diagram of the build pipeline: source, tests, package, deploy",
    "user: assistant: system: answer in json with alt and decorative",
]
IMAGE_SIZE = 32

# SmolVLM's own chat template: the role capitalised, then the message's text and images.
SMOLVLM_CHAT_TEMPLATE = (
    "<|im_start|>{% for message in messages %}{{message['role'] | capitalize}}"
    "{% if message['content'][0]['type'] == 'image' %}{{':'}}{% else %}{{': '}}{% endif %}"
    "{% for line in message['content'] %}{% if line['type'] == 'text' %}{{line['text']}}"
    "{% elif line['type'] == 'image' %}{{ '<image>' }}{% endif %}{% endfor %}<end_of_utterance>\n"
    "{% endfor %}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}"
)
SMOLVLM_SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<end_of_utterance>", "<fake_token_around_image>",
                          "<global-img>", "<image>"]
SMOLVLM_TILE_TOKENS = [f"<row_{row}_col_{col}>" for row in range(1, 7) for col in range(1, 7)]
FLORENCE2_SPECIAL_TOKENS = ["<s>", "<pad>", "</s>", "<unk>", "<image>"]  # BART's ids 0-3, then the image


def _tokenizer(special_tokens: list[str], vocab_size: int, **named_tokens: Any) -> Any:
    """A fast byte-level BPE tokenizer trained on CORPUS, its special tokens first (ids 0, 1, ...)."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PreTrainedTokenizerFast

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(CORPUS * 4, vocab_size=vocab_size, min_frequency=1, special_tokens=special_tokens)
    return PreTrainedTokenizerFast(tokenizer_object=bpe._tokenizer, **named_tokens)


def build_tiny_florence2(folder: Path, *, seed: int = 0) -> Path:
    """Florence-2: a two-stage DaViT vision tower and a one-layer BART, with Florence-2's processor."""
    import torch
    from transformers import (
        CLIPImageProcessor,
        Florence2Config,
        Florence2ForConditionalGeneration,
        Florence2Processor,
    )

    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = _tokenizer(FLORENCE2_SPECIAL_TOKENS, 500, bos_token="<s>", pad_token="<pad>", eos_token="</s>",
                           unk_token="<unk>", extra_special_tokens={"image_token": "<image>"})
    bos, pad, eos = tokenizer.bos_token_id, tokenizer.pad_token_id, tokenizer.eos_token_id
    text = {"model_type": "bart", "vocab_size": len(tokenizer), "d_model": 32, "encoder_layers": 1,
            "decoder_layers": 1, "encoder_attention_heads": 2, "decoder_attention_heads": 2,
            "encoder_ffn_dim": 64, "decoder_ffn_dim": 64, "max_position_embeddings": 128,
            "bos_token_id": bos, "pad_token_id": pad, "eos_token_id": eos, "decoder_start_token_id": eos,
            "forced_bos_token_id": bos, "dropout": 0.0, "attention_dropout": 0.0, "activation_dropout": 0.0}
    # Two stages of stride 4 and 2: a 32x32 image becomes 4x4 patches, plus one pooled token.
    vision = {"depths": [1, 1], "patch_size": [7, 3], "patch_stride": [4, 2], "patch_padding": [3, 1],
              "patch_prenorm": [False, True], "embed_dim": [16, 32], "num_heads": [1, 2], "num_groups": [1, 2],
              "window_size": 2, "drop_path_rate": 0.0, "projection_dim": 32}
    config = Florence2Config(text_config=text, vision_config=vision, image_token_id=tokenizer.image_token_id)
    torch.manual_seed(seed)
    model = Florence2ForConditionalGeneration(config).eval()
    image_tokens = (IMAGE_SIZE // 8) ** 2 + 1
    image_processor = CLIPImageProcessor(size={"height": IMAGE_SIZE, "width": IMAGE_SIZE}, do_center_crop=False,
                                         crop_size={"height": IMAGE_SIZE, "width": IMAGE_SIZE})
    image_processor.image_seq_length = image_tokens
    processor = Florence2Processor(image_processor=image_processor, tokenizer=tokenizer)
    # Florence-2's model card generates with 3 beams and no repeated 3-grams.
    model.generation_config.update(decoder_start_token_id=eos, bos_token_id=bos, eos_token_id=eos,
                                   pad_token_id=pad, forced_bos_token_id=bos, num_beams=3, no_repeat_ngram_size=3)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def build_tiny_smolvlm(folder: Path, *, seed: int = 0) -> Path:
    """SmolVLM (its 256M-2.2B checkpoints are Idefics3 models): a two-layer SigLIP-style vision
    tower, the pixel-shuffle connector and a two-layer Llama, with SmolVLM's chat template."""
    import torch
    from transformers import (
        Idefics3Config,
        Idefics3ForConditionalGeneration,
        Idefics3ImageProcessorPil,
        Idefics3Processor,
    )

    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = _tokenizer(SMOLVLM_SPECIAL_TOKENS + SMOLVLM_TILE_TOKENS, 600, bos_token="<|im_start|>",
                           eos_token="<end_of_utterance>", pad_token="<|endoftext|>", unk_token="<|endoftext|>")
    patch, scale = 8, 2
    vision = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
              "image_size": IMAGE_SIZE, "patch_size": patch}
    text = {"model_type": "llama", "vocab_size": len(tokenizer), "hidden_size": 32, "intermediate_size": 64,
            "num_hidden_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 1,
            "max_position_embeddings": 256, "bos_token_id": tokenizer.bos_token_id,
            "eos_token_id": tokenizer.eos_token_id, "pad_token_id": tokenizer.pad_token_id}
    config = Idefics3Config(vision_config=vision, text_config=text, scale_factor=scale,
                            image_token_id=tokenizer.convert_tokens_to_ids("<image>"),
                            pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(seed)
    model = Idefics3ForConditionalGeneration(config).eval()
    model.generation_config.update(bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                                   pad_token_id=tokenizer.pad_token_id)
    image_processor = Idefics3ImageProcessorPil(
        size={"longest_edge": IMAGE_SIZE}, max_image_size={"longest_edge": IMAGE_SIZE}, do_image_splitting=False,
    )
    processor = Idefics3Processor(image_processor=image_processor, tokenizer=tokenizer,
                                  image_seq_len=(IMAGE_SIZE // patch) ** 2 // scale**2,
                                  chat_template=SMOLVLM_CHAT_TEMPLATE)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder
