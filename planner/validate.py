"""Backtest: every reference run in workloads/ predicted at its published hardware, device
count, layout, batch and sequence, against what was published, beside the naive baseline.

Throughput rows compare per-device TFLOP/s in the source's own FLOP convention (Megatron-LM
2021 counts recomputation, PaLM counts all parameters and non-causal attention, ...): the
planner's tokens/s times the source's FLOPs per token. Whole runs compare device-hours with
goodput (failures, checkpoints, restarts). The baseline is a spreadsheet: 6ND at one constant
MFU (BASELINE_MFU) for both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from tabulate import tabulate

from .catalog import Catalog
from .errors import LayoutError
from .model.architecture import active_params, total_params
from .model.flops import flops_per_token
from .plan.estimate import estimate
from .units import InputError

BASELINE_MFU = 0.40  # the spreadsheet's constant utilisation: 6ND at 40% MFU
# A reference that names no stack ran Megatron-LM as the 2021-22 papers did (the runs of
# workloads/*.toml were recorded that way): not today's default, the best stack per vendor.
LEGACY_FRAMEWORK = "megatron"
THROUGHPUT_MAPE_LIMIT = 6.0  # percent; a test fails above it
THROUGHPUT_ROW_LIMIT = 15.0
WHOLE_RUN_MAPE_LIMIT = 12.0
WHOLE_RUN_ROW_LIMIT = 30.0


@dataclass(frozen=True)
class Row:
    workload: str
    row_id: str
    kind: str
    group: str
    published: float
    predicted: float | None
    baseline: float
    note: str = ""
    unscored: str | None = None  # why the row is shown but left out of the MAPE

    @property
    def error_pct(self) -> float | None:
        if self.predicted is None:
            return None
        return 100.0 * (self.predicted - self.published) / self.published

    @property
    def baseline_error_pct(self) -> float:
        return 100.0 * (self.baseline - self.published) / self.published


def _precision(ref_precision: str | None, default: str) -> str:
    p = (ref_precision or default).lower()
    for key in ("fp8", "fp4", "fp16", "bf16"):
        if key in p:
            return key
    return default


def reference_rows(cat: Catalog, kinds=("throughput", "whole_run")) -> list[tuple]:
    """(workload, reference) for every reference that names hardware the catalog has."""
    out = []
    accelerators = set(cat.keys("accelerators"))
    for w in cat.all("workloads"):
        for ref in w.references:
            if ref.kind in kinds:
                out.append((w, ref, ref.accelerator in accelerators and bool(ref.gpus)))
    return out


def predict(cat: Catalog, w, ref) -> tuple[float | None, str]:
    """The planner's figure for one reference, in the reference's units and convention.
    A whole run given in stages sums the device-hours of its stages."""
    if ref.stages:
        total, notes = 0.0, []
        for st in ref.stages:
            part = replace(ref, stages=(), tokens=st["tokens"],
                           gpus=st.get("gpus", ref.gpus), seq_len=st.get("seq_len", ref.seq_len),
                           global_batch_tokens=st.get("global_batch_tokens",
                                                      ref.global_batch_tokens),
                           layout=st.get("layout", ref.layout))
            hours, note = predict(cat, w, part)
            if hours is None:
                return None, f"stage {st.get('name', '?')}: {note}"
            total += hours
            notes.append(f"{st.get('name', '?')} {hours / 1e6:,.2f}M")
        return total, "stages: " + ", ".join(notes)
    precision = _precision(ref.precision, w.precision)
    era = {k: getattr(ref, k) for k in ("flash_attention", "dropout")
           if getattr(ref, k) is not None}
    era.update(ref.assumptions or {})
    if ref.kind == "throughput":
        era["batch_tolerance"] = 0.0  # benchmarks ran their published batch exactly
    kwargs = dict(workload=w.key, gpu=ref.accelerator, gpus=ref.gpus, layout=ref.layout,
                  precision=precision, catalog=cat, assumptions=era,
                  framework=ref.framework or LEGACY_FRAMEWORK,
                  network=ref.network)
    if ref.seq_len:
        kwargs["seq_len"] = ref.seq_len
    if ref.global_batch_tokens:
        kwargs["global_batch"] = ref.global_batch_tokens
    if ref.tokens:
        kwargs["tokens"] = ref.tokens
    elif not w.tokens:
        kwargs["tokens"] = 1e12
    try:
        plan = estimate(**kwargs)
    except (InputError, LayoutError) as exc:
        return None, f"cannot lay out: {exc}"
    if not plan.feasible or plan.tokens_per_s is None:
        return None, plan.reason or "infeasible"
    if ref.kind == "whole_run":
        return plan.gpu_hours, _short_layout(plan.layout)
    seq = ref.seq_len or w.seq_len
    params = w.published_params or float(total_params(w.architecture))
    conv = ref.flop_convention or "causal"
    per_token = float(flops_per_token(w.architecture, seq, conv, params,
                                      plan.layout["recompute"]))
    return plan.tokens_per_s * per_token / ref.gpus / 1e12, _short_layout(plan.layout)


def _short_layout(lay: dict) -> str:
    return (f"tp{lay['tp']} pp{lay['pp']} dp{lay['dp']} cp{lay['cp']} mb{lay['microbatch']} "
            f"vp{lay['virtual_stages']} {lay['recompute']} z{lay['zero']}")


def published(cat: Catalog, w, ref) -> float | None:
    if ref.kind == "whole_run":
        return ref.gpu_hours
    if ref.tflops_per_gpu:
        return ref.tflops_per_gpu
    if ref.mfu_pct:
        acc = cat.accelerator(ref.accelerator)
        return ref.mfu_pct / 100 * acc.peak(_precision(ref.precision, w.precision)) / 1e12
    return None


def baseline(cat: Catalog, w, ref) -> float:
    """6ND at a constant MFU, expressed like the published figure."""
    acc = cat.accelerator(ref.accelerator)
    peak = acc.peak(_precision(ref.precision, w.precision))
    n_active = float(active_params(w.architecture))
    if ref.kind == "whole_run":
        return 6.0 * n_active * ref.tokens / (BASELINE_MFU * peak) / 3600.0
    seq = ref.seq_len or w.seq_len
    params = w.published_params or float(total_params(w.architecture))
    conv = ref.flop_convention or "causal"
    per_token = float(flops_per_token(w.architecture, seq, conv, params, "full"))
    tokens_per_s = BASELINE_MFU * peak / (6.0 * n_active)
    return tokens_per_s * per_token / 1e12


def cost_comparison(cat: Catalog) -> list[dict]:
    """The planner's two cost methods on each published whole run that has a dollar figure,
    charged for the run's published device-hours (so only the cost method differs), beside
    that figure (mostly Epoch AI's amortised hardware + energy estimates)."""
    from .assumptions import DEFAULT
    from .model import cost as cost_model
    from .model import power as power_model

    out = []
    for _, ref, usable in reference_rows(cat, kinds=("whole_run",)):
        if not (usable and ref.cost_usd and ref.gpu_hours):
            continue
        acc = cat.accelerator(ref.accelerator)
        site = cat.site("us-hyperscale")
        wall_s = ref.gpu_hours / ref.gpus * 3600.0
        dev_w, _ = power_model.device_power_w(acc, DEFAULT)
        facility_w = power_model.facility_power_w(
            power_model.it_power_w(ref.gpus, dev_w, DEFAULT), site.pue)
        owned = cost_model.owned_cost(
            ref.gpus, wall_s, acc.purchase_usd or math.nan,
            acc.server_usd_per_device or math.nan,
            power_model.it_peak_power_w(ref.gpus, dev_w, DEFAULT), facility_w,
            site.energy_usd_per_kwh, site.capex_usd_per_mw, DEFAULT)["total"]
        _, price = acc.cloud_price()
        rate = price.value if price is not None else math.nan
        cloud = ref.gpu_hours * rate
        out.append({"row_id": ref.row_id, "published_usd": ref.cost_usd,
                    "owned_usd": float(owned), "owned_ratio": float(owned) / ref.cost_usd,
                    "cloud_usd": cloud, "cloud_ratio": cloud / ref.cost_usd,
                    "basis": (ref.note or "")})
    return out


def run(cat: Catalog) -> dict:
    rows, skipped = [], []
    for w, ref, usable in reference_rows(cat):
        pub = published(cat, w, ref)
        if not usable or pub is None or (ref.kind == "whole_run" and not ref.tokens):
            skipped.append({"workload": w.key, "row_id": ref.row_id,
                            "why": "hardware not in catalog or device count unpublished"
                            if not usable else "no comparable published figure"})
            continue
        pred, note = predict(cat, w, ref)
        rows.append(Row(w.key, ref.row_id, ref.kind, ref.row_id.split("-")[0], pub, pred,
                        baseline(cat, w, ref), note, ref.unscored))
    out = summarise(rows, skipped)
    out["costs"] = cost_comparison(cat)
    return out


def _mape(errors) -> float | None:
    errors = [abs(e) for e in errors if e is not None]
    return float(np.mean(errors)) if errors else None


def summarise(rows: list[Row], skipped: list) -> dict:
    out = {"rows": [], "groups": {}, "summary": {}, "skipped": skipped,
           "baseline_mfu": BASELINE_MFU}
    for r in rows:
        out["rows"].append({"workload": r.workload, "row_id": r.row_id, "kind": r.kind,
                            "group": r.group, "published": r.published,
                            "predicted": r.predicted, "error_pct": r.error_pct,
                            "baseline": r.baseline, "baseline_error_pct": r.baseline_error_pct,
                            "note": r.note, "unscored": r.unscored})
    for kind in ("throughput", "whole_run"):
        sel = [r for r in rows if r.kind == kind and not r.unscored]
        for g in sorted({r.group for r in sel}):
            gs = [r for r in sel if r.group == g]
            out["groups"][f"{kind}:{g}"] = {
                "rows": len(gs), "mape_pct": _mape([r.error_pct for r in gs]),
                "baseline_mape_pct": _mape([r.baseline_error_pct for r in gs])}
        worst = max((abs(r.error_pct) for r in sel if r.error_pct is not None), default=None)
        failed = [r.row_id for r in sel if r.predicted is None]
        out["summary"][kind] = {"rows": len(sel), "mape_pct": _mape([r.error_pct for r in sel]),
                                "worst_pct": worst, "unpredicted": failed,
                                "baseline_mape_pct": _mape([r.baseline_error_pct for r in sel])}
    return out


def render(result: dict) -> str:
    rows = []
    for r in sorted(result["rows"], key=lambda r: (r["kind"] != "throughput", r["group"],
                                                    r["row_id"])):
        unit = "TFLOP/s" if r["kind"] == "throughput" else "GPU-h"
        fmt = (lambda x: f"{x:,.1f}") if r["kind"] == "throughput" else (lambda x: f"{x:,.0f}")
        rows.append((r["row_id"], unit, fmt(r["published"]),
                     "n/a" if r["predicted"] is None else fmt(r["predicted"]),
                     "n/a" if r["error_pct"] is None else f"{r['error_pct']:+.1f}%",
                     fmt(r["baseline"]), f"{r['baseline_error_pct']:+.1f}%",
                     ("not scored: " + r["unscored"] if r.get("unscored") else r["note"])[:48]))
    lines = [tabulate(rows, headers=["reference", "unit", "published", "planner", "error",
                                     f"6ND@{result['baseline_mfu']:.0%}", "error",
                                     "planner's layout"],
                      tablefmt="simple", disable_numparse=True,
                      colalign=("left", "left", "right", "right", "right", "right", "right"))]
    g = [(k, v["rows"], _pct(v["mape_pct"]), _pct(v["baseline_mape_pct"]))
         for k, v in result["groups"].items()]
    lines += ["", tabulate(g, headers=["group", "rows", "planner MAPE", "baseline MAPE"],
                           tablefmt="simple")]
    s = [(k, v["rows"], _pct(v["mape_pct"]), _pct(v["worst_pct"]), _pct(v["baseline_mape_pct"]))
         for k, v in result["summary"].items()]
    lines += ["", tabulate(s, headers=["all", "rows", "planner MAPE", "worst row",
                                       "baseline MAPE"], tablefmt="simple")]
    if result.get("costs"):
        c = [(x["row_id"], f"${x['published_usd'] / 1e6:,.2f}M",
              "n/a" if math.isnan(x["owned_usd"]) else f"${x['owned_usd'] / 1e6:,.2f}M",
              "n/a" if math.isnan(x["owned_ratio"]) else f"{x['owned_ratio']:.2f}",
              "n/a" if math.isnan(x["cloud_usd"]) else f"${x['cloud_usd'] / 1e6:,.2f}M",
              "n/a" if math.isnan(x["cloud_ratio"]) else f"{x['cloud_ratio']:.2f}")
             for x in result["costs"]]
        lines += ["", "cost at the published device-hours (method comparison; docs/costs.md)",
                  tabulate(c, headers=["run", "published", "owned", "ratio", "cloud (2026)",
                                       "ratio"], tablefmt="simple", disable_numparse=True)]
    unscored = [r for r in result["rows"] if r.get("unscored")]
    if unscored:
        lines += ["", "shown, not scored: " + "; ".join(f"{r['row_id']} ({r['unscored']})"
                                                       for r in unscored)]
    if result["skipped"]:
        lines += ["", "skipped: " + ", ".join(f"{x['row_id']} ({x['why']})"
                                             for x in result["skipped"])]
    return "\n".join(lines)


def _pct(x) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.1f}%"
