"""The multi-image CMR prompt solver (builds the message when the sample runs) and the
cleanup that keeps images out of the log."""

from __future__ import annotations

import base64
import os
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from inspect_ai.event import ModelEvent, StateEvent
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
    return [ContentText(text=part) if isinstance(part, str) else
            ContentImage(image=f"data:image/png;base64,{base64.b64encode(part).decode('ascii')}")
            for part in prompt.parts()]


def _strip(messages: list[ChatMessage]) -> None:
    for message in messages:
        if isinstance(message.content, list):
            message.content = [ContentText(text=IMAGE_PLACEHOLDER)
                               if isinstance(part, ContentImage) else part
                               for part in message.content]


def _strip_json(value: Any) -> Any:
    """A JSON value with every inline image part replaced by the placeholder text part."""
    if isinstance(value, dict):
        if value.get("type") == "image" and str(value.get("image", "")).startswith("data:"):
            return {"type": "text", "text": IMAGE_PLACEHOLDER}
        return {k: _strip_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_json(v) for v in value]
    return value


def strip_logged_images(state: TaskState) -> None:
    """Replace image data by a placeholder in the sample's messages and its transcript.

    The transcript holds the images in the model calls (input and raw request), in the
    state changes recorded after each solver and in the attachments it has already split
    off its events.
    """
    _strip(state.messages)
    record = transcript()
    for key, value in record.attachments.items():
        if value.startswith("data:image/"):
            record.attachments[key] = IMAGE_PLACEHOLDER
    for event in record.events:
        if isinstance(event, ModelEvent):
            _strip(event.input)
            event.call = None   # the raw request body carries the images too
        elif isinstance(event, StateEvent):
            for change in event.changes:
                change.value = _strip_json(change.value)
                change.replaced = _strip_json(change.replaced)


def _build(builder: PromptBuilder, item: Item) -> tuple[Prompt, list[Content]]:
    """Prompt and message parts, made off the event loop (base64 included)."""
    prompt = builder.build(item)
    return prompt, to_content(prompt)


@solver
def cmr_prompt(builder: PromptBuilder, items: dict[str, Item]) -> Solver:
    """Build the CMR prompt of the sample and append it as the user message.

    Select, render and caption the images, then append the user message to
    ``state.messages`` and store the displayed options for the scorer. The sample's own
    input message (the bare question, kept for ``inspect view``) is taken out first, so
    the model reads the question once. Messages added by earlier solvers, such as
    ``system_message(...)``, stay in place. Follow it with ``generate()``.
    """

    limiter: list[anyio.CapacityLimiter] = []      # made in the event loop, on first use

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        item = items[str(state.sample_id)]
        if not limiter:
            limiter.append(anyio.CapacityLimiter(BUILD_THREADS))
        prompt, content = await anyio.to_thread.run_sync(_build, builder, item,
                                                         limiter=limiter[0])
        state.messages = [m for m in state.messages
                          if not (isinstance(m, ChatMessageUser) and m.source == "input")]
        state.messages.append(ChatMessageUser(content=content))
        state.metadata["options"] = prompt.options
        state.metadata["images"] = len(prompt.images)
        state.store.set(ITEM_KEY, item.item_id)
        state.metadata["frames"] = prompt.frames
        if "frames_available" in state.metadata:     # every protocol sends every frame
            state.metadata["identical_across_protocols"] = (
                builder.settings.budget >= state.metadata["frames_available"])
        return state

    return solve


def image_stripper(log_images: bool) -> Callable[[TaskState], Awaitable[None]] | None:
    """A task ``cleanup`` that keeps images out of the log (``None`` if they may stay).

    It runs after the solvers and scorers of each sample, errors included, whatever
    solvers the chain holds, so composing the chain cannot leak images into the log.
    """
    if log_images:
        return None

    async def cleanup(state: TaskState) -> None:
        strip_logged_images(state)

    return cleanup
