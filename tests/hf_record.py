"""Run lm-eval's command line with what reaches the tiny model recorded (a test helper).

``python hf_record.py RECORD.jsonl <lm_eval arguments>``: every ``generate`` call of a LLaVA
model appends one JSON line (the input ids of each prompt in the batch and a digest of each
image tensor, in the order the model receives them), then lm-eval runs exactly as
``lm_eval <arguments>`` would.
"""

from __future__ import annotations

import functools
import hashlib
import json
import sys
from typing import Any


def digest(pixels: Any) -> str:
    """A digest of one image tensor (float32 bytes)."""
    return hashlib.sha256(pixels.float().contiguous().numpy().tobytes()).hexdigest()[:16]


def main() -> None:
    from transformers import LlavaForConditionalGeneration

    record, argv = sys.argv[1], sys.argv[2:]
    original = LlavaForConditionalGeneration.generate

    @functools.wraps(original)          # generate() checks its kwargs against the signature
    def generate(self: Any, *args: Any, **kwargs: Any) -> Any:
        ids, pixels = kwargs.get("input_ids"), kwargs.get("pixel_values")
        if ids is not None:
            with open(record, "a", encoding="utf-8") as out:
                out.write(json.dumps({"input_ids": ids.tolist(),
                                      "images": [digest(p) for p in pixels]
                                      if pixels is not None else []}) + "\n")
        return original(self, *args, **kwargs)

    LlavaForConditionalGeneration.generate = generate  # type: ignore[method-assign]
    from lm_eval.__main__ import cli_evaluate

    sys.argv = ["lm_eval", *argv]
    cli_evaluate()


if __name__ == "__main__":
    main()
