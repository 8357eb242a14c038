"""The columnar path of estimate_many: rows with a device count, answered as arrays.

Work is done once per distinct value and gathered per row:
- per distinct workload input: plan.resolve_workload, with plan.assumptions_for;
- per distinct (workload, accelerator, network): plan.hardware_for;
- per distinct (workload, hardware, devices, layout): the best layout, found as search.search
  finds it (planner/scoring.py), kept for the whole call (and a whole sweep);
- per distinct (workload, accelerator, site): plan.run_inputs (prices, PUE, power, checkpoint);
- per row, as arrays: run.outcome (goodput, power, energy, CO2, both costs), the money per
  unit, and plan._check_limits for the rows carrying limits.
A row whose answer needs a rule only the single-plan path applies (a cluster failing faster
than it restarts: goodput 0) is handed back to estimate itself.
"""

from __future__ import annotations

import math
from dataclasses import fields

import numpy as np

from ..model import run
from ..model.architecture import active_params, total_params
from ..assumptions import SCORE_CACHE_KEYS
from ..model.cost import cost_per_1e24_flop, cost_per_trillion_tokens
from ..model.flops import model_flops_per_token
from ..plan.estimate import (SECONDS_PER_DAY, Cluster, Limits, Plan, _check_limits, _default_site,
                   _frontier, _networks, _parse_limits, assumptions_for, hardware_for,
                   resolve_workload, run_inputs)
from .scenarios import LIMIT_INPUTS, MODEL_INPUTS, group
from .scoring import ERROR, F, FITS, INFEASIBLE, ScoreTable, score_new
from ..model.search import LAYOUT_FIELDS, parse_layout
from ..model.step import MEMORY_KEYS, TIME_KEYS, bottleneck
from .columns import LAYOUT_INTS, RECOMPUTE_NAMES, SHAPE_INPUTS, Coded
from ..units import InputError


def _model(ctx, vals: dict):
    """(workload, assumptions, the workload's own tokens or nan) of one distinct input."""
    asm = ctx.intern(assumptions_for(ctx.assumptions, vals.get("framework")))
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
    up, out = _networks(ctx.catalog, acc, network)
    return acc, up, out, hardware_for(acc, up, out, w.precision, asm, {})


