"""Money: cloud rental and owned clusters (capex amortisation, facility, energy, maintenance).

Pure functions that broadcast over numpy arrays. Results carry their breakdown and the parts
add up to the total exactly (the total is their sum, in the order of OWNED_COMPONENTS).
Unknown prices (None or nan) give nan for every part that needs them, never a made-up number.
"""

from __future__ import annotations

import numpy as np

from ..assumptions import Assumptions
from ..units import SECONDS_PER_YEAR, one_shape
from ..units import known as _known
from .power import energy_mwh

__all__ = ["SECONDS_PER_YEAR", "OWNED_COMPONENTS", "METHOD_KEYS", "METHODS", "cloud_cost",
           "capital_recovery_factor", "energy_cost_usd", "owned_cost", "purchase_capex",
           "cost_per_trillion_tokens", "cost_per_1e24_flop"]

OWNED_COMPONENTS = ("accelerators", "servers", "network", "facility", "energy", "maintenance")
# Each cost method's keys, in the order run.outcome's cost dicts hold them (a test holds them
# to it): the columns of estimate_many and a plan's frame.
METHOD_KEYS = {"cloud": ("compute", "total"), "owned": OWNED_COMPONENTS + ("total",)}
# The cost methods, in that order (a plan's method is an index into it).
METHODS = tuple(METHOD_KEYS)


def cloud_cost(gpu_hours, usd_per_gpu_hour) -> dict:
    """Rental: device-hours x price per device-hour (cloud list or contract price). The run's
    device-hours already include failures and checkpoints (reliability.goodput). A run that
    never ends (inf device-hours) at a free price costs an unknown amount (nan), without a
    warning, as energy_cost_usd's free tariff does."""
    with np.errstate(invalid="ignore"):
        compute = _known(gpu_hours) * _known(usd_per_gpu_hour)
    return {"compute": compute, "total": compute.copy()}


def energy_cost_usd(mwh, usd_per_kwh):
    """The energy bill: facility MWh x 1000 kWh/MWh x USD per kWh (an industrial tariff, EIA
    Electric Power Monthly Table 5.6.A, is quoted per kWh). A run that never ends (inf MWh)
    at a free tariff costs an unknown amount (nan), without a warning."""
    with np.errstate(invalid="ignore"):
        return _known(mwh) * 1000.0 * _known(usd_per_kwh)


def capital_recovery_factor(rate, years):
    """Annual payment per dollar of capex repaid over `years` at `rate`: the annuity formula
    r (1+r)^n / ((1+r)^n - 1) (any engineering-economics text); rate 0 -> 1/years.

    Written as r + r / ((1+r)^n - 1) with expm1/log1p so it stays exact near r = 0; below
    |r| = 1e-12 (where float underflow, not the model, would decide) the series
    1/n + r (n+1)/(2n) is used, its error r^2 (n^2-1)/(12n) far below double precision.
    """
    r, n = _known(rate), _known(years)
    growth = np.expm1(n * np.log1p(r))  # (1+r)^n - 1
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        annuity = r + r / growth
    return np.where(np.abs(r) < 1e-12, 1.0 / n + r * (n + 1.0) / (2.0 * n), annuity)


def purchase_capex(devices, device_usd, server_usd_per_device, it_peak_w, capex_usd_per_mw,
                   asm: Assumptions) -> dict:
    """What owning the cluster costs up front (USD): its accelerators, the rest of their
    servers, the network, their sum (``hardware``), the facility built for the peak IT load,
    and the ``total``; what the owned cost charges a run a share of (owned_cost)."""
    n = np.asarray(devices, dtype=float)
    device, server = _known(device_usd), _known(server_usd_per_device)
    # capex: chips, rest of the server, interconnect (Cottier et al. 2024, arXiv 2405.21015)
    accelerators = n * device  # the accelerator's sale price (catalog)
    rest_of_server = np.where(np.isnan(server),
                              device * (asm.server_overhead - 1.0),  # Epoch hardware.py 1.64
                              server - device)  # catalog server quote per device
    servers = n * rest_of_server
    network = asm.network_capex_fraction * (accelerators + servers)  # Cottier et al. 2024
    hardware = accelerators + servers + network
    # the building per MW of IT load it is built for: the peak (site catalog capex_usd_per_mw)
    facility = _known(capex_usd_per_mw) * _known(it_peak_w) / 1e6
    return one_shape({"accelerators": accelerators, "servers": servers, "network": network,
                      "hardware": hardware, "facility": facility,
                      "total": hardware + facility})


def owned_cost(devices, wall_seconds, device_usd, server_usd_per_device, it_peak_w, facility_w,
               energy_usd_per_kwh, capex_usd_per_mw, asm: Assumptions) -> dict:
    """Cost of owning the cluster for the run's wall-clock duration, by component (USD).

    Hardware capex (accelerators, rest of the server, network) and the facility are charged
    as an annuity (capital recovery factor at asm.cost_of_capital) for the years the run lasts,
    the facility sized for the peak IT load ``it_peak_w``; energy is the MWh of the average
    facility draw ``facility_w`` at the price; maintenance is a yearly fraction of hardware
    capex. `server_usd_per_device` is the whole server per device, accelerator included; when
    unknown (None or nan) the rest of the server is device_usd x (asm.server_overhead - 1).
    """
    run_years = _known(wall_seconds) / SECONDS_PER_YEAR
    capex = purchase_capex(devices, device_usd, server_usd_per_device, it_peak_w,
                           capex_usd_per_mw, asm)
    accelerators_capex, servers_capex, network_capex, facility_capex = (
        capex[k] for k in ("accelerators", "servers", "network", "facility"))
    hardware_capex = capex["hardware"]
    # annuity over useful life: 5 y hardware, 15 y facility (assumptions.py)
    hardware_per_year = capital_recovery_factor(asm.cost_of_capital, asm.depreciation_years)
    facility_per_year = capital_recovery_factor(asm.cost_of_capital, asm.facility_years)
    parts = {
        "accelerators": accelerators_capex * hardware_per_year * run_years,
        "servers": servers_capex * hardware_per_year * run_years,
        "network": network_capex * hardware_per_year * run_years,
        "facility": facility_capex * facility_per_year * run_years,
        "energy": energy_cost_usd(energy_mwh(facility_w, wall_seconds), energy_usd_per_kwh),
        # yearly maintenance as a fraction of hardware capex (Assumptions.maintenance_fraction)
        "maintenance": asm.maintenance_fraction * hardware_capex * run_years,
    }
    parts = one_shape(parts)
    total = parts[OWNED_COMPONENTS[0]] + parts[OWNED_COMPONENTS[1]]
    for k in OWNED_COMPONENTS[2:]:
        total += parts[k]  # the parts add up exactly, in their order
    parts["total"] = total
    return parts


def cost_per_trillion_tokens(total_usd, tokens):
    """USD per 1e12 training tokens."""
    return _known(total_usd) / (_known(tokens) / 1e12)


def cost_per_1e24_flop(total_usd, flops):
    """USD per 1e24 FLOP (pass model FLOPs for a like-for-like comparison across runs)."""
    return _known(total_usd) / (_known(flops) / 1e24)
