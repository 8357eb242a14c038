"""Columns of scenarios and of answers: how a table of what-ifs comes in and goes out.

Scenarios arrive as columns named as ``planner.estimate``'s inputs (a pyarrow Table, a pandas
DataFrame, or the sweep's generated chunks). Inside, each column is dictionary-coded
(``Coded``: an integer code per row, -1 for null, and the distinct values), so that work
which depends on a value runs once per distinct value, not once per row.

Answers leave as one column per output of a plan (plan/fields.py), flattened with ``_`` as
report.flatten does, each with its unit in the Arrow field metadata. Unknown or infinite
numbers are null, as in ``Plan.to_dict``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import InputError
from ..plan.fields import arrow_types, schema
from ..plan.inputs import SHAPE_INPUTS

# --- inputs ---------------------------------------------------------------------------------

# The unit of each input's parsed value in a sweep's Parquet output ("" for text and plain
# counts). The inputs themselves are planner.estimate's keywords (many.INPUTS).
INPUT_UNITS = {
    "params": "parameters", "tokens": "tokens", "workload": "", "gpu": "", "gpus": "devices",
    "network": "", "site": "", "layout": "", "deadline": "s", "budget": "USD",
    "power_cap": "W", "max_gpus": "devices", "objective": "", "ownership": "",
    "price_per_gpu_hour": "USD per device-hour", "ffn_type": "", "seq_len": "tokens",
    "global_batch": "tokens", "precision": "", "allow_tp_beyond_domain": "",
    "uncertainty": "", "seed": "", "framework": "", "team": "", "pue": "",
    "energy_usd_per_kwh": "USD per kWh",
    **{k: "" for k in SHAPE_INPUTS},
}


@dataclass
class Coded:
    """One input column: ``codes[i]`` indexes ``values`` (-1: null, the input not given).
    ``values`` is a list of Python objects, or a numpy array when the column is numeric."""

    codes: np.ndarray  # int64, one per row
    values: list | np.ndarray
    per_row: bool = False  # one value per row (codes are 0..n-1 or -1): take cuts values too

    def __len__(self) -> int:
        return len(self.codes)

    def take(self, rows: np.ndarray | slice) -> "Coded":
        """The column at ``rows`` (indices, or a slice: then its codes are a view)."""
        if self.per_row:
            codes = self.codes[rows]
            return Coded(np.where(codes >= 0, np.arange(len(codes)), -1),
                         self.values[rows], True)
        return Coded(self.codes[rows], self.values)

    def row(self, i: int):
        c = int(self.codes[i])
        return None if c < 0 else _plain(self.values[c])

    def value_list(self) -> list:
        return [_plain(v) for v in self.values]


def _plain(v):
    """numpy scalars to Python, numpy arrays to lists (a cell holding several values: the
    input's own check then names it); NaN (pandas' missing number) to None."""
    if isinstance(v, np.generic):
        v = v.item()
    elif isinstance(v, np.ndarray):
        v = v.tolist()
    if isinstance(v, float) and v != v:
        return None
    if type(v).__name__ == "NAType":  # pandas' pd.NA in an object column: not given
        return None
    return v


def code_values(values) -> Coded:
    """Dictionary-code a sequence of Python values (None is null)."""
    index: dict = {}
    distinct: list = []
    codes = np.empty(len(values), dtype=np.int64)
    for i, v in enumerate(values):
        v = _plain(v)
        if v is None:
            codes[i] = -1
            continue
        key = (type(v), v) if not isinstance(v, (list, dict)) else (type(v), repr(v))
        c = index.get(key)
        if c is None:
            c = index[key] = len(distinct)
            distinct.append(v)
        codes[i] = c
    return Coded(codes, distinct)


def _hashable(kind: pa.DataType) -> bool:
    """Types that dictionary_encode codes chunk by chunk against one dictionary (every chunk
    carries the whole of it), so a chunked column is coded without joining it first."""
    return pa.types.is_string(kind) or pa.types.is_large_string(kind) \
        or pa.types.is_integer(kind) or pa.types.is_binary(kind)


# Per-row numbers, rarely repeated (a Monte Carlo's prices): coded one value per row, which
# spares a hash of every row; they are never grouped on.
ARROW_TYPES = arrow_types()  # each kind's Arrow type (plan/fields.py)
PER_ROW = frozenset({"tokens", "price_per_gpu_hour", "deadline", "budget", "power_cap"})


def code_arrow(column, per_row: bool = False) -> Coded:
    """Dictionary-code an Arrow column (Array or ChunkedArray) without a Python loop per row;
    with ``per_row``, a numeric column keeps one value per row."""
    kind = column.type
    if isinstance(column, pa.ChunkedArray) and (
            column.num_chunks <= 1 or per_row or not _hashable(kind)):
        column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    if pa.types.is_null(kind):
        return Coded(np.full(len(column), -1, dtype=np.int64), [])
    if per_row and (pa.types.is_floating(kind) or pa.types.is_integer(kind)):
        unknown = None
        if column.null_count:
            unknown = ~column.is_valid().to_numpy(zero_copy_only=False)
            column = column.fill_null(0)
        values = column.to_numpy(zero_copy_only=False)  # no copy
        if pa.types.is_floating(kind):
            nan = np.isnan(values)  # NaN is pandas' missing value
            if nan.any():
                unknown = nan if unknown is None else unknown | nan
                values = np.where(nan, 0.0, values)
        rows = np.arange(len(values))
        return Coded(rows if unknown is None else np.where(unknown, -1, rows), values, True)
    if pa.types.is_floating(kind):
        column = pc.if_else(pc.is_nan(column), None, column)  # NaN is pandas' missing value
    if pa.types.is_dictionary(kind):
        enc = column
    else:
        try:
            enc = column.dictionary_encode()
        except pa.ArrowNotImplementedError:
            return code_values(column.to_pylist())
    if isinstance(enc, pa.ChunkedArray):  # chunks coded against one dictionary (_hashable)
        indices = pa.chunked_array([c.indices for c in enc.chunks]).combine_chunks()
        dictionary = enc.chunk(0).dictionary
    else:
        indices, dictionary = enc.indices, enc.dictionary
    if indices.null_count:
        indices = pc.fill_null(indices, -1)
    codes = indices.to_numpy(zero_copy_only=False).astype(np.int64)
    if pa.types.is_integer(dictionary.type) or pa.types.is_floating(dictionary.type):
        return Coded(codes, dictionary.to_numpy(zero_copy_only=False))
    return Coded(codes, [_plain(v) for v in dictionary.to_pylist()])


def columns_of(table) -> tuple[dict[str, Coded], int]:
    """(name -> Coded, rows) of a pyarrow Table, a pandas DataFrame or a dict of sequences."""
    names = [str(n) for n in getattr(table, "column_names", None) or
             (list(table.columns) if hasattr(table, "iloc") and hasattr(table, "columns")
              else [])]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:  # which of the two would a row take? (it had been a bare KeyError)
        raise InputError(f"column '{twice[0]}'", twice[0], "each input column once",
                         "is given twice")
    if isinstance(table, pa.Table):
        return {n: code_arrow(table.column(n), n in PER_ROW)
                for n in table.column_names}, table.num_rows
    if hasattr(table, "columns") and hasattr(table, "iloc"):  # pandas, without importing it
        out = {}
        for name in table.columns:
            series = table[name]
            try:
                out[str(name)] = code_arrow(pa.array(series, from_pandas=True),
                                            str(name) in PER_ROW)
            except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed "1T" and 1e12 in one column
                out[str(name)] = code_values(series.tolist())
        return out, len(table)
    if isinstance(table, dict):
        for k, v in table.items():  # a column is a sequence of one value per row
            if isinstance(v, (str, bytes, dict)) or not hasattr(v, "__len__") or \
                    getattr(v, "ndim", 1) != 1:
                single = np.ndim(v) == 0
                raise InputError(f"column '{k}'", np.asarray(v).item() if single else None,
                                 "a sequence of one value per row (a list, a 1-D array)",
                                 "is a single value" if single else f"is a {np.ndim(v)}-D array")
        lengths = {len(v) for v in table.values()}
        if len(lengths) > 1:
            raise InputError("scenarios", {k: len(v) for k, v in table.items()},
                             "columns of one length each", "has columns of different lengths")
        # an Arrow column (a table's, or pa.array) as a table's column is read: its cells as
        # Python values (list() of it had given pyarrow scalars, which every parser refused)
        return {str(k): code_arrow(v, str(k) in PER_ROW)
                if isinstance(v, (pa.Array, pa.ChunkedArray)) else code_values(list(v))
                for k, v in table.items()}, (lengths.pop() if lengths else 0)
    raise InputError("scenarios", type(table).__name__, "a pyarrow Table, a pandas DataFrame or "
                     "a dict of columns", "is not a table" + (
                         " (one row of a DataFrame: df.iloc[[i]] keeps it a table)"
                         if hasattr(table, "iloc") else ""))


# --- outputs --------------------------------------------------------------------------------

class Answers:
    """Column buffers for n rows: floats, ints and bools with a validity mask (a float is
    valid when it is finite as written and its row not cleared since), strings as codes into
    a list of distinct values (fast to fill, decoded once by Arrow). The mask of a float is
    taken as it is written, while its values are still in cache."""

    def __init__(self, n: int, fields: list[tuple[str, str, str]]):
        self.n, self.fields = n, fields
        self.kind = {name: kind for name, kind, _ in fields}
        self.f: dict[str, np.ndarray] = {}      # buffers are made on first use
        self.i: dict[str, np.ndarray] = {}
        self.valid: dict[str, np.ndarray] = {}
        self.s: dict[str, np.ndarray] = {}
        self.words: dict[str, dict] = {name: {} for name, kind, _ in fields if kind == "str"}
        self._adopted: set = set()  # arrays taken as buffers (each at most once)
        self._keep: list = []       # ... kept alive, so their ids stay theirs
        self.same: dict = {}  # columns one value for every row (put_same): no buffers

    def _buffer(self, name: str) -> None:
        kind = self.kind[name]
        if kind == "f8":
            self.f[name] = np.full(self.n, np.nan)
            self.valid[name] = np.zeros(self.n, dtype=bool)
        elif kind == "str":
            self.s[name] = np.full(self.n, -1, dtype=np.int32)
        else:
            self.i[name] = np.zeros(self.n, dtype=np.int64)
            self.valid[name] = np.zeros(self.n, dtype=bool)

    def _own(self, values, dtype) -> np.ndarray:
        """``values`` as a whole column buffer of ``dtype``: the array itself when it is a
        whole column of that type, writeable, owning its data and not taken before (a
        result made for this column: no copy), else a copy broadcast to the column."""
        if isinstance(values, np.ndarray) and values.dtype == dtype \
                and values.shape == (self.n,) and values.flags.owndata \
                and values.flags.writeable and id(values) not in self._adopted:
            self._adopted.add(id(values))
            self._keep.append(values)  # so its id stays its own
            return values
        return np.array(np.broadcast_to(values, (self.n,)), dtype=dtype)

    def put_same(self, name: str, rows, value) -> None:
        """Set ``name`` at ``rows`` to one ``value``: where they are every row and the column
        is not written yet, kept as the value alone, its Arrow array shared by every chunk of
        the same length and value (_same_array: a sweep's assumptions, alike in every row,
        are not rebuilt chunk by chunk); else as put."""
        if _whole(_as_slice(rows), self.n) and name not in self.same and not (
                name in self.f or name in self.i or name in self.s):
            self.same[name] = value
        else:
            self.put(name, rows, value)

    def _unsame(self, name: str) -> None:
        """A column held as one value (put_same) as buffers, before a part of it changes."""
        value = self.same.pop(name)
        if value is not None:
            self.put(name, slice(0, self.n), value)

    def put(self, name: str, rows, values, valid=None) -> None:
        """Set ``name`` at ``rows`` (ascending indices) to ``values`` (scalar or array); for
        whole numbers, ``valid`` marks which are known (else NaN marks the unknown).

        A column first written whole is made from the values at once (_own), not filled
        into a blank buffer."""
        if name in self.same:
            self._unsame(name)
        kind = self.kind[name]
        rows = _as_slice(rows)
        whole = _whole(rows, self.n)
        if kind == "f8":
            if name not in self.f:
                if whole and np.ndim(values) == 0:  # one figure for every row (np.full:
                    # a quarter of the time of a broadcast copy and a pass over it)
                    value = float(values)
                    self.f[name] = np.full(self.n, value)
                    self.valid[name] = np.full(self.n, math.isfinite(value))
                    return
                if whole:
                    x = self.f[name] = self._own(values, np.float64)
                    self.valid[name] = np.isfinite(x)
                    return
                self._buffer(name)
            self.f[name][rows] = values
            self.valid[name][rows] = np.isfinite(values)
            return
        if kind == "str":
            if isinstance(values, (np.ndarray, list, tuple)):
                self.put_codes(name, rows, *_codes_of(values))
            else:
                self.put_codes(name, rows, 0, [values])
            return
        if valid is None:  # NaN (floats) or None (objects) marks the unknown
            v = np.asarray(values)
            if v.dtype.kind == "f":
                valid = np.isfinite(v)
                values = np.where(valid, v, 0).astype(np.int64)
            elif v.dtype == object:
                valid = np.array([x is not None for x in np.ravel(v)]).reshape(v.shape)
                values = np.where(valid, v, 0).astype(np.int64)
            else:
                valid = True
        if name not in self.i and whole:
            self.i[name] = self._own(values, np.int64)
            self.valid[name] = np.array(np.broadcast_to(valid, (self.n,)), dtype=bool)
            return
        if name not in self.i:
            self._buffer(name)
        self.i[name][rows] = values
        self.valid[name][rows] = valid

    def put_codes(self, name: str, rows, codes, values: list, at=None) -> None:
        """Set a text column from codes into ``values`` (-1 or a None value: null); with
        ``at``, ``codes`` are per key and row i takes ``codes[at[i]]`` (one gather)."""
        if name in self.same:
            self._unsame(name)
        words = self.words[name]
        remap = np.array([-1 if v is None else words.setdefault(str(v), len(words))
                          for v in values] + [-1], dtype=np.int32)
        rows = _as_slice(rows)
        coded = remap[np.asarray(codes)]  # -1 picks the final -1
        if at is not None:
            coded = coded.take(at)
        if name not in self.s and _whole(rows, self.n) and np.shape(coded) == (self.n,):
            self.s[name] = coded
            return
        if name not in self.s:
            self._buffer(name)
        self.s[name][rows] = coded

    def clear(self, rows) -> None:
        """Null every column at ``rows`` (bad rows keep only their error)."""
        if np.size(rows):
            for name in list(self.same):
                self._unsame(name)
        for name in self.valid:
            self.valid[name][rows] = False
        for name in self.s:
            if name != "error":
                self.s[name][rows] = -1

    def arrow(self, name: str) -> pa.Array:
        kind = self.kind[name]
        if name in self.same:
            return _same_array(self.n, kind, self.same[name])
        if kind == "f8":
            if name not in self.f:
                return _nulls(self.n, pa.float64())
            return _with_validity(pa.float64(), self.f[name], self.valid[name])
        if kind in ("i8", "bool"):
            if name not in self.i:
                return _nulls(self.n, ARROW_TYPES[kind])
            out = _with_validity(pa.int64(), self.i[name], self.valid[name])
            return out.cast(pa.bool_()) if kind == "bool" else out
        if name not in self.s:
            return _nulls(self.n, ARROW_TYPES["str"])
        codes = self.s[name]
        dictionary = pa.array(list(self.words[name]), type=pa.string())
        indices = _with_validity(pa.int32(), codes, codes >= 0)
        # codes index the words by construction: no check pass over them
        return pa.DictionaryArray.from_arrays(indices, dictionary, safe=False)

    def table(self) -> pa.Table:
        arrays = [self.arrow(name) for name, _, _ in self.fields]
        return pa.Table.from_arrays(arrays, schema=_schema_of(tuple(self.fields)))


_NULLS: dict = {}


def _nulls(n: int, kind: pa.DataType) -> pa.Array:
    """An all-null column (immutable, so shared by every chunk of the same length)."""
    key = (n, str(kind))
    if key not in _NULLS:
        if len(_NULLS) > 64:
            _NULLS.clear()
        _NULLS[key] = pa.nulls(n, kind)
    return _NULLS[key]


_SAME: dict = {}
# Arrays of one value kept for put_same (a sweep's assumption columns: ~100 of a chunk's
# 65,536 rows, ~0.5 MB each): past this many, the kept ones are dropped and made again.
SAME_ARRAYS_KEPT = 256


def _same_array(n: int, kind: str, value) -> pa.Array:
    """A column of ``n`` rows, each ``value`` (None or NaN: null), of ``kind``; immutable, so
    shared by every chunk of that length and value."""
    if value is None or (kind == "f8" and not math.isfinite(value)):
        return _nulls(n, ARROW_TYPES[kind])
    key = (n, kind, type(value), value)
    got = _SAME.get(key)
    if got is None:
        if len(_SAME) >= SAME_ARRAYS_KEPT:
            _SAME.clear()
        if kind == "str":
            got = pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)),
                                                 pa.array([str(value)], pa.string()))
        else:
            dtype = {"f8": np.float64, "i8": np.int64, "bool": np.bool_}[kind]
            got = pa.array(np.full(n, value, dtype=dtype), ARROW_TYPES[kind])
        _SAME[key] = got
    return got


def _whole(rows, n: int) -> bool:
    return isinstance(rows, slice) and rows.start == 0 and rows.stop == n and rows.step is None


def _as_slice(rows):
    """Contiguous ascending row indices as a slice (numpy assigns slices far faster)."""
    if isinstance(rows, np.ndarray) and rows.dtype.kind in "iu" and rows.ndim == 1 \
            and rows.size and rows[-1] - rows[0] + 1 == rows.size \
            and (rows.size < 3 or rows[1] - rows[0] == 1):
        return slice(int(rows[0]), int(rows[-1]) + 1)
    return rows


def _with_validity(kind: pa.DataType, values: np.ndarray, valid: np.ndarray) -> pa.Array:
    """An Arrow array over ``values`` (zero copy) with nulls where ``valid`` is false (a
    validity bitmap built in one numpy call; pa.array(mask=...) is far slower)."""
    values = np.ascontiguousarray(values)
    known = int(np.count_nonzero(valid))
    if known == len(values):
        return pa.Array.from_buffers(kind, len(values), [None, pa.py_buffer(values)])
    bitmap = pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(kind, len(values), [bitmap, pa.py_buffer(values)],
                                 null_count=len(values) - known)


def _codes_of(values) -> tuple[np.ndarray, list]:
    coded = code_values(list(values))
    return coded.codes, coded.values


@functools.lru_cache(maxsize=8)
def _schema_of(fields: tuple) -> pa.Schema:
    """schema(fields), made once for all the chunks of a call or a sweep."""
    return schema(list(fields))


def given_or(c: Coded, parsed: np.ndarray, default: np.ndarray) -> np.ndarray:
    """A per-row quantity: its parsed value where the row gives one, else ``default``."""
    if c.per_row and (c.codes >= 0).all():  # codes 0..n-1: the values as they are
        return parsed
    return np.where(c.codes >= 0, pick_codes(parsed, c.codes), default)


def pick_codes(parsed: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """parsed[codes], nan where a code is -1 (null), also when every value is null."""
    if not len(parsed):
        return np.full(np.shape(codes), np.nan)
    return np.where(codes >= 0, parsed[np.maximum(codes, 0)], np.nan)
