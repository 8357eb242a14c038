"""The published references a backtest compares against: the reference rows of workloads/*.toml
and of the public sources of workloads/measurements/*.toml, each published figure in the unit
it is compared in, and the spreadsheet baseline beside it (6ND at a constant MFU). Shared by
the throughput validation (planner/validate.py) and the whole runs (planner/whole_runs.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .calibrate import flops_per_token_of
from .calibrate import precision_of as _precision
from .catalog import Catalog
from .errors import CatalogError
from .model.architecture import active_params, workload_shape

WHOLE_RUN_BASELINE_MFU = 0.35  # the whole-run spreadsheet: 6ND at 35% MFU (issue #12)
THROUGHPUT_BASELINE_MFU = 0.35  # the throughput rows' spreadsheet: 6ND at 35% MFU


def check_row_ids(cat: Catalog) -> None:
    """Every published row once: a row_id in two files (a shipped workload copied under a new
    key into a user catalog) would be scored, and fitted on, twice; a CatalogError names both
    files."""
    seen: dict[str, Path] = {}
    for kind in ("workloads", "measurements"):
        for item in cat.all(kind):
            path = cat.path(kind, item.key)
            for ref in item.references:
                first = seen.setdefault(ref.row_id, path)
                if first != path:
                    raise CatalogError(f"{path}: row_id '{ref.row_id}' is given by {first} "
                                       "too; a published row is scored once: give the copy "
                                       "its own row_id, or drop the row from one file")


def reference_rows(cat: Catalog, kinds=("throughput", "whole_run")) -> list[tuple]:
    """(workload, reference) for every reference that names hardware the catalog has."""
    check_row_ids(cat)
    out = []
    accelerators = set(cat.keys("accelerators"))
    for w in cat.all("workloads"):
        for ref in w.references:
            if ref.kind in kinds:
                out.append((w, ref, ref.accelerator in accelerators and bool(ref.gpus)))
    return out


def measurement_rows(cat: Catalog, kinds=("throughput",)) -> list[tuple]:
    """(workload, reference, usable, source) for every row of workloads/measurements/: the
    source is the file (one public source)."""
    check_row_ids(cat)
    out = []
    accelerators = set(cat.keys("accelerators"))
    for m in cat.all("measurements"):
        for ref in m.references:
            if ref.kind in kinds:
                out.append((cat.workload(ref.workload), ref,
                            ref.accelerator in accelerators and bool(ref.gpus), m.key))
    return out


def throughput_rows(cat: Catalog) -> list[tuple]:
    """(workload, reference, usable, source) of every throughput row: the workload files'
    (their source is the row id's prefix) and the measurement files'."""
    rows = [(w, ref, ok, ref.row_id.split("-")[0])
            for w, ref, ok in reference_rows(cat, kinds=("throughput",))]
    return rows + measurement_rows(cat)


def published(cat: Catalog, w, ref) -> float | None:
    """The published figure in the unit the row is compared in: device-hours (whole runs),
    tokens/s per device where the source prints them, else TFLOP/s per device in the source's
    convention (from MFU x dense peak where only MFU is printed)."""
    if ref.kind == "whole_run":
        return ref.gpu_hours
    if ref.tokens_per_s_per_gpu:
        return ref.tokens_per_s_per_gpu
    if ref.tflops_per_gpu:
        return ref.tflops_per_gpu
    if ref.mfu_pct:
        acc = cat.accelerator(ref.accelerator)
        return ref.mfu_pct / 100 * acc.peak(_precision(ref.precision, w.precision)) / 1e12
    return None


def unit(ref) -> str:
    if ref.kind == "whole_run":
        return "GPU-h"
    return "tok/s" if ref.tokens_per_s_per_gpu else "TFLOP/s"


def unshaped(w) -> str | None:
    """Why a workload known by its count has no shape (a count the shape rule cannot reach
    with its experts: a user's file), or None; its rows are then skipped, not planned."""
    try:
        workload_shape(w)
    except ValueError as exc:
        return str(exc)
    return None


def baseline(cat: Catalog, w, ref) -> float:
    """6ND at a constant MFU, expressed like the published figure: THROUGHPUT_BASELINE_MFU for
    throughput, WHOLE_RUN_BASELINE_MFU of the dense peak for a whole run's device-hours."""
    acc = cat.accelerator(ref.accelerator)
    peak = acc.peak(_precision(ref.precision, w.precision))
    n_active = float(active_params(workload_shape(w)))
    if ref.kind == "whole_run":
        # 6 x active parameters x tokens (Kaplan et al. 2020) at a constant MFU
        return 6.0 * n_active * ref.tokens / (WHOLE_RUN_BASELINE_MFU * peak) / 3600.0
    tokens_per_s = THROUGHPUT_BASELINE_MFU * peak / (6.0 * n_active)
    if ref.tokens_per_s_per_gpu:
        return tokens_per_s
    return tokens_per_s * flops_per_token_of(w, ref, ref.seq_len or w.seq_len) / 1e12


def published_tokens_per_s(cat: Catalog, w, ref) -> float:
    """The published figure as tokens/s per device (what the fit compares)."""
    value = published(cat, w, ref)
    if ref.tokens_per_s_per_gpu:
        return value
    return value * 1e12 / flops_per_token_of(w, ref, ref.seq_len or w.seq_len)


def mape(errors) -> float | None:
    errors = [abs(e) for e in errors if e is not None]
    return float(np.mean(errors)) if errors else None
