"""The Plan of the option a sizing chose: its figures read off the options' columns, the
assumptions it reports, its alternatives."""

from __future__ import annotations

import math
from dataclasses import replace
from functools import lru_cache

from ..frameworks import override_source
from ..model.cost import METHODS
from ..model.search import FITS
from .alternatives import alternatives_of, smaller, trade_sizes
from .assemble import cluster_figures, workload_figures
from .choose import Choice
from .cluster import purchase_unit, units_of
from .fields import CAPEX_KEYS, IDEAL_KEYS
from .options import Options, Side
from .quantities import Limits
from .result import Plan, clean_json, empty_plan

# Assumptions every plan reports (beyond those it fell back on, which it reports as used).
REPORTED = ("gemm_efficiency", "attention_efficiency", "hbm_efficiency", "tp_comm_overlap",
            "dp_comm_overlap", "failure_rate_per_device_hour", "restart_s", "checkpoint_async",
            "checkpoint_stall_s", "power_utilisation", "energy_usd_per_kwh",
            "depreciation_years", "cost_of_capital", "framework_reserved_gb",
            "memory_headroom_fraction", "realisation", "evaluation_fraction",
            "batch_ramp_fraction", "rollback_fraction",
            # what moves the memory, the checkpoint and the power beside the above (an
            # auditor found network_power_fraction moving every MW and not listed)
            "weight_bytes", "grad_bytes", "optimizer_bytes", "checkpoint_bytes_per_param",
            "network_power_fraction",
            # and what moves the owned cost and the capital beside depreciation and the cost
            # of capital (an auditor: maintenance_fraction moved it, listed only when given)
            "maintenance_fraction", "network_capex_fraction", "facility_years")
# and those of a mixture of experts: the all-to-all's overlap and dispatch, the SMs it holds
# (the megatron-core profile's ep_comm_overlap of 1 had moved a MoE plan's days by 17%
# unlisted, while `planner config show` gave the built-in 0: an auditor)
REPORTED_MOE = ("ep_comm_overlap", "ep_hierarchical_dispatch", "comm_sm_fraction")
# What a plan with a step reports it was timed by.
STEP_MODEL = {"value": "parallelism-aware step model (planner/model/step.py)",
              "source": "docs/validation.md"}


