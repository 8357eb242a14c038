"""Parameter counts of decoder-only transformers, and a shape from a parameter count alone.

Counts follow the layer anatomy of Narayanan et al. 2021 (sec. 3.2, 12h^2 per GPT layer) with
grouped-query attention (Ainslie et al. 2023), gated FFNs (Shazeer 2020, three matrices) and
mixture-of-experts layers (DeepSeek-V3 report, sec. 2.1: shared + routed experts, top-k).
Every function broadcasts over numpy arrays, so one shape and a million use the same code.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from ..specs import Architecture
from ..units import MIN_SHAPELESS_PARAMS

# Shape rule for a dense decoder given only N. Fitted to the published gated-FFN shapes in
# workloads/ (Llama 3.1 8B, 70B, 405B): head dim 128, hidden/layers ~ 128 (8B: 4096/32,
# 405B: 16384/126; GPT-3 175B: 12288/96), ffn ~ 3.5 x hidden (Llama 3.1 8B and 70B), 8 KV heads,
# Llama 3 vocabulary of 128,256. See docs/shape.md.
RULE_HEAD_DIM = 128
RULE_ASPECT = 128  # hidden / layers
RULE_FFN_RATIO = 3.5
RULE_KV_HEADS = 8
RULE_VOCAB = 128256
PLAIN_FFN_RATIO = 4.0  # plain (GPT) FFN: d_ff = 4 d_model (Brown et al. 2020, sec. 2.1)
# Small models share the input embedding with the output projection: Llama 3.2 1B and 3B tie
# them, Llama 3.1 8B does not (Llama 3.2 model card, 'Shared Embeddings'); Qwen2.5 ties 0.5B-3B
# and unties 7B and up (Qwen2.5 technical report, arXiv 2412.15115, Table 1). The rule ties
# below 5B, between the largest tied (3.2B) and the smallest untied (7.6B) of both families.
RULE_TIE_BELOW_PARAMS = 5e9
# The depth's rounding step (step, from depth): a power of two at most an eighth of the
# depth, so that many pipeline stages split it evenly; 32 from 160 layers, where layouts of 32
# stages appear (tests/model/test_architecture.py walks the smoothness this buys).
LAYER_STEPS = ((32, 160), (16, 128), (8, 64), (4, 32), (1, 0))
RULE_TOLERANCE = 0.03  # the rule's count is within 3% of the N asked for, or it refuses
RULE_SOURCE = ("planner shape rule fitted to Llama 3.1 8B/70B/405B and GPT-3 175B shapes "
               "(workloads/): head dim 128, hidden/layers 128, ffn 3.5 hidden, 8 KV heads, "
               "vocab 128,256, embeddings tied below 5B (Llama 3.2, Qwen2.5)")
MOE_RULE_SOURCE = ("planner shape rule, mixture of experts: the gated rule's backbone (head dim "
                   "128, hidden/layers 128, 8 KV heads, vocab 128,256, ties below 5B) with "
                   "every FFN routed, the activated experts (top-k and shared) together 3.5 "
                   "hidden wide (DeepSeekMoE, Dai et al. 2024, sec. 3.1: fine-grained experts "
                   "keep the activated computation); the experts' count sets the total")
PLAIN_RULE_SOURCE = ("planner shape rule, plain FFN: the GPT-3 layout (Brown et al. 2020, "
                     "Table 2.1): ffn 4 hidden, full multi-head attention; head dim 128, "
                     "hidden/layers 128, vocab 128,256, embeddings tied below 5B")


def rule_source(a: Architecture) -> str:
    """The source line of a shape the rule gave: the gated, plain (GPT-3) or MoE rule."""
    if a.experts:
        return MOE_RULE_SOURCE
    return RULE_SOURCE if a.ffn_type == "gated" else PLAIN_RULE_SOURCE


def attention_params(hidden, heads, kv_heads, head_dim=None):
    """Q and O projections (h x heads x head_dim each) plus K and V (h x kv_heads x head_dim
    each), no biases; head_dim defaults to h / heads."""
    head_dim = hidden / heads if head_dim is None else head_dim
    return 2 * hidden * heads * head_dim + 2 * hidden * kv_heads * head_dim


def mla_params(hidden, heads, head_dim, q_lora_rank, kv_lora_rank, rope_head_dim, v_head_dim):
    """Multi-head Latent Attention (DeepSeek-V2 report, sec. 2.1.2-2.1.3, eqs. 37-47): query
    down/up projections (or one direct projection when q_lora_rank is 0), the joint KV
    down-projection with the shared RoPE key, K and V up-projections, the output projection,
    and the RMSNorms of the two latents."""
    qk = head_dim + rope_head_dim
    q = np.where(q_lora_rank > 0, hidden * q_lora_rank + q_lora_rank * heads * qk + q_lora_rank,
                 hidden * heads * qk)
    kv = (hidden * (kv_lora_rank + rope_head_dim) + kv_lora_rank * heads * (head_dim + v_head_dim)
          + kv_lora_rank)
    return q + kv + heads * v_head_dim * hidden


def layer_attention_params(a: Architecture):
    """The attention parameters of one layer: MLA when the architecture has a KV latent."""
    mla = np.asarray(a.kv_lora_rank) > 0
    return np.where(mla, mla_params(a.hidden, a.heads, a.head_dim, a.q_lora_rank,
                                    a.kv_lora_rank, a.rope_head_dim, a.v_dim),
                    attention_params(a.hidden, a.heads, a.kv_heads, a.head_dim))


def kv_heads_per_rank(a: Architecture, tp):
    """The K/V heads one tensor-parallel rank holds: kv_heads/tp where tp divides them
    (Megatron-Core attention.py: num_query_groups_per_partition = divide(num_query_groups,
    tp)), one whole head each where tp exceeds them and the stack copies them
    (neuronx-distributed GQAQKVColumnParallelLinear, kv_size_multiplier = tp / kv_heads;
    MaxText's sharding replicates them likewise): ceil(kv_heads / tp) either way."""
    return np.ceil(np.asarray(a.kv_heads, dtype=float) / np.asarray(tp, dtype=float))


def kv_copy_params(a: Architecture, tp):
    """K and V weights each tensor-parallel rank holds beyond its 1/tp share of a layer's,
    where tp exceeds the KV heads and they are copied (kv_heads_per_rank); 0 under MLA, whose
    latents split by heads."""
    mla = np.asarray(a.kv_lora_rank) > 0
    extra = kv_heads_per_rank(a, tp) - np.asarray(a.kv_heads, dtype=float) / tp
    return np.where(mla, 0.0, 2.0 * a.hidden * a.head_dim * extra)


def ffn_params(hidden, ffn, gated):
    """Gated FFN: gate, up, down (3 h x ffn); plain FFN: up, down (2 h x ffn)."""
    return np.where(gated, 3, 2) * hidden * ffn


def norm_params(hidden):
    """Two norms per layer (pre-attention, pre-FFN), weights only."""
    return 2 * hidden


def moe_ffn_params(hidden, expert_ffn, routed, shared_experts, experts):
    """One MoE layer's FFN: ``routed`` plus shared gated experts (3 h x expert_ffn each) and
    the router (h x experts) (DeepSeek-V3 report, sec. 2.1.2)."""
    return (routed + shared_experts) * ffn_params(hidden, expert_ffn, True) + hidden * experts


def moe_layer_ffn_params(a: Architecture, active: bool = False):
    """Routed (all, or top-k when active) plus shared experts, gated, and the router."""
    return moe_ffn_params(a.hidden, a.expert_ffn, a.top_k if active else a.experts,
                          a.shared_experts, a.experts)


def layer_counts(a: Architecture):
    """(layers with a dense FFN, layers with a MoE FFN)."""
    moe = np.asarray(a.experts) > 0
    return np.where(moe, a.dense_layers, a.layers), np.where(moe, a.layers - a.dense_layers, 0)


def embedding_params(a: Architecture):
    """Input embedding, plus the output projection when it is not tied to it."""
    return a.vocab * a.hidden * np.where(a.tie_embeddings, 1, 2)


def total_params(a: Architecture, active: bool = False):
    """All parameters; with ``active``, only those one token touches (top-k + shared experts)."""
    dense, moe = layer_counts(a)
    gated = np.asarray(a.ffn_type) == "gated"
    per_layer = layer_attention_params(a) + norm_params(a.hidden)
    return (a.layers * per_layer + dense * ffn_params(a.hidden, a.ffn, gated)
            + moe * moe_layer_ffn_params(a, active) + embedding_params(a) + a.hidden) * 1.0


def active_params(a: Architecture):
    """Parameters touched by one token: all of a dense model, top-k + shared experts of a MoE."""
    return total_params(a, active=True)


def matmul_params_per_token(a: Architecture) -> float:
    """Weights a token multiplies through (active, non-embedding, plus the output logits).

    The input embedding is a lookup, not a matmul; the output projection (tied or not) is a
    V x h matmul, so it counts once (Kaplan et al. 2020, Table 1, counts it the same way).
    """
    emb_unused = a.vocab * a.hidden * np.where(a.tie_embeddings, 0, 1)
    return active_params(a) - emb_unused - (a.layers * norm_params(a.hidden) + a.hidden)


# A workload file's [training] params may round its shape's count (a "3B" name for 3.83B:
# SEA-LION 3B, the shipped catalog's widest gap at 1.28x); beyond this factor either way the two
# disagree (a unit slip, or the shape of another model) and the file is refused.
PUBLISHED_PARAMS_SLACK = 1.5


def published_params_problem(w) -> tuple[str, str] | None:
    """(reason, accepted) when a workload's published parameter count ([training] params)
    cannot be the count of its published shape, or its published active count ([training]
    active_params) the active count of the shape its plans use (the published one, or the
    rule's for its count and experts), more than PUBLISHED_PARAMS_SLACK apart either way; None
    when they can, or when the file gives nothing to compare."""
    if w.architecture is not None and w.published_params:
        n = float(total_params(w.architecture))
        ratio = float(w.published_params) / n
        if not 1.0 / PUBLISHED_PARAMS_SLACK <= ratio <= PUBLISHED_PARAMS_SLACK:
            return (f"training.params: {float(w.published_params):,.0f} is {ratio:.3g}x the "
                    f"{n:,.0f} parameters its [architecture] counts",
                    f"the published count of that shape (within {PUBLISHED_PARAMS_SLACK:g}x), "
                    "or the shape of the model of that count")
    active = getattr(w, "published_active_params", None)
    if not active or (w.architecture is None and not w.published_params):
        return None
    # the active count the plans use: the shape's, or the rule's for the count and experts (a
    # file's 5B active of a 1T, 64-expert top-4 MoE had planned 77.7B active, silently)
    n = float(active_params(workload_shape(w)))
    ratio = float(active) / n
    if 1.0 / PUBLISHED_PARAMS_SLACK <= ratio <= PUBLISHED_PARAMS_SLACK:
        return None
    whose = ("its [architecture] counts" if w.architecture is not None else
             "the shape rule gives its parameter count and experts (experts, top_k, "
             "shared_experts)")
    return (f"training.active_params: {float(active):,.0f} is {ratio:.3g}x the {n:,.0f} active "
            f"parameters {whose}",
            f"the active count of that shape (within {PUBLISHED_PARAMS_SLACK:g}x), or a shape "
            "(or experts and top_k) whose active count it is")


def workload_shape(w) -> Architecture:
    """A workload's published shape, or the rule's shape (its FFN kind and experts kept) for
    its parameter count when it publishes none."""
    if w.architecture is not None:
        return w.architecture
    return shape_for_params(float(w.published_params), w.published_ffn_type,
                            *w.published_experts)


@lru_cache(maxsize=256)
def moe_rule_floor(experts: int, top_k: int, shared_experts: int = 0) -> float:
    """The smallest parameter count (to 1%) the MoE shape rule reaches with these experts:
    its vocabulary and the experts' narrowest widths set it, ~80M-500M (ValueError past 1e14,
    as for a top_k the rule refuses)."""
    shape_for_params(1e12, "gated", experts, top_k, shared_experts)  # refuses bad experts
    n = MIN_SHAPELESS_PARAMS
    while n <= 1e14:
        try:
            shape_for_params(n, "gated", experts, top_k, shared_experts)
            return n
        except ValueError:  # below the reach of these experts
            n *= 1.01
    raise ValueError(f"no count up to 1e14 takes {experts} experts (top {top_k})")


@lru_cache(maxsize=4096)
def param_counts(a: Architecture) -> tuple[float, float]:
    """(total, active) parameters of one architecture (scalar fields), computed once."""
    return float(total_params(a)), float(active_params(a))


@lru_cache(maxsize=4096)
def shape_for_params(n_params: float, ffn_type: str = "gated", experts: int = 0,
                     top_k: int = 0, shared_experts: int = 0) -> Architecture:
    """A decoder whose parameter count is within 3% of ``n_params`` (~70M to 1e14;
    ValueError where no rounding comes that close).

    Gated (the default): the Llama 3.1 rule above. Plain: the GPT-3 layout (Brown et al. 2020,
    sec. 2.1 and Table 2.1: d_ff = 4 d_model, full multi-head attention), with the same head
    dim, depth ratio and vocabulary. With ``experts`` (and ``top_k``, ``shared_experts``): the
    gated rule's backbone with every FFN a mixture of experts whose activated experts together
    are as wide as the dense rule's FFN (MOE_RULE_SOURCE), so the experts' count sets the total
    and a token's active model is the dense rule's model of that width and depth.
    """
    if not (n_params > 0 and math.isfinite(n_params)):
        raise ValueError(f"params must be a positive finite number, got {n_params}")
    if ffn_type not in ("gated", "plain"):
        raise ValueError(f"ffn_type must be gated or plain, got {ffn_type!r}")
    moe = experts > 0
    if moe and not (ffn_type == "gated" and 1 <= top_k <= experts and shared_experts >= 0):
        raise ValueError(f"a mixture of experts needs gated experts and 1 <= top_k <= experts, "
                         f"got {ffn_type}, top_k {top_k} of {experts}")
    ratio = RULE_FFN_RATIO if ffn_type == "gated" else PLAIN_FFN_RATIO
    tied = n_params < RULE_TIE_BELOW_PARAMS
    emb_mats = 1 if tied else 2
    # the FFN width the rule fills in, per hidden unit: the dense FFN, or one expert, the
    # activated experts (routed and shared) splitting the dense width between them
    # (DeepSeekMoE, Dai et al. 2024, sec. 3.1: fine-grained segmentation keeps the activated
    # computation)
    share = 1.0 / (top_k + shared_experts) if moe else 1.0
    def kv_for(heads: float) -> float:
        return min(RULE_KV_HEADS, heads) if ffn_type == "gated" else heads

    def ffn_layer(hidden: float, width: float) -> float:
        """One layer's FFN parameters at a FFN (or expert) width: routed and shared experts
        and the router (moe_layer_ffn_params), or a dense FFN (ffn_params)."""
        if moe:
            return moe_ffn_params(hidden, width, experts, shared_experts, experts)
        return ffn_params(hidden, width, ffn_type == "gated")

    def count(hidden: float, layers: float, width: float) -> float:
        heads = hidden / RULE_HEAD_DIM
        per_layer = (attention_params(hidden, heads, kv_for(heads)) + ffn_layer(hidden, width)
                     + norm_params(hidden))
        return layers * per_layer + emb_mats * RULE_VOCAB * hidden + hidden

    # Solve count(h, h/aspect, ratio h share) = N for h on the continuum, by bisection
    # (monotone in h).
    lo, hi = 64.0, 1e7
    for _ in range(200):
        mid = math.sqrt(lo * hi)
        if count(mid, max(mid / RULE_ASPECT, 1.0), ratio * share * mid) < n_params:
            lo = mid
        else:
            hi = mid
    # Hidden in whole groups of 8 heads (4 below 4096) so tensor parallelism of 8 divides heads.
    group = RULE_HEAD_DIM * (8 if lo >= 4096 else 4)

    def rounded(hidden: int) -> Architecture:
        heads = hidden // RULE_HEAD_DIM
        # Whole groups: the KV heads divide the query heads (8, or 4 when 12, 20, ... heads).
        kv = math.gcd(heads, RULE_KV_HEADS) if ffn_type == "gated" else heads
        emb = emb_mats * RULE_VOCAB * hidden + hidden
        attn = attention_params(hidden, heads, kv) + norm_params(hidden)
        nominal = ratio * share * hidden
        depth = (n_params - emb) / (attn + ffn_layer(hidden, nominal))
        # Whole pipeline stages: Megatron-Core builds num_layers / pp layers on each stage and
        # asserts the division (transformer_block.py, get_num_layers_to_build), so the depth
        # rounds to its LAYER_STEPS step, that many stages splitting it evenly (a depth of
        # 194 = 2 x 97 put 7 layers on some of 32 stages, 6 on others)
        lstep = next((step for step, at in LAYER_STEPS if depth >= at), 1)
        layers = max(2, lstep * round(depth / lstep))
        # Fill what rounding left over with the FFN (or expert) width, in its steps, between
        # 2h and 6h of dense width (split as the nominal is).
        per_width = ffn_layer(hidden, 1.0) - ffn_layer(hidden, 0.0)
        exact = (n_params - emb - layers * (attn + ffn_layer(hidden, 0.0))) / (per_width * layers)
        bounded = min(max(exact, 2 * share * hidden), 6 * share * hidden)
        # the width's rounding: published expert widths are multiples of 64; a narrower expert
        # (a small model's many experts) in 16s below 1,024 and 8s below 256, since a 64 step
        # there moves the count by more than the rule's tolerance (gaps in its reach: 500M
        # with 256 experts was refused where 300M and 1B were shaped)
        step = (64 if nominal >= 1024 else 16 if nominal >= 256 else 8) if moe else 256
        width = int(max(step, step * round(bounded / step)))
        widths = ({"ffn": 0, "experts": experts, "top_k": top_k, "expert_ffn": width,
                   "shared_experts": shared_experts} if moe else {"ffn": width})
        return Architecture(layers=int(layers), hidden=int(hidden), heads=int(heads),
                            kv_heads=kv, vocab=RULE_VOCAB, ffn_type=ffn_type,
                            tie_embeddings=tied, **widths)

    def miss(a: Architecture) -> float:
        return abs(float(total_params(a)) / n_params - 1.0)

    # The nearest whole group; where its rounding misses the count by over 3% (small models,
    # whose width steps by 512 while the vocabulary holds most of the count), the other
    # neighbouring group when it lands closer.
    nearest = rounded(max(group, group * round(lo / group)))
    if miss(nearest) <= RULE_TOLERANCE:
        return nearest
    other = {group * math.floor(lo / group), group * math.ceil(lo / group)} - {nearest.hidden}
    best = min([nearest] + [rounded(h) for h in other if h >= group], key=miss)
    if miss(best) > RULE_TOLERANCE:
        floor = (f"{experts} experts with the vocabulary of {RULE_VOCAB:,} set a floor "
                 f"above ~{MIN_SHAPELESS_PARAMS / 1e6:.0f}M" if moe else
                 f"its vocabulary of {RULE_VOCAB:,} sets a floor of "
                 f"~{MIN_SHAPELESS_PARAMS / 1e6:.0f}M")
        raise ValueError(f"params {n_params:.4g}: the shape rule cannot come within "
                         f"{RULE_TOLERANCE:.0%} of it ({floor}); give the shape instead")
    return best
