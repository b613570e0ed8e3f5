"""The phantom cohort: determinism, coverage of the taxonomy, the demo command."""

from __future__ import annotations

import filecmp
import json
import platform
from collections import Counter
from pathlib import Path

import pytest

from cardiolens.cli import main
from cardiolens.data.dataset import read_dataset
from cardiolens.data.taxonomy import load_taxonomy
from cardiolens.phantom.cohort import (
    default_cohort,
    diagnosis_counts,
    generate_cohort,
    keep_freed_memory,
    smallest_cohort,
)

SEQUENCES = ("cine", "lge", "t2", "perf")


def _same_tree(a: Path, b: Path) -> bool:
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    return files_a == files_b and all(
        filecmp.cmp(a / f, b / f, shallow=False) for f in files_a)


def test_same_seed_same_bytes_whatever_the_worker_count(tmp_path: Path) -> None:
    one = generate_cohort(tmp_path / "one", studies=3, seed=11, workers=1, progress=False)
    two = generate_cohort(tmp_path / "two", studies=3, seed=11, workers=2, progress=False)
    assert _same_tree(one, two)
    other = generate_cohort(tmp_path / "other", studies=3, seed=12, workers=1, progress=False)
    assert not _same_tree(one, other)


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
                    reason="mallopt is glibc's")
def test_workers_keep_freed_memory_on_glibc() -> None:
    # the workers' initializer: two mallopt calls that glibc accepts (the test above shows
    # the bytes do not depend on it: workers=2 runs it, workers=1 does not)
    assert keep_freed_memory() is True


def test_cohort_covers_every_subtask_and_sequence(cohort40: Path) -> None:
    ds = read_dataset(cohort40)
    tax = load_taxonomy()
    assert {item.subtask for item in ds.items} == set(tax.subtasks)
    for study in ds.studies.values():
        assert {key.split("_")[0] for key in study.series} >= set(SEQUENCES)
    for item in ds.items:
        sub = tax.get(item.subtask)
        if sub.answer_type == "report":
            assert item.reference and item.findings is not None
            continue
        values = item.answer if isinstance(item.answer, list) else [item.answer]
        assert values and set(values) <= set(sub.options), item.item_id


def test_cohort_follows_the_default_prevalence(cohort40: Path) -> None:
    ds = read_dataset(cohort40)
    etiology = Counter(i.answer for i in ds.items if i.subtask == "diagnosis_etiology")
    assert etiology == {"Normal": 8, "Ischemic cardiomyopathy": 10,
                        "Non-ischemic cardiomyopathy": 22}
    subtypes = Counter(i.answer for i in ds.items if i.subtask == "diagnosis_nicm_subtype")
    assert len(subtypes) == 6 and sum(subtypes.values()) == 22


def test_diagnosis_counts_are_largest_remainder_and_the_smallest_cohort_follows() -> None:
    # 109 studies: the 9% classes have quotas of 9.81 and take the largest remainders
    assert diagnosis_counts(109) == {"normal": 21, "ischemic": 27, "hcm": 11, "dcm": 10,
                                     "myocarditis": 10, "amyloidosis": 10, "sarcoidosis": 10,
                                     "other": 10}
    assert min(diagnosis_counts(108).values()) == 9
    assert smallest_cohort(10) == 109
    assert all(sum(diagnosis_counts(n).values()) == n for n in range(1, 200))
    old = {"normal": 0.20, "ischemic": 0.25, "hcm": 0.13, "dcm": 0.10, "myocarditis": 0.09,
           "amyloidosis": 0.07, "sarcoidosis": 0.07, "other": 0.09}
    assert smallest_cohort(10, old) == 137      # the default before the near-even subtypes
    with pytest.raises(ValueError):
        smallest_cohort(10, {**old, "other": 0.0})


def test_reports_vary_in_wording(cohort40: Path) -> None:
    ds = read_dataset(cohort40)
    no_scar_reports = {i.reference for i in ds.items if i.subtask == "report_lge"
                   and i.findings == {"present": False}}
    assert len(no_scar_reports) >= 2


def test_demo_refuses_to_overwrite_without_force(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert main(["demo", "--out", str(out), "--studies", "1", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "not empty" in err and "Traceback" not in err
    assert (out / "notes.txt").read_text() == "mine"


def test_default_cohort_is_made_once_in_the_cache(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARDIOLENS_CACHE_DIR", str(tmp_path / "cache"))
    first = default_cohort(studies=2, seed=5, progress=False)
    stamp = (first / "items.jsonl").stat().st_mtime_ns
    assert default_cohort(studies=2, seed=5, progress=False) == first
    assert (first / "items.jsonl").stat().st_mtime_ns == stamp
    assert first.is_relative_to(tmp_path / "cache")
    card = json.loads((first / "cardiolens.json").read_text())
    assert card["source"] == "phantom"
    # a changed generator gets its own folder instead of the stale cohort
    monkeypatch.setattr("cardiolens.phantom.cohort.generator_digest", lambda: "changed")
    second = default_cohort(studies=2, seed=5, progress=False)
    assert second != first and "changed" in second.name and (second / "items.jsonl").is_file()


def test_cohort_at_generates_reuses_and_refuses_another_cohort(tmp_path: Path) -> None:
    from cardiolens.errors import CardiolensError
    from cardiolens.phantom.cohort import cohort_at

    root = cohort_at(tmp_path / "c", studies=2, seed=4)
    first = (root / "items.jsonl").stat().st_mtime_ns
    assert cohort_at(root, studies=2, seed=4) == root
    assert (root / "items.jsonl").stat().st_mtime_ns == first        # reused, not rewritten
    for studies, seed in ((2, 5), (3, 4)):
        with pytest.raises(CardiolensError, match="another dataset"):
            cohort_at(root, studies=studies, seed=seed)


def test_demo_ends_with_a_note_when_some_option_is_never_right(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from cardiolens.audit.priors import never_right
    from cardiolens.cli.demo import never_right_note

    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--studies", "1", "--seed", "3", "--quiet",
                 "--workers", "1"]) == 0
    unused = never_right(read_dataset(out).items)
    assert unused                     # one study cannot make every option right
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("note: ")
    assert f"{sum(map(len, unused.values()))} option(s) of {len(unused)} subtask(s)" in err[0]
    assert next(iter(unused)) in err[0] and f"cardiolens audit {out}" in err[0]
    assert never_right_note({}, str(out)) is None
