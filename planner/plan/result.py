"""The answer to one plan: ``Plan``, in the keys of the interface (docs/interface.md)."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field

import numpy as np


@dataclass(frozen=True)
class Plan:
    """A training plan in the contract's keys (`planner estimate --format json`)."""

    feasible: bool
    reason: str | None
    binding: str | None
    workload: dict
    cluster: dict
    layout: dict | None
    model_flops: float | None
    hardware_flops: float | None
    step_time_s: float | None
    tokens_per_s: float | None
    tflops_per_gpu: float | None
    mfu: float | None
    hfu: float | None
    memory_gb_per_gpu: float | None
    memory_free_gb_per_gpu: float | None  # HBM left at the peak (a few GB: fragmentation risk)
    memory_breakdown_gb: dict | None
    time_breakdown_s: dict | None
    bottleneck: str | None
    goodput: float | None
    training_days: float | None
    gpu_hours: float | None
    power_mw: float | None  # what the site must supply: the peak (power_peak_mw)
    power_peak_mw: float | None  # IT at the servers' maximum, network, peak PUE
    power_average_mw: float | None  # average draw over the run, annual PUE: the energy bill's
    energy_mwh: float | None
    co2_t: float | None
    cost_usd: dict | None
    cost_method: str | None
    assumptions: dict
    # The ideal run (the tuned steady state with failures and checkpoints) beside the expected
    # realised run the headline figures give (model/realisation.py).
    ideal_training_days: float | None = None
    ideal_gpu_hours: float | None = None
    ideal_energy_mwh: float | None = None
    ideal_co2_t: float | None = None
    ideal_cost_usd: float | None = None
    realisation: dict | None = None
    # buying the cluster and building its facility, up front (model/cost.purchase_capex):
    # {hardware, facility, total}; the owned cost charges the run a share of it
    capex_usd: dict | None = None
    p10: dict | None = None
    p50: dict | None = None
    p90: dict | None = None
    # with the Monte Carlo: the share of its draws that keep to each limit the plan was held
    # to ({deadline, budget, power_cap}, those given or defaulted), the chance of keeping to it
    within_limits: dict | None = None
    reliability: dict | None = None
    alternatives: list = field(default_factory=list)
    sizing: dict | None = None  # the choice among sizes: status, limits, options (plan/sizing.py)

    def __post_init__(self):
        # a figure that never comes (a run that never ends: inf days) reads None on the
        # object as in its dict and JSON, so plan.training_days and to_dict() agree
        for name in FINITE_OR_NONE:
            value = getattr(self, name)
            if isinstance(value, (float, np.floating)) and not math.isfinite(value):
                object.__setattr__(self, name, None)
            elif isinstance(value, dict):
                object.__setattr__(self, name, clean_json(value))

    def to_dict(self) -> dict:
        return clean_json(asdict(self))

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def _repr_html_(self) -> str:
        """A notebook's view: the headline figures and the cost by component."""
        from .. import report_html

        return report_html.plan_html(self.to_dict())

    def plot(self):
        """A matplotlib Figure: days and cost against cluster size for a plan that was sized
        (no device count given), else its step time, memory and cost by component."""
        from .. import charts

        d = self.to_dict()
        if (d.get("sizing") or {}).get("options", {}).get("gpus"):
            return charts.sizing_figure(d)
        return charts.breakdown_figure(d)

    def to_frame(self):
        """A one-row pandas DataFrame of exactly estimate_many's answer columns, in its order
        and types (cost_usd_total, layout_tp, ..., a figure the plan lacks null); the
        assumptions are ``assumptions_frame``."""
        from .. import report
        from ..model.cost import METHOD_KEYS
        from .fields import columns, frame

        report.pandas()  # the install hint when pandas is missing
        return frame(plan_columns(self), columns(METHOD_KEYS))

    def assumptions_frame(self):
        """Every assumption the plan used: a pandas DataFrame indexed by name, with its value
        and source (a config file, a flag, a site, or the planner's default)."""
        from .. import report

        rows = [{"assumption": k, "value": v.get("value"), "source": v.get("source")}
                for k, v in self.assumptions.items()]
        return report.pandas().DataFrame(rows).set_index("assumption")

    def __repr__(self) -> str:
        if not self.feasible:
            return f"Plan(infeasible, binding={self.binding!r}: {self.reason})"
        from ..units import fmt_days, fmt_money

        # the days and the cost as the table says them (a $29 run of 22 seconds had read
        # "0.0 days ... $0.0M")
        return (f"Plan({self.cluster['gpus']} x {self.cluster['accelerator']}, "
                f"{fmt_days(self.training_days)}, MFU {self.mfu:.1%}, "
                + (fmt_money(self.cost_usd["total"]) if self.cost_usd.get("total")
                   is not None else "cost unknown") + f" {self.cost_method})")


