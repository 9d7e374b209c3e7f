"""Prompted image-text-to-text models through transformers: SmolVLM-style chat models and Florence-2.

Any model that transformers' `AutoModelForImageTextToText` loads, with its `AutoProcessor`
(Florence-2 included: transformers has its own Florence2ForConditionalGeneration, so the
converted checkpoints such as florence-community/Florence-2-base load without remote code).
A Prompt reaches the model in one of two forms, picked from the model once at load time:

- `chat`: the processor's chat template renders a system message (the Prompt's rules) and a
  user message holding the image and the Prompt's text, so the page's context, language and
  length limit all reach the model (SmolVLM, Idefics3, Qwen2-VL, Gemma 3, ...). Templates
  that have no system role get the rules at the head of the user message (`chat-inline-system`).
- `florence2-task`: Florence-2 answers fixed task tokens only (`<CAPTION>`,
  `<DETAILED_CAPTION>`, `<MORE_DETAILED_CAPTION>`, `<OCR>`, ...) and was never trained on free
  text, so the Prompt's context and language cannot be given to it: it describes the pixels,
  in English. The task is the one named at load time, else the shortest caption task that
  suits the Prompt's length limit.

Generation never samples: beams and the n-gram rule come from the settings, else from the
model's own generation config; an answer may run to the tokens the Prompt's length limit
needs in the page's script (answer_tokens), plus room for the JSON around it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alttext.caption.prompted import Prompt, Refusal

if TYPE_CHECKING:
    from PIL import Image

    from alttext.caption.generate import GenerationSettings

FLORENCE2 = "florence2"
# Florence-2's tasks that answer in plain text about the whole image.
FLORENCE2_TASKS = ("<CAPTION>", "<DETAILED_CAPTION>", "<MORE_DETAILED_CAPTION>", "<OCR>")
# The caption task for a length limit: the first whose answers usually fit, else the longest.
FLORENCE2_TASK_BY_LENGTH = ((100, "<CAPTION>"), (250, "<DETAILED_CAPTION>"))
FLORENCE2_LONGEST_TASK = "<MORE_DETAILED_CAPTION>"
ANSWER_OVERHEAD_TOKENS = 32  # the JSON object around the alt text, and the end token
DENSE_SCRIPT_LANGUAGES = ("zh", "ja", "ko", "th", "yue")
# transformers lists these with the image-text-to-text models, but they take no prompt.
PIXELS_ONLY = ("vision-encoder-decoder",)
IMAGES_PER_CALL = {"cpu": 8, "cuda": 32, "mps": 8}


class TransformersPromptedModel:
    """A loaded image-text-to-text model and its processor, as a PromptedModel."""

    def __init__(self, model: Any, processor: Any, *, model_id: str, revision: str, mode: str, key: str,
                 num_beams: int = 1, no_repeat_ngram_size: int = 0, task: str | None = None) -> None:
        self.model, self.processor, self._key = model, processor, key
        self.model_id, self.revision = model_id, revision
        self.family = str(model.config.model_type)
        self.mode, self.task = mode, task
        self.num_beams, self.no_repeat_ngram_size = num_beams, no_repeat_ngram_size
        self.images_per_call = IMAGES_PER_CALL.get(model.device.type, 8)
        if not model.config.is_encoder_decoder:
            processor.tokenizer.padding_side = "left"  # a decoder-only model continues each row's last token
        if processor.tokenizer.pad_token is None:
            processor.tokenizer.pad_token = processor.tokenizer.eos_token

    def key(self) -> str:
        return self._key

    def answer(self, images: list[Image.Image], prompts: list[Prompt]) -> list[str | Refusal]:
        if len(images) != len(prompts):
            raise ValueError(f"{len(images)} images but {len(prompts)} prompts")
        answers: list[str | Refusal] = [Refusal("not answered")] * len(images)
        for indices in self._calls(prompts):
            for index, answer in zip(indices, self._answer_call([images[i] for i in indices],
                                                                 [prompts[i] for i in indices])):
                answers[index] = answer
        return answers

    def prompt_text(self, prompt: Prompt) -> str:
        """The text the processor is given for one image: the rendered chat, or Florence-2's task token."""
        if self.mode == "florence2-task":
            return self.task or florence2_task(prompt.max_length)
        return self.processor.apply_chat_template(chat_messages(prompt, self.mode), add_generation_prompt=True)

    def inputs(self, images: list[Image.Image], prompts: list[Prompt]) -> Any:
        """The model's inputs for one call: token ids (left-padded for decoder-only models), pixels."""
        texts = [self.prompt_text(prompt) for prompt in prompts]
        rgb = [image if image.mode == "RGB" else image.convert("RGB") for image in images]
        options: dict[str, Any] = {"padding": True, "return_tensors": "pt"}
        if self.mode == "florence2-task":
            return self.processor(text=texts, images=rgb, **options).to(self.model.device, self.model.dtype)
        # A template that writes the start token itself must not get a second one (as transformers' own
        # tokenize=True path does); the images go one list per conversation.
        bos = self.processor.tokenizer.bos_token
        options["add_special_tokens"] = not (bos and texts[0].startswith(bos))
        return self.processor(text=texts, images=[[image] for image in rgb], **options).to(
            self.model.device, self.model.dtype)

    def _calls(self, prompts: list[Prompt]) -> Iterator[list[int]]:
        """Indices of the images each `generate` call takes: same answer budget and text form, bounded size.

        Grouping by budget gives each image the budget its own prompt sets, whatever else is in the batch.
        """
        groups: dict[tuple[int, str], list[int]] = {}
        for index, prompt in enumerate(prompts):
            groups.setdefault((answer_tokens(prompt), self.prompt_text(prompt) if self.mode == "florence2-task" else ""),
                              []).append(index)
        for indices in groups.values():
            for start in range(0, len(indices), self.images_per_call):
                yield indices[start:start + self.images_per_call]

    def _answer_call(self, images: list[Image.Image], prompts: list[Prompt]) -> list[str | Refusal]:
        """Answers for one call; when the call fails, each image again on its own, so one bad image
        costs only its own answer."""
        try:
            return self._generate(images, prompts)
        except Exception as error:  # any failure inside transformers or torch is this call's, not the run's
            if len(images) == 1:
                return [Refusal(f"the model failed on this image: {_one_line(error)}")]
        return [answer for image, prompt in zip(images, prompts) for answer in self._answer_call([image], [prompt])]

    def _generate(self, images: list[Image.Image], prompts: list[Prompt]) -> list[str | Refusal]:
        import torch

        inputs = self.inputs(images, prompts)
        with torch.inference_mode():
            output = self.model.generate(**inputs, max_new_tokens=answer_tokens(prompts[0]), do_sample=False,
                                         num_beams=self.num_beams, no_repeat_ngram_size=self.no_repeat_ngram_size)
        if not self.model.config.is_encoder_decoder:
            output = output[:, inputs["input_ids"].shape[1]:]  # the prompt, echoed before the answer
        texts = self.processor.batch_decode(output, skip_special_tokens=True)
        return [text.strip() or Refusal("the model gave an empty answer") for text in texts]


