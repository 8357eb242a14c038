"""The answers of a chunk on the columnar path (columnar.py): per-key figures (the best layout's
steady state) gathered once per row, then the workload and cluster columns, the run model
(plan/assemble.run_figures) per set of assumptions and the judgement (plan/assemble.judge) of
rows that break a limit. ``Chunk`` (columnar.py) resolves the distinct inputs and the keys;
this class writes what they answer.
"""

from __future__ import annotations

import numpy as np

from ..model.layouts import LAYOUT_FIELDS
from ..model.search import ERROR, FITS, NO_LAYOUT
from ..model.step import TIME_KEYS
from ..plan.assemble import (
    cluster_figures,
    judge,
    no_fit_reason,
    run_figures,
    steady_state,
    workload_figures,
)
from ..plan.chosen import STEP_MODEL, reported_used
from ..plan.cluster import peak_uplift_of, run_inputs
from ..plan.estimate import passes_default_cap, prepare
from ..plan.fields import ASSUMPTION_COLUMNS, LAYOUT_INTS, WORKLOAD, assumption_cell
from ..plan.inputs import assumption_given
from ..plan.limits import count_breach_text
from ..plan.result import clean_json
from ..specs import RECOMPUTE
from ..tuning import ASSUMPTION_TABLES_KEPT
from ..units import SECONDS_PER_DAY
from .columns import Coded, given_or, pick_codes
from .scenarios import LIMIT_INPUTS, MODEL_INPUTS, group

# The inputs a plan's assumptions table reads beyond those a row sets itself (ChunkAnswers.
# _assumptions): the workload, its stack and team, the accelerator, the network, the site.
ASSUMED_FROM = MODEL_INPUTS + ("gpu", "network", "site")
# Assumption columns a row's own inputs and figures set, not its group's table: the run
# model's price, PUE and energy price (_run), the device count, the ownership, a named site's
# cap, the default site's cap a row passes, the step model of a row that fits (a batch its
# layout moved replaces its group's global_batch_tokens).
ROW_ASSUMPTIONS = ("price_per_gpu_hour", "pue", "peak_pue", "energy_usd_per_kwh", "gpus",
                   "ownership", "power_cap_mw", "site_power_cap_mw", "step_model")
# A row's value of it is its group's unless its layout moved its batch.
BATCH_COLUMN = "assumptions_global_batch_tokens_value"


