"""The Inspect AI adapter: registered tasks, the prompt solver, scorer wrappers, models.

Thin by design: everything it does is a call into the framework-free core.
"""
