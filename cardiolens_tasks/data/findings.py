"""Structured CMR findings and the QA items they imply.

One :class:`Findings` record describes a study the way the taxonomy asks about it. The
phantom derives it from the parameters that draw the pixels; importers derive it from
segmentations or reports. :func:`build_items` turns it into the dataset's items, so every
source labels items by the same rules (applicability, option texts, cross-sequence logic).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from cardiolens.data.anatomy import (
    LEVELS,
    TERRITORIES,
    WALL6_TO_4,
    WALLS4,
    WALLS6,
    Site,
    territory,
)
from cardiolens.data.cutoffs import EF_CUTOFFS as EF_CUTOFFS  # re-exported for scorers
from cardiolens.data.cutoffs import TRANSMURALITY_CUTOFFS
from cardiolens.data.taxonomy import Subtask, Taxonomy, load_taxonomy
from cardiolens.data.vocabulary import (
    CROSS_LGE_T2,
    CROSS_PERF_LGE,
    DISTRIBUTION,
    EF_BAND,
    EFFUSION,
    ETIOLOGY,
    LAYER,
    LGE_LEVELS,
    LGE_PATTERN,
    LV_SIZE,
    RV_STATUS,
    TRANSMURALITY,
    WALL_THICKNESS,
    YES_NO,
)
from cardiolens.data.vocabulary import LEVELS as LEVEL

if TYPE_CHECKING:      # the reader uses the labelling rules and must not load the dataset
    from cardiolens.data.dataset import Item

LAYERS: tuple[str, ...] = tuple(LAYER)
DISTRIBUTIONS: tuple[str, ...] = tuple(DISTRIBUTION)
TRANSMURALITY_BANDS: tuple[str, ...] = tuple(TRANSMURALITY)
EF_BANDS: tuple[str, ...] = tuple(EF_BAND)
ETIOLOGIES: tuple[str, ...] = tuple(ETIOLOGY)



def ef_band(ef_percent: float) -> str:
    """The cine_lv_function option for an ejection fraction in percent."""
    for band, low in zip(EF_BANDS, EF_CUTOFFS, strict=False):
        if ef_percent >= low:
            return band
    return EF_BANDS[-1]


def transmurality_band(fraction: float) -> str:
    """The lge_transmurality option for a transmural extent in [0, 1]."""
    for band, high in zip(TRANSMURALITY_BANDS, TRANSMURALITY_CUTOFFS, strict=False):
        if fraction <= high:
            return band
    return TRANSMURALITY_BANDS[-1]


def _ordered(values: Iterable[str], order: Iterable[str]) -> list[str]:
    wanted = set(values)
    return [v for v in order if v in wanted]


def site_levels(sites: Iterable[Site]) -> list[str]:
    return _ordered((level for level, _ in sites), LEVELS)


def site_walls(sites: Iterable[Site]) -> list[str]:
    return _ordered((wall for _, wall in sites if wall), WALLS6)


def site_walls4(sites: Iterable[Site]) -> list[str]:
    return _ordered((WALL6_TO_4[wall] for _, wall in sites if wall), WALLS4)


def site_territories(sites: Iterable[Site]) -> list[str]:
    return _ordered((territory(s) for s in sites), TERRITORIES)


@dataclass(frozen=True)
class CineFindings:
    lv_size: str
    wall_thickness: str
    hypertrophy_pattern: str | None
    thickened_walls: tuple[str, ...]
    ef_percent: float
    rwma_sites: tuple[Site, ...]
    rwma_severity: str | None
    rv_status: str
    effusion: str


@dataclass(frozen=True)
class LgeFindings:
    sites: tuple[Site, ...]
    papillary: bool
    distribution: str
    layers: tuple[str, ...]
    transmural_extent: float
    rv_insertion: bool
    ischemic: bool


@dataclass(frozen=True)
class EdemaFindings:
    sites: tuple[Site, ...]
    distribution: str
    layers: tuple[str, ...]


@dataclass(frozen=True)
class PerfusionFindings:
    sites: tuple[Site, ...]
    depth: str


@dataclass(frozen=True)
class Findings:
    cine: CineFindings
    lge: LgeFindings | None
    edema: EdemaFindings | None
    perfusion: PerfusionFindings | None
    etiology: str
    subtype: str | None
    measured: frozenset[str] | None = None
    """Subtasks the source measured; None (the phantom) means all. A source that sees only
    part of a study (segmentations, one sequence) lists what it measured: the other fields
    hold neutral values that :func:`build_items` never asks about."""

    def section(self, name: str) -> dict[str, Any]:
        """JSON-ready findings of one report section (``cine``, ``lge``, ``t2``, ...)."""
        if name == "cine":
            return _jsonable(asdict(self.cine))
        if name == "impression":
            return {"etiology": self.etiology, "subtype": self.subtype}
        part = {"lge": self.lge, "t2": self.edema, "perfusion": self.perfusion}[name]
        return {"present": False} if part is None else {"present": True,
                                                        **_jsonable(asdict(part))}


UNMEASURED_CINE = CineFindings(lv_size=LV_SIZE.normal, wall_thickness=WALL_THICKNESS.normal,
                               hypertrophy_pattern=None, thickened_walls=(), ef_percent=60.0,
                               rwma_sites=(), rwma_severity=None, rv_status=RV_STATUS.normal,
                               effusion=EFFUSION.none)
"""The neutral cine record of a source that measured no cine subtask (``measured`` leaves
them out, so none of these values becomes an answer)."""

_SITE_KEYS = ("sites", "rwma_sites")


def _jsonable(record: dict[str, Any]) -> dict[str, Any]:
    """Sites as "Basal Anterior" strings, tuples as lists, floats to one decimal."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        if key in _SITE_KEYS:
            value = [" ".join(part for part in site if part) for site in value]
        elif isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, float):
            value = round(value, 1)
        out[key] = value
    return out


