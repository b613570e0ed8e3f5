"""Safe writes: every file and folder of a dataset is written aside, then renamed in place.

An interrupted or failed write leaves the previous file or dataset intact, never a
truncated one. Renames within one folder are atomic on POSIX and Windows (``os.replace``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _sibling(path: Path, tag: str) -> Path:
    return path.parent / f".{path.name}.{tag}-{os.getpid()}"


@contextmanager
def atomic_file(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` (same suffixes, so writers that infer a format from
    the name still work); it replaces ``path`` only if the block ends without an error."""
    path = Path(path)
    tmp = path.parent / f".{path.stem.split('.')[0]}.partial-{os.getpid()}{''.join(path.suffixes)}"
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8, ``\\n`` line ends) to ``path`` atomically."""
    with atomic_file(path) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True                 # exists (another user's) or cannot tell: keep it
    return True


def _remove_stale_stages(out: Path) -> None:
    """Delete the stage folders beside ``out`` left by killed builds (SIGKILL, SIGTERM or a
    power cut skip the cleanup; a phantom cohort's is about 1 GB): those whose process
    (the pid in the name) no longer exists."""
    if not out.parent.is_dir():
        return
    for old in out.parent.glob(f".{out.name}.partial-*"):
        pid = old.name.rsplit("-", 1)[-1]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)


@contextmanager
def staged_folder(out: Path) -> Iterator[Path]:
    """A fresh folder beside ``out`` to build in; it replaces ``out`` only when the block
    ends without an error, so a failed or interrupted build keeps the old folder."""
    out = Path(out)
    stage = _sibling(out, "partial")
    _remove_stale_stages(out)
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    try:
        yield stage
        old = _sibling(out, "old")
        if out.exists():
            out.rename(old)
        stage.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
