"""One declaration of what a user's file may hold: checked here, published as JSON Schema.

Catalog files (planner/catalog_files.py), sweep specs (many/sweep.py), fleet files (fleet/spec.py)
and the assumptions (planner/assumptions.py) declare their keys with the nodes below, in
Python data: a ``Number`` with its valid range and whether it must be whole, a ``Text`` with
its choices, a ``Table`` of named keys (unknown keys are an error), a ``List``, ``AnyOf``.
``check`` interprets a declaration against parsed TOML (or a dict) and raises ``SchemaError``
naming the place (``sites[0].pue``), the value and what is accepted; ``json_schema`` turns the
same declaration into a JSON Schema (draft-07) document, which ``planner/schemas/``
publishes so that an editor checks a catalog or spec as it is typed (tests/test_schemas.py
holds the published files to the declarations; ``uv run python tests/test_schemas.py``
writes them). Standard library only: checking a catalog file takes microseconds.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from types import MappingProxyType
from typing import Any as AnyType
from typing import Callable, Mapping

from .errors import InputError, did_you_mean

__all__ = ["SchemaError", "Number", "Text", "any_case", "Boolean", "TomlDate", "List", "Table",
           "Key", "AnyOf", "Anything", "check", "plain", "json_schema", "document",
           "check_output_path", "check_output_given"]

JSON_SCHEMA_DRAFT = "http://json-schema.org/draft-07/schema#"  # what editors (VS Code, Taplo) read


class SchemaError(InputError):
    """A value that breaks its declaration: names the place, the value and what is accepted."""


def _node(cls):
    """A declaration node: fields from the class's annotations, with its defaults, compared
    and hashed by value (a dataclass without the ~0.5 ms per class its generated code costs
    at import: this module is imported by every command)."""
    names = tuple(cls.__annotations__)
    defaults = {n: cls.__dict__[n] for n in names if n in cls.__dict__}

    def __init__(self, *args, **kwargs):
        values = {**defaults, **dict(zip(names, args)), **kwargs}
        missing = [n for n in names if n not in values]
        if missing or len(args) > len(names) or set(kwargs) - set(names):
            raise TypeError(f"{cls.__name__}: bad arguments {args!r} {kwargs!r}")
        for n in names:
            object.__setattr__(self, n, values[n])

    def __setattr__(self, name, value):
        raise AttributeError(f"{cls.__name__} is immutable")

    def key(self):
        return tuple(tuple(v.items()) if isinstance(v := getattr(self, n), Mapping) else v
                     for n in names)

    cls.__init__, cls.__setattr__ = __init__, __setattr__
    cls.__eq__ = lambda self, other: type(self) is type(other) and key(self) == key(other)
    cls.__hash__ = lambda self: hash((cls.__name__, key(self)))
    cls.__repr__ = lambda self: f"{cls.__name__}(" + ", ".join(
        f"{n}={getattr(self, n)!r}" for n in names if getattr(self, n) != defaults.get(n, ...)
    ) + ")"
    return cls


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() and abs(x) >= 1e4 and abs(x) < 1e16 \
        else f"{x:g}"


@_node
class Number:
    """A finite number in a range; ``whole`` for counts. ``low_open``/``high_open``: the bound
    itself is excluded. ``unknown``: NaN is accepted and means unknown (never made up)."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    whole: bool = False
    note: str = ""
    unknown: bool = False

    def accepted(self) -> str:
        kind = "a whole number" if self.whole else "a number"
        lo, hi = self.low, self.high
        if lo is not None and hi is not None:
            text = (f"{kind} in {'(' if self.low_open else '['}{_fmt(lo)}, {_fmt(hi)}"
                    f"{')' if self.high_open else ']'}")
        elif lo is not None:
            text = f"{kind} {'>' if self.low_open else '>='} {_fmt(lo)}"
        elif hi is not None:
            text = f"{kind} {'<' if self.high_open else '<='} {_fmt(hi)}"
        else:
            text = f"a finite {kind[2:]}"
        return text + (f" ({self.note})" if self.note else "")

    def problem(self, value) -> str | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return "is not a number"
        if isinstance(value, float) and math.isnan(value):
            return None if self.unknown else "is not a number"
        if isinstance(value, int) and value.bit_length() > 1023:  # beyond any float
            return "is too large" if value > 0 else "is negative"
        if not math.isfinite(value):
            return "is not finite"
        if self.whole and not float(value).is_integer():
            return "is not a whole number"
        lo, hi = self.low, self.high
        if lo is not None and (value < lo or (self.low_open and value == lo)):
            return "is too small" if value >= 0 or lo < 0 else "is negative"
        if hi is not None and (value > hi or (self.high_open and value == hi)):
            return "is too large"
        return None

    def schema(self) -> dict:
        out: dict = {"type": "integer" if self.whole else "number"}
        if self.low is not None:
            out["exclusiveMinimum" if self.low_open else "minimum"] = self.low
        if self.high is not None:
            out["exclusiveMaximum" if self.high_open else "maximum"] = self.high
        return out


