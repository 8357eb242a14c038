"""What a plan lists beside its choice (Plan.alternatives): each other accelerator's best option
under the same limits, the next-best layouts on the chosen cluster, the sizes a sizing tried
that trade days for money, and fewer devices than a given cluster when they finish sooner.
Each names how it compares with the choice ('12% sooner, 4% more cost')."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from ..assumptions import Assumptions
from ..model.cost import METHODS
from ..model.search import SearchKey, search
from ..units import SECONDS_PER_DAY
from .choose import Choice, instance_of, side_unfit
from .cluster import purchase_unit
from .layout_inputs import smooth_below
from .limits import choose, solve
from .options import Options, evaluate, shared_memo

__all__ = ["alternatives_of", "trade_sizes", "smaller"]

# A size is listed beside a sized plan's choice when it moves the days or the cost by at least
# this share (less is not a choice a buyer would turn on).
TRADE_MIN_SHARE = 0.05
# The next-best layouts on the chosen cluster: at most NEXT_LAYOUTS, from the fastest
# NEXT_LAYOUTS_SEARCHED, each a choice (_no_choice): a variant of a listed split of the model
# within NEXT_LAYOUT_MIN_SHARE of its speed is not (three layouts differing only in vp at
# 114.8-115.0 days had filled the list).
NEXT_LAYOUTS = 3
NEXT_LAYOUTS_SEARCHED = 32
NEXT_LAYOUT_MIN_SHARE = 0.01


def alternatives_of(w, opts: Options, i: int, asm: Assumptions, choice: Choice) -> list[dict]:
    """Each other accelerator's best option under the same limits and objective, then the
    next-best layouts on the chosen cluster."""
    sd = opts.sides[int(opts.side[i])]
    gpus = int(opts.gpus[i])
    key = SearchKey(w.architecture, w.seq_len, w.global_batch_tokens, sd.hw, gpus,
                    opts.fixed, opts.allow_tp)
    found = _ranked(key, asm)
    goodput = float(opts.cols["goodput"][i])
    # the chosen option's realisation (it depends on the team and the named terms, not on the
    # layout)
    multiplier = float(opts.cols["realisation_multiplier"][i])
    out = []
    r = found.result
    ranked = found.ranked(NEXT_LAYOUTS_SEARCHED)
    listed = ranked[:1]  # the chosen layout
    for j in ranked[1:]:
        if len(out) == NEXT_LAYOUTS:
            break
        if any(_no_choice(found, j, k) for k in listed):
            continue
        listed.append(j)
        days = (w.tokens / float(r["tokens_per_s"][j]) / goodput * multiplier / SECONDS_PER_DAY
                if goodput > 0 else math.inf)
        out.append({"gpus": gpus, "layout": found.layout(j),
                    "step_time_s": float(r["step_time_s"][j]), "training_days": days,
                    "mfu": float(r["mfu"][j]),
                    "memory_gb_per_gpu": float(r["memory_bytes"][j]) / 1e9,
                    "note": "next-best layout on the same cluster" + (
                        # one that misses the deadline the plan meets says so (120.3 days
                        # against 120 had read as a plain trade)
                        f", past the {limit:g}-day deadline" if (limit := choice.limits
                                                                  .deadline_days)
                        and days > limit else "")})
    return _other_accelerators(opts, i, choice) + out


def _no_choice(found, j: int, k: int) -> bool:
    """Whether layout j is no choice beside layout k, already listed: the same split of the
    model (tp, pp, cp, ep, recompute, ZeRO stage) within NEXT_LAYOUT_MIN_SHARE of its time per
    token (another microbatch or virtual-stage count, a trivial variant), or the same time per
    token and memory (dp, cp and microbatches permuted to identical figures on a TPU)."""
    a, b = found.layout(j), found.layout(k)
    r = found.result
    tj, tk = (1.0 / float(r["tokens_per_s"][x]) for x in (j, k))
    close = abs(tj - tk) <= NEXT_LAYOUT_MIN_SHARE * tk
    same_split = all(a[f] == b[f] for f in ("tp", "pp", "cp", "ep", "recompute", "zero"))
    same_figures = abs(tj - tk) <= 1e-3 * tk and abs(
        float(r["memory_bytes"][j]) - float(r["memory_bytes"][k])) <= 0.01 * float(
        r["memory_bytes"][k])
    return (same_split and close) or same_figures


def trade_sizes(opts: Options, i: int, choice: Choice) -> list[dict]:
    """A sized plan's trade between days and money, along the sizes its sizing tried on the
    chosen accelerator: the cheapest that finishes sooner and the soonest, both within every
    limit, and the cheapest within every limit but the deadline (what the deadline costs).
    Each differs from the choice by at least TRADE_MIN_SHARE in days or cost; sizes the
    sizing did not try are not claimed."""
    if choice.summary is None or not choice.feasible:
        return []
    rows = np.flatnonzero(opts.fits & (opts.side == opts.side[i]))
    within = instance_of(opts, rows, choice.limits, choice.objective).meets()
    but_deadline = instance_of(opts, rows, replace(choice.limits, deadline_days=None),
                               choice.objective).meets()
    days = np.asarray(opts.cols["training_days"], dtype=float)
    cost = np.asarray(opts.cols["cost_usd_total"], dtype=float)
    d0, c0 = float(days[i]), float(cost[i])
    sooner = [int(j) for j, ok in zip(rows, within) if ok and days[j] < d0 * (1 - TRADE_MIN_SHARE)]
    picks = []
    if sooner:
        soonest = min(sooner, key=lambda j: (days[j], opts.gpus[j]))
        priced = [j for j in sooner if math.isfinite(cost[j])]
        cheapest = min(priced, key=lambda j: (cost[j], days[j])) if priced else soonest
        picks += [(cheapest, "the cheapest size tried that finishes sooner")]
        if soonest != cheapest:
            picks += [(soonest, "the soonest size tried within the limits")]
    # what the deadline costs: under the cost objective, the cheapest size that keeps the
    # other limits (the time objective asked for the soonest, not for a slower cheaper run)
    if math.isfinite(c0) and choice.objective == "cost" \
            and choice.limits.deadline_days is not None:
        cheaper = [int(j) for j, ok in zip(rows, but_deadline)
                   if ok and math.isfinite(cost[j]) and cost[j] < c0 * (1 - TRADE_MIN_SHARE)]
        if cheaper:
            picks += [(min(cheaper, key=lambda j: (cost[j], days[j])),
                       "the cheapest size tried within the other limits")]
    acc = opts.sides[int(opts.side[i])].acc.key
    out = []
    for j, what in picks:
        deadline = choice.limits.deadline_days
        late = (f", {days[j] - deadline:,.0f} days past the deadline"
                if deadline is not None and days[j] > deadline else "")
        out.append({"accelerator": acc, "gpus": int(opts.gpus[j]),
                    "layout": opts.best.layout(j), "training_days": float(days[j]),
                    "mfu": float(opts.cols["mfu"][j]),
                    "cost_usd_total": float(cost[j]) if math.isfinite(cost[j]) else None,
                    "note": f"{what}{_against(opts, j, i)}{late}"})
    return out


def _change(ratio: float, down: str, up: str, what: str) -> str:
    """A ratio to the chosen plan's figure in words: '20% sooner', '3% more cost', 'the same
    cost' (within half a percent), '2.5x the days'."""
    if ratio >= 2:
        return f"{ratio:.1f}x {what}"
    if abs(ratio - 1) < 0.005:
        return f"the same {what.split()[-1]}"
    return f"{abs(ratio - 1):.0%} {down if ratio < 1 else up}"