# ------------------------------------------------------------------ applicability rules

CONDITIONS: dict[str, Callable[[Findings], bool]] = {
    "always": lambda f: True,
    "wall_thickened": lambda f: f.cine.wall_thickness == WALL_THICKNESS.thickened,
    "rwma_present": lambda f: bool(f.cine.rwma_sites),
    "lge_present": lambda f: f.lge is not None,
    "lge_ischemic": lambda f: f.lge is not None and f.lge.ischemic,
    "edema_present": lambda f: f.edema is not None,
    "defect_present": lambda f: f.perfusion is not None,
    "nonischemic": lambda f: f.etiology == ETIOLOGY.nonischemic,
}


def lge_levels(sites: Iterable[Site], papillary: bool) -> list[str]:
    """The ``lge_levels`` options of scar at ``sites`` (papillary muscle last)."""
    names = dict(zip(LEVEL, LGE_LEVELS[:4], strict=True))
    levels = [names[level] for level in site_levels(sites)]
    return [*levels, LGE_LEVELS.papillary] if papillary else levels


def cross_lge_t2(lge_sites: Iterable[Site] | None, edema_sites: Iterable[Site] | None) -> str:
    """The ``cross_lge_t2`` option; None means the finding is absent."""
    if lge_sites is None and edema_sites is None:
        return CROSS_LGE_T2.neither
    if edema_sites is None:
        return CROSS_LGE_T2.lge_only
    if lge_sites is None:
        return CROSS_LGE_T2.edema_only
    if set(lge_sites) & set(edema_sites):
        return CROSS_LGE_T2.same_region
    return CROSS_LGE_T2.different_regions


def cross_perf_lge(defect_sites: Iterable[Site] | None, lge_sites: Iterable[Site]) -> str:
    """The ``cross_perf_lge`` option; None means no perfusion defect. Apex scar is ignored."""
    if defect_sites is None:
        return CROSS_PERF_LGE.no_defect
    defect = set(defect_sites)
    scar = {s for s in lge_sites if s[0] != LEVEL.apex}
    if not defect & scar:
        return CROSS_PERF_LGE.without_lge
    if defect <= scar:
        return CROSS_PERF_LGE.matched
    return CROSS_PERF_LGE.larger


def _cross_lge_t2(f: Findings) -> str:
    return cross_lge_t2(f.lge.sites if f.lge else None, f.edema.sites if f.edema else None)


def _cross_perf_lge(f: Findings) -> str:
    return cross_perf_lge(f.perfusion.sites if f.perfusion else None,
                          f.lge.sites if f.lge else ())


def _need(value: Any) -> Any:
    assert value is not None
    return value


def _yes_no(value: Any) -> str:
    return YES_NO.yes if value else YES_NO.no