class UnitSlip(Number):
    """A figure's physical range whose refusal names the unit slip a value outside it most
    likely is (``slip``: value, reason -> the reason with the slip named), as "peak 0.99 is
    too small" says nothing of the PFLOP/s typed for TFLOP/s. Module-level subclasses, one a
    figure, so that a declaration stays plain data (picklable, compared by value)."""

    def slip(self, value, reason: str) -> str:
        return reason

    def problem(self, value) -> str | None:
        reason = super().problem(value)
        return self.slip(value, reason) if reason in ("is too small", "is too large") \
            else reason


class GridKgCo2PerMwh(UnitSlip):
    """0 (a carbon-free supply: a market-based figure, a site on its own dam) or 1..1,500: a
    site file's figure and the assumption that replaces it (--assume, a config file) alike."""

    def slip(self, value, reason):
        if reason == "is too large":
            return ("is too large: above any fuel's own emissions (lignite ~1,200 kg/MWh): "
                    "lb/MWh (divide by 2.205) or g/MWh (divide by 1,000)?")
        return reason

    def problem(self, value) -> str | None:
        reason = super().problem(value)
        if reason is None and 0 < value < 1:
            return (f"is below any supply's but a carbon-free one's (0): kg/kWh or t/MWh "
                    f"typed as kg/MWh? ({value:g} kg/kWh is {value * 1e3:,g} kg/MWh)")
        return reason

    def accepted(self) -> str:
        return (f"0 (a carbon-free supply) or a number in [1, {self.high:,.0f}] "
                f"({self.note})")

    def schema(self) -> dict:
        return {"anyOf": [{"type": "number", "minimum": 0, "maximum": 0},
                          {"type": "number", "minimum": 1, "maximum": self.high}]}


@_node
class Text:
    """A string: one of ``choices`` when given, matching ``pattern`` when given."""

    choices: tuple = ()
    pattern: str | None = None
    nonempty: bool = False
    note: str = ""

    def accepted(self) -> str:
        if self.choices:
            return "one of " + ", ".join(f'"{c}"' for c in self.choices)
        return (self.note or ("a non-empty text" if self.nonempty else "a text"))

    def problem(self, value) -> str | None:
        if not isinstance(value, str):
            return "is not a text"
        if self.choices and value not in self.choices:
            return "is not one of the choices"
        if self.nonempty and not value.strip():
            return "is empty"
        if self.pattern and not re.fullmatch(self.pattern, value):
            return "does not have the form"
        return None

    def schema(self) -> dict:
        out: dict = {"type": "string"}
        if self.choices:
            out["enum"] = list(self.choices)
        if self.pattern:
            out["pattern"] = f"^(?:{self.pattern})$"
        if self.nonempty:
            out["minLength"] = 1
        return out


def any_case(word: str) -> str:
    """A regular expression of ``word`` in any case, in the syntax JSON Schema's pattern
    shares with Python's (ECMA-262 has no inline case flag): 'fp8' -> '[fF][pP]8'."""
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in word)


@_node
class Boolean:
    note: str = ""

    def accepted(self) -> str:
        return "true or false"

    def problem(self, value) -> str | None:
        return None if isinstance(value, bool) else "is not true or false"

    def schema(self) -> dict:
        return {"type": "boolean"}


@_node
class TomlDate:
    """A TOML date (``start = 2027-01-01``), which JSON Schema sees as a dated string."""

    note: str = ""

    def accepted(self) -> str:
        return "a TOML date"

    def problem(self, value) -> str | None:
        import datetime

        return None if isinstance(value, datetime.date) else "is not a date"

    def schema(self) -> dict:
        return {"type": "string", "format": "date"}


@_node
class Anything:
    """Any value (checked by a parser of its own, e.g. a quantity with units)."""

    note: str = ""

    def accepted(self) -> str:
        return self.note or "any value"

    def problem(self, value) -> str | None:
        return None

    def schema(self) -> dict:
        return {}


