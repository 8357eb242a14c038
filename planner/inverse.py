"""Inverse planning: what a budget, a site, a deadline or a fleet buys.

Given any of money, facility power, a deadline, a device count and the allowed accelerators,
find the largest training run they allow and the plan that trains it. The run grows along a
rule: compute-optimal by default (tokens = 20 x parameters, Hoffmann et al. 2022, "Chinchilla",
Table 3 / approach 1), or another ratio (over-trained open models use ~40-2000), or a fixed
parameter count (tokens grow) or fixed tokens (parameters grow), of a dense model or of a
mixture of experts shaped by the MoE rule (with a fixed count or fixed tokens only: no
compute-optimal ratio for experts is taken). Each candidate size is planned
by ``plan.estimate`` with the limits, which does the sizing: there is no second optimiser here,
only a bisection on the run's size, since a larger run never needs less of any resource.

Year by year (``year``): only accelerators released by then (catalog ``release_year``), and
cloud prices moved from their catalog date along the price-performance trend (Epoch AI 2022,
"Trends in GPU price-performance": FLOP/$ improves ~0.14 orders of magnitude a year). Frontier
training cost grows ~2.4x a year (Cottier et al. 2024, Epoch AI), reported as context.

The probes of one call share their layout searches (plan.shared_searches; a caller's block, such
as a budget sweep's, shares them across calls too): a fixed parameter count searches its layouts
once, and calls that bisect the same sizes (another budget or year) reuse each other's sizing.
many/budget_rows.py answers a budget sweep's rows with ``budget`` itself, one call per
distinct scenario, flattened as ``planner budget --format json`` is.
"""

from __future__ import annotations

import inspect
import json
import math
import os
from dataclasses import asdict, dataclass, field, replace
from datetime import timedelta

import numpy as np

from .assumptions import DEFAULT, Assumptions
from .catalog import Catalog
from .catalog import catalog as load_catalog
from .errors import unknown_keyword
from .model import realisation
from .model.architecture import moe_rule_floor, param_counts, shape_for_params
from .plan.assemble import SIZE_ADVICE
from .plan.cluster import facility_w_per_device
from .plan.estimate import flag_keywords, over_default_site, plan_on, prepare
from .plan.inputs import (
    assumptions_for,
    gpu_keys,
    moe_rule_inputs,
    rule_shape,
    short_run_error,
    team_given,
)
from .plan.options import shared_memo, shared_searches, smooth_between
from .plan.quantities import (
    parse_budget,
    parse_deadline,
    parse_gpus,
    parse_power_cap,
    parse_price,
    parse_tokens,
)
from .plan.result import Plan, answer_csv, checked, clean_json, empty_plan
from .progress import Progress

# The tornado table lives in sensitivity.py; ``inverse.sensitivity`` stays where docs/inverse.md
# and users' notebooks call it.
from .sensitivity import SENSITIVITY_RANGES, sensitivity  # noqa: F401
from .units import (
    SECONDS_PER_DAY,
    InputError,
    parse_count,
    parse_energy_usd_per_kwh,
    parse_fraction,
    parse_pue,
    parse_rate,
    parse_year,
)

MIN_PARAMS = 1e8
MAX_PARAMS = 1e15  # the largest model estimate plans (planner.plan.inputs)
SIZE_TOLERANCE = 0.02  # relative precision of the largest run found (bisection on log N)
# Accelerators compared when none is named: the rentable training GPUs of 2024-27 with cloud
# prices in the catalog (H100 SXM, B200, MI300X); name others with gpu=.
# Hoffmann et al. 2022 (Chinchilla), compute-optimal training: ~20 tokens per parameter.
COMPUTE_OPTIMAL_TOKENS_PER_PARAM = 20.0
# A price-performance trend beyond this (orders of magnitude a year: 10x cheaper each year) is
# far outside any measured one (Epoch AI 2022: 0.12 for all GPUs, 0.14 for ML GPUs, 95%
# interval 0.096-0.195), most likely a typo.
MAX_PRICE_TREND_OOM_PER_YEAR = 1.0
DEFAULT_ACCELERATORS = ("h100-sxm", "b200", "mi300x")


@dataclass(frozen=True)
class Trends:
    """Named, sourced trends; override any of them."""

    price_performance_oom_per_year: float = 0.14  # Epoch AI 2022, GPU price-performance
    frontier_cost_growth_per_year: float = 2.4    # Cottier et al. 2024 (Epoch AI)
    price_performance_source: str = ("Epoch AI (Hobbhahn & Besiroglu 2022), 'Trends in GPU "
                                     "price-performance': FLOP per dollar improves ~0.14 OOM/yr")
    frontier_cost_source: str = ("Cottier et al. 2024 (Epoch AI), 'The rising costs of training "
                                 "frontier AI models': amortised cost grows ~2.4x per year")


