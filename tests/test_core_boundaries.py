"""The core stays free of framework imports."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FRAMEWORKS = ("inspect_ai", "lm_eval")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_core_modules_do_not_import_frameworks() -> None:
    core = [p for p in (ROOT / "cardiolens_tasks").rglob("*.py")
            if not {"inspect_adapter", "lm_eval_adapter", "cli"} & set(p.parts)
            and p.name != "_registry.py"]  # the adapters and the commands that drive them
    core += list((ROOT / "scorers").rglob("*.py"))
    assert core
    for path in core:
        assert not _imports(path) & set(FRAMEWORKS), path
