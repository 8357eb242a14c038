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
    p10: dict | None = None
    p50: dict | None = None
    p90: dict | None = None
    reliability: dict | None = None
    alternatives: list = field(default_factory=list)
    sizing: dict | None = None  # the choice among sizes: status, limits, options (plan/sizing.py)

    def to_dict(self) -> dict:
        return clean_json(asdict(self))

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def _repr_html_(self) -> str:
        """A notebook's view: the headline figures and the cost by component."""
        from .. import report

        return report.plan_html(self.to_dict())

    def plot(self):
        """A matplotlib Figure: days and cost against cluster size for a plan that was sized
        (no device count given), else its step time, memory and cost by component."""
        from .. import charts

        d = self.to_dict()
        if (d.get("sizing") or {}).get("options", {}).get("gpus"):
            return charts.sizing_figure(d)
        return charts.breakdown_figure(d)

    def to_frame(self):
        """A one-row pandas DataFrame: the plan's keys flattened with '_', as estimate_many's
        columns (cost_usd_total, layout_tp, ...); the assumptions are ``assumptions_frame``."""
        from .. import report

        d = self.to_dict()
        row = report.flatten({k: v for k, v in d.items()
                              if k not in ("assumptions", "alternatives", "sizing")})
        return report.pandas().DataFrame([row])

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
        return (f"Plan({self.cluster['gpus']} x {self.cluster['accelerator']}, "
                f"{self.training_days:.1f} days, MFU {self.mfu:.1%}, "
                f"${self.cost_usd['total'] / 1e6:,.1f}M {self.cost_method})")


# The figures of a plan that are None when it has no layout that runs.
FIGURES = ("model_flops", "hardware_flops", "step_time_s", "tokens_per_s", "tflops_per_gpu",
           "mfu", "hfu", "memory_gb_per_gpu", "memory_free_gb_per_gpu", "memory_breakdown_gb",
           "time_breakdown_s",
           "bottleneck", "goodput", "training_days", "gpu_hours", "power_mw", "power_peak_mw",
           "power_average_mw", "energy_mwh", "co2_t", "cost_usd", "cost_method",
           "ideal_training_days", "ideal_gpu_hours", "ideal_energy_mwh", "ideal_co2_t",
           "ideal_cost_usd")


def empty_plan(workload: dict, cluster: dict, assumptions: dict, binding: str,
               reason: str) -> Plan:
    """An answer without figures: no layout fits or runs (binding and reason say why)."""
    return Plan(feasible=False, reason=reason, binding=binding, workload=workload,
                cluster=cluster, layout=None, assumptions=assumptions,
                **{k: None for k in FIGURES})


def clean_json(x):
    """JSON-safe: numpy scalars to Python, nan/inf to None (unknown stays null)."""
    if isinstance(x, dict):
        return {k: clean_json(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [clean_json(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x
