"""The user cache folder: generated phantom cohorts and rendered PNGs."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def cache_root() -> Path:
    """Where generated cohorts and the render cache live: ``$CARDIOLENS_CACHE_DIR`` or the
    platform user cache (e.g. ``~/.cache/cardiolens``)."""
    env = os.environ.get("CARDIOLENS_CACHE_DIR")
    return Path(env) if env else Path(platformdirs.user_cache_dir("cardiolens"))
