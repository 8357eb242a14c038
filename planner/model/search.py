"""Every valid layout for a cluster size, evaluated at once, and the fastest that fits.

A layout is valid when tp * pp * dp * cp = devices; tp divides the attention heads and stays
inside the scale-up domain (unless allowed to cross it); pp is at most the layer count (uneven
stages pay through ceil(L/pp) in the step model); the microbatch divides the per-replica batch;
virtual stages divide the layers of a stage and need m % pp == 0 (Megatron-LM interleaved
schedule); ep divides dp and the expert count; cp divides the sequence. Recompute and ZeRO stage
are searched too.

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

from ..assumptions import SCORE_BATCH_LAYOUTS, SEARCH_ALONE_LAYOUTS, Assumptions
from ..errors import LayoutError
from ..specs import RECOMPUTE, Architecture
from .flops import hardware_flops_per_token, model_flops_per_token
from .memory import RECOMPUTE_CODES
from .step import MEMORY_KEYS, TIME_KEYS, Hardware, evaluate

LAYOUT_FIELDS = ("tp", "pp", "dp", "cp", "ep", "microbatch", "virtual_stages", "recompute",
                 "zero")
SEARCH_MICROBATCH = (1, 2, 4, 8, 16)
SEARCH_VIRTUAL = (1, 2, 4, 8)
SEARCH_CP = (1, 2, 4, 8, 16, 32)
SEARCH_ZERO = (1, 2, 3)


@lru_cache(maxsize=4096)
def _divisors(n: int, limit: int | None = None) -> tuple[int, ...]:
    n = int(n)
    small = [d for d in range(1, int(n ** 0.5) + 1) if n % d == 0]
    found = sorted(set(small + [n // d for d in small]))
    return tuple(d for d in found if limit is None or d <= limit)


def enumerate_layouts(a, devices: int, seq_len: int, global_batch_tokens: float,
                      scale_up_domain: int, fixed: dict | None = None,
                      allow_tp_beyond_domain: bool = False, batch_tolerance: float = 0.0) -> dict:
    """All valid layouts as a dict of equal-length int arrays (recompute as 0/1/2).

    ``batch_seqs`` is each layout's global batch in sequences: the requested one when dp x mb
    divides it, else the nearest multiple of dp x mb within ``batch_tolerance`` (relative)."""
    fixed = dict(fixed or {})
    seqs = global_batch_tokens / seq_len
    if abs(seqs - round(seqs)) > 1e-9 or seqs < 1:
        raise LayoutError(f"the global batch ({global_batch_tokens:.0f} tokens) must be a whole "
                          f"number of {seq_len}-token sequences")
    if not 0.0 <= batch_tolerance < 1.0:
        raise LayoutError(f"batch tolerance must be in [0, 1), got {batch_tolerance}")
    seqs = int(round(seqs))
    # tp divides the heads and tiles the scale-up domain (so no group straddles two domains).
    if "tp" in fixed:
        tps = [fixed["tp"]]
    elif allow_tp_beyond_domain:
        tps = _divisors(a.heads)
    else:
        tps = [t for t in _divisors(a.heads, scale_up_domain) if scale_up_domain % t == 0]
    cps = [fixed["cp"]] if "cp" in fixed else [c for c in SEARCH_CP if seq_len % c == 0
                                               and seq_len // c >= 1024]
    mbs = [fixed["microbatch"]] if "microbatch" in fixed else list(SEARCH_MICROBATCH)
    vps = [fixed["virtual_stages"]] if "virtual_stages" in fixed else list(SEARCH_VIRTUAL)
    rcs = ([RECOMPUTE_CODES[fixed["recompute"]]] if "recompute" in fixed else [0, 1, 2])
    zeros = [fixed["zero"]] if "zero" in fixed else list(SEARCH_ZERO)
    rows = []
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
                eps = ([fixed["ep"]] if "ep" in fixed else
                       [e for e in _divisors(dp) if a.experts % e == 0] if a.experts else [1])
                for ep in eps:
                    if dp % ep or (a.experts and a.experts % ep) or (not a.experts and ep != 1):
                        continue
                    for mb in mbs:
                        m = max(1, round(seqs / (dp * mb)))
                        if abs(m * dp * mb - seqs) > batch_tolerance * seqs:
                            continue
                        for vp in vps:
                            # interleaving needs m % pp == 0 (Narayanan et al. 2021,
                                            # sec. 2.2); uneven stages round up (ceil(L/pp)).
                            if vp > 1 and (pp == 1 or m % pp or -(-a.layers // pp) < vp):
                                continue
                            rows.append((tp, pp, dp, cp, ep, mb, vp, m * dp * mb))
    if not rows:
        return {}
    base = np.array(rows, dtype=np.int64)
    n, k = len(base), len(rcs) * len(zeros)
    grid = np.repeat(base, k, axis=0)
    rc = np.tile(np.repeat(np.array(rcs), len(zeros)), n)
    zero = np.tile(np.array(zeros), n * len(rcs))
    out = {name: grid[:, i] for i, name in enumerate(LAYOUT_FIELDS[:7])}
    out["recompute"] = rc
    out["zero"] = zero
    out["batch_seqs"] = grid[:, 7]
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


def _candidates(key: SearchKey, asm: Assumptions) -> dict:
    return enumerate_layouts(key.architecture, key.devices, key.seq_len, key.global_batch_tokens,
                             key.hardware.scale_up_domain, dict(key.fixed), key.allow_tp,
                             asm.batch_tolerance)


def _score(a, seq, lay: dict, hw: Hardware, asm: Assumptions) -> dict:
    """step.evaluate over candidate layouts (arrays of architectures and hardware broadcast)."""
    return evaluate(a, seq, lay["batch_seqs"] * np.asarray(seq, dtype=float), hw, lay["tp"],
                    lay["pp"], lay["dp"], lay["cp"], lay["ep"], lay["microbatch"],
                    lay["virtual_stages"], lay["recompute"], lay["zero"], asm)


def _record(r: dict, lay: dict, idx: np.ndarray, a, seq) -> tuple[np.ndarray, np.ndarray]:
    """(figures, layouts) rows of the candidates ``idx`` of an evaluated set; ``a`` and ``seq``
    are the architecture and sequence of each row (arrays, or one for all)."""
    shape = np.shape(r["step_time_s"])
    pick = lambda v: np.broadcast_to(np.asarray(v, dtype=float), shape)[idx]  # noqa: E731
    recompute = np.asarray(RECOMPUTE)[np.asarray(lay["recompute"])[idx]]
    n = len(idx)
    cols = [pick(r["step_time_s"]), pick(r["tokens_per_s"]), pick(r["mfu"]), pick(r["hfu"]),
            pick(r["memory_bytes"]), np.asarray(lay["batch_seqs"])[idx].astype(float),
            np.broadcast_to(model_flops_per_token(a, seq), (n,)),
            np.broadcast_to(hardware_flops_per_token(a, seq, recompute), (n,))]
    cols += [pick(r["time"][k]) for k in TIME_KEYS]
    cols += [pick(r["memory"][k]) for k in MEMORY_KEYS]
    return (np.stack([np.asarray(c, dtype=float) for c in cols], axis=1),
            np.stack([np.asarray(lay[k])[idx] for k in LAYOUT_FIELDS], axis=1))


def _stack(objs: list, cls, index: np.ndarray):
    """A ``cls`` (frozen dataclass) whose fields are arrays: objs[index]'s fields."""
    return cls(**{f: np.array([getattr(o, f) for o in objs])[index]
                  for f in cls.__dataclass_fields__})