def trends_for(price_performance_oom_per_year=None, frontier_cost_growth_per_year=None,
               name: str = "--price-trend") -> Trends:
    """Trends with the given figures in place of Epoch AI's, each reported as given."""
    t = Trends()
    if price_performance_oom_per_year is not None:
        rate = parse_rate(price_performance_oom_per_year, name)
        if rate > MAX_PRICE_TREND_OOM_PER_YEAR:
            raise InputError(name, price_performance_oom_per_year, "orders of magnitude a year "
                             f"up to {MAX_PRICE_TREND_OOM_PER_YEAR:g} (Epoch AI 2022 measured "
                             "0.12-0.14, 95% interval 0.096-0.195)", "is beyond any measured "
                             "price-performance trend")
        t = replace(t, price_performance_oom_per_year=rate,
                    price_performance_source=f"given ({name})")
    if frontier_cost_growth_per_year is not None:
        growth = parse_rate(frontier_cost_growth_per_year, "--frontier-cost-growth", "2.4")
        if not growth > 0:  # a factor a year: 1 is flat, 0 would make every cost vanish
            raise InputError("--frontier-cost-growth", frontier_cost_growth_per_year,
                             "a factor a year above 0 (2.4: x2.4 a year, Cottier et al. "
                             "2024; 1: flat)", "is no growth factor")
        t = replace(t, frontier_cost_growth_per_year=growth,
                    frontier_cost_source="given (--frontier-cost-growth)")
    return t


# The columns of BudgetAnswer.to_dict's ``inverse`` block, flattened with "_" (a list as JSON
# text, as report.flatten writes it); the estimate contract's columns come before them.
BUDGET_FIELDS = [
    ("inverse_rule", "str", ""), ("inverse_params", "f8", "parameters"),
    ("inverse_tokens", "f8", "tokens"), ("inverse_model_flops", "f8", "FLOP"),
    ("inverse_year", "i8", "year"), ("inverse_limits_usd", "f8", "USD"),
    ("inverse_limits_power_cap_w", "f8", "W"), ("inverse_limits_deadline_s", "f8", "s"),
    ("inverse_limits_deadline_default", "bool", "the default deadline, none given"),
    ("inverse_limits_gpus", "i8", "devices"), ("inverse_limits_max_gpus", "i8", "devices"),
    ("inverse_limits_unit", "str", ""),
    ("inverse_considered", "str", "JSON: each accelerator's largest run"),
    ("inverse_trends_price_performance_oom_per_year", "f8", "orders of magnitude per year"),
    ("inverse_trends_price_performance_source", "str", ""),
    ("inverse_trends_frontier_cost_growth_per_year", "f8", "x per year"),
    ("inverse_trends_frontier_cost_source", "str", "")]


def budget_csv(d: dict) -> str:
    """``planner budget --format csv``: one row of a budget sweep's columns (estimate_many's,
    then inverse_*, then the sizing's)."""
    return answer_csv(d, BUDGET_FIELDS)


