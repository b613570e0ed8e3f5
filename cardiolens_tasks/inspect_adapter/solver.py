"""The multi-image CMR prompt solver: builds the message when the sample runs."""

from __future__ import annotations

import base64
import os

import anyio
from inspect_ai.event import ModelEvent
from inspect_ai.log import transcript
from inspect_ai.model import ChatMessage, ChatMessageUser, Content, ContentImage, ContentText
from inspect_ai.solver import Generate, Solver, TaskState, solver

from cardiolens.data.dataset import Item
from cardiolens.prompting.prompt_builder import PromptBuilder
from cardiolens.prompting.prompts import Prompt

IMAGE_PLACEHOLDER = "[image not logged]"
ITEM_KEY = "cardiolens_item"
"""Store key holding the item id while a sample runs (``cardiolens/random`` seeds on it)."""
BUILD_THREADS = min(8, os.cpu_count() or 2)
"""Prompts built at once. Building is CPU-bound and holds decoded series, so more threads
than cores only raise peak memory (40, anyio's default, took a cold run past 900 MB)."""


def to_content(prompt: Prompt) -> list[Content]:
    """Prompt parts in order: intro, caption + image per image, question block."""
    parts: list[Content] = [ContentText(text=prompt.intro)]
    for image in prompt.images:
        parts.append(ContentText(text=image.caption))
        data = base64.b64encode(image.png).decode("ascii")
        parts.append(ContentImage(image=f"data:image/png;base64,{data}"))
    parts.append(ContentText(text=prompt.question))
    return parts


def _strip(messages: list[ChatMessage]) -> None:
    for message in messages:
        if isinstance(message.content, list):
            message.content = [ContentText(text=IMAGE_PLACEHOLDER)
                               if isinstance(part, ContentImage) else part
                               for part in message.content]


def strip_logged_images(state: TaskState) -> None:
    """Replace image data in the sample's messages and model events by a placeholder."""
    _strip(state.messages)
    for event in transcript().events:
        if isinstance(event, ModelEvent):
            _strip(event.input)
            event.call = None   # the raw request body carries the images too


def _build(builder: PromptBuilder, item: Item) -> tuple[Prompt, list[Content]]:
    """Prompt and message parts, made off the event loop (base64 included)."""
    prompt = builder.build(item)
    return prompt, to_content(prompt)


@solver
def cmr_prompt(builder: PromptBuilder, items: dict[str, Item], log_images: bool) -> Solver:
    """Select, render and ask; store the displayed options for the scorer."""

    limiter: list[anyio.CapacityLimiter] = []      # made in the event loop, on first use

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        item = items[str(state.sample_id)]
        if not limiter:
            limiter.append(anyio.CapacityLimiter(BUILD_THREADS))
        prompt, content = await anyio.to_thread.run_sync(_build, builder, item,
                                                         limiter=limiter[0])
        state.messages = [ChatMessageUser(content=content)]
        state.metadata["options"] = prompt.options
        state.metadata["images"] = len(prompt.images)
        state.store.set(ITEM_KEY, item.item_id)
        state = await generate(state)
        if not log_images:
            strip_logged_images(state)
        return state

    return solve
