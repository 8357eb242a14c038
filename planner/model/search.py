"""Every valid layout for a cluster size, evaluated at once, and the fastest that fits.

The valid layouts (tp * pp * dp * cp = devices, each part dividing what it splits, recompute
and ZeRO stage among them) are listed by layouts.py.

One key (a workload on a cluster of a given size, with the layout parts fixed by the user) or
thousands (every candidate cluster size of a sizing, every distinct scenario of a sweep) are
scored the same way: the candidates of many keys are concatenated and scored by one
``step.evaluate`` call over arrays of architectures and hardware, and each key keeps the fastest
layout that fits in memory, the first of equals (``best_layouts``). ``search`` keeps every
layout of one key, for the ranked alternatives of a plan.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..assumptions import Assumptions
from ..errors import LayoutError
from ..specs import RECOMPUTE, Architecture
from ..tuning import SCORE_BATCH_LAYOUTS, SEARCH_ALONE_LAYOUTS
from .flops import hardware_flops_per_token, model_flops_per_token
from .layouts import (
    LAYOUT_FIELDS,
    RECOMPUTE_ORDER,
    RECOMPUTE_VARIANTS,
    RECOMPUTE_VARIANTS_SHARES,
    SEARCH_SHARES,
    enumerate_layouts,
)
from .memory import (
    FULL,
    RECOMPUTE_KINDS,
    full_share,
    memory_breakdown,
    total_bytes,
)
from .step import MEMORY_KEYS, TIME_KEYS, Hardware, evaluate

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
                                                     full_share(code, asm),
                                                     asm.flash_attention), (n,))]
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
    rank = RECOMPUTE_ORDER[sub["recompute"]]
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