# The figures of a Plan that are a number or None (never inf or NaN: Plan.__post_init__),
# the dicts of them with theirs.
FINITE_OR_NONE = (
    "model_flops", "hardware_flops", "step_time_s", "tokens_per_s", "tflops_per_gpu", "mfu",
    "hfu", "memory_gb_per_gpu", "memory_free_gb_per_gpu", "memory_breakdown_gb",
    "time_breakdown_s", "goodput", "training_days", "gpu_hours", "power_mw", "power_peak_mw",
    "power_average_mw", "energy_mwh", "co2_t", "cost_usd", "ideal_training_days",
    "ideal_gpu_hours", "ideal_energy_mwh", "ideal_co2_t", "ideal_cost_usd", "realisation",
    "capex_usd", "p10", "p50", "p90", "within_limits", "reliability")
# The figures of a plan that are None when it has no layout that runs.
FIGURES = ("model_flops", "hardware_flops", "step_time_s", "tokens_per_s", "tflops_per_gpu",
           "mfu", "hfu", "memory_gb_per_gpu", "memory_free_gb_per_gpu", "memory_breakdown_gb",
           "time_breakdown_s",
           "bottleneck", "goodput", "training_days", "gpu_hours", "power_mw", "power_peak_mw",
           "power_average_mw", "energy_mwh", "co2_t", "cost_usd", "cost_method",
           "ideal_training_days", "ideal_gpu_hours", "ideal_energy_mwh", "ideal_co2_t",
           "ideal_cost_usd")


# --- the figures no real run can have ---------------------------------------------------------
# A bug anywhere (a formula, a catalog figure the schema let through) must never leave as a
# plan: every answer passes these on its way out (estimate's plans, estimate_many's rows).
# Unknown (nan, null) stays unknown and passes; a known figure must be physical.
POSITIVE = ("model_flops", "hardware_flops", "step_time_s", "tokens_per_s", "tflops_per_gpu",
            "memory_gb_per_gpu", "training_days", "gpu_hours", "power_mw", "energy_mwh")
NON_NEGATIVE = ("co2_t", "cost_usd_total")
FRACTIONS = ("mfu", "hfu", "goodput")  # in (0, 1]
TOLERANCE = 1e-9  # relative: float rounding, never a modelling error


def plan_columns(plan: Plan) -> dict:
    """A plan's fields as flat columns (Plan.to_dict's, less its deep copy: NaN and inf become
    null in the columns anyway), with the values of its assumptions table carried as columns:
    a row of estimate_many, and ``Plan.to_frame``."""
    return _flat_columns(plan.__dict__)


def _flat_columns(fields: dict) -> dict:
    """Fields (a Plan's, or its JSON dict) flattened with '_', less the assumptions table, the
    alternatives and the sizing; the value of every assumption it reports as a column
    (assumptions_<name>_value, fields.assumption_columns)."""
    from ..report import flatten

    flat = flatten({k: v for k, v in fields.items()
                    if k not in ("assumptions", "alternatives", "sizing")})
    flat.update(assumption_columns(fields.get("assumptions") or {}))
    return flat


def assumption_columns(used: dict) -> dict:
    """An assumptions table (name -> {value, source}) as its columns: each name's value as its
    column holds it (fields.assumption_cell); names no column has are left out."""
    from .fields import ASSUMPTION_COLUMNS, assumption_cell

    return {f"assumptions_{name}_value": assumption_cell(used[name].get("value"), kind)
            for name, kind, _ in ASSUMPTION_COLUMNS if name in used}


def answer_columns(d: dict) -> dict:
    """A plan's (or a budget answer's) JSON dict as flat columns: plan_columns' and, from its
    sizing, the status and limits (SIZING_COLUMNS; the inventory as JSON text)."""
    from ..report import flatten

    flat = _flat_columns(d)
    sizing = d.get("sizing") or {}
    limits = dict(sizing.get("limits") or {})
    if "inventory" in limits:
        limits["inventory"] = json.dumps(limits["inventory"]) if limits["inventory"] else None
    flat.update(flatten({"sizing": {**{k: v for k, v in sizing.items()
                                       if k not in ("options", "relaxations", "limits")},
                                    "limits": limits}} if sizing else {}))
    return flat