@_node
class List:
    item: AnyType
    min_items: int = 0
    note: str = ""

    def accepted(self) -> str:
        return f"a {'non-empty ' if self.min_items else ''}list of {self.item.accepted()}"

    def problem(self, value) -> str | None:
        if not isinstance(value, list):
            return "is not a list"
        if len(value) < self.min_items:
            return "is empty" if not value else "is too short"
        return None

    def schema(self) -> dict:
        out = {"type": "array", "items": json_schema(self.item)}
        if self.min_items:
            out["minItems"] = self.min_items
        return out


@_node
class Key:
    """One key of a table: its value's declaration and whether the table must have it."""

    node: AnyType
    required: bool = False
    note: str = ""


@_node
class Table:
    """A table of named keys; ``extra`` declares the value of any other key (a map, such as a
    site's deliveries per accelerator), else other keys are an error. ``rule`` checks the
    table as a whole (e.g. low <= value <= high) and returns (key, reason) or None; it is
    not expressible in JSON Schema and is checked here only."""

    keys: Mapping[str, Key] = MappingProxyType({})
    extra: AnyType = None
    what: str = "a table"
    note: str = ""
    rule: Callable | None = None

    def accepted(self) -> str:
        return self.what

    def problem(self, value) -> str | None:
        return None if isinstance(value, dict) else f"is not {self.what}"

    def schema(self) -> dict:
        out: dict = {"type": "object"}
        if self.keys:
            out["properties"] = {k: _described(json_schema(v.node), v.note or v.node.note)
                                 for k, v in self.keys.items()}
        required = [k for k, v in self.keys.items() if v.required]
        if required:
            out["required"] = required
        out["additionalProperties"] = json_schema(self.extra) if self.extra is not None \
            else False
        return out


@_node
class AnyOf:
    options: tuple
    what: str = ""
    note: str = ""

    def accepted(self) -> str:
        return self.what or " or ".join(o.accepted() for o in self.options)

    def problem(self, value) -> str | None:
        for o in self.options:
            try:
                check(o, value, "")
                return None
            except SchemaError:
                continue
        return f"is not {self.accepted()}"

    def schema(self) -> dict:
        return {"anyOf": [json_schema(o) for o in self.options]}


def _described(schema: dict, note: str) -> dict:
    return {**schema, "description": note} if note else schema


def _join(where: str, key) -> str:
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else str(key)


# A value's type -> the node of its kind, for an AnyOf's message (check): a table checks
# against its Table option (a step function's dates), whose message names the key inside it.
_KINDS = {dict: Table}


def plain(value):
    """``value`` with numpy's scalars as Python's, inside dicts, lists and tuples too: the
    numbers a modeller takes out of a DataFrame row (np.int64(4096), np.float32(1.2)) are
    numbers as the declarations take them (they had been refused as "not a number"); an
    array of more than one element stays as it is."""
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(plain(v) for v in value)
    if type(value).__module__ == "numpy" and getattr(value, "shape", None) == () \
            and hasattr(value, "item"):
        return value.item()
    return value


