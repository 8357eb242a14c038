"""The schema of catalog files (planner/schema.py's language; published as JSON Schema in
planner/schemas/): every figure of an accelerator, network, site and workload file with its
valid range, and a reference's keys. catalog_files.py checks each file against it on load."""

from __future__ import annotations

import datetime

from .assumptions import SCHEMA as ASSUMPTIONS_SCHEMA
from .frameworks import FRAMEWORKS
from .schema import (
    Anything,
    Boolean,
    GridKgCo2PerMwh,
    Key,
    List,
    Number,
    Table,
    Text,
    UnitSlip,
)
from .specs import FFN_TYPES, MAX_SHAPE, PRECISIONS, REFERENCE_CONFIDENCE, TEAMS
from .units import (
    MAX_BATCH_TOKENS,
    MAX_DEVICES,
    MAX_ENERGY_USD_PER_KWH,
    MAX_PARAMS,
    MAX_POWER_W,
    MAX_PUE,
    MAX_SEQ_LEN,
    MAX_TOKENS,
    MAX_USD_PER_DEVICE_HOUR,
    MAX_YEAR,
    MIN_YEAR,
)

# --- the schema of catalog files (planner/schema.py; published in planner/schemas/) ----------
# Every figure has a valid range: physical quantities are positive, fractions in (0, 1],
# counts whole, PUE at least 1. The upper bounds are sanity limits, so that arithmetic on them
# stays finite and a unit typo is refused: an accelerator's memory, power and bandwidth at
# 35-110x the largest figure of the catalog (288 GB, 1,400 W, 1.8 kW a device, 900 GB/s), so
# a figure typed in the unit a thousand times smaller (MB, mW, W for kW, MB/s) is refused,
# while a wafer-scale system of 23 kW still fits; other bounds ~100-1000x; MAX_* bounds are
# those of the planner's inputs (planner/units.py).
CONFIDENCE = ("V", "S", "U", "D")  # verified primary, secondary, unverified, derived
YEAR = Number(MIN_YEAR, MAX_YEAR, whole=True, note="a calendar year")


def _positive(high: float, unit: str, low: float = 0.0) -> Number:
    """A positive figure; ``low`` > 0 is a floor below which the model's arithmetic would
    overflow (a peak of 1e-300 TFLOP/s), far below any real device's."""
    return Number(low, high, low_open=not low, note=unit)


def _count(high: float, unit: str, low: float = 1) -> Number:
    return Number(low, high, whole=True, note=unit)


def _low_high(table: dict):
    """A figure's range holds its value (low <= value <= high), and its date is one the
    calendar has (2025-02-30 is not)."""
    as_of = table.get("as_of")
    if isinstance(as_of, str) and len(as_of) == 10:
        try:
            datetime.date.fromisoformat(as_of)
        except ValueError:
            return "as_of", "is no day of the calendar", "a date YYYY, YYYY-MM or YYYY-MM-DD"
    v, lo, hi = table.get("value"), table.get("low"), table.get("high")
    if lo is not None and v is not None and lo > v:
        return "low", "is above the value", f"low <= value ({v})"
    if hi is not None and v is not None and hi < v:
        return "high", "is below the value", f"high >= value ({v})"
    return None


class _AsOf(Text):
    """A date as text; an unquoted one is named as such (catalog_files.read_toml reads a TOML
    date, as_of = 2026-06-01, as its text; a bare year is a number, not a date)."""

    def problem(self, value) -> str | None:
        if isinstance(value, int) and not isinstance(value, bool):
            return f'is a number, not a date: quote it (as_of = "{value}")'
        if isinstance(value, datetime.date | datetime.time):
            return f'is a TOML date and time: quote its date (as_of = "{str(value)[:10]}")'
        return super().problem(value)


# When a figure was true: a year, a month or a day (the catalog's dates, docs/catalog.md)
AS_OF = _AsOf(pattern=r"(19|20|21)\d\d(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?",
              note="a date YYYY, YYYY-MM or YYYY-MM-DD")


