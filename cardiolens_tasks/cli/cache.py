"""`cardiolens cache info|clear`: what the user cache folder holds, and removing it.

The cache (:func:`cardiolens.cache.cache_root`) holds the generated phantom cohorts
(``phantom-*``, one per generator version, size and seed) and the render cache
(``render/``, PNGs keyed by file content). Both are rebuilt on demand, so clearing only
costs time on the next run. Nothing else in the folder is touched: ``CARDIOLENS_CACHE_DIR``
may point at a folder that also holds the user's own files.
"""

from __future__ import annotations

import argparse
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cardiolens.cache import cache_root
from cardiolens.errors import CardiolensError

RENDER = "render"
COHORT_GLOB = "phantom-*"


@dataclass(frozen=True)
class Entry:
    """One cardiolens entry of the cache folder."""

    path: Path
    kind: str          # "cohort" or "render cache"
    size: int          # bytes on disk (apparent file sizes)
    files: int


def _measure(path: Path) -> tuple[int, int]:
    size = files = 0
    for item in path.rglob("*"):
        if item.is_file() and not item.is_symlink():
            size += item.stat().st_size
            files += 1
    return size, files


def cache_entries(root: Path) -> list[Entry]:
    """The cohorts and the render cache under ``root``, cohorts first (by name)."""
    if not root.is_dir():
        return []
    found = [(p, "cohort") for p in sorted(root.glob(COHORT_GLOB)) if p.is_dir()]
    if (root / RENDER).is_dir():
        found.append((root / RENDER, "render cache"))
    return [Entry(path, kind, *_measure(path)) for path, kind in found]


def human(size: int) -> str:
    """``381.2 MB`` and the like (decimal units)."""
    if size < 1000:
        return f"{size} B"
    value = size / 1000
    for unit in ("kB", "MB"):
        if value < 1000:
            return f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


def run_info(root: Path) -> int:
    entries = cache_entries(root)
    print(f"cache folder: {root}" + ("" if root.is_dir() else " (not created yet)"))
    for entry in entries:
        print(f"  {entry.kind:<13} {human(entry.size):>9}  {entry.files:>6} files  "
              f"{entry.path.name}")
    print(f"  {'total':<13} {human(sum(e.size for e in entries)):>9}")
    return 0


def run_clear(root: Path, render_only: bool) -> int:
    entries = [e for e in cache_entries(root) if not render_only or e.kind == "render cache"]
    for entry in entries:
        shutil.rmtree(entry.path)
    freed = sum(e.size for e in entries)
    what = "render cache" if render_only else "cohorts and render cache"
    print(f"removed {len(entries)} entr{'y' if len(entries) == 1 else 'ies'} ({what}, "
          f"{human(freed)}) from {root}")
    return 0


def run(args: argparse.Namespace) -> int:
    root = cache_root()
    if root.exists() and not root.is_dir():
        raise CardiolensError(f"{root}: not a folder (the cache folder; set "
                              "CARDIOLENS_CACHE_DIR to a folder)")
    if args.action == "info":
        return run_info(root)
    return run_clear(root, args.render_only)


def add_parser(sub: Any) -> None:
    """Register the command on the ``cardiolens`` subparsers."""
    cache = sub.add_parser(
        "cache", help="show or clear the user cache (phantom cohorts, rendered PNGs)",
        description="Show or clear the cardiolens user cache: generated phantom cohorts "
                    "(phantom-*) and the render cache (render/). The folder is "
                    "$CARDIOLENS_CACHE_DIR or the platform user cache (e.g. "
                    "~/.cache/cardiolens). Both are rebuilt on demand; other files in the "
                    "folder are never touched.")
    actions = cache.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("info", help="list the cohorts and the render cache with their sizes")
    clear = actions.add_parser("clear", help="delete the cohorts and the render cache")
    clear.add_argument("--render-only", action="store_true",
                       help="delete only the render cache, keep the cohorts")
    cache.set_defaults(func=run)