@dataclass(frozen=True)
class BudgetAnswer:
    """The largest run the limits allow, and its plan (``plan``: estimate's keys,
    docs/interface.md)."""

    feasible: bool
    binding: str | None
    reason: str | None
    rule: str
    params: float | None
    tokens: float | None
    model_flops: float | None
    year: int | None
    limits: dict
    plan: Plan | None
    considered: list = field(default_factory=list)
    trends: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The estimate contract's keys (of the plan that trains the run), plus ``inverse``:
        the rule, the run found, the year, the limits, every accelerator considered."""
        inverse = {k: v for k, v in asdict(self).items()
                   if k not in ("plan", "feasible", "binding", "reason")}
        inverse["limits"] = {k: v for k, v in self.limits.items() if not k.startswith("_")}
        inverse["limits"]["deadline_default"] = bool(self.limits.get("_deadline_default"))
        # no run fits: every estimate key all the same, null (a script reading
        # d["training_days"] of a budget had met a KeyError where an estimate gives null)
        base = self.plan.to_dict() if self.plan else {
            k: None for k in empty_plan(None, None, None, None, None).to_dict()}
        return clean_json({**base, "feasible": self.feasible, "binding": self.binding,
                       "reason": self.reason, "inverse": inverse})

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def __repr__(self) -> str:
        if not self.feasible or self.plan is None:
            return f"BudgetAnswer(no run fits, binding={self.binding!r}: {self.reason})"
        from .units import fmt_count

        c = self.plan.cluster
        return (f"BudgetAnswer({fmt_count(self.params)} parameters x {fmt_count(self.tokens)} "
                f"tokens on {c['gpus']:,} x {c['accelerator']}, binding={self.binding!r})")

    def _repr_html_(self) -> str:
        """A notebook's view: the largest run, the binding limit, each accelerator considered
        and the plan that trains it."""
        from . import report

        return report.budget_html(self.to_dict())

    def to_frame(self):
        """A one-row pandas DataFrame of a budget sweep's columns: estimate_many's answer
        columns, then inverse_* (planner/many/budget_rows.py)."""
        from . import report
        from .model.cost import METHOD_KEYS
        from .plan.fields import columns, frame

        report.pandas()  # the install hint when pandas is missing
        return frame(report.flatten(self.to_dict()), columns(METHOD_KEYS) + BUDGET_FIELDS)

    def plot(self):
        """The plan that trains the run, drawn (``Plan.plot``)."""
        if self.plan is None:
            from .charts import ChartError

            raise ChartError(f"no run fits the limits: {self.reason}")
        return self.plan.plot()


def price_in_year(price: float | None, as_of: str | None, year: int | None,
                  trends: Trends) -> float | None:
    """A price quoted at ``as_of`` moved to ``year`` along the price-performance trend."""
    if price is None or year is None or not as_of:
        return price
    quoted = int(str(as_of)[:4])
    return price * 10 ** (-trends.price_performance_oom_per_year * (year - quoted))


def price_basis(name: str | None, fig, year: int | None, trends: Trends) -> str:
    """Where a budget's price per device-hour comes from: the catalog's figure (the contract
    price where there is one: Accelerator.cloud_price), moved along the trend to ``year``."""
    if fig is None:
        return "unknown: no cloud price in the catalog"
    text = f"catalog {name} ${fig.value:,.2f} ({fig.as_of}): {fig.source}"
    if year is not None and fig.as_of and int(str(fig.as_of)[:4]) != year:
        text = (f"{text}; moved to {year} along the price-performance trend "
                f"({trends.price_performance_oom_per_year:g} orders of magnitude a year)")
    return text


@dataclass(frozen=True)
class RunRule:
    """How the searched run grows with its size ``n`` (what the search bisects, in log10):
    ``kind`` "tokens_per_param" (n parameters, ``ratio`` x n tokens), "fixed_params" (``params``
    parameters, n tokens) or "fixed_tokens" (n parameters, ``tokens`` tokens); ``moe``, the MoE
    shape rule's (name, value) pairs (experts, top_k, shared_experts) for a mixture of experts
    of n total parameters, empty for a dense model."""

    kind: str
    ratio: float = 20.0
    params: float | None = None
    tokens: float | None = None
    moe: tuple = ()

    def size(self, n: float) -> tuple[float, float]:
        """(params, tokens) of the run of size ``n``."""
        if self.kind == "fixed_params":
            return self.params, n
        if self.kind == "fixed_tokens":
            return n, self.tokens
        return n, self.ratio * n

    @property
    def exponent(self) -> float:
        return GROWTH_EXPONENT[self.kind]

    def active(self, params: float) -> float:
        """The parameters a token uses: all of a dense model's; a mixture of experts' by the
        shape the rule gives its count (its shared and top-k routed experts, docs/shape.md)."""
        if not self.moe:
            return params
        return param_counts(shape_for_params(params, "gated", **dict(self.moe)))[1]

    def bounds(self) -> tuple[float, float]:
        """log10 of the sizes searched: tokens 1e9-1e16 when parameters are fixed; else
        parameters from MIN_PARAMS (a mixture of experts: the smallest count the MoE rule
        reaches with its experts) to MAX_PARAMS."""
        if self.kind == "fixed_params":
            return 9.0, 16.0
        low = max(MIN_PARAMS, moe_rule_floor(**dict(self.moe))) if self.moe else MIN_PARAMS
        return math.log10(low), math.log10(MAX_PARAMS)

    def text(self) -> str:
        moe = dict(self.moe)
        what = (f"a mixture of {moe['experts']} experts (top {moe['top_k']}"
                + (f" + {moe['shared_experts']} shared" if moe.get("shared_experts") else "")
                + "), its shape by the MoE rule (docs/shape.md): " if moe else "")
        ratio = (f"compute-optimal: tokens = {self.ratio:g} x parameters (Hoffmann et al. "
                 "2022)" if self.ratio == COMPUTE_OPTIMAL_TOKENS_PER_PARAM else
                 f"tokens = {self.ratio:g} x parameters (given; compute-optimal is "
                 f"{COMPUTE_OPTIMAL_TOKENS_PER_PARAM:g}, Hoffmann et al. 2022)")
        return what + {"tokens_per_param": ratio,
                       "fixed_params": "fixed parameters, tokens grow",
                       "fixed_tokens": "fixed tokens, parameters grow"}[self.kind]


def budget(usd=None, power_cap=None, deadline=None, gpus=None, gpu=None, *, params=None,
           tokens=None, tokens_per_param=None, experts=None,
           top_k=None, shared_experts=None,
           year=None, ownership=None, catalog=None,
           site=None, max_gpus=None, pue=None, energy_usd_per_kwh=None,
           price_per_gpu_hour=None,
           assumptions: dict | Assumptions | None = None, trends: Trends | None = None,
           tolerance: float = SIZE_TOLERANCE, progress=None, unit="auto", team=None,
           price_trend=None, frontier_cost_growth=None, **unknown) -> BudgetAnswer:
    """The largest training run the given limits allow (see the module docstring); ``pue``,
    ``energy_usd_per_kwh``, ``price_per_gpu_hour`` (the user's own rental price, taken as
    given for every accelerator and year: no trend moves it) and ``unit`` (what clusters are
    bought in) act as in ``estimate``;
    ``experts``, ``top_k`` and ``shared_experts`` make the run a mixture of experts of
    ``params`` (or growing) total parameters, as ``estimate(params=...)`` shapes one, with
    ``params`` or ``tokens`` fixed (no compute-optimal ratio for a mixture of experts is taken).
    ``progress`` (planner/progress.py) counts the accelerators searched; ``team``,
    ``price_trend`` and ``frontier_cost_growth`` as the flags (--team, --price-trend,
    --frontier-cost-growth): the assumption team, and the trends in place of ``trends``'."""
    # --assume's own name, as estimate takes it (its NAME=VALUE texts merged into assumptions)
    unknown = dict(unknown)
    if "assume" in unknown:
        _, assumptions, _ = flag_keywords(None, assumptions, {"assume": unknown.pop("assume")})
    wrong = unknown_keyword("planner.budget", unknown,
                            tuple(inspect.signature(budget).parameters)[:-1])
    if wrong is not None:
        raise wrong
    known = ("price_performance_oom_per_year", "frontier_cost_growth_per_year")
    accepted = "a Trends (inverse.trends_for(...)) or a dict of " + ", ".join(known)
    if isinstance(trends, dict):  # by name, as trends_for takes them
        wrong = [k for k in trends if k not in known]
        if wrong:
            raise InputError("trends", wrong[0], accepted, "is not a trend")
        trends = trends_for(**trends)
    elif trends is not None and not isinstance(trends, Trends):
        raise InputError("trends", type(trends).__name__, accepted)
    if price_trend is not None or frontier_cost_growth is not None:
        if trends is not None:
            raise InputError("--price-trend" if price_trend is not None else
                             "--frontier-cost-growth", price_trend if price_trend is not None
                             else frontier_cost_growth, "the flags' keywords or trends=..., "
                             "not both", "conflicts with trends")
        trends = trends_for(price_trend, frontier_cost_growth)
    trends = trends or Trends()
    if team is not None:  # as the CLI's --team: the assumption team, given
        team = team_given(team, assumptions)
        assumptions = (assumptions.with_(team=team) if isinstance(assumptions, Assumptions)
                       else {**(assumptions or {}), "team": team})
    tolerance = parse_fraction(tolerance, "tolerance")
    cat = catalog if isinstance(catalog, Catalog) else load_catalog(catalog)
    # a site named is its power (as estimate holds a plan to it): its cap is a limit here too
    site_cap = (cat.site(site).power_cap_w if site is not None and power_cap is None
                else None)
    if usd is None and power_cap is None and deadline is None and gpus is None \
            and max_gpus is None and not site_cap:
        raise InputError("--usd", None, "at least one limit: --usd, --power-cap, --deadline, "
                         "--gpus, --max-gpus or a --site with a power cap")
    limits = {
        "usd": parse_budget(usd, "--usd") if usd is not None else None,
        "power_cap_w": (parse_power_cap(power_cap) if power_cap is not None
                        else site_cap or None),
        "deadline_s": parse_deadline(deadline) if deadline is not None else None,
        "gpus": parse_gpus(gpus) if gpus is not None else None,
        "max_gpus": parse_gpus(max_gpus, "--max-gpus") if max_gpus is not None else None,
        "unit": unit,
    }
    ratio = (COMPUTE_OPTIMAL_TOKENS_PER_PARAM if tokens_per_param is None  # not given: 20
             else float(parse_count(tokens_per_param, "--tokens-per-param")))
    if params is not None and tokens is not None:
        raise InputError("--params", params, "--params or --tokens, not both (the other grows)")
    kind = ("fixed_params" if params is not None else "fixed_tokens" if tokens is not None
            else "tokens_per_param")
    if kind != "tokens_per_param" and tokens_per_param is not None:
        # a ratio beside a fixed count has nothing to set (it had been ignored)
        raise InputError("--tokens-per-param", tokens_per_param, "--tokens-per-param when "
                         "neither --params nor --tokens is fixed (both grow at that ratio)",
                         "sets nothing beside " + ("--params" if params is not None
                                                  else "--tokens"))
    moe = moe_rule_inputs(experts=experts, top_k=top_k, shared_experts=shared_experts)
    if moe and kind == "tokens_per_param":
        raise InputError("--experts", experts, "--params N (tokens grow) or --tokens D "
                         "(parameters grow) beside --experts", "has no compute-optimal rule "
                         "here: tokens = 20 x parameters was fitted on dense models (Hoffmann "
                         "et al. 2022), and no published ratio for a mixture of experts is taken")
    rule = RunRule(kind, ratio, parse_count(params, "--params") if params is not None else None,
                   parse_tokens(tokens) if tokens is not None else None,
                   tuple((k, v) for k, v in moe.items() if v))  # as --params takes them
    if rule.moe and rule.params is not None:  # a fixed count below the MoE rule's reach is
        rule_shape(rule.params, params, "gated", moe)  # refused here, as estimate refuses it
    asm = assumptions_for(assumptions, None)
    if limits["deadline_s"] is None and (limits["gpus"] is None or limits["usd"] is None):
        # no deadline given: a cluster the budget sizes is sized to the default deadline (as
        # estimate's sizing does), and a fixed cluster with no money either would grow its run
        # for millennia; the default is then a limit like any other, reported and binding
        # (money alone bounds a fixed fleet's run)
        limits["deadline_s"] = asm.deadline_days * SECONDS_PER_DAY
        limits["_deadline_default"] = True
    batch = asm.global_batch_tokens  # every size's batch
    if rule.tokens is not None and rule.tokens < batch:
        raise short_run_error(tokens, batch)
    year_i = parse_year(year, "--year") if year is not None else None
    if year_i is None and trends.price_performance_source.startswith("given"):
        # the trend only moves a price from the year it was quoted to --year (price_in_year)
        raise InputError("--price-trend", trends.price_performance_oom_per_year,
                         "--price-trend with --year YYYY (the trend moves the catalog's "
                         "prices from the year they were quoted to that year)",
                         "moves nothing without --year: the catalog's prices are used as "
                         "quoted")
    given_price = parse_price(price_per_gpu_hour) if price_per_gpu_hour is not None else None
    if given_price is not None and trends.price_performance_source.startswith("given"):
        # a given price holds every year (no trend moves it): a trend given beside it is
        # a conflict, not a what-if (it had been accepted and moved nothing)
        raise InputError("--price-trend", trends.price_performance_oom_per_year,
                         "--price-trend or --price-per-gpu-hour, not both (a given price "
                         "holds in every year; the trend moves the catalog's)",
                         "moves nothing beside --price-per-gpu-hour")
    site_figures = {
        "pue": parse_pue(pue, "--pue") if pue is not None else None,
        "energy_usd_per_kwh": (parse_energy_usd_per_kwh(energy_usd_per_kwh,
                                                        "--energy-usd-per-kwh")
                               if energy_usd_per_kwh is not None else None)}
    keys = _accelerators(cat, gpu, year_i)
    _check_year(cat, keys, year_i, year)
    considered = []
    # the probes share layout searches (with the caller's, inside its shared_searches block)
    args = [(cat, key, limits, rule, year_i, trends, ownership, site, site_figures, assumptions,
             tolerance, given_price) for key in keys]
    with Progress(progress, len(args), "accelerators", "accelerator") as bar:
        considered = _each(args, bar)
    found = [c for c in considered if c["plan"] is not None]
    rule_text = rule.text()
    trend_info = {"price_performance_oom_per_year": trends.price_performance_oom_per_year,
                  "price_performance_source": trends.price_performance_source,
                  "frontier_cost_growth_per_year": trends.frontier_cost_growth_per_year,
                  "frontier_cost_source": trends.frontier_cost_source}
    summary = [{k: v for k, v in c.items() if k not in ("plan", "size")} for c in considered]
    # an accelerator asked for but not yet released in --year is named, not dropped unseen
    summary += [{"accelerator": k, "price_per_gpu_hour": None, "price_basis": None,
                 "params": None, "tokens": None, "model_flops": None, "binding": "year",
                 "reason": f"released in {cat.accelerator(k).release_year}, after --year "
                           f"{year_i}"}
                for k in _accelerators(cat, gpu, None) if k not in keys]
    if not found:
        why = "; ".join(f"{c['accelerator']}: {c['reason']}" for c in considered)
        return BudgetAnswer(False, considered[0]["binding"] if considered else None, why,
                            rule_text, None, None, None, year_i, limits, None, summary,
                            trend_info)
    # the largest run; between accelerators that reach the same, the cheaper plan, then the
    # sooner (the first listed had won a tie: H100 at $632M over MI300X at $374M)
    best = max(found, key=lambda c: (c["model_flops"], -_plan_cost(c["plan"]),
                                     -c["plan"].training_days))
    # the answer's plan again, with its alternatives (the probes leave them out)
    best["plan"] = checked(_probe(cat, best["accelerator"], limits, rule,
                                  best["price_per_gpu_hour"], ownership, site,
                                  site_figures, assumptions, best["size"],
                                  best["plan"].cluster["gpus"], alternatives=True,
                                  price_source=best["price_basis"]))
    return BudgetAnswer(True, best["binding"], best["reason"], rule_text, best["params"],
                        best["tokens"], best["model_flops"], year_i, limits, best["plan"],
                        summary, trend_info)


