"""Training stacks as profiles: the assumptions each software stack is published (or calibrated)
to change (FRAMEWORKS, with their sources), and the stack a plan assumes for an accelerator's
vendor when none is given (VENDOR_STACKS: the best public stack)."""

from __future__ import annotations

from functools import lru_cache

from .assumptions import Assumptions
from .specs import same_vendor

FSDP_OPTIMIZER_BYTES = 10.0  # see "PyTorch FSDP keeps the sharded parameters in fp32" below

# Training stacks as profiles: the assumptions each one is published (or calibrated) to change.
# A value is a number (or switch), the name of another assumption to take (a calibrated
# constant shared by the stacks that behave alike), or (name, factor).
FRAMEWORKS = {
    # Megatron-LM as the 2021-22 papers ran it: fused kernels, tensor-parallel collectives on
    # the critical path, interleaved 1F1B (Narayanan et al. 2021; Korthikanti et al. 2022).
    "megatron": {},
    # Megatron-LM before sequence parallelism (it came with Korthikanti et al. 2022, sec.
    # 4.2.2): the norms, dropout and residuals run whole on every tensor-parallel rank.
    "megatron-2021": {"sequence_parallel": False},
    # Megatron-Core / NeMo performance recipes (2024-): Transformer Engine userbuffers overlap
    # the tensor-parallel all-gather/reduce-scatter with the GEMMs (NeMo docs, communication
    # overlap: tp_comm_overlap), distributed optimizer with overlapped gradient reduce.
    # Its MoE path: the flex dispatcher with DeepEP (MCore v0.12) or HybridEP (v0.15)
    # backends, which "removes redundant tokens during cross-node communication" and
    # dispatches in FP8 under FP8 training, and the EP A2A overlap (v0.14, "--overlap-moe-
    # expert-parallel-comm --delay-wgrad-compute": forward and backward of adjacent
    # microbatches merged) (Megatron-Core MoE README, "What's New" and "Token Dispatching";
    # Megatron-Bridge DeepSeek-V3 H100 recipe: moe_flex_dispatcher_backend="deepep",
    # moe_a2a_overlap=True, scripts/performance/configs/deepseek/workload_base_configs.py).
    # Both recompute a share of the blocks whole when that is what fits (block method,
    # recompute_num_layers: NeMo Framework user guide, "Activation Recomputation").
    "megatron-core": {"tp_comm_overlap": "tp_overlap_fraction", "ep_comm_overlap": 1.0,
                      "ep_hierarchical_dispatch": True, "block_recompute": True},
    "nemo": {"tp_comm_overlap": "tp_overlap_fraction", "ep_comm_overlap": 1.0,
             "ep_hierarchical_dispatch": True, "block_recompute": True},
    # Megatron-DeepSpeed: DeepSpeed's pipeline engine (plain 1F1B, no virtual stages) and
    # ZeRO-3 parameter fetches per submodule: the four linear layers of a block (QKV,
    # attention output, FC1, FC2) each gathered in its own pre-forward hook, norms and biases
    # below stage3_param_persistence_threshold (1e5) kept whole (deepspeed/runtime/zero/
    # config.py, partitioned_param_coordinator.py).
    "deepspeed": {"interleaved_pipeline": False, "zero3_messages_per_layer": 4.0,
                  "pipeline_zero_max": 1},
    # PyTorch FSDP keeps the sharded parameters in fp32 and casts them to bf16 only when it
    # gathers them (PyTorch docs, FSDP MixedPrecision: "param_dtype ... the sharded
    # parameters are kept in full precision"): 4 bytes of parameter, 4 of gradient and 8 of
    # Adam moments, 16 a parameter, where a Megatron-style optimizer keeps a bf16 copy beside
    # an fp32 master (18). With bf16 weight_bytes and fp32 grad_bytes, 10 bytes of optimizer
    # state give the 16. MaxText keeps fp32 weights the same way (weight_dtype float32).
    # Eager PyTorch FSDP (FSDP1; llm-foundry 2023, fms-fsdp without torch.compile): unfused
    # memory-bound kernels. llm-foundry is the same stack by its benchmark's name. The PyTorch
    # stacks attend with FlashAttention-2 (PyTorch SDPA, flash-attn 2). PyTorch's
    # apply_activation_checkpointing wraps the blocks its check_fn picks, so a share of them
    # (fms-fsdp: "we apply ac on p of the total blocks", fms_fsdp/policies/ac_handler.py;
    # torchtitan: every Nth block, selective_ac_option); llm-foundry's benchmark configs
    # checkpoint every block or none (activation_checkpointing true/false).
    "pytorch-fsdp": {"elementwise_passes": "eager_elementwise_passes",
                     "optimizer_bytes": FSDP_OPTIMIZER_BYTES,
                     "flash_attention_2": True, "block_recompute": True},
    "llm-foundry": {"elementwise_passes": "eager_elementwise_passes",
                    "optimizer_bytes": FSDP_OPTIMIZER_BYTES,
                    "flash_attention_2": True},
    # FSDP with torch.compile (fms-fsdp 2024-05): TorchInductor fuses the elementwise chains.
    "pytorch-fsdp-compile": {"elementwise_passes": "compiled_elementwise_passes",
                             "optimizer_bytes": FSDP_OPTIMIZER_BYTES,
                             "flash_attention_2": True, "block_recompute": True},
    # FSDP2 (per-parameter sharding) in eager mode, and torchtitan, whose recipes compile.
    "fsdp2": {"elementwise_passes": "eager_elementwise_passes",
              "optimizer_bytes": FSDP_OPTIMIZER_BYTES,
              "flash_attention_2": True, "block_recompute": True},
    "torchtitan": {"elementwise_passes": "compiled_elementwise_passes",
                   "optimizer_bytes": FSDP_OPTIMIZER_BYTES,
                   "flash_attention_2": True, "block_recompute": True},
    # MaxText (JAX/XLA): XLA fuses elementwise work into its neighbours (calibrated
    # xla_elementwise_passes) and overlaps the tensor-parallel collectives with the matmuls
    # they feed ("collective matmul": Wang et al. 2023, ASPLOS, 'Overlap communication with
    # dependent computation via decomposition', on TPUs with XLA); on TPUs, which publish
    # no measured matmul ceiling, the achieved matmul fraction is the calibrated XLA one.
    # Its TPU attention kernels publish no curve against sequence length (the fill of
    # attention_fill_tokens is FlashAttention's on NVIDIA GPUs), so every length takes the
    # calibrated rate; the TPU rows also reject the GPU curve (docs/validation.md).
    "maxtext": {"elementwise_passes": "xla_elementwise_passes", "attention_fill_tokens": 0.0,
                "optimizer_bytes": FSDP_OPTIMIZER_BYTES,
                "matmul_fraction_default": "xla_matmul_fraction", "gemm_efficiency": 1.0,
                "tp_comm_overlap": "tp_overlap_fraction", "kv_heads_split": False},
    # GPT-NeoX as used for Pythia (2022-23): only softmax and bias-GELU fused, the rest eager
    # (the eager calibration, not fitted to any GPT-NeoX run), and FlashAttention 1, which
    # reaches half the throughput of FlashAttention 2 (Dao 2023, abstract: 25-40% vs 50-73% of
    # A100 peak, ~2x): half the calibrated FlashAttention-2 efficiency.
    "gpt-neox": {"elementwise_passes": "eager_elementwise_passes",
                 "attention_efficiency": ("attention_efficiency", 0.5)},
    # AWS NeuronX Distributed: Megatron-style tensor (with sequence) and pipeline parallelism
    # on Trainium (aws-neuron-sdk, neuronx-distributed docs); no overlap published. Its GQA
    # layer replicates the KV heads when tp exceeds them (kv_size_multiplier, neuronx-distributed
    # GQAQKVColumnParallelLinear), as the published tp=16 Llama rows on 8 KV heads run.
    "neuronx": {"attention_efficiency": "ported_attention_efficiency", "kv_heads_split": False},
    # Intel's Megatron-DeepSpeed fork for Gaudi (HabanaAI/Megatron-DeepSpeed): DeepSpeed's
    # pipeline engine and ZeRO as above, with Gaudi's fused SDPA attention kernel.
    "habana-deepspeed": {"interleaved_pipeline": False, "zero3_messages_per_layer": 4.0,
                         "attention_efficiency": "ported_attention_efficiency",
                         "pipeline_zero_max": 1},
}
# Stacks that shard data parallelism alone: llm-foundry's benchmarks (Composer on PyTorch FSDP,
# FULL_SHARD or SHARD_GRAD_OP in their fsdp_config: scripts/train/benchmarking) and fms-fsdp
# (FSDP or HSDP, its README), eager or compiled; no tensor, pipeline or context parallelism,
# so a plan on them searches dp (and ZeRO) only. FSDP2 and torchtitan compose TP, PP and CP.
DATA_PARALLEL_ONLY = ("llm-foundry", "pytorch-fsdp", "pytorch-fsdp-compile")
MODEL_PARALLEL_PARTS = ("tp", "pp", "cp")

