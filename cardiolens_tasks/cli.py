"""The ``cardiolens`` command line: demo, validate, show.

Every failure a user can cause ends in one line on stderr naming the file and the reason,
and a non-zero exit; no traceback.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from . import __version__
from .errors import CardiolensError


def _int_at_least(low: int, meaning: str) -> Callable[[str], int]:
    """An argparse type: an integer of at least ``low``; ``meaning`` words the error."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{text!r} must be {meaning}")
        return value

    return parse


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line (``cardiolens demo: error: ...``), not a usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


_positive_int = _int_at_least(1, "at least 1")
_seed = _int_at_least(0, "zero or positive")


def _cmd_demo(args: argparse.Namespace) -> int:
    from .phantom.cohort import generate_cohort

    generate_cohort(args.out, studies=args.studies, seed=args.seed, workers=args.workers,
                    progress=not args.quiet, overwrite=args.force)
    if not args.quiet:
        print(f"wrote {args.studies} phantom studies to {args.out}", file=sys.stderr)
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from .validate import validate_dataset

    problems = validate_dataset(Path(args.dataset), progress=not args.quiet)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) found", file=sys.stderr)
        return 1
    if not args.quiet:
        print(f"{args.dataset}: valid", file=sys.stderr)
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    from .contact_sheet import write_contact_sheet

    write_contact_sheet(Path(args.dataset), args.study_id, Path(args.out))
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


def _cmd_lm_eval_path(args: argparse.Namespace) -> int:
    from .harness_docs import task_yaml_path

    print(task_yaml_path())
    return 0


def collect_runs(paths: Sequence[str], progress: bool) -> tuple[list[Any], int]:
    """Runs from Inspect logs and lm-eval folders; unreadable inputs are reported and skipped."""
    from tqdm import tqdm

    from .inspect_adapter.logs import BOOKKEEPING, read_inspect_log
    from .results import merge_runs, read_lm_eval_folder

    logs: list[Path] = []
    folders: list[Path] = []
    problems = 0
    for text in paths:
        path = Path(text)
        if path.is_dir():
            logs += sorted(p for p in path.rglob("*") if p.suffix in (".eval", ".json")
                           and not p.name.startswith("results_")
                           and p.name not in BOOKKEEPING)
            if any(path.rglob("results_*.json")):
                folders.append(path)
        elif path.is_file():
            logs.append(path)
        else:
            print(f"{path}: no such file or folder", file=sys.stderr)
            problems += 1
    runs: list[Any] = []
    for log in tqdm(logs, desc="reading logs", unit="log", disable=not progress):
        try:
            runs.append(read_inspect_log(log))
        except CardiolensError as exc:
            print(str(exc), file=sys.stderr)
            problems += 1
    for folder in folders:
        try:
            runs += read_lm_eval_folder(folder)
        except CardiolensError as exc:
            print(str(exc), file=sys.stderr)
            problems += 1
    return [run for run in merge_runs(runs) if run.rows], problems


