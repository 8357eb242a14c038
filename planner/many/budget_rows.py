"""The rows of a budget sweep (``mode = "budget"``): ``planner.budget`` answered once per
distinct scenario, flattened as ``planner budget --format json`` is."""

from __future__ import annotations

import inspect

import numpy as np

from ..inverse import budget
from ..report import flatten
from .columns import Answers, Coded
from .scenarios import Context, Rows, per_scenario

# budget's keywords (less the catalog, assumptions and trends, which hold for a whole sweep):
# the inputs a budget sweep's scenario may give.
INPUTS = tuple(p.name for p in inspect.signature(budget).parameters.values()
               if p.name not in ("catalog", "assumptions", "trends", "progress"))
# The columns of BudgetAnswer.to_dict's ``inverse`` block, flattened with "_" (a list as JSON
# text, as report.flatten writes it); the estimate contract's columns come before them.
FIELDS = [("inverse_rule", "str", ""), ("inverse_params", "f8", "parameters"),
          ("inverse_tokens", "f8", "tokens"), ("inverse_model_flops", "f8", "FLOP"),
          ("inverse_year", "i8", "year"), ("inverse_limits_usd", "f8", "USD"),
          ("inverse_limits_power_cap_w", "f8", "W"), ("inverse_limits_deadline_s", "f8", "s"),
          ("inverse_limits_gpus", "i8", "devices"), ("inverse_limits_max_gpus", "i8", "devices"),
          ("inverse_limits_unit", "str", ""),
          ("inverse_considered", "str", "JSON: each accelerator's largest run"),
          ("inverse_trends_price_performance_oom_per_year", "f8", "orders of magnitude per year"),
          ("inverse_trends_price_performance_source", "str", ""),
          ("inverse_trends_frontier_cost_growth_per_year", "f8", "x per year"),
          ("inverse_trends_frontier_cost_source", "str", "")]


def answer_many(ctx: Context, cols: dict[str, Coded], n: int) -> Answers:
    """Every column of ``planner budget --format json`` (the estimate contract's, then the
    ``inverse`` block's) for ``n`` rows of coded inputs: ``budget`` itself, once per distinct
    scenario, the calls sharing layout searches; a row budget refuses gets its message in
    ``error``."""
    ans = Answers(n, ctx.fields + FIELDS)
    st = Rows(ans)
    per_scenario(ctx, cols, np.arange(n), st, [k for k in INPUTS if k in cols],
                 lambda kwargs: flatten(budget(catalog=ctx.catalog, assumptions=ctx.assumptions,
                                               progress=False,
                                               **kwargs).to_dict()))
    ans.clear(np.flatnonzero(st.bad))
    return ans
