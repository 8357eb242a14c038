"""What many-scenario calls share: the inputs a scenario may give, the call's context (catalog,
assumptions, and work done once per distinct value), per-value parsing, grouping of rows by
coded columns, and per-row errors (estimate_many.py, columnar.py, sweep.py)."""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from ..assumptions import Assumptions
from ..catalog import KINDS, Catalog, held_listings
from ..catalog import catalog as load_catalog
from ..errors import USER_ERRORS, error_text
from ..model.cost import METHOD_KEYS
from ..plan.estimate import estimate
from ..plan.fields import columns as output_fields
from ..plan.inputs import (
    SHAPE_INPUTS,
    WORDS,
    assumptions_for,
    canonical_word,
)
from ..plan.options import shared_searches
from ..plan.quantities import (
    parse_budget,
    parse_deadline,
    parse_gpus,
    parse_power_cap,
    parse_price,
    parse_tokens,
)
from ..tuning import SHARED_SEARCHES_KEPT
from ..units import (
    MAX_ENERGY_USD_PER_KWH,
    InputError,
    parse_energy_usd_per_kwh,
    parse_pue,
)
from .columns import Answers, Coded


def _estimate_inputs() -> tuple[str, ...]:
    """estimate's keywords (less the catalog and assumptions, which hold for a whole call, and
    the call's own options: the sizing curve, the progress bar, the alternatives) and the
    shape flags: the columns a scenario table may have."""
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    names = [p.name for p in inspect.signature(estimate).parameters.values()
             if p.kind in kinds and p.name not in ("catalog", "assumptions", "curve",
                                                   "progress", "alternatives")]
    return tuple(names) + tuple(k for k in SHAPE_INPUTS if k not in names)


INPUTS = _estimate_inputs()
MODEL_INPUTS = ("params", "workload", *SHAPE_INPUTS, "ffn_type", "seq_len", "global_batch",
                "precision", "framework", "team")
# Per-row quantities: (parser, flag, rule for plain numbers), as estimate parses them (each
# parser's largest value is its ``maximum``).
ROW_QUANTITIES = {
    "tokens": (parse_tokens, "--tokens", "positive"),
    "deadline": (parse_deadline, "--deadline", "positive"),
    "budget": (parse_budget, "--budget", "positive"),
    "power_cap": (parse_power_cap, "--power-cap", "positive"),
    "max_gpus": (parse_gpus, "--max-gpus", "whole"),
    "price_per_gpu_hour": (parse_price, "--price-per-gpu-hour", "money"),
    "gpus": (parse_gpus, "--gpus", "whole"),
    "pue": (parse_pue, "--pue", "pue"),
    "energy_usd_per_kwh": (parse_energy_usd_per_kwh, "--energy-usd-per-kwh", "energy"),
}
LIMIT_INPUTS = ("deadline", "budget", "power_cap", "max_gpus")
# What the columnar path understands; a row giving any other input goes to estimate itself
# (a seed too: with uncertainty the row is estimate's, without it estimate refuses it).
COLUMNAR_INPUTS = frozenset(MODEL_INPUTS + tuple(ROW_QUANTITIES) + (
    "gpu", "network", "site", "layout", "objective", "ownership", "allow_tp_beyond_domain",
    "uncertainty"))


def canonical_words(cols: dict[str, Coded]) -> dict[str, Coded]:
    """Coded input columns with each option word's values canonical (canonical_word)."""
    return {name: Coded(col.codes, [canonical_word(name, v) for v in col.value_list()])
            if name in WORDS else col for name, col in cols.items()}


def searches_memo(ctx: "Context") -> dict:
    """The layout searches a call's scenarios share (plan.shared_searches), kept from chunk to
    chunk up to SHARED_SEARCHES_KEPT, then started afresh."""
    memo = ctx.cache.setdefault("shared-searches", {})
    if len(memo) > SHARED_SEARCHES_KEPT:
        memo.clear()
    return memo


