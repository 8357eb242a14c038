"""Many plans at once: a table of scenarios in, every output of the contract out, row by row.

``estimate_many`` takes a pyarrow Table or a pandas DataFrame whose columns are named as
``planner.estimate``'s inputs (the sweep's input columns, docs/interface.md) and returns it with one
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

from ..catalog import held_listings
from ..errors import USER_ERRORS, error_text, input_hint, unknown_keyword
from ..frameworks import DATA_PARALLEL_ONLY
from ..plan.estimate import estimate, over_default_site, plan_many, plan_on, prepare
from ..plan.fields import to_pandas
from ..plan.inputs import with_aliases
from ..plan.options import shared_searches
from ..plan.quantities import PLAIN_NUMBER_FLOORS, plain_number_problem, seed_for
from ..plan.result import (
    FRACTIONS,
    NON_NEGATIVE,
    POSITIVE,
    ImpossiblePlan,
    impossible,
    plan_columns,
)
from ..progress import Progress
from ..tuning import SWEEP_CHUNK_ROWS, SWEEP_ESTIMATE_CHUNK_ROWS
from ..units import InputError, parse_int_count
from .columnar import columnar
from .columns import Answers, Coded, columns_of
from .scenarios import (
    COLUMNAR_INPUTS,
    INPUTS,
    ROW_QUANTITIES,
    Context,
    Rows,
    canonical_words,
    context,
    group,
    numbers,
    searches_memo,
)

# --- the reference path -----------------------------------------------------------------------

def reference(ctx: Context, cols: dict, rows: np.ndarray, st: Rows) -> None:
    """Rows answered by ``estimate``'s own planning, once per distinct scenario: scenarios
    that differ only in limits and money (the 100 prices, deadlines and power caps of one
    shape) are planned together by plan.estimate.plan_many, their sizings walking in step and
    each size scored and run once; a Monte Carlo row by ``estimate`` itself."""
    names = [n for n in INPUTS if n in cols]
    if not rows.size:
        return
    sid, first = group([cols[n].take(rows) for n in names], len(rows))
    memo = searches_memo(ctx)
    alike: dict = {}  # physics key -> [(request, rows)]
    with shared_searches(memo):
        for s, r0 in enumerate(first):
            kwargs = {n: cols[n].row(rows[r0]) for n in names}
            kwargs = {k: v for k, v in kwargs.items() if v is not None}
            sel = rows[sid == s]
            try:
                if kwargs.get("uncertainty"):  # the plan and its Monte Carlo, no alternatives
                    _put(st, sel, estimate(catalog=ctx.catalog, assumptions=ctx.assumptions,
                                           alternatives=False, **kwargs))
                    continue
                kwargs.pop("uncertainty", None)  # not true here (a true one took the branch above)
                seed_for(kwargs.pop("seed", None), False)  # a seed without it is refused
                req = prepare(catalog=ctx.catalog, assumptions=ctx.assumptions, **kwargs)
            except USER_ERRORS as exc:
                st.fail(sel, error_text(exc))
                continue
            alike.setdefault(_physics(req), []).append((req, sel))
        answered: dict = {}  # column -> (rows, values), put once per column
        for pairs in alike.values():
            try:
                plans = plan_many([req for req, _ in pairs])
            except USER_ERRORS:  # a size no layout can use: each scenario says so itself
                plans = []
                for req, sel in pairs:
                    try:
                        plans.append(plan_on(req, "numpy", alternatives=False))
                    except USER_ERRORS as exc:
                        st.fail(sel, error_text(exc))
                        plans.append(None)
            for (req, sel), plan in zip(pairs, plans):
                if plan is not None:
                    # a cap of the default site passed, said as estimate says it (the
                    # default site, named by no one, is the one its used table reports)
                    plan = over_default_site(plan, req, None if "site" in req.used
                                             else req.site)
                    rows_of = sel.tolist()
                    for name, value in plan_columns(plan).items():
                        if name in st.ans.kind and value is not None:
                            got = answered.setdefault(name, ([], []))
                            got[0].extend(rows_of)
                            got[1].extend([value] * len(rows_of))
        for name, (at, values) in answered.items():
            at = np.array(at)
            order = np.argsort(at, kind="stable")
            kind = st.ans.kind[name]
            values = (np.array(values, dtype=float) if kind == "f8" else
                      np.array(values, dtype=object))
            st.ans.put(name, at[order], values[order])


def _physics(req) -> tuple:
    """What a plan's layouts and step times depend on: requests alike in it differ only in
    limits and money, and are planned together."""
    w = req.w
    return (w.architecture, w.tokens, w.seq_len, w.global_batch_tokens, w.precision, w.key,
            w.name, tuple((sd.acc.key, sd.hw, sd.site.key if sd.site else None, sd.unit,
                           sd.unit_asked) for sd in req.sides),
            tuple(sorted(req.fixed.items())), req.n_gpus, req.asm, req.allow_tp)


def _put(st: Rows, sel: np.ndarray, plan) -> None:
    for name, value in plan_columns(plan).items():
        if name in st.ans.kind and value is not None:
            st.ans.put(name, sel, value)


# --- one chunk, one table ---------------------------------------------------------------------

def by_estimate_value(name: str, value) -> bool:
    """Whether a row whose input ``name`` is ``value`` (None: not given) is answered by
    ``estimate`` itself rather than the columnar path: no device count (the cluster is
    sized), several accelerators, a Monte Carlo, a data-parallel-only stack, or any input
    the columnar path does not take."""
    if name == "gpus":
        return value is None
    if name == "gpu":
        return isinstance(value, (list, tuple)) or "," in str(value)
    if name == "uncertainty":
        return bool(value)
    if name == "framework" and value in DATA_PARALLEL_ONLY:
        # the stack's layout pin and its devices-per-sequence check are estimate's own
        # (plan/estimate.prepare): one implementation, not a second on the columnar path
        return True
    return name not in COLUMNAR_INPUTS and value is not None


# The inputs by_estimate_value reads the value of; any other the columnar path takes, it takes
# whatever its value.
VALUE_ROUTED = ("gpus", "gpu", "uncertainty", "framework")


def by_estimate(cols: dict[str, Coded], n: int) -> np.ndarray:
    """The rows of coded input columns that ``estimate`` answers (by_estimate_value), as a
    mask; every row when no column gives a device count."""
    ref = np.zeros(n, bool) if "gpus" in cols else np.ones(n, bool)
    for name, col in cols.items():
        if name in COLUMNAR_INPUTS and name not in VALUE_ROUTED:
            continue  # no value of it routes a row (a column of a million prices had been
            # read value by value, twice a call: a third of a fixed-layout call's time)
        flags = [by_estimate_value(name, v) for v in col.values]
        ref |= np.array(flags + [by_estimate_value(name, None)])[col.codes]  # -1: not given
    return ref


def default_chunk_rows(by_estimate_rows: bool) -> int:
    """Rows a chunk holds by default: SWEEP_CHUNK_ROWS when every row takes the columnar path
    (microseconds a row), SWEEP_ESTIMATE_CHUNK_ROWS when some are answered by ``estimate``
    (milliseconds a row: smaller chunks, no slower, less memory, work for every worker)."""
    return SWEEP_ESTIMATE_CHUNK_ROWS if by_estimate_rows else SWEEP_CHUNK_ROWS


def answer(ctx: Context, cols: dict[str, Coded], n: int) -> Answers:
    """Every output column for ``n`` rows of coded input columns, the catalog's folders
    listed once for the chunk (catalog.held_listings)."""
    with held_listings():
        return _answer(ctx, cols, n)


def _answer(ctx: Context, cols: dict[str, Coded], n: int) -> Answers:
    ans = Answers(n, ctx.fields)
    st = Rows(ans)
    if n == 0:
        return ans
    qty = {name: numbers(cols[name].values if name in cols else [], *spec)
           for name, spec in ROW_QUANTITIES.items()}
    for name in PLAIN_NUMBER_FLOORS:  # 90 meant as days is not planned as 90 seconds
        if name in cols:
            bad = {j: error_text(e) for j, v in enumerate(cols[name].value_list())
                   if (e := plain_number_problem(name, v)) is not None}
            st.fail_codes(np.arange(n), cols[name].codes, bad)
    ref = by_estimate(cols, n)
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
                         "is not an input" + (input_hint(unknown[0], INPUTS)
                                              or "") + " (a column to carry through "
                         "untouched, a scenario's name: labels=[...])")


def _without_labels(scenarios, labels) -> tuple[object, tuple[str, ...]]:
    """(the table of inputs alone, the label names): ``labels`` names columns carried through
    untouched (a scenario's name, an owner), each a column of ``scenarios`` and none an input,
    so a typo in an input's name is still refused rather than carried as a label. None or
    () names none; a DataFrame's column named by a number is named by its text (``"0"``)."""
    import pyarrow as pa

    if labels is None:
        labels = ()
    names = (labels,) if isinstance(labels, str) else labels
    if not isinstance(names, (list, tuple)) or not all(isinstance(x, str) for x in names):
        raise InputError("labels", labels, "a column name or a list of them",
                         "is not a list of column names")
    names = tuple(dict.fromkeys(names))
    if not names:
        return scenarios, ()
    pandas = hasattr(scenarios, "iloc")
    keys = list(getattr(scenarios, "column_names", None) or
                (list(scenarios.columns) if pandas else list(scenarios or ())))
    by_text = {str(k): k for k in keys}  # the table's own key of each name
    for name in names:
        if sum(str(k) == name for k in keys) > 1:  # 0 and "0": which one is meant?
            raise InputError("labels", name, "a name that one column of the table has",
                             "names two columns (" + " and ".join(
                                 repr(k) for k in keys if str(k) == name) + ")")
        if name in INPUTS:
            raise InputError("labels", name, "columns that are not estimate inputs",
                             f"names the input '{name}', which a row is planned from")
        if name not in by_text:
            raise InputError("labels", name, "names of the table's columns: " +
                             ", ".join(by_text), "is not a column of the table" +
                             input_hint(name, list(by_text)))
    if isinstance(scenarios, pa.Table):
        return scenarios.drop_columns(list(names)), names
    if pandas:
        return scenarios.drop(columns=[by_text[n] for n in names]), names
    # a dict's keys by their text, as a DataFrame's (a review found {0: [...]} under
    # labels=["0"] escaping as KeyError)
    rows = {len(v) for k, v in scenarios.items() if str(k) not in names
            if hasattr(v, "__len__") and not isinstance(v, (str, bytes, dict))}
    for name in names:  # a dict's label is a column like its inputs: one value a row
        column = scenarios[by_text[name]]
        if isinstance(column, (str, bytes, dict)) or not hasattr(column, "__len__") or \
                (rows and len(column) not in rows):
            raise InputError(f"column '{name}'", None, "a sequence of one value per row, as "
                             "long as the input columns", "is not one value a row")
    return {k: v for k, v in scenarios.items() if str(k) not in names}, names


def estimate_many(scenarios, *, catalog=None, assumptions=None,
                  chunk_rows: int | None = None, progress=None, labels=(), **unknown):
    """Plan every row of ``scenarios``: a pyarrow Table or a pandas DataFrame whose columns
    are named as ``estimate``'s inputs (values as estimate takes them: 1e12 or "1T"), but for
    the columns ``labels`` names, carried through untouched (``labels=["scenario"]``).

    Returns the same kind of table (for a dict of columns, a pyarrow Table of them) with the
    output columns appended (docs/interface.md's keys flattened with ``_``, units in the Arrow
    field metadata). A row estimate would refuse
    gets its message in ``error`` and null outputs; an infeasible plan is a row with
    ``feasible`` false, its ``reason`` and ``binding``. Rows are answered in chunks of
    ``chunk_rows`` (default: default_chunk_rows: 65,536 when every row has a device count
    and one accelerator, else 2,048); catalog and assumptions hold for every row.
    ``progress``: a bar on a terminal once a call runs past a second (None, True), nothing
    (False), or a callable called with (rows done, rows) after each chunk
    (planner/progress.py)."""
    wrong = unknown_keyword("planner.estimate_many", unknown, (
        "catalog", "assumptions", "chunk_rows", "progress", "labels"))
    if wrong is not None:  # as estimate says it, not Python's TypeError (label= for labels=)
        raise wrong
    import pyarrow as pa

    inputs, label_names = _without_labels(scenarios, labels)
    cols, n = columns_of(inputs)
    cols = with_aliases(cols, "column ")
    check_columns(cols)
    cols = canonical_words(cols)  # 'FP8' is fp8 on every path (the caller's table as given)
    chunk_rows = (parse_int_count(chunk_rows, "chunk_rows") if chunk_rows is not None
                  else default_chunk_rows(bool(by_estimate(cols, n).any())))
    ctx = context(catalog, assumptions)
    parts = []
    with Progress(progress, n, "scenarios", "scenario") as bar:
        for start in range(0, max(n, 1), chunk_rows):
            rows = slice(start, min(n, start + chunk_rows))  # each column's chunk as a view
            parts.append(answer(ctx, {k: v.take(rows) for k, v in cols.items()},
                                rows.stop - rows.start).table())
            bar.update(rows.stop - rows.start)
    out = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
    clash = [c for c in out.column_names if c in cols or c in label_names]
    if clash:
        raise InputError(f"column '{clash[0]}'", clash[0], "input columns only",
                         "is an output name")
    if isinstance(scenarios, pa.Table):
        for name in out.column_names:
            scenarios = scenarios.append_column(out.schema.field(name), out.column(name))
        return scenarios
    if hasattr(scenarios, "iloc"):
        import pandas as pd

        frame = to_pandas(out)
        frame.index = scenarios.index
        return pd.concat([scenarios, frame], axis=1)
    # a dict of columns: the caller's own columns as given, labels and inputs in its order,
    # then the answers, as a Table or a DataFrame keeps its own (the inputs had been dropped)
    given = {}
    for key, values in scenarios.items():
        try:
            column = pa.array(list(values))
        except (pa.ArrowException, OverflowError, TypeError, ValueError):
            # what Arrow cannot hold as given (mixed kinds, a timedelta64 of hours, an int
            # past 64 bits): carried as its text, never an error after every row is answered
            column = pa.array([None if v is None else str(v) for v in values])
        given[str(key)] = column  # by its text ("0" for a key 0), as a DataFrame's
    for i, (name, column) in enumerate(given.items()):
        out = out.add_column(i, name, column)
    return out