FRAMEWORK_SOURCES = {
    "megatron": "Megatron-LM as in Narayanan et al. 2021 / Korthikanti et al. 2022: fused "
                "kernels, tensor-parallel collectives exposed, interleaved 1F1B",
    "megatron-2021": "Megatron-LM 2021 (Narayanan et al. 2021, SC21): fused kernels, "
                     "tensor-parallel collectives exposed, interleaved 1F1B, no sequence "
                     "parallelism",
    "megatron-core": "Megatron-Core (2024-): Transformer Engine userbuffers overlap the "
                     "tensor-parallel collectives (--tp-comm-overlap; calibrated "
                     "tp_overlap_fraction); MoE tokens go through the flex dispatcher "
                     "(DeepEP/HybridEP: de-duplicated per node, FP8 under FP8 training) with "
                     "the EP all-to-all overlapped across microbatches (Megatron-Core MoE "
                     "README, v0.12-v0.15)",
    "nemo": "NVIDIA NeMo / Megatron-Bridge performance recipes (Megatron-Core with "
            "tp_comm_overlap=True; calibrated tp_overlap_fraction; the flex MoE dispatcher "
            "with the EP all-to-all overlapped, as Megatron-Core)",
    "deepspeed": "Megatron-DeepSpeed: DeepSpeed pipeline engine (plain 1F1B, no virtual stages) "
                 "and ZeRO-3 gathers per linear submodule, four per layer (DeepSpeed ZeRO-3 "
                 "partitioned-parameter coordinator)",
    "pytorch-fsdp": "eager PyTorch FSDP: unfused memory-bound kernels (calibrated "
                    "eager_elementwise_passes)",
    "llm-foundry": "MosaicML llm-foundry / Composer on PyTorch FSDP, eager (calibrated "
                   "eager_elementwise_passes)",
    "pytorch-fsdp-compile": "PyTorch FSDP with torch.compile (calibrated "
                            "compiled_elementwise_passes)",
    "fsdp2": "PyTorch FSDP2, eager (calibrated eager_elementwise_passes)",
    "torchtitan": "torchtitan: FSDP2 with torch.compile (calibrated "
                  "compiled_elementwise_passes)",
    "maxtext": "MaxText (JAX/XLA): XLA-fused elementwise work, calibrated XLA matmul fraction on "
               "accelerators without a measured ceiling",
    "gpt-neox": "GPT-NeoX 2022-23 (Pythia configs: only softmax and bias-GELU fused): eager "
                "memory-bound passes and FlashAttention 1 at half the FlashAttention-2 "
                "efficiency (Dao 2023: ~2x)",
    "neuronx": "AWS NeuronX Distributed: Megatron-style tensor and pipeline parallelism "
               "(aws-neuron-sdk neuronx-distributed docs), NKI attention (calibrated "
               "ported_attention_efficiency)",
    "habana-deepspeed": "Intel's Megatron-DeepSpeed for Gaudi (HabanaAI/Megatron-DeepSpeed): "
                        "plain 1F1B, per-submodule ZeRO-3 gathers, Gaudi fused SDPA (calibrated "
                        "ported_attention_efficiency)",
}
# The best public stack of each vendor's accelerators: what a plan of a future run assumes
# when no --framework is given (each accelerator its own, when several are compared).
VENDOR_STACKS = {
    "NVIDIA": ("megatron-core", "NVIDIA's published training performance comes from "
               "Megatron-Core (NVIDIA NeMo performance summary; Megatron-Bridge performance "
               "summary; Megatron-LM README)"),
    "Google": ("maxtext", "Google's reference JAX LLM stack for Cloud TPUs "
               "(AI-Hypercomputer/maxtext README; tpu-recipes)"),
    "AMD": ("megatron-core", "AMD's training containers run Megatron-LM on ROCm (ROCm docs, "
            "'Training a model with Megatron-LM for ROCm'; AMD-AGI/Primus)"),
    "Intel": ("habana-deepspeed", "Intel's LLM pre-training recipes for Gaudi are "
              "Megatron-DeepSpeed (HabanaAI/Megatron-DeepSpeed; Intel Gaudi model references)"),
    "AWS": ("neuronx", "AWS's training library for Trainium is NeuronX Distributed "
            "(aws-neuron-sdk, neuronx-distributed)"),
}
DEFAULT_FRAMEWORK = "megatron-core"
# Stacks tied to one vendor's hardware, and the stacks a vendor's hardware runs only: the AWS
# Neuron SDK compiles for Trainium and Inferentia alone (aws-neuron-sdk docs); Intel's Gaudi
# software (SynapseAI / Gaudi PyTorch bridge) drives Gaudi alone; Cloud TPUs run XLA programs
# (JAX, PyTorch/XLA), not the CUDA/ROCm stacks profiled here, of which MaxText is the one
# profiled (it also runs on GPUs: AI-Hypercomputer/maxtext README). Likewise Trainium trains
# through the Neuron SDK (NeuronX Distributed, aws-neuron-sdk docs) and Gaudi through its own
# builds of the stacks (HabanaAI/Megatron-DeepSpeed): the other profiles here are of CUDA/ROCm
# builds, and their figures do not carry over (MaxText on Trainium2 had planned 67% MFU, the
# Neuron profile 43%: an auditor).
VENDOR_ONLY = {"neuronx": "AWS", "habana-deepspeed": "Intel"}
VENDOR_STACKS_ONLY = {"Google": ("maxtext",), "AWS": ("neuronx",),
                      "Intel": ("habana-deepspeed",)}


