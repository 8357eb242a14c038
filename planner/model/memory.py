"""Memory per device for a workload and layout, by component, in bytes.

Weights, gradients and optimizer states of mixed-precision Adam under ZeRO stages
(Rajbhandari et al. 2020, fig. 1: 2 + 2 + 12 bytes a parameter; the defaults keep fp32 main
gradients, 2 + 4 + 12, as the Megatron-LM distributed optimizer does); activations per layer
after Korthikanti et al. 2022 (Table 2, sec. 4) with tensor + sequence parallelism, context
parallelism and recomputation; the in-flight microbatches of 1F1B and interleaved schedules on
the first stage (Korthikanti et al. 2022, sec. 4.2.3); logits on the last stage; MoE experts
sharded by expert parallelism. Everything broadcasts over numpy arrays of layouts.
"""

from __future__ import annotations

import numpy as np

from ..assumptions import Assumptions
from ..specs import RECOMPUTE
from .architecture import (
    ffn_params,
    kv_copy_params,
    kv_heads_per_rank,
    layer_attention_params,
    layer_counts,
    norm_params,
)

# none 0, selective 1, full 2, full recompute of a share of the blocks 3-5 (specs.RECOMPUTE)
RECOMPUTE_CODES = {name: code for code, name in enumerate(RECOMPUTE)}
FULL = RECOMPUTE_CODES["full"]
# The share of the blocks each recompute code recomputes whole ("full": full_recompute_fraction)
_SHARES = np.array([float(n.split(":")[1]) if ":" in n else 1.0 if n == "full" else 0.0
                    for n in RECOMPUTE])
# What each code is in the HFU's terms (flops.recompute_flops_per_token): none, selective, full
RECOMPUTE_KINDS = np.array([n.split(":")[0] for n in RECOMPUTE])


def full_share(code, asm: Assumptions):
    """The share of the blocks that recompute code(s) ``code`` recompute whole: 0 for none and
    selective, full_recompute_fraction for "full" (every block unless the stack checkpoints a
    share: torchtitan's every 2nd), the named share for "full:s" (a broadcast array)."""
    code = np.asarray(code)
    return np.where(code == FULL, asm.full_recompute_fraction, _SHARES[code])


def stage_params(a, tp, pp, ep, stage=None):
    """(dense, expert) parameters held by one device of a pipeline stage: ``stage`` i (0 the
    first; an array broadcasts), or, by default, the heavier per device of the first and the
    last (a middle stage is never heavier than the last).

    Dense parts (attention, norms, dense FFNs, shared experts, router) split by tensor
    parallelism (K and V copied where tp exceeds their heads: kv_copy_params); routed experts
    by expert x tensor parallelism (Megatron-Core default expert TP = TP). Each stage holds
    ceil(L/pp) layers in order: the leading dense layers first (then MoE ones), the first
    stage the input embedding, the last the output projection (or, tied, its copy of the
    embedding: Megatron-LM keeps one on each end of the pipeline). One stage (pp 1) holds it
    all."""
    if stage is None:
        first_d, first_e = stage_params(a, tp, pp, ep, 0)
        if not np.any(a.experts):  # a dense model's first and last stages hold alike
            return first_d, first_e
        last = np.maximum(np.asarray(pp) - 1, 0)
        last_d, last_e = stage_params(a, tp, pp, ep, last)
        heavier_first = first_d + first_e >= last_d + last_e
        return (np.where(heavier_first, first_d, last_d),
                np.where(heavier_first, first_e, last_e))
    gated = np.asarray(a.ffn_type) == "gated"
    attn = layer_attention_params(a) + norm_params(a.hidden)
    ffn = ffn_params(a.hidden, a.ffn, gated)
    layers = np.ceil(a.layers / pp)
    dense_layers, moe_layers = layer_counts(a)
    # every stage full (ceil(L/pp) layers); a mixture's dense layers lead, its MoE layers fill
    # the rest (the last stage's too), a dense model's are all dense
    d = np.where(np.asarray(moe_layers) > 0, np.clip(dense_layers - stage * layers, 0, layers),
                 layers)
    m = layers - d
    # the input embedding on the first stage, the output projection (or, tied, the
    # embedding's copy) on the last; on one stage both, or one tied matrix
    one = np.asarray(pp) == 1
    copies = np.where(one, np.where(np.asarray(a.tie_embeddings), 1, 2),
                      (np.asarray(stage) == 0).astype(float)
                      + (np.asarray(stage) == np.asarray(pp) - 1))
    emb = a.vocab * a.hidden * copies
    shared = a.shared_experts * 3.0 * a.hidden * a.expert_ffn + a.hidden * a.experts
    expert_layer = a.experts * 3.0 * a.hidden * a.expert_ffn
    dense = layers * attn + d * ffn + m * shared + emb
    return dense / tp + layers * kv_copy_params(a, tp), m * expert_layer / (tp * ep)


