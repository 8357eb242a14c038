"""The columnar path of estimate_many: rows with a device count, answered as arrays.

Work is done once per distinct value and gathered per row:
- per distinct workload input: plan/inputs.resolve_workload, with assumptions_for;
- per distinct (workload, accelerator, network): plan/cluster.hardware_for;
- per distinct (workload, hardware, devices, layout): the best layout (model/search.py's
  best_layouts, the search every plan uses), kept for the whole call (and a whole sweep);
- per distinct (workload, accelerator, site): plan/cluster.run_inputs (prices, PUE, power);
- per row, as arrays: plan/assemble.py's steady state, run and judgement, the functions
  ``estimate`` assembles its plans with.
"""

from __future__ import annotations

import math

import numpy as np

from ..assumptions import SCORE_CACHE_KEYS
from ..errors import InputError
from ..model.search import (
    ERROR,
    FIGURES,
    FITS,
    LAYOUT_FIELDS,
    NO_LAYOUT,
    Best,
    SearchKey,
    best_layouts,
)
from ..model.step import TIME_KEYS
from ..plan.assemble import (
    cluster_figures,
    judge,
    no_fit_reason,
    run_figures,
    steady_state,
    workload_figures,
)
from ..plan.cluster import hardware_for, networks, run_inputs
from ..plan.fields import LAYOUT_INTS, WORKLOAD
from ..plan.inputs import (
    assumptions_for,
    check_gpus,
    default_site,
    layout_text,
    no_layout_hint,
    parse_layout,
    parse_limits,
    resolve_workload,
    stack_for,
)
from ..specs import RECOMPUTE
from ..units import SECONDS_PER_DAY
from .columns import Coded
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
    try:
        w = resolve_workload(ctx.catalog, {}, tokens=None, **args)
        return w, asm, w.tokens
    except InputError as exc:
        if exc.name != "--tokens":
            raise
    w = resolve_workload(ctx.catalog, {}, tokens=1.0, **args)  # tokens come per row
    return w, asm, math.nan


def _hardware(ctx, w, asm, gpu, network):
    acc = ctx.catalog.accelerator(gpu if gpu is not None else asm.accelerator)
    up, out = networks(ctx.catalog, acc, network)
    return acc, up, out, hardware_for(acc, up, out, w.precision, asm, {})


