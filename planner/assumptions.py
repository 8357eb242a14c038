"""Every default the planner uses, by name, with its value and source.

No bare constants in formulas: a formula reads its assumption from an ``Assumptions`` object,
the user can override any of them (``planner.estimate(..., assumptions={...})``), and a plan
reports the ones it used. Constants marked *calibrated* were fitted on the public reference runs
named beside them (docs/validation.md), never on held-back runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

from .errors import InputError
from .schema import Boolean, Key, Number, Table, Text, check
from .units import (
    MAX_BATCH_TOKENS,
    MAX_DEVICES,
    MAX_DURATION_S,
    MAX_ENERGY_USD_PER_KWH,
    MAX_PUE,
    MAX_SEQ_LEN,
    SECONDS_PER_DAY,
)

# Valid ranges the fields below share: a fraction that may not be zero (an efficiency), a
# share that may (an overlap), a positive or non-negative figure.
SHARE = Number(0, 1)
NON_NEGATIVE = Number(0)
# An achieved efficiency (of GEMMs, links, HBM, power): below 1% no training run goes (the
# lowest MFU published for a large run is ~10%), and the arithmetic of a smaller one
# overflows.
EFFICIENCY = Number(0.01, 1, note="an achieved fraction")
BYTES_PER_PARAM = Number(0.1, 1e3, note="bytes per parameter")  # fp4 weights hold 0.5
YEARS = Number(0.1, 100, note="years")
MAX_DEADLINE_DAYS = MAX_DURATION_S / SECONDS_PER_DAY
# Monte Carlo draws: at least 10 for a P10 and P90 to exist; at most a million (each draw
# holds ~30 float64 figures: ~250 MB), 250x the default's ~1% repeatability.
MIN_SAMPLES, MAX_SAMPLES = 10, 10**6
# A log-sd of 2 already spreads P10-P90 over a factor of 170: beyond it a range is no estimate.
MAX_LOG_SD = 2.0


def _a(value, source, unit="", valid=None):
    """One assumption: its default, source, unit and valid range (a planner.schema node)."""
    return field(default=value, metadata={"source": source, "unit": unit, "valid": valid})


@dataclass(frozen=True)
class Assumptions:
    # --- workload defaults -------------------------------------------------------------------
    seq_len: int = _a(8192, "Llama 3 405B pre-training sequence (Llama 3 report, sec. 3.4.1)",
                      "tokens",
                      valid=Number(1, MAX_SEQ_LEN, whole=True, note='tokens'))
    global_batch_tokens: float = _a(16 * 2**20, "Llama 3 405B batch of 16M tokens "
                                    "(Llama 3 report, sec. 3.4.1)", "tokens",
                                    valid=Number(1, MAX_BATCH_TOKENS, note='tokens'))
    accelerator: str = _a("h100-sxm", "the most widely deployed training accelerator of "
                          "2024-26 (Llama 3, xAI Colossus, Meta 24k clusters; reference/"
                          "hardware/accelerators.csv)",
                          valid=Text(nonempty=True, note='an accelerator key of the catalog'))
    deadline_days: float = _a(120.0, "planner default: frontier pre-training runs of 2023-25 "
                              "took 54-100 days (Llama 3 405B, GPT-4 estimates; "
                              "reference/runs.csv)", "days",
                              valid=Number(0, MAX_DEADLINE_DAYS, low_open=True, note='days'))
    batch_tolerance: float = _a(0.05, "planner default: the global batch may move by up to 5% "
                                "so data parallelism divides it (e.g. 2,000 instead of 2,048 "
                                "sequences on 100,000 GPUs); loss is flat in batch size well "
                                "below the critical batch (McCandlish et al. 2018, sec. 2.2); "
                                "0 keeps the batch exact, as the validation does",
                                valid=Number(0, 1, high_open=True))
    max_gpus: int = _a(1_000_000, "planner default: largest cluster the planner searches",
                       "devices",
                       valid=Number(1, MAX_DEVICES, whole=True, note='devices'))
    planning_mfu: float = _a(0.4, "a first guess of utilisation where a size is needed before "
                             "the step model has run (a fleet's size options, an inverse "
                             "plan's first probe), never an answer: Llama 3 405B trained at "
                             "38-43% BF16 MFU on 8-16k H100 (Llama 3 report, Table 4)",
                             valid=EFFICIENCY)
    # --- efficiency --------------------------------------------------------------------------
    gemm_efficiency: float = _a(0.87, "calibrated: achieved GEMM throughput in a training step "
                                "relative to the single-GEMM ceiling (MAMF), fitted on the "
                                "Megatron-LM 2021 and Korthikanti 2022 rows (docs/validation.md)",
                                valid=EFFICIENCY)
    gemm_k_overhead: float = _a(512.0, "calibrated: fixed cost of each GEMM output tile's "
                                "pipeline fill and drain, in units of the reduction dimension K "
                                "(efficiency K / (K + k0)); CUTLASS Hopper kernels stage 3-4 "
                                "K-tiles of 64 (NVIDIA CUTLASS docs, efficient GEMM); fitted on "
                                "the Korthikanti 2022 rows (docs/validation.md)", "elements",
                                valid=Number(0, 1e6, note='elements of K'))
    link_fraction_default: float = _a(0.8, "used only when a network profile has no measured "
                                      "fraction: NVLink ring ~0.82, NDR 0.92-0.96 "
                                      "(efficiency.md, sec. 3)",
                                      valid=EFFICIENCY)
    link_latency_default_s: float = _a(5e-6, "used only when a network profile has no latency: "
                                       "5-10 us per step intra-node (efficiency.md, sec. 3)", "s",
                                       valid=Number(0, 1, note='seconds'))
    elementwise_passes: float = _a(1.0, "memory-bound passes per tensor relative to the fused "
                                   "kernels of Megatron-LM/Transformer Engine (1.0); eager "
                                   "PyTorch frameworks take more (see FRAMEWORKS)",
                                   valid=Number(0.01, 100, note='passes relative to fused kernels'))
    hbm_efficiency: float = _a(0.9, "HBM copy reached 90.6% of spec on an H100-class card; "
                               "calculon uses 0.9 (reference/hardware/efficiency.md, sec. 2)",
                               valid=EFFICIENCY)
    matmul_fraction_default: float = _a(0.8, "used only when an accelerator has no measured "
                                        "matmul ceiling: H100 80.1%, B200 77.6% "
                                        "(stas00 ml-engineering MAMF table)",
                                        valid=EFFICIENCY)
    attention_efficiency: float = _a(0.75, "calibrated: FlashAttention kernel throughput "
                                     "relative to the GEMM ceiling, fitted on the two "
                                     "attention-heavy rows (Llama 3 128K, llm-foundry 7B at 8K; "
                                     "0.6 and 0.9 leave one of them >12% off, docs/validation.md); "
                                     "FlashAttention-2 reaches 50-73% of A100 peak (Dao 2023, "
                                     "fig. 5-6)",
                                     valid=EFFICIENCY)
    kernel_overhead_s: float = _a(1e-5, "launch and synchronisation gap per layer per pass: a "
                                  "few kernel launches of ~5 us (CUDA launch latency); the "
                                  "validation is insensitive to it (1e-5 vs 5e-5 moves MAPE "
                                  "<0.1 point)", "s",
                                  valid=Number(0, 1, note='seconds'))
    flash_attention: bool = _a(True, "FlashAttention is the default attention kernel since "
                               "2023 (Dao 2023); Megatron-LM 2021/2022 materialised scores",
                               valid=Boolean())
    dropout: bool = _a(False, "modern LLMs train without dropout (Llama 3, PaLM); GPT-3-era "
                       "Megatron runs used it (Korthikanti et al. 2022, sec. 4.1)",
                       valid=Boolean())
    tp_comm_overlap: float = _a(0.0, "Megatron-LM exposes tensor-parallel collectives unless "
                                "userbuffer overlap is enabled (Megatron-LM README, "
                                "--tp-comm-overlap)",
                                valid=SHARE)
    dp_comm_overlap: float = _a(1.0, "gradient reduction overlaps the backward pass of the last "
                                "microbatch (PyTorch DDP bucketing, Li et al. VLDB 2020)",
                                valid=SHARE)
    overlap_contention: float = _a(0.4, "calibrated: share of overlapped collective time that "
                                   "still lands on the critical path, since NCCL kernels take "
                                   "SMs and HBM bandwidth from concurrent compute (Jangda et al. "
                                   "2022, CoCoNet, sec. 2); fitted on the llm-foundry 13B row",
                                   valid=SHARE)
    cp_comm_overlap: float = _a(1.0, "ring attention overlaps KV exchange with the attention "
                                "of the previous block (Liu et al. 2023, Ring Attention)",
                                valid=SHARE)
    ep_comm_overlap: float = _a(0.0, "MoE dispatch/combine all-to-all on the critical path "
                                "unless DualPipe-style overlap (DeepSeek-V3 report, sec. 3.2.1)",
                                valid=SHARE)
    comm_sm_fraction: float = _a(0.0, "share of the streaming multiprocessors held by "
                                 "communication kernels for the whole step, so compute runs on "
                                 "the rest; 0 when collectives only contend while they overlap "
                                 "(that cost is overlap_contention). DeepSeek-V3 reserves 20 of "
                                 "132 H800 SMs for its all-to-all (report sec. 3.2.1)",
                                 valid=Number(0, 1, high_open=True))
    # --- memory ------------------------------------------------------------------------------
    weight_bytes: float = _a(2.0, "bf16 weights (Megatron-LM distributed optimizer docs)",
                             "bytes/param",
                             valid=BYTES_PER_PARAM)
    grad_bytes: float = _a(4.0, "fp32 main gradients (Megatron-LM distributed optimizer docs: "
                           "6 + 12/d bytes per parameter)", "bytes/param",
                           valid=Number(0, 1e3, note='bytes per parameter'))
    optimizer_bytes: float = _a(12.0, "fp32 master weights + Adam first and second moments "
                                "(Rajbhandari et al. 2020, ZeRO, sec. 3.1: K = 12)",
                                "bytes/param",
                                valid=Number(0, 1e3, note='bytes per parameter'))
    grad_reduce_bytes: float = _a(2.0, "gradients reduced in bf16 (Llama 3 report, sec. 3.3.2; "
                                  "PyTorch FSDP MixedPrecision reduce_dtype)", "bytes/param",
                                  valid=BYTES_PER_PARAM)
    framework_reserved_gb: float = _a(3.0, "CUDA context and kernels take 1-2 GB, NCCL buffers "
                                      "and allocator fragmentation more (stas00 "
                                      "ml-engineering, training/performance)", "GB",
                                      valid=Number(0, 1e4, note='GB'))
    # --- uncertainty (planner/uncertainty.py, docs/uncertainty.md) ----------------------------
    uncertainty_samples: int = _a(4000, "Monte Carlo draws: P10/P90 repeat to ~1% at 4,000 "
                                  "(binomial standard error of a 10% quantile, sqrt(.09/4000))",
                                  valid=Number(MIN_SAMPLES, MAX_SAMPLES, whole=True, note='draws'))
    efficiency_log_sd: float = _a(0.10, "log-sd of achieved throughput: the step model's "
                                  "throughput MAPE is ~4% on the reference runs it was fitted on "
                                  "(docs/validation.md); 0.10 allows for unseen software stacks",
                                  valid=Number(0, MAX_LOG_SD))
    failure_rate_log_sd: float = _a(0.41, "log-sd of the failure rate: Meta RSC-2 2.34 and RSC-1 "
                                    "6.50 vs Llama 3 3.8 failures per 1000 node-days (x0.6 to "
                                    "x1.7) as the 10-90% range (reliability.md, sec. 2)",
                                    valid=Number(0, MAX_LOG_SD))
    price_relative_range: float = _a(0.25, "cloud price range when the catalog gives none: "
                                     "1-yr contracts 35-40% below on-demand, indices moved "
                                     "+-25% in 2025-26 (power_cost.md, sec. 7)",
                                     valid=Number(0, 1, high_open=True))
    pue_relative_range: float = _a(0.08, "PUE range when the site gives none: liquid-cooled "
                                   "hyperscale 1.10-1.25 (power_cost.md, sec. 1)",
                                   valid=Number(0, 1, high_open=True))
    energy_price_relative_range: float = _a(0.4, "energy price range when the site gives none: "
                                            "US industrial 6-12 c/kWh by state (power_cost.md, "
                                            "sec. 3)",
                                            valid=Number(0, 1, high_open=True))
    # --- power, cost, reliability (used by power.py, cost.py, reliability.py) ------------------
    pue: float = _a(1.2, "modern AI colocation 1.20-1.25 (reference/hardware/power_cost.md, "
                    "sec. 1); the site's figure wins when a site is given",
                    valid=Number(1, MAX_PUE, note='facility power over IT power'))
    energy_usd_per_kwh: float = _a(0.0806, "US industrial average 2023, EIA Electric Power "
                                   "Monthly Table 5.6.A (power_cost.md, sec. 3)", "USD/kWh",
                                   valid=Number(0, MAX_ENERGY_USD_PER_KWH, note='USD per kWh'))
    grid_kg_co2_per_mwh: float = _a(float("nan"), "unknown unless the site gives it",
    valid=Number(0, 1e4, unknown=True, note='kg CO2 per MWh; nan: unknown'))
    power_utilisation: float = _a(0.9, "average-to-peak server power during large synchronous "
                                  "training; NVIDIA expects DGX H100 near peak, Epoch uses 0.75 "
                                  "(power_cost.md, sec. 2)",
                                  valid=EFFICIENCY)
    network_power_fraction: float = _a(0.08, "scale-out switches and storage add 5-10% to IT "
                                       "power (power_cost.md, sec. 2, lynx-cortex)",
                                       valid=SHARE)
    server_power_per_tdp: float = _a(1.82, "server power / GPU TDP, used only when an "
                                     "accelerator has no system power: DGX H100 10.2 kW / "
                                     "(8 x 700 W) = 1.82 (DGX A100 2.03; power_cost.md, "
                                     "sec. 2, NVIDIA datasheets via Epoch energy.py)",
                                     valid=Number(1, 100, note="a server draws at least its "
                                                  "accelerator"))
    failure_rate_per_device_hour: float = _a(419 / (16384 * 54 * 24), "Llama 3 405B: 419 "
                                             "unexpected interruptions in 54 days on 16,384 "
                                             "H100 (Llama 3 report, sec. 3.3.4)", "1/h",
                                             valid=Number(0, 1, note='failures per device-hour'))
    restart_s: float = _a(600.0, "failure detection, rescheduling and reload ~10 min "
                          "(reliability.md, sec. 5 worked examples)", "s",
                          valid=Number(0, MAX_DURATION_S, note='seconds'))
    checkpoint_write_gb_per_s: float = _a(2000.0, "Llama 3 Tectonic storage, 2 TB/s sustained "
                                          "(Llama 3 report via reliability.md, sec. 1)", "GB/s",
                                          valid=Number(1e-3, 1e9, note='GB/s'))
    checkpoint_bytes_per_param: float = _a(16.0, "mixed-precision Adam state: bf16 weights + "
                                           "fp32 master + 2 fp32 moments (reliability.md, "
                                           "sec. 4)", "bytes/param",
                                           valid=Number(0, 1e3, note='bytes per parameter'))
    depreciation_years: float = _a(5.0, "GPU/server useful life 5 years (Meta 2023; Epoch 2023+ "
                                   "convention; power_cost.md, sec. 6)", "years",
                                   valid=YEARS)
    cost_of_capital: float = _a(0.10, "planner default weighted cost of capital for data-centre "
                                "hardware; override with your own", "1/year",
                                valid=SHARE)
    facility_years: float = _a(15.0, "facility M&E depreciation 15 years (power_cost.md, "
                               "sec. 6)", "years",
                               valid=YEARS)
    maintenance_fraction: float = _a(0.03, "annual maintenance as a fraction of hardware capex "
                                     "(planner default; override with your own)", "1/year",
                                     valid=SHARE)
    server_overhead: float = _a(1.64, "server cost / GPU cost, Epoch hardware.py default "
                                "(power_cost.md, sec. 5)",
                                valid=Number(1, 100, note="a server costs at least its "
                                             "accelerator"))
    network_capex_fraction: float = _a(0.23, "cluster interconnect +23% on server cost "
                                       "(Cottier et al. 2024; power_cost.md, sec. 5)",
                                       valid=Number(0, 10))

    def __post_init__(self):
        # every value against its declared kind and range (one check, however it was given:
        # with_, --assume, assumptions={...}, a sweep spec or a catalog reference)
        for name, value in self.__dict__.items():
            if name in _FIELDS:
                checked = check_assumption(name, value)
                if checked is not value:
                    object.__setattr__(self, name, checked)

    def with_(self, **changes) -> "Assumptions":
        """These assumptions with some changed; an unknown name or a value outside its
        declared range is an InputError naming the assumption."""
        for name in changes:
            if name not in _FIELDS:
                raise InputError(f"--assume {name}", changes[name], "an assumption: "
                                 + ", ".join(_FIELDS), "is not an assumption")
        return replace(self, **changes)

    def source(self, name: str) -> str:
        """The source of one assumption, as the assumptions table reports it."""
        return self.__dataclass_fields__[name].metadata.get("source", "")

    def describe(self) -> dict:
        """name -> {value, unit, source} for every assumption."""
        return {f.name: {"value": getattr(self, f.name), "unit": f.metadata.get("unit", ""),
                         "source": f.metadata.get("source", "")} for f in fields(self)}


# name -> (kind, valid range) of every assumption: the one declaration check_assumption reads.
_FIELDS = {f.name: (f.type, f.metadata["valid"]) for f in fields(Assumptions)}
# The assumptions as one table (a sweep spec's [fixed] assumptions, a catalog reference's):
# what the published JSON Schemas say of them.
SCHEMA = Table({name: Key(valid, note=Assumptions.__dataclass_fields__[name].metadata["source"])
                for name, (_, valid) in _FIELDS.items()},
               what="a table of assumptions by name (planner/assumptions.py)")


def check_assumption(name: str, value, where: str = "--assume"):
    """The value of assumption ``name`` if it is of its kind and inside its declared range
    (a whole number given as 8192.0 comes back as 8192); otherwise an InputError naming
    ``where`` and the assumption, the value and the accepted range."""
    spec = _FIELDS.get(name)
    if spec is None:
        raise InputError(f"{where} {name}", value, "an assumption: " + ", ".join(_FIELDS),
                         "is not an assumption")
    kind, valid = spec
    check(valid, value, f"{where} {name}")
    if kind == "int" and not isinstance(value, int):
        return int(value)
    return value


def check_overrides(changes, where: str = "--assume") -> dict:
    """A dict of assumption overrides, each checked (check_assumption); anything but a dict
    of names is an InputError naming ``where``."""
    if not isinstance(changes, dict) or not all(isinstance(k, str) for k in changes):
        raise InputError(where, changes, "a dict of assumption overrides by name, e.g. "
                         "{'gemm_efficiency': 0.8}, or an Assumptions object",
                         "is not a dict of assumptions")
    return {k: check_assumption(k, v, where) for k, v in changes.items()}


DEFAULT = Assumptions()

_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


def parse_overrides(items, name: str = "--assume") -> dict:
    """``NAME=VALUE`` texts -> {name: value} for Assumptions.with_: the name must be an
    assumption, the value of its kind (true/false for a switch, a number for the others)
    and inside the assumption's declared range. An empty list gives an empty dict."""
    out: dict = {}
    for item in items or ():
        key, sep, text = str(item).partition("=")
        key, text = key.strip(), text.strip()
        if not sep or key not in _FIELDS:
            raise InputError(name, item, "NAME=VALUE with NAME one of " + ", ".join(_FIELDS))
        kind, valid = _FIELDS[key]
        if kind == "bool":
            if text.lower() not in _TRUE + _FALSE:
                raise InputError(f"{name} {key}", text, f"{key}=true or {key}=false")
            value = text.lower() in _TRUE
        elif kind == "str":
            value = text
        else:
            try:
                value = float(text)
            except ValueError:
                raise InputError(f"{name} {key}", text, f"{key}=N with N "
                                 + valid.accepted(), "is not a number") from None
        out[key] = check_assumption(key, value, name)
    return out