def _cmd_analyze(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from .analysis import write_analysis

    runs, problems = collect_runs(args.inputs, not args.quiet)
    if not runs:
        raise CardiolensError("no readable cardiolens results in the given logs or folders")
    bar = tqdm(total=len(runs), desc="bootstrap", unit="run", disable=args.quiet)

    def advance(_: Any) -> None:
        bar.update(1)

    with bar:
        written = write_analysis(runs, Path(args.out), args.replicates, args.seed,
                                 progress=advance)
    print(f"wrote {len(written)} files to {args.out} ({len(runs)} runs; "
          f"{problems} input(s) skipped)", file=sys.stderr)
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    from .importers.acdc import import_acdc
    from .importers.emidec import import_emidec
    from .importers.mnms import import_mnms
    from .importers.mnms2 import import_mnms2
    from .importers.myops import import_myops
    from .phantom.cohort import prepare_out

    if not Path(args.src).is_dir():
        raise CardiolensError(f"{args.src}: no such folder (the downloaded dataset)")
    out = Path(args.out)
    prepare_out(out, args.force)
    if out.exists():
        shutil.rmtree(out)
    report = _report
    if args.name == "dicom":
        from .importers.dicom import import_dicom

        salt_file = Path(args.salt_file).expanduser()
        if salt_file.resolve().is_relative_to(out.resolve()):
            raise CardiolensError(f"{salt_file}: keep the salt file outside the dataset")
        summary = import_dicom(Path(args.src), out, salt_file, progress=not args.quiet,
                               on_problem=report)
        print(f"study ids are salted hashes; the salt is in {salt_file} (keep it private)",
              file=sys.stderr)
    else:
        importer = {"acdc": import_acdc, "mnms": import_mnms, "mnms2": import_mnms2,
                    "emidec": import_emidec, "myops": import_myops}[args.name]
        summary = importer(Path(args.src), out, progress=not args.quiet, on_problem=report)
    print(f"imported {summary.imported} case(s) into {out}; skipped {len(summary.skipped)}",
          file=sys.stderr)
    return 0 if summary.imported else 1


def _report(line: str) -> None:
    print(line, file=sys.stderr)


def _cmd_build_qa(args: argparse.Namespace) -> int:
    from .report_qa import build_qa

    sheet = Path(args.review_sheet or Path(args.dataset) / "review.csv")
    if args.model:
        from .inspect_adapter.report_extraction import model_extractor

        summary = build_qa(Path(args.reports), Path(args.dataset), sheet, on_problem=_report,
                           extractor=model_extractor(args.model),
                           method=f"inspect model {args.model}")
    else:
        summary = build_qa(Path(args.reports), Path(args.dataset), sheet, on_problem=_report)
    print(f"{summary.items} proposed item(s) from {summary.reports} report(s); review sheet "
          f"{sheet}", file=sys.stderr)
    return 0 if summary.reports else 1


def _cmd_apply_review(args: argparse.Namespace) -> int:
    from .report_qa import apply_review

    counts = apply_review(Path(args.sheet), Path(args.dataset), on_problem=_report)
    print(", ".join(f"{n} {verdict}" for verdict, n in counts.items()), file=sys.stderr)
    return 0


def _cmd_prerender(args: argparse.Namespace) -> int:
    from .prerender import prerender

    options = {key: value for key, value in vars(args).items()
               if key in ("data", "level", "subtask", "sequence", "selection", "budget",
                          "prompt", "seed") and value is not None}
    summary = prerender(Path(args.out), num_proc=args.num_proc, **options)
    for line in summary.errors:
        print(line, file=sys.stderr)
    print(f"wrote {summary.rows} prompts to {summary.path} ({len(summary.errors)} with errors)",
          file=sys.stderr)
    return 0


def _cmd_serve_reader(args: argparse.Namespace) -> int:
    from .reader.server import make_server

    server = make_server(args.host, args.port)
    host, port = str(server.server_address[0]), int(server.server_address[1])
    print(f"reference reader on http://{host}:{port}/v1/chat/completions (Ctrl-C stops)",
          file=sys.stderr)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from .bench import main as bench_main

    bench_main(args.quick, Path(args.json) if args.json else None)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="cardiolens",
        description="CardioLens cardiac MRI benchmark: phantom cohorts, dataset checks, "
                    "contact sheets, the lm-eval task folder.",
    )
    parser.add_argument("--version", action="version", version=f"cardiolens {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="generate a phantom CMR cohort in the dataset format",
                          description="Generate a procedural CMR phantom cohort (cine, LGE, "
                                      "T2, perfusion; all three task levels). The same seed "
                                      "gives the same bytes.")
    demo.add_argument("--out", required=True, help="output dataset folder (created)")
    demo.add_argument("--studies", type=_positive_int, default=40,
                      help="number of studies (default: 40)")
    demo.add_argument("--seed", type=_seed, default=0, help="random seed (default: 0)")
    demo.add_argument("--workers", type=_positive_int, default=None,
                      help="worker processes (default: number of CPUs)")
    demo.add_argument("--force", action="store_true",
                      help="replace the output folder if it already holds a dataset")
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    demo.set_defaults(func=_cmd_demo)

    validate = sub.add_parser("validate", help="check a dataset folder, all problems in one pass",
                              description="Check a CardioLens dataset folder. Prints one line "
                                          "per problem (<file>[:<line>]: <reason>); exit 1 if "
                                          "any, 0 if none.")
    validate.add_argument("dataset", help="dataset folder")
    validate.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    validate.set_defaults(func=_cmd_validate)

    show = sub.add_parser("show", help="write a contact sheet PNG of one study's series",
                          description="Write a contact sheet of one study: a labelled row of "
                                      "tiles per series.")
    show.add_argument("dataset", help="dataset folder")
    show.add_argument("study_id", help="study id as in studies.jsonl")
    show.add_argument("--out", required=True, help="output PNG file")
    show.set_defaults(func=_cmd_show)

    path = sub.add_parser("lm-eval-path", help="print the folder of the lm-eval task YAMLs",
                          description="Print the installed lm-eval task folder, for "
                                      "lm_eval --include_path \"$(cardiolens lm-eval-path)\".")
    path.set_defaults(func=_cmd_lm_eval_path)

    analyze = sub.add_parser(
        "analyze", help="results report from Inspect logs and lm-eval folders",
        description="Tables with study-level bootstrap 95%% CIs, paired tests (McNemar, "
                    "paired bootstrap), ablation table, confusion matrices and a landscape "
                    "plot, from Inspect logs (.eval/.json, or folders of them) and lm-eval "
                    "--output_path folders (with --log_samples).")
    analyze.add_argument("inputs", nargs="+", metavar="LOGS_OR_DIRS")
    analyze.add_argument("--out", required=True, help="output folder")
    analyze.add_argument("--replicates", type=_positive_int, default=1000,
                         help="bootstrap replicates (default: 1000)")
    analyze.add_argument("--seed", type=_seed, default=0, help="bootstrap seed (default: 0)")
    analyze.add_argument("--quiet", action="store_true", help="no progress bars")
    analyze.set_defaults(func=_cmd_analyze)

    importer = sub.add_parser(
        "import", help="import a public CMR dataset into the CardioLens format",
        description="Import a dataset. acdc: patientNNN/Info.cfg, patientNNN_4d.nii.gz and "
                    "the ED/ES _gt segmentations. mnms: <code>/<code>_sa.nii.gz, "
                    "<code>_sa_gt.nii.gz and the dataset CSV (ED, ES, Pathology). mnms2: "
                    "<code>_SA_CINE/_SA_ED(_gt)/_SA_ES(_gt)/_LA_CINE and "
                    "dataset_information.csv. emidec: "
                    "Case_*/Images and Case_*/Contours (LGE with infarct labels). myops: "
                    "<name>_C0/_DE (or _LGE)/_T2.nii.gz and <name>_gd.nii.gz. dicom: a "
                    "hospital's DICOM folder (no PHI is written; study ids are salted "
                    "hashes). Every series is stored in the canonical frame (docs/geometry.md) "
                    "from its geometry, else its segmentation; what was done is recorded in "
                    "studies.jsonl and anything not decided from geometry is listed. Items "
                    "come from the segmentations and the diagnosis label. Cases with unknown "
                    "labels or missing files are listed and skipped.")
    importer.add_argument("name", choices=["acdc", "mnms", "mnms2", "emidec", "myops", "dicom"],
                          help="dataset layout")
    importer.add_argument("src", help="folder of the downloaded dataset")
    importer.add_argument("out", help="output dataset folder (created)")
    importer.add_argument("--force", action="store_true",
                          help="replace the output folder if it already holds a dataset")
    importer.add_argument("--salt-file", default="~/.config/cardiolens/dicom-salt",
                          help="dicom: file holding the salt for study-id hashes; created "
                               "if missing; keep it private and outside the dataset "
                               "(default: ~/.config/cardiolens/dicom-salt)")
    importer.add_argument("--quiet", action="store_true", help="no progress bar")
    importer.set_defaults(func=_cmd_import)

    build = sub.add_parser(
        "build-qa", help="turn free-text CMR reports into QA items and a review sheet",
        description="Read REPORTS.jsonl ({\"study_id\", \"sections\": {cine, lge, t2, "
                    "perfusion, impression}} or {\"study_id\", \"report\"}), extract the "
                    "findings with the rule-based extractor, add the items (and report "
                    "references) to the dataset with provenance, and write a CSV review "
                    "sheet for radiologists.")
    build.add_argument("reports", help="reports JSONL file")
    build.add_argument("--dataset", required=True, help="dataset folder (its studies)")
    build.add_argument("--review-sheet", help="CSV to write (default: DATASET/review.csv)")
    build.add_argument("--model", help="an Inspect model (e.g. openai/gpt-4o) that reads the "
                                       "reports into JSON instead of the rule-based extractor, "
                                       "for messy reports")
    build.set_defaults(func=_cmd_build_qa)

    review = sub.add_parser(
        "apply-review", help="import radiologists' verdicts from a review sheet",
        description="Apply the verdict column of a review sheet: accept, correct (with "
                    "corrected_answer; options separated by ';') or reject; blank rows stay "
                    "pending. Each item records its review in its provenance.")
    review.add_argument("sheet", help="review sheet CSV")
    review.add_argument("--dataset", required=True, help="dataset folder")
    review.set_defaults(func=_cmd_apply_review)

    from .prompts import PROMPT_STYLES
    from .selection import PROTOCOLS
    from .taxonomy import LEVELS

    pre = sub.add_parser(
        "prerender", help="render one task's prompts once into a Parquet file",
        description="Build every prompt of one task level (images as PNG, text with <image> "
                    "markers, captions, options, target) with the tasks' prompt builder and "
                    "write them as Parquet (Hugging Face datasets), rendering in --num-proc "
                    "processes. Unreadable studies become rows with an error; the rest go on.")
    pre.add_argument("out", help="output .parquet file")
    pre.add_argument("--level", required=True, choices=LEVELS)
    pre.add_argument("--data", help="dataset folder (default: the phantom cohort)")
    pre.add_argument("--subtask", help="subtask id(s), comma-separated")
    pre.add_argument("--sequence", help="sequence group: cine, lge, t2, perf or cross")
    pre.add_argument("--selection", choices=PROTOCOLS,
                     help="slice selection (default: clinical)")
    pre.add_argument("--budget", type=_positive_int, help="images per item (default: 16)")
    pre.add_argument("--prompt", choices=PROMPT_STYLES,
                     help="prompt style (default: standard)")
    pre.add_argument("--seed", type=_seed, help="seed (default: 0)")
    pre.add_argument("--num-proc", type=_positive_int, default=1,
                     help="rendering processes (default: 1)")
    pre.set_defaults(func=_cmd_prerender)

    bench = sub.add_parser(
        "bench", help="measure prompt building, memory, concurrency, log size, scoring",
        description="Measure, on a fresh phantom cohort: prompt build per item (cold, warm, "
                    "and the nibabel + Pillow floor), peak RSS of Inspect runs, throughput "
                    "against a 0.5 s model at 32 connections, log bytes per sample, scorer "
                    "throughput. Prints a table; --json writes the figures.")
    bench.add_argument("--quick", action="store_true", help="small sizes (about a minute)")
    bench.add_argument("--json", help="also write the figures to this JSON file")
    bench.set_defaults(func=_cmd_bench)

    serve = sub.add_parser(
        "serve-reader", help="serve the reference reader as a local OpenAI-compatible API",
        description="Serve the offline reference reader (the cardiolens/reader model) at "
                    "/v1/chat/completions for lm-eval's local-chat-completions. Loopback "
                    "addresses only; request bodies are capped at 32 MB.")
    serve.add_argument("--port", type=_int_at_least(0, "zero or positive"), default=8000,
                       help="TCP port (default: 8000; 0 picks a free one)")
    serve.add_argument("--host", default="127.0.0.1",
                       help="loopback address to bind (default: 127.0.0.1)")
    serve.set_defaults(func=_cmd_serve_reader)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except CardiolensError as exc:
        print(f"cardiolens: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:      # a path the user gave cannot be read or written
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"cardiolens: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("cardiolens: interrupted", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
