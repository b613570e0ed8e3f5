"""The audit of one dataset, as a JSON-ready dict and as a readable table."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cardiolens.audit.labels import (
    PATTERN_FINDINGS,
    label_audit,
    label_sets_from_dataset,
    label_sets_from_items,
    phantom_items,
)
from cardiolens.audit.priors import never_right, prior_baselines, wording_baselines
from cardiolens.data.dataset import read_dataset
from cardiolens.errors import CardiolensError


def audit_dataset(root: str | Path, depth: int = 3, folds: int = 5, seed: int = 0,
                  on_problem: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Label shortcuts and priors of the dataset at ``root``.

    Args:
        on_problem: given one line (``<file>:<line>: <reason>``) per malformed record of
            ``studies.jsonl`` / ``items.jsonl``, and per study whose items lose their
            study; those records are left out of the audit (as the tasks do) and the lines
            are kept in the result (``skipped_records``).
            Without it the first malformed record raises :class:`DatasetError`.
    """
    skipped: list[str] = []

    def problem(line: str) -> None:
        skipped.append(line)
        if on_problem is not None:
            on_problem(line)

    dataset = read_dataset(root, on_problem=problem if on_problem is not None else None)
    label_sets = label_sets_from_dataset(dataset)
    if len(label_sets) < folds:
        raise CardiolensError(f"{root}: {len(label_sets)} studies with a diagnosis item; "
                              f"the audit needs at least {folds}")
    return {"dataset": str(root), "label_shortcuts": label_audit(label_sets, depth, folds, seed),
            "priors": prior_baselines(dataset.items), "wording": wording_baselines(dataset.items),
            "skipped_records": skipped}


def audit_phantom_labels(studies: int, cohort_seed: int = 0, depth: int = 3, folds: int = 5,
                         seed: int = 0) -> dict[str, Any]:
    """Label shortcuts of ``studies`` phantom label sets (default prevalence) and the
    options they make no item's right answer, without drawing a pixel."""
    if studies < folds:
        raise CardiolensError(f"--phantom {studies}: the audit needs at least {folds} studies")
    items = phantom_items(studies, cohort_seed)
    return {"dataset": f"phantom label sets (n={studies}, seed {cohort_seed})",
            "label_shortcuts": label_audit(label_sets_from_items(items), depth, folds, seed),
            "never_right": never_right(items)}


def _pct(value: float) -> str:
    return "   -" if value is None or math.isnan(value) else f"{value:.3f}"


def format_labels(result: dict[str, Any]) -> list[str]:
    """The label-shortcut section as table lines."""
    major = result["majority"]
    lines = [f"Label shortcuts ({result['studies']} studies; cross-validated accuracy)",
             f"  {'finding used alone':34} {'etiology':>8} {'subtype':>8}",
             f"  {'(majority class)':34} {_pct(major['etiology']):>8} "
             f"{_pct(major['subtype']):>8}"]
    for sid, acc in sorted(result["single"].items(), key=lambda kv: -kv[1]["etiology"]):
        mark = " *" if sid in PATTERN_FINDINGS else ""
        lines.append(f"  {sid + mark:34} {_pct(acc['etiology']):>8} {_pct(acc['subtype']):>8}")
    tree = result["tree"]
    lines += [f"  {'tree, depth ' + str(tree['depth']) + ', all but *':34} "
              f"{_pct(tree['etiology']):>8} {_pct(tree['subtype']):>8}",
              f"  {'clinician_rules':34} {_pct(result['clinician_rules']['etiology']):>8}",
              "  * the LGE pattern (lge_territories is asked exactly when it is ischemic)",
              "  etiology tree fitted on all studies:",
              *("    " + line for line in tree["etiology_tree"])]
    return lines


def format_priors(priors: dict[str, dict[str, Any]]) -> list[str]:
    lines = ["Priors (no image needed; exact match). Option A: always the first option shown,",
             "with the options in taxonomy order (fixed) or shuffled per item (the prompts'",
             "default, seed 0)",
             f"  {'subtask':26} {'items':>6} {'majority':>8} {'A fixed':>8} {'A shuffled':>10}"
             "  majority answer"]
    for sid, row in priors.items():
        lines.append(f"  {sid:26} {row['items']:>6} {_pct(row['majority']):>8} "
                     f"{_pct(row['option_a']):>8} {_pct(row['option_a_shuffled']):>10}  "
                     f"{row['majority_answer']}")
    return lines + format_never_right({sid: row["never_right"] for sid, row in priors.items()
                                       if row.get("never_right")})


def format_never_right(unused: dict[str, list[str]]) -> list[str]:
    """The options that are no item's right answer, one subtask a line."""
    if not unused:
        return ["Every option of every subtask with items is the right answer of at least "
                "one item."]
    return ["Options that are no item's right answer (a model that never picks them loses "
            "nothing here):",
            *(f"  {sid:26} {'; '.join(options)}" for sid, options in unused.items())]


def format_wording(wording: dict[str, dict[str, float]],
                   priors: dict[str, dict[str, Any]]) -> list[str]:
    lines = ["Wording (single-answer subtasks; exact match): always the shortest option, the",
             "longest, or the one sharing most words with the question; '!' marks a rule",
             "above the majority rate",
             f"  {'subtask':26} {'majority':>8} {'shortest':>8} {'longest':>8} {'question':>8}"]
    for sid, row in wording.items():
        majority = priors[sid]["majority"] if sid in priors else 0.0
        flag = " !" if max(row.values()) > majority else ""
        lines.append(f"  {sid:26} {_pct(majority):>8} {_pct(row['shortest']):>8} "
                     f"{_pct(row['longest']):>8} {_pct(row['question_words']):>8}{flag}")
    return lines


def format_audit(result: dict[str, Any]) -> str:
    """Every section of an audit result, as plain text."""
    lines = [f"cardiolens audit: {result['dataset']}", ""]
    if result.get("skipped_records"):
        lines[-1:] = [f"  left out: {len(result['skipped_records'])} problem line(s) of "
                      "studies.jsonl / items.jsonl (listed on stderr)", ""]
    if "label_shortcuts" in result:
        lines += [*format_labels(result["label_shortcuts"]), ""]
    if "priors" in result:
        lines += format_priors(result["priors"])
    elif "never_right" in result:
        lines += format_never_right(result["never_right"])
    if "wording" in result:
        lines += ["", *format_wording(result["wording"], result.get("priors", {}))]
    return "\n".join(lines)


def _plain(value: Any) -> Any:
    """NaN as null, so the file is strict JSON."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def write_json(result: dict[str, Any], path: Path) -> None:
    """Write an audit result as strict JSON (NaN as null)."""
    path.write_text(json.dumps(_plain(result), indent=1, allow_nan=False) + "\n")
