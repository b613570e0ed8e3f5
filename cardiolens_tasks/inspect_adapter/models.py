"""``--model cardiolens/random``: an offline, seeded baseline that answers every task.

It reads only the request text: the lettered options and the answer instructions.
``-M latency=SECONDS`` makes each call wait, to measure throughput against a slow model. Choice
items get a uniformly random valid answer (a non-empty random subset for multi-label
items; the ``Answer:`` line style for reasoning prompts); report items get a minimal
report. The answer is seeded on the item (the sample's id, which the cardiolens solver
puts in the sample store), the request text and ``--seed``: blind prompts of one subtask
are alike, so seeding on the text alone would give every item the same answer. Token
usage is reported from a character count, so no tokenizer download is ever needed.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from typing import Any

import numpy as np
from inspect_ai.model import (
    ChatMessage,
    ChatMessageUser,
    ContentText,
    GenerateConfig,
    ModelAPI,
    ModelOutput,
    ModelUsage,
    modelapi,
)
from inspect_ai.tool import ToolChoice, ToolInfo
from inspect_ai.util import store

from cardiolens.data.answer_format import REPORT_MARKER
from cardiolens.inspect_adapter.solver import ITEM_KEY

OPTION_LINE = re.compile(r"^([A-Z])\. \S", re.MULTILINE)
MINIMAL_REPORT = "No significant abnormality is identified."


def _text(message: ChatMessage) -> str:
    if isinstance(message.content, str):
        return message.content
    return "\n".join(part.text for part in message.content if isinstance(part, ContentText))


def random_answer(prompt: str, seed: int, item: str = "") -> str:
    """A seeded random valid answer to a CardioLens prompt (text only) for ``item``."""
    digest = hashlib.sha256(f"{seed}\x1f{item}\x1f{prompt}".encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
    letters = OPTION_LINE.findall(prompt.split("Options:", 1)[-1]) if "Options:" in prompt else []
    reasoning = "Answer:" in prompt or REPORT_MARKER in prompt
    if not letters:
        return f"Findings: none.\n{REPORT_MARKER} {MINIMAL_REPORT}" if reasoning else MINIMAL_REPORT
    if "More than one option may be correct" in prompt:
        count = int(rng.integers(1, len(letters) + 1))
        chosen = sorted(rng.choice(letters, size=count, replace=False).tolist())
    else:
        chosen = [str(rng.choice(letters))]
    answer = ", ".join(chosen)
    return f"A random guess.\nAnswer: {answer}" if reasoning else answer


class RandomModel(ModelAPI):
    """Seeded random answers; no network, no API key."""

    def __init__(self, model_name: str, base_url: str | None = None,
                 api_key: str | None = None, config: GenerateConfig | None = None,
                 **model_args: Any) -> None:
        config = config or GenerateConfig()
        super().__init__(model_name, base_url, api_key, [], config)
        if model_name != "random":
            raise ValueError(f"unknown cardiolens model {model_name!r}; "
                             "available: random, reader")
        self.seed = int(model_args.get("seed", config.seed or 0))
        self.latency = float(model_args.get("latency", 0.0))

    async def generate(self, input: list[ChatMessage], tools: list[ToolInfo],
                       tool_choice: ToolChoice, config: GenerateConfig) -> ModelOutput:
        prompt = "\n".join(_text(m) for m in input if isinstance(m, ChatMessageUser))
        seed = config.seed if config.seed is not None else self.seed
        answer = random_answer(prompt, seed, str(store().get(ITEM_KEY, "")))
        if self.latency > 0:           # -M latency=0.5: a slow remote model, for benchmarks
            await asyncio.sleep(self.latency)
        output = ModelOutput.from_content(model=f"cardiolens/{self.model_name}", content=answer)
        output.usage = ModelUsage(input_tokens=len(prompt) // 4,
                                  output_tokens=max(1, len(answer) // 4),
                                  total_tokens=len(prompt) // 4 + max(1, len(answer) // 4))
        return output

    def max_connections(self) -> int:
        return 64


def cardiolens_model(model_name: str, *args: Any, **kwargs: Any) -> ModelAPI:
    """``cardiolens/random`` or ``cardiolens/reader`` (the reference reader)."""
    if model_name == "reader":
        from cardiolens.inspect_adapter.reader_model import ReaderModel

        return ReaderModel(model_name, *args, **kwargs)
    return RandomModel(model_name, *args, **kwargs)


@modelapi(name="cardiolens")
def cardiolens_models() -> Any:
    return cardiolens_model