def plan_of(w, opts: Options, choice: Choice, limits: Limits,
          with_alternatives: bool = True, given: bool = False) -> Plan:
    """The Plan of the chosen option, with its alternatives (for a cluster of a given size,
    also half of it when that finishes sooner)."""
    i = choice.index
    sd: Side = opts.sides[int(opts.side[i])]
    asm = sd.asm  # the chosen accelerator's assumptions, its stack's
    c = opts.cols
    gpus = int(opts.gpus[i])
    workload = workload_figures(w)
    unit = purchase_unit(sd.acc, sd.unit_asked)
    cluster = cluster_figures(sd.acc, gpus, sd.out, sd.site, unit)
    if not choice.feasible and choice.binding in ("max_gpus", "inventory") \
            and unit[0] > 1 and gpus == unit[0]:
        # the unit, not the model, sets the need (7B on GB200 under --max-gpus 50 had read
        # "needs 72 devices")
        # the units smaller than this one (--unit node had been offered for a node of 8,
        # and a rack of 72 left out beside a scalable unit of 576)
        finer = [f"--unit {u}" for u, n in units_of(sd.acc) if n < unit[0]]
        choice = replace(choice, reason=(
            f"{choice.reason} (the smallest cluster is one purchase unit, a {unit[1]} of "
            f"{unit[0]:,} devices: {' or '.join(finer)} buys in smaller steps)"))
    used = reported_used(sd, w)
    if choice.label:
        used["sizing"] = {"value": choice.label, "source": choice.summary["source"]
                          if choice.summary else "plan/options.py"}
    # an unknown figure is None in the typed plan as in its JSON (an auditor: a price the
    # catalog lacks had been nan in plan.assumptions and null in to_dict())
    used = clean_json(used)
    if opts.best.state[i] != FITS:
        plan = empty_plan(workload, cluster, used, choice.binding, choice.reason)
        return replace(plan, sizing=public_sizing(choice.summary))
    batch_tokens = float(c["batch_seqs"][i]) * w.seq_len
    if batch_tokens != w.global_batch_tokens:
        # the batch as given named too where it was first rounded to whole sequences
        rounded = (sd.used.get("global_batch_tokens") or {}).get("source", "")
        as_given = f" ({rounded})" if rounded.startswith("rounded") else ""
        used["global_batch_tokens"] = {
            "value": batch_tokens, "source": f"adjusted from {w.global_batch_tokens:,.0f}"
            f"{as_given} so dp x microbatch divides it "
            f"({asm.source('batch_tolerance')[:60]}...)"}
        workload["global_batch_tokens"] = batch_tokens
    used["step_model"] = dict(STEP_MODEL)
    method = limits.ownership
    named = _by_prefix(tuple(c))

    def part(prefix: str) -> dict:
        return {short: float(c[k][i]) for k, short in named[prefix]}

    cost = {short: float(c[k][i]) for k, short in named["cost_usd_"]
            if math.isfinite(c[k][i])}
    for key in ("total", "per_trillion_tokens", "per_1e24_flop"):
        cost.setdefault(key, None)  # unknown (a price or a site's capex missing, no end): null
    cost["by_method"] = {m: float(c[f"cost_usd_by_method_{m}"][i]) for m in METHODS}
    rel, real = part("reliability_"), part("realisation_")
    alternatives = alternatives_of(w, opts, i, asm, choice) if with_alternatives else []
    if with_alternatives and given:
        alternatives += smaller(w, opts, i, asm, METHODS.index(method))
    elif with_alternatives:
        alternatives += trade_sizes(opts, i, choice)
    return Plan(
        feasible=choice.feasible, reason=choice.reason, binding=choice.binding,
        workload=workload, cluster=cluster, layout=opts.best.layout(i),
        model_flops=float(c["model_flops"][i]), hardware_flops=float(c["hardware_flops"][i]),
        step_time_s=float(c["step_time_s"][i]), tokens_per_s=float(c["tokens_per_s"][i]),
        tflops_per_gpu=float(c["tflops_per_gpu"][i]), mfu=float(c["mfu"][i]),
        hfu=float(c["hfu"][i]), memory_gb_per_gpu=float(c["memory_gb_per_gpu"][i]),
        memory_free_gb_per_gpu=float(c["memory_free_gb_per_gpu"][i]),
        memory_breakdown_gb=part("memory_breakdown_gb_"),
        time_breakdown_s=part("time_breakdown_s_"),
        bottleneck=str(c["bottleneck"][i]), goodput=float(c["goodput"][i]),
        training_days=float(c["training_days"][i]), gpu_hours=float(c["gpu_hours"][i]),
        power_mw=float(c["power_mw"][i]), power_peak_mw=float(c["power_peak_mw"][i]),
        power_average_mw=float(c["power_average_mw"][i]), energy_mwh=float(c["energy_mwh"][i]),
        co2_t=float(c["co2_t"][i]), cost_usd=cost, cost_method=method, assumptions=used,
        reliability=rel, alternatives=alternatives, sizing=public_sizing(choice.summary),
        **{f"ideal_{k}": float(c[f"ideal_{k}"][i]) for k in IDEAL_KEYS}, realisation=real,
        capex_usd={k: float(c[f"capex_usd_{k}"][i]) for k in CAPEX_KEYS})


# The prefixes of the options' columns a plan reads as one dict each (cost_usd_ less its
# by_method_ columns, read apart).
PREFIXES = ("cost_usd_", "reliability_", "realisation_", "memory_breakdown_gb_",
            "time_breakdown_s_")


@lru_cache(maxsize=16)
def _by_prefix(names: tuple) -> dict:
    """prefix -> [(column, its name in the plan's dict)] of the options' columns ``names``,
    in their order (once per set of columns, not once a plan)."""
    return {p: [(k, k[len(p):]) for k in names if k.startswith(p) and not (
        p == "cost_usd_" and k.startswith("cost_usd_by_method_"))] for p in PREFIXES}


def reported_used(sd: Side, w) -> dict:
    """The assumptions table of a plan on side ``sd`` before its choice adds its own (the
    sizing, a batch its layout moved, the step model): the assumptions every plan reports
    (REPORTED; REPORTED_MOE for a mixture of experts) and what the side used (site figures,
    given inputs), which wins over a default of the same name. estimate_many's columnar rows
    read it too (many/chunk_answers.py), so their assumptions are estimate's."""
    asm = sd.asm  # the side's accelerator's assumptions, its stack's
    stack = (sd.used.get("framework") or {}).get("value")
    return {**{k: {"value": v["value"], "source": (
        "given (assumptions)" if k in asm.given else override_source(stack, k, v["source"]))}
               for k, v in asm.describe().items()
               if k in REPORTED or (k in REPORTED_MOE and w.architecture.experts)}, **sd.used}


def public_sizing(summary: dict | None) -> dict | None:
    """The sizing summary a plan reports: without its solver source, with the accelerators it
    weighed."""
    if summary is None:
        return None
    out = {k: v for k, v in summary.items() if k != "source"}
    out["accelerators"] = list(dict.fromkeys(summary["options"]["accelerator"]))
    return out
