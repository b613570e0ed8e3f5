"""lm-eval helpers: a TaskManager that knows the CardioLens task YAMLs and their options."""

from __future__ import annotations

from typing import Any

from cardiolens.lm_eval_adapter.docs import task_yaml_path


def task_manager(data: str | None = None, **options: Any) -> Any:
    """An ``lm_eval.tasks.TaskManager`` with the CardioLens tasks and their options.

    ``data`` and ``options`` (any task option, see
    :func:`cardiolens.prompting.task_options.task_options`) become the tasks' metadata, as
    ``--metadata`` does on the command line, and are checked when a task loads. Use it
    with ``simple_evaluate(..., task_manager=task_manager(data="my_dataset", budget=8))``.
    """
    from lm_eval.tasks import TaskManager

    metadata = {k: v for k, v in {"data": data, **options}.items() if v is not None}
    return TaskManager(include_path=str(task_yaml_path()), metadata=metadata)