ANSWERS: dict[str, Callable[[Findings], str | list[str]]] = {
    "cine_lv_size": lambda f: f.cine.lv_size,
    "cine_wall_thickness": lambda f: f.cine.wall_thickness,
    "cine_hypertrophy_pattern": lambda f: _need(f.cine.hypertrophy_pattern),
    "cine_thickened_walls": lambda f: _ordered(f.cine.thickened_walls, WALLS4),
    "cine_lv_function": lambda f: ef_band(f.cine.ef_percent),
    "cine_rwma_presence": lambda f: _yes_no(f.cine.rwma_sites),
    "cine_rwma_levels": lambda f: site_levels(f.cine.rwma_sites),
    "cine_rwma_walls": lambda f: site_walls4(f.cine.rwma_sites),
    "cine_rwma_severity": lambda f: _need(f.cine.rwma_severity),
    "cine_rv_status": lambda f: f.cine.rv_status,
    "cine_pericardial_effusion": lambda f: f.cine.effusion,
    "lge_presence": lambda f: _yes_no(f.lge),
    "lge_levels": lambda f: lge_levels(_need(f.lge).sites, _need(f.lge).papillary),
    "lge_walls": lambda f: site_walls(_need(f.lge).sites),
    "lge_distribution": lambda f: _need(f.lge).distribution,
    "lge_layer": lambda f: _ordered(_need(f.lge).layers, LAYERS),
    "lge_transmurality": lambda f: transmurality_band(_need(f.lge).transmural_extent),
    "lge_rv_insertion": lambda f: _yes_no(_need(f.lge).rv_insertion),
    "lge_pattern": lambda f: (LGE_PATTERN.ischemic if _need(f.lge).ischemic
                              else LGE_PATTERN.nonischemic),
    "lge_territories": lambda f: site_territories(_need(f.lge).sites),
    "t2_edema_presence": lambda f: _yes_no(f.edema),
    "t2_edema_levels": lambda f: site_levels(_need(f.edema).sites),
    "t2_edema_walls": lambda f: site_walls(_need(f.edema).sites),
    "t2_edema_distribution": lambda f: _need(f.edema).distribution,
    "t2_edema_layer": lambda f: _ordered(_need(f.edema).layers, LAYERS),
    "perf_defect_presence": lambda f: _yes_no(f.perfusion),
    "perf_defect_levels": lambda f: site_levels(_need(f.perfusion).sites),
    "perf_defect_walls": lambda f: site_walls(_need(f.perfusion).sites),
    "perf_defect_territories": lambda f: site_territories(_need(f.perfusion).sites),
    "perf_defect_depth": lambda f: _need(f.perfusion).depth,
    "cross_lge_t2": _cross_lge_t2,
    "cross_perf_lge": _cross_perf_lge,
    "diagnosis_etiology": lambda f: f.etiology,
    "diagnosis_nicm_subtype": lambda f: _need(f.subtype),
}

REPORT_SECTIONS = {"report_cine": "cine", "report_lge": "lge", "report_t2": "t2",
                   "report_perfusion": "perfusion", "report_impression": "impression"}


def has_sequences(subtask: Subtask, sequences_present: Iterable[str]) -> bool:
    present = set(sequences_present)
    hits = [s in present for s in subtask.sequences]
    return all(hits) if subtask.needs == "all" else any(hits)


def build_items(study_id: str, findings: Findings, series_present: Iterable[str],
                reports: Mapping[str, str] | None = None,
                taxonomy: Taxonomy | None = None) -> list[Item]:
    """Every applicable item of a study, in taxonomy order, answers as option texts.

    An item is made when the source measured the subtask (``findings.measured``), the study
    has the subtask's sequences and the subtask's condition holds; report items need a
    reference text in ``reports``.
    """
    from cardiolens.data.dataset import Item

    taxonomy = taxonomy or load_taxonomy()
    sequences = {key.split("_")[0] for key in series_present}
    items: list[Item] = []
    for subtask in taxonomy.subtasks.values():
        if findings.measured is not None and subtask.id not in findings.measured:
            continue
        if not has_sequences(subtask, sequences) or not CONDITIONS[subtask.when](findings):
            continue
        item_id = f"{study_id}/{subtask.id}"
        if subtask.answer_type == "report":
            reference = (reports or {}).get(subtask.id)
            if reference is None:
                continue
            section = findings.section(REPORT_SECTIONS[subtask.id])
            items.append(Item(item_id, study_id, subtask.level, subtask.id,
                              reference=reference, findings=section))
            continue
        answer = ANSWERS[subtask.id](findings)
        items.append(Item(item_id, study_id, subtask.level, subtask.id, answer=answer))
    return items