def figure(valid: Number, required: bool = False, note: str = "") -> Key:
    """A sourced figure: { value, source, as_of[, confidence, low, high, note] }, the value
    (and its range low..high) inside ``valid``."""
    return Key(Table({
        "value": Key(valid, required=True), "source": Key(Text(nonempty=True), required=True),
        "as_of": Key(AS_OF, required=True),
        "confidence": Key(Text(CONFIDENCE, note="V verified primary, S secondary, U "
                                               "unverified, D derived")),
        "low": Key(valid), "high": Key(valid), "note": Key(Text()),
    }, what='a figure { value = ..., source = "...", as_of = "..." }', rule=_low_high),
        required=required, note=note or valid.note)


def _value(table: dict, key: str):
    fig = table.get(key)
    return fig.get("value") if isinstance(fig, dict) else None


def _accelerator_rule(table: dict):
    """Figures of one accelerator that must agree: the server's power per device holds the
    chip's own, a scale-up domain spans whole nodes or splits one evenly, and racks and
    scalable units hold whole nodes."""
    tdp, system = _value(table, "tdp_w"), _value(table, "system_power_kw")
    if tdp is not None and system is not None and system * 1e3 < tdp:
        return ("system_power_kw", f"is below the chip's own tdp_w ({tdp:g} W)",
                f"kW per device for the whole server, at least tdp_w / 1000 ({tdp / 1e3:g})")
    # the all-in IT cost per device holds the device itself (model/cost.py charges the
    # server its difference: a server price below the chip's had come out a negative cost)
    chip, server = _value(table, "purchase_usd"), _value(table, "server_usd_per_device")
    if chip is not None and server is not None and server < chip:
        return ("server_usd_per_device", f"is below the device's own purchase_usd ({chip:g})",
                f"USD per device for the whole server, at least purchase_usd ({chip:g})")
    # a narrower format runs at least as fast: every part of the catalog doubles its peak
    # from bf16 to FP8 and again to FP4 (an FP8 figure below bf16's is a unit or column slip)
    last = ("peak_bf16_tflops", _value(table, "peak_bf16_tflops"))
    for key in ("peak_fp8_tflops", "peak_fp4_tflops"):
        peak = _value(table, key)
        if peak is None:
            continue
        if last[1] is not None and peak < last[1]:
            return (key, f"is below {last[0]} ({last[1]:g})",
                    f"TFLOP/s at least {last[0]}'s: a narrower format is never slower")
        last = (key, peak)
    for p in ("fp8", "fp4"):  # a measured ceiling of a precision the part has no peak for
        if _value(table, f"matmul_{p}_fraction") is not None and \
                _value(table, f"peak_{p}_tflops") is None:
            return (f"matmul_{p}_fraction", f"is given without peak_{p}_tflops",
                    f"peak_{p}_tflops beside it (a fraction of which peak?), or no "
                    f"matmul_{p}_fraction")
    node = _value(table, "devices_per_node")
    domain = _value(table, "scale_up_domain")
    if node and domain and domain % node and node % domain:
        # a scale-up domain spans whole nodes (NVL72: 18 of 4; a TPU pod: cubes of 4 hosts)
        # or splits one evenly (H100 PCIe: NVLink-bridged pairs in a node of 8)
        return ("scale_up_domain", f"neither spans whole nodes of {node:g} nor splits one "
                "evenly", f"a multiple or a divisor of devices_per_node ({node:g})")
    for key in ("devices_per_rack", "devices_per_scalable_unit"):
        n = _value(table, key)
        if node and n is not None and n % node:
            return (key, f"is not a whole number of nodes of {node:g}",
                    f"a multiple of devices_per_node ({node:g})")
    return None


