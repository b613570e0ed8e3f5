"""A tiny LLaVA-style vision-language model built locally (random weights, no download).

:func:`build_tiny_vlm` writes a complete Hugging Face checkpoint folder (config, safetensors
weights, a byte-level BPE tokenizer trained here with ``tokenizers``, a CLIP image processor
and a chat template that places images), the same files a real local checkpoint has, so
``pretrained=<folder>`` works with lm-eval's ``hf-multimodal`` and ``transformers``'
``Auto*`` classes. The image token (``<|image|>``) deliberately differs from cardiolens'
``<image>`` marker, so a backend that forgets to translate the marker fails loudly.

Needs the ``[hf]`` extra (torch, transformers, tokenizers).
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from PIL import Image

from cardiolens.data.taxonomy import load_taxonomy

IMAGE_TOKEN = "<|image|>"
SPECIAL = ["<|pad|>", "<|eos|>", IMAGE_TOKEN, "<|user|>", "<|assistant|>", "<|end|>"]
IMAGE_SIZE, PATCH = 32, 8
TOKENS_PER_IMAGE = (IMAGE_SIZE // PATCH) ** 2          # patches; the CLS token is dropped
SEED = 0
# The template puts every image part where it stands among the text parts (interleaved).
CHAT_TEMPLATE = (
    "{% for message in messages %}<|{{ message['role'] }}|>\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}<|image|>"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<|end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}")


def _corpus() -> Iterator[str]:
    """Training text for the tokenizer: the taxonomy's questions and options, captions."""
    for subtask in load_taxonomy().subtasks.values():
        yield subtask.question
        yield from subtask.options
    for sequence in ("Cine", "LGE", "T2-weighted", "Perfusion"):
        for view in ("short-axis", "2-chamber", "3-chamber", "4-chamber"):
            yield (f"Image 12: {sequence} {view}, slice 7 of 12 (mid), phase 9 of 21 "
                   "(end-systole), field of view 352 x 290 mm (width x height), "
                   "1.38 mm per pixel")
    yield "Answer with the letters of all correct options. Answer: A, B. Report:"


def _tokenizer() -> Any:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=512, special_tokens=SPECIAL, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(list(_corpus()), trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<|pad|>",
                                   eos_token="<|eos|>", model_max_length=8192,
                                   extra_special_tokens={"image_token": IMAGE_TOKEN})
    fast.chat_template = CHAT_TEMPLATE
    return fast


def build_tiny_vlm(folder: Path) -> Path:
    """Write the tiny model to ``folder`` (once; later calls reuse it) and return it."""
    if (folder / "model.safetensors").is_file():
        return folder
    import torch
    from transformers import (
        CLIPImageProcessorPil,
        CLIPVisionConfig,
        LlamaConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
    )

    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = _tokenizer()
    vocab = len(tokenizer)
    config = LlavaConfig(
        vision_config=CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                       num_attention_heads=2, image_size=IMAGE_SIZE,
                                       patch_size=PATCH, projection_dim=32),
        text_config=LlamaConfig(vocab_size=vocab, hidden_size=64, intermediate_size=128,
                                num_hidden_layers=2, num_attention_heads=2,
                                num_key_value_heads=2, max_position_embeddings=8192,
                                pad_token_id=tokenizer.pad_token_id,
                                eos_token_id=tokenizer.eos_token_id, bos_token_id=None),
        image_token_index=tokenizer.convert_tokens_to_ids(IMAGE_TOKEN),
        image_seq_length=TOKENS_PER_IMAGE, vision_feature_layer=-1)
    torch.manual_seed(SEED)
    model = LlavaForConditionalGeneration(config).eval()
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    processor = LlavaProcessor(
        # no RGB conversion, as in SigLIP-based processors: one-channel images would fail
        image_processor=CLIPImageProcessorPil(
            size={"shortest_edge": IMAGE_SIZE}, do_convert_rgb=False,
            crop_size={"height": IMAGE_SIZE, "width": IMAGE_SIZE}),
        tokenizer=tokenizer, patch_size=PATCH, vision_feature_select_strategy="default",
        chat_template=CHAT_TEMPLATE, image_token=IMAGE_TOKEN,
        num_additional_image_tokens=1)                  # the CLS token the strategy drops
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def image_spans(input_ids: Sequence[int], image_token_id: int) -> list[tuple[int, int]]:
    """(start, length) of every run of consecutive image tokens in one prompt."""
    spans: list[tuple[int, int]] = []
    for i, token in enumerate(input_ids):
        if token != image_token_id:
            continue
        if spans and spans[-1][0] + spans[-1][1] == i:
            spans[-1] = (spans[-1][0], spans[-1][1] + 1)
        else:
            spans.append((i, 1))
    return spans


class TinyChat:
    """Answers OpenAI chat parts (text and PNG bytes, in order) with the tiny model.

    Images are converted to RGB as OpenAI-compatible servers (vLLM) do.

    Records what reached the model for each request: the number of images and the
    image-token spans of the prompt, so tests can check them.
    """

    def __init__(self, folder: Path, max_new_tokens: int = 24) -> None:
        import torch
        from transformers import AutoModelForImageTextToText, AutoProcessor

        torch.set_num_threads(1)
        self.processor = AutoProcessor.from_pretrained(folder)
        self.model = AutoModelForImageTextToText.from_pretrained(folder).eval()
        self.image_token_id = self.model.config.image_token_index
        self.max_new_tokens = max_new_tokens
        self.seen: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def __call__(self, parts: Sequence[str | bytes]) -> str:
        import torch

        content: list[dict[str, Any]] = []
        images: list[Image.Image] = []
        for part in parts:
            if isinstance(part, bytes):
                images.append(Image.open(io.BytesIO(part)).convert("RGB"))
                content.append({"type": "image"})
            else:
                content.append({"type": "text", "text": part})
        text = self.processor.apply_chat_template([{"role": "user", "content": content}],
                                                  add_generation_prompt=True)
        inputs = self.processor(text=[text], images=images or None, return_tensors="pt")
        with self._lock, torch.no_grad():
            out = self.model.generate(**inputs, max_new_tokens=self.max_new_tokens,
                                      do_sample=False)
            ids = inputs["input_ids"][0].tolist()
            answer = str(self.processor.decode(out[0, len(ids):], skip_special_tokens=True))
            self.seen.append({"images": len(images), "input_ids": ids, "answer": answer,
                              "spans": image_spans(ids, self.image_token_id),
                              "pixel_images": 0 if "pixel_values" not in inputs
                              else int(inputs["pixel_values"].shape[0])})
        return answer


@contextmanager
def serve(answer: Callable[[list[str | bytes]], str], model: str) -> Iterator[str]:
    """The project's OpenAI-compatible server (``serve-reader``'s) answering with ``answer``
    on a free loopback port; yields the base URL (``http://127.0.0.1:PORT/v1``)."""
    from cardiolens.reader.server import make_server

    server = make_server("127.0.0.1", 0, answer=answer, model_name=model)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def hf_available() -> str | None:
    """None when the ``[hf]`` extra is installed, else the reason to skip."""
    try:
        import accelerate  # noqa: F401
        import tokenizers  # noqa: F401
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as exc:
        return f"needs the [hf] extra (pip install -e '.[hf]'): {exc.name} is missing"
    return None


def quiet_env() -> dict[str, str]:
    """Environment for subprocesses: offline hub, no telemetry, one thread per process."""
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
            "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
            "OMP_NUM_THREADS": "1"}