def smaller(w, opts: Options, i: int, asm: Assumptions, method: int) -> list[dict]:
    """Fewer devices than the given cluster, when they finish sooner: half of it (a cluster
    spread past what its batch uses: a long pipeline with few microbatches, data parallelism
    of a sequence or two, 8B on 131,072 B200), and the largest part of it with no prime factor
    above 3 (smooth_below; the rest stand by as spares: 100,000 = 2^5 x 5^5 H100 force 25
    pipeline stages on 120 layers, 98,304 of them do not), which the plan of the given size
    alone would not say."""
    gpus = int(opts.gpus[i])
    sd = opts.sides[int(opts.side[i])]
    rest = gpus
    for p in (2, 3):
        while rest % p == 0:
            rest //= p
    smooth = smooth_below(gpus, sd.unit) if rest > 1 else None  # a smooth count is its best
    # and the largest smooth count the same purchase units hold, the rest of them spares: 512
    # of 8 NVL72 racks' 576 GB200 split an 8B model's 1M-token batch 128 ways where 576 can
    # split it 18 ways only (an audit: 9.59M tokens/s against 8.58M, the faster one unsaid)
    bought = purchase_unit(sd.acc, sd.unit_asked)[0]  # sd.unit: a pinned layout's step too

    def units(n: int) -> int:  # the whole purchase units n devices fill
        return -(-n // bought)

    within = smooth_below(gpus)
    within = within if within is not None and units(within) == units(gpus) else None
    sizes = list(dict.fromkeys(g for g in (gpus // 2 if gpus % 2 == 0 else None, smooth,
                                           within)
                               if g and g < gpus))  # the three may share a size
    if not sizes:
        return []
    fewer = evaluate(w, opts.sides, np.full(len(sizes), opts.side[i]), np.array(sizes),
                     dict(opts.fixed), asm, opts.allow_tp, method, METHODS)
    given_days = float(opts.cols["training_days"][i])
    out = []
    for j, g in enumerate(sizes):
        days = float(fewer.cols["training_days"][j])
        if not (fewer.fits[j] and days < given_days):
            continue
        note = ("half the devices finish sooner: this cluster is spread past what its batch "
                "uses" if g == gpus // 2 else
                f"{g:,} of the {gpus:,} devices finish sooner, the other {gpus - g:,} standing "
                f"by as spares: {gpus:,}'s factors leave its layouts little choice"
                if g == smooth else
                f"{g:,} of the {gpus:,} devices finish sooner on the same "
                f"{units(gpus):,} purchase unit{'s' if units(gpus) > 1 else ''}, the other "
                f"{gpus - g:,} standing by as spares: the batch and the model split more "
                f"evenly over {g:,}")
        out.append({"gpus": g, "layout": fewer.best.layout(j), "training_days": days,
                    "mfu": float(fewer.cols["mfu"][j]), "note": note})
    return out


def _ranked(key: SearchKey, asm: Assumptions):
    memo = shared_memo()
    if memo is not None and ("search", key, asm) in memo:
        return memo[("search", key, asm)]
    found = search(key, asm)
    if memo is not None:
        memo[("search", key, asm)] = found
    return found


def _other_accelerators(opts: Options, i: int, choice: Choice) -> list[dict]:
    """Each other accelerator's best option that meets the plan's limits, by its objective;
    for one that meets them at no size, the option the smallest relaxation admits and what it
    needs (an accelerator left out had read as never considered: 'why not B200?' had no
    answer where the deadline kept it out by a day)."""
    if len(opts.sides) < 2:
        return []
    out = []
    c = opts.cols
    for s, sd in enumerate(opts.sides):
        rows = np.flatnonzero(opts.fits & (opts.side == s))
        if s == opts.side[i]:
            continue
        if not rows.size:  # no size tried runs on it: why, where it had been left out unsaid
            if (opts.side == s).any():
                out.append(_never_runs(opts, s, choice))
            continue
        inst = instance_of(opts, rows, choice.limits, choice.objective)
        j, outside = choose(inst), ""
        if j is None:
            sol = solve(inst)  # numpy: the relaxation's option and what it needs
            if sol.index is None:
                continue  # no figures to judge it by (no price under a budget)
            j = sol.index
            outside = f", outside the limits: {sol.relaxations[0].message}"
        j = int(rows[j])
        out.append({"accelerator": sd.acc.key, "gpus": int(opts.gpus[j]),
                    "layout": opts.best.layout(j), "training_days": float(c["training_days"][j]),
                    "cost_usd_total": float(c["cost_usd_total"][j]), "mfu": float(c["mfu"][j]),
                    "note": "another accelerator considered" + _against(opts, j, i) + outside})
    return out


def _never_runs(opts: Options, s: int, choice: Choice) -> dict:
    """The row of an accelerator no plan runs on at any size tried (a given --gpus, or every
    size of a sizing): the size its reason is for (the given one, or the largest a sizing
    tried) and why, as the plan would say it on that accelerator alone (DeepSeek-V3 on 128
    H100: its leanest layout needs 98.1 GB per device, an H100 has 80)."""
    sd = opts.sides[s]
    why = side_unfit(opts, s, sd.asm, choice.limits.max_gpus)
    g = int(opts.gpus[why.index])
    several = len(set(opts.gpus[opts.side == s].tolist())) > 1  # a sizing's, not one given
    return {"accelerator": sd.acc.key, "gpus": g, "layout": None, "training_days": None,
            "cost_usd_total": None, "mfu": None,
            "note": "another accelerator considered: "
                    + ("no size tried runs on it; " if several else "")
                    + f"on {g:,} devices, {why.reason}"}


def _against(opts: Options, j: int, i: int) -> str:
    """How option j's days and cost compare with the chosen option i's: ': 2% sooner, 9% more
    cost' (the cost left out where either is unknown, or the choice's is nothing: a price of
    0 given)."""
    days, cost = opts.cols["training_days"], opts.cols["cost_usd_total"]
    words = [_change(float(days[j] / days[i]), "sooner", "longer", "the days")]
    if math.isfinite(cost[j]) and math.isfinite(cost[i]) and cost[i] > 0:
        words += [_change(float(cost[j] / cost[i]), "less cost", "more cost", "the cost")]
    return ": " + ", ".join(words)