TEXT, KEY = Text(), Text(nonempty=True, note="a catalog key")
# The characters of a key (a file's name, an alias): the CLI splits a list on ',' (--gpu a,b)
# and a pair on '=' (--inventory KEY=N), so a key holding one of those, or a space, loaded and
# was listed but could never be named
KEY_CHARS = r"[A-Za-z0-9._+-]+"
KEY_FORM = "letters, digits, '.', '_', '+', '-'"
# floors ~8-12x below the catalog's least (123 TFLOP/s, 16 GB, 0.82 TB/s, 150 and 3.1 GB/s):
# a figure typed in the unit a thousand times larger (PFLOP/s, TB, PB/s, TB/s) is refused,
# while a T4-class part (65 TFLOP/s, 16 GB, 0.32 TB/s, PCIe only) still fits
TFLOPS = _positive(1e6, "TFLOP/s, dense", low=10)
ACCELERATOR = Table({
    "name": Key(TEXT),
    "vendor": Key(Text(nonempty=True, note="the maker, spelt as network files' "
                       "accelerator_vendors spell it: NVIDIA, AMD, Google, AWS, Intel")),
    "aliases": Key(List(Text(pattern=KEY_CHARS, note=f"a name of {KEY_FORM}"))),
    "family": Key(TEXT, note="architecture generation, e.g. 'NVIDIA Hopper' (validation)"),
    "bf16": Key(Boolean(), note="whether its tensor cores run BF16 (default true); false: "
                "peak_bf16_tflops holds the FP16 peak a bf16 plan runs at (V100)"),
    "fp16": Key(Boolean(), note="whether its matrix units run FP16 (default true); false: an "
                "fp16 plan runs its matmuls in BF16 at the BF16 peak, and says so (TPU)"),
    "scale_up_network": Key(KEY), "scale_out_network": Key(KEY),
    "release_year": figure(YEAR, required=True),
    "peak_bf16_tflops": figure(TFLOPS, required=True), "peak_fp8_tflops": figure(TFLOPS),
    "peak_fp4_tflops": figure(TFLOPS),
    **{f"matmul_{p}_fraction": figure(Number(0.01, 1, note="measured matmul ceiling / peak"))
       for p in ("bf16", "fp8", "fp4")},
    "hbm_gb": figure(_positive(2e4, "GB", low=2), required=True),
    "hbm_tb_per_s": figure(_positive(1e3, "TB/s", low=0.1), required=True),
    # floors 7x below the catalog's least (142 W, 0.30 kW): a figure typed in a unit a
    # thousand times larger (kW as W) is refused, as the ceilings refuse one a thousand smaller
    "tdp_w": figure(_positive(5e4, "W", low=20)),
    "system_power_kw": figure(_positive(100, "kW per device", low=0.02)),
    "scale_up_gb_per_s": figure(_positive(1e5, "GB/s per device, one direction", low=4),
                                required=True),
    "scale_up_domain": figure(_count(1e6, "devices"), required=True),
    "devices_per_node": figure(_count(1e6, "devices"), required=True),
    "scale_out_gb_per_s": figure(_positive(1e5, "GB/s per device, one direction", low=0.3)),
    "purchase_usd": figure(_positive(1e9, "USD")),
    "server_usd_per_device": figure(_positive(1e9, "USD")),
    "cloud_on_demand_usd_per_hour": figure(_positive(MAX_USD_PER_DEVICE_HOUR, "USD")),
    "cloud_contract_usd_per_hour": figure(_positive(MAX_USD_PER_DEVICE_HOUR, "USD")),
    "devices_per_rack": figure(_count(1e9, "devices")),
    "devices_per_scalable_unit": figure(_count(1e9, "devices")),
}, what="an accelerator file (docs/catalog.md)", rule=_accelerator_rule)


def _within(node: Number, value: float) -> bool:
    return Number.problem(node, value) is None


def _slipped(node: Number, value: float, reason: str, slips) -> str | None:
    """The words of the first of ``slips`` ((reason, factor, words): the value typed in a
    unit ``factor`` times the declared one) whose scaled value falls inside the range, its
    ``{value}`` and ``{scaled}`` filled in; None when none does."""
    for why, factor, words in slips:
        if reason == why and _within(node, value * factor):
            return words.format(value=value, scaled=value * factor)
    return None


