"""Every valid layout for a cluster size, evaluated at once, and the fastest that fits.

A layout is valid when tp * pp * dp * cp = devices; tp divides the attention heads and the FFN
widths and stays inside the scale-up domain (unless allowed to cross it); pp is at most the
layer count (uneven stages pay through ceil(L/pp) in the step model); the microbatch divides
the per-replica batch; virtual stages hold at least one layer each and need at least pp
microbatches (interleaved 1F1B; uneven chunks pay through the largest in the step model); ep
divides dp x cp and the expert count; cp splits the sequence into 2 x cp equal chunks (cp_splits).
Recompute and ZeRO stage are searched too.

One key (a workload on a cluster of a given size, with the layout parts fixed by the user) or
thousands (every candidate cluster size of a sizing, every distinct scenario of a sweep) are
scored the same way: the candidates of many keys are concatenated and scored by one
``step.evaluate`` call over arrays of architectures and hardware, and each key keeps the fastest
layout that fits in memory, the first of equals (``best_layouts``). ``search`` keeps every
layout of one key, for the ranked alternatives of a plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..assumptions import Assumptions
from ..errors import LayoutError
from ..specs import RECOMPUTE, Architecture
from ..tuning import SCORE_BATCH_LAYOUTS, SEARCH_ALONE_LAYOUTS
from .flops import hardware_flops_per_token, model_flops_per_token
from .memory import (
    FULL,
    RECOMPUTE_CODES,
    RECOMPUTE_KINDS,
    full_share,
    memory_breakdown,
    total_bytes,
)
from .step import MEMORY_KEYS, TIME_KEYS, Hardware, evaluate

LAYOUT_FIELDS = ("tp", "pp", "dp", "cp", "ep", "microbatch", "virtual_stages", "recompute",
                 "zero")
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
_RECOMPUTE_ORDER = np.argsort(np.array(RECOMPUTE_VARIANTS_SHARES))
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
    if devices is not None and all(k in fixed for k in ("tp", "pp", "dp", "cp")):
        product = fixed["tp"] * fixed["pp"] * fixed["dp"] * fixed["cp"]
        if product != devices:
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




# --- scoring keys: one evaluation for one key or many ------------------------------------------

@dataclass(frozen=True)
class SearchKey:
    """One layout search: a workload on a cluster of ``devices``, some layout parts fixed."""

    architecture: Architecture
    seq_len: int
    global_batch_tokens: float
    hardware: Hardware
    devices: int
    fixed: tuple = ()  # sorted (name, value) pairs of the layout parts given
    allow_tp: bool = False

    def __hash__(self) -> int:  # computed once: keys are looked up in memos many times
        h = self.__dict__.get("_hash")
        if h is None:
            h = hash((self.architecture, self.seq_len, self.global_batch_tokens, self.hardware,
                      self.devices, self.fixed, self.allow_tp))
            object.__setattr__(self, "_hash", h)
        return h


# Per key: FITS (a layout fits in memory and runs), NO_FIT (none fits in memory), NO_STEP (one
# fits in memory but its step time is unknown: a bandwidth the catalog lacks), NO_LAYOUT (no
# valid layout for this size) and ERROR (the inputs cannot be laid out at all).
NO_LAYOUT, FITS, NO_FIT, NO_STEP, ERROR = 0, 1, 2, 3, 4
# The figures kept of a key's best layout, in this order.
FIGURES = ("step_time_s", "tokens_per_s", "mfu", "hfu", "memory_bytes", "batch_seqs",
           "model_flops_per_token", "hardware_flops_per_token",
           *(f"time_{k}" for k in TIME_KEYS), *(f"memory_{k}" for k in MEMORY_KEYS))
F = {name: j for j, name in enumerate(FIGURES)}


@dataclass
class Best:
    """The best layout of each of K keys: ``state`` (above), ``figures`` (K x FIGURES),
    ``layouts`` (K x LAYOUT_FIELDS, recompute as its code), ``lean_bytes`` (the leanest memory
    need of any layout of the key, for the reason when none fits), ``count`` (layouts scored)
    and ``errors`` (key index -> message, state ERROR)."""

    state: np.ndarray
    figures: np.ndarray
    layouts: np.ndarray
    lean_bytes: np.ndarray
    count: np.ndarray
    errors: dict

    def figure(self, name: str) -> np.ndarray:
        return self.figures[:, F[name]]

    def layout_part(self, name: str) -> np.ndarray:
        return self.layouts[:, LAYOUT_FIELDS.index(name)]

    def layout(self, i: int) -> dict:
        d = {k: int(v) for k, v in zip(LAYOUT_FIELDS, self.layouts[i])}
        d["recompute"] = RECOMPUTE[d["recompute"]]
        return d

    def take(self, index) -> "Best":
        index = np.asarray(index, dtype=np.int64)
        pos = {int(k): j for j, k in enumerate(index.tolist())}
        return Best(self.state[index], self.figures[index], self.layouts[index],
                    self.lean_bytes[index], self.count[index],
                    {pos[k]: m for k, m in self.errors.items() if k in pos})

    @staticmethod
    def concat(parts: list["Best"]) -> "Best":
        errors, offset = {}, 0
        for p in parts:
            errors.update({offset + k: m for k, m in p.errors.items()})
            offset += len(p.state)
        return Best(np.concatenate([p.state for p in parts]),
                    np.concatenate([p.figures for p in parts]),
                    np.concatenate([p.layouts for p in parts]),
                    np.concatenate([p.lean_bytes for p in parts]),
                    np.concatenate([p.count for p in parts]), errors)


def _candidates(key: SearchKey, asm: Assumptions, shares: bool = True) -> dict:
    """The key's layouts; ``shares`` false: without the shares of the blocks recomputed
    (best_layouts adds them where they can win, _score_best)."""
    return enumerate_layouts(key.architecture, key.devices, key.seq_len, key.global_batch_tokens,
                             key.hardware.scale_up_domain, dict(key.fixed), key.allow_tp,
                             asm.batch_tolerance, bool(asm.interleaved_pipeline),
                             bool(asm.kv_heads_split), shares and searches_shares(asm),
                             int(asm.pipeline_zero_max))


def searches_shares(asm: Assumptions) -> bool:
    """Whether the search tries full recompute of a share of the blocks: the stack can
    (block_recompute) and no share is pinned (full_recompute_fraction 1, every block)."""
    return bool(asm.block_recompute) and float(asm.full_recompute_fraction) == 1.0


def _score(a, seq, lay: dict, hw: Hardware, asm: Assumptions) -> dict:
    """step.evaluate over candidate layouts (arrays of architectures and hardware broadcast)."""
    return evaluate(a, seq, lay["batch_seqs"] * np.asarray(seq, dtype=float), hw, lay["tp"],
                    lay["pp"], lay["dp"], lay["cp"], lay["ep"], lay["microbatch"],
                    lay["virtual_stages"], lay["recompute"], lay["zero"], asm)


def _memory(a, seq, lay: dict, hw: Hardware, asm: Assumptions) -> dict:
    """memory.memory_breakdown over candidate layouts (arrays of architectures and hardware
    broadcast), each at its own batch: what _score_best and search weigh before any step."""
    mb = lay["microbatch"]
    return memory_breakdown(a, seq, mb, lay["batch_seqs"] / (lay["dp"] * mb), lay["tp"],
                            lay["pp"], lay["dp"], lay["cp"], lay["ep"], lay["virtual_stages"],
                            lay["recompute"], lay["zero"], asm, hw.quantized_bytes)


def _record(r: dict, lay: dict, idx: np.ndarray, a, seq,
            asm: Assumptions) -> tuple[np.ndarray, np.ndarray]:
    """(figures, layouts) rows of the candidates ``idx`` of an evaluated set; ``a`` and ``seq``
    are the architecture and sequence of each row (arrays, or one for all)."""
    shape = np.shape(r["step_time_s"])
    pick = lambda v: np.broadcast_to(np.asarray(v, dtype=float), shape)[idx]  # noqa: E731
    code = np.asarray(lay["recompute"])[idx]
    n = len(idx)
    cols = [pick(r["step_time_s"]), pick(r["tokens_per_s"]), pick(r["mfu"]), pick(r["hfu"]),
            pick(r["memory_bytes"]), np.asarray(lay["batch_seqs"])[idx].astype(float),
            np.broadcast_to(model_flops_per_token(a, seq), (n,)),
            np.broadcast_to(hardware_flops_per_token(a, seq, RECOMPUTE_KINDS[code],
                                                     full_share(code, asm)), (n,))]
    cols += [pick(r["time"][k]) for k in TIME_KEYS]
    cols += [pick(r["memory"][k]) for k in MEMORY_KEYS]
    return (np.stack([np.asarray(c, dtype=float) for c in cols], axis=1),
            np.stack([np.asarray(lay[k])[idx] for k in LAYOUT_FIELDS], axis=1))


def _stack(objs: list, cls, index: np.ndarray):
    """A ``cls`` (frozen dataclass) whose fields are arrays: objs[index]'s fields."""
    return cls(**{f: np.array([getattr(o, f) for o in objs])[index]
                  for f in cls.__dataclass_fields__})


