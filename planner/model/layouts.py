"""The layout space: every valid layout of a cluster size, as arrays (``enumerate_layouts``),
and the checks a layout part given by the user must pass (``layout_problem``).

A layout is valid when tp * pp * dp * cp = devices; tp divides the attention heads and the FFN
widths and stays inside the scale-up domain (unless allowed to cross it); pp is at most the
layer count (uneven stages pay through ceil(L/pp) in the step model); the microbatch divides
the per-replica batch; virtual stages hold at least one layer each and need at least pp
microbatches (interleaved 1F1B; uneven chunks pay through the largest in the step model); ep
divides dp x cp and the expert count; cp splits the sequence into 2 x cp equal chunks (cp_splits).
Recompute and ZeRO stage are enumerated too. search.py scores them.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from ..errors import LayoutError
from ..specs import LAYOUT_FIELDS, devices_laid_out
from .memory import FULL, RECOMPUTE_CODES

SEARCH_MICROBATCH = (1, 2, 4, 8, 16)
SEARCH_VIRTUAL = (1, 2, 3, 4, 6, 8)
# Full recompute of a share of the blocks the search tries where the stack can (a quarter,
# a half, three quarters: the block method's recompute_num_layers of a stage, coarsely)
SEARCH_SHARES = tuple(RECOMPUTE_CODES[f"full:{s}"] for s in (0.25, 0.5, 0.75))
# A layout's recompute variants as enumerate_layouts lists them, in order of more recompute
# along each chain: none, selective, then full recompute of a growing share of the blocks
# (_score_best keeps the first that fits of each chain); without the shares, none, selective
# and full
RECOMPUTE_VARIANTS = (0, 1, FULL)
RECOMPUTE_VARIANTS_SHARES = (0, 1, *SEARCH_SHARES, FULL)
# each recompute code's place in that order
RECOMPUTE_ORDER = np.argsort(np.array(RECOMPUTE_VARIANTS_SHARES))
SEARCH_CP = (1, 2, 4, 8, 16, 32)
SEARCH_ZERO = (1, 2, 3)


@lru_cache(maxsize=4096)
def cp_splits(seq_len: int, cp: int) -> bool:
    """Whether context parallelism of ``cp`` ranks splits a sequence evenly: load-balanced
    causal context parallelism cuts it into 2 x cp chunks, rank i taking chunks i and
    2cp - 1 - i (Megatron-Core context parallelism: the sequence length must divide by
    2 x cp)."""
    return cp == 1 or seq_len % (2 * cp) == 0


def _divisors(n: int, limit: int | None = None) -> tuple[int, ...]:
    n = int(n)
    small = [d for d in range(1, int(n ** 0.5) + 1) if n % d == 0]
    found = sorted(set(small + [n // d for d in small]))
    return tuple(d for d in found if limit is None or d <= limit)


def layout_problem(a, seq_len: int, scale_up_domain: int, fixed: dict,
                   allow_tp_beyond_domain: bool = False, devices: int | None = None,
                   split_kv: bool = True) -> str | None:
    """Why the layout parts given cannot run this shape on this hardware, or None: tp divides
    the attention heads (Megatron-LM splits heads across tensor ranks, Shoeybi et al. 2019,
    sec. 3) and fits in the scale-up domain unless allowed to cross it; pp is at most the
    layers; cp divides the sequence (ring attention splits it in equal blocks, Liu et al.
    2023); ep divides the experts (and a dense model has none to spread); virtual stages
    need a pipeline; tp*pp*dp*cp is the device count when all four (and it) are given; with
    ``split_kv`` (a stack that splits the KV heads across tensor ranks) tp divides them. (A
    searched tp also tiles the domain; a tp given may straddle, as TPU slices of 12 do.)"""
    tp, pp, cp, ep = (fixed.get(k) for k in ("tp", "pp", "cp", "ep"))
    if tp is not None:
        if a.heads % tp:
            return f"tp={tp} does not divide the {a.heads} attention heads"
        if split_kv and a.kv_heads % tp:
            return (f"tp={tp} does not divide the {a.kv_heads} KV heads (Megatron-Core splits "
                    "the query groups across tensor ranks)")
        width = _unsplit_ffn(a, tp)
        if width:
            return (f"tp={tp} does not divide the FFN width of {width} (the column-parallel "
                    "FFN matrices split their outputs evenly across tensor ranks)")
        if not allow_tp_beyond_domain and tp > scale_up_domain:
            return (f"tp={tp} is larger than the scale-up domain of {scale_up_domain} devices "
                    "(tensor-parallel traffic would cross the scale-out network; allow it with "
                    "allow_tp_beyond_domain=true in planner.estimate, a sweep or estimate_many, "
                    "docs/interface.md)")
    if pp is not None and pp > a.layers:
        return f"pp={pp} is more pipeline stages than the {a.layers} layers"
    if cp is not None and not cp_splits(seq_len, cp):
        return (f"cp={cp} does not split the sequence of {seq_len} tokens into 2 x {cp} equal "
                "chunks (load-balanced causal context parallelism)")
    if ep is not None and ep > 1:
        if not a.experts:
            return f"ep={ep} needs a mixture-of-experts model (this one is dense)"
        if a.experts % ep:
            return f"ep={ep} does not divide the {a.experts} experts"
        dp = fixed.get("dp")
        if dp is not None and (dp * (cp or 1)) % ep:
            return (f"ep={ep} does not divide dp x cp = {dp * (cp or 1)} (experts are sharded "
                    "across the data and context ranks)")
    vp = fixed.get("virtual_stages")
    if vp is not None and vp > 1 and pp is not None and pp == 1:
        return f"vp={vp} needs a pipeline (pp > 1)"
    product = devices_laid_out(fixed)
    if devices is not None and product is not None and product != devices:
        return f"tp*pp*dp*cp = {product:,} is not the {devices:,} devices"
    return None


def _unsplit_ffn(a, tp: int) -> int:
    """The FFN width (dense, then expert) that tp ranks cannot split evenly, 0 when both split:
    Megatron-LM's ColumnParallelLinear gives each rank output_size / tp columns and asserts
    that it divides (Shoeybi et al. 2019, sec. 3: the first FFN GEMM split by columns)."""
    dense = a.ffn if a.ffn and (not a.experts or a.dense_layers) else 0
    for width in (dense, a.expert_ffn if a.experts else 0):
        if width and width % tp:
            return int(width)
    return 0


def named_devices(fixed: dict) -> int | None:
    """The devices a layout names when no device count is given: tp x pp x dp x cp once tp,
    pp and dp are fixed (cp 1 unless given, Megatron-LM's default context parallelism)."""
    if all(k in fixed for k in ("tp", "pp", "dp")):
        return fixed["tp"] * fixed["pp"] * fixed["dp"] * fixed.get("cp", 1)
    return None


def devices_step(fixed: dict) -> int:
    """The step of the device counts a layout with these parts pinned can span: tp x pp x
    lcm(dp x cp, ep) of the parts given (1 for each left out). tp x pp x dp x cp is the
    device count and ep divides dp x cp (docs/interface.md, --layout), so every count such a
    layout runs on is a multiple of it: tp=1,pp=16,ep=64 runs on multiples of 1,024 devices,
    tp=8,pp=9 on multiples of 72."""
    tp, pp, dp, cp, ep = (int(fixed.get(k) or 1) for k in ("tp", "pp", "dp", "cp", "ep"))
    return tp * pp * math.lcm(dp * cp, ep)


def enumerate_layouts(a, devices: int, seq_len: int, global_batch_tokens: float,
                      scale_up_domain: int, fixed: dict | None = None,
                      allow_tp_beyond_domain: bool = False, batch_tolerance: float = 0.0,
                      interleaved: bool = True, split_kv: bool = True,
                      block_recompute: bool = False, pipeline_zero_max: int = 3) -> dict:
    """All valid layouts as a dict of equal-length int arrays (recompute as its code,
    memory.RECOMPUTE_CODES).

    ``batch_seqs`` is each layout's global batch in sequences: the requested one when dp x mb
    divides it, else the nearest multiple of dp x mb within ``batch_tolerance`` (relative).
    ``interleaved`` false: the stack runs plain 1F1B, one virtual stage (DeepSpeed).
    ``block_recompute``: the stack can recompute a share of the blocks whole (SEARCH_SHARES
    are tried beside none, selective and full). ``pipeline_zero_max``: the highest ZeRO stage
    beside pp > 1 (DeepSpeed's pipeline engine: 1)."""
    if fixed and fixed.get("pp", 1) > 1 and fixed.get("zero", 0) > pipeline_zero_max:
        raise LayoutError(f"zero={fixed['zero']} with pp={fixed['pp']}: this stack runs ZeRO "
                          f"at most {pipeline_zero_max} beside pipeline parallelism (DeepSpeed's "
                          "pipeline engine refuses ZeRO-2 and ZeRO-3); give pp=1, "
                          f"zero<={pipeline_zero_max}, or another --framework")
    fixed = dict(fixed or {})
    problem = layout_problem(a, seq_len, scale_up_domain, fixed, allow_tp_beyond_domain,
                             split_kv=split_kv)
    if problem:
        raise LayoutError(problem)
    seqs = global_batch_tokens / seq_len
    if abs(seqs - round(seqs)) > 1e-9 or seqs < 1:
        raise LayoutError(f"the global batch ({global_batch_tokens:.0f} tokens) must be a whole "
                          f"number of {seq_len}-token sequences")
    if not 0.0 <= batch_tolerance < 1.0:
        raise LayoutError(f"batch tolerance must be in [0, 1), got {batch_tolerance}")
    seqs = int(round(seqs))
    # tp divides the heads and tiles the scale-up domain (so no group straddles two domains).
    # ... and the KV heads: Megatron-Core splits the query groups across tensor ranks
    # (attention.py: num_query_groups_per_partition = divide(num_query_groups, tp)), so tp=3
    # of 72 heads with 8 KV heads cannot be built
    # ... and the FFN widths (_unsplit_ffn)
    if "tp" in fixed:
        tps = [fixed["tp"]]
    elif allow_tp_beyond_domain:
        tps = [t for t in _divisors(a.heads) if (not split_kv or a.kv_heads % t == 0)
               and not _unsplit_ffn(a, t)]
    else:
        tps = [t for t in _divisors(a.heads, scale_up_domain)
               if scale_up_domain % t == 0 and (not split_kv or a.kv_heads % t == 0)
               and not _unsplit_ffn(a, t)]
    cps = [fixed["cp"]] if "cp" in fixed else [c for c in SEARCH_CP if cp_splits(seq_len, c)
                                               and (c == 1 or seq_len // c >= 1024)]
    mbs = [fixed["microbatch"]] if "microbatch" in fixed else list(SEARCH_MICROBATCH)
    vps = [fixed["virtual_stages"]] if "virtual_stages" in fixed else list(SEARCH_VIRTUAL)
    if not interleaved:
        if vps != [1] and "virtual_stages" in fixed:
            raise LayoutError(f"vp={fixed['virtual_stages']}: this stack runs plain 1F1B "
                              "without virtual stages; give vp=1 or another --framework")
        vps = [1]
    rcs = ([RECOMPUTE_CODES[fixed["recompute"]]] if "recompute" in fixed
           else list(RECOMPUTE_VARIANTS_SHARES if block_recompute else RECOMPUTE_VARIANTS))
    zeros = [fixed["zero"]] if "zero" in fixed else list(SEARCH_ZERO)
    combos = []  # (tp, pp, dp, cp, ep), in the order the layouts are listed
    for tp in tps:
        for cp in cps:
            if devices % (tp * cp):
                continue
            rest = devices // (tp * cp)
            pps = [fixed["pp"]] if "pp" in fixed else _divisors(rest, a.layers)
            for pp in pps:
                if rest % pp:
                    continue
                dp = rest // pp
                if "dp" in fixed and fixed["dp"] != dp:
                    continue
                # the expert-parallel group folds the data and context ranks together
                # (Megatron-Core parallel_state: expert groups are built with cp folded in)
                eps = ([fixed["ep"]] if "ep" in fixed else
                       [e for e in _divisors(dp * cp) if a.experts % e == 0] if a.experts
                       else [1])
                for ep in eps:
                    if (dp * cp) % ep or (a.experts and a.experts % ep) or (not a.experts
                                                                         and ep != 1):
                        continue
                    combos.append((tp, pp, dp, cp, ep))
    if not combos:
        return {}
    # every microbatch x virtual stages of every combination at once
    c = np.array(combos, dtype=np.int64)
    pp, dp = c[:, 1, None, None], c[:, 2, None, None]
    mb = np.array(mbs, dtype=np.int64)[None, :, None]
    vp = np.array(vps, dtype=np.int64)[None, None, :]
    m = np.maximum(1, np.rint(seqs / (dp * mb))).astype(np.int64)  # microbatches per pipeline
    ok = np.abs(m * dp * mb - seqs) <= batch_tolerance * seqs
    # interleaving needs at least pp microbatches in flight: Megatron-LM 2021 asked for a
    # multiple of pp (Narayanan et al. 2021, sec. 2.2), the Llama 3 schedule "allows setting
    # N flexibly" (Llama 3 report, sec. 3.3.2); uneven stages round up (ceil(L/pp)), a
    # stage holds at least one layer per virtual stage, and no virtual stage is empty beyond
    # the two that may hold the embedding and the loss instead of a layer (Megatron-Core's
    # account_for_embedding/loss_in_pipeline_split; Llama 3 405B's 126 layers on 16 x 8
    # virtual stages, "one Transformer layer" removed from the first and last, sec. 3.3.2):
    # pp16 vp8 on 120 layers left 8 empty
    ok = ok & ((vp == 1) | ((pp > 1) & (m >= pp) & (-(-a.layers // pp) >= vp)
                            & (pp * vp <= a.layers + 2)))
    i, jm, jv = np.nonzero(ok)
    if not i.size:
        return {}
    base = np.column_stack([c[i], mb[0, jm, 0], vp[0, 0, jv],
                            (m * dp * mb)[i, jm, 0]]).astype(np.int64)
    n, k = len(base), len(rcs) * len(zeros)
    grid = np.repeat(base, k, axis=0)
    rc = np.tile(np.repeat(np.array(rcs), len(zeros)), n)
    zero = np.tile(np.array(zeros), n * len(rcs))
    out = {name: grid[:, i] for i, name in enumerate(LAYOUT_FIELDS[:7])}
    out["recompute"] = rc
    out["zero"] = zero
    out["batch_seqs"] = grid[:, 7]
    out["base"] = np.repeat(np.arange(n), k)  # the layout a variant (recompute, ZeRO) is of
    if pipeline_zero_max < max(zeros):  # a stack whose pipeline refuses the higher stages
        keep = (out["pp"] == 1) | (out["zero"] <= pipeline_zero_max)
        out = {name: v[keep] for name, v in out.items()}
        if not keep.any():
            return {}
    return out
