"""Generate a phantom cohort in the CardioLens dataset format.

Study ``i`` of a cohort depends only on ``(seed, i)`` and its planned diagnosis, so the
output is the same bytes whatever the number of worker processes. Diagnoses follow the
prevalence exactly (largest-remainder counts, seeded order), so small cohorts still hold
every diagnosis. The cohort is written to a temporary folder and renamed into place, so
an interrupted run never leaves a half-written dataset behind.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from cardiolens import __version__
from cardiolens.cache import cache_root
from cardiolens.data.dataset import (
    CARD_FILE,
    DatasetCard,
    Item,
    SeriesInfo,
    Study,
    read_dataset,
    staged_dataset,
    write_card,
    write_jsonl,
)
from cardiolens.data.findings import build_items
from cardiolens.data.orientation import from_affine
from cardiolens.data.taxonomy import load_taxonomy
from cardiolens.data.volumes import write_volume
from cardiolens.errors import CardiolensError
from cardiolens.phantom.disease import sample_study
from cardiolens.phantom.labels import findings_from_params
from cardiolens.phantom.params import DEFAULT_PREVALENCE, StudyParams
from cardiolens.phantom.reports import write_reports
from cardiolens.phantom.sequences import Renderer
from cardiolens.phantom.thorax import with_scan

PHANTOM_VERSION = "2"
CANARY = "cardiolens-canary-5f0c8a2e-3d1b-4c7a-9e62-b84f1d0a7c33"
DEFAULT_STUDIES = 109
"""The smallest cohort with at least 10 studies of every diagnosis (``smallest_cohort(10)``:
21 normal, 27 ischemic, 11 HCM, 10 of each other diagnosis). More studies would lengthen the
first run, which generates the cohort (README, "First run: time and disk")."""
DEFAULT_SEED = 4
"""The first seed whose 109-study cohort makes every option of every subtask a right answer
(issue 14; decided from the drawn labels alone, before any image or model figure). Seeds 0-3
each leave one or two rare options unused (e.g. ``cross_lge_t2`` "Edema without LGE",
``lge_levels`` "Apex"); tests/test_audit.py asserts both rules."""
LAX_SLICE_MM = 8.0


def diagnosis_counts(studies: int,
                     prevalence: dict[str, float] | None = None) -> dict[str, int]:
    """Studies of each diagnosis in a cohort: the prevalence's largest-remainder counts."""
    prevalence = prevalence or DEFAULT_PREVALENCE
    total = sum(prevalence.values())
    quotas = {d: studies * p / total for d, p in prevalence.items()}
    counts = {d: int(q) for d, q in quotas.items()}
    by_remainder = sorted(quotas, key=lambda d: (-(quotas[d] - counts[d]), d))
    for d in by_remainder[: studies - sum(counts.values())]:
        counts[d] += 1
    return counts


def smallest_cohort(minimum: int, prevalence: dict[str, float] | None = None) -> int:
    """The fewest studies whose :func:`diagnosis_counts` give every diagnosis at least
    ``minimum`` (the counts do not depend on the seed)."""
    prevalence = prevalence or DEFAULT_PREVALENCE
    if min(prevalence.values()) <= 0:
        raise ValueError("every diagnosis needs a positive prevalence")
    studies = minimum
    while min(diagnosis_counts(studies, prevalence).values()) < minimum:
        studies += 1
    return studies


def plan_diagnoses(studies: int, seed: int,
                   prevalence: dict[str, float] | None = None) -> list[str]:
    """Diagnosis of each study: exact prevalence counts in a seeded order."""
    prevalence = prevalence or DEFAULT_PREVALENCE
    counts = diagnosis_counts(studies, prevalence)
    plan = [d for d in prevalence for _ in range(counts[d])]
    order = np.random.default_rng([seed, 2**20]).permutation(len(plan))
    return [plan[i] for i in order]