def _subset(obj, idx: np.ndarray):
    """A dataclass of per-candidate arrays (or scalars) restricted to the candidates ``idx``."""
    return type(obj)(**{f: (np.asarray(getattr(obj, f))[idx] if np.ndim(getattr(obj, f))
                            else getattr(obj, f)) for f in obj.__dataclass_fields__})


def _score_best(a, seq, lay: dict, hw, asm: Assumptions, sizes: np.ndarray,
                free=None) -> tuple:
    """The best candidate of each run of ``sizes`` consecutive candidates (one run per key),
    as ``search`` finds it: the fastest that fits in memory, the first of equals.

    Memory is worked out for every candidate, the step only for those that can win: a step
    is strictly longer the more is recomputed (the recompute adds compute, tensor-parallel
    traffic and bubble, and no term shrinks: model/step.py), so of a layout's recompute
    variants at one ZeRO stage only the least-recomputing one that fits can be the fastest.

    ``free`` (per candidate: its key leaves recompute to the search) with a stack that
    recomputes a share of the blocks (searches_shares): ``lay`` holds none, selective and full
    alone, and the shares (SEARCH_SHARES) are added here where they can win, where a layout
    without recompute does not fit (that one is faster) and with full recompute does (a
    share keeps more). The variants then form two chains from none: selective then full, and
    a growing share then full; selective and a share are not ordered (without FlashAttention
    selective keeps less and may cost less), so where selective is the first that fits, the
    first share that fits is scored too unless selective's recompute costs no more than the
    share's forward alone (then the share is no faster).

    Returns (r over the evaluated candidates, their layouts, best index into them per run or
    -1, whether it runs, leanest memory per run, whether any candidate fits in memory)."""
    seqf = np.asarray(seq, dtype=float)
    n = len(lay["tp"])

    def rows(idx):
        """The layouts, architectures, sequences and hardware of the candidates ``idx``."""
        pick = (lambda o: _subset(o, idx)) if np.ndim(seqf) else (lambda o: o)
        return ({k: v[idx] for k, v in lay.items()}, pick(a),
                seqf[idx] if np.ndim(seqf) else seqf, pick(hw))

    def memory(sub, a_, s_, hw_):
        out = total_bytes(_memory(a_, s_, sub, hw_, asm))
        return np.broadcast_to(np.asarray(out, dtype=float), (len(sub["tp"]),))

    mem = memory(lay, a, seqf, hw)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    seg = np.repeat(np.arange(len(sizes)), sizes)
    hbm = np.broadcast_to(np.asarray(hw.hbm_bytes, dtype=float), (n,))
    in_hbm = mem <= hbm
    lean = np.minimum.reduceat(mem, starts)
    in_memory = np.logical_or.reduceat(in_hbm, starts)
    # keep the headroom where a layout of the key fits inside it (Assumptions); a share keeps
    # more than full recompute of its layout, so the shares change none of these three
    roomy = mem <= hbm * (1.0 - asm.memory_headroom_fraction)
    limit = np.where(np.logical_or.reduceat(roomy, starts)[seg],
                     hbm * (1.0 - asm.memory_headroom_fraction), hbm)
    in_hbm = mem <= limit
    fit = np.flatnonzero(in_hbm)
    base = (seg.astype(np.int64) * (int(lay["base"].max()) + 1) + lay["base"]) * 4 + lay["zero"]
    _, first = np.unique(base[fit], return_index=True)
    kept = np.sort(fit[first])
    best = np.full(len(sizes), -1, np.int64)
    runs = np.zeros(len(sizes), bool)
    if not kept.size:
        return None, {}, best, runs, lean, in_memory
    code = lay["recompute"]
    share = np.full(kept.size, -1, np.int64)  # per kept candidate: its first share that fits
    if free is not None and searches_shares(asm):
        # variants (layout and ZeRO stage) whose first fit is selective or full and whose
        # full recompute fits: none fails (it would come first), full ends the chain
        _, variant = np.unique(base, return_inverse=True)
        at_full = np.full(variant.max() + 1, -1, np.int64)
        full_rows = np.flatnonzero((code == FULL) & in_hbm)
        at_full[variant[full_rows]] = full_rows
        full = np.where((code[kept] >= 1) & free[kept], at_full[variant[kept]], -1)
        have = np.flatnonzero(full >= 0)
        if have.size:
            each = np.repeat(full[have], len(SEARCH_SHARES))
            sub, a_, s_, hw_ = rows(each)
            sub["recompute"] = np.tile(np.array(SEARCH_SHARES), have.size)
            ok = (memory(sub, a_, s_, hw_) <= limit[each]).reshape(have.size, -1)
            got = ok.any(axis=1)
            share[have[got]] = np.array(SEARCH_SHARES)[np.argmax(ok[got], axis=1)]
    sub, a_, s_, hw_ = rows(kept)
    # a first fit of full recompute gives way to its first share that fits (less recompute)
    swap = share >= 0
    sub["recompute"] = np.where(swap & (code[kept] == FULL), share, sub["recompute"])
    r = _score(a_, s_, sub, hw_, asm)
    # where selective came first, its layout's first share too, unless it cannot be faster
    pair = swap & (code[kept] == 1)
    if pair.any():
        fwd = np.broadcast_to(np.asarray(r["layer_forward_s"], float), kept.shape)
        redo = np.broadcast_to(np.asarray(r["recompute_layer_s"], float), kept.shape)
        pair &= full_share(np.maximum(share, 0), asm) * fwd < redo
    if pair.any():
        extra = kept[pair]
        sub2, a2, s2, hw2 = rows(extra)
        sub2["recompute"] = share[pair]
        r = _joined(r, _score(a2, s2, sub2, hw2, asm), kept.size, extra.size)
        sub = {k: np.concatenate([v, sub2[k]]) for k, v in sub.items()}
        kept = np.concatenate([kept, extra])  # after their selective: its equal comes first
    t = np.where(r["fits"], _time_per_token(r), np.inf)
    kseg = seg[kept]
    # the fastest of each key; of equals, the first in search()'s order (layout, recompute
    # along the chains, ZeRO stage), whatever order they were scored in
    rank = _RECOMPUTE_ORDER[sub["recompute"]]
    order = np.lexsort((sub["zero"], rank, sub["base"], t, kseg))
    counts = np.bincount(kseg, minlength=len(sizes))
    has = counts > 0
    kstarts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    best[has] = order[kstarts[has]]
    runs[has] = np.isfinite(t[best[has]])
    return r, sub, best, runs, lean, in_memory