@dataclass
class Context:
    """What holds for every row of a call (catalog, assumptions) and the work done once per
    distinct value, kept across the chunks of a call or of a sweep."""

    catalog: Catalog
    assumptions: dict | Assumptions | None = None
    cache: dict = field(default_factory=dict)

    def once(self, kind: str, key, make):
        """(True, ``make()``) once per (kind, key); a user error as (False, its message)."""
        store = self.cache.setdefault(kind, {})
        try:
            hash(key)
        except TypeError:  # a cell estimate takes but no dict can key (a layout as a dict)
            key = ("repr", repr(key))
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
        """Each cost method's components, as run.outcome returns them (model/cost.py
        METHOD_KEYS, which a test holds to it)."""
        return METHOD_KEYS

    @property
    def fields(self) -> list:
        return output_fields(self.cost_keys)


def context(catalog=None, assumptions=None) -> Context:
    cat = catalog if isinstance(catalog, Catalog) else load_catalog(catalog)
    # the user's catalog files, checked once: a broken one is the call's error, as estimate's
    # and sweep's (a negative peak had been each of 20,000 rows' error, the table returned)
    with held_listings():  # each folder listed once for the check, not once a file
        for kind in KINDS:
            for key in cat.keys(kind):
                if cat.from_user(kind, key):
                    cat.get(kind, key)
    # the assumptions of every row, checked once: a typo is the call's error, as estimate's,
    # budget's and sweep's (it had been each row's, the table returned)
    assumptions_for(assumptions, None)
    return Context(cat, assumptions)


# --- inputs -----------------------------------------------------------------------------------

def numbers(values, parser, flag: str, rule: str) -> tuple[np.ndarray, dict]:
    """(parsed value of each distinct value of a column, {index: error message}).

    Plain numbers that pass the parser's own rule (finite; positive, or non-negative for money;
    whole where a whole count is wanted; within the parser's ``minimum`` and ``maximum``) are
    what the parser would return; everything else (text with units, bad numbers) goes through
    the parser, which words the error."""
    maximum = getattr(parser, "maximum", math.inf)
    minimum = getattr(parser, "minimum", -math.inf)
    if isinstance(values, np.ndarray) and values.dtype.kind in "iuf":
        x = values.astype(float)
        is_number = np.ones(len(x), bool)
    else:
        is_number = np.array([isinstance(v, (int, float)) and not isinstance(v, bool)
                              for v in values], dtype=bool)
        x = np.array([float(v) if n else np.nan for v, n in zip(values, is_number)])
    with np.errstate(invalid="ignore"):
        ok = is_number & np.isfinite(x) & ((x >= 0) if rule in ("money", "energy") else (x > 0))
        if rule == "whole":
            ok &= np.floor(x) == x
        if rule == "pue":  # parse_pue's own rule: a facility draws at least its IT load
            ok &= x >= 1
        if rule == "energy":  # parse_energy_usd_per_kwh's: above it, a price per MWh
            ok &= x <= MAX_ENERGY_USD_PER_KWH
        ok &= np.abs(x) < 2.0 ** 53
        ok &= (x <= maximum) & (x >= minimum)
    parsed = np.where(ok, x, np.nan) + 0.0  # -0.0 + 0.0 = 0.0: no negative zero, as _parse
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


def per_scenario(ctx: Context, cols: dict[str, Coded], rows: np.ndarray, st: "Rows",
                 names: list[str], call) -> None:
    """Answer ``rows`` one distinct scenario (combination of the ``names`` columns) at a time:
    ``call(kwargs)`` with the scenario's given inputs returns {output column: value}; a user
    error fails the scenario's rows with its message. The calls share layout searches
    (plan.shared_searches), also with earlier chunks of the call (up to SHARED_SEARCHES_KEPT)."""
    if not rows.size:
        return
    sid, first = group([cols[n].take(rows) for n in names], len(rows))
    with shared_searches(searches_memo(ctx)):
        for s, r0 in enumerate(first):
            kwargs = {n: cols[n].row(rows[r0]) for n in names}
            sel = rows[sid == s]
            try:
                values = call({k: v for k, v in kwargs.items() if v is not None})
            except USER_ERRORS as exc:
                st.fail(sel, error_text(exc))
                continue
            for name, value in values.items():
                if name in st.ans.kind and value is not None:
                    st.ans.put(name, sel, value)


class Rows:
    """Per-row errors while a chunk is answered: the first error of a row wins, as the first
    error estimate meets is the one it raises."""

    def __init__(self, ans: Answers):
        self.ans = ans
        self.bad = np.zeros(ans.n, dtype=bool)

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