def _plan_cost(plan: Plan) -> float:
    """A plan's cost in its method's dollars (inf when unknown: it loses a tie)."""
    total = (plan.cost_usd or {}).get("total")
    return float(total) if total is not None else math.inf


def _each(args: list[tuple], bar: Progress) -> list[dict]:
    """Each accelerator's largest run: in forked worker processes when there are several and
    this process may have children (one searches while another does: the searches share
    nothing), else here, the probes sharing layout searches with the caller's block."""
    import multiprocessing as mp

    workers = min(len(args), os.cpu_count() or 1)
    if workers > 1 and "fork" in mp.get_all_start_methods() and \
            not mp.current_process().daemon and shared_memo() is None:
        from concurrent.futures import ProcessPoolExecutor

        try:
            with ProcessPoolExecutor(workers, mp_context=mp.get_context("fork")) as pool:
                out = []
                for got in pool.map(_largest_on_args, args):
                    out.append(got)
                    bar.update()
                return out
        except (OSError, RuntimeError):  # no processes to be had: answer here
            bar.update(-bar.done)
    with shared_searches():
        out = []
        for a in args:
            out.append(_largest_on(*a))
            bar.update()
        return out


def _largest_on_args(a: tuple) -> dict:
    return _largest_on(*a)


# The price-performance trend was fitted on GPUs of 2006-2021 (Hobbhahn & Besiroglu 2022,
# Epoch AI): a price is moved along it at most the 15 years of that span from the date it was
# quoted; further is beyond any data the trend has (year 3000 would price a GPU-hour at 1e-128
# dollars).
TREND_SPAN_YEARS = 15


