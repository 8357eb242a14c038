"""One assembly: a plan's figures from the best layouts, for one option or a million rows.

Every plan the library answers, ``estimate`` (the candidate sizes of a sizing, then the one
chosen) and ``estimate_many`` (every row of a table), is assembled by the functions here, all
numpy over arrays:

- ``steady_state``: per scored key (workload on a cluster of a size), the step's figures of
  its best layout: step time, tokens/s, MFU/HFU, memory and time breakdowns, the layout;
- ``run_figures``: per row, the run model (model/run.py) at the row's tokens, devices, prices,
  PUE and ownership: goodput, days, device-hours, MW, MWh, CO2, cost by component, as the run
  is expected to realise (model/realisation.py), with the ideal run's figures beside them;
- ``judge``: per row, whether the plan is feasible, which limit binds and why, in the one
  wording of plan/limits.py, with the account of a missed deadline more devices cannot meet.
"""

from __future__ import annotations

import math

import numpy as np

from ..assumptions import Assumptions
from ..model import run
from ..model.architecture import param_counts
from ..model.cost import cost_per_1e24_flop, cost_per_trillion_tokens
from ..model.layouts import LAYOUT_FIELDS
from ..model.realisation import REALISATION_KEYS
from ..model.reliability import NO_PROGRESS_GOODPUT, RELIABILITY_KEYS
from ..model.search import FITS, NO_FIT, NO_STEP, Best
from ..model.step import MEMORY_KEYS, TIME_KEYS, bottleneck
from ..specs import RECOMPUTE
from ..units import fmt_minutes
from .cluster import purchase_unit
from .fields import CAPEX_KEYS
from .limits import LIMITS, breach_text, broken

# A missed deadline is put down to a cause when that cause takes at least this share of the
# time (planner default: a tenth is where more devices stop paying back).
FRONTIER_SHARE = 0.1
# A size is poor when a smaller one of the same accelerator is faster by more than this: a
# chart's threshold (steps between adjacent sizes of a few tenths of a percent are the
# layouts' granularity, not a cliff), not a figure of the model.
POOR_SIZE_MARGIN = 0.02


# --- per workload and cluster: what the plan ran -----------------------------------------------

def workload_figures(w) -> dict:
    """The workload fields of a plan (plan/fields.WORKLOAD), as the plan ran it."""
    a = w.architecture
    total, active = param_counts(a)
    return {"params": total, "active_params": active,
            "tokens": w.tokens, "layers": a.layers, "hidden": a.hidden, "heads": a.heads,
            "kv_heads": a.kv_heads, "ffn": a.ffn, "vocab": a.vocab, "seq_len": w.seq_len,
            "global_batch_tokens": float(w.global_batch_tokens),  # float, as documented
            "precision": w.precision,
            "experts": a.experts, "top_k": a.top_k, "ffn_type": a.ffn_type, "name": w.name,
            "expert_ffn": a.expert_ffn, "shared_experts": a.shared_experts,
            "dense_layers": a.dense_layers, "head_dim": int(a.head_dim),
            "kv_lora_rank": a.kv_lora_rank, "q_lora_rank": a.q_lora_rank,
            "rope_head_dim": a.rope_head_dim, "v_head_dim": int(a.v_dim) if a.kv_lora_rank else 0,
            "window": a.window, "window_layers": a.window_layers,
            "expert_groups": a.expert_groups, "group_top_k": a.group_top_k}


