"""The reference reader on the real CC0 Sunnybrook sample (tests/data/sunnybrook: 9 contoured
locations at end diastole and end systole): the expert contours become the study's items
(cardiolens.importers.sunnybrook), and the reader, seeing only the rendered prompt, finds the
LV on real SSFP frames well enough for the LV size band and an EF near the contours'."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

pytest.importorskip("pydicom")

from cardiolens.data.dataset import read_dataset
from cardiolens.errors import CardiolensError
from cardiolens.importers.dicom import import_dicom
from cardiolens.importers.sunnybrook import add_contour_items, read_contour
from cardiolens.prompting.prompt_builder import PromptBuilder, PromptSettings
from cardiolens.prompting.rendering import RenderCache
from cardiolens.reader import answer_parts
from cardiolens.reader.cine import read_cine
from cardiolens.reader.request import parse_request

DATA = Path(__file__).parent / "data" / "sunnybrook"


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, object]:
    tmp = tmp_path_factory.mktemp("real")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import_dicom(DATA / "dicom", tmp / "out", tmp / "salt", progress=False)
    (study_id,) = read_dataset(tmp / "out").studies
    contoured = add_contour_items(tmp / "out", study_id, DATA / "dicom", DATA / "contours",
                                  "Ischemic")
    return tmp / "out", study_id, contoured


def test_expert_contours_become_the_study_items(real: tuple[Path, str, object]) -> None:
    # hand computation in test_import_sunnybrook: EDV 191.3 ml, ESV 141.3 ml (shoelace)
    root, study_id, c = real
    m = c.measurements  # type: ignore[attr-defined]
    assert m.lv_edv_ml == pytest.approx(191.3, rel=0.02)
    assert m.lv_esv_ml == pytest.approx(141.3, rel=0.02)
    info = read_dataset(root).studies[study_id].series["cine_sax"]
    assert (info.ed_frame, info.es_frame) == (1, 0)     # frames by trigger time: ES first
    answers = {i.subtask: i.answer for i in read_dataset(root).items}
    # no BSA in the sample: LV size from the absolute EDV (80-210 ml normal)
    assert answers == {"cine_lv_size": "Normal", "cine_lv_function": "Severely reduced (< 30%)",
                       "diagnosis_etiology": "Ischemic"}


def test_reader_reads_the_real_lv(real: tuple[Path, str, object]) -> None:
    # measured: EF 31.9% on this 9-location subset against the contours' 26.3% (the full
    # 12-location study: 27.6%); a reader that missed the LV would be far off
    root, _, c = real
    dataset = read_dataset(root)
    builder = PromptBuilder(root, dataset.studies, PromptSettings(), RenderCache(None))
    replies = {}
    for item in dataset.items:
        prompt = builder.build(item)
        parts = prompt.parts()
        reply = answer_parts(parts)
        replies[item.subtask] = prompt.options[ord(reply[0]) - ord("A")]
        if item.subtask == "cine_lv_function":
            read = read_cine([f for f in parse_request(parts).frames if f.sequence == "cine"])
            assert read.ef is not None
            assert abs(read.ef - c.measurements.lv_ef) < 8.0  # type: ignore[attr-defined]
            assert read.lv_radius_mm is not None and 20.0 < read.lv_radius_mm < 32.0
    assert replies["cine_lv_size"] == "Normal"


def test_bad_contour_file_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "IM-0001-0048-icontour-manual.txt"
    bad.write_text("12.5 oops\n")
    with pytest.raises(CardiolensError, match=r"IM-0001-0048-icontour-manual\.txt"):
        read_contour(bad)
