"""Independent calls spread over this machine's cores: forked worker processes where the
platform has fork and this process may have children, else nothing (the caller answers in its
own process). Forked workers inherit the caller's module state as it is when the pool starts
(a Scorer, a catalog), so the arguments sent to each call stay small.
"""

from __future__ import annotations

import os
from typing import Callable, Sequence

__all__ = ["forked_map"]


def forked_map(fn: Callable, args: Sequence, done: Callable[[], object] | None = None
               ) -> list | None:
    """``[fn(a) for a in args]`` in forked workers, one per core up to one per argument, in
    the order of ``args``, ``done()`` called as each answer arrives; None where that cannot be
    had (one core or one argument, no fork, a daemon process, no processes to be had), so the
    caller answers in its own process."""
    import multiprocessing as mp

    workers = min(len(args), os.cpu_count() or 1)
    if workers < 2 or "fork" not in mp.get_all_start_methods() or mp.current_process().daemon:
        return None
    from concurrent.futures import ProcessPoolExecutor

    try:
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("fork")) as pool:
            out = []
            for got in pool.map(fn, args):
                out.append(got)
                if done is not None:
                    done()
            return out
    except (OSError, RuntimeError):
        return None
