"""The columnar path of estimate_many: rows with a device count, answered as arrays.

Work is done once per distinct value and gathered per row:
- per distinct workload input: plan.resolve_workload, with plan.assumptions_for;
- per distinct (workload, accelerator, network): plan.hardware_for;
- per distinct (workload, hardware, devices, layout): the best layout, found as search.search
  finds it: search.enumerate_layouts lists the candidates, step.evaluate scores them (the
  candidates of many keys in one call, with arrays of architectures and hardware; a key with
  many candidates alone, by search.search itself), and the fastest that fits wins, the first
  of equals. These are kept for the whole call (and a whole sweep);
- per distinct (workload, accelerator, site): plan.run_inputs (prices, PUE, power, checkpoint);
- per row, as arrays: run.outcome (goodput, power, energy, CO2, both costs), the money per
  unit, and plan._check_limits for the rows carrying limits.
A row whose answer needs a rule only the single-plan path applies (a cluster failing faster
than it restarts: goodput 0) is handed back to estimate itself.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field, fields

import numpy as np
import pyarrow as pa

from . import run
from .assumptions import (SCORE_BATCH_LAYOUTS, SCORE_CACHE_KEYS, SEARCH_ALONE_LAYOUTS,
                          Assumptions)
from .catalog import Catalog, CatalogError, UnknownKeyError, catalog as load_catalog
from .cost import cost_per_1e24_flop, cost_per_trillion_tokens
from .flops import hardware_flops_per_token, model_flops_per_token
from .architecture import active_params, total_params
from .plan import (SECONDS_PER_DAY, Candidate, Cluster, Limits, Plan, _assemble, _check_limits, _default_site,
                   _frontier,
                   _layout_text, _networks, _no_layout_hint, _parse_limits, assumptions_for,
                   estimate, hardware_for, resolve_workload, run_inputs)
from .search import (LAYOUT_FIELDS, LayoutError, SearchResult, enumerate_layouts, parse_layout,
                     search)
from .specs import Architecture
from .step import MEMORY_KEYS, TIME_KEYS, Hardware, bottleneck, evaluate
from .table import LAYOUT_INTS, RECOMPUTE_NAMES, SHAPE_INPUTS, Answers, Coded, output_fields
from .units import (InputError, parse_count, parse_duration_s, parse_int_count,
                    parse_money_usd, parse_power_w)

def _estimate_inputs() -> tuple[str, ...]:
    """estimate's keywords (less the catalog and assumptions, which hold for a whole call)
    and the shape flags: the columns a scenario table may have."""
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    names = [p.name for p in inspect.signature(estimate).parameters.values()
             if p.kind in kinds and p.name not in ("catalog", "assumptions")]
    return tuple(names) + tuple(k for k in SHAPE_INPUTS if k not in names)


INPUTS = _estimate_inputs()
MODEL_INPUTS = ("params", "workload", *SHAPE_INPUTS, "ffn_type", "seq_len", "global_batch",
                "precision", "framework")
# Per-row quantities: (parser, flag, rule for plain numbers), as estimate parses them.
ROW_QUANTITIES = {
    "tokens": (parse_count, "--tokens", "positive"),
    "deadline": (parse_duration_s, "--deadline", "positive"),
    "budget": (parse_money_usd, "--budget", "money"),
    "power_cap": (parse_power_w, "--power-cap", "positive"),
    "max_gpus": (parse_int_count, "--max-gpus", "whole"),
    "price_per_gpu_hour": (parse_money_usd, "--price-per-gpu-hour", "money"),
    "gpus": (parse_int_count, "--gpus", "whole"),
}
LIMIT_INPUTS = ("deadline", "budget", "power_cap", "max_gpus")
# What the columnar path understands; a row giving any other input goes to estimate itself.
COLUMNAR_INPUTS = frozenset(MODEL_INPUTS + tuple(ROW_QUANTITIES) + (
    "gpu", "network", "site", "layout", "objective", "ownership", "allow_tp_beyond_domain",
    "uncertainty", "seed"))
FLAGS = {"accelerators": "--gpu", "networks": "--network", "sites": "--site",
         "workloads": "--workload"}
USER_ERRORS = (InputError, LayoutError, CatalogError, ValueError)


def error_text(exc: Exception) -> str:
    """A user error as the CLI words it: the flag, the value and the accepted form."""
    if isinstance(exc, UnknownKeyError):
        return f"{FLAGS.get(exc.kind, exc.kind)}: {exc}"
    if isinstance(exc, LayoutError):
        return f"--layout: {exc}"
    return str(exc)


@dataclass
class Context:
    """What holds for every row of a call (catalog, assumptions) and the work done once per
    distinct value, kept across the chunks of a call or of a sweep."""

    catalog: Catalog
    assumptions: dict | Assumptions | None = None
    search_min: int = SEARCH_ALONE_LAYOUTS
    cache: dict = field(default_factory=dict)

    def once(self, kind: str, key, make):
        """(True, ``make()``) once per (kind, key); a user error as (False, its message)."""
        store = self.cache.setdefault(kind, {})
        if key not in store:
            try:
                store[key] = (True, make())
            except USER_ERRORS as exc:
                store[key] = (False, error_text(exc))
        return store[key]

    def intern(self, asm: Assumptions) -> Assumptions:
        """One object per distinct set of assumptions, so rows sharing them batch together."""
        return self.cache.setdefault("asm", {}).setdefault(asm, asm)

    @property
    def base_asm(self) -> Assumptions:
        return assumptions_for(self.assumptions, None)

    @property
    def cost_keys(self) -> dict:
        """Each cost method's components, as run.outcome returns them (so the money columns
        follow the cost model)."""
        if "cost_keys" not in self.cache:
            asm = self.base_asm
            w = resolve_workload(self.catalog, {}, params=1e9, tokens=1e9, asm=asm)
            acc = self.catalog.accelerator(asm.accelerator)
            site = _default_site(self.catalog, {})
            inputs = run_inputs(w, Cluster(acc, 8, None, None, site), Limits(), asm, {})
            out = run.outcome(8, 1e6, asm=asm, **inputs)
            self.cache["cost_keys"] = {m: tuple(c) for m, c in out["cost"].items()}
        return self.cache["cost_keys"]

    @property
    def fields(self) -> list:
        return output_fields(self.cost_keys)


def context(catalog=None, assumptions=None) -> Context:
    cat = catalog if isinstance(catalog, Catalog) else load_catalog(catalog)
    return Context(cat, assumptions)


# --- inputs -----------------------------------------------------------------------------------

def numbers(values, parser, flag: str, rule: str) -> tuple[np.ndarray, dict]:
    """(parsed value of each distinct value of a column, {index: error message}).

    Plain numbers that pass the parser's own rule (finite; positive, or non-negative for money;
    whole where a whole count is wanted) are what the parser would return; everything else
    (text with units, bad numbers) goes through the parser, which words the error."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "iuf":
        x = values.astype(float)
        is_number = np.ones(len(x), bool)
    else:
        is_number = np.array([isinstance(v, (int, float)) and not isinstance(v, bool)
                              for v in values], dtype=bool)
        x = np.array([float(v) if n else np.nan for v, n in zip(values, is_number)])
    with np.errstate(invalid="ignore"):
        ok = is_number & np.isfinite(x) & ((x >= 0) if rule == "money" else (x > 0))
        if rule == "whole":
            ok &= np.floor(x) == x
        ok &= np.abs(x) < 2.0 ** 53
    parsed = np.where(ok, x, np.nan)
    errors: dict = {}
    for j in np.flatnonzero(~ok):
        v = values[j]
        try:
            parsed[j] = parser(v.item() if isinstance(v, np.generic) else v, flag)
        except InputError as exc:
            errors[int(j)] = str(exc)
    return parsed, errors


