"""Model-based finding extraction: the prompt that asks a language model to fill the
extractor's slots as JSON, and the parser of its reply (framework-free; the Inspect adapter
sends the prompt).

The reply is one JSON object::

    {"findings": {"lge": "present", "lge_wall": ["inferior"], "lv_function": "normal"},
     "uncertain": {"diagnosis": "myocarditis"},
     "negated": {"diagnosis": ["cardiac amyloidosis"]}}

Slots and values are those of :data:`.cmr_vocabulary.SLOT_VALUES`; anything else is
dropped. A stated normal etiology implies the normal-study findings, as for the rule-based
extractor, so both readings are scored the same way.
"""

from __future__ import annotations

import json
from typing import Any

from cardiolens.scorers.cmr_findings import Reading
from cardiolens.scorers.cmr_vocabulary import ETIOLOGY_NORMAL, NORMAL_STUDY, SLOT_VALUES

PROMPT_HEAD = (
    "Read this cardiac MRI report text and fill the finding slots it states. Reply with "
    "one JSON object with three keys: \"findings\" (stated as fact, including explicit "
    "negatives such as lge: absent), \"uncertain\" (hedged: possible, suspicious for, "
    "cannot be excluded) and \"negated\" (etiology or diagnosis values the text says do not "
    "hold). Each maps a slot to one value or a list of values. Use only these slots and "
    "values; leave out what the text does not state.")


def slot_prompt(text: str) -> str:
    """The instruction a model gets to read ``text`` into the extractor's slots."""
    lines = [PROMPT_HEAD, ""]
    lines += [f"{slot}: {' | '.join(values)}" for slot, values in SLOT_VALUES.items()]
    lines += ["", "Text:", text, "", "JSON:"]
    return "\n".join(lines)


def _pairs(block: Any) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    if not isinstance(block, dict):
        return out
    for slot, values in block.items():
        for value in values if isinstance(values, list) else [values]:
            if isinstance(slot, str) and isinstance(value, str) and \
                    value.strip().lower() in SLOT_VALUES.get(slot, ()):
                out.add((slot, value.strip().lower()))
    return out


def parse_slot_reply(reply: str) -> Reading | None:
    """The reading in a model reply (its outermost JSON object), or None when there is none."""
    start, end = reply.find("{"), reply.rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        value = json.loads(reply[start:end + 1])
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    found = {f: ("absent" if f[1] == "absent" else "present")
             for f in _pairs(value.get("findings"))}
    for f in _pairs(value.get("uncertain")):
        found.setdefault(f, "uncertain")
    stated = {slot for (slot, _), pol in found.items() if pol != "uncertain"}
    implied = {f for f in NORMAL_STUDY if f[0] not in stated} \
        if found.get(("etiology", ETIOLOGY_NORMAL)) == "present" else set()
    return Reading(found, implied, _pairs(value.get("negated")) - set(found))
