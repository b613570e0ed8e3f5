"""``--model cardiolens/reader``: the reference reader as an Inspect model.

Only the user messages' text and image parts reach the core reader
(:func:`cardiolens.reader.answer_parts`); images are PNG data URIs.
"""

from __future__ import annotations

from typing import Any

import anyio
from inspect_ai.model import (
    ChatMessage,
    ChatMessageUser,
    ContentImage,
    ContentText,
    GenerateConfig,
    ModelAPI,
    ModelOutput,
    ModelUsage,
)
from inspect_ai.tool import ToolChoice, ToolInfo

from cardiolens.reader import answer_parts
from cardiolens.reader.request import Part, decode_data_uri


def message_parts(messages: list[ChatMessage]) -> list[Part]:
    """Text and image bytes of the user messages, in order (undecodable images skipped)."""
    parts: list[Part] = []
    for message in messages:
        if not isinstance(message, ChatMessageUser):
            continue
        if isinstance(message.content, str):
            parts.append(message.content)
            continue
        for part in message.content:
            if isinstance(part, ContentText):
                parts.append(part.text)
            elif isinstance(part, ContentImage):
                data = decode_data_uri(part.image)
                parts.append(data if data is not None else b"")
    return parts


class ReaderModel(ModelAPI):
    """Deterministic classical image analysis; no network, no API key, no files."""

    def __init__(self, model_name: str, base_url: str | None = None,
                 api_key: str | None = None, config: GenerateConfig | None = None,
                 **model_args: Any) -> None:
        super().__init__(model_name, base_url, api_key, [], config or GenerateConfig())

    async def generate(self, input: list[ChatMessage], tools: list[ToolInfo],
                       tool_choice: ToolChoice, config: GenerateConfig) -> ModelOutput:
        parts = message_parts(input)
        answer = await anyio.to_thread.run_sync(answer_parts, parts)
        text_chars = sum(len(p) for p in parts if isinstance(p, str))
        output = ModelOutput.from_content(model="cardiolens/reader", content=answer)
        output.usage = ModelUsage(input_tokens=text_chars // 4,
                                  output_tokens=max(1, len(answer) // 4),
                                  total_tokens=text_chars // 4 + max(1, len(answer) // 4))
        return output

    def max_connections(self) -> int:
        return 4