class Chunk:
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
        self.workloads()
        self.limits()
        self.layouts()
        self.fail_codes("gpus")
        gc = self.col("gpus")
        self.gpus = _pick(self.qty["gpus"][0], gc.codes)
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
            self.tokens = _given(given, self.qty["tokens"][0], base)
        else:
            self.tokens = base
        self.fail(np.isnan(self.tokens),
                  str(InputError("--tokens", None, "a token count such as 15T")))

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
        found = self.distinct("site", sc, self.ctx.catalog.site)
        self.site_objs = found + [self.ctx.once("site-default", None, lambda: default_site(
            self.ctx.catalog, {}))[1]]
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
            ok, val = self.ctx.once("hardware", (id(w), id(asm), gpu, net),
                                    lambda w=w, asm=asm, gpu=gpu, net=net:
                                    _hardware(self.ctx, w, asm, gpu, net))
            self.hws.append((int(self.mid[r0]), *val) if ok else None)
            if not ok:
                self.fail(self.hid == h, val)

    # -- scoring: the best layout of each distinct (hardware, devices, layout, allow_tp) -------
    def score(self) -> None:
        ac = self.col("allow_tp_beyond_domain")
        allow = np.zeros(self.n, bool) if ac is None else np.array(
            [bool(v) for v in ac.value_list()] + [False])[ac.codes]
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
                w = self.models[self.hws[self.hid[r0]][0]][0]
                text = str(InputError("--layout" if fixed else "--gpus",
                                      layout_text(fixed) or int(self.gpus[r0]),
                                      no_layout_hint(w, int(self.gpus[r0]), fixed)))
            if text not in messages:
                messages.append(text)
            code[k] = messages.index(text)
        if messages:
            self.st.fail_coded(self.rows, code[self.aid], messages)
        self.kk = np.where(self.live(), self.aid, n_keys)

    # -- the answers -------------------------------------------------------------------------
    # Per-key figures are worked out per key and gathered once per row.
    def fill(self) -> None:
        ans, r, k = self.ans, self.rows, self.kk
        self._fill_inputs()
        best = self.best
        key_fits = best.state == FITS
        fits = key_fits.take(k)
        steady = steady_state(best, self._peaks(), self._hbms())
        for name, v in steady.items():
            if name.startswith("layout_") or name in ("bottleneck", "batch_seqs") or \
                    name.endswith("_per_token"):
                continue
            ans.put(name, r, v.take(k))
        names, neck = np.unique(steady["bottleneck"], return_inverse=True)
        ans.put_codes("bottleneck", r, np.where(key_fits, neck.ravel(), -1), list(names), at=k)
        for j, name in enumerate(LAYOUT_FIELDS):
            if name == "recompute":
                ans.put_codes("layout_recompute", r, np.where(key_fits, best.layouts[:, j], -1),
                              list(RECOMPUTE), at=k)
            elif name in LAYOUT_INTS:
                ans.put(f"layout_{name}", r, best.layouts[:, j].take(k), valid=fits)
        key_model = np.append(self.mid[self.kfirst], len(self.models))
        asked = np.array([m[0].global_batch_tokens if m else np.nan for m in self.models]
                         + [np.nan])
        seq = np.array([m[0].seq_len if m else np.nan for m in self.models] + [np.nan])
        # the batch as the best layout runs it (search may move it within batch_tolerance)
        batch = np.where(key_fits, steady["batch_seqs"] * seq[key_model], asked[key_model])
        ans.put("workload_global_batch_tokens", r, batch.take(k))
        rows = self._run(steady, fits, k)
        self._judge(rows, fits, key_fits, batch.take(k), seq[key_model].take(k))

    def _fill_inputs(self) -> None:
        """The workload and cluster columns, per workload and accelerator group."""
        ans, rows = self.ans, self.rows
        table = [self.ctx.once("workload-row", id(m[0]), lambda m=m: workload_figures(m[0]))[1]
                 if m else None for m in self.models]
        known = np.array([t is not None for t in table] + [False])[self.mid]
        for name, kind, _ in WORKLOAD:
            if name == "tokens":
                continue
            vals = [t[name] if t else None for t in table]
            column = f"workload_{name}"
            if None not in table and len(set(vals)) == 1:
                ans.put(column, rows, vals[0])  # the same for every row: no gather
            elif kind == "str":
                ans.put_codes(column, rows, self.mid, vals)
            elif kind == "i8":
                ints = np.array([0 if v is None else v for v in vals] + [0], dtype=np.int64)
                ans.put(column, rows, ints[self.mid], valid=known)
            else:
                ans.put(column, rows, np.array([np.nan if v is None else v for v in vals],
                                               dtype=float)[self.mid])
        ans.put("workload_tokens", rows, self.tokens)
        clusters = [cluster_figures(h[1], 1, h[3], None) if h else None for h in self.hws]
        ans.put_codes("cluster_accelerator", rows, self.hid,
                      [c["accelerator"] if c else None for c in clusters])
        ans.put("cluster_gpus", rows, self.gpus)
        per_node = np.array([h[1].devices_per_node if h else np.nan for h in self.hws])[self.hid]
        ans.put("cluster_nodes", rows, np.ceil(self.gpus / per_node))
        per_rack = np.array([h[1].devices_per_rack or np.nan if h else np.nan
                             for h in self.hws])[self.hid]
        ans.put("cluster_racks", rows, np.ceil(self.gpus / per_rack))  # NaN: unknown
        ans.put_codes("cluster_unit", rows, self.hid, [c["unit"] if c else None for c in clusters])
        per_unit = np.array([c["unit_devices"] if c else np.nan for c in clusters])[self.hid]
        ans.put("cluster_unit_devices", rows, per_unit)
        units = np.ceil(self.gpus / per_unit)
        ans.put("cluster_units", rows, units)
        ans.put("cluster_spare_devices", rows, units * per_unit - self.gpus)
        ans.put("cluster_scale_up_domain", rows, np.array(
            [c["scale_up_domain"] if c else np.nan for c in clusters])[self.hid])
        ans.put_codes("cluster_network", rows, self.hid,
                      [c["network"] if c else None for c in clusters])
        ans.put_codes("cluster_site", rows, self.scodes,
                      [s.key if s else None for s in self.site_objs])

    def _hbms(self) -> np.ndarray:
        """Each key's HBM bytes per device (NaN for the padding key)."""
        hbm = np.array([h[4].hbm_bytes if h else np.nan for h in self.hws] + [np.nan])
        return hbm[np.append(self.hid[self.kfirst], len(self.hws))]

    def _peaks(self) -> np.ndarray:
        """Each key's peak FLOP/s at its precision (NaN for the padding key)."""
        peaks = np.array([h[4].peak_flops if h else np.nan for h in self.hws] + [np.nan])
        return peaks[np.append(self.hid[self.kfirst], len(self.hws))]

    def _run(self, steady: dict, fits: np.ndarray, k: np.ndarray) -> dict:
        """The run model over every row, per set of assumptions; writes its columns."""
        ans, r = self.ans, self.rows
        inputs = self._run_inputs()
        for name, field in (("price_per_gpu_hour", "cloud_usd_per_hour"), ("pue", "pue"),
                            ("energy_usd_per_kwh", "energy_usd_per_kwh")):
            given = self.col(name)  # a row's own figure replaces the catalog's (run_inputs)
            if given is not None:
                inputs[field] = _given(given, self.qty[name][0], inputs[field])
        pue_given = self.col("pue")  # a row's PUE sets its peak too (cluster.peak_pue_of)
        pue_given = (pue_given.codes >= 0) if pue_given is not None else None
        methods = tuple(self.ctx.cost_keys)
        oc = self.col("ownership")
        if oc is None:
            method = np.full(self.n, methods.index("cloud"))
        else:
            index = [methods.index(v) if v in methods else -1 for v in oc.value_list()]
            method = np.array(index + [methods.index("cloud")])[oc.codes]
        # rows whose key fits nothing run on NaN devices: every run figure comes out NaN
        devices = np.where(fits, self.gpus, np.nan)
        per_row = {"tokens_per_s": steady["tokens_per_s"].take(k),
                   "mfpt": steady["model_flops_per_token"].take(k),
                   "hfpt": steady["hardware_flops_per_token"].take(k)}
        asms = [m[1] if m else None for m in self.models]
        out: dict = {}
        for aid, sel in _split([id(a) if a else 0 for a in asms], self.mid):
            asm = next((a for a in asms if a and id(a) == aid), self.ctx.base_asm)
            pick = (lambda v: v) if sel is None else (lambda v, sel=sel: v[sel])
            mine = {n: pick(v) if np.ndim(v) else v for n, v in inputs.items()}
            if pue_given is not None:
                mine["peak_pue"] = np.where(pick(pue_given), mine["pue"] + asm.peak_pue_uplift,
                                            mine["peak_pue"])
            got = run_figures(pick(devices), pick(self.tokens), pick(per_row["tokens_per_s"]),
                              pick(per_row["mfpt"]), pick(per_row["hfpt"]), mine,
                              asm, pick(method), methods)
            for name, v in got.items():
                v = np.broadcast_to(v, (len(r) if sel is None else int(sel.sum()),))
                if sel is None:
                    out[name] = v
                else:
                    out.setdefault(name, np.full(self.n, np.nan))[sel] = v
        every = bool(fits.all())
        for name, v in out.items():
            if name in ans.kind:  # figures of rows whose key fits nothing are null
                ans.put(name, r, v if every else np.where(fits, v, np.nan))
        ans.put_codes("cost_method", r, np.where(fits, method, -1), list(methods))
        out["method"] = method
        return out

    def _judge(self, run: dict, fits: np.ndarray, key_fits: np.ndarray, batch, seq) -> None:
        """feasible, binding and reason: per key for keys no layout fits, per row for rows
        that fail faster than they restart or break a limit given."""
        ans, r, k, best = self.ans, self.rows, self.kk, self.best
        n_keys = len(best.state) - 1
        words, codes = ["gpus"], np.full(n_keys + 1, -1)
        reasons, rcodes = [], np.full(n_keys + 1, -1)
        codes[key_fits] = 0
        for key in np.flatnonzero(~key_fits[:-1] & (best.state[:-1] != ERROR)
                                  & (best.state[:-1] != NO_LAYOUT)):
            h = self.hws[self.hid[self.kfirst[key]]]
            binding, reason = no_fit_reason(int(best.state[key]), float(best.lean_bytes[key]),
                                            h[1].key, h[1].hbm_bytes,
                                            bool(h[1].scale_out_bytes_per_s))
            codes[key], rcodes[key] = _code(words, binding), _code(reasons, reason)
        feasible = np.where(key_fits, 1.0, np.where(best.state == 0, np.nan, 0.0)).take(k)
        stuck = fits & ~np.isfinite(run["wall_s"])
        given = [name for name in LIMIT_INPUTS if name in self.cols]
        limits = {}
        for name, limit, scale in (("deadline", "deadline", 1 / SECONDS_PER_DAY),
                                   ("power_cap", "power", 1e-6), ("budget", "budget", 1.0),
                                   ("max_gpus", "max_gpus", 1.0)):
            if name in given:
                codes_ = self.cols[name].codes
                limits[limit] = _pick(self.qty[name][0], codes_) * scale
        judged = np.flatnonzero(stuck)
        if limits:
            near = np.zeros(self.n, bool)
            needs = {"deadline": run["training_days"], "power": run["power_mw"],
                     "budget": run["cost_usd_total"], "max_gpus": self.gpus}
            with np.errstate(invalid="ignore"):
                for limit, cap in limits.items():
                    near |= ~(needs[limit] < cap * (1 - 1e-9)) & np.isfinite(cap)
            judged = np.union1d(judged, np.flatnonzero(fits & near))
        bcodes, rcodes_row = codes.take(k), rcodes.take(k)  # per row, into words / reasons
        if judged.size:
            accs = np.array([h[1].key if h else "" for h in self.hws], dtype=object)[self.hid]
            keyed = ("step_time_s", "layout_dp", "layout_microbatch",
                     *[f"time_breakdown_s_{t}" for t in TIME_KEYS])
            asms = [m[1] if m else self.ctx.base_asm for m in self.models]
            for aid, sel in _split([id(a) for a in asms], self.mid[judged]):
                at = judged if sel is None else judged[sel]
                asm = next(a for a in asms if id(a) == aid)
                sub = {name: np.asarray(v)[at] for name, v in run.items() if np.ndim(v)}
                sub.update({name: self._key_column(name)[k[at]] for name in keyed})
                sub.update(cluster_gpus=self.gpus[at], workload_seq_len=seq[at],
                           workload_global_batch_tokens=batch[at])
                ok, why, text = judge(sub, {name: v[at] for name, v in limits.items()},
                                      accs[at], "gpus", asm)
                feasible[at] = ok
                for row, b, t in zip(at.tolist(), why.tolist(), text.tolist()):
                    bcodes[row] = _code(words, b)
                    rcodes_row[row] = -1 if t is None else _code(reasons, t)
        ans.put("feasible", r, feasible)
        ans.put_codes("binding", r, bcodes, words)
        ans.put_codes("reason", r, rcodes_row, reasons)

    def _key_column(self, name: str) -> np.ndarray:
        if name.startswith("layout_"):
            return self.best.layout_part(name[len("layout_"):]).astype(float)
        if name.startswith("time_breakdown_s_"):
            return self.best.figure("time_" + name[len("time_breakdown_s_"):])
        return self.best.figure(name)

    def _run_inputs(self) -> dict:
        """plan/cluster.run_inputs once per distinct (workload, accelerator, site), per row."""
        mid, hid, sc = self.mid, self.hid, self.scodes
        if "site" in self.cols:
            combo, first = group([Coded(hid, self.hws), Coded(sc, self.site_objs)], len(mid))
        else:  # one site: the hardware groups (workload x accelerator x network) say it all
            combo, first = hid, self.hfirst
        table: dict = {}
        blank = np.full(len(first), np.nan)
        for j, r0 in enumerate(first):
            if self.models[mid[r0]] is None or self.hws[hid[r0]] is None:
                continue  # rows that failed earlier
            w, asm, _ = self.models[mid[r0]]
            _, acc, up, out, _ = self.hws[hid[r0]]
            site = self.site_objs[sc[r0]]
            got = self.ctx.once("run_inputs", (id(w), id(asm), id(acc),
                                               site.key if site else None),
                                lambda w=w, acc=acc, site=site, asm=asm:
                                run_inputs(w, acc, site, asm, {}))[1]
            for name, v in got.items():
                if name not in table:
                    table[name] = blank.copy()
                table[name][j] = v
        # an input the same for every group is a scalar (run.outcome broadcasts it)
        return {name: v[0] if (v == v[0]).all() or np.isnan(v).all() else v[combo]
                for name, v in table.items()}