def _segments(r: dict, sizes: np.ndarray, hbm) -> tuple:
    """(best candidate, leanest memory, any fitting in memory) of each run of ``sizes``
    consecutive candidates: the fastest that fits, the first of equals (``search``'s rule)."""
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    seg = np.repeat(np.arange(len(sizes)), sizes)
    step = np.asarray(r["step_time_s"], dtype=float)
    t = np.where(r["fits"], step, np.inf)
    order = np.lexsort((np.arange(len(t)), t, seg))
    best = order[starts]
    mem = np.broadcast_to(np.asarray(r["memory_bytes"], dtype=float), t.shape)
    lean = np.minimum.reduceat(mem, starts)
    in_memory = np.logical_or.reduceat(mem <= hbm, starts)
    return best, np.isfinite(t[best]), lean, in_memory


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
            lay = _candidates(key, asm)
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
                sizes = np.array([len(it[2]["tp"]) for it in group])
                lay = {k: np.concatenate([it[2][k] for it in group]) for k in group[0][2]}
                _keep(out, group, _score(a, seq, lay, hw, asm), sizes, hw.hbm_bytes, a, seq,
                      memo, asm)
        else:
            mixed += items
    for group in _batches(mixed):
        _score_group(out, group, asm, memo)
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
    """The candidates of several keys in one step.evaluate call."""
    sizes = np.array([len(lay["tp"]) for _, _, lay in group])
    seg = np.repeat(np.arange(len(group)), sizes)
    lay = {k: np.concatenate([g[2][k] for g in group]) for k in group[0][2]}
    archs = [g[0].architecture for g in group]
    hw = _stack([g[0].hardware for g in group], Hardware, seg)
    seqs = np.array([g[0].seq_len for g in group])
    r = _score(_stack(archs, Architecture, seg), seqs[seg], lay, hw, asm)
    _keep(out, group, r, sizes, hw.hbm_bytes, _stack(archs, Architecture, np.arange(len(group))),
          seqs, memo, asm)


def _keep(out: Best, group: list, r: dict, sizes: np.ndarray, hbm, a, seq, memo, asm) -> None:
    """Each key's best candidate into ``out`` (and the memo); ``a``, ``seq``: per key."""
    lay = {k: np.concatenate([g[2][k] for g in group]) for k in group[0][2]}
    best, ok, lean, in_memory = _segments(r, sizes, hbm)
    figs, ints = _record(r, lay, best, a, seq)
    for j, (key, rows, _) in enumerate(group):
        state = FITS if ok[j] else (NO_STEP if in_memory[j] else NO_FIT)
        _store(out, rows, (state, figs[j] if ok[j] else None, ints[j] if ok[j] else None,
                           float(lean[j]), int(sizes[j]), None), memo, key, asm)


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
        order = fits[np.argsort(self.result["step_time_s"][fits], kind="stable")]
        return [int(i) for i in order[:limit]]


def search(key: SearchKey, asm: Assumptions) -> SearchResult:
    """Every valid layout of one key, evaluated at once (for ranked alternatives)."""
    lay = _candidates(key, asm)
    if not lay:
        return SearchResult({}, {}, None, 0)
    r = _score(key.architecture, key.seq_len, lay, key.hardware, asm)
    ranked = SearchResult(lay, r, None, len(lay["tp"])).ranked(1)
    return SearchResult(lay, r, ranked[0] if ranked else None, len(lay["tp"]))
