"""Which assumptions move an answer most: a plan's cost, days or device-hours at the low and
high end of each assumption's documented range (a tornado table), largest swing first."""

from __future__ import annotations

import math

from .assumptions import DEFAULT, Assumptions
from .catalog import Catalog
from .catalog import catalog as load_catalog
from .errors import InputError
from .model import run
from .model.uncertainty import within_limits
from .plan.estimate import ANSWER_ONLY_KEYWORDS, estimate, flag_keywords, prepare
from .plan.inputs import assumption_given
from .plan.quantiles import ranged_figures
from .plan.quantities import parse_budget, parse_deadline, parse_flag, parse_power_cap
from .plan.result import Plan, clean_json
from .schema import plain
from .units import SECONDS_PER_DAY

_GEMM = DEFAULT.gemm_efficiency  # the calibrated value (planner validate --refit)


def _gemm_range(centre: float, said: str) -> tuple:
    """GEMM efficiency +-10% around ``centre``, 1 (the ceiling) at most: (low, high, why)."""
    high = min(1.0, round(1.1 * centre, 3))
    return (round(0.9 * centre, 3), high,
            f"achieved GEMM throughput, +-10% around {said}" if high > centre else
            f"achieved GEMM throughput, 10% below {said} (1, the ceiling, is its high end)")

SENSITIVITY_RANGES = {
    # name: (low, high, why) -- the documented ranges of docs/uncertainty.md and the catalogs
    "gemm_efficiency": _gemm_range(_GEMM, f"the calibrated {_GEMM:g}"),
    "failure_rate_per_device_hour": (1.2e-5, 3.4e-5, "Meta RSC-2 to RSC-1 failure rates "
                                     "(Kokolis et al. 2025, arXiv 2410.21680)"),
    "restart_s": (120.0, 1800.0, "2-minute hot-spare restart to 30-minute reschedule"),
    "pue": (1.1, 1.5, "hyperscale to enterprise colocation (Epoch AI "
            "energy.py; Uptime Institute survey 1.55-1.58)"),
    "energy_usd_per_kwh": (0.05, 0.12, "US industrial by state (EIA Electric Power Monthly, "
                           "Table 5.6.B)"),
    "tp_comm_overlap": (0.0, 1.0, "none to all of the tensor-parallel collectives hidden "
                        "behind the GEMMs (Megatron-LM 2021: none; Megatron-Core's userbuffers "
                        "overlap: the calibrated tp_overlap_fraction, "
                        f"{DEFAULT.tp_overlap_fraction:g})"),
}


# A mixture of experts' own lever, added to a tornado of one (a dense model's bar would be 0).
MOE_SENSITIVITY_RANGES = {
    "ep_comm_overlap": (0.0, 1.0, "none to all of the experts' all-to-all hidden under another "
                        "microbatch's compute (Megatron-Core's dispatchers without EP overlap, "
                        "as NVIDIA's GB200 DeepSeek-V3 recipes run; DualPipe, DeepSeek-V3 "
                        "report sec. 3.2.1, and Megatron-Core's EP A2A overlap)"),
}

# An owned cluster's own lever, added to a tornado of its cost (a rented one's bar would be 0).
OWNED_SENSITIVITY_RANGES = {
    "depreciation_years": (4.0, 6.0, "servers' useful life in hyperscalers' books: 4 years "
                           "(Microsoft from July 2020, Alphabet from January 2021; "
                           "DataCenterFrontier, Feb 2022) to 6 (Microsoft from 2022, Alphabet "
                           "from 2023; DatacenterDynamics, Feb 2023), as quoted in Epoch AI "
                           "training-cost-trends hardware.py"),
}
# The catalog figures an owned cost rests on, each a bar over its own sourced low-high: the
# accelerator's price, its server quote and the facility's capex per MW (plan/quantiles.py
# ranged_figures names the figure behind each run input).
OWNED_CATALOG_INPUTS = ("device_usd", "server_usd_per_device", "capex_usd_per_mw")

QUANTITIES = ("cost_usd", "training_days", "gpu_hours")
# Inputs a plan also takes as keywords (a site's figure replaced): the tornado moves the keyword,
# so a given --pue or --energy-usd-per-kwh is the bar's centre, not a fixed point.
KEYWORD_INPUTS = ("pue", "energy_usd_per_kwh")


