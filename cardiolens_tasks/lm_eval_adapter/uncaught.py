"""One-line reports of cardiolens errors that reach the top of an lm-eval run.

lm-eval calls the task hooks (``load_docs``) inside its own task loading and lets their
exceptions propagate, so a refused ``--metadata`` value would end the run with a
traceback through lm-eval's internals. :func:`report_as_one_line` keeps the exception
(a Python caller can still catch it) but makes Python print an uncaught
:class:`~cardiolens.errors.CardiolensError` as one line on stderr; every other exception
keeps its usual traceback.
"""

from __future__ import annotations

import sys
from types import TracebackType

from cardiolens.errors import CardiolensError
from cardiolens.prompting.options import OptionError

PREFIX = "cardiolens: "
OPTION_SOURCES = " (lm-eval task options come from --metadata, model args and the task YAML)"


def report_as_one_line() -> None:
    """Install (once) an ``sys.excepthook`` that prints an uncaught cardiolens error as one
    line, ``cardiolens: <message>`` (a refused option also says where options come from),
    and hands anything else to the previous hook."""
    previous = sys.excepthook
    if getattr(previous, "_cardiolens_one_line", False):
        return

    def hook(kind: type[BaseException], value: BaseException,
             traceback: TracebackType | None) -> None:
        if isinstance(value, CardiolensError):
            where = OPTION_SOURCES if isinstance(value, OptionError) else ""
            print(f"{PREFIX}{value}{where}", file=sys.stderr)
        else:
            previous(kind, value, traceback)

    hook._cardiolens_one_line = True  # type: ignore[attr-defined]
    sys.excepthook = hook
