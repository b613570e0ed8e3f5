"""The task taxonomy, loaded from ``taxonomy.yaml`` and validated on load.

The YAML file is the single source of question wording, options, answer types, routed
series and applicability. Code refers to subtasks by id and never repeats their text.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml

from cardiolens.errors import TaxonomyError

Level = Literal["image_understanding", "report_generation", "diagnosis"]
AnswerType = Literal["single", "multi", "report"]

Source = Literal["paper", "inferred", "project"]
SOURCES: tuple[Source, ...] = ("paper", "inferred", "project")
REASONING_SOURCES = ("paper", "adapted", "project")
LEVELS: tuple[Level, ...] = ("image_understanding", "report_generation", "diagnosis")
ANSWER_TYPES: tuple[AnswerType, ...] = ("single", "multi", "report")
EXPECTED_COUNTS = {"image_understanding": 32, "report_generation": 5, "diagnosis": 2}


@dataclass(frozen=True)
class Subtask:
    """One question type: a Level-1 subtask, a report section or a diagnosis task."""

    id: str
    level: Level
    sequences: tuple[str, ...]
    series: tuple[str, ...]
    answer_type: AnswerType
    when: str
    question: str
    options: tuple[str, ...]
    needs: Literal["all", "any"] = "all"
    source: Source = "project"
    """Where the subtask comes from: the paper, inferred from it, or the project's own."""
    function: bool = False
    """The prompt must show a matched ED/ES pair (ventricular function)."""
    reasoning: tuple[str, ...] = ()
    """The clinical checklist that ``prompt=reasoning`` asks the model to follow."""
    reasoning_source: str = "project"
    variants: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Named option subsets (``(name, options)``); items outside a variant are not asked."""
    default_variant: str | None = None

    @property
    def primary_series(self) -> str:
        return self.series[0]

    def variant_options(self, variant: str | None) -> tuple[str, ...]:
        """The options asked under ``variant`` (``None``: the default variant)."""
        name = variant or self.default_variant
        if name is None:
            return self.options
        names = dict(self.variants)
        if name not in names:
            raise TaxonomyError(f"{self.id}: unknown variant {name!r}; choose from "
                                f"{', '.join(names) or 'none'}")
        return names[name]


@dataclass(frozen=True)
class Taxonomy:
    version: str
    sequences: dict[str, str]
    views: dict[str, str]
    conditions: dict[str, str]
    subtasks: dict[str, Subtask]
    datasets_from: tuple[str, ...] = ()

    @property
    def dataset_versions(self) -> tuple[str, ...]:
        """The card versions whose datasets this taxonomy reads: its own, then the earlier
        ones listed in ``datasets_from`` (same stored answers)."""
        return (self.version, *self.datasets_from)

    @property
    def series_keys(self) -> frozenset[str]:
        """Every valid series key, ``<sequence>_<view>``."""
        return frozenset(f"{s}_{v}" for s in self.sequences for v in self.views)

    def by_level(self, level: Level) -> list[Subtask]:
        return [t for t in self.subtasks.values() if t.level == level]

    def get(self, subtask_id: str) -> Subtask:
        try:
            return self.subtasks[subtask_id]
        except KeyError:
            raise TaxonomyError(f"unknown subtask {subtask_id!r}") from None


def _require(entry: dict[str, Any], key: str, where: str) -> Any:
    if key not in entry:
        raise TaxonomyError(f"{where}: missing field {key!r}")
    return entry[key]


def _parse_subtask(entry: dict[str, Any], level: Level, raw: dict[str, Any]) -> Subtask:
    where = f"taxonomy {level}/{entry.get('id', '?')}"
    answer_type = _require(entry, "answer_type", where)
    if answer_type not in ANSWER_TYPES:
        raise TaxonomyError(f"{where}: answer_type {answer_type!r} is not one of {ANSWER_TYPES}")
    options = tuple(str(o) for o in entry.get("options", ()))
    if answer_type == "report" and options:
        raise TaxonomyError(f"{where}: report sections take no options")
    if answer_type != "report" and len(options) < 2:
        raise TaxonomyError(f"{where}: needs at least two options")
    if len(set(options)) != len(options):
        raise TaxonomyError(f"{where}: duplicate options")
    sequences = tuple(_require(entry, "sequences", where))
    unknown = [s for s in sequences if s not in raw["sequences"]]
    if unknown:
        raise TaxonomyError(f"{where}: unknown sequences {unknown}")
    series = tuple(_require(entry, "series", where))
    valid_series = {f"{s}_{v}" for s in raw["sequences"] for v in raw["views"]}
    bad_series = [s for s in series if s not in valid_series]
    if bad_series or not series:
        raise TaxonomyError(f"{where}: bad routed series {bad_series or '[]'}")
    if {s.split("_")[0] for s in series} != set(sequences):
        raise TaxonomyError(f"{where}: routed series do not match its sequences")
    when = _require(entry, "when", where)
    if when not in raw["conditions"]:
        raise TaxonomyError(f"{where}: unknown condition {when!r}")
    needs = entry.get("needs", "all")
    if needs not in ("all", "any"):
        raise TaxonomyError(f"{where}: needs must be 'all' or 'any'")
    source = entry.get("source", "project")
    if source not in SOURCES:
        raise TaxonomyError(f"{where}: source must be one of {SOURCES}")
    reasoning = entry.get("reasoning") or {}
    steps = tuple(str(step).strip() for step in reasoning.get("steps", ()))
    if len(steps) < 2 or reasoning.get("source") not in REASONING_SOURCES:
        raise TaxonomyError(f"{where}: reasoning needs two or more steps and a source in "
                            f"{REASONING_SOURCES}")
    variants = tuple((str(name), tuple(str(o) for o in opts))
                     for name, opts in (entry.get("variants") or {}).items())
    for name, opts in variants:
        if len(opts) < 2 or set(opts) - set(options):
            raise TaxonomyError(f"{where}: variant {name!r} needs two or more of its options")
    default_variant = entry.get("default_variant")
    if default_variant is not None and default_variant not in dict(variants):
        raise TaxonomyError(f"{where}: default_variant {default_variant!r} is not a variant")
    return Subtask(
        id=str(_require(entry, "id", where)),
        level=level,
        sequences=sequences,
        series=series,
        answer_type=answer_type,
        when=when,
        question=str(_require(entry, "question", where)).strip(),
        options=options,
        needs=needs,
        source=source,
        function=bool(entry.get("function", False)),
        reasoning=steps,
        reasoning_source=str(reasoning["source"]),
        variants=variants,
        default_variant=default_variant,
    )


def parse_taxonomy(raw: dict[str, Any]) -> Taxonomy:
    """Build and validate a :class:`Taxonomy` from the YAML mapping."""
    for key in ("taxonomy_version", "sequences", "views", "conditions", "levels"):
        if key not in raw:
            raise TaxonomyError(f"taxonomy: missing top-level field {key!r}")
    subtasks: dict[str, Subtask] = {}
    for level in LEVELS:
        entries = raw["levels"].get(level) or []
        if len(entries) != EXPECTED_COUNTS[level]:
            raise TaxonomyError(
                f"taxonomy {level}: {len(entries)} entries, expected {EXPECTED_COUNTS[level]}"
            )
        for entry in entries:
            subtask = _parse_subtask(entry, level, raw)
            if subtask.id in subtasks:
                raise TaxonomyError(f"taxonomy: duplicate subtask id {subtask.id!r}")
            subtasks[subtask.id] = subtask
    return Taxonomy(
        version=str(raw["taxonomy_version"]),
        sequences=dict(raw["sequences"]),
        views={str(k): v for k, v in raw["views"].items()},
        conditions=dict(raw["conditions"]),
        subtasks=subtasks,
        datasets_from=tuple(str(v) for v in raw.get("datasets_from") or ()),
    )


@cache
def load_taxonomy() -> Taxonomy:
    """The packaged taxonomy (parsed once per process)."""
    text = resources.files("cardiolens.data").joinpath("taxonomy.yaml").read_text(encoding="utf-8")
    return parse_taxonomy(yaml.safe_load(text))
