"""Every default the planner uses, by name, with its value and source.

No bare constants in formulas: a formula reads its assumption from an ``Assumptions`` object,
the user can override any of them (``planner.estimate(..., assumptions={...})``), and a plan
reports the ones it used. Constants marked *calibrated* were fitted on the public reference runs
named beside them (docs/validation.md), never on held-back runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace

from .errors import InputError, did_you_mean
from .schema import Boolean, GridKgCo2PerMwh, Key, Number, Table, Text, check, plain
from .specs import PRICE_RELATIVE_RANGE, TEAMS
from .units import (
    MAX_BATCH_TOKENS,
    MAX_DEVICES,
    MAX_DURATION_S,
    MAX_ENERGY_USD_PER_KWH,
    MAX_PUE,
    MAX_SEQ_LEN,
    MIN_DEADLINE_S,
    SECONDS_PER_DAY,
    ascii_float,
    parse_count,
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
PASSES = Number(0, 100, note="memory-bound passes relative to fused kernels")
MAX_DEADLINE_DAYS = MAX_DURATION_S / SECONDS_PER_DAY
# Monte Carlo draws: at least 10 for a P10 and P90 to exist; at most a million (each draw
# holds ~30 float64 figures: ~250 MB), 250x the default's ~1% repeatability.
MIN_SAMPLES, MAX_SAMPLES = 10, 10**6
# A log-sd of 2 already spreads P10-P90 over a factor of 170: beyond it a range is no estimate.
MAX_LOG_SD = 2.0
# The kinds of team a plan may name (--team), or none: the realisation of all public runs.
TEAMS_OR_NONE = ("",) + TEAMS


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
                          "2024-26: Llama 3 405B trained on 16,384 H100 of Meta's 24,576-GPU "
                          "clusters "
                          "(Llama 3 report, arXiv 2407.21783, sec. 3.3.1; Meta, 'Building "
                          "Meta's GenAI Infrastructure', engineering.fb.com, 2024-03)",
                          valid=Text(nonempty=True, note='an accelerator key of the catalog'))
    deadline_days: float = _a(120.0, "planner default: frontier pre-training runs of 2023-25 "
                              "took 54-100 days (Llama 3 report, arXiv 2407.21783, sec. "
                              "3.3.4: a 54-day window of 405B pre-training; GPT-4: 90-100 "
                              "days, SemiAnalysis estimate, 2023-07-10)", "days",
                              valid=Number(MIN_DEADLINE_S / SECONDS_PER_DAY, MAX_DEADLINE_DAYS,
                                           note='days'))
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
    gemm_efficiency: float = _a(0.91, "calibrated: achieved GEMM throughput in a training step "
                                "relative to the single-GEMM ceiling (MAMF), fitted on every "
                                "throughput row (planner/calibrate.py, docs/validation.md); "
                                "isolated GEMMs on an H200 sustain 0.86-0.90 of the MAMF "
                                "figure under the card's power limit (docs/validation.md, "
                                "kernel check)",
                                valid=EFFICIENCY)
    gemm_k_overhead: float = _a(640.0, "calibrated: an efficiency K / (K + k0) on every GEMM, K "
                                "its reduction dimension, fitted on every throughput row "
                                "(docs/validation.md); it carries what tensor-parallel layouts "
                                "lose on the Trainium and Megatron-Core rows, not a kernel's "
                                "fill and drain: isolated GEMMs on an H200 show none of it "
                                "(docs/validation.md, kernel check)", "elements",
                                valid=Number(0, 1e6, note='elements of K'))
    link_fraction_default: float = _a(0.8, "used only when a network profile has no measured "
                                      "fraction: NVLink ring busbw ~0.82 of the link rate "
                                      "(NVIDIA/nccl-tests issue 212), InfiniBand NDR 0.92-0.96 "
                                      "(NVIDIA/nccl-tests issue 290)",
                                      valid=EFFICIENCY)
    switch_radix_default: float = _a(64, "used only when the scale-out network profile has no "
                                     "radix: the ports of an NDR InfiniBand switch, NVIDIA "
                                     "QM9700 (docs.nvidia.com QM97X0 user manual: 64 x 400G; "
                                     "hardware/networks/ib-ndr.toml)", "ports",
                                     valid=Number(2, 1e5, whole=True, note="ports"))
    link_latency_default_s: float = _a(5e-6, "used only when a network profile has no latency: "
                                       "llm-analysis takes 8 us per intra-node message "
                                       "(cli99/llm-analysis gpu_configs), calculon 1-2 us "
                                       "(calculon-ai/calculon systems/*.json)", "s",
                                       valid=Number(0, 1, note='seconds'))
    elementwise_passes: float = _a(1.0, "memory-bound passes per tensor relative to the fused "
                                   "kernels of Megatron-LM/Transformer Engine (1.0); eager "
                                   "PyTorch frameworks take more (see FRAMEWORKS)",
                                   valid=PASSES)
    hbm_efficiency: float = _a(0.9, "achievable HBM bandwidth / spec for transfers of 100 "
                               "MB and more: calculon uses 0.9 (calculon-ai/calculon "
                               "systems/h100_80g_nvl8.json, mem1 efficiency)",
                               valid=EFFICIENCY)
    matmul_fraction_default: float = _a(0.8, "used only when an accelerator has no measured "
                                        "matmul ceiling: H100 80.1%, B200 77.6% "
                                        "(stas00 ml-engineering MAMF table)",
                                        valid=EFFICIENCY)
    attention_efficiency: float = _a(0.55, "calibrated: FlashAttention kernel throughput on "
                                     "long sequences (x attention_fill_tokens' fill at shorter "
                                     "ones) relative to the GEMM ceiling for kernels tuned to "
                                     "their chip, fitted on every throughput row "
                                     "(docs/validation.md); "
                                     "FlashAttention-2 reaches 50-73% of A100 peak (Dao 2023, "
                                     "fig. 5-6)",
                                     valid=EFFICIENCY)
    attention_fill_tokens: float = _a(550.0, "causal FlashAttention's throughput at sequence "
                                      "length s is s / (s + s0) of its long-sequence rate (a "
                                      "fixed cost per block of queries and the diagonal "
                                      "blocks): s0 = 495 fits FlashAttention-2 on A100 and 553 "
                                      "on H100 within 5% from 512 to 16K tokens (Dao 2023, fig. "
                                      "4d and 7d: 99 -> 189 and 163 -> 328 TFLOP/s, causal, "
                                      "head dim 128); 0 takes every length at the long-"
                                      "sequence rate", "tokens",
                                      valid=Number(0, 1e6, note='tokens'))
    kernel_overhead_s: float = _a(1e-5, "launch and synchronisation gap per layer per pass: a "
                                  "few kernel launches of ~5 us (CUDA launch latency); the "
                                  "validation is insensitive to it (1e-5 vs 5e-5 moves MAPE "
                                  "<0.1 point)", "s",
                                  valid=Number(0, 1, note='seconds'))
    flash_attention_2: bool = _a(False, "the stack's attention kernel is FlashAttention-2 (PyTorch "
                                 "SDPA's flash backend, flash-attn 2), which predates Hopper's "
                                 "asynchronous tensor cores; Transformer Engine / cuDNN, "
                                 "MaxText and vendor stacks run kernels tuned for their chip "
                                 "(FRAMEWORKS)",
                                 valid=Boolean())
    ported_attention_efficiency: float = _a(0.2, "calibrated: attention-kernel throughput "
                                            "relative to the GEMM ceiling in the vendor stacks "
                                            "that port FlashAttention-style kernels to non-CUDA "
                                            "accelerators (Intel Gaudi FusedSDPA, AWS Neuron "
                                            "NKI), fitted on the Gaudi and Trainium rows "
                                            "(docs/validation.md)",
                                            valid=EFFICIENCY)
    fa2_hopper_ratio: float = _a(0.47, "FlashAttention-2's throughput on Hopper-class NVIDIA GPUs "
                                 "relative to a kernel written for them: 35% vs 75% of H100 "
                                 "peak (Shah et al. 2024, FlashAttention-3, abstract)",
                                 valid=EFFICIENCY)
    flash_attention: bool = _a(True, "FlashAttention is the default attention kernel since "
                               "2023 (Dao 2023); Megatron-LM 2021/2022 materialised scores",
                               valid=Boolean())
    full_recompute_fraction: float = _a(1.0, "share of the transformer blocks that "
                                        "recompute=full checkpoints: every block in "
                                        "Megatron-LM (--recompute-granularity full); "
                                        "torchtitan's selective layer AC checkpoints every "
                                        "2nd block (0.5, selective_ac_option '2'), fms-fsdp "
                                        "a share p (selective_checkpointing, "
                                        "fms_fsdp/policies/ac_handler.py)",
                                        valid=Number(0, 1, low_open=True, note='a share of '
                                                     'the blocks'))
    block_recompute: bool = _a(False, "the stack can recompute a share of the blocks whole "
                               "and keep the rest (the layout search then tries full "
                               "recompute of 1/4, 1/2 and 3/4 of the blocks, recompute="
                               "full:0.25..0.75, when full_recompute_fraction is 1): "
                               "Megatron-Core and NeMo's block method (recompute_method="
                               "block, recompute_num_layers; NeMo Framework user guide, "
                               "'Activation Recomputation', partial Transformer layer "
                               "recomputation), fms-fsdp's share p of the blocks "
                               "(fms_fsdp/policies/ac_handler.py), torchtitan's every Nth "
                               "block (selective_ac_option)",
                               valid=Boolean())
    dropout: bool = _a(False, "modern LLMs train without dropout (Llama 3, PaLM); GPT-3-era "
                       "Megatron runs used it (Korthikanti et al. 2022, sec. 4.1)",
                       valid=Boolean())
    sequence_parallel: bool = _a(True, "tensor-parallel ranks split the layer norms, dropout "
                                 "and residual adds along the sequence (Korthikanti et al. "
                                 "2022, sec. 4.2.2), as Megatron-LM has since 2022; without it "
                                 "(Megatron-LM 2021, Narayanan et al. 2021) every rank runs "
                                 "them, and keeps their activations, for the whole sequence",
                                 valid=Boolean())
    tp_comm_overlap: float = _a(0.0, "Megatron-LM exposes tensor-parallel collectives unless "
                                "userbuffer overlap is enabled (Megatron-LM README, "
                                "--tp-comm-overlap); stacks that overlap them take "
                                "tp_overlap_fraction (FRAMEWORKS)",
                                valid=SHARE)
    tp_overlap_fraction: float = _a(0.7, "calibrated: share of the tensor-parallel collective "
                                    "time hidden behind the GEMMs by Transformer Engine "
                                    "userbuffers (NeMo / Megatron-Core performance recipes, "
                                    "tp_comm_overlap=True; Wang et al. 2022, 'Overlap "
                                    "communication with dependent computation via "
                                    "decomposition'), fitted on the NeMo and Megatron-Core rows "
                                    "(docs/validation.md)",
                                    valid=SHARE)
    eager_elementwise_passes: float = _a(1.25, "calibrated: memory-bound passes of eager "
                                         "PyTorch (norms, activations, residuals, autocast "
                                         "copies unfused) relative to Megatron-LM's fused "
                                         "kernels, fitted on the eager PyTorch FSDP rows "
                                         "(llm-foundry, fms-fsdp, torchtitan; "
                                         "docs/validation.md)",
                                         valid=PASSES)
    compiled_elementwise_passes: float = _a(0.0, "calibrated: memory-bound passes left after a "
                                            "graph compiler fuses elementwise chains "
                                            "(torch.compile / TorchInductor), fitted on the "
                                            "compiled PyTorch rows (fms-fsdp, torchtitan; "
                                            "docs/validation.md)",
                                            valid=PASSES)
    xla_elementwise_passes: float = _a(1.5, "calibrated: memory-bound passes left after XLA "
                                       "fuses elementwise work into the neighbouring matmuls "
                                       "and reductions (XLA operation fusion), fitted on the "
                                       "MaxText rows (docs/validation.md)",
                                       valid=PASSES)
    xla_matmul_fraction: float = _a(0.97, "calibrated: achieved matmul throughput over the "
                                    "dense peak under XLA on accelerators with no measured "
                                    "ceiling (TPUs), the whole step's GEMM efficiency "
                                    "included, fitted on the MaxText rows (docs/validation.md)",
                                    valid=EFFICIENCY)
    interleaved_pipeline: bool = _a(True, "the stack runs the interleaved 1F1B schedule "
                                    "(virtual stages; Narayanan et al. 2021, sec. 2.2.2); "
                                    "DeepSpeed's pipeline engine runs plain 1F1B (DeepSpeed "
                                    "docs, pipeline parallelism: TrainSchedule), so its bubble "
                                    "is (p-1)/m",
                                    valid=Boolean())
    pipeline_zero_max: int = _a(3, "the highest ZeRO stage the stack runs beside pipeline "
                                "parallelism (3: no limit); DeepSpeed's pipeline engine refuses "
                                "ZeRO-2 and ZeRO-3 (deepspeed/runtime/pipe/engine.py asserts "
                                "zero_optimization_stage() < ZeRO-2: 'ZeRO-2 and ZeRO-3 are "
                                "incompatible with pipeline parallelism')",
                                valid=Number(0, 3, whole=True, note="a ZeRO stage"))
    kv_heads_split: bool = _a(True, "the stack splits the KV heads across tensor ranks, so "
                              "tp divides them (Megatron-Core attention.py: "
                              "num_query_groups_per_partition = divide(num_query_groups, tp)); "
                              "MaxText (XLA sharding) and NeuronX Distributed replicate them "
                              "when tp exceeds them", valid=Boolean())
    zero3_messages_per_layer: float = _a(1.0, "collectives per transformer layer per ZeRO-3 "
                                         "gather or gradient reduce-scatter: PyTorch FSDP "
                                         "wraps each block as one flat unit (Zhao et al. "
                                         "2023, sec. 3.3.1); DeepSpeed ZeRO-3 fetches each "
                                         "submodule's parameters in its own forward hook "
                                         "(FRAMEWORKS)",
                                         valid=Number(1, 1e3, note='collectives per layer'))
    zero3_shard_group: int = _a(0, "devices one copy of the weights is sharded over under "
                                "ZeRO-3: 0 = every data-parallel rank (full sharding); hybrid "
                                "sharding shards inside a group (a node, a TPU slice) and "
                                "replicates across groups (PyTorch FSDP HYBRID_SHARD, Zhao et "
                                "al. 2023, sec. 3.2.2; MaxText ICI fsdp x DCN data)",
                                "devices",
                                valid=Number(0, MAX_DEVICES, whole=True,
                                             note='devices; 0: every data-parallel rank'))
    dp_comm_overlap: float = _a(1.0, "gradient reduction overlaps the backward pass of the last "
                                "microbatch (PyTorch DDP bucketing, Li et al. VLDB 2020)",
                                valid=SHARE)
    overlap_contention: float = _a(0.35, "calibrated: share of overlapped collective time that "
                                   "still lands on the critical path, since NCCL kernels take "
                                   "SMs and HBM bandwidth from concurrent compute (Jangda et al. "
                                   "2022, CoCoNet, sec. 2); fitted on every throughput row "
                                   "(docs/validation.md)",
                                   valid=SHARE)
    cp_comm_overlap: float = _a(1.0, "ring attention overlaps KV exchange with the attention "
                                "of the previous block (Liu et al. 2023, Ring Attention)",
                                valid=SHARE)
    ep_comm_overlap: float = _a(0.0, "share of the MoE dispatch/combine all-to-all scheduled "
                                "under another microbatch's compute; what is hidden still "
                                "costs overlap_contention, what exceeds that compute stays "
                                "exposed. 0: on the critical path (Megatron-Core's dispatchers "
                                "without --overlap-moe-expert-parallel-comm); 1: DualPipe "
                                "(DeepSeek-V3 report sec. 3.2.1) and Megatron-Core's EP A2A "
                                "overlap (MCore v0.14, Megatron-Core MoE README), which pair "
                                "the forward and backward of two microbatches (FRAMEWORKS)",
                                "fraction", valid=SHARE)
    ep_hierarchical_dispatch: bool = _a(False, "MoE tokens cross the scale-out network once per "
                                        "node hosting their experts and fan out over the "
                                        "scale-up fabric, dispatched in FP8 under FP8 training "
                                        "(DeepEP; DeepSeek-V3 report sec. 3.2.2, 3.3.3), as "
                                        "Megatron-Core's flex dispatcher does (FRAMEWORKS); "
                                        "false: a plain NCCL all-to-all, one BF16 copy per "
                                        "(token, expert) (Megatron-Core alltoall dispatcher)",
                                        valid=Boolean())
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
    grad_reduce_bytes: float = _a(2.0, "gradients reduced in bf16, as Megatron-LM's "
                                  "--grad-reduce-in-bf16 and PyTorch FSDP's MixedPrecision("
                                  "reduce_dtype=bfloat16) run them; Llama 3 reduced them in FP32 "
                                  "for stability (report sec. 3.3.2), as Megatron-LM's default "
                                  "does unless --grad-reduce-in-bf16 is given (--assume "
                                  "grad_reduce_bytes=4: "
                                  "docs/validation.md weighs it)", "bytes/param",
                                  valid=BYTES_PER_PARAM)
    memory_headroom_fraction: float = _a(0.05, "HBM a layout search keeps free for allocator "
                                         "fragmentation and spikes, beyond "
                                         "framework_reserved_gb: PyTorch's caching allocator "
                                         "wastes 9.2 GB of 80 on average over eight LLMs (Guo "
                                         "et al., GMLake, ASPLOS 2024, sec. 6); published "
                                         "layouts reach 94% of HBM by this memory model (Llama "
                                         "3 405B at tp8 pp16, Llama 3 report sec. 3.3.2), so "
                                         "5% keeps them; a layout above it is taken only when "
                                         "none fits inside it", "fraction",
                                         valid=Number(0, 0.9, note='fraction of HBM kept free'))
    framework_reserved_gb: float = _a(3.0, "CUDA context and kernels take 1-2 GB, NCCL buffers "
                                      "and allocator fragmentation more (stas00 "
                                      "ml-engineering, training/performance)", "GB",
                                      valid=Number(0, 1e4, note='GB'))
    # --- uncertainty (planner/uncertainty.py, docs/uncertainty.md) ----------------------------
    uncertainty_samples: int = _a(4000, "Monte Carlo draws: P10/P90 repeat to ~1% at 4,000 "
                                  "(binomial standard error of a 10% quantile, sqrt(.09/4000))",
                                  valid=Number(MIN_SAMPLES, MAX_SAMPLES, whole=True, note='draws'))
    efficiency_log_sd: float = _a(0.11, "log-sd of achieved throughput: the step model's "
                                  "throughput MAPE is 8.6% on sources its constants never saw "
                                  "(leave-one-source-out over 170 public rows, "
                                  "docs/validation.md) and 9.3% on accelerator families they "
                                  "never saw (leave-one-family-out: a new generation of a "
                                  "measured maker), and a normal error's sd is 1.25x its mean "
                                  "absolute value: 0.11-0.12, 0.11; on a maker they never saw "
                                  "11.3% (leave-one-maker-out; sd 0.14), a range the fitted "
                                  "whole-run residual's is wider than",
                                  valid=Number(0, MAX_LOG_SD))
    failure_rate_log_sd: float = _a(0.41, "log-sd of the failure rate: Meta RSC-2 2.34 and RSC-1 "
                                    "6.50 vs Llama 3 3.8 failures per 1000 node-days (x0.6 to "
                                    "x1.7) as the 10-90% range (Kokolis et al. 2025, arXiv "
                                    "2410.21680; Llama 3 report sec. 3.3.4)",
                                    valid=Number(0, MAX_LOG_SD))
    price_relative_range: float = _a(PRICE_RELATIVE_RANGE, "cloud price range when the "
                                     "catalog gives none: "
                                     "the SemiAnalysis H100 1-year contract index moved "
                                     "from $1.70 (Oct 2025) to $2.35 (Mar 2026), +-16% around "
                                     "its middle, $2.03",
                                     valid=Number(0, 1, high_open=True))
    pue_relative_range: float = _a(0.08, "PUE range when the site gives none: liquid-cooled "
                                   "hyperscale 1.10-1.25 (Epoch AI, training-cost-trends "
                                   "energy.py: PUE 1.1 for hyperscalers, 1.25 for others)",
                                   valid=Number(0, 1, high_open=True))
    energy_price_relative_range: float = _a(0.4, "energy price range when the site gives none: "
                                            "US industrial 6-12 c/kWh by state (EIA Electric "
                                            "Power Monthly, Table 5.6.B)",
                                            valid=Number(0, 1, high_open=True))
    # --- power, cost, reliability (used by power.py, cost.py, reliability.py) ------------------
    pue: float = _a(1.2, "modern AI colocation 1.20-1.25 (Epoch AI, training-cost-trends "
                    "energy.py: 1.25 outside the hyperscalers; SemiAnalysis, 'AI Datacenter "
                    "Energy Dilemma': AI specs aim below 1.3); the default where the site gives "
                    "none (an assumed one replaces the site's)",
                    valid=Number(1, MAX_PUE, note='facility power over IT power'))
    peak_pue_uplift: float = _a(0.10, "design-day (peak) PUE over the annual PUE when the site "
                                "gives no peak (an assumed one replaces the site's peak): a "
                                "public cluster sizer contracts the grid at "
                                "PUE 1.20 for liquid-cooled campuses running 1.10 a year "
                                "(aiinframap.com Cluster Buildout Sizer); Facebook Prineville "
                                "was designed for 1.15 against 1.08 annualised (Facebook "
                                "Engineering, 2011)",
                                valid=Number(0, MAX_PUE - 1, note='PUE points'))
    energy_usd_per_kwh: float = _a(0.0806, "US industrial average 2023, EIA Electric Power "
                                   "Monthly Table 5.6.A", "USD/kWh",
                                   valid=Number(0, MAX_ENERGY_USD_PER_KWH, note='USD per kWh'))
    grid_kg_co2_per_mwh: float = _a(float("nan"), "unknown unless the site gives it (an "
                                    "assumed one replaces the site's)",
                                    valid=GridKgCo2PerMwh(0.0, 1500.0, unknown=True,
                                                          note='kg CO2 per MWh; nan: unknown'))
    power_utilisation: float = _a(0.9, "average-to-peak server power during large synchronous "
                                  "training: NVIDIA's DGX SuperPOD data-center design guide "
                                  "expects DGX H100 at or near peak, Epoch AI uses 0.75 "
                                  "(training-cost-trends energy.py)",
                                  valid=EFFICIENCY)
    network_power_fraction: float = _a(0.08, "scale-out switches and storage add 5-10% to IT "
                                       "power (planner default from a secondary estimate, "
                                       "lynx-cortex; override with your own)",
                                       valid=SHARE)
    server_power_per_tdp: float = _a(1.82, "server power / GPU TDP, used where an "
                                     "accelerator has no system power, and in its place when "
                                     "given (--assume): DGX H100 10.2 kW / "
                                     "(8 x 700 W) = 1.82 (DGX A100 6.5 kW / (8 x 400 W) = "
                                     "2.03; NVIDIA DGX H100 and DGX A100 datasheets, quoted in "
                                     "Epoch AI training-cost-trends energy.py)",
                                     valid=Number(1, 100, note="a server draws at least its "
                                                  "accelerator"))
    server_host_w_max: float = _a(575.0, "the host's share of a server's power per device "
                                  "(CPUs, memory, NICs, fans) where the catalog gives no "
                                  "system power, at most: DGX H100's 10.2 kW / 8 "
                                  "- 700 W = 575 W (NVIDIA DGX H100 datasheet). It does not grow "
                                  "in proportion to the accelerator's rating (the catalog's "
                                  "servers: DGX B200 788 W, GB200 NVL72 633 W, GB300 NVL72 544 "
                                  "W a GPU, at 1.4-2x H100's rating), so server_power_per_tdp "
                                  "stops at DGX H100's share for a large part", "W",
                                  valid=Number(0, 1e5, note="watts"))
    failure_rate_per_device_hour: float = _a(419 / (16384 * 54 * 24), "Llama 3 405B: 419 "
                                             "unexpected interruptions in 54 days on 16,384 "
                                             "H100 (Llama 3 report, sec. 3.3.4)", "1/h",
                                             valid=Number(0, 1, note='failures per device-hour'))
    restart_s: float = _a(180.0, "stall per failure at 10k-100k devices with automated "
                          "detection, hot spares swapped in and in-memory checkpoints: 'from 10 "
                          "minutes to 3 minutes' (Meta FT-HSDP, arXiv 2602.00277, abstract, "
                          "at O(100K) GPUs); ByteRobust detects in 10-30 s and keeps a warm "
                          "standby pool (arXiv 2509.16293); Gemini's in-memory replicas raised "
                          "goodput from 85% to 97% (Gemini 1.0 report, sec. 3). 600 s (a "
                          "reschedule without spares) is the older practice", "s",
                          valid=Number(0, MAX_DURATION_S, note='seconds'))
    checkpoint_async: bool = _a(True, "checkpoints copied to host memory and written to storage "
                                "in the background, so training stalls only for the copy: "
                                "MegaScale 'this process can be reduced to several seconds' "
                                "(arXiv 2402.15627, sec. 4.4); Llama 3 and Gemini checkpoint "
                                "without a storage-bound stall (Llama 3 report sec. 3.3.4; "
                                "Gemini 1.0 report sec. 3)",
                                valid=Boolean())
    checkpoint_stall_s: float = _a(5.0, "blocking time of an asynchronous checkpoint (the copy to "
                                   "host memory): 'several seconds' (MegaScale, arXiv "
                                   "2402.15627, sec. 4.4); the storage write, which no longer "
                                   "blocks, bounds the interval from below", "s",
                                   valid=Number(0, MAX_DURATION_S, note='seconds'))
    # --- realisation (planner/model/realisation.py, docs/validation.md) ----------------------
    realisation: bool = _a(True, "headline figures are the expected realised run; false gives "
                           "the tuned steady state with failures and checkpoints only (the "
                           "ideal_* figures)",
                           valid=Boolean())
    team: str = _a("", "the kind of team running the training (frontier lab, company, "
                   "open-model group, academic, national cluster): its realisation residual "
                   "is fitted on the public whole runs of its group when the shipped fit keeps "
                   "a grouping by team (realisation_fit.py GROUPING), else all of them; empty: "
                   "not said, the fit of all runs",
                   valid=Text(TEAMS_OR_NONE, note='a kind of team, or empty: not said'))
    evaluation_fraction: float = _a(0.007, "evaluation during training: BLOOM 176B ran it 'once "
                                    "every 1k iteration and it costs about 7 iterations or 0.7% "
                                    "of training' (bigscience-workshop/bigscience, "
                                    "train/tr11-176B-ml/chronicles.md)", "fraction",
                                    valid=SHARE)
    batch_ramp_fraction: float = _a(0.01, "batch-size ramp-up at low throughput: BLOOM 176B "
                                    "'finished the batch size ramp up stage' 7 days after "
                                    "launch, ~1.2 days more than the same tokens at full "
                                    "batch, ~1% of its 118 days (derived; bigscience "
                                    "chronicles.md)", "fraction",
                                    valid=SHARE)
    rollback_fraction: float = _a(0.008, "loss-spike rollbacks: PaLM 540B restarted 'roughly "
                                  "100 steps before the spike' about 20 times in 255k steps, "
                                  ">= 0.8% of the steps redone (derived lower bound; PaLM, "
                                  "arXiv 2204.02311, sec. 5.1)", "fraction",
                                  valid=SHARE)
    checkpoint_write_gb_per_s: float = _a(2000.0, "Llama 3 Tectonic storage, 2 TB/s sustained "
                                          "(Llama 3 report, arXiv 2407.21783, sec. 3.3.1)", "GB/s",
                                          valid=Number(1e-3, 1e9, note='GB/s'))
    checkpoint_bytes_per_param: float = _a(14.0, "what a checkpoint saves of mixed-precision "
                                           "Adam: bf16 weights (2) + fp32 master weights and "
                                           "two moments (12) = 14 bytes a parameter; the "
                                           "model states' 16 (Rajbhandari et al. 2020, ZeRO, "
                                           "sec. 3.1) hold 2 bytes of gradients no checkpoint "
                                           "saves",
                                           "bytes/param",
                                           valid=Number(0, 1e3, note='bytes per parameter'))
    depreciation_years: float = _a(5.0, "GPU/server useful life 5 years (Meta's server life from "
                                   "2023, Meta 10-K 2022; Epoch AI training-cost-trends "
                                   "hardware.py: 5 years from 2023)", "years",
                                   valid=YEARS)
    cost_of_capital: float = _a(0.10, "planner default weighted cost of capital for data-centre "
                                "hardware; override with your own", "1/year",
                                valid=SHARE)
    facility_years: float = _a(15.0, "planner default: facility mechanical and electrical "
                               "plant over 15 years (no public source found; override with "
                               "your own)", "years",
                               valid=YEARS)
    maintenance_fraction: float = _a(0.03, "annual maintenance as a fraction of hardware capex "
                                     "(planner default; override with your own)", "1/year",
                                     valid=SHARE)
    server_overhead: float = _a(1.64, "server cost / GPU cost, the default of Epoch AI "
                                "training-cost-trends hardware.py (A100 1.66, V100 1.69); "
                                "used where the catalog gives no server quote "
                                "(server_usd_per_device), and an assumed one replaces the "
                                "quote",
                                valid=Number(1, 100, note="a server costs at least its "
                                             "accelerator"))
    network_capex_fraction: float = _a(0.23, "cluster interconnect +23% on server cost "
                                       "(Cottier et al. 2024, 'The rising costs of training "
                                       "frontier AI models', arXiv 2405.21015)",
                                       valid=Number(0, 10))

    def __post_init__(self):
        # every value against its declared kind and range (one check, however it was given:
        # with_, --assume, assumptions={...}, a sweep spec or a catalog reference)
        for name, value in self.__dict__.items():
            # arrays of a value per scenario come only from inside (the calibration's grids of
            # constants), never from a user: the boundary checks scalars
            if name in _FIELDS and getattr(value, "shape", ()) == ():
                # a numpy scalar is a user's number too: made plain and checked (it had
                # passed unchecked, as an array would)
                checked = check_assumption(name, plain(value))
                if checked is not value:
                    object.__setattr__(self, name, checked)

    @classmethod
    def unchecked(cls, **values) -> "Assumptions":
        """Assumptions the planner computed itself (the calibration's grids of constants, a
        value or an array per candidate), never a user's: built without the range check."""
        obj = object.__new__(cls)
        for f in fields(cls):
            object.__setattr__(obj, f.name, values.get(f.name, f.default))
        return obj

    def with_(self, **changes) -> "Assumptions":
        """These assumptions with some changed; an unknown name or a value outside its
        declared range is an InputError naming the assumption."""
        for name in changes:
            if name not in _FIELDS:
                raise InputError(f"--assume {name}", changes[name], "an assumption: "
                                 + ", ".join(_FIELDS), _not_one(name))
        new = replace(self, **changes)
        # what the caller set, whatever its value (plan/inputs.assumption_given): a value equal
        # to the default's is still given, and replaces a site's figure as any other does
        object.__setattr__(new, "_given", self.given | frozenset(changes))
        return new

    def with_profile(self, **changes) -> "Assumptions":
        """These assumptions with a profile's changes (a training stack's: frameworks.py),
        checked as with_'s are but not recorded as given by the caller."""
        new = self.with_(**changes)
        object.__setattr__(new, "_given", self.given)
        return new

    @property
    def given(self) -> frozenset:
        """The names a caller set through with_ (--assume, assumptions={...}, a config file's
        [assumptions]); empty for an object built otherwise."""
        return self.__dict__.get("_given", frozenset())

    def source(self, name: str) -> str:
        """The source of one assumption, as the assumptions table reports it."""
        return self.__dataclass_fields__[name].metadata.get("source", "")

    def describe(self) -> dict:
        """name -> {value, unit, source} for every assumption."""
        return {name: {"value": getattr(self, name), "unit": unit, "source": source}
                for name, unit, source in _DESCRIBED}