def group(coded: list[Coded], n: int) -> tuple[np.ndarray, np.ndarray]:
    """(group id per row, first row of each group) over the combination of coded columns;
    groups are numbered in order of first appearance."""
    key = np.zeros(n, dtype=np.int64)
    width = 1
    for c in coded:
        card = len(c.values) + 1
        if width * card >= 2 ** 62:  # renumber before the key overflows
            key, _ = _encode(key)
            width = int(key.max()) + 1 if n else 1
        key = key + (c.codes + 1) * width
        width *= card
    return _encode(key)


def _encode(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hash-encode int64 keys (Arrow's dictionary encoding, no sort): (ids, first rows)."""
    if len(key) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    ids = pa.array(key).dictionary_encode().indices.to_numpy().astype(np.int64)
    first = np.empty(int(ids.max()) + 1, np.int64)
    first[ids[::-1]] = np.arange(len(ids) - 1, -1, -1)
    return ids, first


class Rows:
    """Per-row errors while a chunk is answered: the first error of a row wins, as the first
    error estimate meets is the one it raises."""

    def __init__(self, ans: Answers):
        self.ans = ans
        self.bad = np.zeros(ans.n, dtype=bool)
        self.handback = np.zeros(ans.n, dtype=bool)  # rows only estimate itself can answer

    def fail(self, rows, message: str) -> None:
        rows = np.asarray(rows)
        if rows.dtype == bool:
            rows = np.flatnonzero(rows)
        rows = rows[~self.bad[rows]]
        if rows.size:
            self.bad[rows] = True
            self.ans.put("error", rows, message)

    def fail_coded(self, rows: np.ndarray, codes: np.ndarray, messages: list) -> None:
        """Fail ``rows[i]`` with ``messages[codes[i]]`` (code -1: no error), vectorised."""
        sel = (codes >= 0) & ~self.bad[rows]
        if sel.any():
            self.ans.put_codes("error", rows[sel], codes[sel], messages)
            self.bad[rows[sel]] = True

    def fail_codes(self, rows: np.ndarray, codes: np.ndarray, messages: dict) -> None:
        """Fail ``rows[i]`` when ``codes[i]`` names a value with an error message."""
        for j, m in messages.items():
            self.fail(rows[codes == j], m)


# The figures kept per scored key, in this order in a record's float vector.
FIGURES = ("step_time_s", "tokens_per_s", "mfu", "hfu", "memory_bytes", "batch_tokens",
           "peak_flops", "hardware_flops_per_token",
           *(f"time_{k}" for k in TIME_KEYS), *(f"memory_{k}" for k in MEMORY_KEYS))
F = {name: j for j, name in enumerate(FIGURES)}
FITS, INFEASIBLE, ERROR = 1, 2, 3


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


class Chunk:
    """One chunk's rows on the columnar path (local indices 0..n-1, ``rows`` in the answer)."""

    def __init__(self, ctx, cols: dict, rows: np.ndarray, st, qty: dict):
        self.ctx, self.st, self.ans, self.qty = ctx, st, st.ans, qty
        self.rows, self.n = rows, len(rows)
        self.cols = {k: v.take(rows) for k, v in cols.items()}

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

    def workloads(self) -> None:
        present = [c for c in (self.col(name) for name in MODEL_INPUTS) if c is not None]
        self.mid, first = group(present, self.n) if present else (
            np.zeros(self.n, np.int64), np.zeros(1, np.int64))
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
            self.tokens = np.where(given.codes >= 0, self.qty["tokens"][0][given.codes], base)
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
        self.fail_codes("price_per_gpu_hour")

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
        cols = [Coded(self.mid, list(range(len(self.models))))]
        cols += [c for c in (self.col("gpu"), self.col("network")) if c is not None]
        self.hid, first = group(cols, self.n)
        self.hfirst = first
        self.hws = []
        for h, r0 in enumerate(first):
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
        gc = self.col("gpus")
        cols = [Coded(np.where(live, self.hid, -1), list(range(len(self.hws)))),
                Coded(np.where(live, gc.codes, -1), list(range(len(gc.values)))),
                Coded(self.lcodes, self.fixed), Coded(allow, [0, 1])]
        self.kid, first = group(cols, self.n)
        table = self.ctx.cache.get("scores")
        if table is None or len(table.index) > SCORE_CACHE_KEYS:
            table = self.ctx.cache["scores"] = ScoreTable()
        keys, todo = [], {}
        for k, r0 in enumerate(first):
            if not live[r0]:
                keys.append(None)
                continue
            h = int(self.hid[r0])
            lcode = self.lcodes[r0]
            g = self.hws[h][0]
            key = (id(self.models[g][0]), id(self.hws[h][4]), int(self.gpus[r0]),
                   self.fixed_key[lcode] if lcode >= 0 else (), bool(allow[r0]))
            keys.append(key)
            if key not in table.index:
                fixed = self.fixed[lcode] if lcode >= 0 else {}
                todo[key] = (h, int(self.gpus[r0]), fixed, bool(allow[r0]))
        if todo:
            self._score_new(todo, table)
        # the chunk's keys as rows of the table; the extra last row: rows that failed earlier
        at = np.array([table.index[key] if key is not None else -1 for key in keys] + [-1])
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

    def _score_new(self, todo: dict, store: "ScoreTable") -> None:
        batch = []
        for key, (h, gpus, fixed, allow) in todo.items():
            g, acc, up, out, hw = self.hws[h]
            w, asm, _ = self.models[g]
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
            elif count >= self.ctx.search_min:
                found = search(w.architecture, gpus, w.seq_len, w.global_batch_tokens, hw, asm,
                               fixed, allow, asm.batch_tolerance)
                store.add(key, self._record(found, found.best, h, gpus))
            else:
                batch.append((key, h, gpus, lay))
        by_asm: dict = {}
        for item in batch:
            by_asm.setdefault(self.models[self.hws[item[1]][0]][1], []).append(item)
        for asm, items in by_asm.items():
            batch, size = [], 0  # at most SCORE_BATCH_LAYOUTS candidates per evaluate call
            for item in items:
                n = len(item[3]["tp"])
                if batch and size + n > SCORE_BATCH_LAYOUTS:
                    self._score_batch(asm, batch, store)
                    batch, size = [], 0
                batch.append(item)
                size += n
            if batch:
                self._score_batch(asm, batch, store)

    def _record(self, found: SearchResult, best, h: int, gpus: int) -> tuple:
        g, acc, up, out, hw = self.hws[h]
        w, asm, _ = self.models[g]
        if best is not None:
            fv, iv = _records(found.result, found.layouts, np.array([best]), w.seq_len,
                              acc.peak(w.precision), w.architecture)
            return (FITS, fv[0], iv[0], None)
        # none fits: plan._assemble words the reason and names the binding limit
        plan = _assemble(w, Cluster(acc, gpus, up, out, None), Candidate(gpus, found, math.inf),
                         Limits(), asm, {}, "gpus")
        return (INFEASIBLE, None, None, plan)

    def _score_batch(self, asm, items: list, store: "ScoreTable") -> None:
        """The candidates of many keys in one step.evaluate call; per key the fastest that
        fits, the first of equals (search.search's rule)."""
        sizes = np.array([len(it[3]["tp"]) for it in items])
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        seg = np.repeat(np.arange(len(items)), sizes)
        lay = {k: np.concatenate([it[3][k] for it in items]) for k in items[0][3]}
        hid = np.array([it[1] for it in items])[seg]
        gid = np.array([h[0] if h else 0 for h in self.hws])[hid]
        ws = [m[0] if m else None for m in self.models]
        a = _stack([w.architecture if w else None for w in ws], Architecture, gid)
        hw = _stack([h[4] if h else None for h in self.hws], Hardware, hid)
        seq = np.array([w.seq_len if w else 1 for w in ws])[gid]
        peak = np.array([h[1].peak(self.models[h[0]][0].precision) if h else np.nan
                         for h in self.hws])[hid]
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
                store.add(key, self._record(found, None, h, gpus))

    # -- the answers -------------------------------------------------------------------------
    # Every column is written for every row of the chunk at once (rows that failed earlier
    # are nulled at the end; rows whose key fits nothing read the NaN padding of the key
    # table), so that a column is one gather and no scatter.
    def fill(self) -> None:
        ans, rows = self.ans, self.rows
        table = [self.ctx.once("workload-row", id(m[0]), lambda m=m: _workload_row(m[0]))[1]
                 if m else None for m in self.models]
        known = np.array([t is not None for t in table] + [False])
        for name, kind in WORKLOAD_FIELDS:
            vals = [t[name] if t else None for t in table]
            column = f"workload_{name}"
            if kind == "str":
                ans.put_codes(column, rows, self.mid, vals)
            elif kind == "i8":
                ints = np.array([0 if v is None else v for v in vals] + [0], dtype=np.int64)
                ans.put(column, rows, ints[self.mid], valid=known[self.mid])
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
        state = self.state[self.kk]
        fits = state == FITS
        ans.put("feasible", rows, np.where(fits | (state == INFEASIBLE), fits, np.nan))
        words, codes = ["gpus"], np.full(k_n, -1)
        reasons, rcodes = [], np.full(k_n, -1)
        codes[self.state == FITS] = 0
        for k, plan in self.payload.items():
            if self.state[k] == INFEASIBLE:
                codes[k], rcodes[k] = len(words), len(reasons)
                words.append(plan.binding)
                reasons.append(plan.reason)
        ans.put_codes("binding", rows, codes[self.kk], words)
        ans.put_codes("reason", rows, rcodes[self.kk], reasons)
        if fits.any():
            self._fill_fits(fits)

    def _fill_fits(self, fits: np.ndarray) -> None:
        ans, r, k = self.ans, self.rows, self.kk
        figs_t = np.ascontiguousarray(self.figs.T)
        fig = lambda name: figs_t[F[name]].take(k)  # noqa: E731
        for name in ("step_time_s", "tokens_per_s", "mfu", "hfu"):
            ans.put(name, r, fig(name))
        ans.put("memory_gb_per_gpu", r, fig("memory_bytes") / 1e9)
        ans.put("tflops_per_gpu", r, fig("mfu") * fig("peak_flops") / 1e12)
        for name in MEMORY_KEYS:
            ans.put(f"memory_breakdown_gb_{name}", r, fig(f"memory_{name}") / 1e9)
        for name in TIME_KEYS:
            ans.put(f"time_breakdown_s_{name}", r, fig(f"time_{name}"))
        neck = bottleneck({name: self.figs[:, F[f"time_{name}"]] for name in TIME_KEYS})
        ans.put_codes("bottleneck", r, np.where(fits, k, -1), list(neck))
        ints = np.ascontiguousarray(self.ints.T)
        for j, name in enumerate(LAYOUT_FIELDS):
            if name == "recompute":
                ans.put_codes("layout_recompute", r, np.where(fits, ints[j].take(k), -1),
                              [RECOMPUTE_NAMES[i] for i in range(3)])
            elif name in LAYOUT_INTS or name == "zero":
                ans.put(f"layout_{name}", r, ints[j].take(k), valid=fits)
        asked = np.array([m[0].global_batch_tokens if m else np.nan for m in self.models])
        # the batch as the best layout runs it (search may move it within batch_tolerance)
        ans.put("workload_global_batch_tokens", r, np.where(fits, fig("batch_tokens"),
                                                            asked[self.mid]))
        # FLOPs, as plan._assemble: per token times the run's tokens
        mfpt = np.array([float(model_flops_per_token(m[0].architecture, m[0].seq_len))
                         if m else np.nan for m in self.models])
        model_flops = np.where(fits, mfpt[self.mid] * self.tokens, np.nan)
        ans.put("model_flops", r, model_flops)
        ans.put("hardware_flops", r, fig("hardware_flops_per_token") * self.tokens)
        # the run model over every row at once, as plan._assemble calls it
        inputs = self._run_inputs(np.ones(self.n, bool))
        price = self.col("price_per_gpu_hour")
        if price is not None:
            given = self.qty["price_per_gpu_hour"][0][price.codes]
            inputs["cloud_usd_per_hour"] = np.where(price.codes >= 0, given,
                                                    inputs["cloud_usd_per_hour"])
        methods = list(self.ctx.cost_keys)
        oc = self.col("ownership")
        if oc is None:
            method = np.full(self.n, methods.index("cloud"))
        else:
            index = [methods.index(v) if v in methods else -1 for v in oc.value_list()]
            method = np.array(index + [methods.index("cloud")])[oc.codes]
        compute_s = self.tokens / fig("tokens_per_s")
        asms = [m[1] if m else None for m in self.models]
        lost = np.zeros(self.n, bool)
        groups = _split([id(a) if a else 0 for a in asms], self.mid, fits)
        # rows whose key fits nothing run on NaN devices: every run figure comes out NaN
        devices = self.gpus if fits.all() else np.where(fits, self.gpus, np.nan)
        for aid, sel in groups:
            asm = next((a for a in asms if a and id(a) == aid), self.ctx.base_asm)
            pick = (lambda v: v) if sel is None else (lambda v: v[sel])
            out = run.outcome(pick(devices), pick(compute_s), asm=asm,
                              **{name: pick(v) if np.ndim(v) else v
                                 for name, v in inputs.items()})
            rr = r if sel is None else r[sel]
            self._put_run(rr, out, {n: pick(v) if np.ndim(v) else v
                                    for n, v in inputs.items()},
                          pick(fits), pick(method), pick(self.tokens), pick(model_flops))
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

    def _put_run(self, r, out, inputs, fits, method, tokens, model_flops) -> None:
        put = self.ans.put
        every = bool(fits.all())
        rel = {k: v if every else np.where(fits, v, np.nan)  # (goodput ignores NaN devices)
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
                np.where(fits, inputs[key], np.nan))  # used only by plans that run
        total = np.full(len(method), np.nan)
        methods = list(out["cost"])
        for j, (m, parts) in enumerate(out["cost"].items()):
            on = method == j
            put(f"cost_usd_by_method_{m}", r, parts["total"])
            total = np.where(on, parts["total"], total)
            for name, v in parts.items():
                if name != "total":  # a method's components, null under the other method
                    put(f"cost_usd_{name}", r, np.where(on, v, np.nan))
        put("cost_usd_total", r, total)
        put("cost_usd_per_trillion_tokens", r, cost_per_trillion_tokens(total, tokens))
        put("cost_usd_per_1e24_flop", r, cost_per_1e24_flop(total, model_flops))
        self.ans.put_codes("cost_method", r, np.where(fits, method, -1), methods)

    def _run_inputs(self, ok: np.ndarray) -> dict:
        """plan.run_inputs once per distinct (workload, accelerator, site), per row."""
        mid, hid, sc = self.mid[ok], self.hid[ok], self.scodes[ok]
        if "site" in self.cols:
            combo, first = group([Coded(hid, self.hws), Coded(sc, self.site_objs)], len(mid))
        else:  # one site: the hardware groups (workload x accelerator x network) say it all
            combo, first = hid, self.hfirst
        table: dict = {}
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
                table.setdefault(name, np.full(len(first), np.nan))[j] = v
        if len(first) == 1:  # one group: scalars broadcast in run.outcome
            return {name: v[0] for name, v in table.items()}
        return {name: v[combo] for name, v in table.items()}

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
                x = ans.f[name][rows] if name in ans.f else np.full(len(rows), np.nan)
                col[name] = [v if math.isfinite(v) else None for v in x.tolist()]
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


def _split(ids: list, index: np.ndarray, fits: np.ndarray) -> list:
    """[(id, selection)] of rows by the id of their group's object; selection None when one
    id covers every row (the usual case: one set of assumptions)."""
    used = {i for i in ids if i}
    if len(used) <= 1:
        return [(used.pop() if used else 0, None)]
    per_row = np.array(ids + [0])[index]
    return [(int(d), per_row == d) for d in sorted(used)]


def _slice(r: dict, sl: slice, n: int) -> dict:
    out = {}
    for k, v in r.items():
        if isinstance(v, dict):
            out[k] = _slice(v, sl, n)
        else:
            out[k] = np.broadcast_to(v, (n,))[sl] if np.ndim(v) else v
    return out


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
