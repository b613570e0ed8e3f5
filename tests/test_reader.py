"""The reference reader (``cardiolens/reader``): segmentation on synthetic frames, request
parsing, no file access, an Inspect run against the random baseline and the blind
control, and ``serve-reader`` over loopback."""

from __future__ import annotations

import base64
import io
import json
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from inspect_ai import eval as inspect_eval
from openai_stub import loopback_available
from PIL import Image

from cardiolens.dataset import read_dataset
from cardiolens.errors import CardiolensError
from cardiolens.prompt_builder import PromptBuilder, PromptSettings
from cardiolens.prompts import Prompt
from cardiolens.reader import answer_parts
from cardiolens.reader.lesions import read_lesions
from cardiolens.reader.request import Frame, Part, decode_image, parse_request
from cardiolens.reader.sax import fit_ring
from cardiolens.reader.server import MAX_BODY, make_server
from cardiolens.rendering import RenderCache

PRESENCE = "lge_presence,t2_edema_presence,perf_defect_presence,cine_rwma_presence"


def _png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.clip(pixels * 255, 0, 255).astype(np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def synthetic_lge(lesion_deg: float | None, seed: int = 0, size: int = 256) -> np.ndarray:
    """An LGE short-axis frame: grey body, blood disk, dark wall, RV on the image left and,
    optionally, a mid-wall scar centred at ``lesion_deg`` (image angle, 0 up, CCW)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(float)
    cy, cx = size / 2 + 3, size / 2 - 4
    rho = np.hypot(yy - cy, xx - cx)
    phi = np.degrees(np.arctan2(-(xx - cx), -(yy - cy))) % 360
    image = np.full((size, size), 0.22)
    image[rho < 40] = 0.05                                   # myocardium (nulled)
    image[rho < 30] = 0.42                                   # blood pool
    rv = (rho >= 40) & (rho < 55) & (np.abs(phi - 90) < 55)
    image[rv] = 0.40
    if lesion_deg is not None:
        diff = np.abs((phi - lesion_deg + 180) % 360 - 180)
        image[(rho >= 33) & (rho < 37) & (diff < 25)] = 1.0
    image = np.abs(image + rng.normal(0, 0.03, image.shape))
    return np.clip(image / 0.6, 0, 1)


def _frame(pixels: np.ndarray, sequence: str, k: int, n: int, level: str) -> Frame:
    return Frame(sequence, "sax", k, n, level, 0, 1, None,
                 decode_image(_png(pixels)))  # type: ignore[arg-type]


def test_lv_is_found_on_a_synthetic_frame() -> None:
    ring = fit_ring(decode_image(_png(synthetic_lge(None))), "lge")  # type: ignore[arg-type]
    assert ring.valid
    assert abs(ring.cy - 131) < 1.5 and abs(ring.cx - 124) < 1.5
    assert abs(ring.radius - 30) < 2
    assert abs(float(np.median(ring.thickness)) - 10) < 2.5


@pytest.mark.parametrize("image_deg, wall", [(270.0, "Inferolateral"), (0.0, "Anterior")])
def test_drawn_enhancement_is_located_in_its_sector(image_deg: float, wall: str) -> None:
    # the RV sits at image angle 90 (septum left), so the rotation is ~0 and a scar at
    # image angle 270 - 30 = 240 lies in the inferolateral wall
    deg = image_deg - 30 if wall == "Inferolateral" else image_deg
    frames = [_frame(synthetic_lge(deg, seed=k), "lge", k, 3, level)
              for k, level in enumerate(("basal", "mid", "apical"))]
    read = read_lesions(frames, "lge")
    assert read is not None and read.sites
    assert {w for _, w in read.sites} == {wall}
    assert read.layers == ("Mid-wall",)
    clean = read_lesions([_frame(synthetic_lge(None, seed=k), "lge", k, 3, "mid")
                          for k in range(3)], "lge")
    assert clean is not None and not clean.sites


def _parts(prompt: Prompt) -> list[Part]:
    parts: list[Part] = [prompt.intro]
    for image in prompt.images:
        parts += [image.caption, image.png]
    return [*parts, prompt.question]


def _prompts(root: Path, subtasks: set[str], studies: int, **settings: object) -> list:
    dataset = read_dataset(root)
    builder = PromptBuilder(root, dataset.studies, PromptSettings(**settings),  # type: ignore[arg-type]
                            RenderCache(None))
    keep = sorted(dataset.studies)[:studies]
    return [(item, builder.build(item)) for item in dataset.items
            if item.subtask in subtasks and item.study_id in keep]


def test_request_parsing_and_answer_styles(cohort40: Path) -> None:
    (_, prompt), = _prompts(cohort40, {"lge_walls"}, 40)[:1]
    request = parse_request(_parts(prompt))
    assert request.subtask == "lge_walls" and request.answer_type == "multi"
    assert len(request.frames) == len(prompt.images)
    assert request.frames[0].sequence == "lge" and request.frames[0].level == "basal"
    answer = answer_parts(_parts(prompt))
    assert answer and all(letter.strip() in "ABCDEF" for letter in answer.split(","))
    (_, reasoning), = _prompts(cohort40, {"lge_walls"}, 40, prompt="reasoning")[:1]
    assert answer_parts(_parts(reasoning)).splitlines()[-1].startswith("Answer: ")
    (_, report), = _prompts(cohort40, {"report_lge"}, 1)
    assert "enhancement" in answer_parts(_parts(report)).lower()


def test_bad_images_fall_back_without_crashing() -> None:
    question = ("Question: These are late gadolinium enhancement (LGE) images of the left "
                "ventricle. Is there myocardial late enhancement?\nOptions:\nA. Yes\nB. No")
    parts: list[Part] = ["Image 1: LGE short-axis, slice 1 of 3 (basal)", b"not a png",
                         "Image 2: LGE short-axis, slice 2 of 3 (mid)", b"\x89PNG\r\n",
                         question]
    assert answer_parts(parts) == "A"
    assert answer_parts([question]) == "A"
    tiny = _png(np.zeros((4, 4)))
    assert answer_parts(["Image 1: LGE short-axis, slice 1 of 3 (basal)", tiny, question])


@contextmanager
def _opened_paths() -> Iterator[list[str]]:
    """Every path the process opens while the block runs (via the audit hook)."""
    paths: list[str] = []
    active = [True]

    def hook(event: str, args: tuple) -> None:
        if active[0] and event == "open" and isinstance(args[0], (str, bytes, Path)):
            paths.append(str(args[0]))

    sys.addaudithook(hook)
    try:
        yield paths
    finally:
        active[0] = False


def test_reader_reads_only_the_request(cohort40: Path) -> None:
    prompts = _prompts(cohort40, {"lge_walls", "diagnosis_etiology", "cine_rwma_presence"}, 2)
    parts = [_parts(prompt) for _, prompt in prompts]
    answer_parts(parts[0])                      # the taxonomy (package data) loads once
    with _opened_paths() as paths:
        answers = [answer_parts(p) for p in parts]
    assert all(answers)
    assert not [p for p in paths if str(cohort40) in p or "cache" in p.lower()]
    assert not [p for p in paths if p.endswith((".nii.gz", ".jsonl", ".png", ".json"))]


def _eval(cohort: Path, model: str, log_dir: Path, **task_args: object) -> dict[str, float]:
    log, = inspect_eval("cardiolens/image_understanding", model=model, log_dir=str(log_dir),
                        task_args={"data": str(cohort), "subtask": PRESENCE,
                                   "limit_studies": 12, "cache": False, **task_args},
                        display="none")
    assert log.status == "success" and log.results is not None
    return {k: v.value for s in log.results.scores for k, v in s.metrics.items()}


def test_reader_beats_random_and_blind_control_is_chance(cohort40: Path, tmp_path: Path) -> None:
    reader = _eval(cohort40, "cardiolens/reader", tmp_path)
    random = _eval(cohort40, "cardiolens/random", tmp_path)
    blind = _eval(cohort40, "cardiolens/reader", tmp_path, images=False)
    assert reader["accuracy"] >= random["accuracy"] + 0.2
    assert reader["accuracy"] >= 0.8
    for name in ("perf_defect_presence", "cine_rwma_presence"):
        assert reader[f"subtask/{name}"] >= 0.75
    # without images the reader has nothing to measure: one fixed answer, no skill
    assert blind["accuracy"] <= 0.65
    assert blind["accuracy"] < reader["accuracy"] - 0.2


@pytest.mark.skipif(not loopback_available(), reason="no loopback network in this sandbox")
def test_serve_reader_answers_openai_chat_requests(cohort40: Path) -> None:
    (_, prompt), = _prompts(cohort40, {"perf_defect_presence"}, 1)
    content: list[dict] = [{"type": "text", "text": prompt.intro}]
    for image in prompt.images:
        content.append({"type": "text", "text": image.caption})
        content.append({"type": "image_url", "image_url": {
            "url": "data:image/png;base64," + base64.b64encode(image.png).decode()}})
    content.append({"type": "text", "text": prompt.question})
    server = make_server("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/v1/chat/completions"
    try:
        body = json.dumps({"model": "reader", "messages": [{"role": "user",
                                                            "content": content}]}).encode()
        with urllib.request.urlopen(urllib.request.Request(url, body), timeout=60) as reply:
            answer = json.loads(reply.read())["choices"][0]["message"]["content"]
        assert answer == answer_parts(_parts(prompt))
        big = urllib.request.Request(url, b"{}", headers={"Content-Length": str(MAX_BODY + 1)})
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(big, timeout=30)
        assert error.value.code == 413
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(urllib.request.Request(url, b"not json"), timeout=30)
        assert error.value.code == 400
    finally:
        server.shutdown()
        server.server_close()
    with pytest.raises(CardiolensError, match="loopback"):
        make_server("8.8.8.8", 0)
