"""Inverse planning: what a budget, a site, a deadline or a fleet buys.

Given any of money, facility power, a deadline, a device count and the allowed accelerators,
find the largest training run they allow and the plan that trains it. The run grows along a
rule: compute-optimal by default (tokens = 20 x parameters, Hoffmann et al. 2022, "Chinchilla",
Table 3 / approach 1), or another ratio (over-trained open models use ~40-2000), or a fixed
parameter count (tokens grow) or fixed tokens (parameters grow). Each candidate size is planned
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

import json
import math
from dataclasses import asdict, dataclass, field, replace

from .assumptions import Assumptions
from .catalog import Catalog
from .catalog import catalog as load_catalog
from .plan.estimate import estimate
from .plan.options import shared_searches
from .plan.result import Plan, clean_json
from .units import (
    InputError,
    parse_count,
    parse_duration_s,
    parse_energy_usd_per_kwh,
    parse_fraction,
    parse_int_count,
    parse_money_usd,
    parse_power_w,
    parse_pue,
    parse_rate,
)

MIN_PARAMS = 1e8
MAX_PARAMS = 1e16
SIZE_TOLERANCE = 0.02  # relative precision of the largest run found (bisection on log N)
# Accelerators compared when none is named: the rentable training GPUs of 2024-27 with cloud
# prices in the catalog (H100 SXM, B200, MI300X); name others with gpu=.
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
        t = replace(t, price_performance_oom_per_year=parse_rate(
            price_performance_oom_per_year, name), price_performance_source=f"given ({name})")
    if frontier_cost_growth_per_year is not None:
        t = replace(t, frontier_cost_growth_per_year=parse_rate(
            frontier_cost_growth_per_year, "--frontier-cost-growth"),
            frontier_cost_source="given (--frontier-cost-growth)")
    return t


@dataclass(frozen=True)
class BudgetAnswer:
    """The largest run the limits allow, and its plan (CONTRACT's estimate keys in ``plan``)."""

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
        base = self.plan.to_dict() if self.plan else {
            "workload": None, "cluster": None, "layout": None}
        return clean_json({**base, "feasible": self.feasible, "binding": self.binding,
                       "reason": self.reason, "inverse": inverse})

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)


def price_in_year(price: float | None, as_of: str | None, year: int | None,
                  trends: Trends) -> float | None:
    """A price quoted at ``as_of`` moved to ``year`` along the price-performance trend."""
    if price is None or year is None or not as_of:
        return price
    quoted = int(str(as_of)[:4])
    return price * 10 ** (-trends.price_performance_oom_per_year * (year - quoted))


def _run_size(n: float, rule: str, ratio: float, fixed_params, fixed_tokens):
    """(params, tokens) of the run of size ``n`` along the rule."""
    if rule == "fixed_params":
        return fixed_params, n
    if rule == "fixed_tokens":
        return n, fixed_tokens
    return n, ratio * n


