"""Behaviour fingerprint for refactors: phantom bytes, prompts and scores in a few hashes.

Generates an 8-study phantom cohort (seed 3), builds every lm-eval document of the three
levels under the default settings and under random/8/reasoning/shuffled, scores fixed
replies, and prints sha256 digests of the cohort files, of the prompts (text and PNG bytes)
and of the score records. Run it before and after a change that should not change
behaviour and compare the two outputs.

Usage: python scripts/behaviour_fingerprint.py OUT.json
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path

from cardiolens.lm_eval_adapter import docs
from cardiolens.phantom.cohort import generate_cohort

REPLIES = ["A", "B, C", "Answer: C",
           "There is no late gadolinium enhancement. LVEF is 55%."]
VARIANTS = ({}, {"selection": "random", "budget": 8, "prompt": "reasoning",
                 "shuffle_options": True, "seed": 2})


def fingerprint() -> dict[str, str]:
    """Digests of the cohort, the prompts and the score records."""
    out: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = generate_cohort(Path(tmp) / "c", studies=8, seed=3, progress=False)
        digest = hashlib.sha256()
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(root)).encode() + path.read_bytes())
        out["cohort"] = digest.hexdigest()
        for level in ("image_understanding", "report_generation", "diagnosis"):
            for settings in VARIANTS:
                rows = docs.load_docs(data=str(root), level=level, cache=False, **settings)
                prompts, records = hashlib.sha256(), []
                for i, doc in enumerate(rows["test"]):
                    prompts.update(docs.doc_text(doc).encode())
                    for image in docs.doc_prompt(doc).images:
                        prompts.update(image.png)
                    records.append(docs.process_doc(doc, REPLIES[i % len(REPLIES)]))
                key = f"{level}/{sorted(settings.items())}"
                out[f"{key}/prompts"] = prompts.hexdigest()
                out[f"{key}/records"] = hashlib.sha256(
                    json.dumps(records, sort_keys=True, default=str).encode()).hexdigest()
    return out


if __name__ == "__main__":
    result = fingerprint()
    Path(sys.argv[1]).write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))
