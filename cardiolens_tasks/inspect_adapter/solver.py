"""The multi-image CMR prompt solver: builds the message when the sample runs."""

from __future__ import annotations

import base64

import anyio
from inspect_ai.event import ModelEvent
from inspect_ai.log import transcript
from inspect_ai.model import ChatMessage, ChatMessageUser, Content, ContentImage, ContentText
from inspect_ai.solver import Generate, Solver, TaskState, solver

from ..dataset import Item
from ..prompt_builder import PromptBuilder
from ..prompts import Prompt

IMAGE_PLACEHOLDER = "[image not logged]"


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


@solver
def cmr_prompt(builder: PromptBuilder, items: dict[str, Item], log_images: bool) -> Solver:
    """Select, render and ask; store the displayed options for the scorer."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        item = items[str(state.sample_id)]
        prompt = await anyio.to_thread.run_sync(builder.build, item)
        state.messages = [ChatMessageUser(content=to_content(prompt))]
        state.metadata["options"] = prompt.options
        state.metadata["images"] = len(prompt.images)
        state = await generate(state)
        if not log_images:
            strip_logged_images(state)
        return state

    return solve