def _joined(r1: dict, r2: dict, n1: int, n2: int) -> dict:
    """Two step.evaluate results over n1 and n2 candidates as one over n1 + n2."""
    out = {}
    for k, v in r1.items():
        if isinstance(v, dict):
            out[k] = _joined(v, r2[k], n1, n2)
        else:
            out[k] = np.concatenate([np.broadcast_to(np.asarray(v), (n1,)),
                                     np.broadcast_to(np.asarray(r2[k]), (n2,))])
    return out


def _scattered(part: dict, idx: np.ndarray, n: int) -> dict:
    """A step.evaluate result over the candidates ``idx`` of n as one over all n (NaN for the
    others)."""
    out = {}
    for k, v in part.items():
        if isinstance(v, dict):
            out[k] = _scattered(v, idx, n)
        else:
            full = np.full(n, np.nan)
            full[idx] = np.broadcast_to(np.asarray(v, dtype=float), idx.shape)
            out[k] = full
    return out


def best_layouts(keys: list[SearchKey], asm: Assumptions, memo: dict | None = None) -> Best:
    """The fastest layout that fits of every key (see the module docstring). ``memo`` (a dict
    the caller keeps) answers keys already scored with the same assumptions."""
    n = len(keys)
    out = Best(np.zeros(n, np.int8), np.full((n, len(FIGURES)), np.nan),
               np.zeros((n, len(LAYOUT_FIELDS)), np.int64), np.full(n, np.nan),
               np.zeros(n, np.int64), {})
    todo: dict = {}
    for i, key in enumerate(keys):
        hit = memo.get(("best", key, asm)) if memo is not None else None
        if hit is not None:
            _put(out, i, hit)
        else:
            todo.setdefault(key, []).append(i)
    shared: dict = {}  # keys of one workload on one hardware: scored with scalars
    for key, rows in todo.items():
        try:
            lay = _candidates(key, asm, shares=False)
        except LayoutError as exc:
            _store(out, rows, (ERROR, None, None, np.nan, 0, str(exc)), memo, key, asm)
            continue
        if not lay:
            _store(out, rows, (NO_LAYOUT, None, None, np.nan, 0, None), memo, key, asm)
            continue
        same = (key.architecture, key.seq_len, key.hardware)
        shared.setdefault(same, []).append((key, rows, lay))
    # A workload on a hardware with many candidates (the sizes of a sizing) is scored with a
    # scalar architecture and hardware (~1.6x faster per layout than arrays of them); the
    # rest are scored together, architectures and hardware as arrays.
    mixed = []
    for (a, seq, hw), items in shared.items():
        if sum(len(it[2]["tp"]) for it in items) >= SEARCH_ALONE_LAYOUTS:
            for group in _batches(items):
                _keep(out, group, a, seq, hw, a, seq, memo, asm)
        else:
            mixed += items
    for group in _batches(mixed):
        _score_group(out, group, asm, memo)
    return out