def answer_csv(d: dict, extra_fields: list | tuple = ()) -> str:
    """``--format csv`` of a plan's JSON dict (``extra_fields``: a budget's inverse_*): the
    same header for every answer, so rows from many calls stack (plan/fields.csv_columns)."""
    from .. import report
    from ..model.cost import METHOD_KEYS
    from .fields import csv_columns

    return report.plan_csv(answer_columns(d), csv_columns(METHOD_KEYS, extra_fields))


class ImpossiblePlan(RuntimeError):
    """A plan with a figure no real run can have: a bug, never the user's input."""


def impossible(figures: dict, feasible=False) -> str | None:
    """The first impossible figure among ``figures`` (flat name -> number or array, nan for
    unknown), in words; None when every known figure is physical: days, device-hours, MW,
    MWh, FLOP/s and memory positive, cost and CO2 not negative, MFU, HFU and goodput in
    (0, 1] with MFU <= HFU. Infinite days, hours, energy or cost (and goodput 0) mean a run
    that never ends (a cluster failing faster than it restarts): an answer only where not
    ``feasible`` (a bool or one per row)."""
    def first(x, bad) -> float:
        return float(np.ravel(x)[np.flatnonzero(np.ravel(bad))[0]])

    feasible = np.asarray(feasible, dtype=bool)
    with np.errstate(invalid="ignore"):
        for name in POSITIVE + NON_NEGATIVE + FRACTIONS:
            if name not in figures:
                continue
            x = np.asarray(figures[name], dtype=float)
            known = ~np.isnan(x)
            ok = (x >= 0) if name in NON_NEGATIVE else (x > 0)
            if name == "goodput":  # 0: never makes progress, an answer when infeasible
                ok = (x > 0) | ((x == 0) & ~feasible)
            if name in FRACTIONS:
                ok &= x <= 1 + TOLERANCE
            ok &= ~np.isinf(x) | ((x > 0) & ~feasible & (name not in FRACTIONS))
            bad = known & ~ok
            if bad.any():
                return f"{name} = {first(x, bad)!r}"
        if "mfu" in figures and "hfu" in figures:
            mfu, hfu = np.asarray(figures["mfu"], float), np.asarray(figures["hfu"], float)
            bad = mfu > hfu * (1 + TOLERANCE)
            if bad.any():
                return f"mfu = {first(mfu, bad)!r} above hfu = {first(hfu, bad)!r}"
    return None


def checked(plan: "Plan") -> "Plan":
    """``plan`` if its figures are physical (``impossible``), its quantiles included; else
    ImpossiblePlan (exit 1: a bug, reported, never printed as an answer)."""
    flat = {k: getattr(plan, k) for k in POSITIVE + NON_NEGATIVE + FRACTIONS
            if k != "cost_usd_total"}
    flat["cost_usd_total"] = (plan.cost_usd or {}).get("total")
    found = impossible({k: np.nan if v is None else v for k, v in flat.items()},
                       plan.feasible)
    for q in ("p10", "p50", "p90"):
        spread = {("cost_usd_total" if k == "cost_usd" else k): (np.nan if v is None else v)
                  for k, v in (getattr(plan, q) or {}).items()}
        found = found or impossible(spread, plan.feasible)
    if found:
        raise ImpossiblePlan(f"a plan with an impossible figure ({found}) on "
                             f"{plan.cluster.get('gpus')} x {plan.cluster.get('accelerator')}: "
                             "a bug; please report it with the command that gave it")
    return plan


def empty_plan(workload: dict, cluster: dict, assumptions: dict, binding: str,
               reason: str) -> Plan:
    """An answer without figures: no layout fits or runs (binding and reason say why)."""
    return Plan(feasible=False, reason=reason, binding=binding, workload=workload,
                cluster=cluster, layout=None, assumptions=assumptions,
                **{k: None for k in FIGURES})


def clean_json(x):
    """JSON-safe: numpy scalars to Python, nan/inf to None (unknown stays null)."""
    kind = type(x)
    if kind is str or kind is int or kind is bool or x is None:  # most of a plan: as they are
        return x
    if isinstance(x, dict):
        return {k: clean_json(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [clean_json(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x
