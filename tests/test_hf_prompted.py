"""The transformers prompted back end, on tiny random SmolVLM (Idefics3) and Florence-2 models."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from alttext.caption.hf_prompted import answer_tokens, chat_messages, florence2_task
from alttext.caption.prompted import Prompt, Refusal
from tests.conftest import FIXTURES, REPO_ROOT

RULES = "Write alt text. Do not start with 'image of'. Answer in JSON."
CONTEXT = "Page title: Release notes\nFigure caption: Monthly active users, January to June"


def prompt(user: str = CONTEXT, *, max_length: int = 16, language: str | None = "en") -> Prompt:
    return Prompt(system=RULES, user=user, language=language, max_length=max_length)


# The pure parts: how a Prompt becomes a conversation, a task and a token budget.

@pytest.mark.parametrize(("max_length", "expected"), [
    pytest.param(60, "<CAPTION>", id="short"),
    pytest.param(100, "<CAPTION>", id="caption-limit"),
    pytest.param(125, "<DETAILED_CAPTION>", id="default-limit"),
    pytest.param(250, "<DETAILED_CAPTION>", id="detailed-limit"),
    pytest.param(600, "<MORE_DETAILED_CAPTION>", id="long"),
])
def test_florence2_task_by_length(max_length: int, expected: str) -> None:
    assert florence2_task(max_length) == expected


@pytest.mark.parametrize(("language", "max_length", "expected"), [
    pytest.param("en", 125, 63 + 32, id="english"),
    pytest.param(None, 125, 63 + 32, id="unknown-language"),
    pytest.param("de-CH", 40, 20 + 32, id="region-subtag"),
    pytest.param("ja", 125, 125 + 32, id="japanese"),
    pytest.param("zh-Hant", 10, 10 + 32, id="chinese"),
])
def test_answer_tokens(language: str | None, max_length: int, expected: int) -> None:
    assert answer_tokens(prompt(language=language, max_length=max_length)) == expected


@pytest.mark.parametrize(("mode", "expected"), [
    pytest.param("chat", [
        {"role": "system", "content": [{"type": "text", "text": RULES}]},
        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": CONTEXT}]},
    ], id="system-role"),
    pytest.param("chat-inline-system", [
        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": f"{RULES}\n\n{CONTEXT}"}]},
    ], id="inline-system"),
])
def test_chat_messages(mode: str, expected: list) -> None:
    assert chat_messages(prompt(), mode) == expected


def test_chat_messages_without_rules_have_no_system_message() -> None:
    assert chat_messages(Prompt(system="", user=CONTEXT), "chat") == [
        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": CONTEXT}]}]


def test_the_lint_path_imports_neither_torch_nor_transformers() -> None:
    code = ("import sys; import alttext.caption.hf_prompted; from alttext.cli import main; "
            "code = main(['check', 'docs']); print(code, 'torch' in sys.modules, 'transformers' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], cwd=FIXTURES, capture_output=True, text=True, check=True)
    assert result.stdout.split()[-3:] == ["1", "False", "False"]


# The real thing: tiny random models saved and loaded through from_pretrained.

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
from PIL import Image

from alttext.caption.generate import GenerationSettings
from alttext.caption.hf_prompted import TransformersPromptedModel, load_hf_prompted, load_prompted, prompted_identity
from alttext.caption.model import ModelUnavailable


def images() -> list[Image.Image]:
    """Three different pictures, one of them greyscale and not square."""
    gradient = Image.linear_gradient("L").resize((48, 40))
    return [Image.new("RGB", (64, 48), (200, 30, 30)), gradient,
            Image.merge("RGB", (gradient, gradient.rotate(90), gradient)).resize((40, 64))]


@pytest.fixture(scope="module")
def smolvlm(tiny_smolvlm_dir: Path) -> TransformersPromptedModel:
    return load_hf_prompted(str(tiny_smolvlm_dir), device="cpu")


@pytest.fixture(scope="module")
def florence2(tiny_florence2_dir: Path) -> TransformersPromptedModel:
    return load_hf_prompted(str(tiny_florence2_dir), device="cpu")


@pytest.fixture(params=["smolvlm", "florence2"])
def prompted(request: pytest.FixtureRequest) -> TransformersPromptedModel:
    return request.getfixturevalue(request.param)


@pytest.mark.slow
def test_answers_one_text_per_image_in_order_and_deterministic(prompted: TransformersPromptedModel) -> None:
    prompts = [prompt(f"Figure caption: chart {index}") for index in range(3)]
    answers = prompted.answer(images(), prompts)
    assert len(answers) == 3 and all(isinstance(answer, str) and answer for answer in answers)
    assert prompted.answer(images(), prompts) == answers
    # Alone or in a batch (padded to the longest prompt), an image gets the same answer.
    assert [prompted.answer([image], [one])[0] for image, one in zip(images(), prompts)] == answers


def test_answer_length_follows_the_prompt(smolvlm: TransformersPromptedModel) -> None:
    """A random model never stops on its own: its answer runs to the budget the length limit sets."""
    short, long = (smolvlm.answer(images()[:1], [prompt(max_length=limit)])[0] for limit in (8, 60))
    assert isinstance(short, str) and isinstance(long, str)
    assert len(long) > len(short) and long.startswith(short[:len(short) // 2])  # greedy: the same first tokens


@pytest.mark.slow
def test_one_bad_image_is_a_refusal_and_the_others_are_answered(smolvlm: TransformersPromptedModel) -> None:
    good = images()
    prompts = [prompt()] * 3
    answers = smolvlm.answer([good[0], Image.new("RGB", (0, 0)), good[2]], prompts)
    assert isinstance(answers[1], Refusal) and answers[1].reason.startswith("the model failed on this image: ")
    assert answers[0] == smolvlm.answer([good[0]], prompts[:1])[0]
    assert answers[2] == smolvlm.answer([good[2]], prompts[:1])[0]


def test_mismatched_lists_are_a_caller_error(smolvlm: TransformersPromptedModel) -> None:
    with pytest.raises(ValueError, match="2 images but 1 prompts"):
        smolvlm.answer(images()[:2], [prompt()])


def test_smolvlm_gets_the_context_through_its_chat_template(smolvlm: TransformersPromptedModel) -> None:
    assert smolvlm.mode == "chat"
    text = smolvlm.prompt_text(prompt())
    assert text == f"<|im_start|>System: {RULES}<end_of_utterance>\nUser:<image>{CONTEXT}<end_of_utterance>\nAssistant:"
    inputs = smolvlm.inputs(images()[:2], [prompt(), prompt("Link target: /pricing")])
    given = smolvlm.processor.batch_decode(inputs["input_ids"], skip_special_tokens=False)
    pad = smolvlm.processor.tokenizer.pad_token
    assert given[0].startswith("<|im_start|>System: ") and CONTEXT in given[0] and given[0].count("<|im_start|>") == 1
    # The shorter prompt is padded on the left, so both rows end where the answer starts.
    assert given[1].startswith(pad) and given[1].replace(pad, "").startswith("<|im_start|>")
    assert given[1].endswith("Link target: /pricing<end_of_utterance>\nAssistant:")
    assert inputs["attention_mask"][1, 0] == 0 and inputs["attention_mask"][:, -1].tolist() == [1, 1]
    assert given[0].count("<image>") == smolvlm.processor.image_seq_len
    assert tuple(inputs["pixel_values"].shape[:2]) == (2, 1)


def test_a_template_without_a_system_role_gets_the_rules_in_the_user_message(tiny_smolvlm_dir: Path,
                                                                             tmp_path: Path) -> None:
    folder = shutil.copytree(tiny_smolvlm_dir, tmp_path / "no-system")
    template = (folder / "chat_template.jinja").read_text(encoding="utf-8")
    (folder / "chat_template.jinja").write_text(
        "{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}"
        + template, encoding="utf-8")
    model = load_hf_prompted(str(folder), device="cpu")
    assert model.mode == "chat-inline-system"
    assert f"User:<image>{RULES}\n\n{CONTEXT}<end_of_utterance>" in model.prompt_text(prompt())
    assert isinstance(model.answer(images()[:1], [prompt()])[0], str)
    # The template is one of the model's files: another template is another revision.
    assert model.revision != load_hf_prompted(str(tiny_smolvlm_dir), device="cpu").revision


def test_florence2_gets_its_task_token_and_not_the_context(florence2: TransformersPromptedModel) -> None:
    assert florence2.mode == "florence2-task"
    assert florence2.prompt_text(prompt(max_length=40)) == "<CAPTION>"
    assert florence2.prompt_text(prompt(max_length=600)) == "<MORE_DETAILED_CAPTION>"
    inputs = florence2.inputs(images()[:2], [prompt(max_length=40)] * 2)
    given = florence2.processor.batch_decode(inputs["input_ids"], skip_special_tokens=True)
    # Florence-2's processor turns the task token into the question the model was trained on.
    assert given == ["What does the image describe?"] * 2
    assert "Release notes" not in florence2.processor.batch_decode(inputs["input_ids"])[0]


def test_florence2_task_named_at_load(tiny_florence2_dir: Path) -> None:
    model = load_hf_prompted(str(tiny_florence2_dir), device="cpu", task="<OCR>")
    assert model.prompt_text(prompt(max_length=40)) == "<OCR>"
    given = model.processor.batch_decode(model.inputs(images()[:1], [prompt()])["input_ids"], skip_special_tokens=True)
    assert given == ["What is the text in the image?"]
    assert ";prompt=task:<OCR>;" in model.key()


@pytest.mark.slow
def test_prompts_with_different_budgets_or_tasks_are_answered_in_their_own_calls(
        florence2: TransformersPromptedModel) -> None:
    prompts = [prompt(max_length=40), prompt(max_length=101), prompt(max_length=40)]
    answers = florence2.answer(images(), prompts)
    assert answers[1] == florence2.answer([images()[1]], [prompts[1]])[0]
    assert [answers[0], answers[2]] == florence2.answer([images()[0], images()[2]], [prompts[0], prompts[2]])


def test_key_names_what_changes_answers(smolvlm: TransformersPromptedModel, florence2: TransformersPromptedModel,
                                        tiny_smolvlm_dir: Path) -> None:
    assert smolvlm.key() == "family=idefics3;prompt=chat;num_beams=1;no_repeat_ngram_size=0;dtype=float32;quantize=none"
    # Without settings, the beams and n-gram rule are the model's own (the tiny Florence-2's are its card's).
    assert florence2.key() == ("family=florence2;prompt=task:by-length;num_beams=3;"
                               "no_repeat_ngram_size=3;dtype=float32;quantize=none")
    beams = load_hf_prompted(str(tiny_smolvlm_dir), device="cpu",
                             generation=GenerationSettings(num_beams=2, no_repeat_ngram_size=3))
    assert "num_beams=2;no_repeat_ngram_size=3" in beams.key()
    answers = beams.answer(images(), [prompt()] * 3)
    assert len(answers) == 3 and all(isinstance(answer, str) for answer in answers)


def test_model_id_and_revision_identify_the_folder(smolvlm: TransformersPromptedModel, tiny_smolvlm_dir: Path) -> None:
    from alttext.caption.model import folder_fingerprint

    # As Captioner names a folder in cache keys: by its files, wherever it lies.
    assert (smolvlm.model_id, smolvlm.revision) == ("folder", folder_fingerprint(tiny_smolvlm_dir))


@pytest.mark.parametrize("options", [
    pytest.param({"device": "cpu"}, id="defaults"),
    pytest.param({"device": "cpu", "num_beams": 2, "no_repeat_ngram_size": 3}, id="beams"),
    pytest.param({"device": "cpu", "dtype": "bf16"}, id="bf16"),
])
@pytest.mark.parametrize("folder", ["tiny_smolvlm_dir", "tiny_florence2_dir"])
def test_identity_before_loading_is_the_loaded_models(folder: str, options: dict,
                                                      request: pytest.FixtureRequest) -> None:
    """The cache is read before anything loads: the key from the files must be the loaded back end's."""
    model_dir = str(request.getfixturevalue(folder))
    loaded = load_prompted(model_dir, options)
    assert prompted_identity(model_dir, options) == (loaded.model_id, loaded.revision, loaded.key())


