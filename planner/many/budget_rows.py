"""The rows of a budget sweep (``mode = "budget"``): ``planner.budget`` answered once per
distinct scenario, flattened as ``planner budget --format json`` is."""

from __future__ import annotations

import inspect

import numpy as np

from ..inverse import BUDGET_FIELDS, budget
from ..plan.result import answer_columns
from .columns import Answers, Coded
from .scenarios import Context, Rows, per_scenario

# budget's keywords (less the catalog, assumptions and trends, which hold for a whole sweep):
# the inputs a budget sweep's scenario may give.
INPUTS = tuple(p.name for p in inspect.signature(budget).parameters.values()
               if p.name not in ("catalog", "assumptions", "trends", "progress")
               and p.kind != p.VAR_KEYWORD)


def answer_many(ctx: Context, cols: dict[str, Coded], n: int) -> Answers:
    """Every column of ``planner budget --format json`` (the estimate contract's, then the
    ``inverse`` block's) for ``n`` rows of coded inputs: ``budget`` itself, once per distinct
    scenario, the calls sharing layout searches; a row budget refuses gets its message in
    ``error``."""
    ans = Answers(n, ctx.fields + BUDGET_FIELDS)  # the estimate contract's, then inverse_*
    st = Rows(ans)
    per_scenario(ctx, cols, np.arange(n), st, [k for k in INPUTS if k in cols],
                 # as its CSV row: the assumptions' values each as its column holds it
                 lambda kwargs: answer_columns(budget(
                     catalog=ctx.catalog, assumptions=ctx.assumptions, progress=False,
                     **kwargs).to_dict()))
    ans.clear(np.flatnonzero(st.bad))
    return ans
