"""Reliability of a training run: failures, checkpoints, restarts, and the goodput they leave.

Pure functions that broadcast over numpy arrays; seconds inside. Notation of
Young 1974 and Daly 2006: delta = blocking checkpoint time, M = cluster MTBF, tau = checkpoint
interval (useful compute between checkpoints), R = restart cost.

Goodput (the effective training time ratio, ETTR, of Kokolis et al. 2025) is the useful share
of wall-clock time under Daly's (2006) complete model: failures arrive at rate 1/M per
wall-clock second (the cluster fails whatever it is doing, restarts and rework included); the
run is a sequence of segments, tau of useful work and its checkpoint delta, each repeated from
its start until it completes without a failure, and every failure costs a restart R that can
itself be interrupted. A segment then takes M e^(R/M) (e^((tau + delta)/M) - 1) on average
(Daly 2006, FGCS 22(3), sec. 3, the wall time T_w of the complete model per segment), so

    goodput = tau / (M e^((R + P)/M) (e^((tau + delta)/M) - 1))

P is the background write of an asynchronous checkpoint (0 for a blocking one, whose write is
delta): a checkpoint is a recovery point once it has reached storage (CheckFreq, Mohan et al.,
FAST 2021, sec. 4: snapshot, then persist), so a failure during the write, with chance P/tau,
rolls back one interval further, tau x P/tau = P more work redone on average; that work is
exposed to failures as the restart is, so it joins R in the exponent.

To first order this is 1 - delta/tau - (tau + delta)/(2M) - (R + P)/M, Young's (1974) waste
plus the restarts, the linear form this module used before 2026-12-03. At the Llama 3 failure
rate with a 10-minute restart it gives ~92% for 16k H100 (Llama 3 report sec. 3.3.4: "higher
than 90% effective training time") and ~67% for 100k; with the defaults of today's practice at
that scale (a 3-minute restart with hot spares, asynchronous checkpoints stalling seconds:
assumptions.py restart_s, checkpoint_async) ~95% and ~84%, beside the published 97% ETTR on
9,600 GPUs (ByteRobust, arXiv 2509.16293) and 80% effective training time at O(100K) GPUs
(Meta FT-HSDP, arXiv 2602.00277). The linear form charged every failure a whole restart and
half an interval, even one landing in a restart or in rework, whose loss is only the time since
the failure before: it read 300,000 H100 at 62% where the complete model (and a Monte Carlo of
the same failures) reads 67%, and at a million devices it read no progress where the run makes
~31%. The complete model's expectation stays finite however often the cluster fails (a run
whose segments almost never complete once lands, eventually), so a plan calls a run that would
spend more than 99% of its wall time failing, goodput below NO_PROGRESS_GOODPUT, no progress
(goodput 0, wall time inf): a reporting threshold, not a measured figure, where the expected
time is 100x the steady state and rests on rare lucky streaks (16,384 H100 writing blocking
checkpoints at 1 GB/s had read 1e210 days).
"""

from __future__ import annotations

import numpy as np

from ..assumptions import Assumptions
from ..units import known as _known
from ..units import one_shape

__all__ = ["NO_PROGRESS_GOODPUT", "RELIABILITY_KEYS", "checkpoint_bytes", "checkpoint_write_s",
           "mtbf_s", "young_interval_s", "daly_interval_s", "goodput"]

# Below this goodput a run is reported as making no progress (module docstring).
NO_PROGRESS_GOODPUT = 0.01

# What ``goodput`` returns, in order.
RELIABILITY_KEYS = ("goodput", "checkpoint_interval_s", "mtbf_s", "expected_interruptions",
                    "wall_s", "lost_hours", "lost_hours_checkpoint", "lost_hours_rework",
                    "lost_hours_restart")


def checkpoint_bytes(params, asm: Assumptions):
    """Training state written per checkpoint: asm.checkpoint_bytes_per_param a parameter, 14
    for mixed-precision Adam (the model states' 16 of Rajbhandari et al. 2020, ZeRO, sec. 3.1,
    less the 2 bytes of gradients no checkpoint keeps)."""
    return _known(params) * asm.checkpoint_bytes_per_param


def checkpoint_write_s(nbytes, write_bytes_per_s):
    """Blocking time of one checkpoint: bytes / aggregate write bandwidth (Llama 3
    405B: 405e9 x 14 bytes = 5.7 TB over Tectonic's 2 TB/s, Llama 3 report sec. 3.3.1, = 2.8 s)."""
    return _known(nbytes) / _known(write_bytes_per_s)


def mtbf_s(devices, failure_rate_per_device_hour):
    """Cluster MTBF in seconds, 1 / (rate x N), failures independent across devices
    (Kokolis et al. 2025, arXiv 2410.21680, sec. on MTTF); a zero rate gives inf."""
    with np.errstate(divide="ignore", over="ignore"):  # a rate near zero: inf, as zero is
        return 3600.0 / (_known(failure_rate_per_device_hour) * np.asarray(devices, dtype=float))


