"""The largest run on one accelerator within limits (planner budget's search): the run grows
along a rule (RunRule: compute-optimal, a ratio, fixed parameters or fixed tokens, dense or a
mixture of experts), each size probed by ``plan.estimate``'s sizing under the limits, and the
size bisected on log10 of it, since a larger run never needs less of any resource; the first
probe is guessed from the tightest limit and a small run's plan; a price is moved to the year
asked along the price-performance trend (Trends). inverse.py asks it of each accelerator and
keeps the largest."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import timedelta

import numpy as np

from .assumptions import DEFAULT
from .model import realisation
from .model.architecture import moe_rule_floor, param_counts, shape_for_params
from .model.cost import METHODS
from .model.flops import model_flops_per_token
from .model.search import ERROR, NO_LAYOUT
from .plan.assemble import DEVICES_NEEDED, SIZE_ADVICE
from .plan.choose import meets_limits, sizing_limits
from .plan.cluster import facility_w_per_device
from .plan.estimate import over_default_site, plan_on, prepare
from .plan.inputs import assumptions_for
from .plan.options import evaluate, shared_memo, shared_searches, smooth_between
from .plan.result import Plan
from .progress import Progress
from .units import SECONDS_PER_DAY, InputError, parse_rate
from .workers import forked_map

MIN_PARAMS = 1e8
MAX_PARAMS = 1e15  # the largest model estimate plans (planner.plan.inputs)
# Hoffmann et al. 2022 (Chinchilla), compute-optimal training: ~20 tokens per parameter.
COMPUTE_OPTIMAL_TOKENS_PER_PARAM = 20.0
# A price-performance trend beyond this (orders of magnitude a year: 10x cheaper each year) is
# far outside any measured one (Epoch AI 2022: 0.12 for all GPUs, 0.14 for ML GPUs, 95%
# interval 0.096-0.195), most likely a typo.
MAX_PRICE_TREND_OOM_PER_YEAR = 1.0


# The price-performance trend was fitted on GPUs of 2006-2021 (Hobbhahn & Besiroglu 2022,
# Epoch AI): a price is moved along it at most the 15 years of that span from the date it was
# quoted; further is beyond any data the trend has (year 3000 would price a GPU-hour at 1e-128
# dollars). A budget refuses such a year where the moved price is the one it buys with
# (inverse._check_year); an owned budget's is context, and says so (price_basis).
TREND_SPAN_YEARS = 15


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
        # a factor a year: 1 is flat, 0 would make every cost vanish (-1 had been told "a
        # non-negative number", and 0 then refused)
        growth = parse_rate(frontier_cost_growth_per_year, "--frontier-cost-growth",
                            accepted="a factor a year above 0 (2.4: x2.4 a year, Cottier et "
                            "al. 2024; 1: flat)", allow_zero=False)
        t = replace(t, frontier_cost_growth_per_year=growth,
                    frontier_cost_source="given (--frontier-cost-growth)")
    return t


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
        if abs(year - int(str(fig.as_of)[:4])) > TREND_SPAN_YEARS:
            text = (f"{text}, beyond the {TREND_SPAN_YEARS} years of data it was fitted on "
                    "(Epoch AI 2022: 2006-2021)")
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
        # the tokens of the model the rule shapes for n (within 3% of it): the run trains
        # ratio x its own count, exactly (20 x 83.6B had been trained on a model of 83.7B)
        return n, self.ratio * param_counts(shape_for_params(n, "gated", **dict(self.moe)))[0]

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


def each_accelerator(args: list[tuple], bar: Progress) -> list[dict]:
    """Each accelerator's largest run: in forked worker processes when there are several and
    this process may have children (one searches while another does: the searches share
    nothing), else here, the probes sharing layout searches with the caller's block."""
    if shared_memo() is None:
        out = forked_map(_largest_on_args, args, bar.update)
        if out is not None:
            return out
        if bar.done:  # workers lost part way: every accelerator answered here
            bar.update(-bar.done)
    with shared_searches():
        out = []
        for a in args:
            out.append(largest_on(*a))
            bar.update()
        return out


def _largest_on_args(a: tuple) -> dict:
    return largest_on(*a)