def _check_year(cat: Catalog, keys: list[str], year: int | None, given) -> None:
    """A year whose prices the trend can move to: within TREND_SPAN_YEARS of every quote."""
    if year is None:
        return
    for k in keys:
        _, fig = cat.accelerator(k).cloud_price()
        if fig is None or not fig.as_of or not str(fig.as_of)[:4].isdigit():
            continue
        quoted = int(str(fig.as_of)[:4])
        if abs(year - quoted) > TREND_SPAN_YEARS:
            raise InputError("--year", given, f"a year within {TREND_SPAN_YEARS} years of the "
                             f"catalog's price quotes ({k}: {quoted}), the span of the data "
                             "the price trend was fitted on (Epoch AI 2022: 2006-2021)",
                             f"is {abs(year - quoted)} years from {k}'s price quote")


def _accelerators(cat: Catalog, gpu, year: int | None) -> list[str]:
    if gpu is not None and not str(gpu).strip(", "):  # as estimate refuses it (it had
        gpu_keys(gpu, DEFAULT, {})                     # meant the default set, silently)
    if gpu:
        keys = list(dict.fromkeys(  # each accelerator once, by key or alias
            cat.resolve("accelerators", k) for k in gpu_keys(gpu, DEFAULT, {})))
    else:
        keys = list(DEFAULT_ACCELERATORS)
    if year is not None:
        available = [k for k in keys if cat.accelerator(k).release_year <= year]
        if not available:
            raise InputError("--year", year, "a year by which one of the accelerators was "
                             "released (" + ", ".join(
                                 f"{k} {cat.accelerator(k).release_year}" for k in keys) + ")")
        keys = available
    return keys