def best_layouts_each(keys: list[SearchKey], asms: list[Assumptions],
                      memo: dict | None = None) -> Best:
    """``best_layouts`` with each key scored under its own assumptions (a plan over
    accelerators whose stacks differ): the keys of each set of assumptions together."""
    groups: dict = {}
    for i, a in enumerate(asms):
        groups.setdefault(a, []).append(i)
    if len(groups) <= 1:
        return best_layouts(keys, next(iter(groups), None), memo)  # no keys: nothing scored
    n = len(keys)
    out = Best(np.zeros(n, np.int8), np.full((n, len(FIGURES)), np.nan),
               np.zeros((n, len(LAYOUT_FIELDS)), np.int64), np.full(n, np.nan),
               np.zeros(n, np.int64), {})
    for a, rows in groups.items():
        part = best_layouts([keys[i] for i in rows], a, memo)
        idx = np.asarray(rows, dtype=np.int64)
        out.state[idx], out.figures[idx], out.layouts[idx] = (part.state, part.figures,
                                                              part.layouts)
        out.lean_bytes[idx], out.count[idx] = part.lean_bytes, part.count
        out.errors.update({rows[j]: m for j, m in part.errors.items()})
    return out


def _batches(items: list) -> list[list]:
    """Items cut into groups of at most SCORE_BATCH_LAYOUTS candidates (one evaluate call
    each; a single item larger than that is a group of its own)."""
    groups, group, size = [], [], 0
    for item in items:
        n = len(item[2]["tp"])
        if group and size + n > SCORE_BATCH_LAYOUTS:
            groups.append(group)
            group, size = [], 0
        group.append(item)
        size += n
    return groups + ([group] if group else [])


