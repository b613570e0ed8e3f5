"""Scorers: framework-free scoring functions (``cardiolens.scorers``)."""