def check(node, value, where: str = "") -> None:
    """Check ``value`` against its declaration; the first problem raises SchemaError naming
    its place (``where`` and the keys and list indices below it)."""
    if isinstance(node, Number | Text | Boolean | TomlDate | Anything) or \
            isinstance(node, AnyOf):
        reason = node.problem(value)
        if reason and isinstance(node, AnyOf):
            # the one option of the value's own kind says what is wrong with it, where it is
            # (power_mw = { "2027-01" = -50 }: that date's -50 is negative, not "is not MW, or
            # a table of dates")
            kind = _KINDS.get(type(value))
            mine = [o for o in node.options if kind is not None and isinstance(o, kind)]
            if len(mine) == 1:
                check(mine[0], value, where)
            # a number against the one Number option: its reason ("is negative"), the
            # AnyOf's accepted forms
            numbers = [o for o in node.options if isinstance(o, Number)]
            if isinstance(value, int | float) and not isinstance(value, bool) \
                    and len(numbers) == 1:
                reason = numbers[0].problem(value) or reason
        if reason:
            raise SchemaError(where or "value", value, node.accepted(), reason)
        return
    if isinstance(node, List):
        reason = node.problem(value)
        if reason:
            raise SchemaError(where or "value", value, node.accepted(), reason)
        for i, item in enumerate(value):
            check(node.item, item, _join(where, i))
        return
    if isinstance(node, Table):
        reason = node.problem(value)
        if reason:
            raise SchemaError(where or "file", value, node.accepted(), reason)
        if node.extra is None:  # an unknown key first: most likely a typo of a known one
            for k, item in value.items():
                if k not in node.keys:
                    near = did_you_mean(k, node.keys)
                    raise SchemaError(_join(where, k),
                                      _Short(item) if isinstance(item, dict) else item,
                                      "one of the keys "
                                      + ", ".join(node.keys), "is an unknown key"
                                      + (f" (did you mean {near}?)" if near else ""))
        for k, spec in node.keys.items():
            if spec.required and k not in value:  # named as the key it lacks, not the table
                raise SchemaError(_join(where, k), None, f"{node.what} with "
                                  + ", ".join(f"'{r}'" for r, s in node.keys.items()
                                              if s.required), "is missing (required)")
        for k, item in value.items():
            spec = node.keys.get(k)
            check(spec.node if spec is not None else node.extra, item, _join(where, k))
        if node.rule is not None:
            found = node.rule(value)
            if found:
                key, reason, accepted = found
                item = value.get(key)
                if isinstance(item, dict):  # a sourced figure: its value
                    key, item = f"{key}.value", item.get("value", _Short(item))
                raise SchemaError(_join(where, key), item, accepted, reason)
        return
    raise TypeError(f"not a schema node: {node!r}")


class _Short:
    """A table in an error message: its keys, not its (long, sourced) text."""

    def __init__(self, table: dict):
        self.keys = list(table)

    def __repr__(self) -> str:
        return "{" + ", ".join(f"{k} = ..." for k in self.keys) + "}"


def json_schema(node) -> dict:
    """The JSON Schema of a declaration (without the document's header)."""
    if node is None:
        return {}
    return _described(node.schema(), node.note)


def document(node, title: str, description: str) -> dict:
    """A published JSON Schema document: header, title, description, the declaration."""
    return {"$schema": JSON_SCHEMA_DRAFT, "title": title, "description": description,
            **json_schema(node)}


# --- output locations -------------------------------------------------------------------------

# What a chart can be written as: matplotlib's formats, by the file's suffix (charts.py)
CHART_SUFFIXES = (".png", ".svg", ".pdf")


def check_output_suffix(path, name: str, suffixes: tuple[str, ...]) -> Path:
    """An output file whose kind its suffix names (a chart's .png, .svg or .pdf; a table's
    .parquet), checked before any work: a .txt chart had failed after the whole solve, and a
    .csv table had been written as Parquet."""
    p = Path(path)
    if p.suffix.lower() not in suffixes:
        raise InputError(name, str(path), "a file name ending in " + ", ".join(suffixes),
                         "has another suffix" if p.suffix else "has no suffix")
    return p


def check_output_given(path, name: str, accepted: str) -> None:
    """Refuse an output path given as an empty text, as an empty flag is refused: Path("") is
    the current directory, where -o "" (and planner.sweep(spec, "")) had written a sweep."""
    if isinstance(path, str) and not path:
        raise InputError(name, path, accepted, "is empty")


def check_output_path(path, name: str, directory: bool = False) -> Path:
    """An output location a command will write: its folder must exist and be writable (a
    directory output may be created inside an existing, writable folder). Checked before any
    work, so a long run never ends in a write error."""
    p = Path(path)
    accepted = ("a path in an existing, writable folder" if not directory else
                "a directory that is writable, or a new one inside a writable folder")
    check_output_given(path, name, accepted)
    if directory and p.exists():
        if not p.is_dir():
            raise InputError(name, str(path), accepted, "exists and is not a directory")
        if not os.access(p, os.W_OK | os.X_OK):
            raise InputError(name, str(path), accepted, "is not writable")
        return p
    if not directory and p.is_dir():
        raise InputError(name, str(path), accepted, "is a directory")
    parent = p.absolute().parent
    if directory:  # created with its parents: the nearest folder that exists decides
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
    if parent.exists() and not parent.is_dir():
        raise InputError(name, str(path), accepted, f"is inside a file ({parent})")
    if not parent.is_dir():
        raise InputError(name, str(path), accepted, f"is in a folder that does not exist "
                         f"({parent})")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(name, str(path), accepted, f"is in a folder that is not writable "
                         f"({parent})")
    if p.exists() and not os.access(p, os.W_OK):
        raise InputError(name, str(path), accepted, "exists and is not writable")
    return p