def cohort_params(seed: int, index: int, studies: int,
                  prevalence: dict[str, float] | None = None) -> StudyParams:
    """Parameters of study ``index`` of a cohort as ``generate_cohort`` draws them."""
    return sample_params(seed, index, plan_diagnoses(studies, seed, prevalence)[index])


def study_id(index: int) -> str:
    return f"P{index:04d}"


def sample_params(seed: int, index: int, diagnosis: str) -> StudyParams:
    """The drawing parameters of study ``index`` (tests use this to know the geometry)."""
    p = sample_study(np.random.default_rng([seed, index]), study_id(index), diagnosis)
    return with_scan(p, np.random.default_rng([seed, index, 2]))


def _spacing(p: StudyParams, renderer: Renderer, series: str) -> tuple[float, float, float]:
    px = p.acq.pixel_mm
    u = renderer.model.slice_u
    if series == "perf_sax":
        k = renderer.perf_slices()
        return (px, px, float(u[k[1]] - u[k[0]]))
    if series.endswith("_sax"):
        return (px, px, float(u[1] - u[0]))
    return (px, px, LAX_SLICE_MM)


def orientation_record(affine: np.ndarray, series: str, slices: int) -> dict[str, Any]:
    """The ``orientation`` record of a phantom series, as an importer writes it for a
    series already in the canonical frame: decided from the written affine (evidence
    ``geometry``), identity transform, slices not reversed."""
    found = from_affine(affine, series.split("_")[1], slices)
    if found.in_plane.name != "identity" or found.reverse_slices:
        raise CardiolensError(f"{series}: the phantom wrote a non-canonical affine "
                              f"({found.in_plane.name}, reversed={found.reverse_slices})")
    return found.to_json()


def make_study(root: Path, seed: int, index: int, diagnosis: str) -> tuple[Study, list[Item]]:
    """Draw, render and write one study's volumes; return its study record and items."""
    p = sample_params(seed, index, diagnosis)
    renderer = Renderer(p)
    series: dict[str, SeriesInfo] = {}
    for name, data in renderer.series().items():
        rel = f"volumes/{p.study_id}/{name}.nii.gz"
        affine = renderer.affine(name)
        write_volume(root / rel, data, _spacing(p, renderer, name), affine)
        _, _, slices, frames = data.shape
        cine = name.startswith("cine_")
        series[name] = SeriesInfo(rel, slices, frames,
                                  ed_frame=0 if cine else None,
                                  es_frame=p.acq.es_phase if cine else None,
                                  orientation=orientation_record(affine, name, slices))
    findings = findings_from_params(p)
    reports = write_reports(findings, np.random.default_rng([seed, index, 1]))
    items = build_items(p.study_id, findings, series, reports)
    return Study(p.study_id, series, dict(p.meta)), items


def _make_study_task(args: tuple[Path, int, int, str]) -> tuple[Study, list[Item]]:
    return make_study(*args)


MALLOC_KEEP_BYTES = 512 << 20
"""Freed blocks up to this size stay in a worker's heap instead of going back to the system.
Rendering allocates and frees many 1-130 MB arrays per study (a cine series' k-space noise
is the largest); with glibc's defaults each one is a fresh ``mmap`` whose pages fault in
again on first touch. Measured on 8 studies with 2 workers (README, "First run: time and
disk"): minor page faults 0.58 M -> 0.20 M, worker CPU 19 s -> 18 s, peak resident memory
unchanged, with 32 MB; 512 MB also keeps the noise arrays (docs/phantom_images.md, "Speed
round": 4 studies in one process, page faults 136 k -> 56 k, system CPU 0.8-1.0 s ->
0.3-0.4 s, peak resident memory 548 MB -> 518 MB)."""


