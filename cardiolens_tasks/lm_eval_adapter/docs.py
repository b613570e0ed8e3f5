"""Framework-free support for harnesses that work on documents (lm-eval's task YAMLs).

:func:`load_docs` turns a dataset into one lightweight document per item; the prompt of a
document (images and text) comes from the same :class:`PromptBuilder` the Inspect tasks
use, so the same item, protocol and seed give the same images and question text in both
frameworks. :func:`score_doc` and the ``aggregate_*`` functions reuse the Inspect scorers'
core functions, so the same outputs give the same metrics. Options arrive as keyword
arguments (YAML metadata, ``--metadata`` and model args mixed together); they are the
options of the Inspect task of the same level, checked by the same code
(:mod:`cardiolens.prompting.task_options`), and the items come from the same selector
(:func:`cardiolens.data.items.select_items`).
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
from collections import OrderedDict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from cardiolens.cache import cache_root
from cardiolens.data.dataset import Item, read_dataset
from cardiolens.data.items import asked_items, select_items
from cardiolens.data.taxonomy import load_taxonomy
from cardiolens.errors import CardiolensError
from cardiolens.lm_eval_adapter.readable import dropped_line, unreadable
from cardiolens.lm_eval_adapter.uncaught import report_as_one_line
from cardiolens.phantom.cohort import default_cohort
from cardiolens.prompting.prompt_builder import PromptBuilder
from cardiolens.prompting.prompts import Prompt
from cardiolens.prompting.rendering import RenderCache
from cardiolens.prompting.selection import input_metadata
from cardiolens.prompting.task_options import TaskOptions, parse_task_options
from cardiolens.scorers.item_scoring import choice_record, report_scores

IMAGE_TOKEN = "<image>"


@dataclass(frozen=True)
class _Source:
    builder: PromptBuilder
    items: dict[str, Item]


_sources: dict[str, _Source] = {}
_prompts: OrderedDict[tuple[str, str], Prompt] = OrderedDict()
PROMPT_MEMO = 64


def options_from(options: dict[str, Any]) -> TaskOptions:
    """The task options in lm-eval's metadata, checked as the Inspect tasks check them.

    ``level`` (set by each task YAML) picks the options, with the same names as the
    Inspect task of that level. Strings are converted (model args are strings); empty
    values count as not given. lm-eval mixes model args into the metadata, so a name that
    is no option is ignored unless it is close to one (``budgett``). Every refused option
    is named in one :class:`OptionError`.
    """
    values = {k: v for k, v in options.items() if v is not None and v != ""}
    level = values.pop("level", "")
    return parse_task_options(level, values, loose=True, unknown="near")[0]


def load_docs(**options: Any) -> dict[str, Any]:
    """The documents of one task as ``{"test": datasets.Dataset}`` (lm-eval custom_dataset).

    Options: see :func:`options_from`; ``data`` is a folder relative to the working
    directory (default: the phantom cohort). A refused option or an unreadable dataset
    raises a :class:`CardiolensError`; if nothing catches it (lm-eval's command line
    does not), Python prints it as one line instead of a traceback through lm-eval
    (:func:`~cardiolens.lm_eval_adapter.uncaught.report_as_one_line`).
    """
    try:
        return documents(options, drop_unreadable=True)
    except CardiolensError:
        report_as_one_line()
        raise


def documents(options: dict[str, Any], drop_unreadable: bool) -> dict[str, Any]:
    """:func:`load_docs` with the choice: ``drop_unreadable`` leaves out (with one line on
    stderr) the documents whose images cannot be read (:mod:`.readable`); without it they
    stay, and building their prompt raises the :class:`VolumeError` (``cardiolens
    prerender`` records it in the row)."""
    import datasets

    checked = options_from(options)
    settings = checked.settings
    if (options.get("max_images") not in (None, "") and settings.layout == "separate"
            and settings.max_images < settings.budget):
        print(f"cardiolens: max_images={settings.max_images} is below budget={settings.budget}: "
              "backends send only the first max_images images and keep every caption; use "
              "layout=mosaic or a budget of at most max_images", file=sys.stderr)
    taxonomy = load_taxonomy()
    root = (Path(checked.data).expanduser().resolve() if checked.data else default_cohort())
    dataset = read_dataset(root, on_problem=lambda line: print(f"cardiolens: skipped {line}",
                                                               file=sys.stderr))
    items = select_items(dataset.items, checked.level, taxonomy, checked.subtasks,
                         checked.sequences, checked.limit_studies, settings.etiology)
    if not items:
        raise CardiolensError(f"{root}: no {checked.level} items match the filters")
    key = hashlib.sha256(f"{root}\x1f{checked.settings}".encode()).hexdigest()[:16]
    cache = RenderCache(cache_root() / "render" if checked.cache else None)
    builder = PromptBuilder(root, dataset.studies, checked.settings, cache)
    asked = asked_items(dataset.items, {"diagnosis_etiology": settings.etiology}, taxonomy)
    _sources[key] = _Source(builder, {item.item_id: item for item in asked})
    if drop_unreadable:
        bad = unreadable(builder, items, taxonomy)
        if bad:
            print(dropped_line(bad, len(items)), file=sys.stderr)
            if len(bad) == len(items):
                raise CardiolensError(f"{root}: no {checked.level} item has readable images")
            items = [item for item in items if item.item_id not in bad]
    rows = []
    in_effect = json.dumps(asdict(settings), sort_keys=True)
    for item in items:
        subtask = taxonomy.get(item.subtask)
        rows.append({"source": key, "item_id": item.item_id, "study_id": item.study_id,
                     "level": item.level, "subtask": item.subtask,
                     "answer_type": subtask.answer_type, "settings": in_effect,
                     **_input_fields(subtask.series, dataset.studies[item.study_id],
                                     dataset.card.source, settings.budget),
                     "target": json.dumps(item.answer if item.answer is not None
                                          else item.reference)})
    return {"test": datasets.Dataset.from_list(rows)}


def _input_fields(routed: Any, study: Any, source: str, budget: int) -> dict[str, Any]:
    """Doc fields for ``cardiolens analyze``: frames available (and whether the budget takes
    them all, so every protocol sends the same images), the dataset source (``data_source``;
    ``source`` names the loaded dataset) and the study meta (JSON)."""
    fields_ = input_metadata(routed, study, source)
    return {"frames_available": fields_["frames_available"],
            "identical_across_protocols": budget >= fields_["frames_available"],
            "data_source": fields_["source"],
            "meta": json.dumps(fields_["meta"], sort_keys=True)}


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
    """The prompt's images as PIL images in RGB mode (the grey level in all three channels),
    in order: image processors that do not convert (SigLIP-based ones, for example) expect
    three channels and fail on a one-channel image."""
    return [Image.open(io.BytesIO(image.png)).convert("RGB") for image in doc_prompt(doc).images]


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