def state_bytes(params, shards, zero, asm: Assumptions):
    """(weights, grads, optimizer) bytes of ``params`` sharded over ``shards`` data-parallel
    ranks at ZeRO stage ``zero``: stage 1 shards optimizer states, 2 also gradients, 3 also
    weights (Rajbhandari et al. 2020, sec. 5.1-5.3)."""
    zero = np.asarray(zero)
    w = params * asm.weight_bytes / np.where(zero >= 3, shards, 1)
    g = params * asm.grad_bytes / np.where(zero >= 2, shards, 1)
    o = params * asm.optimizer_bytes / np.where(zero >= 1, shards, 1)
    return w, g, o


def zero3_shards(shards, asm: Assumptions):
    """Devices one copy of the weights is sharded over under ZeRO-3: every data-parallel rank,
    or the hybrid-sharding group when one is set (PyTorch FSDP HYBRID_SHARD, Zhao et al. 2023,
    sec. 3.2.2)."""
    group = asm.zero3_shard_group
    return np.where(np.asarray(group) > 0, np.minimum(shards, np.maximum(group, 1)), shards)


def sequence_split(tp, asm: Assumptions):
    """What the norms, residuals and dropout divide by across tensor-parallel ranks: tp with
    sequence parallelism, 1 without (Korthikanti et al. 2022, sec. 4.2.2)."""
    return np.where(np.asarray(asm.sequence_parallel) > 0, tp, 1.0)


def activation_bytes_per_layer(a, seq_len, microbatch, tp, cp, recompute, asm: Assumptions,
                               quantized_bytes=2.0, moe_layer=True):
    """Activations one layer keeps for backward, for one microbatch, on one device
    (Korthikanti et al. 2022, Table 2, re-derived per tensor for GQA and gated FFNs; 2 bytes per
    element, 1 per dropout mask; the inputs of linear layers at ``quantized_bytes``, 1 in FP8
    training: Megatron-Core MoE README, FP8 training, "Stores linear layer inputs in FP8").
    With sequence parallelism everything divides by tp; without it the norms' inputs and
    outputs and the dropout masks are whole on every rank (Korthikanti et al. 2022, Table 2:
    sbh(10 + 24/t + 5as/ht) against sbh(34/t + 5as/ht)). Context parallelism divides the
    sequence. ``moe_layer`` False: one of a mixture's dense layers (its dense FFN, no tokens
    dispatched to experts: DeepSeek-V3's first three)."""
    q = quantized_bytes
    sb = seq_len / cp * microbatch
    h, heads = a.hidden, a.heads
    # Bytes per token of the microbatch, scaled by its tokens (sb) once below: the norms'
    # inputs and outputs and the dropout masks divide by tp under sequence parallelism
    # (seq_split), the rest by tp.
    kv_width = kv_heads_per_rank(a, tp) * tp * a.head_dim  # copied heads: a whole one a rank
    q_width = a.q_width
    moe = (np.asarray(a.experts) > 0) & moe_layer
    ffn_width = np.where(moe, (a.top_k + a.shared_experts) * a.expert_ffn, a.ffn)
    gated = np.asarray(a.ffn_type) == "gated"
    norms = 2 * 2 * h                                        # inputs of the two norms
    ln_out = q * 2 * h                                       # their outputs (QKV, FC1 inputs)
    attn = 2 * q_width + 2 * 2 * kv_width + q * q_width      # Q, K, V, proj input
    # MLA keeps the two latents (inputs of the up-projections), Q and K at the QK width
    # (RoPE dims included), V and the output projection's input at the value width.
    qk_w, v_w = a.heads * a.qk_head_dim, a.heads * a.v_dim
    mla = np.asarray(a.kv_lora_rank) > 0
    attn = np.where(mla, q * (a.q_lora_rank + a.kv_lora_rank) + 2 * 2 * qk_w + 2 * v_w
                    + q * v_w, attn)
    # MoE: the routed experts' first GEMM keeps its input for the weight gradient, as every
    # linear layer does (Korthikanti et al. 2022, Table 2), and that input is the token
    # permuted to its experts, one copy per selected expert (Megatron-Core token permutation);
    # whole on every rank of the expert-TP group, which all-gathers the dispatched tokens
    # (Megatron-Core MoEAlltoAllTokenDispatcher), so it does not divide by tp
    expert_in = np.where(moe, q * a.top_k * h, 0.0)
    fc1_out = np.where(gated, 2, 1) * 2 * ffn_width         # gate+up (fused) or up
    act_out = q * ffn_width                                  # activation output = FC2 input
    dropout = 2 * h * (1 if asm.dropout else 0)              # two 1-byte dropout masks
    # Attention scores: softmax output (2 bytes), dropout mask (1) and output (2) = 5 a s^2 b
    # when materialised; FlashAttention keeps only the fp32 log-sum-exp, 4 a s b.
    scores_full = (5 if asm.dropout else 2) * heads * (seq_len / cp)
    scores = 4 * heads if asm.flash_attention else scores_full
    code = np.asarray(recompute)
    seq_split = sequence_split(tp, asm)
    full_layer = sb * ((norms + ln_out + dropout) / seq_split
                       + (attn + fc1_out + act_out + scores) / tp + expert_in)
    # Selective: with materialised scores, recompute the attention core (Korthikanti et al.
    # 2022, sec. 5); with FlashAttention, which already keeps no scores, recompute the norms and
    # the MLP activation instead (Megatron-Core --recompute-modules layernorm, mlp activation).
    # MLA: selective recomputation also redoes the up-projections from the cached latents, so
    # Q, K and V are not kept (DeepSeek-V3 report sec. 3.2.3, "Recomputation of RMSNorm and MLA
    # Up-Projection").
    redone = ln_out / seq_split + act_out / tp if asm.flash_attention else scores_full / tp
    redone = redone + np.where(mla, (2 * 2 * qk_w + 2 * v_w), 0.0) / tp
    selective = full_layer - sb * redone
    # full recompute keeps only the input of the blocks it checkpoints (Korthikanti et al.
    # 2022, sec. 5: 2sbh, split by tp only under sequence parallelism), the whole layer's
    # activations of the others
    f_full = full_share(code, asm)
    stored_full_recompute = f_full * 2 * sb * h / seq_split + (1 - f_full) * full_layer
    stored = np.select([code >= FULL, code == 1], [stored_full_recompute, selective], full_layer)
    return stored, full_layer


