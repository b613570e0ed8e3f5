"""The reference reader on the real CC0 Sunnybrook study against its expert contours.

Imports the DICOM folder with ``cardiolens import dicom`` (the project's importer), adds the
ED/ES frames and the items the expert contours answer
(:mod:`cardiolens.importers.sunnybrook`: LV size, EF band, diagnosis), builds
every prompt under the standard settings (clinical selection, budget 16) and answers it with
the reader. Prints, per item, the label, the reader's answer and, for the EF band and LV
size, the reader's own measurement beside the contours' (EDV, ESV, EF; the reader's basal
endocardial radius in mm, at its assumed display scale).

Usage: nice python scripts/reader_real_sample.py [DICOM_DIR CONTOUR_DIR]
(default: /work/shared/realdata/sunnybrook, the full 240-file study; tests/data/sunnybrook
holds an 18-file subset with the same contours.)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import warnings
from pathlib import Path

from cardiolens.data.dataset import read_dataset
from cardiolens.errors import CardiolensError
from cardiolens.importers.dicom import import_dicom
from cardiolens.importers.sunnybrook import add_contour_items
from cardiolens.prompting.prompt_builder import PromptBuilder, PromptSettings
from cardiolens.prompting.rendering import RenderCache
from cardiolens.reader import answer_parts
from cardiolens.reader.cine import read_cine
from cardiolens.reader.request import parse_request

REAL = Path("/work/shared/realdata/sunnybrook")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dicom", type=Path, nargs="?", default=REAL / "SCD0000101")
    parser.add_argument("contours", type=Path, nargs="?",
                        default=REAL / "contours" / "SC-HF-I-1")
    parser.add_argument("--budget", type=int, default=16)
    args = parser.parse_args()
    for folder in (args.dicom, args.contours):
        if not folder.is_dir():
            parser.error(f"{folder}: no such folder")
    try:
        report(args.dicom, args.contours, args.budget)
    except CardiolensError as exc:
        print(f"reader_real_sample: {exc}", file=sys.stderr)
        raise SystemExit(1) from None


def report(dicom: Path, contours: Path, budget: int) -> None:
    """Import ``dicom``, add the items of ``contours`` and print the reader against them."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "real"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")           # pydicom: non-conformant UID root
            import_dicom(dicom, out, Path(tmp) / "salt", progress=False)
        studies = list(read_dataset(out).studies)
        if len(studies) != 1:
            raise CardiolensError(f"{dicom}: expected one imported study, got {len(studies)}")
        study_id = studies[0]
        # SC-HF-I: heart failure with infarction (ischemic)
        c = add_contour_items(out, study_id, dicom, contours, "Ischemic")
        m = c.measurements
        dataset = read_dataset(out)
        info = dataset.studies[study_id].series["cine_sax"]
        print(f"cine_sax {info.slices} slices x {info.frames} frames, ED frame {c.ed_frame}, "
              f"ES frame {c.es_frame}, contoured slices {list(c.slices)}")
        print(f"contours: EDV {m.lv_edv_ml:.1f} ml, ESV {m.lv_esv_ml:.1f} ml, "
              f"EF {m.lv_ef:.1f}% (no BSA: LV size from the absolute EDV)")
        builder = PromptBuilder(out, dataset.studies, PromptSettings(budget=budget),
                                RenderCache(None))
        print("\n| subtask | label (contours) | reader | images |")
        print("|---|---|---|---|")
        for item in dataset.items:
            prompt = builder.build(item)
            parts = prompt.parts()
            reply = answer_parts(parts)
            chosen = [prompt.options[ord(x.strip()) - ord("A")] for x in reply.split(",")]
            print(f"| {item.subtask} | {item.answer} | {', '.join(chosen)} | "
                  f"{len(prompt.images)} |")
            if item.subtask == "cine_lv_function":
                read = read_cine([f for f in parse_request(parts).frames
                                  if f.sequence == "cine"])
                ef = f"{read.ef:.1f}%" if read.ef is not None else "not measured"
                radius = (f"{read.lv_radius_mm:.1f} mm" if read.lv_radius_mm is not None
                          else "not measured")
                print(f"|  | reader EF {ef}, basal radius {radius} | | |")


if __name__ == "__main__":
    main()
