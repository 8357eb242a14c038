"""Scoring (workload, hardware, devices, layout) keys: each key's best layout, found as
search.search finds it. search.enumerate_layouts lists a key's candidates; step.evaluate scores
them, the candidates of many keys in one call (arrays of architectures and hardware), or a key
with many candidates alone by search.search itself; the fastest that fits wins, the first of
equals. A key no layout fits gets plan._assemble's reason; a key no layout can use, the error
plan._plan_on raises. Records are kept in a ScoreTable for a whole call or sweep."""

from __future__ import annotations

import math
from dataclasses import fields

import numpy as np

from ..assumptions import SCORE_BATCH_LAYOUTS
from ..model.flops import hardware_flops_per_token
from ..plan.estimate import Candidate, Cluster, Limits, _assemble, _layout_text, _no_layout_hint
from .scenarios import error_text
from ..model.search import LAYOUT_FIELDS, SearchResult, enumerate_layouts, search
from ..specs import Architecture
from ..model.step import MEMORY_KEYS, TIME_KEYS, Hardware, evaluate
from .columns import RECOMPUTE_NAMES
from ..units import InputError

FIGURES = ("step_time_s", "tokens_per_s", "mfu", "hfu", "memory_bytes", "batch_tokens",
           "peak_flops", "hardware_flops_per_token",
           *(f"time_{k}" for k in TIME_KEYS), *(f"memory_{k}" for k in MEMORY_KEYS))
F = {name: j for j, name in enumerate(FIGURES)}
FITS, INFEASIBLE, ERROR = 1, 2, 3


def _stack(objs: list, cls, index: np.ndarray):
    """A ``cls`` (frozen dataclass) whose fields are arrays: objs[index]'s fields."""
    some = next(o for o in objs if o is not None)
    objs = [some if o is None else o for o in objs]  # unused slots of failed groups
    return cls(**{f.name: np.array([getattr(o, f.name) for o in objs])[index]
                  for f in fields(cls)})


def _records(r: dict, lay: dict, idx: np.ndarray, seq_len, peak, a) -> tuple:
    """(float matrix, int matrix) of the layouts ``idx`` of an evaluated set: one row each,
    columns FIGURES and LAYOUT_FIELDS."""
    shape = np.shape(r["step_time_s"])
    pick = lambda v: np.broadcast_to(np.asarray(v, dtype=float), shape)[idx]  # noqa: E731
    rc = np.asarray(lay["recompute"])[idx]
    names = np.array([RECOMPUTE_NAMES[i] for i in range(3)])[rc]
    cols = [pick(r["step_time_s"]), pick(r["tokens_per_s"]), pick(r["mfu"]), pick(r["hfu"]),
            pick(r["memory_bytes"]), np.asarray(lay["batch_seqs"])[idx] * seq_len,
            np.broadcast_to(peak, np.shape(idx)).astype(float),
            # plan._assemble: hardware FLOPs per token at the layout's recompute
            np.broadcast_to(hardware_flops_per_token(a, seq_len, names), np.shape(idx))]
    cols += [pick(r["time"][k]) for k in TIME_KEYS]
    cols += [pick(r["memory"][k]) for k in MEMORY_KEYS]
    ints = np.stack([np.asarray(lay[k])[idx] for k in LAYOUT_FIELDS], axis=1)
    return np.stack([np.asarray(c, dtype=float) for c in cols], axis=1), ints


class ScoreTable:
    """Every scored key of a call (or a sweep): its state, figures (FIGURES) and layout
    (LAYOUT_FIELDS) as rows of growing arrays, so a chunk gathers its keys in one step."""

    def __init__(self):
        self.index: dict = {}    # key -> row
        self.payload: dict = {}  # row -> infeasible Plan or error message
        self.state = np.zeros(64, np.int8)
        self.figs = np.full((64, len(FIGURES)), np.nan)
        self.ints = np.zeros((64, len(LAYOUT_FIELDS)), np.int64)

    def add(self, key, record: tuple) -> None:
        state, fv, iv, payload = record
        i = len(self.index)
        if i == len(self.state):  # grow by doubling
            self.state = np.concatenate([self.state, np.zeros_like(self.state)])
            self.figs = np.concatenate([self.figs, np.full_like(self.figs, np.nan)])
            self.ints = np.concatenate([self.ints, np.zeros_like(self.ints)])
        self.index[key] = i
        self.state[i] = state
        if state == FITS:
            self.figs[i], self.ints[i] = fv, iv
        else:
            self.payload[i] = payload

    def take(self, rows: np.ndarray) -> tuple:
        """(state, figures, layouts) of ``rows``; row -1 reads as nothing scored."""
        state = np.where(rows >= 0, self.state[rows], 0).astype(np.int8)
        figs = self.figs[rows]
        figs[rows < 0] = np.nan
        ints = self.ints[rows]
        ints[rows < 0] = 0
        return state, figs, ints