class _HopLatencyUs(UnitSlip):
    SLIPS = (("is too large", 1e-3, "is too large for one switch hop: nanoseconds typed as "
              "microseconds? ({value:,g} ns is {scaled:g} us)"),
             ("is too small", 1e6, "is too small for one switch hop: seconds typed as "
              "microseconds? ({value:g} s is {scaled:g} us)"),
             ("is too small", 1e3, "is too small for one switch hop: milliseconds typed as "
              "microseconds? ({value:g} ms is {scaled:g} us)"))

    def slip(self, value, reason):
        return (_slipped(self, value, reason, self.SLIPS)
                or f"{reason} for one switch hop or message step")


class _CapexUsdPerMw(UnitSlip):
    SLIPS = (("is too small", 1e6, "is too small: millions of USD typed as USD? (${value:g}M "
              "a MW is {scaled:,.0f})"),
             ("is too small", 1e3, "is too small: thousands of USD typed as USD? "
              "(${value:,g}k a MW is {scaled:,.0f})"))

    def slip(self, value, reason):
        if reason == "is too small":
            return (_slipped(self, value, reason, self.SLIPS)
                    or "is too small for a building: USD per MW of IT load, not per kW or per W?")
        return ("is too large: over 7x the dearest market's $15M a MW: the whole site's cost "
                "rather than per MW of IT load?")


# Physical ranges of the network and site figures, so that one typed in the wrong unit is
# refused naming the slip, never planned (a $10M/MW site typed 10 had printed a $57.51
# facility):
# - per-hop latency 0.05-50 us: a switch ASIC's port-to-port latency is ~0.1-1 us (NVIDIA
#   Quantum QM8700 ~130 ns, Ethernet ~0.6-1 us: ib-hdr.toml, roce-400g.toml) and a message
#   step end-to-end 1-10 us (the catalog's RoCE range), 8 us at most in the open tools
#   (cli99/llm-analysis); 50 ns is below any switch; 200 us leaves room for a message step
#   through a kernel TCP stack over plain Ethernet (tens of microseconds a round trip, a
#   review: 50 us had refused such fabrics). Outside: ns (1,500), ms or s (0.0000015) as us.
HOP_LATENCY_US = _HopLatencyUs(0.05, 200.0, note="microseconds per switch hop or message step")
# - data-centre capex per MW of IT load ~$5-15M (Cushman & Wakefield Data Center Development
#   Cost Guide 2025: $9.3M-15.0M over 19 US markets, us-hyperscale.toml; AI liquid-cooled
#   builds up to ~2x): $0.5M is 18x below the cheapest market, $100M 7x the dearest; outside:
#   $M or $k typed as USD, or a whole site's cost.
CAPEX_USD_PER_MW = _CapexUsdPerMw(5e5, 1e8, note="USD per MW of IT load")
# - grid carbon intensity: 0 is a carbon-free supply (a market-based figure, a site on its own
#   dam: a real figure, not unknown); else 1-1,500 kg CO2/MWh: wind's and nuclear's life-cycle
#   ~11-12 kg/MWh (IPCC AR5 WGIII Annex III, Table A.III.2 medians) are the least of any
#   supply, lignite's ~1,200 the most of any fuel; a figure in (0, 1) is kg/kWh or t/MWh (US
#   0.366 kg/kWh is 366 kg/MWh), one above 1,500 lb/MWh or g/MWh.
GRID_KG_CO2_PER_MWH = GridKgCo2PerMwh(0.0, 1500.0, note="kg CO2 per MWh")

