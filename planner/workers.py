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
    had (one core or one argument, no fork, a daemon process, no processes to be had, a worker
    killed), so the caller answers in its own process. An error a call raises is raised here,
    as the call would raise it in this process."""
    import multiprocessing as mp

    workers = min(len(args), os.cpu_count() or 1)
    if workers < 2 or "fork" not in mp.get_all_start_methods() or mp.current_process().daemon:
        return None
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    with ProcessPoolExecutor(workers, mp_context=mp.get_context("fork")) as pool:
        try:
            answers = pool.map(fn, args)  # every call submitted: a fork refused raises here
        except (OSError, RuntimeError):
            return None
        out = []
        try:
            for got in answers:
                out.append(got)
                if done is not None:
                    done()
        except BrokenProcessPool:  # a worker killed (out of memory): the caller answers
            return None
        except BaseException:  # a call's own error is the caller's, at once: the calls
            pool.shutdown(wait=False, cancel_futures=True)  # not yet begun are dropped
            raise
        return out
