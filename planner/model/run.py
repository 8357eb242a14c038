"""The run model: steady-state step throughput -> wall-clock days, device-hours, megawatts,
megawatt-hours, CO2 and dollars, with failures and checkpoints (the ideal run) and then as
whole runs really go (the realised run, realisation.py). Vectorised: one plan, a Monte Carlo of
thousands of draws and a sweep of millions all call ``outcome``.
"""

from __future__ import annotations

import numpy as np

from ..assumptions import Assumptions
from ..units import SECONDS_PER_DAY
from . import cost as cost_model
from . import power as power_model
from . import realisation, reliability


def ideal_run(devices, compute_s, checkpoint_s, asm: Assumptions, failure_rate=None) -> dict:
    """The ideal run: the steady state stretched by failures and checkpoints
    (reliability.goodput; its ``wall_s`` the ideal wall time), the checkpoint's stall being
    asm.checkpoint_stall_s when checkpoints are asynchronous, their storage write
    ``checkpoint_s`` then bounding the interval; an asynchronous plan never reads worse than
    writing the same checkpoint blocking."""
    upload_s = np.asarray(checkpoint_s, dtype=float)
    blocking = reliability.goodput(devices, compute_s, upload_s, asm, failure_rate=failure_rate)
    if not asm.checkpoint_async:
        return blocking
    # asynchronous: the stall is the copy to host memory (MegaScale sec. 4.4), the upload runs
    # behind it, and a failure during it redoes one interval more; where writing it blocking
    # costs less (a write about as short as the stall leaves nothing to redo), the run writes
    # it so (an upload of 5.01 s had read 0.5 point of goodput worse at 300,000 devices than
    # the same write blocking: review)
    stall_s = np.minimum(upload_s, asm.checkpoint_stall_s)
    behind = reliability.goodput(devices, compute_s, stall_s, asm, failure_rate=failure_rate,
                                 min_interval_s=upload_s)
    better = behind["goodput"] >= blocking["goodput"]
    return {k: np.where(better, behind[k], blocking[k]) for k in behind}


def outcome(devices, compute_s, checkpoint_s, device_power_w, pue, peak_pue, cloud_usd_per_hour,
            energy_usd_per_kwh, device_usd, server_usd_per_device, capex_usd_per_mw,
            grid_kg_co2_per_mwh, asm: Assumptions, failure_rate=None,
            residual_log=None) -> dict:
    """Everything a plan reports beyond the step, as arrays.

    ``compute_s`` is the time the run needs at steady-state throughput (tokens / tokens_per_s);
    goodput stretches it to the ideal wall time (``ideal_run``), and the realisation to the
    realised wall time (realisation.realise; ``residual_log`` a Monte Carlo draw of its
    residual). Power is per-device server power x network share x PUE: at the servers'
    maximum and the peak PUE for what the site must supply (facility_peak_w), at the average
    draw and the annual PUE for energy (facility_w, power.py); cost both ways (cost.py), the
    facility built for the peak.
    Every figure is the realised run's; ``ideal`` holds the same figures for the ideal run."""
    rel = ideal_run(devices, compute_s, checkpoint_s, asm, failure_rate)
    real = realisation.realise(rel["wall_s"], devices, asm, residual_log=residual_log)
    it_peak_w = power_model.it_peak_power_w(devices, device_power_w, asm)
    it_w = power_model.it_power_w(devices, device_power_w, asm)
    facility_peak_w = power_model.facility_power_w(it_peak_w, peak_pue)
    facility_w = power_model.facility_power_w(it_w, pue)
    out = {}
    for name, wall_s in (("ideal", rel["wall_s"]), ("realised", real["wall_s"])):
        gpu_hours = np.asarray(devices, dtype=float) * wall_s / 3600.0
        energy = power_model.energy_mwh(facility_w, wall_s)
        out[name] = {
            "wall_s": wall_s, "training_days": wall_s / SECONDS_PER_DAY, "gpu_hours": gpu_hours,
            "energy_mwh": energy, "co2_t": power_model.co2_tonnes(energy, grid_kg_co2_per_mwh),
            "cost": {"cloud": cost_model.cloud_cost(gpu_hours, cloud_usd_per_hour),
                     "owned": cost_model.owned_cost(devices, wall_s, device_usd,
                                                    server_usd_per_device, it_peak_w,
                                                    facility_w, energy_usd_per_kwh,
                                                    capex_usd_per_mw, asm)}}
    capex = cost_model.purchase_capex(devices, device_usd, server_usd_per_device, it_peak_w,
                                      capex_usd_per_mw, asm)
    return {"reliability": rel, "realisation": real, **out["realised"], "ideal": out["ideal"],
            "capex": capex,
            "it_w": it_w, "facility_w": facility_w, "it_peak_w": it_peak_w,
            "facility_peak_w": facility_peak_w}