def test_identity_of_a_missing_model_is_none(tmp_path: Path) -> None:
    assert prompted_identity(str(tmp_path / "no-such-model"), {}) is None


def test_identity_imports_neither_torch_nor_transformers(tiny_smolvlm_dir: Path) -> None:
    code = ("import sys; from alttext.caption.hf_prompted import prompted_identity; "
            f"print(prompted_identity({str(tiny_smolvlm_dir)!r}, {{'device': 'cpu'}})[2], "
            "'torch' in sys.modules, 'transformers' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.split()[-2:] == ["False", "False"]
    assert result.stdout.startswith("family=idefics3;prompt=chat;")


def test_int8_on_the_cpu(tiny_smolvlm_dir: Path) -> None:
    model = load_prompted(str(tiny_smolvlm_dir), {"device": "cpu", "quantize": "int8"})
    assert model.key().endswith("dtype=float32;quantize=int8")
    assert all(isinstance(answer, str) for answer in model.answer(images()[:2], [prompt()] * 2))


@pytest.mark.slow
def test_bf16_when_asked(tiny_florence2_dir: Path) -> None:
    model = load_hf_prompted(str(tiny_florence2_dir), device="cpu", dtype="bf16")
    assert model.model.dtype == torch.bfloat16 and "dtype=bfloat16" in model.key()
    assert isinstance(model.answer(images()[:1], [prompt()])[0], str)


@pytest.mark.slow
def test_cached_hub_id_loads_offline_with_its_commit(tiny_florence2_dir: Path, tmp_path: Path) -> None:
    """In a fresh interpreter, so the cache location and offline mode apply from import on."""
    from tests.test_model_loading import COMMIT, fake_hub_cache

    fake_hub_cache(tmp_path / "hub", "florence-community/Florence-2-base", tiny_florence2_dir)
    script = ("from alttext.caption.hf_prompted import load_hf_prompted\n"
              "model = load_hf_prompted('florence-community/Florence-2-base', device='cpu')\n"
              "print(model.model_id, model.revision, model.mode)\n")
    env = {**os.environ, "HF_HUB_CACHE": str(tmp_path / "hub"), "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-c", script], env=env, cwd=REPO_ROOT, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["florence-community/Florence-2-base", COMMIT, "florence2-task"]
    # Found in the cache without loading, with the same identity.
    script = ("from alttext.caption.hf_prompted import prompted_identity\n"
              "print(*prompted_identity('florence-community/Florence-2-base', {'device': 'cpu'})[:2])\n")
    result = subprocess.run([sys.executable, "-c", script], env=env, cwd=REPO_ROOT, capture_output=True, text=True,
                            timeout=120, check=True)
    assert result.stdout.split() == ["florence-community/Florence-2-base", COMMIT]


# Models that cannot be loaded: one line naming the model and what is wrong.

def assert_one_line_naming(error: Exception, name: str) -> None:
    message = str(error)
    assert "\n" not in message and name in message, message


def test_missing_folder(tmp_path: Path) -> None:
    missing = str(tmp_path / "no-such-model")
    with pytest.raises(ModelUnavailable, match="does not exist") as caught:
        load_hf_prompted(missing, device="cpu")
    assert_one_line_naming(caught.value, missing)


def test_uncached_hub_model_offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(ModelUnavailable, match="HF_HUB_OFFLINE is set") as caught:
        load_hf_prompted("HuggingFaceTB/SmolVLM-256M-Instruct", device="cpu")
    assert_one_line_naming(caught.value, "HuggingFaceTB/SmolVLM-256M-Instruct")


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:3000])