NETWORK = Table({
    # required: a network without it had been taken for scale-out silently, and then reported
    # as "a scale_out network" where an accelerator named it for scale-up
    "name": Key(TEXT), "tier": Key(Text(("scale_up", "scale_out")), required=True),
    "technology": Key(TEXT),
    "accelerator_vendors": Key(List(KEY, min_items=1), note="the vendors (an accelerator "
                               "file's vendor) whose devices attach to this fabric; absent: any"),
    "link_gb_per_s": figure(_positive(1e6, "GB/s a device has on the fabric, one direction: "
                                      "its port, or its links' aggregate", low=0.3)),
    "switch_radix": figure(_count(1e5, "ports", low=2)),
    "hop_latency_us": figure(HOP_LATENCY_US),
    "achievable_fraction": figure(Number(0.01, 1, note="of line rate")),
    "switch_usd": figure(_positive(1e9, "USD")), "year": figure(YEAR),
    "device_gb_per_s": figure(_positive(1e6, "GB/s per device, one direction", low=0.3)),
}, what="a network file (docs/catalog.md)")
SITE = Table({
    "name": Key(TEXT), "region": Key(TEXT),
    "power_cap_mw": figure(_positive(MAX_POWER_W / 1e6, "MW, facility")),
    "pue": figure(Number(1, MAX_PUE, note="facility power / IT power")),
    "peak_pue": figure(Number(1, MAX_PUE, note="facility power / IT power at full load")),
    "energy_usd_per_kwh": figure(Number(0, MAX_ENERGY_USD_PER_KWH, note="USD per kWh")),
    "capex_usd_per_mw": figure(CAPEX_USD_PER_MW),
    "grid_kg_co2_per_mwh": figure(GRID_KG_CO2_PER_MWH),
    "storage_write_gb_per_s": figure(_positive(1e9, "GB/s", low=1e-3)),
}, what="a site file (docs/catalog.md)")