def keep_freed_memory() -> bool:
    """Ask glibc's allocator to reuse freed arrays (the cohort workers' initializer).

    Returns False, changing nothing, where the C library has no ``mallopt`` (macOS, musl).
    Pixels do not depend on it.
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(mallopt(m_mmap_threshold, MALLOC_KEEP_BYTES)
                and mallopt(m_trim_threshold, 2 * MALLOC_KEEP_BYTES))


def _run(tasks: list[tuple[Path, int, int, str]], workers: int) -> Iterator[tuple[Study,
                                                                                  list[Item]]]:
    if workers <= 1 or len(tasks) <= 1:
        yield from map(_make_study_task, tasks)
        return
    with ProcessPoolExecutor(max_workers=workers, initializer=keep_freed_memory) as pool:
        yield from pool.map(_make_study_task, tasks, chunksize=1)


def generate_cohort(out: str | Path, studies: int = DEFAULT_STUDIES, seed: int = DEFAULT_SEED,
                    workers: int | None = None, progress: bool = True,
                    overwrite: bool = False,
                    prevalence: dict[str, float] | None = None) -> Path:
    """Write a phantom cohort of ``studies`` studies to ``out``; same seed, same voxels,
    labels and reports (and the same file bytes where the same deflate library writes them:
    ISA-L when ``isal`` is installed, else zlib)."""
    out = Path(out)
    with staged_dataset(out, overwrite) as stage:
        plan = plan_diagnoses(studies, seed, prevalence)
        tasks = [(stage, seed, i, diagnosis) for i, diagnosis in enumerate(plan)]
        workers = workers or os.cpu_count() or 1
        records: list[Study] = []
        items: list[Item] = []
        bar = tqdm(total=studies, desc="phantom studies", unit="study", disable=not progress)
        with bar:
            for study, study_items in _run(tasks, workers):
                records.append(study)
                items.extend(study_items)
                bar.update(1)
        write_card(stage, _card(studies, seed))
        write_jsonl(stage / "studies.jsonl", (s.to_json() for s in records))
        write_jsonl(stage / "items.jsonl", (i.to_json() for i in items))
    return out


def _card(studies: int, seed: int) -> DatasetCard:
    return DatasetCard(
        name="cardiolens-phantom",
        description=(f"Procedural CMR phantom cohort (phantom v{PHANTOM_VERSION}): {studies} "
                     f"studies, seed {seed}. Synthetic; every label is drawn, not read."),
        taxonomy_version=load_taxonomy().version,
        license="Apache-2.0",
        source="phantom",
        canary=CANARY,
        created_by=f"cardiolens {__version__}",
    )


def generator_digest() -> str:
    """Short digest of the code and taxonomy that decide a cohort's bytes (the phantom
    package, the label rules, the NIfTI writer), so a changed generator never reuses a
    cohort cached by an older one."""
    package = Path(__file__).resolve().parent
    data = package.parent / "data"
    files = [*sorted(package.glob("*.py")),
             *(data / name for name in ("anatomy.py", "dataset.py", "findings.py",
                                        "taxonomy.yaml", "volumes.py"))]
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:10]


def cohort_at(root: str | Path, studies: int, seed: int) -> Path:
    """The phantom cohort of ``studies`` studies and ``seed`` at ``root``: generated there if
    the folder holds no dataset, reused if it holds that cohort; another dataset raises
    :class:`CardiolensError` (scripts that compare readings with drawn truth need the right
    one)."""
    root = Path(root)
    if not (root / "items.jsonl").is_file():
        generate_cohort(root, studies=studies, seed=seed)
    elif _card(studies, seed).description != read_dataset(root).card.description:
        raise CardiolensError(f"{root}: holds another dataset than the phantom cohort of "
                              f"{studies} studies, seed {seed}")
    return root


def default_cohort(studies: int = DEFAULT_STUDIES, seed: int = DEFAULT_SEED,
                   progress: bool = True) -> Path:
    """The tasks' default dataset: generated on first use into the user cache, under a
    name that includes :func:`generator_digest`."""
    name = f"phantom-v{PHANTOM_VERSION}-{generator_digest()}-n{studies}-seed{seed}"
    path = cache_root() / name
    if (path / CARD_FILE).is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        generate_cohort(path, studies=studies, seed=seed, progress=progress)
    except (CardiolensError, OSError):
        if not (path / CARD_FILE).is_file():   # another process may have won the race
            raise
    return path
