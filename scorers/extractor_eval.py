"""Evaluate the CMR finding extractor and the clinical score on hand-labelled report text.

``python -m cardiolens.scorers.extractor_eval [DIR] [--split NAME|all]`` reads
``sentences_<split>.jsonl`` (``text``, ``findings``: asserted ``slot=value`` labels,
``hedged``: labels stated with uncertainty) and ``pairs_<split>.jsonl`` (``a``, ``b``,
``label``: ``same`` or ``different``) from DIR (default: the repository's
``tests/data/report_sentences``; any split whose sentence file is there, ``all`` for every
one; a split without a pairs file has no pairs) and prints:

- finding precision / recall / F1 over the asserted findings of every sentence (micro);
- hedge recall: labelled hedged findings read as uncertain;
- polarity flips: a labelled finding whose exclusive slot the extractor fills with a
  clinically opposite value (e.g. labelled LGE absent, extracted LGE present), or a hedged
  or negated label read as asserted in the opposite direction;
- pairs: mean F1 of same-meaning pairs, the share with F1 >= 0.7, the share without a
  contradiction; the share of clinically-different pairs with a contradiction.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cardiolens.scorers.clinical_score import ClinicalScores, asserted, compare_readings
from cardiolens.scorers.cmr_findings import Finding, Reading, read
from cardiolens.scorers.cmr_vocabulary import EXCLUSIVE_SLOTS, compatible

DEFAULT_DIR = Path(__file__).resolve().parents[1] / "tests" / "data" / "report_sentences"
SAME_F1 = 0.7
SPLITS = ("dev", "test", "fresh", "probe")
"""The repository's splits, in this order for ``all`` (others found in a folder follow by
name). dev: tuned on; test: held out (written with dev, before the extractor); fresh: written
after the extractor, tuned on after its first run; probe: written by a reviewer after the
extractor in styles the others lack, tuned on after its first run."""


def _finding(label: str) -> Finding:
    slot, _, value = label.partition("=")
    return slot.strip(), value.strip()


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSONL file; a bad line raises ValueError naming the file and line."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except ValueError:
                raise ValueError(f"{path}:{number}: not valid JSON") from None
    return rows


@dataclass(frozen=True)
class SentenceFigures:
    sentences: int
    precision: float
    recall: float
    f1: float
    hedge_recall: float
    flips: int
    errors: list[str]


@dataclass(frozen=True)
class PairFigures:
    same: int
    different: int
    same_mean_f1: float
    same_f1_ok: float
    same_no_contradiction: float
    different_contradicted: float
    errors: list[str]


def _opposite(label: Finding, extracted: set[Finding]) -> bool:
    slot, value = label
    if slot not in EXCLUSIVE_SLOTS:
        return False
    values = [v for s, v in extracted if s == slot]
    return bool(values) and not any(compatible(slot, value, v) for v in values)


def sentence_figures(rows: Sequence[dict[str, Any]],
                     reader: Callable[[str], Reading] = read) -> SentenceFigures:
    hits = n_pred = n_true = hedged_hits = n_hedged = flips = 0
    errors = []
    for row in rows:
        truth = {_finding(x) for x in row.get("findings", [])}
        hedged = {_finding(x) for x in row.get("hedged", [])}
        reading = reader(row["text"])
        got = asserted(reading.found)
        uncertain = {f for f, p in reading.found.items() if p == "uncertain"}
        hits += len(got & truth)
        n_pred += len(got)
        n_true += len(truth)
        hedged_hits += len(hedged & uncertain)
        n_hedged += len(hedged)
        flipped = [f for f in truth | hedged if _opposite(f, got)]
        flipped += [f for f in reading.negated if f in truth | hedged]
        flips += len(flipped)
        if got != truth or not hedged <= uncertain or flipped:
            errors.append(f"{row['text']!r}: missed {sorted(truth - got)}, extra "
                          f"{sorted(got - truth)}, hedged missed {sorted(hedged - uncertain)}"
                          + (f", FLIPPED {sorted(flipped)}" if flipped else ""))
    precision = hits / n_pred if n_pred else 1.0
    recall = hits / n_true if n_true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return SentenceFigures(len(rows), precision, recall, f1,
                           hedged_hits / n_hedged if n_hedged else 1.0, flips, errors)


def pair_figures(rows: Sequence[dict[str, Any]],
                 scorer: Callable[[str, str], ClinicalScores] | None = None) -> PairFigures:
    score = scorer or (lambda a, b: compare_readings(read(a), read(b)))
    same = [r for r in rows if r["label"] == "same"]
    different = [r for r in rows if r["label"] == "different"]
    errors = []
    f1s, no_contradiction, contradicted = [], 0, 0
    for row in same:
        s = score(row["a"], row["b"])
        f1s.append(s.f1)
        no_contradiction += s.contradictions == 0
        if s.f1 < SAME_F1 or s.contradictions:
            errors.append(f"same {row['a']!r} / {row['b']!r}: F1 {s.f1:.2f}, "
                          f"contradicted {sorted(s.contradicted_groups)}")
    for row in different:
        s = score(row["a"], row["b"])
        contradicted += s.contradictions > 0
        if not s.contradictions:
            errors.append(f"different ({row.get('slot', '?')}) {row['a']!r} / {row['b']!r}: "
                          f"no contradiction (F1 {s.f1:.2f})")
    return PairFigures(len(same), len(different), sum(f1s) / len(f1s) if f1s else 1.0,
                       sum(f >= SAME_F1 for f in f1s) / len(f1s) if f1s else 1.0,
                       no_contradiction / len(same) if same else 1.0,
                       contradicted / len(different) if different else 1.0, errors)


def available_splits(folder: Path) -> tuple[str, ...]:
    """The splits with a ``sentences_<split>.jsonl`` in ``folder`` (the repository's first,
    in :data:`SPLITS` order, then any others by name)."""
    found = {p.name[len("sentences_"):-len(".jsonl")]
             for p in folder.glob("sentences_*.jsonl")} if folder.is_dir() else set()
    return tuple(s for s in SPLITS if s in found) + tuple(sorted(found - set(SPLITS)))


def load_split(folder: Path, kind: str, split: str) -> list[dict[str, Any]]:
    """Rows of ``<kind>_<split>.jsonl`` (every split in ``folder`` for ``all``); a split
    missing from ``folder`` raises ValueError naming the ones there, a missing pairs file
    of a split that has sentences gives no rows."""
    available = available_splits(folder)
    if not available:
        raise ValueError(f"{folder}: no sentences_<split>.jsonl files")
    if split != "all" and split not in available:
        raise ValueError(f"no split {split!r} in {folder}; available: "
                         f"{', '.join(available)} (or all)")
    splits = available if split == "all" else (split,)
    paths = [folder / f"{kind}_{name}.jsonl" for name in splits]
    return [row for path in paths if kind == "sentences" or path.exists()
            for row in read_jsonl(path)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cardiolens.scorers.extractor_eval",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--split", default="test",
                        help="a split in DIR (sentences_<split>.jsonl), or all")
    parser.add_argument("--errors", action="store_true", help="list every miss")
    args = parser.parse_args(argv)
    try:
        sentences = load_split(args.folder, "sentences", args.split)
        pairs = load_split(args.folder, "pairs", args.split)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    s = sentence_figures(sentences)
    p = pair_figures(pairs)
    print(f"split {args.split}: {s.sentences} sentences, {p.same + p.different} pairs")
    print(f"findings: precision {s.precision:.3f} recall {s.recall:.3f} F1 {s.f1:.3f}; "
          f"hedge recall {s.hedge_recall:.3f}; polarity flips {s.flips}")
    print(f"same-meaning pairs ({p.same}): mean F1 {p.same_mean_f1:.3f}, F1 >= {SAME_F1} "
          f"{p.same_f1_ok:.3f}, no contradiction {p.same_no_contradiction:.3f}")
    print(f"clinically-different pairs ({p.different}): contradiction "
          f"{p.different_contradicted:.3f}")
    if args.errors:
        for line in s.errors + p.errors:
            print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