def sensitivity(quantity: str = "cost_usd", price_range=None, ranges: dict | None = None,
                fixed_cluster: bool = False, plan=None, **estimate_kwargs) -> list[dict]:
    """Tornado table: the plan's ``quantity`` ("cost_usd" total, "training_days",
    "gpu_hours") at the low and high end of each assumption's range, largest swing first; an
    end with no figure (nan) ranks first, as the largest swing there is.
    A range that leaves out the plan's own value (a site's energy price above the US range) is
    widened to it, and says so; a mixture of experts adds its all-to-all overlap
    (MOE_SENSITIVITY_RANGES) to the default ranges. The realisation residual's fitted 10-90%
    range is a bar of its own, on the plan's cluster (with realisation off, none).
    ``price_range`` adds the cloud price per device-hour of the plan's accelerator (the one
    chosen, when several are compared) as a factor: (low, high), or "catalog" for the range
    of the catalog figure the plan rents at (none for an owned cluster or a price given).

    ``fixed_cluster`` false: each end is planned afresh under the same limits (a sized run is
    sized again), and an end that no plan meets reads nan. True: each end runs on the plan's
    own accelerator and device count (its layout searched again), the question a team asks of
    the cluster it has chosen (no rows, [], when the plan has no figures on a cluster); the
    figure is read even where it breaks a limit the plan was held to (a sized plan's default
    deadline too). Either way each row names the limit an end
    breaks (``breaks_at_low``, ``breaks_at_high``: "deadline", "budget", "power_cap", or
    the binding limit of an end no plan meets; None). ``plan``: the plan these inputs give,
    when the caller has it already (not planned again)."""
    if quantity not in QUANTITIES:
        raise InputError("quantity", quantity, ", ".join(QUANTITIES))
    fixed_cluster = parse_flag(fixed_cluster, "fixed_cluster")  # "false" is false
    if isinstance(price_range, str):  # checked before any plan
        if price_range != "catalog":
            raise InputError("price_range", price_range, '(low, high) in USD per device-hour '
                             'or "catalog"')
    elif price_range is not None:
        price_range = _checked_range("price_range", price_range)[:2]
    default_ranges = ranges is None
    if ranges is not None:  # each (low, high[, why]), low <= high: named, not unpacked blindly
        if not isinstance(ranges, dict):
            raise InputError("ranges", ranges, "a dict {assumption: (low, high[, why])}")
        ranges = {name: _checked_range(f"ranges[{name!r}]", r) for name, r in ranges.items()}
    ranges = dict(SENSITIVITY_RANGES if ranges is None else ranges)
    # the flags' own names (assume=, model_config=) as estimate takes them, so each end's
    # change is laid over the caller's assumptions (an assume= had overridden every end)
    workload, merged, estimate_kwargs = flag_keywords(
        estimate_kwargs.pop("workload", None), estimate_kwargs.pop("assumptions", None),
        estimate_kwargs)
    if workload is not None:
        estimate_kwargs["workload"] = workload
    if isinstance(merged, Assumptions):  # an object's changes, as a dict of them
        merged = {name: getattr(merged, name) for name in merged.__dataclass_fields__
                  if assumption_given(merged, name) is not None}
    elif merged is not None and not isinstance(merged, dict):
        raise InputError("assumptions", merged, "a dict {assumption: value} or an "
                         "Assumptions object")
    base_asm = dict(merged or {})
    if plan is not None and not isinstance(plan, Plan):
        raise InputError("plan", plan, "the Plan these inputs give (planner.estimate's "
                         "answer), or None to plan it here")
    base_plan = plan if plan is not None else estimate(
        alternatives=False, assumptions=base_asm, **estimate_kwargs)
    if fixed_cluster and not (base_plan.cluster and base_plan.training_days):
        # no figures on a cluster to hold the ends to: no rows, as the CLI's JSON says (six
        # rows of nan had come back, each end planned afresh on no cluster)
        return []
    if default_ranges and (base_plan.workload or {}).get("experts"):
        ranges.update(MOE_SENSITIVITY_RANGES)
    owned = default_ranges and quantity == "cost_usd" and base_plan.cost_method == "owned"
    if owned:
        ranges.update(OWNED_SENSITIVITY_RANGES)
    own = ((base_plan.assumptions or {}).get("gemm_efficiency") or {}).get("value")
    if default_ranges and isinstance(own, (int, float)) and own != _GEMM:
        # a stack's own figure (MaxText's 1.0: its matmul share stands for the GEMMs): +-10%
        # around the value the plan ran at, not the calibrated one (the bar had read 0.82-1 on
        # a TPU plan at 1.0, its high end the plan itself)
        ranges["gemm_efficiency"] = _gemm_range(own, f"the {own:g} the plan's stack runs at")
    limits = _limits(base_plan, estimate_kwargs)
    if fixed_cluster and base_plan.cluster:
        # the plan's cluster, held to the limits the plan was held to (a sized plan's default
        # deadline given, so that an end past it says so)
        estimate_kwargs = {**estimate_kwargs, "gpu": base_plan.cluster["accelerator"],
                           "gpus": base_plan.cluster["gpus"], "max_gpus": None}
        if limits["deadline"] is not None:
            estimate_kwargs["deadline"] = limits["deadline"] * SECONDS_PER_DAY

    def plan_with(changes: dict | None = None, **given):
        """The plan with ``changes`` to the assumptions and ``given`` inputs (its figures
        alone: no alternatives)."""
        return estimate(alternatives=False, assumptions={**base_asm, **(changes or {})},
                        **{**estimate_kwargs, **given})

    def value(p) -> float:
        if p.training_days is None or not (p.feasible or fixed_cluster):
            return math.nan
        x = p.cost_usd["total"] if quantity == "cost_usd" else getattr(p, quantity)
        return math.nan if x is None else x  # a price unknown: no cost

    def breaks(p) -> str | None:
        # an end with figures names every limit they break (an infeasible end had named its
        # binding limit alone: a budget broken beside the deadline went unsaid); an end with
        # none (no layout fits, no size within a cap) its binding limit
        if p.training_days is not None and p.cost_usd is not None:
            broken = _broken(limits, p.training_days, p.cost_usd["total"], p.power_mw)
            cost = p.cost_usd["total"]
            if broken is not None or p.feasible or (
                    p.binding == "budget" and (cost is None or not math.isfinite(cost))):
                return broken  # an unknown cost breaks no budget that can be said
        return "power_cap" if p.binding == "power" else p.binding

    base = value(base_plan)
    rows = []

    def row(name, low, high, ends, why):
        lo, hi = (value(p) for p in ends)
        sizes = [(p.cluster or {}).get("gpus") for p in ends]
        if not fixed_cluster and base_plan.cluster and any(
                g is not None and g != base_plan.cluster["gpus"] for g in sizes):
            # sized afresh, an end may buy another cluster: why it need not bracket the plan
            # (a faster step sizes fewer devices that take longer for less)
            why = (f"{why}; sized again: {', '.join(f'{g:,}' if g else 'none' for g in sizes)}"
                   f" devices at low, high against the plan's {base_plan.cluster['gpus']:,}")
        rows.append({"assumption": name, "low": low, "high": high, "at_low": lo,
                     "at_high": hi, "swing": abs(hi - lo), "why": why, "base": base,
                     "breaks_at_low": breaks(ends[0]), "breaks_at_high": breaks(ends[1])})

    for name, (low, high, why) in ranges.items():
        # the plan's own figure (a site's, a given keyword's, an --assume's) inside the range:
        # a restart_s of 3,600 s had drawn a 2-30 min bar wholly below the plan's own days
        own = (base_plan.assumptions or {}).get(name, {}).get("value")
        if isinstance(own, (int, float)) and not isinstance(own, bool) \
                and not low <= own <= high:
            low, high = min(low, own), max(high, own)
            why = f"{why}; widened to the plan's own {own:g}"
        if name in KEYWORD_INPUTS:
            row(name, low, high, (plan_with(**{name: low}), plan_with(**{name: high})), why)
        else:
            row(name, low, high, (plan_with({name: low}), plan_with({name: high})), why)
    # the residual's bar needs the plan's figures: a feasible plan's, or, on its own cluster,
    # those of a plan that breaks a limit
    rel = base_plan.realisation if (base_plan.feasible or fixed_cluster) \
        and base_plan.training_days is not None else None
    if rel and rel.get("multiplier") and rel["p90_multiplier"] > rel["p10_multiplier"]:
        # the realisation residual's fitted 10-90% range (model/realisation.py) on the plan's
        # own cluster (none with realisation off): days, device-hours and both costs are
        # proportional to the realised wall time there (run.outcome), so each end is the
        # plan's figure x its multiplier's ratio
        low, high = (rel["p10_multiplier"] / rel["multiplier"],
                     rel["p90_multiplier"] / rel["multiplier"])
        days, cost = base_plan.training_days, base_plan.cost_usd["total"]
        cost = math.nan if cost is None else cost  # a price unknown: no cost at either end
        rows.append({"assumption": "realisation_residual", "low": low, "high": high,
                     "at_low": base * low, "at_high": base * high, "swing": base * (high - low),
                     "why": f"how whole runs realise against their ideal: the fitted 10-90% "
                            f"range, x{rel['p10_multiplier']:.2f}-x{rel['p90_multiplier']:.2f} "
                            f"the ideal wall time against the expected x{rel['multiplier']:.2f} "
                            "(docs/validation.md), on the plan's cluster", "base": base,
                     "breaks_at_low": _broken(limits, days * low, cost * low,
                                              base_plan.power_mw),
                     "breaks_at_high": _broken(limits, days * high, cost * high,
                                               base_plan.power_mw)})
    if owned and base_plan.cluster and base_plan.tokens_per_s \
            and (base_plan.feasible or fixed_cluster) \
            and math.isfinite(base_plan.training_days or math.nan):
        # on the plan's cluster, as the residual's bar: an infeasible plan planned afresh
        # has no figures (every other bar reads nan), so none here either
        rows += _owned_catalog_rows(base_plan, base_asm, estimate_kwargs, limits, fixed_cluster)
    if price_range == "catalog":
        price_range = _catalog_price_range(base_plan, estimate_kwargs, base_asm)
    if price_range is not None:
        # the price of the plan's accelerator: with several compared, another one at the same
        # price would answer a different question
        pin = {"gpu": base_plan.cluster["accelerator"]} if base_plan.cluster else {}
        row("price_per_gpu_hour", price_range[0], price_range[1],
            (plan_with(price_per_gpu_hour=price_range[0], **pin),
             plan_with(price_per_gpu_hour=price_range[1], **pin)),
            "cloud price per device-hour" + (f" of {pin['gpu']}" if pin else ""))
    # an end with no figure (nan) first, then the largest swing
    return sorted(rows, key=lambda r: -r["swing"] if math.isfinite(r["swing"]) else -math.inf)