def probe(cat, key, limits, rule: RunRule, price, ownership, site, site_figures, assumptions,
           x: float, hint=None, alternatives=False, price_source: str = "") -> Plan:
    """The plan of the run of size 10^x along the rule, on ``key`` under the limits: CP-SAT's
    choice, found with numpy (no solver import); alternatives only for an answer."""
    p, t = rule.size(10 ** x)
    fleet = limits["gpus"]

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

    gpus = fleet
    why = ""
    with shared_searches():  # the fleet's counts and the plan share their layout searches
        if fleet is not None:
            # a fleet of N devices is what is available: the run takes one of the counts at
            # or below it that a team lays out (fleet_count), the rest spare
            req = request(max(smooth_between(0, fleet + 1), default=fleet))
            powered = None  # the most of the fleet the power cap feeds, where it feeds less
            if limits["power_cap_w"] is not None:
                # a fleet the cap cannot power runs on the part it can, the rest spare
                # (16,384 H100 at a 30 MW site had read "no run fits: needs 30.5 MW" where
                # 16,128 of them fit)
                sd = req.sides[0]
                per_device_w = facility_w_per_device(sd.acc, sd.site, sd.asm, req.limits.pue)
                if math.isfinite(per_device_w) and per_device_w > 0 \
                        and req.n_gpus * per_device_w > limits["power_cap_w"]:
                    powered = int(limits["power_cap_w"] // per_device_w)
            gpus, why = fleet_count(req, powered or fleet, (
                f"that the power cap feeds ({powered:,} devices) " if powered else ""))
            if gpus != req.n_gpus:
                req = request(gpus)
        else:
            req = request(None)
        # a plan above the default site's power says so, as estimate's does (budget's table
        # had shown 232 MW at the 150 MW default site without a word)
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
    if fleet is not None and gpus != fleet:
        used["gpus"] = {"value": gpus, "source": (
            f"--gpus {fleet:,} available: {why}, {fleet - gpus:,} spare")}
    if limits.get("_deadline_default"):
        used["deadline_days"] = {"value": limits["deadline_s"] / SECONDS_PER_DAY, "source": (
            "planner budget with no --deadline: the default deadline, "
            + assumptions_for(assumptions, None).source("deadline_days"))}
    return plan


# Counts a fleet's search tries at a time, largest first (options.smooth_between's counts: ~150
# up to a million devices): the largest alone first, which often answers.
FLEET_CHUNK = 16


def fleet_count(req, cap: int, fed: str = "") -> tuple[int, str]:
    """The count of a fleet's devices the request's run takes, and why: one of the counts at or
    below ``cap`` (the fleet, or the part the power cap feeds: ``fed`` says so) that a team
    lays out (prime factors 2, 3 and 5, its power of two at least the rest:
    options.smooth_between), the rest spare. Under a deadline (given, or the default when no
    money bounds the run), the largest of them on which the run meets every limit, so a larger
    fleet, which has every count a smaller one has, never buys a smaller run (131,072 H100 in
    90 days had bought 1.14T parameters and 196,608 only 956B, on all of them, their pipeline
    bubbles half the step); where none meets them, the one nearest to them (the least largest
    need/limit ratio, by which the search steps down). With money alone (no deadline), the
    largest: the whole fleet runs, its days the fleet's (fewer devices always cost less, and
    would run for centuries). Never a count no layout splits the run over (the search's
    smallest run, 100M parameters, on 69,120 H100 had been refused as the user's error,
    --gpus 70000 --deadline 30d exit 2): the largest one splits it over, where the others
    do not."""
    counts = smooth_between(0, cap + 1)[::-1] or [req.n_gpus]  # largest first
    base = ("the largest count at or below it " + fed + "a team lays out (prime factors 2, 3 "
            "and 5, as many twos as the rest)")
    split = f"{base} that a layout splits this run over ({counts[0]:,}: none does)"
    method = METHODS.index(req.limits.ownership)
    slim = sizing_limits(req.limits, req.asm, default_deadline=False)
    deadline_s = req.limits.deadline_s

    def chunks(cs):  # the largest alone (it often answers), then FLEET_CHUNK at a time
        yield from ([cs[:1]] + [cs[i:i + FLEET_CHUNK] for i in range(1, len(cs), FLEET_CHUNK)]
                    if cs else [])

    def options(cs):
        return evaluate(req.w, req.sides, np.zeros(len(cs), dtype=int),
                        np.array(cs, dtype=np.int64), req.fixed, req.asm, req.allow_tp, method,
                        METHODS)

    if deadline_s is not None:
        # the counts that may meet the deadline: a count's days are at least the run's FLOPs
        # at its devices' peak (MFU 1), realised as the plan's are
        w, sd = req.w, req.sides[0]
        flops = float(model_flops_per_token(w.architecture, w.seq_len)) * w.tokens
        slowdown = float(realisation.realise(np.ones(1), 1, req.asm)["multiplier"][0])
        least = flops * slowdown / (sd.hw.peak_flops * deadline_s)
        tried = [c for c in counts if c == counts[0] or c >= least]
        near, laid = [], []  # per count tried: its largest need/limit ratio, a layout splits it
        for chunk in chunks(tried):
            opts = options(chunk)
            laid += _laid_out(opts).tolist()
            ok = meets_limits(opts, slim, req.limits, req.asm)
            if ok.any():
                c = chunk[int(np.argmax(ok))]
                return c, (base if c == counts[0] else
                           f"{base} on which this run meets the limits ({counts[0]:,}: "
                           + ("it misses them" if laid[0] else "no layout splits it") + ")")
            ratio = worst_ratio({"training_days": opts.cols["training_days"],
                                 "cost_usd": opts.cols["cost_usd_total"],
                                 "power_mw": opts.cols["power_mw"], "gpus": opts.gpus},
                                {"deadline_days": slim.deadline_days,
                                 "budget_usd": slim.budget_usd,
                                 "power_cap_mw": slim.power_cap_mw, "max_gpus": slim.max_gpus})
            # those a layout runs, an unknown need after every known one
            near += np.where(opts.fits, np.minimum(ratio, 1e300), math.inf).tolist()
        if np.isfinite(near).any():  # none meets them: the one nearest to
            c = tried[int(np.argmin(near))]
            return c, (base if c == counts[0] else
                       f"of the counts at or below it {fed}a team lays out (prime factors 2, 3 "
                       "and 5, as many twos as the rest), the one nearest the limits (none "
                       "meets them)")
        if any(laid):
            c = tried[laid.index(True)]
            return c, base if c == counts[0] else split
        rest = [c for c in counts if c < least]
    else:
        rest = counts
    for chunk in chunks(rest):  # the largest count a layout splits the run over
        laid = _laid_out(options(chunk))
        if laid.any():
            c = chunk[int(np.argmax(laid))]
            return c, base if c == counts[0] else split
    return counts[0], base  # none splits it: the plan says why


def _laid_out(opts) -> np.ndarray:
    """Per option, whether some layout splits its run over its devices (it may not fit)."""
    return (opts.best.state != NO_LAYOUT) & (opts.best.state != ERROR)


def largest_on(cat, key, limits, rule: RunRule, year, trends, ownership, site, site_figures,
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
        plan = probe(cat, key, limits, rule, price, ownership, site, site_figures,
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
    if first is not None and not first.feasible and 1.0 < tightness(first, limits) < math.inf:
        # too large: step down to where the tightest limit's need meets it (its need grows as
        # size^exponent), a little below so the step lands inside
        x1 = snap(guess - math.log10(tightness(first, limits)) / exponent - width / 2,
                  math.floor)
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
    lo, hi, best, blocked = _boundary(plan_for, lo, hi, best, width, exponent, first, snap,
                                      lambda p: tightness(p, limits))
    # the run is the model planned: the shape rule's count (within 3% of the size searched:
    # 83.7B where the search stood at 83.6B, and the headline had said 83.6B above a plan of
    # 83.7B) and the tokens it trains on
    params, tokens = best.workload["params"], best.workload["tokens"]
    binding = blocked.binding if blocked is not None else None
    # what the sizing found for the next run tried: its sizes are a search over a jagged
    # landscape (a size's factors set its layouts), so a size it did not try may fit; a
    # fleet on hand is no sizing: the run does not fit it
    larger = f"{10 ** (hi - lo):.2f}x larger"
    why = blocked.reason if blocked is not None else None
    if why and limits["gpus"] is not None and DEVICES_NEEDED in why \
            and blocked.cluster["gpus"] < limits["gpus"]:
        # the fleet holds more than the count planned, the nearest of its counts to the
        # limits (fleet_count): the devices "it needs at least" at that count's throughput
        # are no shortfall of the fleet
        # ('needs at least 131,212 devices' of a fleet of 196,608: a review)
        why = (why.split(DEVICES_NEEDED)[0] + f"; none of the fleet's other counts, up to "
               f"its {limits['gpus']:,} devices, comes nearer the limits")
    reason = ("no limit reached within the searched sizes" if blocked is None else
              f"a run {larger} breaks a limit on the fleet: {why}"
              if limits["gpus"] is not None else
              f"for a run {larger} the sizing found no plan within the limits: {why}")
    return {"accelerator": key, "price_per_gpu_hour": price, "price_basis": price_source,
            "plan": best, "params": params,
            "tokens": tokens, "model_flops": best.model_flops, "binding": binding,
            "reason": reason, "size": lo}


# How the tightest limit's need grows with the run's size on the searched axis (log10 N or
# log10 D): compute-optimal runs grow their FLOPs as N^2 (tokens ~ N, Hoffmann et al. 2022),
# so their cost, device count or days at a limit do too; a fixed N or D leaves one factor.
GROWTH_EXPONENT = {"tokens_per_param": 2.0, "fixed_params": 1.0, "fixed_tokens": 1.0}


def tightness(plan: Plan, limits: dict | None = None) -> float:
    """How far a plan's best option is from its limits: the least, over the options of its
    sizing (or the plan itself at a given size, judged by the budget's ``limits``: its
    deadline, money and power), of the largest need/limit ratio. At most 1 where some option
    meets every limit; inf where none runs or a need is unknown. (A fleet's plan, no sizing,
    had read 0 however far past its deadline: no step down, and 61,440 H100 were refused.)"""
    if plan.sizing:
        o, lim = plan.sizing["options"], plan.sizing["limits"]
        needs = {"training_days": o["training_days"], "cost_usd": o["cost_usd"],
                 "power_mw": o["power_mw"], "gpus": o["gpus"]}
    elif plan.training_days is not None:
        lim = None if limits is None else {
            "deadline_days": (limits["deadline_s"] / SECONDS_PER_DAY
                              if limits["deadline_s"] is not None else None),
            "budget_usd": limits["usd"],
            "power_cap_mw": (limits["power_cap_w"] / 1e6
                             if limits["power_cap_w"] is not None else None)}
        needs = {"training_days": [plan.training_days], "cost_usd": [plan.cost_usd.get("total")],
                 "power_mw": [plan.power_mw], "gpus": [plan.cluster["gpus"]]}
    else:
        return math.inf
    return float(np.min(worst_ratio(needs, lim or {}), initial=math.inf))


def worst_ratio(needs: dict, lim: dict) -> np.ndarray:
    """Per option, its largest need/limit ratio: ``needs`` (training_days, cost_usd, power_mw,
    gpus: sequences, None or NaN where unknown: inf) against ``lim`` (deadline_days,
    budget_usd, power_cap_mw, max_gpus; a missing or empty one limits nothing); 0 where nothing
    limits."""
    caps = {"training_days": lim.get("deadline_days"), "cost_usd": lim.get("budget_usd"),
            "power_mw": lim.get("power_cap_mw"), "gpus": lim.get("max_gpus")}
    n = len(needs["gpus"])
    worst = np.zeros(n)
    for k, cap in caps.items():
        if cap:
            need = np.array([np.nan if v is None else v for v in needs[k]], dtype=float)
            worst = np.maximum(worst, np.where(np.isnan(need), math.inf, need / cap))
    return worst


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
              probed: Plan | None, snap=None, tight=tightness) -> tuple:
    """The largest feasible size on a log axis, to ``width``: (lo, hi, plan at lo, plan just
    above or None when even ``hi`` is feasible). Each probe moves to where the tightest limit's
    need/limit ratio (tightness), a power of the size, reaches 1: by the secant through the
    last two probes, or by ``exponent`` from the last (``probed``, the plan at ``hi`` or
    ``lo``, is the first); probes stay inside the bracket, the last stretch is bisected, so it
    ends as bisection would. ``snap``: each probe put on the grid of sizes ``width`` apart
    that ``lo`` and ``hi`` are on, so the search ends at the grid's largest feasible size,
    whichever way it came. ``tight``: a plan's tightness (the budget's limits bound)."""
    snap = snap or (lambda x: x)
    blocked = probed if probed is not None and not probed.feasible else None
    last: list[tuple[float, float]] = []  # (x, log tightness) of finite probes
    for x0, p0 in ((lo, best), (hi, blocked)):
        t = tight(p0) if p0 is not None else math.inf
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
        y = math.log(max(tight(p), 1e-300))
        if math.isfinite(y):
            last = (last + [(x, y)])[-2:]
    return lo, hi, best, blocked
