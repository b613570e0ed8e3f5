"""Framework-free support for harnesses that work on documents (lm-eval's task YAMLs).

:func:`load_docs` turns a dataset into one lightweight document per item; the prompt of a
document (images and text) comes from the same :class:`PromptBuilder` the Inspect tasks
use, so the same item, protocol and seed give the same images and question text in both
frameworks. :func:`score_doc` and the ``aggregate_*`` functions reuse the Inspect scorers'
core functions, so the same outputs give the same metrics. Options arrive as keyword
arguments (YAML metadata, ``--metadata`` and model args mixed together): known keys are
validated, the rest ignored.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections import OrderedDict
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from PIL import Image

from cardiolens.cache import cache_root
from cardiolens.data.dataset import Dataset, Item, read_dataset
from cardiolens.data.taxonomy import LEVELS, load_taxonomy
from cardiolens.errors import CardiolensError
from cardiolens.phantom.cohort import default_cohort
from cardiolens.prompting.prompt_builder import PromptBuilder, PromptSettings
from cardiolens.prompting.prompts import Prompt
from cardiolens.prompting.rendering import RenderCache
from cardiolens.scorers.item_scoring import choice_record, report_scores

IMAGE_TOKEN = "<image>"
FILTER_KEYS = ("level", "subtask", "sequence")
_BOOL = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


@dataclass(frozen=True)
class _Source:
    builder: PromptBuilder
    items: dict[str, Item]


_sources: dict[str, _Source] = {}
_prompts: OrderedDict[tuple[str, str], Prompt] = OrderedDict()
PROMPT_MEMO = 64


def _coerce(name: str, value: Any, kind: type) -> Any:
    if kind is bool:
        if isinstance(value, bool):
            return value
        if str(value).lower() in _BOOL:
            return _BOOL[str(value).lower()]
        raise ValueError(f"{name} must be true or false, not {value!r}")
    if kind is int:
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be an integer, not {value!r}") from None
    return str(value)


def settings_from(options: dict[str, Any]) -> PromptSettings:
    """PromptSettings from loose keyword options (strings allowed); unknown keys ignored."""
    kinds = {"budget": int, "image_size": int, "max_images": int, "seed": int,
             "images": bool, "shuffle_options": bool}
    values = {f.name: _coerce(f.name, options[f.name], kinds.get(f.name, str))
              for f in fields(PromptSettings) if options.get(f.name) not in (None, "")}
    return PromptSettings(**values)


def _items(dataset: Dataset, options: dict[str, Any]) -> list[Item]:
    taxonomy = load_taxonomy()
    level = str(options.get("level", ""))
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    wanted = {s.strip() for s in str(options.get("subtask") or "").split(",") if s.strip()}
    sequence = str(options.get("sequence") or "")
    out = []
    for item in dataset.items:
        subtask = taxonomy.get(item.subtask)
        if subtask.level != level or (wanted and item.subtask not in wanted):
            continue
        groups = subtask.sequences if len(subtask.sequences) == 1 else ("cross",)
        if sequence and sequence not in groups:
            continue
        out.append(item)
    return out


def load_docs(**options: Any) -> dict[str, Any]:
    """The documents of one task as ``{"test": datasets.Dataset}`` (lm-eval custom_dataset).

    Options: ``data`` (folder, relative to the working directory; default the phantom
    cohort), the :class:`PromptSettings` fields, and the task's ``level`` / ``subtask`` /
    ``sequence`` filters. Unknown keys (lm-eval passes model args too) are ignored.
    """
    import datasets

    data = options.get("data")
    root = Path(str(data)).expanduser().resolve() if data else default_cohort()
    settings = settings_from(options)
    dataset = read_dataset(root, on_problem=lambda line: print(f"cardiolens: skipped {line}"))
    items = _items(dataset, options)
    if not items:
        raise CardiolensError(f"{root}: no items for {options.get('level')} "
                              f"{options.get('subtask') or options.get('sequence') or ''}")
    key = hashlib.sha256(f"{root}\x1f{settings}".encode()).hexdigest()[:16]
    cache = RenderCache(cache_root() / "render" if _coerce("cache", options.get("cache", True),
                                                            bool) else None)
    builder = PromptBuilder(root, dataset.studies, settings, cache)
    _sources[key] = _Source(builder, {item.item_id: item for item in dataset.items})
    taxonomy = load_taxonomy()
    rows = []
    for item in items:
        subtask = taxonomy.get(item.subtask)
        rows.append({"source": key, "item_id": item.item_id, "study_id": item.study_id,
                     "level": item.level, "subtask": item.subtask,
                     "answer_type": subtask.answer_type,
                     "target": json.dumps(item.answer if item.answer is not None
                                          else item.reference)})
    return {"test": datasets.Dataset.from_list(rows)}


def has_source(doc: dict[str, Any]) -> bool:
    """Whether this process has loaded the dataset a document comes from."""
    return doc["source"] in _sources


def doc_prompt(doc: dict[str, Any]) -> Prompt:
    """The prompt of a document (memoised: lm-eval asks for text and images separately)."""
    memo = (doc["source"], doc["item_id"])
    if memo in _prompts:
        _prompts.move_to_end(memo)
        return _prompts[memo]
    source = _sources.get(doc["source"])
    if source is None:
        raise CardiolensError("document from an unloaded cardiolens dataset; call load_docs")
    prompt = source.builder.build(source.items[doc["item_id"]])
    _prompts[memo] = prompt
    if len(_prompts) > PROMPT_MEMO:
        _prompts.popitem(last=False)
    return prompt


def doc_text(doc: dict[str, Any]) -> str:
    """The prompt text with one ``<image>`` after each caption."""
    return doc_prompt(doc).text(IMAGE_TOKEN)


def doc_images(doc: dict[str, Any]) -> list[Image.Image]:
    """The prompt's images as grayscale PIL images, in order."""
    return [Image.open(io.BytesIO(image.png)).convert("L") for image in doc_prompt(doc).images]


def doc_target(doc: dict[str, Any]) -> str:
    value = json.loads(doc["target"])
    return value if isinstance(value, str) else ", ".join(value)


def score_doc(doc: dict[str, Any], output: str) -> dict[str, Any]:
    """The per-document record every aggregation reads (choice) or the report scores."""
    target = json.loads(doc["target"])
    if doc["answer_type"] == "report":
        return report_scores(output, str(target))
    truth = [target] if isinstance(target, str) else list(target)
    return choice_record(output, doc_prompt(doc).options, doc["answer_type"], truth)



# ----------------------------------------------------------- per-document results, corpus

DIAGNOSIS_METRICS = ("accuracy", "macro_f1", "balanced_accuracy", "top_class_share",
                     "predicted_entropy", "true_entropy", "unparsed_rate")
CHOICE_METRICS = ("accuracy", "mean_item_f1", "corpus_micro_f1", "unparsed_rate")


def process_doc(doc: dict[str, Any], output: str) -> dict[str, Any]:
    """lm-eval ``process_results``: each metric gets the record its aggregation reads."""
    scored = score_doc(doc, output)
    if doc["answer_type"] == "report":
        return scored
    names = DIAGNOSIS_METRICS if doc["level"] == "diagnosis" else CHOICE_METRICS
    return {name: scored for name in names}


def task_yaml_path() -> Path:
    """The folder of the installed lm-eval task YAMLs (for ``--include_path``)."""
    from cardiolens import task_yaml

    return Path(task_yaml.__file__).resolve().parent
