"""Power, energy and carbon of a training run: IT watts, facility watts, MWh, tonnes of CO2.

Pure functions that broadcast over numpy arrays: one plan and a million what-ifs call the same
formulas. SI units inside (watts, seconds); energy leaves as MWh, carbon as tonnes. Unknown
inputs (None or nan) give nan, never a made-up number.
"""

from __future__ import annotations

import numpy as np

from ..assumptions import Assumptions
from ..specs import Accelerator
from ..units import known as _known

__all__ = ["device_power_w", "it_peak_power_w", "it_power_w", "facility_power_w", "energy_mwh",
           "co2_tonnes", "J_PER_MWH"]

J_PER_MWH = 3.6e9  # 1 MWh = 1e6 W x 3600 s


def device_power_w(accelerator: Accelerator, asm: Assumptions) -> tuple[float, str]:
    """Per-device IT power at the server's maximum, and which figure it came from.

    The server's maximum divided by its devices when the catalog has it (DGX H100: 10.2 kW / 8
    = 1.275 kW); else the device TDP plus the host's share (CPUs, memory, NICs, fans), at the
    ratio asm.server_power_per_tdp, at most asm.server_host_w_max, which an assumed (given)
    ratio uses in place of the catalog's server figure; else nan ("unknown").
    """
    has_tdp = accelerator.tdp_w is not None and np.isfinite(accelerator.tdp_w)
    has_system = (accelerator.system_power_w is not None
                  and np.isfinite(accelerator.system_power_w))
    # an assumed ratio replaces the catalog's server figure, as an assumed PUE replaces the
    # site's (--assume server_power_per_tdp=2.5 had been reported as given while H100's DGX
    # figure made the power)
    assumed = has_tdp and "server_power_per_tdp" in asm.given
    if has_system and not assumed:
        # server maximum / devices (NVIDIA DGX H100/A100 datasheets)
        return float(accelerator.system_power_w), "system_power_w (server maximum / devices)"
    if has_tdp:
        # TDP x server-to-GPU ratio, DGX H100 10.2 kW / (8 x 700 W) (datasheet); the host's
        # share at most DGX H100's 575 W a GPU, since it does not grow in proportion to the
        # accelerator's own rating (DGX B200 788 W, GB300 NVL72 544 W a GPU at 1.4-2x H100's
        # rating: the catalog's server figures)
        share = accelerator.tdp_w * (asm.server_power_per_tdp - 1.0)
        capped = share > asm.server_host_w_max
        return (float(accelerator.tdp_w + min(share, asm.server_host_w_max)),
                f"tdp_w x server_power_per_tdp ({asm.server_power_per_tdp:g})"
                + (f", given, replacing system_power_w ({accelerator.system_power_w:g} W)"
                   if assumed and has_system else "")
                + (f", the host's share capped at server_host_w_max "
                   f"({asm.server_host_w_max:g} W)" if capped else ""))
    return float("nan"), f"unknown: {accelerator.key} has neither system power nor TDP"


def it_peak_power_w(devices, device_power_w, asm: Assumptions):
    """IT power of the cluster at the servers' maximum, scale-out network included: what the
    site's breakers and power contract must carry (NVIDIA DGX H100 datasheet: 10.2 kW max)."""
    servers_w = np.asarray(devices, dtype=float) * _known(device_power_w)
    # switches and storage add 5-10% to IT power (lynx-cortex cluster sizing, secondary)
    return servers_w * (1.0 + asm.network_power_fraction)


def it_power_w(devices, device_power_w, asm: Assumptions):
    """IT power of the cluster on average over the run: the peak x the average-to-peak draw of
    synchronous training (asm.power_utilisation), what the energy bill integrates."""
    return it_peak_power_w(devices, device_power_w, asm) * asm.power_utilisation


def facility_power_w(it_w, pue):
    """Facility power = IT power x PUE (The Green Grid, White Paper 49: PUE = total facility
    power / IT equipment power); peak IT with the design-day (peak) PUE gives the site's peak,
    average IT with the annualised PUE its average."""
    return _known(it_w) * _known(pue)


def energy_mwh(facility_w, seconds):
    """Energy drawn from the grid in MWh: watts x seconds / 3.6e9 J per MWh."""
    return _known(facility_w) * _known(seconds) / J_PER_MWH


def co2_tonnes(energy_mwh, kg_per_mwh):
    """Operational CO2 in tonnes = MWh x grid intensity kg/MWh / 1000 (Patterson et al. 2021,
    sec. 2: tCO2e = MWh x tCO2e per MWh). Unknown intensity (None or nan) -> nan, never 0."""
    return _known(energy_mwh) * _known(kg_per_mwh) / 1000.0
