"""A tiny, randomly initialised ViT + GPT-2 captioning model, saved like a real one.

Same classes and files as nlpconnect/vit-gpt2-image-captioning (config.json,
safetensors weights, image processor, byte-level BPE tokenizer), so it loads
through exactly the same `from_pretrained` path; only the sizes differ.
"""

from __future__ import annotations

from pathlib import Path

CORPUS = [
    "a woman in a hospital bed with a woman in a hospital bed",
    "a man holding a cell phone and a cell phone",
    "a dog sitting on a couch next to a cat",
    "two dogs and two cats playing in the grass",
    "a plate of food with broccoli and rice",
    "a red bus driving down a city street",
    "a group of people standing around a kitchen",
    "a bird perched on a tree branch",
    "a chart showing the number of users per month",
    "a screenshot of a web page with a menu",
]


def build_tiny_captioning_model(folder: Path, *, image_size: int = 32, seed: int = 0) -> Path:
    import torch
    from tokenizers import ByteLevelBPETokenizer
    from transformers import (
        GPT2Config,
        GPT2TokenizerFast,
        VisionEncoderDecoderConfig,
        VisionEncoderDecoderModel,
        ViTConfig,
        ViTImageProcessor,
    )

    folder.mkdir(parents=True, exist_ok=True)
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(CORPUS * 4, vocab_size=400, min_frequency=1, special_tokens=["<|endoftext|>"])
    tokenizer = GPT2TokenizerFast(tokenizer_object=bpe._tokenizer, eos_token="<|endoftext|>",
                                  bos_token="<|endoftext|>", unk_token="<|endoftext|>")
    tokenizer.pad_token = tokenizer.eos_token
    eos = tokenizer.eos_token_id

    encoder = ViTConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                        image_size=image_size, patch_size=8, hidden_dropout_prob=0.0,
                        attention_probs_dropout_prob=0.0)
    decoder = GPT2Config(vocab_size=len(tokenizer), n_embd=32, n_layer=2, n_head=2, n_positions=64,
                         bos_token_id=eos, eos_token_id=eos, pad_token_id=eos,
                         add_cross_attention=True, is_decoder=True)
    config = VisionEncoderDecoderConfig.from_encoder_decoder_configs(encoder, decoder)
    config.decoder_start_token_id = eos
    config.pad_token_id = eos
    config.eos_token_id = eos
    torch.manual_seed(seed)
    model = VisionEncoderDecoderModel(config).eval()
    model.generation_config.decoder_start_token_id = eos
    model.generation_config.pad_token_id = eos
    model.generation_config.eos_token_id = eos
    model.generation_config.bos_token_id = eos
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    ViTImageProcessor(size={"height": image_size, "width": image_size}, image_mean=[0.5] * 3,
                      image_std=[0.5] * 3, resample=2).save_pretrained(folder)
    return folder


def build_tiny_deit_gpt2_model(folder: Path, *, image_size: int = 32, seed: int = 1) -> Path:
    """A second encoder/decoder pair: DeiT, wider than its GPT-2 decoder (so the model projects
    the image states to the decoder's width), with the same tokenizer and processor files."""
    import torch
    from transformers import DeiTConfig, VisionEncoderDecoderConfig, VisionEncoderDecoderModel

    build_tiny_captioning_model(folder, image_size=image_size, seed=seed)  # tokenizer, processor, config to adapt
    vit_gpt2 = VisionEncoderDecoderConfig.from_pretrained(folder)
    encoder = DeiTConfig(hidden_size=48, num_hidden_layers=2, num_attention_heads=3, intermediate_size=96,
                         image_size=image_size, patch_size=8, hidden_dropout_prob=0.0,
                         attention_probs_dropout_prob=0.0)
    config = VisionEncoderDecoderConfig.from_encoder_decoder_configs(encoder, vit_gpt2.decoder)
    for name in ("decoder_start_token_id", "pad_token_id", "eos_token_id"):
        setattr(config, name, getattr(vit_gpt2, name))
    torch.manual_seed(seed)
    model = VisionEncoderDecoderModel(config).eval()
    saved = VisionEncoderDecoderModel.from_pretrained(folder).generation_config
    model.generation_config = saved
    model.save_pretrained(folder)
    return folder
