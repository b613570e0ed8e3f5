"""The boundaries hold for what a fresh interpreter actually loads (transitive imports).

The core never loads a framework; the reader parses only the request, so it loads neither
the dataset reader nor the volume module nor nibabel.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

CORE = ("data", "prompting", "scorers", "phantom", "importers", "analysis", "reader")
FRAMEWORKS = ("inspect_ai", "lm_eval")
READER_MUST_NOT_LOAD = ("cardiolens.data.dataset", "cardiolens.data.volumes", "nibabel")


def _loaded_after_importing(package: str) -> set[str]:
    """``sys.modules`` of a fresh interpreter after importing every module of ``package``."""
    code = (
        "import importlib, json, pkgutil, sys\n"
        f"package = importlib.import_module({package!r})\n"
        "for info in pkgutil.walk_packages(package.__path__, package.__name__ + '.'):\n"
        "    importlib.import_module(info.name)\n"
        "print(json.dumps(sorted(sys.modules)))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return set(json.loads(proc.stdout))


@pytest.mark.parametrize("package", CORE)
def test_the_core_loads_no_framework(package: str) -> None:
    loaded = _loaded_after_importing(f"cardiolens.{package}")
    assert f"cardiolens.{package}" in loaded
    assert not {name.split(".")[0] for name in loaded} & set(FRAMEWORKS)


def test_the_reader_loads_neither_the_dataset_nor_the_volumes() -> None:
    loaded = _loaded_after_importing("cardiolens.reader")
    assert "cardiolens.reader.server" in loaded
    assert not loaded & set(READER_MUST_NOT_LOAD), sorted(loaded & set(READER_MUST_NOT_LOAD))


def test_the_adapters_do_load_their_framework() -> None:
    """The check above can fail: importing an adapter does load its framework."""
    assert "inspect_ai" in _loaded_after_importing("cardiolens.inspect_adapter")
