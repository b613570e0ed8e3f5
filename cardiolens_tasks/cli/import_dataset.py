"""`cardiolens import`: a public CMR dataset or a hospital's DICOM into the dataset format."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from cardiolens.cli.common import report_line
from cardiolens.errors import CardiolensError


def run(args: argparse.Namespace) -> int:
    from cardiolens.data.dataset import staged_dataset
    from cardiolens.importers.acdc import import_acdc
    from cardiolens.importers.emidec import import_emidec
    from cardiolens.importers.mnms import import_mnms
    from cardiolens.importers.mnms2 import import_mnms2
    from cardiolens.importers.myops import import_myops

    if args.name == "dicom" and Path(args.src).is_file():
        raise CardiolensError(f"{args.src}: is a file; give the folder that holds the DICOM "
                              "files")
    if not Path(args.src).is_dir():
        raise CardiolensError(f"{args.src}: no such folder"
                              + ("" if args.name == "dicom" else " (the downloaded dataset)"))
    out = Path(args.out)
    if args.name == "dicom":
        salt_file = Path(args.salt_file).expanduser()
        if salt_file.resolve().is_relative_to(out.resolve()):
            raise CardiolensError(f"{salt_file}: keep the salt file outside the dataset")
        if salt_file.is_dir():
            raise CardiolensError(f"{salt_file}: is a folder; --salt-file names a file "
                                  "(created when missing)")
    with staged_dataset(out, args.force) as stage:
        if args.name == "dicom":
            from cardiolens.importers.dicom import import_dicom

            summary = import_dicom(Path(args.src), stage, salt_file, progress=not args.quiet,
                                   on_problem=report_line, show_paths=args.show_paths)
        else:
            importer = {"acdc": import_acdc, "mnms": import_mnms, "mnms2": import_mnms2,
                        "emidec": import_emidec, "myops": import_myops}[args.name]
            summary = importer(Path(args.src), stage, progress=not args.quiet,
                               on_problem=report_line)
        if not summary.imported:
            kept = "left unchanged" if out.exists() else "not created"
            what = (f"no case imported ({len(summary.skipped)} skipped)" if summary.skipped
                    else f"no {args.name} case found (the layout: cardiolens import --help)")
            where = "SRC" if args.name == "dicom" else args.src   # no path under SRC shown
            raise CardiolensError(f"{where}: {what}; {out} {kept}")
    if args.name == "dicom":
        print(f"study ids are salted hashes; the salt is in {salt_file} (keep it private)",
              file=sys.stderr)
    print(f"imported {summary.imported} case(s) into {out}; skipped {len(summary.skipped)}",
          file=sys.stderr)
    return 0


def add_parser(sub: Any) -> None:
    """Register the command on the ``cardiolens`` subparsers."""
    importer = sub.add_parser(
        "import", help="import a public CMR dataset or a hospital's DICOM into the CardioLens "
                       "format",
        description="Import a dataset. acdc: patientNNN/Info.cfg, patientNNN_4d.nii.gz and "
                    "the ED/ES _gt segmentations. mnms: <code>/<code>_sa.nii.gz, "
                    "<code>_sa_gt.nii.gz and the dataset CSV (ED, ES, Pathology). mnms2: "
                    "<code>_SA_CINE/_SA_ED(_gt)/_SA_ES(_gt)/_LA_CINE and "
                    "dataset_information.csv. emidec: "
                    "Case_*/Images and Case_*/Contours (LGE with infarct labels). myops: "
                    "<name>_C0/_DE (or _LGE)/_T2.nii.gz and <name>_gd.nii.gz. For these "
                    "public datasets items come from the segmentations and the diagnosis "
                    "label; cases with unknown labels or missing files are listed and "
                    "skipped. dicom: a folder of a hospital's single-frame DICOM files, any "
                    "layout (no PHI is written; study ids are salted hashes of the "
                    "StudyInstanceUID with the salt in --salt-file); series are classified "
                    "from their headers, a series that cannot be assembled whole (a missing "
                    "or odd image, mixed spacing) is skipped with one line, and the studies "
                    "get no items (build-qa adds them from de-identified reports). Console "
                    "lines name a file as 'file N' (its number among the files under SRC in "
                    "sorted path order) and show no header text; --show-paths adds the "
                    "path relative to SRC. Every series is stored in the canonical frame "
                    "(docs/geometry.md) from its geometry, else its segmentation; what was "
                    "done is recorded in studies.jsonl and anything not decided from "
                    "geometry is listed.")
    importer.add_argument("name", choices=["acdc", "mnms", "mnms2", "emidec", "myops", "dicom"],
                          help="dataset layout")
    importer.add_argument("src", help="the dataset's folder (a public dataset: as "
                                      "downloaded; dicom: the folder holding the DICOM "
                                      "files, any layout)")
    importer.add_argument("out", help="output dataset folder (created)")
    importer.add_argument("--force", action="store_true",
                          help="replace the output folder if it already holds a dataset")
    importer.add_argument("--salt-file", default="~/.config/cardiolens/dicom-salt",
                          help="dicom: file holding the salt for study-id hashes; created "
                               "if missing; keep it private and outside the dataset "
                               "(default: ~/.config/cardiolens/dicom-salt)")
    importer.add_argument("--show-paths", action="store_true",
                          help="dicom: name files on the console also by their path "
                               "relative to SRC (off by default: folder and file names can "
                               "carry a patient's name or MRN)")
    importer.add_argument("--quiet", action="store_true", help="no progress bar")
    importer.set_defaults(func=run)
