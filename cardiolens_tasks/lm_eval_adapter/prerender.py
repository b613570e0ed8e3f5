"""Pre-render prompts once into Parquet (Hugging Face ``datasets``), for reuse elsewhere.

Each row is one item with everything a model sees (prompt text with ``<image>`` markers,
captions, PNG images, options) and the target, built by the same :class:`PromptBuilder` as
the tasks, so rows match what ``inspect eval`` and ``lm_eval`` send for the same settings.
Rendering runs in ``num_proc`` worker processes (``datasets.Dataset.map``). An item whose
volume cannot be read becomes a row with ``error`` set and no images; the rest go on.
The images are the dataset's pixels: keep the file wherever the dataset itself may live.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cardiolens.errors import CardiolensError
from cardiolens.lm_eval_adapter.docs import IMAGE_TOKEN, doc_prompt, documents, has_source


@dataclass(frozen=True)
class PrerenderSummary:
    rows: int
    errors: list[str]
    path: Path


@dataclass(frozen=True)
class _Render:
    """Render one document; picklable, so it also works in spawned worker processes,
    where the parent's loaded sources are absent and are loaded again from ``options``."""

    options: dict[str, Any]

    def __call__(self, doc: dict[str, Any]) -> dict[str, Any]:
        if not has_source(doc):
            documents(self.options, drop_unreadable=False)
        return _render(doc)


def _render(doc: dict[str, Any]) -> dict[str, Any]:
    try:
        prompt = doc_prompt(doc)
    except CardiolensError as exc:
        return {"text": "", "captions": [], "images": [], "options": [], "error": str(exc)}
    return {"text": prompt.text(IMAGE_TOKEN),
            "captions": [image.caption for image in prompt.images],
            "images": [{"bytes": image.png, "path": None} for image in prompt.images],
            "options": list(prompt.options), "error": ""}


def prerender(out: Path, num_proc: int = 1, **options: Any) -> PrerenderSummary:
    """Write the prompts of one task's items to ``out`` (Parquet).

    ``options`` are the lm-eval document options: ``level`` (required), ``data``,
    ``subtask``, ``sequence`` and the prompt settings (``selection``, ``budget``, ...).
    """
    import datasets

    docs = documents(dict(options), drop_unreadable=False)["test"]
    features = docs.features.copy()
    features.update({"text": datasets.Value("string"),
                     "captions": datasets.Sequence(datasets.Value("string")),
                     "images": datasets.Sequence(datasets.Image()),
                     "options": datasets.Sequence(datasets.Value("string")),
                     "error": datasets.Value("string")})
    rendered = docs.map(_Render(dict(options)), num_proc=num_proc if num_proc > 1 else None,
                        features=features, desc="rendering prompts")
    rendered = rendered.remove_columns("source")
    errors = [f"{row['item_id']}: {row['error']}" for row in rendered.select_columns(
        ["item_id", "error"]) if row["error"]]
    out.parent.mkdir(parents=True, exist_ok=True)
    rendered.to_parquet(str(out))
    return PrerenderSummary(len(rendered), errors, out)