# Training frameworks differ in how many memory-bound passes they make over each activation:
# Megatron-LM / Transformer Engine fuse norms, bias, activation and residual kernels; eager
# PyTorch FSDP stacks (llm-foundry, 2023) run them unfused, with autocast copies.
FRAMEWORKS = {
    "megatron": {},
    "pytorch-fsdp": {"elementwise_passes": 3.5},  # calibrated on the six llm-foundry H100 rows
    # GPT-NeoX as used for Pythia (2022-23): only softmax and bias-GELU fused, the rest eager
    # (the pytorch-fsdp calibration, not fitted to any GPT-NeoX run), and FlashAttention 1,
    # which reaches half the throughput of FlashAttention 2 (Dao 2023, abstract: 25-40% vs
    # 50-73% of A100 peak, ~2x): half the calibrated FlashAttention-2 efficiency.
    "gpt-neox": {"elementwise_passes": 3.5, "attention_efficiency": 0.375},
}
FRAMEWORK_SOURCES = {
    "megatron": "Megatron-LM / Transformer Engine fused kernels (default)",
    "pytorch-fsdp": ("calibrated on the llm-foundry H100 benchmark rows (MPT 1B-70B, "
                     "docs/validation.md): eager PyTorch makes ~3.5x the memory-bound passes of "
                     "Megatron-LM's fused kernels"),
    "gpt-neox": ("GPT-NeoX 2022-23 (Pythia configs: only softmax and bias-GELU fused): eager "
                 "memory-bound passes as pytorch-fsdp (llm-foundry calibration) and "
                 "FlashAttention 1 at half the FlashAttention-2 efficiency (Dao 2023: ~2x)"),
}