def _code(values: list, v) -> int:
    """The index of ``v`` in ``values``, appended when new."""
    if v not in values:
        values.append(v)
    return values.index(v)


def _given(c: Coded, parsed: np.ndarray, default: np.ndarray) -> np.ndarray:
    """A per-row quantity: its parsed value where the row gives one, else ``default``."""
    if c.per_row and (c.codes >= 0).all():  # codes 0..n-1: the values as they are
        return parsed
    return np.where(c.codes >= 0, _pick(parsed, c.codes), default)


def _pick(parsed: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """parsed[codes], nan where a code is -1 (null), also when every value is null."""
    if not len(parsed):
        return np.full(np.shape(codes), np.nan)
    return np.where(codes >= 0, parsed[np.maximum(codes, 0)], np.nan)


def _split(ids: list, index: np.ndarray) -> list:
    """[(id, selection)] of rows by the id of their group's object; selection None when one
    id covers every row (the usual case: one set of assumptions)."""
    used = {i for i in ids if i}
    if len(used) <= 1:
        return [(used.pop() if used else 0, None)]
    per_row = np.array(ids + [0])[index]
    return [(int(d), per_row == d) for d in sorted(used)]


def columnar(ctx, cols: dict, rows: np.ndarray, st, qty: dict) -> None:
    """Answer ``rows`` (a device count, one accelerator, no Monte Carlo) as arrays."""
    Chunk(ctx, cols, rows, st, qty).run()