# Widths and counts of a shape: 2^24 is ~1,000x any published model's (hidden 18,432 in
# PaLM); the parameter count of the whole shape is bounded too (plan/inputs.py).
DIM = Number(1, MAX_SHAPE, whole=True)
DIM0 = Number(0, MAX_SHAPE, whole=True)
ARCHITECTURE = Table({
    "source": Key(Text(nonempty=True), required=True), "as_of": Key(AS_OF, required=True),
    "note": Key(TEXT),
    "layers": Key(DIM, note="with hidden, heads and vocab: the published shape (none of them: "
                            "the shape rule from [training] params)"),
    "hidden": Key(DIM), "heads": Key(DIM), "kv_heads": Key(DIM, note="default: heads"),
    "ffn": Key(DIM0, note="dense FFN width; needed by a dense model"),
    "vocab": Key(DIM),
    **{k: Key(DIM0) for k in ("experts", "top_k", "expert_ffn", "shared_experts",
                              "dense_layers", "head_dim", "kv_lora_rank", "q_lora_rank",
                              "rope_head_dim", "v_head_dim")},
    "expert_groups": Key(DIM0, note="routing groups the experts are split into (DeepSeek-V3: "
                                    "8, one per node)"),
    "group_top_k": Key(DIM0, note="groups a token may route to (DeepSeek-V3: 4)"),
    "window": Key(DIM0, note="sliding-window attention: the keys a query attends in the "
                             "layers that have it (Gemma 3: 1024); 0 or absent: none"),
    "window_layers": Key(DIM0, note="the layers with the window (Gemma 3: 5 of every 6; "
                                    "absent beside a window: every layer)"),
}, what="the [architecture] table")
TRAINING = Table({
    "source": Key(Text(nonempty=True), required=True), "as_of": Key(AS_OF, required=True),
    "note": Key(TEXT), "params": Key(Number(0, MAX_PARAMS, low_open=True)),
    "active_params": Key(Number(0, MAX_PARAMS, low_open=True)),
    "tokens": Key(Number(0, MAX_TOKENS, note="0: unknown, give --tokens")),
    "seq_len": Key(Number(1, MAX_SEQ_LEN, whole=True)),
    "global_batch_tokens": Key(Number(1, MAX_BATCH_TOKENS)),
}, what="the [training] table")
FLOP_CONVENTIONS = ("megatron2021", "palm", "causal", "noncausal", "6n")
# Block-scaled formats a published row may name: MXFP8 (OCP Microscaling spec v1.0) and NVFP4
# (NVIDIA Blackwell), computed at the FP8 and FP4 peaks.
PUBLISHED_PRECISIONS = ("mxfp8", "nvfp4")
POSITIVE = Number(0, low_open=True)
STAGE = Table({
    "name": Key(TEXT), "tokens": Key(Number(0, MAX_TOKENS, low_open=True), required=True),
    "gpus": Key(Number(1, MAX_DEVICES, whole=True)), "seq_len": Key(Number(1, MAX_SEQ_LEN,
                                                                          whole=True)),
    "global_batch_tokens": Key(Number(1, MAX_BATCH_TOKENS)), "layout": Key(TEXT),
    "note": Key(TEXT),
}, what="a stage { tokens = ..., gpus = ..., ... }")
REFERENCE = Table({
    "row_id": Key(Text(nonempty=True), required=True),
    "kind": Key(Text(("throughput", "whole_run")), required=True),
    "source": Key(Text(nonempty=True), required=True), "as_of": Key(AS_OF, required=True),
    "accelerator": Key(KEY), "gpus": Key(Number(1, MAX_DEVICES, whole=True)),
    "layout": Key(TEXT), "seq_len": Key(Number(1, MAX_SEQ_LEN, whole=True)),
    "global_batch_tokens": Key(Number(1, MAX_BATCH_TOKENS)),
    "tokens": Key(Number(0, MAX_TOKENS, low_open=True)),
    # as the source names it: the block-scaled formats run at their base format's peak
    # (calibrate.precision_of)
    "precision": Key(Text(PRECISIONS + PUBLISHED_PRECISIONS)),
    "flop_convention": Key(Text(FLOP_CONVENTIONS)), "tflops_per_gpu": Key(POSITIVE),
    "mfu_pct": Key(Number(0, 100, low_open=True)), "hfu_pct": Key(Number(0, 100, low_open=True)),
    "gpu_hours": Key(POSITIVE), "training_days": Key(POSITIVE), "energy_mwh": Key(POSITIVE),
    "cost_usd": Key(POSITIVE), "framework": Key(Text(tuple(FRAMEWORKS))), "network": Key(KEY),
    "stages": Key(List(STAGE)), "assumptions": Key(ASSUMPTIONS_SCHEMA),
    "flash_attention": Key(Boolean()), "dropout": Key(Boolean()), "unscored": Key(TEXT),
    "note": Key(TEXT),
    # provenance of the published figures (docs/catalog.md)
    "workload": Key(KEY, note="the workload's key (a measurements file's rows name it)"),
    "tokens_per_s_per_gpu": Key(POSITIVE, note="published tokens/s per device"),
    "source_url": Key(TEXT), "quote": Key(TEXT, note="the figure as the source prints it"),
    "confidence": Key(Text(REFERENCE_CONFIDENCE, note="P or V read in the primary source, S "
                                                      "a secondary copy, D derived, U "
                                                      "unverified")),
    "derived": Key(Boolean()), "stack": Key(TEXT), "team": Key(Text(TEAMS)),
}, what="a [[reference]]")
WORKLOAD = Table({
    "name": Key(TEXT), "family": Key(TEXT),
    "kind": Key(Text(("dense", "moe")), note="the shape's: moe with experts, dense without"),
    "ffn_type": Key(Text(FFN_TYPES)), "tie_embeddings": Key(Boolean()),
    "precision": Key(Text(PRECISIONS)), "note": Key(TEXT),
    "architecture": Key(ARCHITECTURE, required=True), "training": Key(TRAINING),
    "reference": Key(List(REFERENCE)),
}, what="a workload file (docs/catalog.md)")

# Keys a measurement file may give once, for all its rows (a row's own value wins).
MEASUREMENT_DEFAULTS = ("source", "source_url", "as_of", "confidence", "accelerator",
                        "framework", "stack", "team", "flop_convention", "precision",
                        "network", "kind")
MEASUREMENTS = Table({
    "name": Key(TEXT), "note": Key(TEXT),
    **{k: Key(REFERENCE.keys[k].node, note=REFERENCE.keys[k].note) for k in MEASUREMENT_DEFAULTS},
    "reference": Key(List(Anything(note="a [[reference]] row naming its workload")),
                     required=True),
}, what="a measurements file: one public source's rows (docs/catalog.md)")
SCHEMAS = {"accelerators": ACCELERATOR, "networks": NETWORK, "sites": SITE,
           "workloads": WORKLOAD, "measurements": MEASUREMENTS}