def budget(usd=None, power_cap=None, deadline=None, gpus=None, gpu=None, *, params=None,
           tokens=None, tokens_per_param=20.0, year=None, ownership="cloud", catalog=None,
           site=None, max_gpus=None, pue=None, energy_usd_per_kwh=None,
           assumptions: dict | Assumptions | None = None, trends: Trends | None = None,
           tolerance: float = SIZE_TOLERANCE) -> BudgetAnswer:
    """The largest training run the given limits allow (see the module docstring); ``pue``
    and ``energy_usd_per_kwh`` replace the site's figures, as in ``estimate``."""
    trends = trends or Trends()
    tolerance = parse_fraction(tolerance, "tolerance")
    cat = catalog if isinstance(catalog, Catalog) else load_catalog(catalog)
    if usd is None and power_cap is None and deadline is None and gpus is None \
            and max_gpus is None:
        raise InputError("--usd", None, "at least one limit: --usd, --power-cap, --deadline, "
                         "--gpus or --max-gpus")
    limits = {
        "usd": parse_money_usd(usd, "--usd") if usd is not None else None,
        "power_cap_w": parse_power_w(power_cap, "--power-cap") if power_cap is not None
        else None,
        "deadline_s": parse_duration_s(deadline, "--deadline") if deadline is not None
        else None,
        "gpus": parse_int_count(gpus, "--gpus") if gpus is not None else None,
        "max_gpus": parse_int_count(max_gpus, "--max-gpus") if max_gpus is not None else None,
    }
    ratio = float(parse_count(tokens_per_param, "--tokens-per-param"))
    if params is not None and tokens is not None:
        raise InputError("--params", params, "--params or --tokens, not both (the other grows)")
    rule = ("fixed_params" if params is not None else "fixed_tokens" if tokens is not None
            else "tokens_per_param")
    fixed_params = parse_count(params, "--params") if params is not None else None
    fixed_tokens = parse_count(tokens, "--tokens") if tokens is not None else None
    year_i = parse_int_count(year, "--year") if year is not None else None
    site_figures = {
        "pue": parse_pue(pue, "--pue") if pue is not None else None,
        "energy_usd_per_kwh": (parse_energy_usd_per_kwh(energy_usd_per_kwh,
                                                        "--energy-usd-per-kwh")
                               if energy_usd_per_kwh is not None else None)}
    keys = _accelerators(cat, gpu, year_i)
    considered = []
    # the probes share layout searches (with the caller's, inside its shared_searches block)
    with shared_searches():
        for key in keys:
            considered.append(_largest_on(cat, key, limits, rule, ratio, fixed_params,
                                          fixed_tokens, year_i, trends, ownership, site,
                                          site_figures, assumptions, tolerance))
    found = [c for c in considered if c["plan"] is not None]
    rule_text = {"tokens_per_param": f"compute-optimal: tokens = {ratio:g} x parameters "
                 "(Hoffmann et al. 2022)", "fixed_params": "fixed parameters, tokens grow",
                 "fixed_tokens": "fixed tokens, parameters grow"}[rule]
    trend_info = {"price_performance_oom_per_year": trends.price_performance_oom_per_year,
                  "price_performance_source": trends.price_performance_source,
                  "frontier_cost_growth_per_year": trends.frontier_cost_growth_per_year,
                  "frontier_cost_source": trends.frontier_cost_source}
    summary = [{k: v for k, v in c.items() if k != "plan"} for c in considered]
    if not found:
        why = "; ".join(f"{c['accelerator']}: {c['reason']}" for c in considered)
        return BudgetAnswer(False, considered[0]["binding"] if considered else None, why,
                            rule_text, None, None, None, year_i, limits, None, summary,
                            trend_info)
    best = max(found, key=lambda c: c["model_flops"])
    return BudgetAnswer(True, best["binding"], best["reason"], rule_text, best["params"],
                        best["tokens"], best["model_flops"], year_i, limits, best["plan"],
                        summary, trend_info)


def _accelerators(cat: Catalog, gpu, year: int | None) -> list[str]:
    if gpu:
        keys = [cat.resolve("accelerators", g.strip()) for g in
                (gpu if isinstance(gpu, (list, tuple)) else str(gpu).split(","))]
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


