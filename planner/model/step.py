"""One training step on a real cluster: compute, exposed communication, pipeline bubble,
optimizer, and the memory it needs, for any number of layouts at once (numpy broadcasting).

Per microbatch and pipeline stage: the GEMMs of each layer at the shapes left after the TP/CP
split, timed by a roofline that adds the time to move operands through HBM to the time at the
measured matmul ceiling (so small GEMMs fall off; Williams et al. 2009, roofline); the attention
core at the FlashAttention rate; elementwise work (norms, activations, residuals) at HBM
bandwidth; tensor-parallel all-gather/reduce-scatter with sequence parallelism (Korthikanti
et al. 2022, sec. 4.2.2); context-parallel ring exchange; expert-parallel all-to-all (one copy
per token and expert, or once per node as hierarchical dispatchers send it, hidden under
another microbatch's compute where the stack overlaps it). Per step:
m microbatches, the pipeline bubble (p-1)/(m v) (Narayanan et al. 2021, sec. 2.2.2; its largest
virtual chunk paces it when v does not divide a stage's layers), pipeline
point-to-point, data-parallel gradient reduction overlapped with the last backward, ZeRO-3
gathers per microbatch, and the optimizer step at HBM bandwidth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..assumptions import Assumptions
from . import collectives as coll
from .architecture import kv_heads_per_rank
from .flops import hardware_flops_per_token, model_flops_per_token
from .memory import (
    FULL,
    RECOMPUTE_KINDS,
    full_share,
    largest_chunk_share,
    memory_breakdown,
    sequence_split,
    stage_params,
    total_bytes,
    zero3_shards,
)
from .topology import fat_tree_tiers, group_span

TIME_KEYS = ("compute", "tp_comm", "cp_comm", "ep_comm", "pp_bubble", "pp_comm", "dp_comm",
             "optimizer", "other")
MEMORY_KEYS = ("weights", "grads", "optimizer", "activations", "other")
# The share of the SMs that, held by communication kernels, saturates the links: DeepSeek-V3
# report sec. 3.2.1, 20 of the H800's 132 SMs "fully utilize the bandwidths of IB and NVLink"
COMM_SMS_SATURATING = 20.0 / 132.0


@dataclass(frozen=True)
class Hardware:
    """What the step model needs of a cluster, in SI units; fields may be numpy arrays."""

    peak_flops: float
    matmul_fraction: float
    hbm_bytes: float
    hbm_bytes_per_s: float
    scale_up_bytes_per_s: float  # per device, after the achievable fraction
    scale_up_latency_s: float
    scale_up_domain: int
    devices_per_node: int
    scale_out_bytes_per_s: float  # per device, after the achievable fraction
    scale_out_latency_s: float
    switch_radix: int
    attention_flops: float = 0.0  # achievable bf16 FLOP/s of the attention core (FlashAttention
    # runs in bf16 also in FP8 training: Transformer Engine FP8 recipe keeps attention in bf16)
    quantized_bytes: float = 2.0  # bytes per element of the activations an FP8 recipe keeps
    # in FP8 (linear-layer inputs saved for backward, MoE tokens dispatched): 1 in FP8 training
    output_flops: float = 0.0  # achievable FLOP/s of the output layer's GEMMs where they run
    # in another precision than the others (0: at the others' rate): FP8 and FP4 recipes keep
    # the output head in BF16 (DeepSeek-V3 report sec. 3.3.1; NVIDIA NVFP4 pre-training
    # report, arXiv 2509.25149, sec. 4.1; Megatron-Core's output layer is a plain
    # ColumnParallelLinear outside Transformer Engine; torchtitan's float8 converter filters
    # fqn "output")


def gemm_s(m, k, n, hw: Hardware, asm: Assumptions, count=1.0, flops_per_s=None):
    """Roofline time of ``count`` (m x k) @ (k x n) GEMMs in 2-byte precision: FLOPs at the
    measured matmul ceiling (``flops_per_s`` where the GEMMs run at another rate: the output
    head's) plus operand traffic at HBM bandwidth (Williams et al. 2009)."""
    flops = 2.0 * m * k * n
    traffic = 2.0 * (m * k + k * n + m * n)
    # calibrated small-K term (assumptions.gemm_k_overhead: fitted on the rows, not a kernel
    # fact; docs/validation.md, kernel check)
    k_efficiency = np.where(k > 0, k / (k + asm.gemm_k_overhead + 1e-30), 1.0)
    rate = hw.peak_flops * hw.matmul_fraction if flops_per_s is None else flops_per_s
    return count * (flops / (rate * k_efficiency)
                    + traffic / (hw.hbm_bytes_per_s * asm.hbm_efficiency))


def attention_fill(kernel_seq, fill_tokens):
    """The share of its long-sequence throughput a causal FlashAttention kernel reaches on
    sequences of ``kernel_seq`` tokens (each context-parallel rank's chunk): s / (s + s0), a
    fixed cost per block of queries and the half-empty diagonal blocks weighing less as s
    grows (Dao 2023, FlashAttention-2, fig. 4d and 7d: s0 ~ 500-550 on A100 and H100)."""
    s = np.asarray(kernel_seq, dtype=float)
    return s / (s + np.asarray(fill_tokens, dtype=float))


def _group_links(n, stride, hw: Hardware):
    """(members in a domain, domains, scale-out per-step latency) of a group of n, stride apart."""
    inner, outer = group_span(n, stride, hw.scale_up_domain)
    tiers = fat_tree_tiers(n * stride, hw.devices_per_node, hw.switch_radix, stride * inner)
    alpha_out = hw.scale_out_latency_s * np.maximum(2 * tiers - 1, 1)
    return inner, outer, alpha_out


def _all_reduce(nbytes, n, stride, hw):
    inner, outer, alpha = _group_links(n, stride, hw)
    return coll.hierarchical_all_reduce_s(nbytes, inner, outer, hw.scale_up_bytes_per_s,
                                          hw.scale_out_bytes_per_s, hw.scale_up_latency_s, alpha)


def _reduce_scatter(nbytes, n, stride, hw, messages=1.0, links=None):
    """``links``: _group_links(n, stride, hw), when the caller has it already."""
    inner, outer, alpha = links if links is not None else _group_links(n, stride, hw)
    return coll.hierarchical_reduce_scatter_s(nbytes, inner, outer, hw.scale_up_bytes_per_s,
                                              hw.scale_out_bytes_per_s, hw.scale_up_latency_s,
                                              alpha, messages)


def _all_to_all(a, tokens, element_bytes, n, stride, hw, hierarchical):
    """MoE dispatch and combine of ``tokens`` per device over the expert-parallel group of
    ``n`` ranks ``stride`` apart, (``element_bytes`` of a dispatched, of a combined hidden
    element): the copies each token sends inside and across scale-up domains
    (collectives.expert_dispatch_copies) move concurrently, the slower fabric sets the time
    (DeepSeek-V3 report sec. 3.2.2: "communications via IB and NVLink are fully overlapped"; a
    pairwise all-to-all drives both at once). Returns (dispatch, combine) seconds."""
    inner, outer, alpha = _group_links(n, stride, hw)
    up, out = coll.expert_dispatch_copies(a.top_k, a.experts, inner, outer, a.expert_groups,
                                          a.group_top_k, hierarchical)

    def one(nbytes):
        token = tokens * a.hidden * nbytes
        local = np.where(inner > 1, up * token / hw.scale_up_bytes_per_s
                         + (inner - 1) * hw.scale_up_latency_s, 0.0)
        remote = np.where(outer > 1, out * token / hw.scale_out_bytes_per_s
                          + (outer - 1) * alpha, 0.0)
        return np.maximum(local, remote)

    return one(element_bytes[0]), one(element_bytes[1])


def _p2p(nbytes, stages, stride, hw):
    """A pipeline's point-to-point hop: at scale-out bandwidth when its ``stages`` ranks,
    ``stride`` apart, span more than one scale-up domain (the slowest hop paces the pipeline),
    else inside the domain."""
    inner, outer, alpha = _group_links(stages, stride, hw)
    with np.errstate(invalid="ignore"):
        return np.where(outer > 1, coll.p2p_s(nbytes, hw.scale_out_bytes_per_s, alpha),
                        coll.p2p_s(nbytes, hw.scale_up_bytes_per_s, hw.scale_up_latency_s))


def evaluate(a, seq_len, global_batch_tokens, hw: Hardware, tp, pp, dp, cp, ep, microbatch,
             vp, recompute, zero, asm: Assumptions) -> dict:
    """Step time breakdown, memory breakdown, MFU/HFU for every layout given (arrays broadcast).

    ``recompute`` is 0 none, 1 selective, 2 full, 3-5 full on a share of the blocks
    (memory.RECOMPUTE_CODES). Returns a dict of arrays: ``time`` and
    ``memory`` sub-dicts (seconds, bytes), ``step_time_s``, ``tokens_per_s``, ``mfu``, ``hfu``,
    ``memory_bytes``, ``microbatches``."""
    s, h = seq_len, a.hidden
    f = lambda x: np.asarray(x, dtype=float)  # noqa: E731
    tp, pp, dp, cp, ep, mb, vp = map(f, (tp, pp, dp, cp, ep, microbatch, vp))
    rc = np.asarray(recompute, dtype=np.int64)
    devices = tp * pp * dp * cp
    m = global_batch_tokens / s / (dp * mb)                 # microbatches per pipeline per step
    tokens = mb * s / cp                                    # tokens of a microbatch on a device
    gated = np.asarray(a.ffn_type) == "gated"
    moe = np.asarray(a.experts) > 0
    kv_local_w = kv_heads_per_rank(a, tp) * a.head_dim  # K (and V) width a rank computes
    q_w = a.q_width
    heads_local = a.heads / tp
    # norms, residuals and dropout split across tensor-parallel ranks only with sequence
    # parallelism (Korthikanti et al. 2022, sec. 4.2.2); the FFN activation splits either way
    seq_split = sequence_split(tp, asm)

    # --- compute of one layer, forward, per device -------------------------------------------
    qkv = gemm_s(tokens, h, q_w / tp + 2 * kv_local_w, hw, asm)
    proj = gemm_s(tokens, q_w / tp, h, hw, asm)
    # MLA (DeepSeek-V2 report, eqs. 37-47): the down-projections to the latents (and the shared
    # RoPE key) are replicated across tensor-parallel ranks; the up-projections and the output
    # projection split by heads.
    mla = np.asarray(a.kv_lora_rank) > 0
    mla_up = 0.0  # the up-projections, redone by MLA's selective recompute (memory.py)
    if mla.any():  # the step of standard-attention models pays nothing for it
        qk_w, v_w = a.heads * a.qk_head_dim, a.heads * a.v_dim
        q_latent = np.asarray(a.q_lora_rank) > 0
        q_up = np.where(q_latent, gemm_s(tokens, a.q_lora_rank, qk_w / tp, hw, asm), 0.0)
        q_down = np.where(q_latent, gemm_s(tokens, h, a.q_lora_rank, hw, asm),
                          gemm_s(tokens, h, qk_w / tp, hw, asm))  # direct query projection
        kv_up = gemm_s(tokens, a.kv_lora_rank, a.heads * (a.head_dim + a.v_dim) / tp, hw, asm)
        kv_down = gemm_s(tokens, h, a.kv_lora_rank + a.rope_head_dim, hw, asm)
        qkv = np.where(mla, q_down + q_up + kv_down + kv_up, qkv)
        mla_up = np.where(mla, q_up + kv_up, 0.0)
        proj = np.where(mla, gemm_s(tokens, v_w / tp, h, hw, asm), proj)
    up_width = np.where(gated, 2.0, 1.0)
    dense_ffn = (gemm_s(tokens, h, up_width * a.ffn / tp, hw, asm)
                 + gemm_s(tokens, a.ffn / tp, h, hw, asm))
    # MoE: each device runs its experts/ep experts on top_k x tokens (balanced routing); the
    # router scores each rank's sequence-parallel share of them (Megatron-Core runs the router
    # after the sequence-parallel split, before the expert-TP group gathers the tokens)
    experts_local = np.maximum(a.experts / ep, 1.0)
    expert_tokens = tokens * a.top_k / experts_local
    moe_ffn = (gemm_s(expert_tokens, h, 2.0 * a.expert_ffn / tp, hw, asm, experts_local)
               + gemm_s(expert_tokens, a.expert_ffn / tp, h, hw, asm, experts_local)
               + gemm_s(tokens, h, 2.0 * a.shared_experts * a.expert_ffn / tp, hw, asm)
               + gemm_s(tokens, a.shared_experts * a.expert_ffn / tp, h, hw, asm)
               + gemm_s(tokens / seq_split, h, a.experts, hw, asm))
    # the heaviest pipeline stage's layers: ceil(L/pp), all of them MoE where the MoE layers
    # fill it (the leading dense layers sit on the first stage: DeepSeek-V3's 3 of 61), so its
    # mean layer is its own, not the model's (which had read DeepSeek-V3's pp4 stage 5% light)
    layers_stage = np.ceil(a.layers / pp)
    moe_s = np.minimum(layers_stage, np.where(moe, a.layers - a.dense_layers, 0))
    ffn_fwd = ((layers_stage - moe_s) * dense_ffn + moe_s * moe_ffn) / layers_stage
    gemm_fwd = qkv + proj + ffn_fwd
    # Attention core: causal FlashAttention does half of 4 s^2 h per sequence (Dao 2023), and
    # under a sliding window only its band (twice the keys a query attends: s without one);
    # materialised scores compute all of it and move them through HBM (softmax, dropout).
    attn_flops = 4.0 * tokens * s * a.attention_width / tp
    band = 2.0 * a.attended_keys(s)
    # its rate: the calibrated share of the GEMM rate, filled as each rank's chunk grows
    # (attention_fill: Dao 2023, fig. 4d and 7d); a band narrower than the chunk fills as a
    # sequence of its width would (the partial blocks at its edges, as at the diagonal)
    attn_rate = np.where(np.asarray(hw.attention_flops) > 0, hw.attention_flops,
                         hw.peak_flops * hw.matmul_fraction) * asm.attention_efficiency \
        * attention_fill(np.minimum(s / cp, band), asm.attention_fill_tokens)
    if asm.flash_attention:
        attn_fwd = 0.5 * attn_flops * (band / s) / attn_rate
        attn_bwd = 2.5 * attn_fwd                              # 5 GEMMs back vs 2 forward
    else:
        scores = tokens * s * heads_local                       # elements of the score matrix
        score_traffic = scores * (9.0 if asm.dropout else 4.0)  # softmax (+dropout) r/w
        attn_fwd = (attn_flops / (hw.peak_flops * hw.matmul_fraction)
                    + score_traffic / (hw.hbm_bytes_per_s * asm.hbm_efficiency))
        attn_bwd = 2.0 * attn_fwd
    ffn_w = np.where(moe, (a.top_k + a.shared_experts) * a.expert_ffn, a.ffn)
    elem_bytes = tokens * ((20.0 * h + (10.0 * h if asm.dropout else 0.0)) / seq_split
                           + np.where(gated, 6.0, 4.0) * ffn_w / tp)
    elem_fwd = asm.elementwise_passes * elem_bytes / (hw.hbm_bytes_per_s * asm.hbm_efficiency)
    layer_fwd = gemm_fwd + attn_fwd + elem_fwd + asm.kernel_overhead_s
    layer_bwd = 2.0 * (gemm_fwd + elem_fwd) + attn_bwd + asm.kernel_overhead_s
    # full recompute redoes the forward of the blocks it checkpoints (all of them in
    # Megatron-LM; every 2nd in torchtitan's selective layer AC: full_recompute_fraction; a
    # share under the block method: "full:s", memory.full_share)
    f_full = full_share(rc, asm)
    full = rc >= FULL
    # selective: with materialised scores the attention core is redone (Korthikanti et al.
    # 2022, sec. 5); with FlashAttention the norms and the MLP activation are (memory.py:
    # what the memory model frees), elementwise passes over their bytes
    redo_bytes = tokens * (8.0 * h / seq_split + np.where(gated, 6.0, 4.0) * ffn_w / tp)
    selective_redo = (asm.elementwise_passes * redo_bytes / (hw.hbm_bytes_per_s
                                                            * asm.hbm_efficiency)
                      if asm.flash_attention else attn_fwd)
    recompute_layer = np.select([full, rc == 1], [f_full * layer_fwd, selective_redo + mla_up],
                                0.0)

    # --- communication of one layer ------------------------------------------------------------
    act_bytes = 2.0 * tokens * h
    tp_one = 2.0 * _reduce_scatter(act_bytes, tp, 1, hw)    # AG + RS pair, same volume
    passes = np.where(full, 2.0 + f_full, 2.0)             # backward repeats; full recompute too
    # 2 AG + 2 RS a dense layer (Korthikanti, fig. 5): the attention's pair and the MLP's
    tp_layer = 2.0 * tp_one * (1 - asm.tp_comm_overlap) * passes
    # An MoE layer keeps the attention's pair (and the shared experts', a dense MLP) and
    # replaces the MLP's with the expert-TP group's: under tensor parallelism the experts split
    # tp ways too (Megatron-Core's default expert tensor parallelism = TP), so the group
    # all-gathers the dispatched tokens, top_k copies of each, before the experts and
    # reduce-scatters their outputs after (Megatron-Core MoEAlltoAllTokenDispatcher; without
    # sequence parallelism the same volume as an all-reduce of the outputs)
    hier = np.asarray(asm.ep_hierarchical_dispatch, dtype=float) > 0
    element_bytes = (np.where(hier, hw.quantized_bytes, 2.0), 2.0)
    routed = a.top_k * tokens * h  # the dispatched elements each expert-TP rank computes on
    any_moe = bool(moe.any())  # a dense model (most plans) skips the experts' collectives
    tp_moe_layer = ((np.where(a.shared_experts > 0, 2.0, 1.0) * tp_one
                     * (1 - asm.tp_comm_overlap)
                     + _reduce_scatter(routed * element_bytes[0], tp, 1, hw)
                     + _reduce_scatter(routed * element_bytes[1], tp, 1, hw)) * passes
                    if any_moe else tp_layer)
    kv_step = 2.0 * 2.0 * tokens * np.where(mla, a.attention_width / tp, kv_local_w)  # K, V
    # the forward ring, twice its volume in backward (K, V and their gradients), and the
    # forward ring again in the blocks full recompute redoes, each hidden behind the attention
    # it feeds (Liu et al. 2023, Ring Attention; Megatron-Core context parallelism)
    redo_attn = np.where(full, f_full, 0.0)
    cp_raw = (3.0 + redo_attn) * np.maximum(cp - 1, 0) * coll.p2p_s(kv_step, np.where(
        cp * tp <= hw.scale_up_domain, hw.scale_up_bytes_per_s, hw.scale_out_bytes_per_s),
        hw.scale_up_latency_s)
    cp_layer = np.maximum(cp_raw - asm.cp_comm_overlap
                          * ((1.0 + redo_attn) * attn_fwd + attn_bwd), 0.0)
    # MoE all-to-all: forward dispatch and combine, their mirrors in backward (the combine's
    # gradient goes out as a dispatch, the dispatch's comes back as a combine), and the
    # forward pair again under full recompute. A hierarchical dispatcher sends the tokens in
    # the training's FP8 and combines in BF16 (DeepSeek-V3 report sec. 3.3.3, "Low-Precision
    # Communication"; Megatron-Core MoE README, FP8 training: "50% EP dispatch volume").
    # Under tensor parallelism each rank dispatches only its sequence-parallel share of the
    # tokens (Megatron-Core requires sequence parallelism for MoE with TP; without it every
    # rank sends the whole microbatch); the expert-TP group's gather is tensor-parallel traffic
    # (tp_moe_layer).
    # The expert-parallel group's ranks sit tp apart: Megatron-Core builds the expert groups
    # with the context ranks folded into the data ranks (parallel_state), so ep spans dp x cp.
    if any_moe:
        dispatch, combine = _all_to_all(a, tokens / seq_split, element_bytes, ep, tp, hw, hier)
        a2a_layer = np.where(moe, (dispatch + combine) * passes, 0.0)
    else:
        a2a_layer = 0.0 * passes

    # --- one microbatch on the slowest stage (ceil(L/pp) layers, plus the logits) ------------
    # the output head at its own rate: BF16 under an FP8 or FP4 recipe (Hardware.output_flops)
    head_rate = np.where(np.asarray(hw.output_flops) > 0, hw.output_flops,
                         hw.peak_flops * hw.matmul_fraction)
    logits = 3.0 * gemm_s(tokens, h, a.vocab / tp, hw, asm, flops_per_s=head_rate) \
        + 3.0 * 4.0 * tokens * a.vocab / tp / (hw.hbm_bytes_per_s * asm.hbm_efficiency)
    # Compute kernels get the SMs that communication kernels do not hold (DeepSeek-V3 report
    # sec. 3.2.1: 20 of 132 SMs for the all-to-all), so they run proportionally slower.
    compute_mb = (layers_stage * (layer_fwd + layer_bwd + recompute_layer) + logits) \
        / (1.0 - asm.comm_sm_fraction)
    tp_mb = (layers_stage - moe_s) * tp_layer + moe_s * np.where(moe, tp_moe_layer, tp_layer)
    cp_mb = layers_stage * cp_layer
    # Scheduled under another microbatch's compute (DualPipe, DeepSeek-V3 report sec. 3.2.1;
    # Megatron-Core's EP A2A overlap merges the forward and backward of adjacent
    # microbatches), the all-to-all is hidden up to that compute, at overlap_contention; on
    # SMs held for it (comm_sm_fraction) it takes less from the compute it hides under, which
    # pays for the held SMs already (compute_mb above): charging both counted it twice.
    a2a_mb = a2a_layer * moe_s
    hidden = np.minimum(asm.ep_comm_overlap * a2a_mb,
                        layers_stage * (layer_fwd + layer_bwd + recompute_layer))
    # held SMs take the contention away in proportion, all of it once they are enough to
    # saturate the links (DeepSeek-V3 report sec. 3.2.1: 20 of 132 H800 SMs saturate IB and
    # NVLink); a gate at any share above 0 had made 0.01% of the SMs worth 13% of the step
    contention = asm.overlap_contention * np.maximum(
        1.0 - np.asarray(asm.comm_sm_fraction) / COMM_SMS_SATURATING, 0.0)
    ep_mb = a2a_mb - hidden + contention * hidden
    t_mb = compute_mb + tp_mb + cp_mb + ep_mb

    # --- data parallelism ------------------------------------------------------------------------
    dense_p, expert_p = stage_params(a, tp, pp, ep)
    zero = np.asarray(zero)
    shards = dp * cp
    dp_links = _group_links(shards, tp, hw)
    # the routed experts' weights are replicated, and sharded, over their expert-data-parallel
    # group only: shards/ep ranks tp x ep apart, so their traffic leaves the scale-up domain
    # sooner than the dense weights' (Megatron-Core parallel_state's expert-data-parallel
    # groups; DeepSpeed-MoE, Rajbhandari et al. 2022: expert gradients reduced over that group)
    expert_shards = np.maximum(shards / ep, 1.0)
    has_experts = np.asarray(expert_p) > 0  # a dense model runs no expert collective
    any_experts = bool(has_experts.any())
    ep_links = _group_links(expert_shards, tp * ep, hw) if any_experts else None

    def experts_only(collective):
        """An expert collective's seconds where a layout has experts, else 0 (not run)."""
        return np.where(has_experts, collective(), 0.0) if any_experts else 0.0

    def sync(nbytes):
        """One reduce-scatter (or all-gather) of ``nbytes`` a parameter: the dense
        weights' over the data-parallel group, the experts' over theirs."""
        return (_reduce_scatter(dense_p * nbytes, shards, tp, hw, links=dp_links)
                + experts_only(lambda: _reduce_scatter(expert_p * nbytes, expert_shards,
                                                       tp * ep, hw, links=ep_links)))

    window = asm.dp_comm_overlap * layers_stage * (layer_bwd + layer_fwd)
    dp_total = sync(asm.grad_reduce_bytes) + sync(asm.weight_bytes)
    dp_step = (np.maximum(dp_total - window, 0.0)
               + asm.overlap_contention * np.minimum(dp_total, window))
    # ZeRO-3: gather each layer's weights for forward and again for backward, reduce-scatter
    # its gradients, every microbatch, prefetched under that microbatch's compute (Zhao et al.
    # 2023, PyTorch FSDP, sec. 3.3); each layer's gathers are separate collectives
    # (zero3_messages_per_layer), each paying a flat ring's latency. Hybrid sharding gathers
    # inside its shard group and all-reduces the sharded gradients across the groups once a
    # step, under the last backward (Zhao et al. 2023, sec. 3.2.2). The experts' weights
    # shard over their share of the group, ep x further apart.
    group = zero3_shards(shards, asm)
    messages = layers_stage * asm.zero3_messages_per_layer
    expert_group = np.maximum(group / ep, 1.0)
    z3_links = _group_links(group, tp, hw)
    z3_expert_links = _group_links(expert_group, tp * ep, hw) if any_experts else None

    def z3_sync(nbytes):
        return (_reduce_scatter(dense_p * nbytes, group, tp, hw, messages, z3_links)
                + experts_only(lambda: _reduce_scatter(expert_p * nbytes, expert_group,
                                                       tp * ep, hw, messages,
                                                       z3_expert_links)))

    z3 = 2.0 * z3_sync(asm.weight_bytes) + z3_sync(asm.grad_reduce_bytes)
    replicas = np.maximum(shards / group, 1.0)
    hsdp = np.where(replicas > 1,
                    _all_reduce(dense_p * asm.grad_reduce_bytes / group, replicas, tp * group,
                                hw)
                    + experts_only(lambda: _all_reduce(
                        expert_p * asm.grad_reduce_bytes / expert_group, replicas,
                        tp * ep * expert_group, hw)), 0.0)
    z3_exposed = (m * (np.maximum(z3 - compute_mb, 0.0)
                       + asm.overlap_contention * np.minimum(z3, compute_mb))
                  + np.maximum(hsdp - window, 0.0) + asm.overlap_contention
                  * np.minimum(hsdp, window))
    # ZeRO-2 keeps only a shard of the gradients, so with gradient accumulation it must
    # reduce-scatter after every microbatch (Rajbhandari et al. 2020, sec. 5.2), then gather
    # the updated weights once.
    z2 = sync(asm.grad_reduce_bytes)
    z2_exposed = (m * (np.maximum(z2 - layers_stage * layer_bwd, 0.0)
                       + asm.overlap_contention * np.minimum(z2, layers_stage * layer_bwd))
                  + sync(asm.weight_bytes))
    dp_comm = np.select([zero >= 3, zero == 2], [z3_exposed, z2_exposed], dp_step) * (shards > 1)

    # --- pipeline ----------------------------------------------------------------------------
    # (p-1) virtual chunks of fill and drain (Narayanan et al. 2021, sec. 2.2.2: (p-1)/v of a
    # stage's time when v divides its layers); a chunk holds whole layers, so when v does not
    # divide them the largest chunk, ceil(layers/v) of them, paces the fill and drain
    bubble = np.where(pp > 1, (pp - 1) * largest_chunk_share(layers_stage, vp) * t_mb, 0.0)
    p2p = _p2p(act_bytes / tp, pp, tp * cp * dp, hw)
    pp_comm = np.where(pp > 1, 2.0 * m * vp * p2p, 0.0)

    # --- optimizer: read weights, grads, states; write states and weights -----------------------
    # the expert states sharded over the expert-data-parallel group, dp x cp / ep, as memory.py
    # holds them (Megatron-Core's expert data parallelism); they had been read over dp x cp
    opt_params = (dense_p / np.where(zero >= 3, group, np.where(zero >= 1, shards, 1.0))
                  + expert_p / np.where(zero >= 3, expert_group,
                                        np.where(zero >= 1, expert_shards, 1.0)))
    opt_bytes = opt_params * (asm.weight_bytes * 2 + asm.grad_bytes + asm.optimizer_bytes * 2)
    optimizer = opt_bytes / (hw.hbm_bytes_per_s * asm.hbm_efficiency)

    time = {"compute": m * compute_mb, "tp_comm": m * tp_mb, "cp_comm": m * cp_mb,
            "ep_comm": m * ep_mb, "pp_bubble": bubble, "pp_comm": pp_comm, "dp_comm": dp_comm,
            "optimizer": optimizer, "other": 0.0 * optimizer}
    shape = np.broadcast(*[np.asarray(v) for v in time.values()]).shape
    time = {k: np.broadcast_to(np.asarray(v, dtype=float), shape) for k, v in time.items()}
    step = sum(time.values())
    mem = memory_breakdown(a, s, mb, m, tp, pp, dp, cp, ep, vp, rc, zero, asm,
                           hw.quantized_bytes)
    tokens_per_s = global_batch_tokens / step
    mfu = tokens_per_s * model_flops_per_token(a, s) / (devices * hw.peak_flops)
    hfu = tokens_per_s * hardware_flops_per_token(a, s, RECOMPUTE_KINDS[rc], f_full,
                                                   asm.flash_attention) / (
        devices * hw.peak_flops)
    mem_total = total_bytes(mem)
    return {"time": time, "memory": mem, "step_time_s": step, "tokens_per_s": tokens_per_s,
            "mfu": mfu, "hfu": hfu, "memory_bytes": mem_total, "microbatches": m,
            "devices": devices, "fits": (mem_total <= hw.hbm_bytes) & np.isfinite(step),
            # one layer's forward and its recompute (the search's recompute variants)
            "layer_forward_s": layer_fwd, "recompute_layer_s": recompute_layer,
            "attention_fwd_s": attn_fwd}


def bottleneck(time: dict) -> np.ndarray:
    """The largest non-compute term of each breakdown (the step's largest overhead, however
    small beside compute), or "compute" when there is none."""
    names = [k for k in TIME_KEYS if k != "compute"]
    stacked = np.stack([np.asarray(time[k], dtype=float) for k in names])
    largest = np.asarray(names)[np.argmax(stacked, axis=0)]
    return np.where(np.max(stacked, axis=0) > 0, largest, "compute")