def _score_group(out: Best, group: list, asm: Assumptions, memo) -> None:
    """The candidates of several keys in one step.evaluate call (architectures and hardware
    as arrays, one element per candidate)."""
    sizes = np.array([len(lay["tp"]) for _, _, lay in group])
    seg = np.repeat(np.arange(len(group)), sizes)
    archs = [g[0].architecture for g in group]
    seqs = np.array([g[0].seq_len for g in group])
    _keep(out, group, _stack(archs, Architecture, seg), seqs[seg],
          _stack([g[0].hardware for g in group], Hardware, seg),
          _stack(archs, Architecture, np.arange(len(group))), seqs, memo, asm)


def _keep(out: Best, group: list, a, seq, hw, key_a, key_seq, memo, asm) -> None:
    """Score the candidates of ``group``'s keys (``a``, ``seq``, ``hw``: per candidate, or one
    for all) and store each key's best into ``out`` (and the memo); ``key_a``, ``key_seq``:
    per key."""
    sizes = np.array([len(it[2]["tp"]) for it in group])
    lay = {k: np.concatenate([g[2][k] for g in group]) for k in group[0][2]}
    # the keys that leave recompute to the search: each of their layouts is also tried with
    # SEARCH_SHARES of the blocks recomputed where the stack can (counted as scored)
    free = np.array(["recompute" not in dict(g[0].fixed) for g in group])
    counted = np.where(free & searches_shares(asm), sizes // len(RECOMPUTE_VARIANTS)
                       * len(RECOMPUTE_VARIANTS_SHARES), sizes)
    r, scored, best, runs, lean, in_memory = _score_best(a, seq, lay, hw, asm, sizes,
                                                         np.repeat(free, sizes))
    figs = ints = None
    if runs.any():
        figs, ints = _record(r, scored, best[runs],
                             _subset(key_a, np.flatnonzero(runs)) if np.ndim(key_seq) else key_a,
                             key_seq[runs] if np.ndim(key_seq) else key_seq, asm)
    j = 0
    for g, (key, rows, _) in enumerate(group):
        if runs[g]:
            rec = (FITS, figs[j], ints[j], float(lean[g]), int(counted[g]), None)
            j += 1
        else:
            rec = (NO_STEP if in_memory[g] else NO_FIT, None, None, float(lean[g]),
                   int(counted[g]), None)
        _store(out, rows, rec, memo, key, asm)