def _largest_on(cat, key, limits, rule, ratio, fixed_params, fixed_tokens, year, trends,
                ownership, site, site_figures, assumptions, tolerance) -> dict:
    _, fig = cat.accelerator(key).cloud_price()
    price = price_in_year(fig.value if fig else None, fig.as_of if fig else None, year, trends)

    def plan_for(n: float) -> Plan:
        p, t = _run_size(n, rule, ratio, fixed_params, fixed_tokens)
        return estimate(params=p, tokens=t, gpu=key, gpus=limits["gpus"],
                        deadline=limits["deadline_s"], budget=limits["usd"],
                        power_cap=limits["power_cap_w"], max_gpus=limits["max_gpus"],
                        objective="cost", ownership=ownership, price_per_gpu_hour=price,
                        catalog=cat, site=site, assumptions=assumptions, **site_figures)

    lo, hi = math.log10(MIN_PARAMS), math.log10(MAX_PARAMS)
    if rule == "fixed_params":  # tokens grow: search tokens from 1e9 to 1e16
        lo, hi = 9.0, 16.0
    best, blocked = None, plan_for(10 ** lo)
    if not blocked.feasible:
        return {"accelerator": key, "price_per_gpu_hour": price, "plan": None, "params": None,
                "tokens": None, "model_flops": None, "binding": blocked.binding,
                "reason": f"even the smallest run is infeasible: {blocked.reason}"}
    best = blocked
    # Bisection on log size: feasible below, infeasible above; the plan just above the
    # largest feasible size says which limit stops the run from growing.
    while hi - lo > math.log10(1 + tolerance):
        mid = (lo + hi) / 2
        p = plan_for(10 ** mid)
        if p.feasible:
            lo, best = mid, p
        else:
            hi, blocked = mid, p
    params, tokens = _run_size(10 ** lo, rule, ratio, fixed_params, fixed_tokens)
    binding = blocked.binding if not blocked.feasible else None
    reason = (f"a run {10 ** (hi - lo):.2f}x larger is infeasible: {blocked.reason}"
              if not blocked.feasible else "no limit reached within the searched sizes")
    return {"accelerator": key, "price_per_gpu_hour": price, "plan": best, "params": params,
            "tokens": tokens, "model_flops": best.model_flops, "binding": binding,
            "reason": reason}


# --- sensitivity: which assumptions move an answer most -----------------------------------

SENSITIVITY_RANGES = {
    # name: (low, high, why) -- the documented ranges of docs/uncertainty.md and the catalogs
    "gemm_efficiency": (0.75, 0.95, "achieved GEMM throughput, +-10% around the calibrated 0.87"),
    "failure_rate_per_device_hour": (1.2e-5, 3.4e-5, "Meta RSC-2 to RSC-1 failure rates "
                                     "(reliability.md sec. 2)"),
    "restart_s": (120.0, 1800.0, "2-minute hot-spare restart to 30-minute reschedule"),
    "pue": (1.1, 1.5, "hyperscale to enterprise colocation (power_cost.md sec. 1)"),
    "energy_usd_per_kwh": (0.05, 0.12, "US industrial by state (power_cost.md sec. 3)"),
    "tp_comm_overlap": (0.0, 0.5, "none to half of TP collectives overlapped"),
}


def sensitivity(quantity: str = "cost_usd", price_range: tuple[float, float] | None = None,
                ranges: dict | None = None, **estimate_kwargs) -> list[dict]:
    """Tornado table: the plan's ``quantity`` ("cost_usd" total, "training_days",
    "gpu_hours") at the low and high end of each assumption's range, largest swing first.
    ``price_range`` adds the cloud price per device-hour as a factor."""
    ranges = dict(SENSITIVITY_RANGES if ranges is None else ranges)
    base_asm = dict(estimate_kwargs.pop("assumptions", None) or {})

    def value(plan: Plan) -> float:
        if not plan.feasible or plan.training_days is None:
            return math.nan
        return plan.cost_usd["total"] if quantity == "cost_usd" else getattr(plan, quantity)

    base = value(estimate(assumptions=base_asm, **estimate_kwargs))
    rows = []
    for name, (low, high, why) in ranges.items():
        lo = value(estimate(assumptions={**base_asm, name: low}, **estimate_kwargs))
        hi = value(estimate(assumptions={**base_asm, name: high}, **estimate_kwargs))
        rows.append({"assumption": name, "low": low, "high": high, "at_low": lo,
                     "at_high": hi, "swing": abs(hi - lo), "why": why, "base": base})
    if price_range is not None:
        kw = dict(estimate_kwargs)
        lo = value(estimate(assumptions=base_asm, **{**kw, "price_per_gpu_hour": price_range[0]}))
        hi = value(estimate(assumptions=base_asm, **{**kw, "price_per_gpu_hour": price_range[1]}))
        rows.append({"assumption": "price_per_gpu_hour", "low": price_range[0],
                     "high": price_range[1], "at_low": lo, "at_high": hi,
                     "swing": abs(hi - lo), "why": "cloud price per device-hour",
                     "base": base})
    return sorted(rows, key=lambda r: -r["swing"] if math.isfinite(r["swing"]) else 0.0)