def cluster_figures(acc, gpus: int, scale_out, site, unit: tuple[int, str] | None = None) -> dict:
    """The cluster fields of a plan (plan/fields.CLUSTER): ``unit`` is (devices, name) of what
    it is bought in (cluster.purchase_unit; the system's own when None), ``units`` how many
    the run's devices fill and ``spare_devices`` what they hold beyond them (a job of 64 on a
    72-GPU NVL72 rack leaves 8); racks are null when the catalog does not say how many
    devices a rack holds."""
    unit_devices, unit_name = unit or purchase_unit(acc)
    racks = -(-gpus // acc.devices_per_rack) if acc.devices_per_rack else None
    units = -(-gpus // unit_devices)
    return {"accelerator": acc.key, "gpus": gpus, "nodes": -(-gpus // acc.devices_per_node),
            "racks": racks, "unit": unit_name, "unit_devices": unit_devices, "units": units,
            "spare_devices": units * unit_devices - gpus,
            "scale_up_domain": acc.scale_up_domain,
            "network": scale_out.key if scale_out else None,
            "site": site.key if site else None}


# --- per key: the steady state of the best layout ---------------------------------------------

def steady_state(best: Best, peak_flops, hbm_bytes) -> dict:
    """The step's figures of each key's best layout (NaN where none fits), by plan field;
    ``hbm_bytes`` per key gives the memory a device has left at the layout's peak."""
    f = best.figure
    out = {"step_time_s": f("step_time_s"), "tokens_per_s": f("tokens_per_s"),
           "tflops_per_gpu": f("mfu") * np.asarray(peak_flops, dtype=float) / 1e12,
           "mfu": f("mfu"), "hfu": f("hfu"), "memory_gb_per_gpu": f("memory_bytes") / 1e9,
           "memory_free_gb_per_gpu": (np.asarray(hbm_bytes, dtype=float)
                                      - f("memory_bytes")) / 1e9,
           "batch_seqs": f("batch_seqs"),
           "model_flops_per_token": f("model_flops_per_token"),
           "hardware_flops_per_token": f("hardware_flops_per_token")}
    out.update({f"memory_breakdown_gb_{k}": f(f"memory_{k}") / 1e9 for k in MEMORY_KEYS})
    out.update({f"time_breakdown_s_{k}": f(f"time_{k}") for k in TIME_KEYS})
    out["bottleneck"] = bottleneck({k: f(f"time_{k}") for k in TIME_KEYS})
    for j, name in enumerate(LAYOUT_FIELDS):
        out[f"layout_{name}"] = best.layouts[:, j]
    return out


def layout_of(best: Best, i: int) -> dict | None:
    """The best layout of key i as the contract's dict (None when none fits)."""
    return best.layout(i) if best.state[i] == FITS else None


RECOMPUTE_NAMES = RECOMPUTE


# --- per row: the run ----------------------------------------------------------------------

def run_figures(devices, tokens, tokens_per_s, model_flops_per_token, hardware_flops_per_token,
                inputs: dict, asm: Assumptions, method, methods: tuple[str, ...]) -> dict:
    """The run model per row: ``method`` indexes ``methods`` (the cost methods of
    model.run.outcome, in its order), the row's own; the other method's components are NaN
    there, its total is kept as ``cost_usd_by_method_<m>``."""
    compute_s = np.asarray(tokens, dtype=float) / tokens_per_s
    out = run.outcome(devices, compute_s, asm=asm, **inputs)
    rel = out["reliability"]
    cols = {"goodput": rel["goodput"], "training_days": out["training_days"],
            "gpu_hours": out["gpu_hours"], "power_mw": out["facility_peak_w"] / 1e6,
            "power_peak_mw": out["facility_peak_w"] / 1e6,
            "power_average_mw": out["facility_w"] / 1e6,
            "energy_mwh": out["energy_mwh"], "co2_t": out["co2_t"],
            "wall_s": out["wall_s"]}
    cols.update({f"reliability_{k}": rel[k] for k in RELIABILITY_KEYS})
    cols.update({f"realisation_{k}": out["realisation"][k] for k in REALISATION_KEYS})
    ideal = out["ideal"]
    cols.update({f"ideal_{k}": ideal[k] for k in ("training_days", "gpu_hours", "energy_mwh",
                                                     "co2_t")})
    method = np.asarray(method)
    total = ideal_total = None
    for j, m in enumerate(methods):
        parts = out["cost"][m]
        cols[f"cost_usd_by_method_{m}"] = parts["total"]
        mine = method == j
        for name, v in parts.items():
            if name != "total":
                cols[f"cost_usd_{name}"] = np.where(mine, v, np.nan)
        total = np.where(mine, parts["total"], np.nan if total is None else total)
        ideal_total = np.where(mine, ideal["cost"][m]["total"],
                               np.nan if ideal_total is None else ideal_total)
    cols["cost_usd_total"] = total
    cols["ideal_cost_usd"] = ideal_total
    cols["cost_usd_per_trillion_tokens"] = cost_per_trillion_tokens(total, tokens)
    model_flops = np.asarray(model_flops_per_token) * tokens
    cols["cost_usd_per_1e24_flop"] = cost_per_1e24_flop(total, model_flops)
    cols["model_flops"] = model_flops
    cols["hardware_flops"] = np.asarray(hardware_flops_per_token) * tokens
    for k in CAPEX_KEYS:  # buying the cluster and building its facility, up front
        cols[f"capex_usd_{k}"] = out["capex"][k]
    cols["assumptions_price_per_gpu_hour_value"] = inputs["cloud_usd_per_hour"]
    cols["assumptions_pue_value"] = inputs["pue"]
    cols["assumptions_peak_pue_value"] = inputs["peak_pue"]
    cols["assumptions_energy_usd_per_kwh_value"] = inputs["energy_usd_per_kwh"]
    return cols


# --- per row: feasible, binding, reason -------------------------------------------------------

def no_fit_reason(state: int, lean_bytes: float, acc_key: str, hbm_bytes: float,
                  has_scale_out: bool) -> tuple[str, str]:
    """(binding, reason) of a key no layout fits: memory, or a bandwidth the catalog lacks."""
    if state == NO_STEP:
        link = "scale-out" if not has_scale_out else "network"
        return "unknown", (f"layouts fit in memory but their step time needs the {link} "
                           f"bandwidth of {acc_key}, which the catalog does not have (unknown "
                           "stays unknown: add a sourced figure with --catalog)")
    if state == NO_FIT and np.isfinite(lean_bytes):
        return "memory", (f"no layout fits in memory: the leanest needs "
                          f"{lean_bytes / 1e9:,.1f} GB per device, {acc_key} has "
                          f"{hbm_bytes / 1e9:,.4g} GB")  # a file's 0.001 GB reads 0.001
    if not has_scale_out:  # the file names no scale-out bandwidth: one domain is the reach
        return "unknown", (f"no layout fits inside one scale-up domain of {acc_key}, and the "
                           f"catalog has no scale-out bandwidth for {acc_key} to span more "
                           "(scale_out_gb_per_s in its file, or a network that names one: "
                           "unknown stays unknown; add a sourced figure with --catalog)")
    return "memory", "no valid layout for this cluster"


def no_fit_reasons(each: list) -> str:
    """Why no plan runs on any of several accelerators, each named: ``each`` holds (accelerator,
    devices, binding, reason, leanest layout's bytes) per accelerator, the devices those of
    its reason (the size given, or the largest a sizing tried). Where memory binds them all,
    one sentence gives each one's need beside its HBM; else each one's own reason."""
    sizes = {g for _, g, _, _, _ in each}
    if all(b == "memory" and np.isfinite(lean) for _, _, b, _, lean in each):
        needs = [f"{lean / 1e9:,.1f} GB{' per device' if not k else ''} on "
                 f"{'' if len(sizes) == 1 else f'{g:,} x '}{acc.key} "
                 f"({acc.hbm_bytes / 1e9:,.4g} GB{' HBM' if not k else ''})"
                 for k, (acc, g, _, _, lean) in enumerate(each)]
        at = f" on {next(iter(sizes)):,} devices" if len(sizes) == 1 else ""
        return (f"no layout fits in memory{at} of any accelerator asked: the leanest needs "
                + ", ".join(needs))
    return "no plan runs on any accelerator asked: " + "; ".join(
        f"on {g:,} x {acc.key}, {reason}" for acc, g, _, reason, _ in each)


def reliability_reason(gpus: int, mtbf_s: float, asm: Assumptions,
                       checkpoint_interval_s: float = 0.0) -> str:
    """Why a run never ends (goodput below reliability.NO_PROGRESS_GOODPUT): failures outpace
    the restart and the work redone; the work redone grows with the checkpoint interval,
    which the checkpoint's write to the site's storage bounds (a slow store: a checkpoint
    every 13 days against a failure every 3.7)."""
    floor = f"goodput below {NO_PROGRESS_GOODPUT:.0%}"
    if checkpoint_interval_s >= mtbf_s:
        # the interval is the write's own where an asynchronous upload bounds it, else Daly's
        # M where a blocking write is 2M or more: either way as often as the write allows (it
        # had been called the write's time, 185.6 minutes for a write of 94,500)
        return (f"at {gpus:,} devices the cluster fails every {fmt_minutes(mtbf_s)} on "
                f"average, but checkpoints only every {fmt_minutes(checkpoint_interval_s)}, "
                "as often as its write to the site's storage allows: each failure redoes "
                f"more work than the run makes between failures (no progress: {floor}); "
                "faster storage (the site's storage_write_gb_per_s), fewer devices or a lower "
                "failure rate")
    return (f"at {gpus:,} devices the cluster fails every {fmt_minutes(mtbf_s)} on "
            f"average, within the {asm.restart_s / 60:,.0f}-minute restart plus the work redone: "
            f"no progress ({floor}); fewer devices, faster restarts or a lower failure rate")


# What a given size that misses its deadline is told to do (estimate's flags; planner budget,
# whose --gpus is the fleet on hand, leaves it out).
SIZE_ADVICE = " (leave out --gpus, or any layout parts that fix the size, to size the cluster)"
# A given size past the deadline: the devices it would take at its throughput per device.
DEVICES_NEEDED = ": at this size's throughput per device it needs at least "


def judge(rows: dict, limits: dict, acc_keys, given_binding, asm: Assumptions,
          texts: bool = True) -> tuple:
    """(feasible, binding, reason) per row of assembled figures ``rows`` (training_days,
    power_mw, cost_usd_total, cluster_gpus, wall_s, the reliability and breakdown columns)
    under per-row ``limits`` (deadline_days, power_cap_mw, budget_usd, max_gpus, inventory:
    arrays, NaN where absent). Rows that meet every limit keep ``given_binding``: what fixed
    their size ("gpus", "deadline", or the solver's limit). Only rows that fit a layout are
    judged here (no_fit_reason words the others). ``texts`` false: binding only, no reason
    (the options of a sizing, before one is chosen)."""
    gpus = np.asarray(rows["cluster_gpus"], dtype=float)
    needs = {"deadline": rows["training_days"], "power": rows["power_mw"],
             "budget": rows["cost_usd_total"], "max_gpus": gpus, "inventory": gpus}
    n = len(gpus)
    feasible = np.ones(n, bool)
    binding = np.array([given_binding] * n if np.ndim(given_binding) == 0 else given_binding,
                       dtype=object)
    reason = np.full(n, None, dtype=object)
    stuck = ~np.isfinite(np.asarray(rows["wall_s"], dtype=float))
    for i in np.flatnonzero(stuck):
        feasible[i], binding[i] = False, "reliability"
        if texts:
            reason[i] = reliability_reason(
                int(gpus[i]), float(rows["reliability_mtbf_s"][i]), asm,
                float(rows.get("reliability_checkpoint_interval_s", np.zeros(n))[i]))
    over = {k: broken(needs[k], limits[k]) & ~stuck for k in LIMITS if k in limits}
    any_over = np.zeros(n, bool)
    for k in over:
        any_over |= over[k]
    for i in np.flatnonzero(any_over):
        hit = [k for k in LIMITS if k in over and over[k][i]]
        feasible[i], binding[i] = False, hit[0]
        if not texts:
            continue
        reason[i] = "; ".join(breach_text(k, float(needs[k][i]), float(limits[k][i]),
                                          str(acc_keys[i]), int(gpus[i])) for k in hit)
        if hit == ["deadline"] and given_binding == "gpus":
            # a given size misses the deadline: the deadline binds, and the devices it would
            # take at this size's throughput per device are the figure that shows by how much
            # (more devices only lose efficiency: a lower bound). Whether more devices could
            # help at all is a sizing's question (frontier, at its fastest option).
            need = math.ceil(gpus[i] * float(needs["deadline"][i]) / float(limits["deadline"][i]))
            reason[i] = f"{reason[i]}{DEVICES_NEEDED}{need:,} devices{SIZE_ADVICE}"
    return feasible, binding, reason


def frontier(rows: dict, i: int, larger: int | None = None) -> tuple[str, str] | None:
    """Why a missed deadline is not a shortage of devices, when more devices would not help:
    failures, the batch (too few microbatches per pipeline: the critical batch size bounds data
    parallelism, McCandlish et al. 2018) or communication (Epoch AI 2024, 'Data movement
    limits to frontier model training'); None when no cause takes FRONTIER_SHARE of the time.
    ``larger``: the next larger size tried of the same accelerator, where one runs; the cause
    whose share grows most up to it is what stops more devices from helping (an auditor found
    failures named, the largest loss at 129,024 GB200, where the bubble grew from 10% to 47%
    of the step at the next size and failures by a point)."""
    losses = _losses(rows, i)
    binding, (share, why, _) = max(losses.items(), key=lambda kv: kv[1][0])
    if larger is not None:
        after = _losses(rows, larger)
        grows = max(losses, key=lambda k: after[k][0] - losses[k][0])
        if grows != binding and after[grows][0] - losses[grows][0] > \
                after[binding][0] - losses[binding][0] and after[grows][0] >= FRONTIER_SHARE:
            binding, share = grows, after[grows][0]
            why = (f"at {int(rows['cluster_gpus'][larger]):,} devices, the next size tried, "
                   + after[grows][1])
    if share < FRONTIER_SHARE:
        return None
    # the other causes that take FRONTIER_SHARE too: a run bound by failures at a size its
    # batch already stretches gains little from more devices on both counts, and the batch
    # is the lever a planner holds
    also = [(name, short, shrinks) for name, (other, _, (short, shrinks))
            in sorted(losses.items(), key=lambda kv: -kv[1][0])
            if name != binding and other >= FRONTIER_SHARE]
    if not also:
        return binding, why
    why += "; also " + " and ".join(short for _, short, _ in also)
    shrunk = [BATCH_SHRINKS[name] for name, _, shrinks in also if shrinks]
    if shrunk and "--global-batch" not in why:
        # what the batch shrinks, named ("both" had been said of one cause beside failures)
        seqs = (float(rows["workload_global_batch_tokens"][i])
                / float(rows["workload_seq_len"][i]))
        why += (f": a global batch larger than {seqs:,.0f} sequences shrinks "
                + " and ".join(shrunk)
                + " (--assume global_batch_tokens=N, or estimate's --global-batch)")
    return binding, why


# What a larger global batch shrinks of each loss that it shrinks (_losses).
BATCH_SHRINKS = {"critical_batch": "the bubble", "network": "the gradients' reduction per token"}


def size_notes(rows: dict, acc_keys) -> tuple[np.ndarray, list]:
    """Per option of a sizing: whether it is a poor size (a smaller cluster of the same
    accelerator finishes sooner, so a planner with these devices would leave some idle or buy
    fewer: the envelope of the sizing chart is the fastest at or below each size), and why
    (its largest loss: pipeline bubble, communication or failures, as ``frontier`` words it)."""
    gpus = np.asarray(rows["cluster_gpus"], dtype=float)
    days = np.asarray(rows["training_days"], dtype=float)
    keys = np.asarray(acc_keys, dtype=object)
    poor = np.zeros(len(gpus), bool)
    notes: list = [None] * len(gpus)
    for acc in dict.fromkeys(keys.tolist()):
        mine = np.flatnonzero(keys == acc)
        mine = mine[np.argsort(gpus[mine], kind="stable")]
        best = np.minimum.accumulate(np.where(np.isfinite(days[mine]), days[mine], np.inf))
        # poor: slower than the fastest smaller size by more than POOR_SIZE_MARGIN
        ahead = np.concatenate([[np.inf], best[:-1]])
        for j in mine[days[mine] > ahead * (1.0 + POOR_SIZE_MARGIN)]:
            poor[j] = True
            notes[j] = _poor_text(rows, int(j))
    return poor, notes


def _poor_text(rows: dict, i: int) -> str:
    """'43,160 = 2^3 x 5 x 13 x 83: pipeline bubble 64% of the step (415 pipelines of 13
    stages, 5 microbatches each, not interleaved)': the largest loss of a poor size, with the
    factors its layouts are made of."""
    lay = {k: int(rows[f"layout_{k}"][i]) for k in ("tp", "pp", "dp", "cp", "microbatch",
                                                    "virtual_stages")}
    losses = _losses(rows, i)
    name = max(losses, key=lambda k: losses[k][0])
    share = losses[name][0]
    gpus = int(rows["cluster_gpus"][i])
    if name == "critical_batch":
        seqs = float(rows["workload_global_batch_tokens"][i]) / float(rows["workload_seq_len"][i])
        m = seqs / (lay["dp"] * lay["microbatch"])
        vp = lay["virtual_stages"]
        why = (f"pipeline bubble {share:.0%} of the step ({lay['dp']:,} pipelines of "
               f"{lay['pp']} stages, {m:,.0f} microbatches each, "
               + ("not interleaved)" if vp == 1 else f"{vp} virtual stages)"))
    elif name == "network":
        why = (f"communication {share:.0%} of the step (tp={lay['tp']} pp={lay['pp']} "
               f"dp={lay['dp']:,} cp={lay['cp']})")
    else:
        why = f"failures cost {share:.0%} of wall time"
    return f"{gpus:,} = {_factors(gpus)}: {why}"


def _factors(n: int) -> str:
    """'2^3 x 5 x 13 x 83': the prime factors a cluster's layouts are made of."""
    parts, p = [], 2
    while p * p <= n:
        k = 0
        while n % p == 0:
            n, k = n // p, k + 1
        if k:
            parts.append(f"{p}^{k}" if k > 1 else str(p))
        p += 1
    if n > 1:
        parts.append(str(n))
    return " x ".join(parts) or "1"


def _losses(rows: dict, i: int) -> dict:
    """(share of the step or wall time, words, (the words as a second cause, whether a larger
    global batch shrinks it)) of what a run loses to failures, the pipeline bubble and
    communication (frontier, size_notes)."""
    step = float(rows["step_time_s"][i])
    comm = sum(float(rows[f"time_breakdown_s_{k}"][i]) for k in TIME_KEYS
               if k.endswith("_comm"))
    bubble = float(rows["time_breakdown_s_pp_bubble"][i])
    goodput = float(rows["goodput"][i])
    gpus = int(rows["cluster_gpus"][i])
    seqs = float(rows["workload_global_batch_tokens"][i]) / float(rows["workload_seq_len"][i])
    dp, mb = int(rows["layout_dp"][i]), int(rows["layout_microbatch"][i])
    m = seqs / (dp * mb)
    batches = "microbatch" if f"{m:,.0f}" == "1" else "microbatches"
    mtbf_min = float(rows["reliability_mtbf_s"][i]) / 60
    gradients = float(rows["time_breakdown_s_dp_comm"][i]) > comm / 2
    losses = {
        "reliability": (1.0 - goodput,
                        f"failures cost {1 - goodput:.0%} of wall time at {gpus:,} devices (a "
                        f"failure every {mtbf_min:,.0f} minutes); larger clusters lose more to "
                        "failures than they gain",
                        (f"failures cost {1 - goodput:.0%} of wall time", False)),
        "critical_batch": (bubble / step,
                           f"the global batch of {seqs:,.0f} sequences leaves each of {dp:,} "
                           f"pipelines {m:,.0f} {batches}, so the pipeline bubble takes "
                           f"{bubble / step:.0%} of the step; more devices do not help without "
                           "a larger global batch (--assume global_batch_tokens=N, or "
                           "estimate's --global-batch: how large a batch still trains as well is "
                           "the critical batch size, McCandlish et al. 2018, which the planner "
                           "does not model)",
                           (f"the pipeline bubble takes {bubble / step:.0%} of the step "
                            f"({m:,.0f} {batches} per pipeline)", True)),
        "network": (comm / step, f"communication takes {comm / step:.0%} of the step: the run "
                                 "is bound by data movement, not device count"
                    + (f" (mostly the gradients' reduction, once a step: a global batch larger "
                       f"than {seqs:,.0f} sequences moves less per token: --assume "
                       "global_batch_tokens=N, or estimate's --global-batch; how large still "
                       "trains as well is the "
                       "critical batch size, which the planner does not model)"
                       if gradients else ""),
                    (f"communication takes {comm / step:.0%} of the step"
                     + (" (mostly the gradients' reduction)" if gradients else ""), gradients)),
    }
    return losses