def _owned_catalog_rows(base_plan, base_asm: dict, kwargs: dict, limits: dict,
                        fixed_cluster: bool) -> list[dict]:
    """The owned cost at the low and high of each catalog figure it rests on
    (OWNED_CATALOG_INPUTS) that the plan uses and the catalog gives a range for, on the plan's
    cluster: its wall time does not move with a price, so each end is the run model's cost
    (model/run.outcome) with that one input changed."""
    req = prepare(assumptions=base_asm,
                  **{k: v for k, v in kwargs.items() if k not in ANSWER_ONLY_KEYWORDS})
    side = next(sd for sd in req.sides if sd.acc.key == base_plan.cluster["accelerator"])
    devices = base_plan.cluster["gpus"]
    compute_s = req.w.tokens / base_plan.tokens_per_s  # the steady state's time (quantiles.py)
    figures = ranged_figures(side.acc, side.site)
    base = base_plan.cost_usd["total"]
    rows = []
    for name in OWNED_CATALOG_INPUTS:
        figure_name, fig = figures[name]
        value = side.inputs[name]
        if fig is None or value != fig.value:  # a figure the plan does not use (none, or n/a)
            continue
        if name == "device_usd" and math.isfinite(side.inputs["server_usd_per_device"]):
            continue  # a server quote holds its accelerator: the device's price only splits it
        low = fig.low if fig.low is not None else value
        high = fig.high if fig.high is not None else value
        if not low < high:
            continue
        at = [float(run.outcome(devices, compute_s, asm=side.asm,
                                **{**side.inputs, name: end})["cost"]["owned"]["total"])
              for end in (low, high)]
        holder = side.site.key if name == "capex_usd_per_mw" else side.acc.key
        why = (f"{holder}'s catalog {figure_name}, its sourced low to high: {fig.source}"
               + ("" if fixed_cluster else "; on the plan's cluster"))
        rows.append({"assumption": figure_name, "low": low, "high": high,
                     "at_low": at[0], "at_high": at[1], "swing": abs(at[1] - at[0]),
                     "why": why, "base": base,
                     "breaks_at_low": _broken(limits, base_plan.training_days, at[0],
                                              base_plan.power_mw),
                     "breaks_at_high": _broken(limits, base_plan.training_days, at[1],
                                               base_plan.power_mw)})
    return rows


