"""Inspect AI entry point: registers the cardiolens tasks and the ``cardiolens/`` models."""

from cardiolens.inspect_adapter.models import cardiolens_models
from cardiolens.inspect_adapter.tasks import diagnosis, image_understanding, report_generation

__all__ = ["cardiolens_models", "diagnosis", "image_understanding", "report_generation"]
