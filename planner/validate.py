"""Backtest: every reference run in workloads/ predicted and compared with what was published,
beside a spreadsheet baseline.

Throughput rows (workloads/*.toml and the public sources of workloads/measurements/) compare
per-device tokens/s where the source prints them, else per-device TFLOP/s in the source's own
FLOP convention (Megatron-LM 2021 counts recomputation, PaLM counts all parameters and
non-causal attention, ...): the planner's tokens/s times the source's FLOPs per token. Besides
the figure at the shipped constants (fitted on every row: in-sample), each throughput row is
predicted with the constants fitted on every source but its own (leave-one-source-out,
planner/calibrate.py), reported per source and per accelerator family, and with the constants
fitted on every accelerator family but its own (leave-one-family-out: what a plan on hardware
no published row measures can expect). Whole runs compare
device-hours with goodput (failures, checkpoints, restarts). The baseline is a spreadsheet: 6ND
at one constant MFU (THROUGHPUT_BASELINE_MFU for throughput, WHOLE_RUN_BASELINE_MFU for whole
runs; for whole runs also at the MFU fitted on the other runs, as the realisation is).

Whole runs compare device-hours with planning-time inputs only (shape or parameter count,
tokens, sequence length, batch, precision, device type and count: what a user knows before the
run, not the layout, framework or network found after it). The realisation residual
(model/realisation.py) is fitted on them, so they are scored by leave-one-out: each run is
predicted with the residual fitted on all the others, and its 10-90% range is checked against
the published figure. The baseline is 6ND at WHOLE_RUN_BASELINE_MFU.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from tabulate import tabulate

from . import calibrate
from .assumptions import DEFAULT
from .calibrate import estimate_kwargs, flops_per_token_of
from .catalog import Catalog
from .errors import LayoutError
from .plan.estimate import estimate
from .references import (
    THROUGHPUT_BASELINE_MFU,
    WHOLE_RUN_BASELINE_MFU,
    baseline,
    mape,
    published,
    published_tokens_per_s,
    reference_rows,
    throughput_rows,
    unit,
    unshaped,
)
from .specs import mfu_key
from .units import InputError
from .whole_runs import (  # noqa: F401 (the whole-run limits and fit, as tests and docs name them)
    COVARIATE_TIE_PCT,
    WHOLE_RUN_INSIDE_RANGE,
    WHOLE_RUN_MAPE_LIMIT,
    WHOLE_RUN_MIN_RUNS,
    WHOLE_RUN_P90_P10_GUARD,
    WHOLE_RUN_P90_P10_LIMIT,
    WHOLE_RUN_ROW_LIMIT,
    covariate_comparison,
    fit_realisation,
    kept_grouping,
    ranges_hold,
    render_fit,
    render_whole_runs,
    whole_run_result,
    whole_runs,
)

# The throughput validation's limits (tests fail beyond them), percent and counts.
# In-sample, constants fitted on every row: issue #13 asks 6%; the shipped fit reaches 6.95%
# (docs/validation.md), so the guard sits just above it and a strict xfail holds the target.
THROUGHPUT_MAPE_LIMIT = 7.25
LOSO_MAPE_LIMIT = 9.25  # leave-one-source-out, over all rows (issue #13: 10%; today 8.3%)
SOURCE_MAPE_LIMIT = 20.0  # leave-one-source-out, each source's mean (and each family held out)
LOFO_MAPE_LIMIT = 9.5  # leave-one-family-out, over all rows (today 8.4%)
LOVO_MAPE_LIMIT = 12.5  # leave-one-maker-out, over all rows (today 10.3%)
THROUGHPUT_MIN_ROWS = 80
FAMILIES_MIN = 6  # accelerator families with at least FAMILY_MIN_ROWS scored rows
FAMILY_MIN_ROWS = 3


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
    unit: str = ""  # "tok/s" (per device) or "TFLOP/s" (per device) or "GPU-h"
    family: str = ""  # the accelerator's family (throughput rows)
    framework: str = ""  # the stack's profile (throughput rows)
    loso: float | None = None  # predicted with the constants fitted without this source
    lofo: float | None = None  # predicted with the constants fitted without this family
    lovo: float | None = None  # ... without every family of its maker (NVIDIA, Google, ...)

    @property
    def loso_error_pct(self) -> float | None:
        return self._held_out_error(self.loso)

    @property
    def lofo_error_pct(self) -> float | None:
        return self._held_out_error(self.lofo)

    @property
    def lovo_error_pct(self) -> float | None:
        return self._held_out_error(self.lovo)

    def _held_out_error(self, value: float | None) -> float | None:
        if value is None or not math.isfinite(value):
            return None
        return 100.0 * (value - self.published) / self.published

    @property
    def error_pct(self) -> float | None:
        if self.predicted is None:
            return None
        return 100.0 * (self.predicted - self.published) / self.published

    @property
    def baseline_error_pct(self) -> float:
        return 100.0 * (self.baseline - self.published) / self.published


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
    plan, why = planned(cat, w, ref)
    if plan is None:
        return None, why
    if ref.kind == "whole_run":
        return plan.gpu_hours, _short_layout(plan.layout)
    if ref.tokens_per_s_per_gpu:
        return plan.tokens_per_s / ref.gpus, _short_layout(plan.layout)
    per_token = flops_per_token_of(w, ref, ref.seq_len or w.seq_len)
    return plan.tokens_per_s * per_token / ref.gpus / 1e12, _short_layout(plan.layout)


def planned(cat: Catalog, w, ref):
    """(the plan of one reference at its inputs, ""), or (None, why it has none): the
    figures alone, no alternatives."""
    try:
        plan = estimate(**estimate_kwargs(cat, w, ref), alternatives=False)
    except (InputError, LayoutError) as exc:
        return None, f"cannot lay out: {exc}"
    if not plan.feasible or plan.tokens_per_s is None:
        return None, plan.reason or "infeasible"
    return plan, ""


def _short_layout(lay: dict) -> str:
    return (f"tp{lay['tp']} pp{lay['pp']} dp{lay['dp']} cp{lay['cp']} mb{lay['microbatch']} "
            f"vp{lay['virtual_stages']} {lay['recompute']} z{lay['zero']}")


def published_mfu(cat: Catalog) -> dict:
    """The highest MFU published for each accelerator at each precision among the scored
    throughput rows, as the planner counts MFU (its model FLOPs over the precision's dense
    peak): the plan's MFU at the row's inputs x published / planned tokens per second.
    {accelerator: {"rows": n, mfu_key: [mfu, row_id]}}: planner/model/published_mfu.py, which a
    plan's table reads (an MFU above every published one is said). Dense models and mixtures
    of experts apart (an MoE's all-to-all and narrow GEMMs hold its MFU lower)."""
    out: dict = {}
    for w, ref, usable, _source in throughput_rows(cat):
        if not usable or ref.unscored or unshaped(w) is not None:
            continue
        plan, _ = planned(cat, w, ref)
        if plan is None or not plan.tokens_per_s:
            continue
        mfu = plan.mfu * published_tokens_per_s(cat, w, ref) * ref.gpus / plan.tokens_per_s
        acc = out.setdefault(ref.accelerator, {"rows": 0})
        acc["rows"] += 1
        key = mfu_key(plan.workload["precision"], bool(plan.workload["experts"]))
        best = acc.get(key)
        if best is None or mfu > best[0]:
            acc[key] = [round(float(mfu), 4), ref.row_id]
    return dict(sorted(out.items()))


def render_published_mfu(table: dict, families: dict) -> str:
    """planner/model/published_mfu.py's text (tests/test_published_mfu.py writes it)."""
    lines = ['"""The highest MFU published for each accelerator among the scored throughput rows',
             "(planner/validate.py published_mfu), by precision with \" moe\" added for mixtures "
             "of experts", "(specs.mfu_key), with the row's id, and each accelerator's count of "
             "rows: a plan's table", "says when its MFU is above every published one, or that "
             "its accelerator has no", "published row.", "",
             "Generated by `uv run python tests/test_published_mfu.py` from workloads/; the "
             "test holds it", "to a fresh computation. Do not edit by hand.", '"""', "",
             "PUBLISHED_MFU = {"]
    for acc, entry in table.items():
        lines.append(f"    {acc!r}: {{")
        lines += [f"        {k!r}: {v!r}," for k, v in entry.items()]
        lines.append("    },")
    lines.append("}")
    lines += ["", "# Each shipped accelerator's family (hardware/accelerators/*.toml): a plan on "
              "one without a row", "# is compared with its family's best (an H200 with the "
              "H100's).", "FAMILY_OF = {"]
    lines += [f"    {acc!r}: {family!r}," for acc, family in families.items()]
    lines.append("}")
    return "\n".join(lines) + "\n"


def accelerator_families(cat: Catalog) -> dict:
    """{accelerator: family} of the catalog's accelerators (planner/model/published_mfu.py's
    FAMILY_OF)."""
    return {a.key: a.family for a in sorted(cat.all("accelerators"), key=lambda a: a.key)
            if a.family}


def cost_comparison(cat: Catalog) -> list[dict]:
    """The planner's two cost methods on each published whole run that has a dollar figure,
    charged for the run's published device-hours (so only the cost method differs), beside
    that figure (mostly Epoch AI's amortised hardware + energy estimates)."""
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


# run()'s answers in this process, by catalog and options: the held-out fits take ~85 s on 2
# cores, and the catalog's fingerprint changes with any file it reads
_RUNS: dict = {}


def run(cat: Catalog, loso: bool = True) -> dict:
    """Every reference predicted: throughput rows in-sample and leave-one-source-out
    (``loso``), whole runs by leave-one-out at planning-time inputs. The same catalog gives
    the same answer: a copy of the one computed first in this process."""
    import copy

    key = (cat.fingerprint(), loso)
    if key not in _RUNS:
        _RUNS[key] = _run(cat, loso)
    return copy.deepcopy(_RUNS[key])


def _run(cat: Catalog, loso: bool) -> dict:
    thr, fitted, skipped = throughput(cat, loso)
    out = summarise(thr, skipped)
    out["summary"]["throughput"]["grid_vs_estimate_pct"] = fitted.pop("_grid_vs_estimate_pct",
                                                                      None)
    out["fitted"] = fitted
    whole = whole_run_result(cat)
    out["rows"] += whole["rows"]
    out["groups"].update(whole["groups"])
    out["summary"]["whole_run"] = whole["summary"]
    out["skipped"] += whole["skipped"]
    out["fit"] = whole["fit"]
    out["covariates"] = whole["covariates"]
    out["whole_run_baseline_mfu"] = WHOLE_RUN_BASELINE_MFU
    out["costs"] = cost_comparison(cat)
    return out


def throughput(cat: Catalog, loso: bool = True) -> tuple[list[Row], dict, list[dict]]:
    """The throughput rows: in-sample (shipped constants, through planner.estimate) and, with
    ``loso``, each row predicted with the constants fitted without its source and without
    its accelerator family; the constants fitted (source -> values, "all" for every source);
    and the rows skipped, with why."""
    rows, cases, where, skipped = [], [], [], []
    for w, ref, usable, source in throughput_rows(cat):
        pub = published(cat, w, ref)
        if not usable or pub is None:
            continue
        why = unshaped(w)
        if why is not None:
            skipped.append({"workload": w.key, "row_id": ref.row_id, "why": why})
            continue
        family = cat.accelerator(ref.accelerator).family
        pred, note = predict(cat, w, ref)
        rows.append(Row(w.key, ref.row_id, "throughput", source, pub, pred,
                        baseline(cat, w, ref), note, ref.unscored, unit(ref), family,
                        ref.framework or calibrate.LEGACY_FRAMEWORK))
        if loso and not ref.unscored:
            case = calibrate.prepare_case(cat, w, ref, source, family,
                                          published_tokens_per_s(cat, w, ref))
            if case is not None:
                cases.append(case)
                where.append((len(rows) - 1, pub / case.published_tps))
    fitted: dict = {}
    if cases:
        scorer = calibrate.Scorer(cases)
        held_out = calibrate.leave_groups_out(scorer, ("source", "family", "vendor"))
        (tps, fitted), (by_family, _), (by_vendor, _) = held_out.values()
        for (i, scale), value, family_out, vendor_out in zip(where, tps, by_family, by_vendor):
            rows[i] = replace(rows[i], loso=float(value) * scale,
                              lofo=float(family_out) * scale, lovo=float(vendor_out) * scale)
        fitted["all"] = calibrate.fit(scorer, np.ones(len(cases), bool))
        # the fit's scoring and planner.estimate agree at the shipped constants
        grid = scorer.at(calibrate.shipped())[0]
        est = np.array([rows[i].predicted / scale if rows[i].predicted else np.nan
                        for i, scale in where])
        fitted["_grid_vs_estimate_pct"] = float(np.nanmax(np.abs(grid / est - 1.0)) * 100)
    return rows, fitted, skipped


def summarise(rows: list[Row], skipped: list) -> dict:
    out = {"rows": [], "groups": {}, "families": {}, "summary": {}, "skipped": skipped,
           "baseline_mfu": THROUGHPUT_BASELINE_MFU,  # kept for scripts: the throughput one
           "throughput_baseline_mfu": THROUGHPUT_BASELINE_MFU}
    for r in rows:
        out["rows"].append({"workload": r.workload, "row_id": r.row_id, "kind": r.kind,
                            "group": r.group, "unit": r.unit, "family": r.family,
                            "published": r.published,
                            "predicted": r.predicted, "error_pct": r.error_pct,
                            "loso": r.loso, "loso_error_pct": r.loso_error_pct,
                            "lofo": r.lofo, "lofo_error_pct": r.lofo_error_pct,
                            "lovo": r.lovo, "lovo_error_pct": r.lovo_error_pct,
                            "baseline": r.baseline, "baseline_error_pct": r.baseline_error_pct,
                            "framework": r.framework, "note": r.note,
                            "unscored": r.unscored})
    for kind in ("throughput",):
        sel = [r for r in rows if r.kind == kind and not r.unscored]
        for g in sorted({r.group for r in sel}):
            gs = [r for r in sel if r.group == g]
            out["groups"][f"{kind}:{g}"] = _figures(gs, kind)
        worst = max((abs(r.error_pct) for r in sel if r.error_pct is not None), default=None)
        failed = [r.row_id for r in sel if r.predicted is None]
        out["summary"][kind] = {"rows": len(sel), "mape_pct": mape([r.error_pct for r in sel]),
                                "worst_pct": worst, "unpredicted": failed,
                                "baseline_mape_pct": mape([r.baseline_error_pct for r in sel])}
    sel = [r for r in rows if r.kind == "throughput" and not r.unscored]
    for f in sorted({r.family for r in sel}):
        fs = [r for r in sel if r.family == f]
        # the family held out whole: what a plan on a family no published row measures can
        # expect of the step model
        out["families"][f] = {**_figures(fs, "throughput"),
                              "lofo_mape_pct": mape([r.lofo_error_pct for r in fs]),
                              "lovo_mape_pct": mape([r.lovo_error_pct for r in fs])}
    sources = [v["loso_mape_pct"] for k, v in out["groups"].items()
               if k.startswith("throughput:") and v["loso_mape_pct"] is not None]
    out["summary"]["throughput"].update(
        loso_mape_pct=mape([r.loso_error_pct for r in sel]),
        loso_unpredicted=[r.row_id for r in sel if r.loso_error_pct is None],
        sources=len({r.group for r in sel}),
        stacks=sorted({r.framework for r in sel}),
        worst_source_loso_pct=max(sources, default=None),
        lofo_mape_pct=mape([r.lofo_error_pct for r in sel]),
        worst_family_lofo_pct=max((v["lofo_mape_pct"] for v in out["families"].values()
                                   if v["lofo_mape_pct"] is not None), default=None),
        lovo_mape_pct=mape([r.lovo_error_pct for r in sel]),
        vendors={v: mape([r.lovo_error_pct for r in sel if r.family.split()[0] == v])
                 for v in sorted({r.family.split()[0] for r in sel if r.family})},
        families=sum(1 for v in out["families"].values() if v["rows"] >= FAMILY_MIN_ROWS))
    return out


def _worst_maker(vendors: dict) -> str:
    """'17.4% (NVIDIA)': the maker whose rows read worst with all its families held out."""
    known = {k: v for k, v in vendors.items() if v is not None}
    if not known:
        return "n/a"
    name = max(known, key=known.get)
    return f"{_pct(known[name])} ({name})"


def _figures(rows: list[Row], kind: str) -> dict:
    out = {"rows": len(rows), "mape_pct": mape([r.error_pct for r in rows]),
           "baseline_mape_pct": mape([r.baseline_error_pct for r in rows])}
    if kind == "throughput":
        out["loso_mape_pct"] = mape([r.loso_error_pct for r in rows])
    return out


def render(result: dict) -> str:
    fmt = {"tok/s": lambda x: f"{x:,.0f}", "TFLOP/s": lambda x: f"{x:,.1f}"}
    err = lambda x: "n/a" if x is None else f"{x:+.1f}%"  # noqa: E731
    thr = []
    for r in sorted((r for r in result["rows"] if r["kind"] == "throughput"),
                    key=lambda r: (r["group"], r["row_id"])):
        f = fmt[r["unit"] or "TFLOP/s"]
        cells = [r["row_id"], r["unit"], f(r["published"]),
                 "n/a" if r["predicted"] is None else f(r["predicted"]), err(r["error_pct"])]
        tail = [f(r["baseline"]), err(r["baseline_error_pct"]),
                ("not scored: " + r["unscored"] if r.get("unscored") else r["note"])[:48]]
        loso = r["loso"]
        thr.append(cells + ["n/a" if loso is None or not math.isfinite(loso) else f(loso),
                            err(r["loso_error_pct"])] + tail)
    right = ("left", "left", "right", "right", "right", "right", "right", "right", "right")
    lines = ["throughput: per device, in-sample (the shipped constants, fitted on every row) "
             "and leave-one-source-out (fitted without the row's source)",
             tabulate(thr, headers=["reference", "unit", "published", "planner", "error",
                                    "held out", "error",
                                    f"6ND@{result['throughput_baseline_mfu']:.0%}", "error",
                                    "planner's layout"],
                      tablefmt="simple", disable_numparse=True, colalign=right)]
    lines += ["", render_whole_runs(result)]
    g = [(k, v["rows"], _pct(v["mape_pct"]), _pct(v.get("loso_mape_pct")),
          _pct(v["baseline_mape_pct"])) for k, v in result["groups"].items()]
    lines += ["", tabulate(g, headers=["source", "rows", "planner MAPE", "held-out MAPE",
                                       "baseline MAPE"], tablefmt="simple")]
    fam = [(k, v["rows"], _pct(v["mape_pct"]), _pct(v["loso_mape_pct"]),
            _pct(v.get("lofo_mape_pct")), _pct(v.get("lovo_mape_pct")),
            _pct(v["baseline_mape_pct"])) for k, v in result.get("families", {}).items()]
    if fam:
        lines += ["", tabulate(fam, headers=["accelerator family", "rows", "planner MAPE",
                                             "held-out MAPE", "family held out",
                                             "maker held out", "baseline MAPE"],
                               tablefmt="simple")]
    t, w = result["summary"]["throughput"], result["summary"]["whole_run"]
    s = [("throughput (in-sample)", t["rows"], _pct(t["mape_pct"]), _pct(t["worst_pct"]),
          _pct(t["baseline_mape_pct"]), "", ""),
         ("throughput (leave-one-source-out)", t["rows"], _pct(t.get("loso_mape_pct")),
          _pct(t.get("worst_source_loso_pct")) + " (worst source)", "", "", ""),
         ("throughput (leave-one-family-out)", t["rows"], _pct(t.get("lofo_mape_pct")),
          _pct(t.get("worst_family_lofo_pct")) + " (worst family)", "", "", ""),
         ("throughput (leave-one-maker-out)", t["rows"], _pct(t.get("lovo_mape_pct")),
          _worst_maker(t.get("vendors") or {}), "", "", ""),
         ("whole run (leave-one-out)", w["rows"], _pct(w["mape_pct"]), _pct(w["worst_pct"]),
          _pct(w["baseline_mape_pct"]), _pct(w["inside_p10_p90_pct"]),
          f"{w['median_p90_p10']:.2f}")]
    lines += ["", tabulate(s, headers=["all", "rows", "planner MAPE", "worst",
                                       "baseline MAPE", "inside P10-P90", "median P90/P10"],
                           tablefmt="simple", disable_numparse=True)]
    nested = w.get("baseline_nested") or {}
    lines += [f"baselines: 6ND at {result['throughput_baseline_mfu']:.0%} MFU (throughput), "
              f"at {result['whole_run_baseline_mfu']:.0%} (whole runs); 6ND at an MFU fitted on "
              f"the other whole runs (leave-one-out, as the planner's realisation is): "
              f"{_pct(w.get('baseline_fitted_mape_pct'))} MAPE, and with the planner's nested "
              f"grouping by team {_pct(nested.get('mape_pct'))} (inside P10-P90 "
              f"{_pct(nested.get('inside_p10_p90_pct'))}, median P90/P10 "
              f"{nested.get('median_p90_p10', math.nan):.2f}); the ideal run alone (no "
              f"realisation): {_pct(w['ideal_mape_pct'])} MAPE; worst run {w['worst_row']}"]
    if result.get("covariates"):
        c = [(x["covariate"], _pct(x["mape_pct"]), _pct(x["worst_pct"]))
             for x in result["covariates"]]
        lines += ["", tabulate(c, headers=["realisation covariate (leave-one-out)",
                                           "MAPE", "worst run"], tablefmt="simple",
                               disable_numparse=True)]
    fitted = result.get("fitted") or {}
    if "all" in fitted:
        held = [v for k, v in fitted.items() if k != "all"]
        c = [(n, f"{v:g}", f"{min(h[n] for h in held):g} - {max(h[n] for h in held):g}"
              if held else "n/a") for n, v in fitted["all"].items()]
        lines += ["", tabulate(c, headers=["calibrated constant", "fitted on every row",
                                           "fitted with one source held out"],
                               tablefmt="simple", disable_numparse=True)]
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
        lines += [""] + [f"shown, not scored: {r['row_id']} ({r['unscored']})"
                         for r in unscored]
    if result["skipped"]:
        lines += ["", "skipped: " + ", ".join(f"{x['row_id']} ({x['why']})"
                                             for x in result["skipped"])]
    return "\n".join(lines)


def _pct(x) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.1f}%"