def largest_chunk_share(layers_stage, virtual_stages):
    """The largest virtual chunk's share of a stage's layers: a chunk holds whole layers, so
    ceil(L_s/v)/L_s, 1/v when v divides L_s (Narayanan et al. 2021, sec. 2.2.2)."""
    return np.ceil(layers_stage / virtual_stages) / layers_stage


def in_flight_microbatches(pp, microbatches, virtual_stages, layers_stage, stage=0):
    """Microbatches' worth of a stage's activations the first stage holds at the 1F1B peak:
    min(pp, m), times 1 + (pp-1)/(pp v) for the interleaved schedule (Korthikanti et al. 2022,
    sec. 4.2.3). That factor counts the (pp-1) extra microbatches in the first virtual chunk;
    a chunk holds whole layers, so when v does not divide the stage's ``layers_stage`` the
    largest chunk, ceil(layers/v) of them, is the one counted (as the bubble, step.py).
    ``stage`` i (0 the first) holds min(pp - i, m) under 1F1B (Narayanan et al. 2021, sec.
    2.2.1: stage i warms up with pp - i - 1 forwards); interleaved, the larger of that times
    the first stage's factor and the stage's own warm-up chunks (below)."""
    pp = np.asarray(pp, dtype=float)
    base = np.minimum(pp - stage, microbatches)
    chunk_share = largest_chunk_share(layers_stage, virtual_stages)
    interleave = np.where(virtual_stages > 1, 1.0 + (pp - 1) / pp * chunk_share, 1.0)
    # a later stage of an interleaved schedule warms up with 2(pp - i - 1) + (v - 1) pp chunks
    # before its first backward (Megatron-LM's interleaved schedule,
    # forward_backward_pipelining_with_interleaving: num_warmup_microbatches), so the last
    # holds ((v - 1) pp + 1) / v stages' worth, not one (an audit: Llama 3.1 8B at pp 4 vp 8
    # had read its last stage 1.4 GB light); on the first stage the two agree
    v = np.asarray(virtual_stages, dtype=float)
    warm = (2.0 * (pp - stage - 1) + (v - 1.0) * pp + 1.0) / v
    return np.where(v > 1, np.maximum(base * interleave, np.minimum(warm, microbatches)),
                    base * interleave)