def young_interval_s(delta_s, mtbf_s):
    """Young 1974, CACM 17(9): tau = sqrt(2 delta M)."""
    return np.sqrt(2.0 * _known(delta_s) * _known(mtbf_s))


def daly_interval_s(delta_s, mtbf_s):
    """Daly 2006, FGCS 22(3): sqrt(2dM) [1 + 1/3 sqrt(d/2M) + 1/9 (d/2M)] - d for d < 2M,
    else M."""
    d, m = _known(delta_s), _known(mtbf_s)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        x = d / (2.0 * m)
        higher = np.sqrt(2.0 * d * m) * (1.0 + np.sqrt(x) / 3.0 + x / 9.0) - d
        return np.where(d < 2.0 * m, higher, m)


def goodput(devices, wall_compute_s, checkpoint_s, asm: Assumptions, failure_rate=None,
            restart_s=None, min_interval_s=0.0) -> dict:
    """Wall-clock cost of failures and checkpoints for a run needing `wall_compute_s` seconds of
    useful steps on `devices` devices, checkpointing every Daly interval (module docstring), or
    every `min_interval_s` when that is longer: the background write of an asynchronous
    checkpoint, P of the module docstring (one cannot start before the previous one has reached
    storage, and a failure during it redoes the interval before as well).

    Returns arrays: goodput (useful / wall time, in [0, 1]), checkpoint_interval_s, mtbf_s,
    expected_interruptions (over the whole run), wall_s (useful seconds / goodput), lost_hours
    (device-hours not doing useful steps) and its parts lost_hours_checkpoint, lost_hours_rework,
    lost_hours_restart.
    """
    rate = asm.failure_rate_per_device_hour if failure_rate is None else failure_rate
    restart = _known(asm.restart_s if restart_s is None else restart_s)
    n = np.asarray(devices, dtype=float)
    useful = _known(wall_compute_s)
    delta = _known(checkpoint_s)
    m = mtbf_s(n, rate)
    upload = _known(min_interval_s)
    # Daly's interval, no shorter than the background write of an asynchronous checkpoint
    tau = np.maximum(daly_interval_s(delta, m), upload)
    finite = np.isfinite(m)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        # checkpoint time per second of useful work, delta/tau (Young 1974)
        checkpoint_per_useful = np.where(tau > 0, delta / tau, 0.0)
        # Daly 2006's complete model (module docstring): a segment of tau + delta, repeated
        # until no failure lands in it, each failure paying a restart R, itself exposed, and
        # the background write P an asynchronous checkpoint redoes on average
        mf = np.where(finite, m, 1.0)
        # tau / (M (e^((tau + delta)/M) - 1)), whose limit is 1 as tau + delta -> 0 (free
        # checkpoints); an overflowing exponential reads 0, an unknown write nan
        length = tau + delta
        per_segment = np.where(length == 0, 1.0, tau / (mf * np.expm1(length / mf)))
        g_failing = per_segment * np.exp(-(restart + upload) / mf)
        g_failing = np.where(g_failing < NO_PROGRESS_GOODPUT, 0.0, g_failing)
        g = np.clip(np.where(finite, g_failing, 1.0 / (1.0 + checkpoint_per_useful)), 0.0, 1.0)
        wall = np.where(g == 0, np.inf, useful / g)
        # every failure over the wall time, those in restarts and rework included
        interruptions = np.where(finite, wall / m, 0.0)
        checkpoint_lost_s = np.where(g == 0, np.inf, useful * checkpoint_per_useful)
        # each failure starts a restart that lasts R or until the next failure, M (1 - e^-R/M)
        # on average (an exponential's mean truncated at R); the rest of the failures' loss is
        # work redone. The three add up to wall - useful (every one unbounded where the run
        # never ends)
        restart_lost_s = np.where(finite & (g > 0),
                                  interruptions * mf * -np.expm1(-restart / mf),
                                  np.where(finite & (restart > 0), np.inf, 0.0))
        rework_lost_s = np.where(
            g == 0, np.inf,
            np.maximum(wall - useful - checkpoint_lost_s - restart_lost_s, 0.0))
    to_device_hours = n / 3600.0
    lost = {"lost_hours_checkpoint": checkpoint_lost_s * to_device_hours,
            "lost_hours_rework": np.where(finite, rework_lost_s, 0.0) * to_device_hours,
            "lost_hours_restart": restart_lost_s * to_device_hours}
    total = lost["lost_hours_checkpoint"] + lost["lost_hours_rework"]
    total += lost["lost_hours_restart"]
    out = {"goodput": g, "checkpoint_interval_s": tau, "mtbf_s": m,
           "expected_interruptions": interruptions, "wall_s": wall,
           "lost_hours": total, **lost}
    return one_shape(out)