# (name, unit, source) of every assumption, in order: what describe reports beside the value
# (read off the declarations once, not once a plan).
_DESCRIBED = tuple((f.name, f.metadata.get("unit", ""), f.metadata.get("source", ""))
                   for f in fields(Assumptions))
# name -> (kind, valid range) of every assumption: the one declaration check_assumption reads.
_FIELDS = {f.name: (f.type, f.metadata["valid"]) for f in fields(Assumptions)}
# The assumptions as one table (a sweep spec's [fixed] assumptions, a catalog reference's):
# what the published JSON Schemas say of them.
SCHEMA = Table({name: Key(valid, note=Assumptions.__dataclass_fields__[name].metadata["source"])
                for name, (_, valid) in _FIELDS.items()},
               what="a table of assumptions by name (planner/assumptions.py)")


def _not_one(name: str) -> str:
    """Why a name is refused: not an assumption, with the nearest one (gemm_efficency ->
    gemm_efficiency)."""
    near = did_you_mean(name, _FIELDS)
    return "is not an assumption" + (f" (did you mean {near}?)" if near else "")


def check_assumption(name: str, value, where: str = "--assume"):
    """The value of assumption ``name`` if it is of its kind and inside its declared range
    (a whole number given as 8192.0 comes back as 8192); otherwise an InputError naming
    ``where`` and the assumption, the value and the accepted range."""
    spec = _FIELDS.get(name)
    if spec is None:
        raise InputError(f"{where} {name}", value, "an assumption: " + ", ".join(_FIELDS),
                         _not_one(name))
    kind, valid = spec
    value = plain(value)  # np.int64(90) is 90
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


