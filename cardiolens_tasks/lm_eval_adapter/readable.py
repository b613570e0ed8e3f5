"""Which documents' images cannot be read, found before lm-eval sees the documents.

lm-eval builds every request in one loop with no per-document error handling (and builds
the first document's text while the task loads), so one unreadable volume would stop the
run with a traceback. The Inspect tasks turn the same volume into a sample error and score
the rest. To leave lm-eval the same items, a document is dropped when a series its prompt
reads cannot be read: the series the prompt builder plans to show
(:func:`~cardiolens.prompting.selection.split_budget`), read the way the builder reads them
(:class:`~cardiolens.prompting.study_images.StudyImages`), so the reason is the same text
as the Inspect sample error. Each series is read once; a series read whole once is recorded
in the render cache under its file's SHA-256 (which the builder computes anyway), so later
runs only hash it.
"""

from __future__ import annotations

from collections.abc import Iterable

from cardiolens.data.dataset import Item
from cardiolens.data.taxonomy import Taxonomy
from cardiolens.errors import CardiolensError
from cardiolens.prompting.prompt_builder import PromptBuilder
from cardiolens.prompting.rendering import RenderOptions
from cardiolens.prompting.selection import split_budget
from cardiolens.prompting.study_images import StudyImages

READ_KIND = "read_whole"
"""Render-cache kind marking a volume file (by content) that was read whole without error."""


def planned_series(builder: PromptBuilder, item: Item, taxonomy: Taxonomy) -> list[str]:
    """The series keys the prompt of ``item`` shows frames of (none without images)."""
    settings = builder.settings
    if not settings.images:
        return []
    subtask = taxonomy.get(item.subtask)
    plan = split_budget(settings.budget, subtask.series, builder.studies[item.study_id].series,
                        subtask.function)
    return [key for key, count in plan.items() if count > 0]


def _series_problem(images: StudyImages, key: str) -> str | None:
    try:
        digest = images.digest(key)
        if images.cache.get_json(READ_KIND, digest):
            return None
        images.stored(key)
    except CardiolensError as exc:
        return str(exc)
    images.cache.put_json(READ_KIND, digest, True)
    return None


def unreadable(builder: PromptBuilder, items: Iterable[Item],
               taxonomy: Taxonomy) -> dict[str, str]:
    """``{item_id: reason}`` for the items whose prompt would read a series that cannot be
    read (missing, truncated, wrong shape, ...); the reason names the file."""
    problems: dict[tuple[str, str], str | None] = {}
    found: dict[str, str] = {}
    options = RenderOptions(builder.settings.image_size)
    for item in items:
        for key in planned_series(builder, item, taxonomy):
            memo = (item.study_id, key)
            if memo not in problems:                # one series' pixels at a time
                images = StudyImages(builder.root, builder.studies[item.study_id], options,
                                     builder.cache)
                problems[memo] = _series_problem(images, key)
            reason = problems[memo]
            if reason is not None:
                found[item.item_id] = reason
                break
    return found


def dropped_line(found: dict[str, str], total: int) -> str:
    """One line: how many documents were dropped of ``total``, and why (per reason)."""
    counts: dict[str, int] = {}
    for reason in found.values():
        counts[reason] = counts.get(reason, 0) + 1
    shown = [f"{reason} ({n} document{'s' if n != 1 else ''})"
             for reason, n in list(counts.items())[:3]]
    more = len(counts) - len(shown)
    return (f"cardiolens: dropped {len(found)} of {total} documents whose images cannot be "
            f"read (inspect eval reports them as sample errors): {'; '.join(shown)}"
            + (f"; and {more} more unreadable series" if more else ""))