class ChunkAnswers:
    """The answer-writing steps of columnar.Chunk (its rows, columns, keys and best layouts)."""

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
        self._assumptions(rows, fits, batch.take(k), asked[key_model].take(k))
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
                inputs[field] = given_or(given, self.qty[name][0], inputs[field])
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
            if pue_given is not None:  # a given PUE + its site's uplift (cluster.peak_pue_of)
                uplift = np.array([peak_uplift_of(site, asm) for site in self.site_objs])
                mine["peak_pue"] = np.where(pick(pue_given), np.round(
                    mine["pue"] + pick(uplift[self.scodes]), 10), mine["peak_pue"])
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
            if name in ans.kind:  # figures of rows whose key fits nothing are null, but not
                # the figures of their assumptions table (the price, PUE, energy price a plan
                # that fits nothing still reports, as estimate's does)
                keep = every or name.startswith("assumptions_")
                ans.put(name, r, v if keep else np.where(fits, v, np.nan))
        ans.put_codes("cost_method", r, np.where(fits, method, -1), list(methods))
        out["method"] = method
        return out

    def _assumptions(self, run: dict, fits: np.ndarray, batch: np.ndarray,
                     asked: np.ndarray) -> None:
        """Every assumptions_<name>_value column: estimate's own table (_assumed, for the
        first row still answered of each workload, accelerator, network and site, kept for
        the call), then what each row sets itself (ROW_ASSUMPTIONS, a batch its layout
        moved), as plan_of and over_default_site set them."""
        ans, r, n = self.ans, self.rows, self.n
        sc = self.scodes
        if sc.size and (sc != sc[0]).any():
            combo, _ = group([Coded(self.hid, self.hws), Coded(sc, self.site_objs)], n)
        else:  # one site: the hardware groups say it all
            combo = self.hid
        first = np.full(int(combo.max()) + 1, n, np.int64)
        alive = np.flatnonzero(self.live())
        np.minimum.at(first, combo[alive], alive)
        tables = []
        for r0 in first.tolist():
            got = None
            if r0 < n:
                key = tuple((name, repr(self.cols[name].row(r0))) for name in ASSUMED_FROM
                            if name in self.cols)
                ok, got = self.ctx.once("assumed", key, lambda r0=r0: self._assumed(r0))
                got = got if ok else None  # refused where estimate answers: left null
            tables.append(got)
        ans.put_codes("assumptions_step_model_value", r, np.where(fits, 0, -1),
                      [STEP_MODEL["value"]])  # a plan with a step (plan_of): a row that fits
        for column, kind, cells in self._assumed_cells(tables):
            if isinstance(cells, tuple):  # the same for every row (the usual case)
                ans.put_same(column, r, cells[0])
                continue
            if kind == "str":
                ans.put_codes(column, r, combo, cells)
                continue
            known = np.array([v is not None for v in cells] + [False])
            values = np.array([0 if v is None else v for v in cells] + [0],
                              dtype=float if kind == "f8" else np.int64)
            if kind == "f8":
                values[~known] = np.nan
            if column == BATCH_COLUMN:  # a batch the layout moved (plan_of)
                moved = fits & (batch != asked)
                ans.put(column, r, np.where(moved, batch, values[combo]))
            elif kind == "f8":
                ans.put(column, r, values[combo])
            else:
                ans.put(column, r, values[combo], valid=known[combo])
        ans.put("assumptions_gpus_value", r, self.gpus)
        methods = tuple(self.ctx.cost_keys)
        ans.put_codes("assumptions_ownership_value", r, run["method"], list(methods))
        caps_w = [s.power_cap_w if s is not None and s.power_cap_w else np.nan
                  for s in self.site_objs]
        named = np.array(caps_w[:-1] + [np.nan])[self.scodes]  # a named site's own cap
        given = self.col("power_cap")
        free = np.ones(n, bool) if given is None else given.codes < 0
        if np.isfinite(named).any():  # held to it where no power_cap replaces it (prepare)
            ans.put("assumptions_power_cap_mw_value", r, np.where(free, named / 1e6, np.nan))
        cap_w = caps_w[-1]  # the default site's: named by no one, it caps nothing, but a row
        if np.isfinite(cap_w):  # drawing more says so (over_default_site)
            power = np.where(fits, run["power_mw"], np.nan)
            over = passes_default_cap(power, cap_w, self.scodes == len(caps_w) - 1, ~free)
            if over.any():
                ans.put("assumptions_site_power_cap_mw_value", r,
                        np.where(over, cap_w / 1e6, np.nan))

    def _assumed_cells(self, tables: list) -> list:
        """[(column, kind, cells)] of the tables' assumptions each row's group reads (a row's
        own left out: ROW_ASSUMPTIONS), ``cells`` a group's value each, or (value,) where
        every group has the same; columns null throughout left out. Each table's cells, and
        which columns a set of tables holds the same, are kept for the call."""
        memo = self.ctx.cache.setdefault("assumed-cells", {})
        if len(memo) > ASSUMPTION_TABLES_KEPT:  # a table goes with its cells: no id reused
            memo.clear()
        every = all(t is not None for t in tables)
        mine = []
        for t in tables:  # each table's columns as their cells, once
            if t is None:
                mine.append({})
                continue
            got = memo.get(id(t))
            if got is None:
                got = memo[id(t)] = (t, {
                    f"assumptions_{name}_value": assumption_cell(t[name]["value"], kind)
                    for name, kind, _ in ASSUMPTION_COLUMNS
                    if name in t and name not in ROW_ASSUMPTIONS})
            mine.append(got[1])  # (the table kept, so its id stays its own)
        kinds = self.ctx.cache.setdefault("assumption-kinds", {
            f"assumptions_{name}_value": kind for name, kind, _ in ASSUMPTION_COLUMNS})
        key = (every, frozenset(id(t) for t in tables))
        plan = memo.get(key)
        if plan is None:  # which columns hold a value, and which are the same throughout
            names = sorted({c for m in mine for c in m}, key=list(kinds).index)
            plan = memo[key] = [
                (c, every and c != BATCH_COLUMN and len({repr(m.get(c)) for m in mine}) == 1)
                for c in names]
        return [(c, kinds[c], (mine[0][c],) if same else [m.get(c) for m in mine])
                for c, same in plan]

    def _assumed(self, r0: int) -> dict:
        """The assumptions table of row ``r0``'s plan before its choice, as estimate makes it
        (plan/estimate.prepare, then chosen.reported_used): one implementation, so a row's
        assumptions are estimate's (ROW_ASSUMPTIONS: what _assumptions sets per row)."""
        kwargs = {name: c.row(r0) for name, c in self.cols.items()
                  if name not in ("uncertainty", "seed")}
        req = prepare(catalog=self.ctx.catalog, assumptions=self.ctx.assumptions,
                      **{k: v for k, v in kwargs.items() if v is not None})
        return clean_json(reported_used(req.sides[0], req.w))

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
                limits[limit] = pick_codes(self.qty[name][0], codes_) * scale
        # a site named is a site's power: its cap holds where no power_cap replaces it, as in
        # estimate (the default site, last of site_objs and named by no one, caps nothing)
        site_cap = np.array([s.power_cap_w / 1e6 if s is not None and s.power_cap_w else np.nan
                             for s in self.site_objs[:-1]] + [np.nan])[self.scodes]
        if np.isfinite(site_cap).any():
            limits["power"] = (np.where(np.isnan(limits["power"]), site_cap, limits["power"])
                               if "power" in limits else site_cap)
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
        if "max_gpus" in limits:  # a count past --max-gpus is said beside the memory or the
            # failures, as estimate says it (plan/choose._judged: an auditor's parity script)
            with np.errstate(invalid="ignore"):
                past = (~fits | stuck) & (self.gpus > limits["max_gpus"])
            for row in np.flatnonzero(past).tolist():
                said = count_breach_text(int(self.gpus[row]), "max_gpus",
                                         limits["max_gpus"][row])
                rcodes_row[row] = _code(reasons, said if rcodes_row[row] < 0 else
                                        f"{reasons[rcodes_row[row]]}; {said}")
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
        # an assumed PUE or energy price replaces the site's, as estimate's does (they had
        # been taken only by the rows estimate answers: a sweep's sized rows, not its others)
        assumed = [assumption_given(self.ctx.assumptions, name)
                   for name in ("pue", "energy_usd_per_kwh")]
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
                                run_inputs(w, acc, site, asm, {}, None, *assumed))[1]
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


def _split(ids: list, index: np.ndarray) -> list:
    """[(id, selection)] of rows by the id of their group's object; selection None when one
    id covers every row (the usual case: one set of assumptions)."""
    used = {i for i in ids if i}
    if len(used) <= 1:
        return [(used.pop() if used else 0, None)]
    per_row = np.array(ids + [0])[index]
    return [(int(d), per_row == d) for d in sorted(used)]