def memory_breakdown(a, seq_len, microbatch, microbatches, tp, pp, dp, cp, ep, vp, recompute,
                     zero, asm: Assumptions, quantized_bytes=2.0) -> dict:
    """Peak bytes per device by component: weights, grads, optimizer, activations, other
    (``quantized_bytes``: activation_bytes_per_layer)."""
    dense, expert = stage_params(a, tp, pp, ep)
    shards = np.where(np.asarray(zero) >= 3, zero3_shards(dp * cp, asm), dp * cp)
    expert_shards = np.maximum(shards / ep, 1)

    def state(dense_p, expert_p):
        (wd, gd, od), (we, ge, oe) = (state_bytes(dense_p, shards, zero, asm),
                                      state_bytes(expert_p, expert_shards, zero, asm))
        return wd + we, gd + ge, od + oe

    args = (a, seq_len, microbatch, tp, cp, recompute, asm, quantized_bytes)
    stored, working = activation_bytes_per_layer(*args)
    layers_stage = np.ceil(a.layers / pp)
    # A mixture's leading dense layers (DeepSeek-V3's 3 of 61) sit on the first stages and
    # keep no dispatched tokens: the first stage's microbatch is lighter than an all-MoE one,
    # so a later stage, fewer microbatches in flight, may be the heavier (an audit:
    # DeepSeek-V3 at pp 16 had been read 46.8 GB where the first stage keeps 35.6 and the
    # second 43.9). The MoE layers fill the last stage.
    dense_layers, moe_layers = layer_counts(a)
    stored_dense = (activation_bytes_per_layer(*args, moe_layer=False)[0]
                    if np.any(a.experts) else stored)
    logits = 4.0 * seq_len / cp * microbatch * a.vocab / tp    # fp32 logits for the loss
    last_moe = np.minimum(layers_stage, moe_layers)
    last_stage = np.maximum(pp - 1, 0)
    # the last stage: its microbatches in flight (one under 1F1B, more when interleaved) and
    # the logits of the one in its loss
    last = (stored_dense * (layers_stage - last_moe) + stored * last_moe) \
        * in_flight_microbatches(pp, microbatches, vp, layers_stage, last_stage) + logits
    whole = stored_dense * dense_layers + stored * moe_layers   # one stage: every layer
    if not np.any(a.experts):
        # a dense model's stages hold the same weights: the first stage's microbatches in
        # flight or the last's logits, whichever weigh more
        held = stored * layers_stage * in_flight_microbatches(pp, microbatches, vp,
                                                              layers_stage)
        acts = np.where(pp > 1, np.maximum(held, last), whole + logits)
        weights, grads, optimizer = state(dense, expert)
    else:
        # Stage i keeps its layers' microbatch for min(pp - i, m) microbatches: all-dense
        # stages weigh least at i = 0 and all-MoE ones at the first of them, so the heaviest is
        # the first stage, the one the dense layers end in, the next (the first all-MoE one,
        # which at pp 32 or 64 is past the second: an audit's review) or the last, with its
        # logits. Each stage's own weights, gradients and optimizer states join its
        # activations: the heaviest stage's states had been added to another stage's
        # activations (an audit: DeepSeek-V3 at pp 16 read 66.8 GB, stage 0's states with
        # stage 1's activations, where stage 1 keeps 61.1)
        ends = dense_layers / layers_stage
        best = None
        for i in (0, np.floor(ends), np.ceil(ends), last_stage):
            i = np.minimum(i, last_stage)
            d = np.clip(dense_layers - i * layers_stage, 0, layers_stage)
            held = (stored_dense * d + stored * (layers_stage - d)) * in_flight_microbatches(
                pp, microbatches, vp, layers_stage, i)
            held = np.where(pp > 1, np.where(i == last_stage, np.maximum(held, last), held),
                            whole + logits)
            w, g, o = state(*stage_params(a, tp, pp, ep, i))
            if best is None:
                best = [w, g, o, held]
                continue
            heavier = w + g + o + held > best[0] + best[1] + best[2] + best[3]
            best = [np.where(heavier, new_, old_) for new_, old_ in zip((w, g, o, held), best)]
        weights, grads, optimizer, acts = best
    acts = acts + np.where(np.asarray(recompute) >= FULL, working, 0.0)  # the layer being redone
    # ZeRO-3 gathers a layer's weights ahead of use: two layers in flight (FSDP prefetch).
    zero3_buffers = np.where(np.asarray(zero) >= 3,
                             2 * asm.weight_bytes * (dense + expert) / layers_stage, 0.0)
    other = asm.framework_reserved_gb * 1e9 + zero3_buffers
    return {"weights": weights + 0.0 * acts, "grads": grads + 0.0 * acts,
            "optimizer": optimizer + 0.0 * acts, "activations": acts,
            "other": other + 0.0 * acts}


def total_bytes(breakdown: dict):
    return sum(breakdown.values())
