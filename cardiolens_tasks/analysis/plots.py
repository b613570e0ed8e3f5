"""Result figures drawn with Pillow (no plotting library needed)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from cardiolens.data.vocabulary import ETIOLOGY
from cardiolens.scorers.diagnosis import DiagnosisMetrics

CELL = 64
COLOURS = ((70, 130, 180), (218, 112, 86), (96, 168, 96))
_NICM_WORD = ETIOLOGY.nonischemic.split()[0]      # the first word of the NICM etiology


def _short(name: str, width: int = 14) -> str:
    words = name.replace("cardiomyopathy", "CM").replace(_NICM_WORD, "NICM")
    return words if len(words) <= width else words[:width - 1] + "."


def confusion_png(result: DiagnosisMetrics, classes: Sequence[str], title: str,
                  path: Path) -> None:
    """Row-normalised confusion matrix with counts and the collapse figures in the title."""
    font = ImageFont.load_default()
    columns = [*classes, "unparsed"]
    left, top = 130, 70
    width = left + CELL * len(columns) + 20
    height = top + CELL * len(classes) + 40
    image = Image.new("RGB", (max(width, 520), height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((8, 6), title[:90], fill="black", font=font)
    draw.text((8, 22), f"accuracy {result.accuracy:.3f}  macro-F1 {result.macro_f1:.3f}  "
                       f"top-class share {result.top_class_share:.2f}  entropy pred "
                       f"{result.predicted_entropy:.2f} / true {result.true_entropy:.2f} bits",
              fill="black", font=font)
    for j, name in enumerate(columns):
        draw.text((left + j * CELL + 2, top - 16), _short(name, 12), fill="black", font=font)
    for i, row in enumerate(result.confusion):
        total = max(sum(row), 1)
        draw.text((6, top + i * CELL + CELL // 2 - 6), _short(classes[i], 20), fill="black",
                  font=font)
        for j, count in enumerate(row):
            shade = int(255 - 200 * count / total)
            x, y = left + j * CELL, top + i * CELL
            draw.rectangle((x, y, x + CELL - 2, y + CELL - 2), fill=(shade, shade, 255))
            draw.text((x + CELL // 2 - 6, y + CELL // 2 - 6), str(count),
                      fill="black" if shade > 120 else "white", font=font)
    draw.text((8, height - 18), "rows: true class; columns: predicted", fill="gray", font=font)
    image.save(path, format="PNG")


def landscape_png(values: Mapping[str, Mapping[str, float]], levels: Sequence[str],
                  path: Path, low: float | None = None,
                  title: str = "Chance-corrected score per level, averaged over selection "
                               "protocols (0 = majority baseline, 1 = perfect)") -> None:
    """Grouped bars: each run's score per level on ``[low, 1]`` (the paper's Figure 3);
    ``low`` defaults to the lowest value rounded down to a quarter (at most -0.25)."""
    font = ImageFont.load_default()
    if low is None:
        finite = [v for row in values.values() for v in row.values() if v == v]
        low = min([-0.25, *(math.floor(4 * v) / 4 for v in finite)])
    runs = list(values)
    bar, gap, plot_h, left = 18, 24, 240, 50
    group_w = bar * len(levels) + gap
    width = max(left + group_w * len(runs) + 40, 520)
    height = plot_h + 80 + 14 * len(runs) + 20 * len(levels)
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((6, 4), title, fill="black", font=font)
    top = 24

    bottom = low

    def y_of(value: float) -> int:
        clipped = max(bottom, min(1.0, value))
        return top + int((1.0 - clipped) / (1.0 - bottom) * plot_h)

    ticks = [t / 4 for t in range(round(bottom * 4), 5)]
    for tick in ticks:
        y = y_of(tick)
        draw.line((left - 4, y, width - 20, y), fill=(150, 150, 150) if tick == 0
                  else (225, 225, 225))
        draw.text((6, y - 6), f"{tick:+.2f}", fill="black", font=font)
    zero, base = y_of(0.0), top + plot_h
    for r, run in enumerate(runs):
        x0 = left + r * group_w
        for k, level in enumerate(levels):
            value = values[run].get(level)
            if value is None or value != value:
                continue
            x, y = x0 + k * bar, y_of(value)
            draw.rectangle((x, min(y, zero), x + bar - 3, max(y, zero)),
                           fill=COLOURS[k % len(COLOURS)])
        label = str(r + 1)
        span = bar * len(levels) - 3
        draw.text((x0 + (span - draw.textlength(label, font=font)) / 2, base + 4), label,
                  fill="black", font=font)
    y = base + 22
    for k, level in enumerate(levels):
        draw.rectangle((left, y, left + 10, y + 10), fill=COLOURS[k % len(COLOURS)])
        draw.text((left + 16, y), level, fill="black", font=font)
        y += 16
    for r, run in enumerate(runs):
        draw.text((left, y), f"{r + 1}: {run[:110]}", fill="black", font=font)
        y += 14
    image.save(path, format="PNG")