def known_vendor(vendor: str | None) -> str | None:
    """A vendor as VENDOR_STACKS spells it, in whatever case a file gives it ("aws" is AWS,
    as a fabric's accelerator_vendors match it: Network.serves); an unknown one as given."""
    if not vendor:
        return vendor
    return next((v for v in VENDOR_STACKS if same_vendor(v, vendor)), vendor)


def runs_on(framework: str, vendor: str | None) -> bool:
    """Whether a stack profile can run on a vendor's accelerators (VENDOR_ONLY,
    VENDOR_STACKS_ONLY); an unknown vendor runs any."""
    vendor = known_vendor(vendor)
    if not vendor:
        return True
    if framework in VENDOR_ONLY and VENDOR_ONLY[framework] != vendor:
        return False
    return framework in VENDOR_STACKS_ONLY.get(vendor, (framework,))


def framework_for(vendor: str | None) -> tuple[str, str]:
    """(stack, source) a plan assumes for an accelerator of ``vendor`` when none is given."""
    stack, source = VENDOR_STACKS.get(known_vendor(vendor) or "", (DEFAULT_FRAMEWORK, ""))
    return stack, source or ("planner default stack: " + DEFAULT_FRAMEWORK)


def override_source(framework: str | None, name: str, source: str) -> str:
    """An assumption's source in a plan on ``framework``: the stack's profile where it sets
    the value (MaxText's gemm_efficiency 1.0 had read as the calibrated figure's source)."""
    value = FRAMEWORKS.get(framework or "", {}).get(name)
    if value is None:
        return source
    said = (f"its {value}" if isinstance(value, str) else str(value).lower()
            if isinstance(value, bool) else
            f"{value[1]:g} x its {value[0]}" if isinstance(value, tuple) else f"{value:g}")
    return f"the {framework} stack's profile (planner/frameworks.py): {said}; the default's " \
           f"source: {source}"


def for_framework(asm: Assumptions, framework: str | None) -> Assumptions:
    """Assumptions with a framework's overrides applied (unknown names are an error), but for
    the names the caller set (Assumptions.given: an object's with_, as a dict's overrides,
    applied after the profile, win over it). An override names a number, another assumption
    (its value is taken) or (name, factor)."""
    if framework is None:
        return asm
    if framework not in FRAMEWORKS:
        raise KeyError(framework)
    # a sweep's rows share a few (assumptions, stack) pairs: the checked profile is built once
    # for each (the given names key it too: they decide which overrides apply)
    return _profiled(asm, asm.given, framework)


@lru_cache(maxsize=256)
def _profiled(asm: Assumptions, given: frozenset, framework: str) -> Assumptions:
    """for_framework's work, once per (assumptions, their given names, stack)."""
    changes = {}
    for name, value in FRAMEWORKS[framework].items():
        if name in asm.given:  # the caller's, as a dict's overrides win over the profile
            continue
        if isinstance(value, str):
            value = getattr(asm, value)
        elif isinstance(value, tuple):
            value = getattr(asm, value[0]) * value[1]
        changes[name] = value
    return asm.with_profile(**changes)