def _store(out: Best, rows: list, rec: tuple, memo, key: SearchKey, asm) -> None:
    if memo is not None:
        memo[("best", key, asm)] = rec
    for i in rows:
        _put(out, i, rec)


def _put(out: Best, i: int, rec: tuple) -> None:
    state, figs, ints, lean, count, error = rec
    out.state[i], out.lean_bytes[i], out.count[i] = state, lean, count
    if figs is not None:
        out.figures[i], out.layouts[i] = figs, ints
    if error is not None:
        out.errors[i] = error


@dataclass(frozen=True)
class SearchResult:
    """Every evaluated layout of one key, and the index of the best that fits (or None)."""

    layouts: dict
    result: dict
    best: int | None
    count: int

    def layout(self, i: int) -> dict:
        d = {k: int(self.layouts[k][i]) for k in LAYOUT_FIELDS}
        d["recompute"] = RECOMPUTE[d["recompute"]]
        return d

    def ranked(self, limit: int = 5) -> list[int]:
        """Indices of the fastest layouts that fit, best first."""
        fits = np.flatnonzero(self.result["fits"])
        order = fits[np.argsort(_time_per_token(self.result)[fits], kind="stable")]
        return [int(i) for i in order[:limit]]


def _time_per_token(r: dict) -> np.ndarray:
    """Seconds per training token, the layouts' ranking: a layout may move the global batch
    within batch_tolerance (enumerate_layouts), and a step of fewer sequences is shorter
    without training any faster, so the step time alone would favour the smaller batch."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return 1.0 / np.asarray(r["tokens_per_s"], dtype=float)


def search(key: SearchKey, asm: Assumptions) -> SearchResult:
    """Every valid layout of one key, evaluated at once (for ranked alternatives): memory for
    all, the step for those that fit in memory (NaN figures for the others)."""
    lay = _candidates(key, asm)
    if not lay:
        return SearchResult({}, {}, None, 0)
    n = len(lay["tp"])
    memory = _memory(key.architecture, key.seq_len, lay, key.hardware, asm)
    mem = np.broadcast_to(np.asarray(total_bytes(memory), dtype=float), (n,))
    # the step of the layouts that fit in memory (the others cannot run: NaN figures)
    idx = np.flatnonzero(mem <= key.hardware.hbm_bytes)
    part = _score(key.architecture, key.seq_len, {k: v[idx] for k, v in lay.items()},
                  key.hardware, asm)
    r = _scattered(part, idx, n)
    r["memory"] = {k: np.broadcast_to(np.asarray(v, dtype=float), (n,)).copy()
                   for k, v in memory.items()}
    r["memory_bytes"] = mem.copy()
    r["fits"] = np.zeros(n, bool)
    r["fits"][idx] = np.broadcast_to(part["fits"], idx.shape)
    roomy = mem <= key.hardware.hbm_bytes * (1.0 - asm.memory_headroom_fraction)
    if roomy.any():  # keep the headroom where a layout fits inside it (as _score_best)
        r["fits"] &= roomy
    ranked = SearchResult(lay, r, None, len(lay["tp"])).ranked(1)
    return SearchResult(lay, r, ranked[0] if ranked else None, len(lay["tp"]))