def _limits(plan, kwargs: dict) -> dict:
    """The limits a plan was held to: {deadline (days), budget (USD), power_cap (MW)}, each
    None when not given; a sized plan's default deadline counts (its sizing says it)."""
    sized = (plan.sizing or {}).get("limits") or {}
    given = {"deadline": kwargs.get("deadline"), "budget": kwargs.get("budget"),
             "power_cap": kwargs.get("power_cap")}
    # a site named holds its own cap where no --power-cap replaces it (plan/estimate.py
    # reports it as the power_cap_mw assumption): a fixed cluster's end past it had gone unsaid
    site_cap = ((plan.assumptions or {}).get("power_cap_mw") or {}).get("value")
    return {"deadline": (parse_deadline(given["deadline"]) / SECONDS_PER_DAY
                         if given["deadline"] is not None else sized.get("deadline_days")),
            "budget": (parse_budget(given["budget"]) if given["budget"] is not None
                       else sized.get("budget_usd")),
            "power_cap": (parse_power_cap(given["power_cap"]) / 1e6
                          if given["power_cap"] is not None else
                          sized.get("power_cap_mw") or site_cap)}


def _checked_range(name: str, given) -> tuple:
    """(low, high, why) of a range given as (low, high) or (low, high, why), numbers with
    low <= high; else an InputError naming it."""
    accepted = "(low, high) or (low, high, why), two numbers with low <= high"
    if not isinstance(given, (tuple, list)) or len(given) not in (2, 3):
        raise InputError(name, given, accepted)
    low, high = plain(given[0]), plain(given[1])  # np.float32(0.8) is a number
    if not all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
               for x in (low, high)):
        raise InputError(name, given, accepted, "does not hold two finite numbers")
    if low > high:
        raise InputError(name, given, accepted, "has its low above its high")
    return (low, high, given[2] if len(given) == 3 else "given")


