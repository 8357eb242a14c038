"""Many plans at once: a table of scenarios in, every output of the contract out, row by row.

``estimate_many`` takes a pyarrow Table or a pandas DataFrame whose columns are named as
``planner.estimate``'s inputs (the sweep's input columns, CONTRACT.md) and returns it with one
column per output, flattened with ``_`` (cost_usd_total, layout_tp, ...). A row that
``estimate`` would refuse gets the message in its ``error`` column; the others are answered.

Why the answers are ``estimate``'s answers (tests/test_estimate_many.py checks it row by row):

- A row with a device count (``gpus``), one accelerator and no Monte Carlo takes the columnar
  path (many/columnar.py). Each distinct workload, hardware, site and layout is resolved
  once by the functions ``estimate`` uses; every distinct (workload, hardware, devices, layout)
  is scored by model/search.best_layouts, all of them together; and plan/assemble.py's
  functions, the ones ``estimate`` assembles its plans with, give every figure, the limits'
  judgement included, over all rows as arrays.
- Every other row (no ``gpus``, so the cluster is sized; several accelerators; ``uncertainty``;
  an input the columnar path does not know) is answered by ``estimate`` itself, once per
  distinct scenario, with identical layout searches shared between scenarios
  (plan/options.shared_searches).
"""

from __future__ import annotations

import numpy as np

from ..assumptions import SWEEP_CHUNK_ROWS
from ..plan.estimate import estimate
from ..plan.result import FRACTIONS, NON_NEGATIVE, POSITIVE, ImpossiblePlan, impossible
from ..report import flatten
from ..units import InputError
from .columnar import columnar
from .columns import Answers, Coded, columns_of
from .scenarios import (
    COLUMNAR_INPUTS,
    INPUTS,
    ROW_QUANTITIES,
    Context,
    Rows,
    context,
    numbers,
    per_scenario,
)

# --- the reference path -----------------------------------------------------------------------

def reference(ctx: Context, cols: dict, rows: np.ndarray, st: Rows) -> None:
    """Rows answered by plan.estimate itself, once per distinct scenario."""
    def flat_plan(kwargs: dict) -> dict:
        plan = estimate(catalog=ctx.catalog, assumptions=ctx.assumptions, **kwargs)
        # the plan's fields as Plan.to_dict gives them, less its deep copy (NaN and inf
        # become null in the columns anyway)
        flat = flatten({k: v for k, v in plan.__dict__.items()
                        if k not in ("assumptions", "alternatives", "sizing")})
        used = plan.assumptions or {}
        for name in ("price_per_gpu_hour", "pue"):
            if name in used:
                flat[f"assumptions_{name}_value"] = used[name].get("value")
        return flat

    per_scenario(ctx, cols, rows, st, [n for n in INPUTS if n in cols], flat_plan)


# --- one chunk, one table ---------------------------------------------------------------------

def answer(ctx: Context, cols: dict[str, Coded], n: int) -> Answers:
    """Every output column for ``n`` rows of coded input columns."""
    ans = Answers(n, ctx.fields)
    st = Rows(ans)
    if n == 0:
        return ans
    qty = {name: numbers(cols[name].values if name in cols else [], *spec)
           for name, spec in ROW_QUANTITIES.items()}
    ref = np.zeros(n, bool)
    if "gpus" in cols:
        ref |= cols["gpus"].codes < 0
    else:
        ref[:] = True
    if "gpu" in cols:
        multi = [isinstance(v, (list, tuple)) or "," in str(v) for v in cols["gpu"].values]
        ref |= np.array(multi + [False])[cols["gpu"].codes]
    if "uncertainty" in cols:
        ref |= np.array([bool(v) for v in cols["uncertainty"].values] + [False])[
            cols["uncertainty"].codes]
    for name in cols:
        if name not in COLUMNAR_INPUTS:
            ref |= cols[name].codes >= 0
    reference(ctx, cols, np.flatnonzero(ref), st)
    fast = np.flatnonzero(~ref)
    if fast.size:
        columnar(ctx, cols, fast, st, qty)
    ans.clear(np.flatnonzero(st.bad))
    return checked_rows(ans)


def checked_rows(ans: Answers) -> Answers:
    """``ans`` if every row's known figures are physical (plan.result.impossible, the check
    every Plan passes), else ImpossiblePlan: a bug never leaves as a row."""
    figures = {name: np.where(ans.valid[name], ans.f[name], np.nan)
               for name in POSITIVE + NON_NEGATIVE + FRACTIONS if name in ans.f}
    feasible = (ans.i["feasible"].astype(bool) & ans.valid["feasible"]
                if "feasible" in ans.i else False)
    found = impossible(figures, feasible)
    if found:
        raise ImpossiblePlan(f"a row with an impossible figure ({found}): a bug; please "
                             "report it with the scenarios that gave it")
    return ans


def check_columns(names) -> None:
    """Refuse a column that is not an input (a typo would otherwise be ignored silently)."""
    unknown = [n for n in names if n not in INPUTS]
    if unknown:
        raise InputError(f"column '{unknown[0]}'", unknown[0],
                         "a column named as an estimate input: " + ", ".join(INPUTS),
                         "is not an input")


def estimate_many(scenarios, *, catalog=None, assumptions=None,
                  chunk_rows: int = SWEEP_CHUNK_ROWS):
    """Plan every row of ``scenarios``: a pyarrow Table or a pandas DataFrame whose columns
    are named as ``estimate``'s inputs (values as estimate takes them: 1e12 or "1T").

    Returns the same kind of table with the output columns appended (CONTRACT.md's keys
    flattened with ``_``, units in the Arrow field metadata). A row estimate would refuse
    gets its message in ``error`` and null outputs; an infeasible plan is a row with
    ``feasible`` false, its ``reason`` and ``binding``. Rows are answered in chunks of
    ``chunk_rows``; catalog and assumptions hold for every row."""
    import pyarrow as pa

    cols, n = columns_of(scenarios)
    check_columns(cols)
    ctx = context(catalog, assumptions)
    parts = []
    for start in range(0, max(n, 1), chunk_rows):
        rows = slice(start, min(n, start + chunk_rows))  # each column's chunk as a view
        parts.append(answer(ctx, {k: v.take(rows) for k, v in cols.items()},
                            rows.stop - rows.start).table())
    out = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
    clash = [c for c in out.column_names if c in cols]
    if clash:
        raise InputError(f"column '{clash[0]}'", clash[0], "input columns only",
                         "is an output name")
    if isinstance(scenarios, pa.Table):
        for name in out.column_names:
            scenarios = scenarios.append_column(out.schema.field(name), out.column(name))
        return scenarios
    if hasattr(scenarios, "iloc"):
        import pandas as pd

        frame = out.to_pandas()
        frame.index = scenarios.index
        return pd.concat([scenarios, frame], axis=1)
    return out