@pytest.mark.parametrize(("damage", "message"), [
    pytest.param(lambda folder: truncate(folder / "model.safetensors"), "header", id="truncated-weights"),
    pytest.param(lambda folder: (folder / "model.safetensors").unlink(), "model.safetensors", id="no-weights"),
    pytest.param(lambda folder: (folder / "config.json").write_text('{"model_type": '), "not a valid JSON file",
                 id="broken-config"),
    pytest.param(lambda folder: (folder / "processor_config.json").unlink(), "image processor", id="no-processor"),
    pytest.param(lambda folder: (folder / "chat_template.jinja").unlink(), "no chat template", id="no-chat-template"),
])
def test_damaged_folder(tiny_smolvlm_dir: Path, tmp_path: Path, damage, message: str) -> None:
    folder = shutil.copytree(tiny_smolvlm_dir, tmp_path / "damaged")
    damage(folder)
    with pytest.raises(ModelUnavailable, match=message) as caught:
        load_hf_prompted(str(folder), device="cpu")
    assert_one_line_naming(caught.value, str(folder))


def test_an_image_to_text_captioning_model_is_pointed_to_the_torch_backend(tiny_model_dir: Path) -> None:
    with pytest.raises(ModelUnavailable, match="not an image-text-to-text model.*--backend torch") as caught:
        load_hf_prompted(str(tiny_model_dir), device="cpu")
    assert_one_line_naming(caught.value, str(tiny_model_dir))