def chat_messages(prompt: Prompt, mode: str) -> list[dict[str, Any]]:
    """The conversation for one image: the rules as the system message (or first in the user's), then
    the image and the request."""
    user_text = prompt.user
    messages: list[dict[str, Any]] = []
    if prompt.system and mode == "chat-inline-system":
        user_text = f"{prompt.system}\n\n{prompt.user}"
    elif prompt.system:
        messages.append({"role": "system", "content": [{"type": "text", "text": prompt.system}]})
    messages.append({"role": "user", "content": [{"type": "image"}, {"type": "text", "text": user_text}]})
    return messages


def florence2_task(max_length: int) -> str:
    """The shortest Florence-2 caption task whose answers usually fit `max_length` characters."""
    return next((task for limit, task in FLORENCE2_TASK_BY_LENGTH if max_length <= limit), FLORENCE2_LONGEST_TASK)


def answer_tokens(prompt: Prompt) -> int:
    """New tokens allowed for an answer: enough for the length limit in the page's script, and the JSON around it.

    Byte-level tokenizers spend about a token per character of Chinese, Japanese, Korean or
    Thai, and fewer than one per two characters of the other scripts.
    """
    language = (prompt.language or "").lower().split("-")[0]
    per_token = 1 if language in DENSE_SCRIPT_LANGUAGES else 2
    return max(1, -(-prompt.max_length // per_token)) + ANSWER_OVERHEAD_TOKENS


def _one_line(error: BaseException) -> str:
    first = (str(error).strip().splitlines() or [""])[0]
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


def load_hf_prompted(
    name: str,
    *,
    device: str = "auto",
    dtype: str | None = None,
    quantize: str | None = None,
    revision: str | None = None,
    trust_remote_code: bool = False,
    generation: GenerationSettings | None = None,
    task: str | None = None,
) -> TransformersPromptedModel:
    """Load an image-text-to-text model (hub id or folder) as a PromptedModel, offline-first like load_model.

    `generation` gives the beams and the n-gram rule (its max_length is the encoder-decoder
    captioner's and is not used: the Prompt's length limit sets the answer's); None takes both
    from the model's generation_config.json, as its authors set them. Sampling is always off,
    so an image and a prompt always get the same answer. `task` names a Florence-2 task
    (FLORENCE2_TASKS); None picks one by the Prompt's length limit. `quantize="int8"`: dynamic
    int8 linear layers on the CPU, as for the default model. Raises ModelUnavailable, in one
    line, when the model cannot be loaded, and ValueError for bad options.
    """
    from alttext.caption.model import place_model, prepare_load
    from alttext.caption.precision import precision_key

    if task is not None and task not in FLORENCE2_TASKS:
        raise ValueError(f"unknown Florence-2 task {task!r} (use {', '.join(FLORENCE2_TASKS)})")
    location, torch_device, torch_dtype = prepare_load(name, revision, device, dtype, quantize)
    model, processor = _from_pretrained(location.source, torch_dtype, revision=revision,
                                        local_only=location.local_only, trust_remote_code=trust_remote_code)
    mode = prompt_mode(model.config.model_type, processor, location.source)
    if task is not None and mode != "florence2-task":
        raise ValueError(f"a task ({task}) applies to Florence-2 models only, not to {model.config.model_type!r}")
    beams, ngram = settings_for(generation, model_files(name, revision))
    key = backend_key(model.config.model_type, task, beams, ngram, precision_key(str(torch_dtype), quantize))
    return TransformersPromptedModel(
        place_model(model, torch_device, torch_dtype, quantize), processor, model_id=identity_id(name),
        revision=location.revision(revision), mode=mode, task=task, num_beams=beams, no_repeat_ngram_size=ngram,
        key=key,
    )


def load_prompted(model: str, options: Mapping[str, Any]) -> TransformersPromptedModel:
    """The back end for `model` with the Captioner's options (device, dtype, quantize, revision,
    trust_remote_code; num_beams and no_repeat_ngram_size where given; task for Florence-2)."""
    return load_hf_prompted(model, device=options.get("device") or "auto", dtype=options.get("dtype"),
                            quantize=options.get("quantize"), revision=options.get("revision"),
                            trust_remote_code=bool(options.get("trust_remote_code")),
                            generation=_generation(options), task=options.get("task"))


def prompted_identity(model: str, options: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """(model id, revision, key) as the loaded back end reports them, read from the model's files
    without importing torch or transformers; None when the model is not on this machine."""
    from alttext.caption.captioner import model_identity
    from alttext.caption.precision import expected_precision

    found = model_identity(model, options.get("revision"))
    files = model_files(model, options.get("revision"))
    if found is None or files is None:
        return None
    try:
        model_type = str(json.loads((files / "config.json").read_text(encoding="utf-8"))["model_type"])
    except (OSError, ValueError, KeyError):
        return None  # the loader reports what is wrong
    beams, ngram = settings_for(_generation(options), files)
    precision = expected_precision(options.get("device") or "auto", options.get("dtype"), options.get("quantize"))
    return identity_id(model), found[1], backend_key(model_type, options.get("task"), beams, ngram, precision)


def backend_key(model_type: str, task: str | None, num_beams: int, no_repeat_ngram_size: int, precision: str) -> str:
    """What changes answers besides the model's files: its family, the prompt's form, decoding, precision."""
    form = f"task:{task or 'by-length'}" if model_type == FLORENCE2 else "chat"
    return (f"family={model_type};prompt={form};num_beams={num_beams};"
            f"no_repeat_ngram_size={no_repeat_ngram_size};{precision}")


def identity_id(name: str) -> str:
    """The model's id in cache keys, as Captioner names models: a hub id, or "folder" for a folder
    (its revision, a fingerprint of its files, tells it apart wherever it lies)."""
    return "folder" if Path(name).expanduser().is_dir() else name


def model_files(name: str, revision: str | None) -> Path | None:
    """The folder holding the model's config files: the folder itself, or the cached hub snapshot."""
    from alttext.caption.captioner import cached_hub_commit, hub_cache_dir

    folder = Path(name).expanduser()
    if folder.is_dir():
        return folder
    commit = cached_hub_commit(name, revision)
    return Path(hub_cache_dir()) / f"models--{name.replace('/', '--')}" / "snapshots" / commit if commit else None


def settings_for(generation: GenerationSettings | None, files: Path | None) -> tuple[int, int]:
    """(beams, no_repeat_ngram_size): the settings', else generation_config.json's, else greedy with no rule."""
    if generation is not None:
        return generation.num_beams, generation.no_repeat_ngram_size
    try:
        saved = json.loads((files / "generation_config.json").read_text(encoding="utf-8")) if files else {}
    except (OSError, ValueError):
        saved = {}
    return int(saved.get("num_beams") or 1), int(saved.get("no_repeat_ngram_size") or 0)


def _generation(options: Mapping[str, Any]) -> GenerationSettings | None:
    if options.get("num_beams") is None and options.get("no_repeat_ngram_size") is None:
        return None
    from alttext.caption.generate import GenerationSettings

    return GenerationSettings(num_beams=int(options.get("num_beams") or 1),
                              no_repeat_ngram_size=int(options.get("no_repeat_ngram_size") or 0))


def _from_pretrained(source: str, dtype: Any, *, revision: str | None, local_only: bool,
                     trust_remote_code: bool) -> tuple[Any, Any]:
    from safetensors import SafetensorError
    from transformers import AutoConfig, AutoModelForImageTextToText, AutoProcessor

    from alttext.caption.model import load_failure

    options = {"revision": revision, "local_files_only": local_only, "trust_remote_code": trust_remote_code}
    try:
        config = AutoConfig.from_pretrained(source, **options)
        _check_image_text_to_text(source, config)
        processor = AutoProcessor.from_pretrained(source, **options)
        model = AutoModelForImageTextToText.from_pretrained(source, dtype=dtype, **options)
    except (OSError, ValueError, KeyError, ImportError, SafetensorError) as error:  # ImportError: a processor's package
        raise _with_advice(load_failure(source, error, trust_remote_code)) from error
    if getattr(processor, "image_processor", None) is None:
        raise _unavailable(source, "its processor takes no images (no image processor settings in the folder)")
    return model.eval(), processor


def _check_image_text_to_text(source: str, config: Any) -> None:
    from transformers.models.auto.modeling_auto import MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES

    remote = "AutoModelForImageTextToText" in (getattr(config, "auto_map", None) or {})
    takes_text = config.model_type in MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES and config.model_type not in PIXELS_ONLY
    if not (takes_text or remote):
        raise _unavailable(source, f"model type {config.model_type!r} is not an image-text-to-text model "
                                   "(an image-to-text captioning model runs with --backend torch)")


def prompt_mode(model_type: str, processor: Any, source: str) -> str:
    """How Prompts reach this model: `florence2-task`, `chat`, or `chat-inline-system` for chat
    templates that have no system role (they raise, or drop the system text)."""
    if model_type == FLORENCE2:
        return "florence2-task"
    if not getattr(processor, "chat_template", None):
        raise _unavailable(source, "it has no chat template, so it cannot be prompted "
                                   "(use the model's instruction-tuned version)")
    probe = Prompt(system="SYSTEM-PROBE", user="USER-PROBE")
    try:
        rendered = processor.apply_chat_template(chat_messages(probe, "chat"), add_generation_prompt=True)
    except Exception:  # jinja's TemplateError, or a template's own raise_exception
        return "chat-inline-system"
    return "chat" if "SYSTEM-PROBE" in rendered else "chat-inline-system"


def _unavailable(source: str, why: str) -> Exception:
    from alttext.caption.model import ModelUnavailable

    return ModelUnavailable(f"model {source!r} could not be loaded: {why}")


def _with_advice(error: Exception) -> Exception:
    """Name the missing package when transformers reports a processor it could not build without it."""
    import importlib.util

    if "video processor" in str(error) and importlib.util.find_spec("torchvision") is None:
        return type(error)(f"{error}; this model's processor needs torchvision: pip install torchvision")
    return error
