"""An Inspect model as the report extractor of ``cardiolens build-qa --model``."""

from __future__ import annotations

import asyncio
from typing import Any

from inspect_ai.model import GenerateConfig, Model, get_model

from cardiolens.data.taxonomy import load_taxonomy
from cardiolens.importers.report_qa import Extractor, extraction_prompt, parse_model_answers


def model_extractor(model: str | Model) -> Extractor:
    """Report text -> answers, asked of ``model`` with the taxonomy as the JSON schema.

    Answers that are not option texts are dropped later by build-qa's validation.
    """
    taxonomy = load_taxonomy()
    resolved = get_model(model, config=GenerateConfig(temperature=0.0))

    def extract(text: str) -> dict[str, Any]:
        reply = asyncio.run(resolved.generate(extraction_prompt(text, taxonomy)))
        return parse_model_answers(reply.completion)

    return extract
