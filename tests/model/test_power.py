"""power.py: hand-worked numbers, the GPT-3 energy figure, vectorisation, unknowns."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from planner.assumptions import DEFAULT
from planner.model.power import co2_tonnes, device_power_w, energy_mwh, facility_power_w, it_power_w
from planner.specs import Accelerator


def _acc(tdp_w=700.0, system_power_w=None, key="test"):
    return Accelerator(key=key, name=key, vendor="x", release_year=2022,
                       peak_flops={"bf16": 989e12}, matmul_fraction={}, hbm_bytes=80e9,
                       hbm_bytes_per_s=3.35e12, tdp_w=tdp_w, scale_up_bytes_per_s=450e9,
                       scale_up_domain=8, devices_per_node=8, scale_out_bytes_per_s=50e9,
                       system_power_w=system_power_w)


def test_device_power_prefers_system_power():
    # DGX H100: 10.2 kW / 8 GPUs = 1,275 W (NVIDIA DGX H100 datasheet).
    w, basis = device_power_w(_acc(system_power_w=10_200 / 8), DEFAULT)
    assert w == 1275.0
    assert basis.startswith("system_power_w")


def test_device_power_falls_back_to_tdp_ratio():
    # 500 W TDP x 1.82 (DGX H100 10.2 kW / (8 x 700 W); NVIDIA DGX H100 datasheet).
    w, basis = device_power_w(_acc(tdp_w=500.0), DEFAULT)
    assert w == pytest.approx(910.0)
    assert "server_power_per_tdp" in basis and "capped" not in basis
    assert DEFAULT.server_power_per_tdp == pytest.approx(10_200 / (8 * 700), abs=0.005)


def test_the_hosts_share_stops_at_dgx_h100s_575_w():
    # was: 1,400 W x 1.82 = 2,548 W for MI355X, where the catalog's GB300 server (1,400 W
    # too) draws 1,806 W a GPU: the host's CPUs, memory, NICs and fans do not grow with the
    # accelerator's rating (DGX H100 575 W, DGX B200 788 W, GB300 NVL72 544 W a GPU)
    w, basis = device_power_w(_acc(tdp_w=1400.0), DEFAULT)
    assert w == pytest.approx(1400.0 + 575.0)
    assert basis.endswith("the host's share capped at server_host_w_max (575 W)")
    assert DEFAULT.server_host_w_max == pytest.approx(10_200 / 8 - 700)
    # the ratio and the cap meet at DGX H100 itself
    assert device_power_w(_acc(tdp_w=700.0), DEFAULT)[0] == pytest.approx(1274.0)


def test_an_assumed_ratio_replaces_the_server_figure():
    # was: --assume server_power_per_tdp=1.5 reported as given while DGX H100's 1,275 W made
    # the power; now 700 W x 1.5 = 1,050 W, the basis naming the figure it replaced
    asm = DEFAULT.with_(server_power_per_tdp=1.5)
    w, basis = device_power_w(_acc(system_power_w=10_200 / 8), asm)
    assert w == pytest.approx(1050.0)
    assert "given, replacing system_power_w (1275 W)" in basis
    # the host's cap still holds (a separate assumption): 700 W x 2.5 stops at 700 + 575 W
    w, basis = device_power_w(_acc(system_power_w=1000.0),
                              DEFAULT.with_(server_power_per_tdp=2.5))
    assert w == pytest.approx(1275.0) and "capped" in basis
    # the default ratio, not given, leaves the catalog's figure in place
    assert device_power_w(_acc(system_power_w=1000.0), DEFAULT)[0] == 1000.0


def test_device_power_unknown_is_nan():
    w, basis = device_power_w(_acc(tdp_w=None), DEFAULT)
    assert math.isnan(w) and basis.startswith("unknown")


def test_it_and_facility_power_hand_worked():
    # 16,384 H100 x 1.275 kW x 0.9 average/peak x 1.08 network, x PUE 1.1 (hand-worked).
    it = it_power_w(16_384, 1275.0, DEFAULT)
    assert it == pytest.approx(16_384 * 1275 * 0.9 * 1.08)
    assert it / 1e6 == pytest.approx(20.305, abs=1e-3)
    assert facility_power_w(it, 1.1) / 1e6 == pytest.approx(22.336, abs=1e-3)


def test_100k_h100_sanity():
    # DGX H100 datasheet arithmetic: 100k x 1.275 kW = 127.5 MW, +8% = ~138 MW IT, x PUE 1.1-1.2
    # = ~150-165 MW facility at server maximum.
    it = it_power_w(100_000, 1275.0, DEFAULT.with_(power_utilisation=1.0))
    assert it / 1e6 == pytest.approx(137.7)
    assert 150 <= facility_power_w(it, 1.1) / 1e6 <= 166


def test_gpt3_energy_patterson_2021():
    # Patterson et al. 2021, Table 4 (arXiv 2104.10350, GPT-3 row): 1,287 MWh from their own
    # inputs: 10,000 V100 x 14.8 days, 330 W measured system power per GPU (host included, so
    # utilisation 1 and no extra network), PUE 1.1. Tolerance 5%.
    asm = DEFAULT.with_(power_utilisation=1.0, network_power_fraction=0.0)
    it = it_power_w(10_000, 330.0, asm)
    mwh = energy_mwh(facility_power_w(it, 1.1), 14.8 * 86400)
    assert mwh == pytest.approx(1287, rel=0.05)
    assert mwh == pytest.approx(10_000 * 14.8 * 24 * 0.330 * 1.1 / 1000)


def test_energy_mwh_units():
    assert energy_mwh(1e6, 3600) == 1.0  # 1 MW for an hour


def test_co2_hand_worked_and_unknown():
    # Patterson et al. 2021 Table 4: GPT-3 1,287 MWh at 429 kg/MWh (0.429 tCO2e/MWh) = 552 t.
    assert co2_tonnes(1287, 429) == pytest.approx(552.1, abs=0.1)
    assert math.isnan(co2_tonnes(1287, None))
    assert math.isnan(co2_tonnes(1287, float("nan")))
    assert math.isnan(co2_tonnes(1287, DEFAULT.grid_kg_co2_per_mwh))  # unknown stays unknown
    out = co2_tonnes(np.array([100.0, 100.0]), np.array([np.nan, 400.0]))
    assert math.isnan(out[0]) and out[1] == 40.0


def test_unknown_device_power_propagates_nan():
    assert math.isnan(it_power_w(8, None, DEFAULT))
    assert math.isnan(facility_power_w(None, 1.2))


def test_vectorised_equals_scalar():
    devices = np.array([8, 1024, 16_384, 100_000])
    watts = np.array([810.0, 1275.0, 1790.0, 1275.0])
    pue = np.array([1.1, 1.2, 1.5, 1.25])
    secs = np.array([3600.0, 86400.0, 54 * 86400.0, 1e7])
    it = it_power_w(devices, watts, DEFAULT)
    mwh = energy_mwh(facility_power_w(it, pue), secs)
    for i in range(len(devices)):
        one = energy_mwh(facility_power_w(it_power_w(devices[i], watts[i], DEFAULT), pue[i]),
                         secs[i])
        assert mwh[i] == one


def test_broadcasts_over_a_grid():
    it = it_power_w(np.array([[1], [2]]), np.array([100.0, 200.0, 300.0]), DEFAULT)
    assert it.shape == (2, 3)


@given(st.integers(1, 10**6), st.floats(100, 5000), st.floats(1.0, 2.0), st.floats(1.0, 2.0))
def test_power_monotonic(devices, watts, pue, factor):
    # More devices, more watts per device or a worse PUE never lower facility power.
    base = facility_power_w(it_power_w(devices, watts, DEFAULT), pue)
    assert facility_power_w(it_power_w(devices + 1, watts, DEFAULT), pue) > base
    assert facility_power_w(it_power_w(devices, watts * factor, DEFAULT), pue) >= base
    assert facility_power_w(it_power_w(devices, watts, DEFAULT), pue * factor) >= base
