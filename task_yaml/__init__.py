"""lm-eval task configurations shipped with the package (``cardiolens.task_yaml``)."""