def _probe(cat, key, limits, rule: RunRule, price, ownership, site, site_figures, assumptions,
           x: float, hint=None, alternatives=False, price_source: str = "") -> Plan:
    """The plan of the run of size 10^x along the rule, on ``key`` under the limits: CP-SAT's
    choice, found with numpy (no solver import); alternatives only for an answer."""
    p, t = rule.size(10 ** x)
    # a fleet of N devices is what is available: the run takes the largest count at or below
    # it that a team lays out (prime factors 2, 3 and 5, its power of two at least the rest:
    # options.smooth_between), the rest spare, so a larger fleet never buys a smaller run and
    # a count no layout splits is not refused (25,000 H100 had been an error, 17,000 a run 21%
    # smaller than 16,384's)
    fleet = limits["gpus"]
    gpus = max(smooth_between(0, fleet + 1), default=fleet) if fleet is not None else None

    def request(gpus):
        return prepare(params=p, tokens=t, **dict(rule.moe), gpu=key, gpus=gpus,
                       # parsed limits travel with their unit, so the plain-number floor of a
                       # raw input (parse_deadline) never reads 12 hours as 43,200 seconds
                       deadline=(timedelta(seconds=limits["deadline_s"])
                                 if limits["deadline_s"] is not None else None),
                       budget=limits["usd"],
                       power_cap=(f"{limits['power_cap_w']!r}W"
                                  if limits["power_cap_w"] is not None else None),
                       max_gpus=limits["max_gpus"],
                       objective="cost", ownership=ownership, price_per_gpu_hour=price,
                       catalog=cat, site=site, assumptions=assumptions, unit=limits["unit"],
                       **site_figures)

    req = request(gpus)
    powered = None  # the most of the fleet the power cap feeds, where it feeds less than all
    if fleet is not None and limits["power_cap_w"] is not None:
        # a fleet the cap cannot power runs on the part it can, the rest spare (16,384 H100 at
        # a 30 MW site had read "no run fits: needs 30.5 MW" where 16,128 of them fit)
        sd = req.sides[0]
        per_device_w = facility_w_per_device(sd.acc, sd.site, sd.asm, req.limits.pue)
        if math.isfinite(per_device_w) and per_device_w > 0 \
                and gpus * per_device_w > limits["power_cap_w"]:
            powered = int(limits["power_cap_w"] // per_device_w)
            gpus = max(smooth_between(0, powered + 1), default=None)
            if gpus:
                req = request(gpus)
    # a plan above the default site's power says so, as estimate's does (budget's table had
    # shown 232 MW at the 150 MW default site without a word)
    plan = over_default_site(plan_on(req, engine="numpy", size_hint=hint,
                                     alternatives=alternatives), req, site)
    if fleet is not None and plan.reason and SIZE_ADVICE in plan.reason:
        # the fleet on hand is the limit here, not a size to leave out
        plan = replace(plan, reason=plan.reason.replace(SIZE_ADVICE, ""))
    # budget chose these, not the user: say so (prepare reports what it was passed as given)
    used = plan.assumptions
    if "objective" in used:
        used["objective"] = {"value": "cost", "source": (
            "planner budget: each run size on its cheapest cluster, so the largest run the "
            "limits allow is found")}
    if "price_per_gpu_hour" in used and price is not None:
        used["price_per_gpu_hour"] = {"value": price, "source": price_source}
    if fleet is not None and gpus and gpus != fleet:
        used["gpus"] = {"value": gpus, "source": (
            f"--gpus {fleet:,} available: the largest count at or below it "
            + (f"that the power cap feeds ({powered:,} devices) " if powered is not None
               else "")
            + f"a team lays out (prime factors 2, 3 and 5, as many twos as the rest), "
            f"{fleet - gpus:,} spare")}
    if limits.get("_deadline_default"):
        used["deadline_days"] = {"value": limits["deadline_s"] / SECONDS_PER_DAY, "source": (
            "planner budget with no --deadline: the default deadline, "
            + assumptions_for(assumptions, None).source("deadline_days"))}
    return plan


def _largest_on(cat, key, limits, rule: RunRule, year, trends, ownership, site, site_figures,
                assumptions, tolerance, given_price=None) -> dict:
    if given_price is not None:  # the user's price, as estimate takes it
        price, price_source = given_price, "given (--price-per-gpu-hour)"
    else:
        name, fig = cat.accelerator(key).cloud_price()
        price = price_in_year(fig.value if fig else None, fig.as_of if fig else None, year,
                              trends)
        price_source = price_basis(name, fig, year, trends)
    seen: list[tuple[float, int]] = []  # (log size, devices) of probes that ran

    def plan_for(x: float) -> Plan:
        # the nearest probe's cluster, scaled by the run's FLOPs, starts the sizing's walk
        near = min(seen, key=lambda s: abs(s[0] - x), default=None)
        hint = near[1] * 10 ** (rule.exponent * (x - near[0])) if near else None
        plan = _probe(cat, key, limits, rule, price, ownership, site, site_figures,
                      assumptions, x, hint, price_source=price_source)
        if plan.training_days is not None:
            seen.append((x, plan.cluster["gpus"]))
        return plan

    width = math.log10(1 + tolerance)
    # every probe on one grid of sizes, (1 + tolerance)^k, whatever the inputs: the search
    # then ends at the largest feasible size of the grid, which limits that do not bind
    # (another budget, a price, a deadline far off) cannot move (its path, set by the money
    # and the price, had ended anywhere in the last 2% of size: $3B bought 3.7% fewer FLOPs
    # than $1.5B)
    def snap(x: float, how=round) -> float:
        return how(x / width) * width

    lo, hi = rule.bounds()
    lo, hi = snap(lo, math.ceil), snap(hi, math.floor)  # inside the rule's sizes
    guess = _guess(cat.accelerator(key), limits, price, rule, lambda: plan_for(lo),
                   _slowdown(assumptions))
    guess = snap(guess) if guess is not None else None
    first = plan_for(guess) if guess is not None and lo < guess < hi else None
    exponent = rule.exponent
    step = None
    if first is not None and not first.feasible and 1.0 < tightness(first) < math.inf:
        # too large: step down to where the tightest limit's need meets it (its need grows as
        # size^exponent), a little below so the step lands inside
        x1 = snap(guess - math.log10(tightness(first)) / exponent - width / 2, math.floor)
        step = plan_for(x1) if lo < x1 < guess else None
    if first is not None and first.feasible:  # a run this large fits: so does the smallest
        lo, best = guess, first
    elif step is not None and step.feasible:  # bracketed by the guess and the step
        lo, best, hi = x1, step, guess
    else:
        best = plan_for(lo)
        if not best.feasible:
            return {"accelerator": key, "price_per_gpu_hour": price,
                    "price_basis": price_source, "plan": None,
                    "params": None, "tokens": None, "model_flops": None,
                    "binding": best.binding,
                    "reason": f"even the smallest run is infeasible: {best.reason}"}
        if first is not None:
            hi = guess
        if step is not None and not step.feasible:  # the step too large: a tighter upper end
            hi, first = x1, step
    lo, hi, best, blocked = _boundary(plan_for, lo, hi, best, width, exponent, first, snap)
    params, tokens = rule.size(10 ** lo)
    binding = blocked.binding if blocked is not None else None
    # what the sizing found for the next run tried: its sizes are a search over a jagged
    # landscape (a size's factors set its layouts), so a size it did not try may fit; a
    # fleet on hand is no sizing: the run does not fit it
    larger = f"{10 ** (hi - lo):.2f}x larger"
    reason = ("no limit reached within the searched sizes" if blocked is None else
              f"a run {larger} breaks a limit on the fleet: {blocked.reason}"
              if limits["gpus"] is not None else
              f"for a run {larger} the sizing found no plan within the limits: "
              f"{blocked.reason}")
    return {"accelerator": key, "price_per_gpu_hour": price, "price_basis": price_source,
            "plan": best, "params": params,
            "tokens": tokens, "model_flops": best.model_flops, "binding": binding,
            "reason": reason, "size": lo}


# How the tightest limit's need grows with the run's size on the searched axis (log10 N or
# log10 D): compute-optimal runs grow their FLOPs as N^2 (tokens ~ N, Hoffmann et al. 2022),
# so their cost, device count or days at a limit do too; a fixed N or D leaves one factor.
GROWTH_EXPONENT = {"tokens_per_param": 2.0, "fixed_params": 1.0, "fixed_tokens": 1.0}


def tightness(plan: Plan) -> float:
    """How far a plan's best option is from its limits: the least, over the options of its
    sizing (or the plan itself at a given size), of the largest need/limit ratio. At most 1
    where some option meets every limit; inf where none runs or a need is unknown."""
    if plan.sizing:
        o, lim = plan.sizing["options"], plan.sizing["limits"]
        rows = [{"training_days": d, "cost_usd": c, "power_mw": p, "gpus": g}
                for d, c, p, g in zip(o["training_days"], o["cost_usd"], o["power_mw"],
                                      o["gpus"])]
    elif plan.training_days is not None:
        lim = None
        rows = [{"training_days": plan.training_days, "cost_usd": plan.cost_usd.get("total"),
                 "power_mw": plan.power_mw, "gpus": plan.cluster["gpus"]}]
    else:
        return math.inf
    caps = ({"training_days": lim.get("deadline_days"), "cost_usd": lim.get("budget_usd"),
             "power_mw": lim.get("power_cap_mw"), "gpus": lim.get("max_gpus")} if lim else {})
    best = math.inf
    for r in rows:
        ratios = [(r[k] / cap if r[k] is not None else math.inf)
                  for k, cap in caps.items() if cap]
        best = min(best, max(ratios, default=0.0))
    return best


def _slowdown(assumptions) -> float:
    """How much longer the expected run takes than its ideal (model/realisation.py) under the
    budget's assumptions: the first guess plans at the realised rate, as the probes do."""
    asm = assumptions_for(assumptions, None)
    return float(realisation.realise(np.ones(1), 1, asm)["multiplier"][0])


def _guess(acc, limits: dict, price, rule: RunRule, small, slowdown: float = 1.0) -> float | None:
    """log10 of the size the limits allow at Assumptions.planning_mfu over the realisation's
    ``slowdown`` (the search's first probe): the FLOPs the budget buys at the price, or a
    device count (given, --max-gpus, or the power cap over one device's facility watts, read
    from ``small()``, the smallest run's plan) runs in the deadline; None when the limits bound
    no FLOPs."""
    rate = acc.peak("bf16") * DEFAULT.planning_mfu / slowdown  # FLOP/s per device, realised
    flops = []
    if limits["usd"] is not None and price:
        flops.append(limits["usd"] / price * 3600.0 * rate)
    devices = [g for g in (limits["gpus"], limits["max_gpus"]) if g is not None]
    if limits["power_cap_w"] is not None and limits["deadline_s"] is not None:
        plan = small()
        if plan.power_mw:
            devices.append(limits["power_cap_w"] / (plan.power_mw * 1e6 / plan.cluster["gpus"]))
    if limits["deadline_s"] is not None and devices:
        flops.append(min(devices) * limits["deadline_s"] * rate)
    f = min(flops, default=0.0)
    if not f > 0:  # no limit bounds the FLOPs, or one allows none ($0): no first guess
        return None
    # 6 x active parameters x tokens = f (Kaplan et al. 2020)
    if rule.kind == "fixed_params":
        return math.log10(f / (6.0 * rule.active(rule.params)))     # tokens D
    if rule.kind == "fixed_tokens":
        active = f / (6.0 * rule.tokens)     # params N (of a mixture of experts, the active)
        n = active
        for _ in range(2 if rule.moe else 0):  # its total: the rule's total/active at the size
            at = max(n, 10 ** rule.bounds()[0])
            n = active * at / rule.active(at)
        return math.log10(n)
    return math.log10(math.sqrt(f / (6.0 * rule.ratio)))     # 6 N (ratio N) = f


# Below this need/limit ratio a probe is too far inside the limits to aim the next by.
MEANINGFUL_TIGHTNESS = 0.01


def _boundary(plan_for, lo: float, hi: float, best: Plan, width: float, exponent: float,
              probed: Plan | None, snap=None) -> tuple:
    """The largest feasible size on a log axis, to ``width``: (lo, hi, plan at lo, plan just
    above or None when even ``hi`` is feasible). Each probe moves to where the tightest limit's
    need/limit ratio (tightness), a power of the size, reaches 1: by the secant through the
    last two probes, or by ``exponent`` from the last (``probed``, the plan at ``hi`` or
    ``lo``, is the first); probes stay inside the bracket, the last stretch is bisected, so it
    ends as bisection would. ``snap``: each probe put on the grid of sizes ``width`` apart
    that ``lo`` and ``hi`` are on, so the search ends at the grid's largest feasible size,
    whichever way it came."""
    snap = snap or (lambda x: x)
    blocked = probed if probed is not None and not probed.feasible else None
    last: list[tuple[float, float]] = []  # (x, log tightness) of finite probes
    for x0, p0 in ((lo, best), (hi, blocked)):
        t = tightness(p0) if p0 is not None else math.inf
        # a probe far inside every limit (the smallest run: tightness ~0) says nothing of
        # where the boundary is
        if MEANINGFUL_TIGHTNESS < t < math.inf:
            last.append((x0, math.log(t)))
    while hi - lo > width * 1.5:  # on the grid: until the bracket holds two neighbours
        if len(last) == 2 and last[0][1] != last[1][1]:
            (x0, y0), (x1, y1) = last
            aim = x1 - y1 * (x1 - x0) / (y1 - y0)
        elif last:
            aim = last[-1][0] - last[-1][1] / (exponent * math.log(10))
        else:
            aim = (lo + hi) / 2
        if hi - lo <= 4 * width:
            x = (lo + hi) / 2  # the last stretch: bisect
        elif aim - lo < width:  # just above a feasible end: close the bracket in one probe
            x = lo + 0.999 * width
        elif hi - aim < width:
            x = hi - 0.999 * width
        else:
            margin = 0.05 * (hi - lo)
            x = min(max(aim, lo + margin), hi - margin) if math.isfinite(aim) else (lo + hi) / 2
        x = snap(min(max(snap(x), lo + width), hi - width))  # a grid size strictly inside
        p = plan_for(x)
        if p.feasible:
            lo, best = x, p
        else:
            hi, blocked = x, p
        y = math.log(max(tightness(p), 1e-300))
        if math.isfinite(y):
            last = (last + [(x, y)])[-2:]
    return lo, hi, best, blocked