def for_framework(asm: Assumptions, framework: str | None) -> Assumptions:
    """Assumptions with a framework's overrides applied (unknown names are an error)."""
    if framework is None:
        return asm
    if framework not in FRAMEWORKS:
        raise KeyError(framework)
    return asm.with_(**FRAMEWORKS[framework])


# --- engineering defaults of many-scenario runs (planner/many/) -------
# These decide how fast answers come and how much memory they take, never what the answers are.

# The most scenarios a sweep spec may have unless it says otherwise (max_scenarios = N): a
# billion rows take hours at the rates benchmarks/bench_sweep.py measures and ~100 GB of
# Parquet; a spec of more is most likely an axis too many. Its own max_scenarios may raise
# it up to MAX_SWEEP_SCENARIOS_LIMIT, past which the list of chunks to answer alone would
# not fit in memory.
SWEEP_SCENARIOS = 10**9
MAX_SWEEP_SCENARIOS_LIMIT = 10**11
# Scenarios answered together. 65,536 rows x ~140 answer columns x 8 bytes is ~75 MB per chunk,
# so a sweep of any length stays far under 1 GB per process; below ~16K rows a chunk spends
# most of its time in per-chunk Python work (measured with benchmarks/bench_sweep.py).
SWEEP_CHUNK_ROWS = 65_536
# A (workload, cluster, layout) key with at least this many candidate layouts is scored alone
# by search.search, on a scalar architecture (~1.6x faster per layout than arrays of
# architectures); keys with fewer are scored together in one step.evaluate call.
SEARCH_ALONE_LAYOUTS = 512
# Candidate layouts scored by one step.evaluate call (~80 arrays of 8 bytes each per layout:
# ~40 MB), however many keys a chunk brings.
SCORE_BATCH_LAYOUTS = 65_536
# Scored keys kept between chunks (~0.3 KB each, ~60 MB at most); past it they are dropped and
# scored again when met.
SCORE_CACHE_KEYS = 200_000
# Layout searches and sizing probes shared between the scenarios answered by estimate itself
# (no device count given), kept from chunk to chunk (a few KB each, compacted).
SHARED_SEARCHES_KEPT = 20_000
# Chunks in flight per worker (local process or Dask worker): two keep a worker busy while the
# coordinator writes the previous part; more would only hold memory.
SWEEP_INFLIGHT_PER_WORKER = 2
