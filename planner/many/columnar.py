"""The columnar path of estimate_many: rows with a device count, answered as arrays.

Work is done once per distinct value and gathered per row:
- per distinct workload input: plan/inputs.resolve_workload, with assumptions_for;
- per distinct (workload, accelerator, network): plan/cluster.hardware_for;
- per distinct (workload, hardware, devices, layout): the best layout (model/search.py's
  best_layouts, the search every plan uses), kept for the whole call (and a whole sweep);
- per distinct (workload, accelerator, site): plan/cluster.run_inputs (prices, PUE, power);
- per row, as arrays: plan/assemble.py's steady state, run and judgement, the functions
  ``estimate`` assembles its plans with (chunk_answers.py writes them).
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import InputError
from ..model.layouts import LAYOUT_FIELDS
from ..model.search import ERROR, FIGURES, NO_LAYOUT, Best, SearchKey, best_layouts
from ..plan.cluster import hardware_for, networks, purchase_unit
from ..plan.inputs import (
    assumed_used,
    assumptions_for,
    default_site,
    resolve_workload,
    short_run_error,
    stack_for,
    without_site_storage,
    workload_precision_error,
)
from ..plan.layout_inputs import layout_text, no_layout_hint
from ..plan.quantities import check_gpus, check_max_gpus, parse_flag, parse_limits
from ..specs import parse_layout
from ..tuning import SCORE_CACHE_KEYS
from ..units import MAX_TOKENS
from .chunk_answers import ChunkAnswers
from .columns import Coded, given_or, pick_codes
from .scenarios import LIMIT_INPUTS, MODEL_INPUTS, SHAPE_INPUTS, group


def _model(ctx, vals: dict):
    """(workload, assumptions, the workload's own tokens or nan) of one distinct input."""
    framework, _ = stack_for(ctx.catalog, vals.get("framework"), vals.get("gpu"),
                             ctx.assumptions)
    asm = ctx.intern(assumptions_for(ctx.assumptions, framework, vals.get("team")))
    args = dict(params=vals.get("params"), workload=vals.get("workload"),
                ffn_type=vals.get("ffn_type"), seq_len=vals.get("seq_len"),
                global_batch=vals.get("global_batch"), precision=vals.get("precision"),
                asm=asm, **{k: vals.get(k) for k in SHAPE_INPUTS})
    # the caller's assumptions as given, so a row's seq_len or global_batch that conflicts
    # with one is refused as estimate refuses it (it had been planned: an auditor)
    used = assumed_used(ctx.assumptions, asm)
    try:
        w = resolve_workload(ctx.catalog, dict(used), tokens=None, **args)
        return w, asm, w.tokens
    except InputError as exc:
        if exc.name != "--tokens":
            raise
    w = resolve_workload(ctx.catalog, dict(used), tokens=MAX_TOKENS, **args)  # tokens per row
    return w, asm, math.nan


def _hardware(ctx, w, asm, gpu, network, workload=None, precision=None):
    acc = ctx.catalog.accelerator(gpu if gpu is not None else asm.accelerator)
    up, out = networks(ctx.catalog, acc, network)
    try:
        return acc, up, out, hardware_for(acc, up, out, w.precision, asm, {})
    except InputError as exc:  # a workload file's precision: named as estimate names it
        raise workload_precision_error(exc, workload, precision, acc.key,
                                       w.precision) from None


class Chunk(ChunkAnswers):
    """One chunk's rows on the columnar path (local indices 0..n-1, ``rows`` in the answer)."""

    def __init__(self, ctx, cols: dict, rows: np.ndarray, st, qty: dict):
        self.ctx, self.st, self.ans, self.qty = ctx, st, st.ans, qty
        self.rows, self.n = rows, len(rows)
        every = self.n == st.ans.n  # rows are 0..n-1: the columns as they are
        self.cols = cols if every else {k: v.take(rows) for k, v in cols.items()}
        if not every:  # a per-row column's values are cut to the rows: so are their parses
            self.qty = dict(qty)
            local = {int(r): i for i, r in enumerate(rows.tolist())}
            for name, c in cols.items():
                if c.per_row and name in qty:
                    parsed, errors = qty[name]
                    self.qty[name] = (parsed[rows], {local[j]: m for j, m in errors.items()
                                                     if j in local})

    def col(self, name) -> Coded | None:
        return self.cols.get(name)

    def fail(self, local, message: str) -> None:
        self.st.fail(self.rows[local], message)

    def fail_codes(self, name: str) -> None:
        c = self.col(name)
        if c is not None:
            self.st.fail_codes(self.rows, c.codes, self.qty[name][1])

    def live(self) -> np.ndarray:
        return ~self.st.bad[self.rows]

    def distinct(self, kind: str, c: Coded | None, make) -> list:
        """make(value) once per distinct value of a column (cached); rows of failing values
        fail with the message."""
        out = []
        for j, v in enumerate(c.value_list() if c is not None else []):
            ok, val = self.ctx.once(kind, v, lambda v=v: make(v))
            out.append(val if ok else None)
            if not ok:
                self.fail(c.codes == j, val)
        return out

    # -- the steps, in the order estimate meets its errors ----------------------------------
    def run(self) -> None:
        # the switch read as estimate reads it, first as there: "false" and "no" had read
        # true (bool of a text) and let tp past the domain, where estimate refuses them
        ac = self.col("allow_tp_beyond_domain")
        parsed = self.distinct("allow_tp", ac, lambda v: parse_flag(
            v, "allow_tp_beyond_domain"))
        self.allow = np.zeros(self.n, bool) if ac is None else np.array(
            [bool(v) for v in parsed] + [False])[ac.codes]
        self.workloads()
        self.limits()
        self.layouts()
        self.fail_codes("gpus")
        gc = self.col("gpus")
        self.gpus = pick_codes(self.qty["gpus"][0], gc.codes)
        self.oversized()
        self.sites()
        if not self.live().any():  # every row refused: nothing to score (each has its error)
            return
        self.hardware()
        self.score()
        if not self.live().any():
            return
        self.fill()

    def groups(self) -> None:
        """Rows grouped once, by every input scoring tells apart (workload inputs, accelerator,
        network, devices, layout, allow_tp): ``aid``, ``afirst``. The coarser groups, by
        hardware (``hid``) and by workload (``mid``), group those groups' first rows (a few
        hundred, not every row) and are read back per row."""
        def present(names):
            return [c for c in (self.col(name) for name in names) if c is not None]

        def coarser(cols, ids, first):  # group the groups ``ids`` (first rows ``first``)
            if not cols:
                return np.zeros(len(ids), np.int64), first[:1]
            sub, sub_first = group([c.take(first) for c in cols], len(first))
            return sub.take(ids), first[sub_first]  # groups ordered by their first row

        model = present(MODEL_INPUTS + ("gpu",))  # the default stack follows the accelerator
        hardware = model + present(("gpu", "network"))
        every = hardware + present(("gpus", "layout", "allow_tp_beyond_domain"))
        self.aid, self.afirst = group(every, self.n) if every else (
            np.zeros(self.n, np.int64), np.zeros(min(self.n, 1), np.int64))
        self.hid, self.hfirst = coarser(hardware, self.aid, self.afirst)
        self.mid, self.mfirst = coarser(model, self.hid, self.hfirst)

    def oversized(self) -> None:
        """Rows with more devices than their assumptions plan (check_gpus, as estimate)."""
        most = np.array([m[1].max_gpus if m else np.inf for m in self.models])[self.mid]
        gc = self.col("gpus")
        with np.errstate(invalid="ignore"):
            over = self.live() & (self.gpus > most)
        for j in np.unique(gc.codes[over]):
            rows = over & (gc.codes == j)
            r0 = int(np.flatnonzero(rows)[0])
            try:
                check_gpus(int(self.gpus[r0]), self.models[self.mid[r0]][1], gc.row(r0))
            except InputError as exc:
                self.fail(rows, str(exc))
        # a --max-gpus above the sizing's ceiling is refused as estimate refuses it (it had
        # been answered here: an auditor)
        mc = self.col("max_gpus")
        if mc is not None:
            cap = pick_codes(self.qty["max_gpus"][0], mc.codes)
            with np.errstate(invalid="ignore"):
                high = self.live() & (cap > most)
            for r0 in np.flatnonzero(high):
                try:
                    check_max_gpus(float(cap[r0]), self.models[self.mid[r0]][1], mc.row(r0))
                except InputError as exc:
                    self.fail([int(r0)], str(exc))

    def workloads(self) -> None:
        self.groups()
        self.models = []
        for g, r0 in enumerate(self.mfirst):
            vals = {name: self.cols[name].row(r0) for name in MODEL_INPUTS + ("gpu",)
                    if name in self.cols}
            key = tuple(sorted((k, repr(v)) for k, v in vals.items()))
            ok, val = self.ctx.once("model", key, lambda vals=vals: _model(self.ctx, vals))
            self.models.append(val if ok else None)
            if not ok:
                self.fail(self.mid == g, val)
        base = np.array([m[2] if m else np.nan for m in self.models])[self.mid]
        given = self.col("tokens")
        if given is not None:
            self.fail_codes("tokens")
            self.tokens = given_or(given, self.qty["tokens"][0], base)
        else:
            self.tokens = base
        self.fail(np.isnan(self.tokens),
                  str(InputError("--tokens", None, "a token count such as 15T")))
        batch = np.array([m[0].global_batch_tokens if m else np.nan
                          for m in self.models])[self.mid]
        for i in np.flatnonzero(self.tokens < batch):  # fewer tokens than one step
            self.fail([i], str(short_run_error(
                given.row(i) if given is not None else self.tokens[i], batch[i])))

    def limits(self) -> None:
        for name in LIMIT_INPUTS:
            self.fail_codes(name)
        for name in ("objective", "ownership"):
            self.distinct(name, self.col(name), lambda v, name=name: parse_limits(**{name: v}))
        for name in ("price_per_gpu_hour", "pue", "energy_usd_per_kwh"):
            self.fail_codes(name)

    def layouts(self) -> None:
        lc = self.col("layout")
        self.fixed = [f if f is not None else {} for f in self.distinct("layout", lc,
                                                                         parse_layout)]
        self.lcodes = lc.codes if lc is not None else np.full(self.n, -1)

    def sites(self) -> None:
        sc = self.col("site")
        found = self.distinct("site", sc, lambda key: without_site_storage(
            self.ctx.catalog.site(key), self.ctx.assumptions))
        self.site_objs = found + [self.ctx.once("site-default", None, lambda: (
            without_site_storage(default_site(self.ctx.catalog, {}), self.ctx.assumptions)))[1]]
        codes = sc.codes if sc is not None else np.full(self.n, -1)
        self.scodes = np.where(codes >= 0, codes, len(found))

    def hardware(self) -> None:
        self.hws = []
        for h, r0 in enumerate(self.hfirst):
            m = self.models[int(self.mid[r0])]
            if m is None:
                self.hws.append(None)
                continue
            w, asm, _ = m
            gpu = self.cols["gpu"].row(r0) if "gpu" in self.cols else None
            net = self.cols["network"].row(r0) if "network" in self.cols else None
            named = [self.cols[k].row(r0) if k in self.cols else None
                     for k in ("workload", "precision")]
            ok, val = self.ctx.once("hardware", (id(w), id(asm), gpu, net, *map(repr, named)),
                                    lambda w=w, asm=asm, gpu=gpu, net=net, named=named:
                                    _hardware(self.ctx, w, asm, gpu, net, *named))
            self.hws.append((int(self.mid[r0]), *val) if ok else None)
            if not ok:
                self.fail(self.hid == h, val)

    # -- scoring: the best layout of each distinct (hardware, devices, layout, allow_tp) -------
    def score(self) -> None:
        allow = self.allow
        # the chunk's keys are the groups of rows alike in all scoring reads (groups); each
        # is scored for its first row still answered
        first = np.full(len(self.afirst), self.n, np.int64)
        alive = np.flatnonzero(self.live())
        np.minimum.at(first, self.aid[alive], alive)
        memo = self.ctx.cache.get("scores")
        if memo is None or len(memo) > SCORE_CACHE_KEYS:
            memo = self.ctx.cache["scores"] = {}
        n_keys = len(first)
        # one SearchKey per distinct key of the call (its hash is computed once)
        interned = self.ctx.cache.setdefault("search-keys", {})
        if len(interned) > SCORE_CACHE_KEYS:
            interned.clear()
        by_asm: dict = {}
        for k, r0 in enumerate(first.tolist()):
            if r0 >= self.n:
                continue  # every row of this key failed earlier
            g, acc, up, out, hw = self.hws[self.hid[r0]]
            w, asm, _ = self.models[g]
            lcode = self.lcodes[r0]
            fixed = tuple(sorted(self.fixed[lcode].items())) if lcode >= 0 else ()
            ident = (id(w), id(hw), int(self.gpus[r0]), fixed, bool(allow[r0]))
            key = interned.get(ident)
            if key is None:
                key = interned[ident] = SearchKey(w.architecture, w.seq_len,
                                                  w.global_batch_tokens, hw, ident[2], fixed,
                                                  ident[4])
            by_asm.setdefault(id(asm), (asm, [], []))[1].append(k)
            by_asm[id(asm)][2].append(key)
        # one row per key, and one more (NaN: rows that failed earlier)
        best = Best(np.zeros(n_keys + 1, np.int8),
                    np.full((n_keys + 1, len(FIGURES)), np.nan),
                    np.zeros((n_keys + 1, len(LAYOUT_FIELDS)), np.int64),
                    np.full(n_keys + 1, np.nan), np.zeros(n_keys + 1, np.int64), {})
        for asm, ks, keys in by_asm.values():
            got = best_layouts(keys, asm, memo)
            ks = np.array(ks)
            best.state[ks], best.figures[ks], best.layouts[ks] = got.state, got.figures, \
                got.layouts
            best.lean_bytes[ks], best.count[ks] = got.lean_bytes, got.count
            best.errors.update({int(ks[j]): m for j, m in got.errors.items()})
        self.best, self.kfirst = best, np.minimum(first, self.n - 1)
        # keys no layout can use: estimate refuses them, so their rows fail
        messages, code = [], np.full(n_keys + 1, -1)
        for k in np.flatnonzero((best.state == ERROR) | (best.state == NO_LAYOUT)):
            if k == n_keys or first[k] >= self.n:
                continue
            if best.state[k] == ERROR:
                text = "--layout: " + best.errors[int(k)]
            else:
                r0 = int(first[k])
                lcode = self.lcodes[r0]
                fixed = self.fixed[lcode] if lcode >= 0 else {}
                hw = self.hws[self.hid[r0]]
                w = self.models[hw[0]][0]
                devices = purchase_unit(hw[1])[0]  # a row with a unit goes to estimate
                text = str(InputError("--layout" if fixed else "--gpus",
                                      layout_text(fixed) or int(self.gpus[r0]),
                                      no_layout_hint(w, int(self.gpus[r0]), fixed, devices)))
            if text not in messages:
                messages.append(text)
            code[k] = messages.index(text)
        if messages:
            self.st.fail_coded(self.rows, code[self.aid], messages)
        self.kk = np.where(self.live(), self.aid, n_keys)


def columnar(ctx, cols: dict, rows: np.ndarray, st, qty: dict) -> None:
    """Answer ``rows`` (a device count, one accelerator, no Monte Carlo) as arrays."""
    Chunk(ctx, cols, rows, st, qty).run()