class Chunk:
    """One chunk's rows on the columnar path (local indices 0..n-1, ``rows`` in the answer)."""

    def __init__(self, ctx, cols: dict, rows: np.ndarray, st, qty: dict):
        self.ctx, self.st, self.ans, self.qty = ctx, st, st.ans, qty
        self.rows, self.n = rows, len(rows)
        every = self.n == st.ans.n  # rows are 0..n-1: the columns as they are
        self.cols = cols if every else {k: v.take(rows) for k, v in cols.items()}

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
        self.gpus = np.where(gc.codes >= 0, self.qty["gpus"][0][gc.codes], np.nan)
        self.sites()
        self.hardware()
        self.score()
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

        model = present(MODEL_INPUTS)
        hardware = model + present(("gpu", "network"))
        every = hardware + present(("gpus", "layout", "allow_tp_beyond_domain"))
        self.aid, self.afirst = group(every, self.n) if every else (
            np.zeros(self.n, np.int64), np.zeros(min(self.n, 1), np.int64))
        self.hid, self.hfirst = coarser(hardware, self.aid, self.afirst)
        self.mid, self.mfirst = coarser(model, self.hid, self.hfirst)

    def workloads(self) -> None:
        self.groups()
        first = self.mfirst
        self.models = []
        for g, r0 in enumerate(first):
            vals = {name: self.cols[name].row(r0) for name in MODEL_INPUTS if name in self.cols}
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
            kw = {"objective": None, "ownership": "cloud", "price_per_gpu_hour": None}
            self.distinct(name, self.col(name), lambda v, name=name: _parse_limits(
                None, None, None, None, **{**kw, name: v}))
        for name in ("price_per_gpu_hour", "pue", "energy_usd_per_kwh"):
            self.fail_codes(name)

    def layouts(self) -> None:
        lc = self.col("layout")
        self.fixed = [f if f is not None else {} for f in self.distinct("layout", lc,
                                                                         parse_layout)]
        self.fixed_key = [tuple(sorted(f.items())) for f in self.fixed]
        self.lcodes = lc.codes if lc is not None else np.full(self.n, -1)

    def sites(self) -> None:
        sc = self.col("site")
        found = self.distinct("site", sc, self.ctx.catalog.site)
        self.site_objs = found + [self.ctx.once("site-default", None, lambda: _default_site(
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
                                    lambda: _hardware(self.ctx, w, asm, gpu, net))
            self.hws.append((int(self.mid[r0]), *val) if ok else None)
            if not ok:
                self.fail(self.hid == h, val)

    # -- scoring: one record per distinct (hardware, devices, layout, allow_tp) ----------------
    def score(self) -> None:
        live = self.live()
        ac = self.col("allow_tp_beyond_domain")
        allow = np.zeros(self.n, np.int64) if ac is None else np.array(
            [int(bool(v)) for v in ac.value_list()] + [0])[ac.codes]
        # the chunk's keys are the groups of rows alike in all scoring reads (groups); each
        # is scored for its first row still answered (n: none is, the key is None)
        self.kid = self.aid
        first = np.full(len(self.afirst), self.n, np.int64)
        alive = np.flatnonzero(live)
        np.minimum.at(first, self.aid[alive], alive)
        self.kfirst = np.minimum(first, self.n - 1)  # (a key with no row answered: any row)
        table = self.ctx.cache.get("scores")
        if table is None or len(table.index) > SCORE_CACHE_KEYS:
            table = self.ctx.cache["scores"] = ScoreTable()
        keys = self._keys(self.kfirst, first < self.n, allow)
        at, todo = [], {}
        for k, (key, r0) in enumerate(zip(keys, self.kfirst.tolist())):
            i = table.index.get(key, -1) if key is not None else -1
            at.append(i)
            if i < 0 and key is not None and key not in todo:
                lcode = self.lcodes[r0]
                fixed = self.fixed[lcode] if lcode >= 0 else {}
                todo[key] = (int(self.hid[r0]), int(self.gpus[r0]), fixed, bool(allow[r0]))
        if todo:
            score_new(todo, table, self.models, self.hws, self.ctx.search_min)
            at = [table.index[key] if key is not None else -1 for key in keys]
        # the chunk's keys as rows of the table; the extra last row: rows that failed earlier
        at = np.array(at + [-1])
        self.state, self.figs, self.ints = table.take(at)
        self.payload = {k: table.payload[i] for k, i in enumerate(at[:-1].tolist())
                        if i in table.payload}
        errors = [(k, m) for k, m in self.payload.items() if self.state[k] == ERROR]
        if errors:
            messages = sorted({m for _, m in errors})
            code = np.full(len(keys) + 1, -1)
            for k, m in errors:
                code[k] = messages.index(m)
            self.st.fail_coded(self.rows, code[self.kid], messages)
        self.kk = np.where(self.live(), self.kid, len(keys))

    def _keys(self, first: np.ndarray, ok: np.ndarray, allow: np.ndarray) -> list:
        """A hashable key per chunk key (None where not ``ok``: its rows failed), read at its
        row ``first``: one int64 of
        (workload x hardware, layout, allow_tp, devices), numbered for the whole call, or a
        tuple when a number outgrows its bits."""
        hw_ids = self.ctx.cache.setdefault("hw-ids", {})
        lay_ids = self.ctx.cache.setdefault("layout-ids", {})
        hw_id = np.array([hw_ids.setdefault((id(self.models[h[0]][0]), id(h[4])), len(hw_ids))
                          if h else 0 for h in self.hws] + [0], dtype=np.int64)
        lay_id = np.array([lay_ids.setdefault(f, len(lay_ids)) for f in self.fixed_key]
                          + [lay_ids.setdefault((), len(lay_ids))], dtype=np.int64)
        h = self.hid[first]
        lay = lay_id[self.lcodes[first]]  # code -1 reads the last: no layout given
        devices = np.nan_to_num(self.gpus[first]).astype(np.int64)
        # 12 bits of hardware, 12 of layout, 1 of allow_tp, 38 of devices: 63 bits
        if len(hw_ids) < 2 ** 12 and len(lay_ids) < 2 ** 12 and (devices < 2 ** 38).all():
            packed = (((hw_id[h] << 12) + lay) * 2 + allow[first] << 38) + devices
            return [k if o else None for k, o in zip(packed.tolist(), ok.tolist())]
        return [(int(hw_id[hh]), int(ll), int(a), int(d)) if o else None
                for hh, ll, a, d, o in zip(h, lay, allow[first], devices, ok)]

    # -- the answers -------------------------------------------------------------------------
    # Every column is written for every row of the chunk at once (rows that failed earlier
    # are nulled at the end; rows whose key fits nothing read the NaN padding of the key
    # table), so that a column is one gather and no scatter.
    def fill(self) -> None:
        ans, rows = self.ans, self.rows
        table = [self.ctx.once("workload-row", id(m[0]), lambda m=m: _workload_row(m[0]))[1]
                 if m else None for m in self.models]
        known = np.array([t is not None for t in table] + [False])[self.mid]
        for name, kind in WORKLOAD_FIELDS:
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
        accs = [h[1] if h else None for h in self.hws]
        ans.put_codes("cluster_accelerator", rows, self.hid,
                      [a.key if a else None for a in accs])
        ans.put("cluster_gpus", rows, self.gpus)
        per_node = np.array([a.devices_per_node if a else np.nan for a in accs])[self.hid]
        ans.put("cluster_nodes", rows, np.ceil(self.gpus / per_node))
        ans.put("cluster_scale_up_domain", rows,
                np.array([a.scale_up_domain if a else np.nan for a in accs])[self.hid])
        ans.put_codes("cluster_network", rows, self.hid,
                      [h[3].key if h and h[3] else None for h in self.hws])
        ans.put_codes("cluster_site", rows, self.scodes,
                      [s.key if s else None for s in self.site_objs])
        # feasibility: the key's state; an infeasible key's reason and binding (_assemble)
        k_n = len(self.state)
        key_fits = self.state == FITS
        fits = key_fits.take(self.kk)
        # per key (1 fits, 0 infeasible, else null), then one gather
        ans.put("feasible", rows, np.where(key_fits, 1.0, np.where(
            self.state == INFEASIBLE, 0.0, np.nan)).take(self.kk))
        words, codes = ["gpus"], np.full(k_n, -1)
        reasons, rcodes = [], np.full(k_n, -1)
        codes[key_fits] = 0
        for k, plan in self.payload.items():
            if self.state[k] == INFEASIBLE:
                codes[k], rcodes[k] = len(words), len(reasons)
                words.append(plan.binding)
                reasons.append(plan.reason)
        ans.put_codes("binding", rows, codes, words, at=self.kk)
        ans.put_codes("reason", rows, rcodes, reasons, at=self.kk)
        if fits.any():
            self._fill_fits(fits, key_fits)

    # A column read from the key table is worked out per key (unit changes, nulls of keys that
    # fit nothing) and gathered once per row: the same numbers, one pass over the rows.
    def _fill_fits(self, fits: np.ndarray, key_fits: np.ndarray) -> None:
        ans, r, k = self.ans, self.rows, self.kk
        figs_t = np.ascontiguousarray(self.figs.T)
        key = lambda name: figs_t[F[name]]  # noqa: E731  (NaN for keys that fit nothing)
        for name in ("step_time_s", "tokens_per_s", "mfu", "hfu"):
            ans.put(name, r, key(name).take(k))
        ans.put("memory_gb_per_gpu", r, (key("memory_bytes") / 1e9).take(k))
        ans.put("tflops_per_gpu", r, (key("mfu") * key("peak_flops") / 1e12).take(k))
        for name in MEMORY_KEYS:
            ans.put(f"memory_breakdown_gb_{name}", r, (key(f"memory_{name}") / 1e9).take(k))
        for name in TIME_KEYS:
            ans.put(f"time_breakdown_s_{name}", r, key(f"time_{name}").take(k))
        neck = bottleneck({name: self.figs[:, F[f"time_{name}"]] for name in TIME_KEYS})
        names, neck_code = np.unique(neck, return_inverse=True)
        ans.put_codes("bottleneck", r, np.where(key_fits, neck_code.ravel(), -1), list(names),
                      at=k)
        ints = np.ascontiguousarray(self.ints.T)
        for j, name in enumerate(LAYOUT_FIELDS):
            if name == "recompute":
                ans.put_codes("layout_recompute", r, np.where(key_fits, ints[j], -1),
                              [RECOMPUTE_NAMES[i] for i in range(3)], at=k)
            elif name in LAYOUT_INTS or name == "zero":
                ans.put(f"layout_{name}", r, ints[j].take(k), valid=fits)
        # each key's workload (a key's rows share it; the last key: rows that failed earlier)
        key_model = np.append(self.mid[self.kfirst], len(self.models))
        asked = np.array([m[0].global_batch_tokens if m else np.nan for m in self.models]
                         + [np.nan])
        # the batch as the best layout runs it (search may move it within batch_tolerance)
        ans.put("workload_global_batch_tokens", r, np.where(
            key_fits, key("batch_tokens"), asked[key_model]).take(k))
        # FLOPs, as plan._assemble: per token times the run's tokens
        mfpt = np.array([self.ctx.once("flops-per-token", id(m[0]), lambda m=m: float(
            model_flops_per_token(m[0].architecture, m[0].seq_len)))[1] if m else np.nan
            for m in self.models] + [np.nan])
        model_flops = np.where(key_fits, mfpt[key_model], np.nan).take(k) * self.tokens
        ans.put("model_flops", r, model_flops)
        ans.put("hardware_flops", r, key("hardware_flops_per_token").take(k) * self.tokens)
        # the run model over every row at once, as plan._assemble calls it
        inputs = self._run_inputs()
        for name, field in (("price_per_gpu_hour", "cloud_usd_per_hour"), ("pue", "pue"),
                            ("energy_usd_per_kwh", "energy_usd_per_kwh")):
            given = self.col(name)  # a row's own figure replaces the catalog's (run_inputs)
            if given is not None:
                inputs[field] = _given(given, self.qty[name][0], inputs[field])
        methods = list(self.ctx.cost_keys)
        oc = self.col("ownership")
        if oc is None:
            method = np.full(self.n, methods.index("cloud"))
        else:
            index = [methods.index(v) if v in methods else -1 for v in oc.value_list()]
            method = np.array(index + [methods.index("cloud")])[oc.codes]
        compute_s = self.tokens / key("tokens_per_s").take(k)
        asms = [m[1] if m else None for m in self.models]
        lost = np.zeros(self.n, bool)
        groups = _split([id(a) if a else 0 for a in asms], self.mid, fits)
        # rows whose key fits nothing run on NaN devices: every run figure comes out NaN
        keep = None if fits.all() else _keep(key_fits).take(k)
        devices = self.gpus if keep is None else self.gpus * keep
        for aid, sel in groups:
            asm = next((a for a in asms if a and id(a) == aid), self.ctx.base_asm)
            pick = (lambda v: v) if sel is None else (lambda v: v[sel])
            out = run.outcome(pick(devices), pick(compute_s), asm=asm,
                              **{name: pick(v) if np.ndim(v) else v
                                 for name, v in inputs.items()})
            rr = r if sel is None else r[sel]
            self._put_run(rr, out, {n: pick(v) if np.ndim(v) else v
                                    for n, v in inputs.items()},
                          pick(fits), None if keep is None else pick(keep), pick(method),
                          pick(self.tokens), pick(model_flops))
            lost_here = pick(fits) & ~np.isfinite(out["wall_s"])
            if sel is None:
                lost = lost_here
            else:
                lost[sel] = lost_here
        self.limits_check(fits)
        if lost.any():  # goodput 0: estimate words it (plan._assemble)
            back = r[lost]
            self.ans.clear(back)
            self.st.handback[back] = True

    def _put_run(self, r, out, inputs, fits, keep, method, tokens, model_flops) -> None:
        """The run model's columns; ``keep`` (None: every row fits) nulls the rows whose key
        fits nothing (_keep)."""
        put = self.ans.put
        null_unfit = (lambda v: v) if keep is None else (lambda v: v * keep)  # noqa: E731
        rel = {k: null_unfit(v)  # (goodput ignores NaN devices)
               for k, v in out["reliability"].items()}
        for name, v in rel.items():
            if f"reliability_{name}" in self.ans.kind:
                put(f"reliability_{name}", r, v)
        put("goodput", r, rel["goodput"])
        put("training_days", r, out["training_days"])
        put("gpu_hours", r, out["gpu_hours"])
        put("power_mw", r, out["facility_w"] / 1e6)
        put("energy_mwh", r, out["energy_mwh"])
        put("co2_t", r, out["co2_t"])
        for name, key in (("price_per_gpu_hour", "cloud_usd_per_hour"), ("pue", "pue")):
            put(f"assumptions_{name}_value", r,
                null_unfit(inputs[key]))  # used only by plans that run
        total = None
        methods = list(out["cost"])
        for j, (m, parts) in enumerate(out["cost"].items()):
            on = method == j
            put(f"cost_usd_by_method_{m}", r, parts["total"])
            every_row, any_row = bool(on.all()), bool(on.any())
            own = (lambda v: v) if every_row else (  # noqa: E731
                lambda v, keep=_keep(on): v * keep)
            # each row's own method: the others' totals are null there, and fmax skips nulls
            total = own(parts["total"]) if total is None else np.fmax(total,
                                                                       own(parts["total"]))
            for name, v in parts.items():
                if name != "total" and any_row:
                    # a method's components, null under the other method
                    put(f"cost_usd_{name}", r, own(v))
        put("cost_usd_total", r, total)
        put("cost_usd_per_trillion_tokens", r, cost_per_trillion_tokens(total, tokens))
        put("cost_usd_per_1e24_flop", r, cost_per_1e24_flop(total, model_flops))
        self.ans.put_codes("cost_method", r, np.where(fits, method, -1), methods)

    def _run_inputs(self) -> dict:
        """plan.run_inputs once per distinct (workload, accelerator, site), per row."""
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
            got = self.ctx.once("run_inputs", (id(w), id(asm), id(acc), id(up), id(out),
                                               site.key if site else None),
                                lambda: run_inputs(w, Cluster(acc, 1, up, out, site), Limits(),
                                                   asm, {}))[1]
            for name, v in got.items():
                if name not in table:
                    table[name] = blank.copy()
                table[name][j] = v
        # an input the same for every group is a scalar (run.outcome broadcasts it)
        return {name: v[0] if (v == v[0]).all() or np.isnan(v).all() else v[combo]
                for name, v in table.items()}

    def limits_check(self, ok: np.ndarray) -> None:
        """What estimate does after the plan: plan._check_limits on the rows that carry a
        limit, then, for a deadline alone, plan._frontier's account of a missed deadline."""
        given = [name for name in LIMIT_INPUTS if name in self.cols]
        if not given:
            return
        # Only rows near or past a limit can break it: the rest (every need clearly below
        # its cap) are left alone, the others judged by _check_limits itself.
        near = np.zeros(self.n, bool)
        ans, r = self.ans, self.rows
        slack = 1.0 - 1e-9
        need = {"deadline": ans.f["training_days"][r] * SECONDS_PER_DAY,
                "power_cap": ans.f["power_mw"][r] * 1e6,
                "budget": ans.f["cost_usd_total"][r], "max_gpus": self.gpus}
        for name in given:
            codes = self.cols[name].codes
            cap = np.where(codes >= 0, self.qty[name][0][codes], np.inf)
            with np.errstate(invalid="ignore"):
                near |= (codes >= 0) & ~(need[name] < cap * slack)
        idx = np.flatnonzero(ok & near)
        if not idx.size:
            return
        plans = self._plans(self.rows[idx])
        for i, plan in zip(idx, plans):
            v = {name: (self.qty[name][0][self.cols[name].codes[i]]
                        if self.cols[name].codes[i] >= 0 else None) for name in given}
            limits = Limits(
                deadline_s=v.get("deadline"), budget_usd=v.get("budget"),
                power_cap_w=v.get("power_cap"),
                max_gpus=int(v["max_gpus"]) if v.get("max_gpus") is not None else None,
                objective=self.cols["objective"].row(i) if "objective" in self.cols else None,
                ownership=(self.cols["ownership"].row(i) if "ownership" in self.cols
                           else None) or "cloud")
            w, asm, _ = self.models[self.mid[i]]
            checked = _check_limits(plan, limits, asm, None)
            if limits.budget_usd is None and limits.power_cap_w is None:
                checked = _frontier(checked, w)  # as estimate does for a deadline alone
            if checked.feasible:
                continue
            r = [self.rows[i]]
            self.ans.put("feasible", r, False)
            self.ans.put("binding", r, checked.binding)
            self.ans.put("reason", r, checked.reason)

    def _plans(self, rows: np.ndarray) -> list[Plan]:
        """The Plans of answered rows, rebuilt from their columns (what a limit check and its
        explanation read; assumptions and alternatives stay empty)."""
        ans = self.ans
        col: dict = {}
        for name, kind in ans.kind.items():
            if kind == "f8":
                if name not in ans.f:
                    col[name] = [None] * len(rows)
                    continue
                x, ok = ans.f[name][rows].tolist(), ans.valid[name][rows].tolist()
                col[name] = [v if k else None for v, k in zip(x, ok)]
            elif kind in ("i8", "bool"):
                if name not in ans.i:
                    col[name] = [None] * len(rows)
                    continue
                x, ok = ans.i[name][rows].tolist(), ans.valid[name][rows].tolist()
                cast = bool if kind == "bool" else int
                col[name] = [cast(v) if k else None for v, k in zip(x, ok)]
            else:
                words = list(ans.words[name]) + [None]
                codes = ans.s[name][rows] if name in ans.s else np.full(len(rows), -1)
                col[name] = [words[c] for c in codes.tolist()]
        groups: dict = {}
        for name in ans.kind:
            for prefix in ("workload_", "cluster_", "layout_", "memory_breakdown_gb_",
                           "time_breakdown_s_", "reliability_", "cost_usd_"):
                if name.startswith(prefix):
                    groups.setdefault(prefix[:-1], []).append((name[len(prefix):], name))
                    break
        top = [f.name for f in fields(Plan) if f.name in ans.kind]
        blank = {f.name: None for f in fields(Plan)}
        out = []
        for j in range(len(rows)):
            d = dict(blank)
            d.update({name: col[name][j] for name in top})
            for name in ("workload", "cluster", "layout", "memory_breakdown_gb",
                         "time_breakdown_s", "reliability"):
                d[name] = {k: col[n][j] for k, n in groups[name]}
            money = {k: col[n][j] for k, n in groups["cost_usd"]}
            cost = {k: v for k, v in money.items() if v is not None and not k.startswith("by_")}
            cost["by_method"] = {k[len("by_method_"):]: v for k, v in money.items()
                                 if k.startswith("by_method_")}
            d.update(cost_usd=cost, assumptions={}, alternatives=[])
            out.append(Plan(**d))
        return out


_NAN_ONE = np.array([np.nan, 1.0])


def _keep(mask: np.ndarray) -> np.ndarray:
    """1.0 where ``mask``, NaN elsewhere: ``x * _keep(mask)`` is x exactly on the mask and
    null off it. One lookup per mask (the mask's bytes, 0 or 1, index [nan, 1.0]), then a
    multiply per column: np.where costs several multiplies when its mask has no long runs
    (a mispredicted branch per switch)."""
    return _NAN_ONE.take(np.ascontiguousarray(mask, dtype=bool).view(np.uint8))


def _given(c: Coded, parsed: np.ndarray, default: np.ndarray) -> np.ndarray:
    """A per-row quantity: its parsed value where the row gives one, else ``default``."""
    if c.per_row and (c.codes >= 0).all():  # codes 0..n-1: the values as they are
        return parsed
    return np.where(c.codes >= 0, parsed[c.codes], default)


def _split(ids: list, index: np.ndarray, fits: np.ndarray) -> list:
    """[(id, selection)] of rows by the id of their group's object; selection None when one
    id covers every row (the usual case: one set of assumptions)."""
    used = {i for i in ids if i}
    if len(used) <= 1:
        return [(used.pop() if used else 0, None)]
    per_row = np.array(ids + [0])[index]
    return [(int(d), per_row == d) for d in sorted(used)]


WORKLOAD_FIELDS = (("params", "f8"), ("active_params", "f8"), ("layers", "i8"),
                   ("hidden", "i8"), ("heads", "i8"), ("kv_heads", "i8"), ("ffn", "i8"),
                   ("vocab", "i8"), ("experts", "i8"), ("top_k", "i8"), ("seq_len", "i8"),
                   ("global_batch_tokens", "f8"), ("precision", "str"), ("ffn_type", "str"),
                   ("name", "str"))


def _workload_row(w) -> dict:
    """The contract's workload fields of one workload (plan._assemble's dict)."""
    a = w.architecture
    return {"params": float(total_params(a)), "active_params": float(active_params(a)),
            "layers": a.layers, "hidden": a.hidden, "heads": a.heads, "kv_heads": a.kv_heads,
            "ffn": a.ffn, "vocab": a.vocab, "experts": a.experts, "top_k": a.top_k,
            "seq_len": w.seq_len, "global_batch_tokens": w.global_batch_tokens,
            "precision": w.precision, "ffn_type": a.ffn_type, "name": w.name}


def columnar(ctx, cols: dict, rows: np.ndarray, st, qty: dict) -> None:
    """Answer ``rows`` (a device count, one accelerator, no Monte Carlo) as arrays."""
    Chunk(ctx, cols, rows, st, qty).run()
