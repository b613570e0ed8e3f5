"""Named options of a task: type, default, allowed values, help, and their checking.

The same :class:`Option` checks an Inspect ``-T`` value (typed by Inspect's YAML parsing)
and an lm-eval ``--metadata`` or model-arg value (``loose``: strings such as ``"8"`` or
``"false"`` are converted), so both frameworks accept and refuse the same values with the
same words.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cardiolens.errors import CardiolensError

_BOOL = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


class OptionError(CardiolensError, ValueError):
    """One or more option values are refused; the message names each option."""


@dataclass(frozen=True)
class Option:
    """One task option.

    Args:
        name: The option's name (``-T name=...``, ``--metadata '{"name": ...}'``).
        kind: ``bool``, ``int``, ``str``, or ``list`` (names, comma-separated or a list).
        default: The value when the option is not given (``None``: not set).
        help: One sentence for the documentation.
        choices: Allowed values (of each name, for ``list``), if closed.
        low, high: Allowed range of an ``int`` (either may be ``None``).
        optional: ``None`` is allowed besides the values of ``kind``.
    """

    name: str
    kind: type
    default: Any
    help: str
    choices: tuple[str, ...] | None = None
    low: int | None = None
    high: int | None = None
    optional: bool = False

    def allowed(self) -> str:
        """What the option takes, in words (for error messages and the docs)."""
        if self.choices is not None:
            return ("names from " if self.kind is list else "one of ") + ", ".join(self.choices)
        if self.kind is bool:
            return "true or false"
        if self.kind is int:
            if self.low is not None and self.high is not None:
                return f"an integer in [{self.low}, {self.high}]"
            if self.low is not None:
                return "a positive integer" if self.low == 1 else \
                    "a non-negative integer" if self.low == 0 else f"an integer >= {self.low}"
            return "an integer"
        return "a comma-separated list" if self.kind is list else "a string"

    def check(self, value: Any, loose: bool = False) -> tuple[Any, str | None]:
        """``(value, None)`` with the value converted, or ``(value, reason)`` if refused.

        Args:
            value: The given value.
            loose: Convert strings (``"8"``, ``"false"``) as lm-eval's metadata needs.
        """
        if value is None and (self.optional or self.default is None):
            return None, None
        converted = self._convert(value, loose)
        if converted is _REFUSED:
            return value, self._reason(value)
        if self.kind is list:
            bad = [v for v in converted if self.choices is not None and v not in self.choices]
            if bad or not converted:
                return value, self._reason(", ".join(bad) if bad else value)
            return converted, None
        out_of_range = self.kind is int and (
            (self.low is not None and converted < self.low)
            or (self.high is not None and converted > self.high))
        if out_of_range or (self.choices is not None and converted not in self.choices):
            return value, self._reason(value)
        return converted, None

    def _reason(self, value: Any) -> str:
        return f"{self.name} must be {self.allowed()}, not {value!r}"

    def _convert(self, value: Any, loose: bool) -> Any:
        if self.kind is bool:
            if isinstance(value, bool):
                return value
            if loose and str(value).lower() in _BOOL:
                return _BOOL[str(value).lower()]
            return _REFUSED
        if self.kind is int:
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            if loose and isinstance(value, str):
                try:
                    return int(value)
                except ValueError:
                    return _REFUSED
            return _REFUSED
        if self.kind is list:
            parts = value.split(",") if isinstance(value, str) else value
            if not isinstance(parts, (list, tuple)) or not all(isinstance(p, str) for p in parts):
                return _REFUSED
            return [p.strip() for p in parts if p.strip()]
        if isinstance(value, os.PathLike):       # data=Path(...) from Python
            return os.fspath(value)
        return value if isinstance(value, str) else _REFUSED


_REFUSED = object()


def setting(default: Any, help: str, *, choices: Sequence[str] | None = None,
            low: int | None = None, high: int | None = None,
            levels: Sequence[str] | None = None) -> Any:
    """A dataclass field that carries its option description (see :func:`field_options`).

    Args:
        default: The default value; its type is the option's kind.
        help: One sentence for the documentation.
        choices, low, high: Allowed values.
        levels: The task levels that take the option (default: all).
    """
    meta = {"help": help, "choices": tuple(choices) if choices is not None else None,
            "low": low, "high": high, "levels": tuple(levels) if levels else None}
    return field(default=default, metadata=meta)


def field_option(name: str, default: Any, metadata: Any) -> Option:
    """The :class:`Option` described by a :func:`setting` field."""
    return Option(name, type(default), default, metadata["help"], metadata["choices"],
                  metadata["low"], metadata["high"])


def check_all(options: Sequence[Option], values: dict[str, Any],
              loose: bool = False) -> tuple[dict[str, Any], list[str]]:
    """Every given value checked: the converted values and every refusal, in option order."""
    out: dict[str, Any] = {}
    errors: list[str] = []
    for option in options:
        if option.name not in values:
            continue
        value, error = option.check(values[option.name], loose)
        if error:
            errors.append(error)
        else:
            out[option.name] = value
    return out, errors