def score_new(todo: dict, store: ScoreTable, models: list, hws: list,
              search_min: int) -> None:
    """Score new keys into ``store``: key -> (hw group, devices, fixed layout, allow_tp);
    ``models`` and ``hws`` are the chunk's workload and hardware groups."""
    batch = []
    for key, (h, gpus, fixed, allow) in todo.items():
        g, acc, up, out, hw = hws[h]
        w, asm, _ = models[g]
        try:
            lay = enumerate_layouts(w.architecture, gpus, w.seq_len, w.global_batch_tokens,
                                    hw.scale_up_domain, fixed, allow, asm.batch_tolerance)
        except ValueError as exc:
            store.add(key, (ERROR, None, None, error_text(exc)))
            continue
        count = len(lay["tp"]) if lay else 0
        if count == 0:  # plan._plan_on refuses a cluster no layout can use
            store.add(key, (ERROR, None, None, str(InputError(
                "--layout" if fixed else "--gpus", _layout_text(fixed) or gpus,
                _no_layout_hint(w, gpus, fixed)))))
        elif count >= search_min:
            found = search(w.architecture, gpus, w.seq_len, w.global_batch_tokens, hw, asm,
                           fixed, allow, asm.batch_tolerance)
            store.add(key, _record(found, found.best, h, gpus, models, hws))
        else:
            batch.append((key, h, gpus, lay))
    by_asm: dict = {}
    for item in batch:
        by_asm.setdefault(models[hws[item[1]][0]][1], []).append(item)
    for asm, items in by_asm.items():
        batch, size = [], 0  # at most SCORE_BATCH_LAYOUTS candidates per evaluate call
        for item in items:
            n = len(item[3]["tp"])
            if batch and size + n > SCORE_BATCH_LAYOUTS:
                _score_batch(asm, batch, store, models, hws)
                batch, size = [], 0
            batch.append(item)
            size += n
        if batch:
            _score_batch(asm, batch, store, models, hws)

def _record(found: SearchResult, best, h: int, gpus: int, models: list, hws: list) -> tuple:
    g, acc, up, out, hw = hws[h]
    w, asm, _ = models[g]
    if best is not None:
        fv, iv = _records(found.result, found.layouts, np.array([best]), w.seq_len,
                          acc.peak(w.precision), w.architecture)
        return (FITS, fv[0], iv[0], None)
    # none fits: plan._assemble words the reason and names the binding limit
    plan = _assemble(w, Cluster(acc, gpus, up, out, None), Candidate(gpus, found, math.inf),
                     Limits(), asm, {}, "gpus")
    return (INFEASIBLE, None, None, plan)

def _score_batch(asm, items: list, store: ScoreTable, models: list, hws: list) -> None:
    """The candidates of many keys in one step.evaluate call; per key the fastest that
    fits, the first of equals (search.search's rule)."""
    sizes = np.array([len(it[3]["tp"]) for it in items])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    seg = np.repeat(np.arange(len(items)), sizes)
    lay = {k: np.concatenate([it[3][k] for it in items]) for k in items[0][3]}
    hid = np.array([it[1] for it in items])[seg]
    gid = np.array([h[0] if h else 0 for h in hws])[hid]
    ws = [m[0] if m else None for m in models]
    a = _stack([w.architecture if w else None for w in ws], Architecture, gid)
    hw = _stack([h[4] if h else None for h in hws], Hardware, hid)
    seq = np.array([w.seq_len if w else 1 for w in ws])[gid]
    peak = np.array([h[1].peak(models[h[0]][0].precision) if h else np.nan
                     for h in hws])[hid]
    # the arguments search.search gives step.evaluate, one candidate per element
    r = evaluate(a, seq, lay["batch_seqs"] * seq.astype(float), hw, lay["tp"], lay["pp"],
                 lay["dp"], lay["cp"], lay["ep"], lay["microbatch"],
                 lay["virtual_stages"], lay["recompute"], lay["zero"], asm)
    t = np.where(r["fits"], r["step_time_s"], np.inf)
    order = np.lexsort((np.arange(len(t)), t, seg))
    best = order[starts]
    fv, iv = _records(r, lay, best, seq[best], peak[best], _stack(
        [w.architecture if w else None for w in ws], Architecture, gid[best]))
    for j, (key, h, gpus, layk) in enumerate(items):
        if np.isfinite(t[best[j]]):
            store.add(key, (FITS, fv[j], iv[j], None))
        else:
            sl = slice(starts[j], starts[j] + sizes[j])
            found = SearchResult(layk, _slice(r, sl, len(t)), None, int(sizes[j]))
            store.add(key, _record(found, None, h, gpus, models, hws))


def _slice(r: dict, sl: slice, n: int) -> dict:
    out = {}
    for k, v in r.items():
        if isinstance(v, dict):
            out[k] = _slice(v, sl, n)
        else:
            out[k] = np.broadcast_to(v, (n,))[sl] if np.ndim(v) else v
    return out
