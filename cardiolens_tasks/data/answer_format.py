"""The answer format shared by prompts, models and scorers: option letters and markers."""

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
"""Option letters, in order."""

REPORT_MARKER = "Report:"
"""Reasoning-style report prompts ask for the section after this marker."""
