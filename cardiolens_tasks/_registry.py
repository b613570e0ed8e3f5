"""Inspect AI entry point (``[project.entry-points.inspect_ai] cardiolens``).

Inspect imports this module to discover the package's tasks and model providers; each
adapter module registered here is imported for its decorators' side effects.
"""
