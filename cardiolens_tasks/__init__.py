"""cardiolens: the CardioLens cardiac MRI benchmark for Inspect AI and lm-eval.

The core (taxonomy, dataset format, volumes, phantom, selection, rendering, prompts and
scorers) imports neither Inspect nor lm-eval; the adapters live in their own modules.
"""

__version__ = "0.1.0"