_DATACLASS_INIT = Assumptions.__init__


def _checked_init(self, *args, **values):
    """Assumptions(name=value, ...): an unknown name is an InputError naming it (as with_ and
    --assume say), not the dataclass's TypeError."""
    for name in values:
        if name not in Assumptions.__dataclass_fields__:
            raise InputError(f"Assumptions {name}", values[name], "an assumption: "
                             + ", ".join(_FIELDS), _not_one(name))
    _DATACLASS_INIT(self, *args, **values)
    # the names the caller set are given, as with_'s are: Assumptions(tp_comm_overlap=0.2)
    # had lost to a stack's profile and been reported as the default (with_ and
    # with_profile, which build through here, set their own record after)
    every = list(_FIELDS)  # the fields in their order: positional arguments fill them so
    names = every[:len(args)] + list(values)
    if len(set(names)) == len(every):
        # every field passed (dataclasses.replace, Assumptions(**a_full_dict)): a copy, whose
        # caller set what differs from the defaults, as assumption_given reads an object
        # built without a record (a review: all 80 had read as given, beating every profile)
        names = [n for n in names if _differs(getattr(self, n), getattr(DEFAULT, n))]
    object.__setattr__(self, "_given", frozenset(names))


def _differs(value, default) -> bool:
    """Whether a field's value is not its default's (an array, the calibration's grid, is)."""
    if hasattr(value, "shape") and getattr(value, "shape", ()) != ():
        return True
    both_nan = all(isinstance(x, float) and math.isnan(x) for x in (value, default))
    return not both_nan and value != default  # an unknown default (nan) copied is no change


Assumptions.__init__ = _checked_init
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
            near = did_you_mean(key, _FIELDS) if sep else None
            raise InputError(name, item, "NAME=VALUE with NAME one of " + ", ".join(_FIELDS),
                             f"names no assumption (did you mean {near}?)" if near else None)
        kind, valid = _FIELDS[key]
        if kind == "bool":
            if text.lower() not in _TRUE + _FALSE:
                raise InputError(f"{name} {key}", text, f"{key}=true or {key}=false")
            value = text.lower() in _TRUE
        elif kind == "str":
            value = text
        else:
            try:  # ASCII alone: float() reads other scripts' digits ('０.８') and '1_0'
                value = ascii_float(text)
            except ValueError:
                value = None
                if valid.whole or (valid.note or "").startswith("tokens"):
                    # a count takes the count flags' suffixes: 16M, 8K, 1.5B
                    try:
                        value = parse_count(text, f"{name} {key}")
                    except InputError:
                        pass
                if value is None:
                    raise InputError(f"{name} {key}", text, f"{key}=N with N "
                                     + valid.accepted(), "is not a number") from None
        out[key] = check_assumption(key, value, name)
    return out
