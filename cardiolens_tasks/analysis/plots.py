"""Result figures drawn with Pillow (no plotting library needed)."""

from __future__ import annotations

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
                  path: Path) -> None:
    """Grouped bars: each run's headline metric per level (the paper's Figure 3 style)."""
    font = ImageFont.load_default()
    runs = list(values)
    bar, gap, plot_h, left = 18, 24, 240, 50
    group_w = bar * len(levels) + gap
    width = max(left + group_w * len(runs) + 40, 480)
    height = plot_h + 60 + 14 * len(runs) + 20 * len(levels)
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    base = 20 + plot_h
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = base - int(tick * plot_h)
        draw.line((left - 4, y, width - 20, y), fill=(225, 225, 225))
        draw.text((6, y - 6), f"{tick:.2f}", fill="black", font=font)
    for r, run in enumerate(runs):
        for k, level in enumerate(levels):
            value = values[run].get(level)
            if value is None or value != value:
                continue
            x = left + r * group_w + k * bar
            draw.rectangle((x, base - int(max(0.0, min(1.0, value)) * plot_h), x + bar - 3,
                            base), fill=COLOURS[k % len(COLOURS)])
        draw.text((left + r * group_w, base + 4), str(r + 1), fill="black", font=font)
    y = base + 22
    for k, level in enumerate(levels):
        draw.rectangle((left, y, left + 10, y + 10), fill=COLOURS[k % len(COLOURS)])
        draw.text((left + 16, y), level, fill="black", font=font)
        y += 16
    for r, run in enumerate(runs):
        draw.text((left, y), f"{r + 1}: {run[:110]}", fill="black", font=font)
        y += 14
    image.save(path, format="PNG")
