"""One answer path: option texts live in taxonomy.yaml and nowhere else in package code."""

from __future__ import annotations

import ast
from pathlib import Path

from cardiolens.data.taxonomy import load_taxonomy

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = [*(ROOT / "cardiolens_tasks").rglob("*.py"), *(ROOT / "scorers").rglob("*.py"),
           *(ROOT / "task_yaml").rglob("*.py")]


def _string_literals(path: Path) -> list[tuple[int, str]]:
    """String constants of a module, docstrings left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in docstrings]


def test_no_option_text_is_written_in_package_code() -> None:
    options = {text for subtask in load_taxonomy().subtasks.values()
               for text in subtask.options}
    found = [f"{path.relative_to(ROOT)}:{line}: {text!r}" for path in PACKAGE
             for line, text in _string_literals(path) if text in options]
    assert not found, ("option texts belong in taxonomy.yaml; name them through "
                       "cardiolens.data.vocabulary:\n" + "\n".join(found))
