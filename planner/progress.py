"""Progress of long calls: a bar on a terminal, a callback, or nothing.

Every long call of the library (sweeps, estimate_many, budget, a sizing's curve, fleet
schedules) takes ``progress``: None or True show a bar (tqdm, on standard error) when standard
error is a terminal and the call has run for DELAY_S seconds, so short calls and piped output
stay quiet; False shows nothing; a callable is called with (done, total) as work completes
(total None when unknown). tqdm is imported only when a bar is drawn.
"""

from __future__ import annotations

import os
import sys
from typing import Callable

from .errors import InputError

__all__ = ["DELAY_S", "Progress", "check_progress"]

# A bar appears once a call has run this long (tqdm's delay): calls under a second or so show
# nothing. PLANNER_PROGRESS_DELAY_S changes it (0 draws at once, as the tests do).
DELAY_S = 1.0


def _delay() -> float:
    try:
        return max(0.0, float(os.environ.get("PLANNER_PROGRESS_DELAY_S", DELAY_S)))
    except ValueError:
        return DELAY_S


def check_progress(progress) -> None:
    """Refuse a ``progress`` that is none of None, True, False and a callable, naming it
    (progress="yes" had been taken, as a bar; every long call opens a Progress with it)."""
    if progress is not None and not isinstance(progress, bool) and not callable(progress):
        raise InputError("progress", progress, "True or None (a bar on a terminal), False "
                         "(none) or a callable taking (done, total)")


class Progress:
    """One long call's progress, as a context manager: ``update(n)`` as work completes,
    ``total`` settable when it becomes known."""

    def __init__(self, progress, total: int | None = None, desc: str = "",
                 unit: str = "it"):
        check_progress(progress)
        self.callback: Callable | None = progress if callable(progress) else None
        self.done, self._total, self.bar = 0, total, None
        if progress is not False and self.callback is None and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=desc, unit=unit, delay=_delay(),
                            file=sys.stderr, dynamic_ncols=True, leave=False)

    @property
    def total(self) -> int | None:
        return self._total

    @total.setter
    def total(self, value: int | None) -> None:
        self._total = value
        if self.bar is not None:
            self.bar.total = value
            self.bar.refresh()

    def update(self, n: int = 1) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
        if self.callback is not None:
            self.callback(self.done, self._total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