@pytest.mark.parametrize(("kwargs", "message"), [
    pytest.param({"task": "<OD>"}, "unknown Florence-2 task '<OD>'", id="unknown-task"),
    pytest.param({"device": "tpu"}, "unknown device", id="unknown-device"),
    pytest.param({"dtype": "fp8"}, "unknown dtype", id="unknown-dtype"),
])
def test_bad_options_are_value_errors(tiny_smolvlm_dir: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_hf_prompted(str(tiny_smolvlm_dir), **kwargs)


def test_a_task_for_a_chat_model_is_a_value_error(tiny_smolvlm_dir: Path) -> None:
    with pytest.raises(ValueError, match="Florence-2 models only"):
        load_hf_prompted(str(tiny_smolvlm_dir), device="cpu", task="<CAPTION>")


def test_a_processor_that_needs_torchvision_says_so(tiny_smolvlm_dir: Path, tmp_path: Path) -> None:
    """SmolVLM2's processor (model type smolvlm) has a video processor, which transformers builds with torchvision."""
    import importlib.util

    if importlib.util.find_spec("torchvision") is not None:
        pytest.skip("torchvision is installed here")
    folder = shutil.copytree(tiny_smolvlm_dir, tmp_path / "smolvlm2")
    for name in ("config.json", "processor_config.json"):
        text = (folder / name).read_text(encoding="utf-8")
        (folder / name).write_text(text.replace('"idefics3"', '"smolvlm"').replace("Idefics3", "SmolVLM"),
                                   encoding="utf-8")
    with pytest.raises(ModelUnavailable, match="needs torchvision: pip install torchvision") as caught:
        load_hf_prompted(str(folder), device="cpu")
    assert_one_line_naming(caught.value, str(folder))


@pytest.mark.slow
@pytest.mark.parametrize("folder", ["tiny_smolvlm_dir", "tiny_florence2_dir"])
def test_fix_with_the_vlm_backend_writes_the_models_answers(folder: str, request: pytest.FixtureRequest,
                                                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """`alttext fix --backend vlm` end to end: the prompted path, the cache and the writer."""
    from PIL import Image

    from alttext.cli import main
    from alttext.scan import find_images

    model = str(request.getfixturevalue(folder))
    Image.new("RGB", (64, 48), (200, 40, 40)).save(tmp_path / "red.png")
    (tmp_path / "page.md").write_text("# Sales\n\n![](red.png)\n", encoding="utf-8")
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    argv = ["fix", "--backend", "vlm", "--model", model, "--ocr", "off", "page.md"]
    status = main(argv)
    err = capsys.readouterr().err
    (image,) = find_images((tmp_path / "page.md").read_text(encoding="utf-8"), "markdown")
    if status == 1:  # written: a random model's words read back as the alt text
        assert image.alt and image.src == "red.png"
    else:  # a random model's answer may be no usable alt text: an error naming the image, nothing written
        assert status == 2 and not image.alt and "page.md:3:1: error:" in err and "no usable alt text" in err, err
    # The second run asks the model nothing: the answer (or its refusal) is cached.
    assert main(argv) == (0 if status == 1 else 2)
    assert "Loading weights" not in capsys.readouterr().err


def test_given_prompts_are_asked_as_they_are_once_each(tiny_smolvlm_dir: Path, tmp_path: Path) -> None:
    """What `alttext serve` relays: a prompt given per image replaces the template's, and each
    distinct (image, prompt) is asked once and cached under that prompt."""
    from PIL import Image

    from alttext.caption.captioner import Captioner
    from alttext.caption.prompted import Prompt

    image = Image.new("RGB", (64, 48), (20, 120, 200))
    sales, staff = (Prompt("Answer in JSON.", f"Page title: {title}. Write the alt text.") for title in ("Sales", "Staff"))
    captioner = Captioner(tiny_smolvlm_dir, backend="vlm", cache=tmp_path / "cache", ocr="off")
    first = captioner.caption_results([image, image, image], ["a", "b", "c"], prompts=[sales, staff, sales])
    assert captioner.images_captioned == 2
    assert first[0].raw == first[2].raw and all(result.raw for result in first)
    again = captioner.caption_results([image, image], ["a", "b"], prompts=[staff, None])  # None: the template's
    assert again[0].cached and again[0].raw == first[1].raw
    assert not again[1].cached and captioner.images_captioned == 3
    with pytest.raises(ValueError, match="1 prompts for 2 images"):
        captioner.caption_results([image, image], prompts=[sales])
    captioner.close()