def _broken(limits: dict, days, cost_usd, power_mw) -> str | None:
    """Every limit (deadline, budget, power cap) these figures break, joined by ", ", or None
    (uncertainty.within_limits on the one outcome): a budget broken beside a deadline had
    gone unsaid."""
    kept = within_limits({"training_days": [days], "cost_usd": [cost_usd],
                          "power_mw": [power_mw]}, limits["deadline"], limits["budget"],
                         limits["power_cap"]) or {}
    return ", ".join(name for name, share in kept.items() if share < 1) or None


def _catalog_price_range(plan, kwargs: dict, changed: dict) -> tuple[float, float] | None:
    """The low and high of the catalog price a cloud plan rents at (Accelerator.cloud_price,
    the range the Monte Carlo draws, ``changed`` the assumptions a caller changed); None for
    an owned plan, a given price or no figure."""
    # the plan's own method: ownership left out (None) is cloud, as the plan took it
    if (not plan.cluster or (plan.cost_method or kwargs.get("ownership") or "cloud") != "cloud"
            or kwargs.get("price_per_gpu_hour") is not None):
        return None
    cat = kwargs.get("catalog")
    cat = cat if isinstance(cat, Catalog) else load_catalog(cat)
    # a missing end as the Monte Carlo draws it (uncertainty.triangular): the value x (1 -/+
    # the assumptions' price_relative_range); a derived contract's on-demand end likewise
    rel = float(changed.get("price_relative_range", DEFAULT.price_relative_range))
    _, fig = cat.accelerator(plan.cluster["accelerator"]).cloud_price(rel)
    if fig is None or fig.value is None:
        return None
    return (float(fig.low if fig.low is not None else fig.value * (1 - rel)),
            float(fig.high if fig.high is not None else fig.value * (1 + rel)))


def sensitivity_answer(quantity: str, plan, **estimate_kwargs) -> dict:
    """What ``planner estimate --sensitivity`` adds to a plan's JSON: the tornado of
    ``quantity`` on the plan's own cluster with the catalog price as a bar
    ({quantity, fixed_cluster, rows}; an unknown figure null)."""
    rows = sensitivity(quantity, price_range="catalog", fixed_cluster=True, plan=plan,
                       **estimate_kwargs)  # none when the plan has no figures on a cluster
    return clean_json({"quantity": quantity, "fixed_cluster": True, "rows": rows})
