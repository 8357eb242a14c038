"""Inverse planning: what a budget, a site, a deadline or a fleet buys.

Given any of money, facility power, a deadline, a device count and the allowed accelerators,
find the largest training run they allow and the plan that trains it. The run grows along a
rule: compute-optimal by default (tokens = 20 x parameters, Hoffmann et al. 2022, "Chinchilla",
Table 3 / approach 1), or another ratio (over-trained open models use ~40-2000), or a fixed
parameter count (tokens grow) or fixed tokens (parameters grow), of a dense model or of a
mixture of experts shaped by the MoE rule (with a fixed count or fixed tokens only: no
compute-optimal ratio for experts is taken). Each candidate size is planned
by ``plan.estimate`` with the limits, which does the sizing: there is no second optimiser here,
only a bisection on the run's size, since a larger run never needs less of any resource
(planner/largest_run.py, on each accelerator).

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
from dataclasses import asdict, dataclass, field

from .assumptions import DEFAULT, Assumptions
from .catalog import Catalog
from .catalog import catalog as load_catalog
from .errors import unknown_keyword
from .largest_run import (
    COMPUTE_OPTIMAL_TOKENS_PER_PARAM,
    TREND_SPAN_YEARS,
    RunRule,
    Trends,
    each_accelerator,
    probe,
    trends_for,
)
from .model.architecture import moe_rule_floor
from .plan.estimate import flag_keywords
from .plan.inputs import (
    assumptions_for,
    gpu_keys,
    moe_rule_inputs,
    parse_params,
    rule_shape,
    short_run_error,
    team_given,
)
from .plan.quantities import (
    check_gpus,
    check_max_gpus,
    parse_budget,
    parse_deadline,
    parse_gpus,
    parse_ownership,
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
    parse_year,
)

SIZE_TOLERANCE = 0.02  # relative precision of the largest run found (bisection on log N)
# Accelerators compared when none is named: the rentable training GPUs of 2024-27 with cloud
# prices in the catalog (H100 SXM, B200, MI300X); name others with gpu=.
DEFAULT_ACCELERATORS = ("h100-sxm", "b200", "mi300x")


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


# The tokens-per-parameter ratios --tokens-per-param takes: the input's domain, wide of every
# published run (GPT-3 175B at ~1.7, Llama 3 8B at ~1,900 tokens a parameter), not a figure.
TOKENS_PER_PARAM_RANGE = (0.01, 1e6)

def budget_csv(d: dict) -> str:
    """``planner budget --format csv``: one row of a budget sweep's answer columns
    (estimate_many's, then inverse_*), then the sizing's, which CSV alone carries."""
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
        from . import report_html

        return report_html.budget_html(self.to_dict())

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


def budget(usd=None, power_cap=None, deadline=None, gpus=None, gpu=None, *, params=None,
           tokens=None, tokens_per_param=None, experts=None,
           top_k=None, shared_experts=None,
           year=None, ownership=None, catalog=None,
           site=None, max_gpus=None, pue=None, energy_usd_per_kwh=None,
           price_per_gpu_hour=None,
           assumptions: dict | Assumptions | None = None, trends: Trends | None = None,
           tolerance: float | None = SIZE_TOLERANCE, progress=None, unit="auto", team=None,
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
    # None is not given, as for every keyword (it had been refused: "tolerance: not given")
    tolerance = SIZE_TOLERANCE if tolerance is None else parse_fraction(tolerance, "tolerance")
    if ownership is not None:  # checked once, the canonical word to every probe ('Owned')
        ownership = parse_ownership(ownership)
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
    if not TOKENS_PER_PARAM_RANGE[0] <= ratio <= TOKENS_PER_PARAM_RANGE[1]:
        # a ratio of 1e-320 had divided into infinity (an OverflowError, exit 1: the fuzz)
        raise InputError("--tokens-per-param", tokens_per_param,
                         f"a ratio of tokens to parameters from {TOKENS_PER_PARAM_RANGE[0]:g} "
                         f"to {TOKENS_PER_PARAM_RANGE[1]:,.0f} (20: compute-optimal)",
                         "is outside the ratios a training run takes")
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
    # the count as estimate takes it, quoted as given (50M had been refused as 50000000.0)
    rule = RunRule(kind, ratio, parse_params(params) if params is not None else None,
                   parse_tokens(tokens) if tokens is not None else None,
                   tuple((k, v) for k, v in moe.items() if v))  # as --params takes them
    if rule.moe and rule.params is not None:  # a fixed count below the MoE rule's reach is
        rule_shape(rule.params, params, "gated", moe)  # refused here, as estimate refuses it
    elif rule.moe:  # experts the rule shapes no model of (1,000,000 had been an internal error)
        try:
            moe_rule_floor(**dict(rule.moe))
        except ValueError as exc:
            raise InputError("--experts", experts, "experts (with --top-k) the MoE shape rule "
                             "shapes a model of (docs/shape.md), or the whole shape with "
                             "--params fixed", f"shapes no model: {exc}") from None
    asm = assumptions_for(assumptions, None)
    # the planner's ceiling checked on the counts as given (1G had been quoted as 995328000,
    # the count a probe rounded it to)
    if limits["gpus"] is not None:
        check_gpus(limits["gpus"], asm, gpus)
    check_max_gpus(limits["max_gpus"], asm, max_gpus)
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
    if given_price is None and ownership != "owned":
        # only the catalog's rental quotes are moved along the trend: a given price holds in
        # every year and an owned cluster is costed at purchase prices the trend does not move
        # (--year 2045 with either had been refused as 19 years from h100-sxm's quote)
        _check_year(cat, keys, year_i, year)
    considered = []
    # the probes share layout searches (with the caller's, inside its shared_searches block)
    args = [(cat, key, limits, rule, year_i, trends, ownership, site, site_figures, assumptions,
             tolerance, given_price) for key in keys]
    with Progress(progress, len(args), "accelerators", "accelerator") as bar:
        considered = each_accelerator(args, bar)
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
    best["plan"] = checked(probe(cat, best["accelerator"], limits, rule,
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
