"""Sweep specs: a TOML file (or text, or a dict) of [fixed] inputs, [axes] and [zip], checked
against its declared schema (planner/schemas/sweep.schema.json) and its values parsed as
estimate (or budget) parses them, before any scenario is answered (many/sweep.py runs it)."""

from __future__ import annotations

import hashlib
import json
import math
import os
import tomllib
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from ..assumptions import DEFAULT
from ..assumptions import SCHEMA as ASSUMPTIONS_SCHEMA
from ..catalog import CatalogError, UnknownKeyError
from ..catalog_files import is_workload_file
from ..errors import LayoutError, did_you_mean, input_hint, toml_problem
from ..plan.hf import is_config_path
from ..plan.hf import workload as hf_workload
from ..plan.inputs import (
    INPUT_ALIASES,
    SHAPE_INPUTS,
    WORDS,
    canonical_word,
    parse_params,
    parse_seq_len,
    parse_shape_count,
    with_aliases,
    workload_file_relative,
)
from ..plan.quantities import parse_budget, parse_inventory, plain_number_problem
from ..schema import AnyOf, Anything, Boolean, Key, List, Number, SchemaError, Table, Text, check
from ..specs import PURCHASE_UNITS, TEAMS, parse_layout, team_of
from ..tuning import (
    MAX_SWEEP_SCENARIOS_LIMIT,
    SWEEP_BUDGET_ROW_S,
    SWEEP_BUDGET_SCENARIOS,
    SWEEP_CHUNK_ROWS,
    SWEEP_ESTIMATE_ROW_S,
    SWEEP_ESTIMATE_SCENARIOS,
    SWEEP_SCENARIOS,
)
from ..units import (
    InputError,
    parse_count,
    parse_fraction,
    parse_int_count,
    parse_rate,
    parse_word,
    parse_year,
)
from . import budget_rows
from .columns import INPUT_UNITS
from .estimate_many import answer, by_estimate_value, default_chunk_rows
from .scenarios import INPUTS, ROW_QUANTITIES, Context

SPEC_SECTIONS = {"fixed", "axes", "zip"}
SWEEP_WIDE = ("catalog", "assumptions")  # [fixed] keys that are not per-scenario inputs
# What a sweep answers: the inputs a scenario may give, how its rows are answered, and the
# default rows per chunk (a budget row bisects ~10 sized estimates, seconds each: small chunks
# keep every worker busy and a resume loses little; an estimate spec's rows answered by
# estimate itself take fewer than SWEEP_CHUNK_ROWS: Spec.chunk_rows).
MODES = {"estimate": (INPUTS, answer, SWEEP_CHUNK_ROWS),
         "budget": (budget_rows.INPUTS, budget_rows.answer_many, 8)}

# How each quantity input is parsed into the number its column holds (table.INPUT_UNITS): the
# per-row quantities as estimate_many parses them (scenarios.ROW_QUANTITIES), the model's
# counts and shape, and the budget mode's own.
PARSERS = {**{name: spec[0] for name, spec in ROW_QUANTITIES.items()},
           # as estimate reads them, with their ranges (70M-1000T parameters, a sequence up to
           # 128Mi, a shape count up to 16Mi: 1e30 parameters had written an error into every
           # row of a sweep that exited 0)
           "params": parse_params, "global_batch": parse_count, "seq_len": parse_seq_len,
           "usd": parse_budget, "year": parse_year, "tokens_per_param": parse_count,
           "tolerance": parse_fraction, "price_trend": parse_rate,
           "frontier_cost_growth": parse_rate,
           # each with its key: shared_experts and dense_layers take 0 (inputs.ZERO_COUNTS)
           **{k: partial(parse_shape_count, key=k) for k in SHAPE_INPUTS}}
WHOLE = {name for name, p in PARSERS.items()
         if p in (parse_int_count, parse_year, parse_seq_len)} | set(SHAPE_INPUTS) | {
    name for name, spec in ROW_QUANTITIES.items() if spec[2] == "whole"}
# Units of the budget mode's own inputs, which table.INPUT_UNITS (estimate's) does not name.
UNITS = {**INPUT_UNITS, "usd": "USD", "year": "year",
         "tokens_per_param": "tokens per parameter", "tolerance": "fraction",
         "price_trend": "orders of magnitude of FLOP per dollar a year",
         "frontier_cost_growth": "x a year"}



class SpecError(InputError):
    """A sweep spec that cannot run: names the section and key, and what is accepted."""


# --- the schema of a spec (planner/schema.py; published as planner/schemas/sweep.schema.json) -
# Each input's values by kind; the parsers check them further (units, catalog keys), and
# which inputs a mode takes is checked after (with a hint naming the other mode).
QUANTITY = AnyOf((Number(), Text()), what="a number, or a text with its unit (15T, 90d, $2.5)")
SWITCH = Boolean()
TEXT = Text(nonempty=True)
_KINDS = {"uncertainty": SWITCH, "allow_tp_beyond_domain": SWITCH, "curve": SWITCH,
          "gpu": AnyOf((TEXT, List(TEXT, min_items=1)),
                       what="an accelerator key, KEY,KEY or a list of keys"),
          "layout": AnyOf((Text(), Table(extra=Anything())),
                          what='a layout "tp=8,pp=16" or a table of its parts'),
          "inventory": AnyOf((Text(), Table(extra=QUANTITY)),
                             what='"h100-sxm=20000,b200=8000" or a table of counts'),
          "seed": Number(0, 2**63 - 1, whole=True)}
TEXTS = ("workload", "network", "site", "objective", "ownership", "ffn_type", "precision",
         "framework")


def _value(name: str):
    return _KINDS.get(name, TEXT if name in TEXTS else QUANTITY)


SWEEP_INPUTS = tuple(dict.fromkeys(INPUTS + budget_rows.INPUTS))
SCHEMA = Table({
    "mode": Key(Text(tuple(MODES)), note="estimate (the default) or budget: planner budget's "
                "question per scenario"),
    "max_scenarios": Key(Number(1, MAX_SWEEP_SCENARIOS_LIMIT, whole=True),
                         note=f"refuse a spec of more scenarios (default {SWEEP_SCENARIOS:,};"
                         f" {SWEEP_ESTIMATE_SCENARIOS:,} answered by estimate itself, "
                         f"{SWEEP_BUDGET_SCENARIOS:,} budget questions)"),
    "fixed": Key(Table({
        **{n: Key(_value(n)) for n in SWEEP_INPUTS},
        "catalog": Key(AnyOf((TEXT, List(TEXT)), what="a directory or a list of them"),
                       note="catalog directories, relative to the spec file"),
        "assumptions": Key(ASSUMPTIONS_SCHEMA),
    }, what="the [fixed] table of inputs by name")),
    "axes": Key(Table({n: Key(List(_value(n), min_items=1)) for n in SWEEP_INPUTS},
                      what="the [axes] table: lists of values by input name")),
    "zip": Key(Table({n: Key(List(_value(n), min_items=1)) for n in SWEEP_INPUTS},
                     what="the [zip] table: lists of equal length by input name")),
}, what="a sweep spec with [fixed], [axes] and [zip]")


def _place(where: str) -> str:
    """A schema path as the spec's sections read: 'axes.gpu' -> '[axes] gpu'."""
    section, _, rest = where.partition(".")
    if section in SPEC_SECTIONS:
        return f"[{section}] {rest}".rstrip()
    return where if section in ("mode", "max_scenarios") else f"[{section}]"


# --- the spec ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Spec:
    """A parsed sweep spec: inputs, axes and the zipped block, in the order written."""

    fixed: dict
    axes: tuple[tuple[str, tuple], ...]
    zipped: tuple[tuple[str, tuple], ...]
    catalog: tuple[str, ...] = ()
    assumptions: dict = field(default_factory=dict)
    mode: str = "estimate"  # or "budget": the inverse question (MODES)
    max_scenarios: int | None = None  # given: the most scenarios this spec may have
    base: str = ""  # the spec file's directory, its files' paths resolved against it

    @property
    def sizes(self) -> list[int]:
        return [len(v) for _, v in self.axes] + ([len(self.zipped[0][1])] if self.zipped else [])

    @property
    def scenarios(self) -> int:
        return math.prod(self.sizes)

    @property
    def inputs(self) -> list[str]:
        """The input columns' order: [fixed] by name, the axes as written (their order
        numbers the scenarios, and the hash records it), [zip] by name. The hash reads
        [fixed] and [zip] with their keys sorted, so a resume of the spec with them reordered
        writes its parts in the first ones' schema (in the order written, its parts had been
        of two schemas, and the dataset unreadable as one table)."""
        return sorted(self.fixed) + [n for n, _ in self.axes] + sorted(n for n, _ in self.zipped)

    def values(self) -> dict[str, list]:
        """Every input's values, by name: a fixed input's one, an axis' or zipped list's all."""
        return {**{n: [v] for n, v in self.fixed.items()},
                **{n: list(v) for n, v in self.axes + self.zipped}}

    @property
    def chunk_rows(self) -> int:
        """Rows a chunk holds by default: its mode's, and in estimate mode fewer when some rows
        are answered by ``estimate`` itself (estimate_many.default_chunk_rows)."""
        if self.mode != "estimate":
            return MODES[self.mode][2]
        values = self.values()
        return default_chunk_rows("gpus" not in values or any(
            by_estimate_value(name, v) for name, vs in values.items() for v in vs))

    def to_dict(self) -> dict:
        fixed = dict(self.fixed)
        if self.catalog:
            fixed["catalog"] = list(self.catalog)
        if self.assumptions:
            fixed["assumptions"] = dict(self.assumptions)
        out = {"fixed": fixed, "axes": {n: list(v) for n, v in self.axes}}
        if self.mode != "estimate":  # so an estimate spec keeps its hash (and its resume)
            out["mode"] = self.mode
        if self.max_scenarios is not None:
            out["max_scenarios"] = self.max_scenarios
        if self.zipped:
            out["zip"] = {n: list(v) for n, v in self.zipped}
        return out

    def record(self) -> dict:
        """The spec as a manifest records it and its hash reads it: its inputs and, since
        the axes' order sets which scenario each row is, that order when it is not the sorted
        one (the manifest's JSON sorts keys: a spec rebuilt from it had numbered its
        scenarios in another order)."""
        out = self.to_dict()
        order = [n for n, _ in self.axes]
        if order != sorted(order):  # swapped axes had resumed into the wrong scenarios
            out["axis_order"] = order
        return out

    def portable(self, v):
        """``v`` with each path inside the spec's directory (workload files, catalogs)
        relative to it, as written, in lists and tables too; anything else as given."""
        prefix = self.base.rstrip(os.sep) + os.sep if self.base else None
        if isinstance(v, str) and prefix and v.startswith(prefix):
            return os.path.relpath(v, self.base)
        if isinstance(v, list):
            return [self.portable(x) for x in v]
        if isinstance(v, dict):
            return {k: self.portable(x) for k, x in v.items()}
        return v

    @property
    def sha256(self) -> str:
        """The spec's hash, which --resume holds a dataset to (``record``; a spec with its
        axes sorted keeps its hash), with the files beside the spec (workload files,
        catalogs) by their path relative to it: the spec, its files and its output moved
        together resume where they went (they had been refused as "another spec")."""
        text = json.dumps(self.portable(self.record()), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def workload_files(self) -> dict[str, str | None]:
        """{each workload file the spec names (FILE.toml, a Hugging Face config.json), by its
        path as ``portable`` writes it: the SHA-256 of its bytes, None when it cannot be
        read}. The rows read these files beside the catalog (whose fingerprint covers its own
        files only), so their contents decide the rows as the spec's text does."""
        out: dict[str, str | None] = {}
        for v in self.values().get("workload", []):
            if not isinstance(v, str) or not (is_workload_file(v) or is_config_path(v)):
                continue
            try:
                digest = hashlib.sha256(Path(v).read_bytes()).hexdigest()
            except OSError:  # no such file: check_values names it
                digest = None
            out[self.portable(v)] = digest
        return out


def _names_a_file(spec) -> bool:
    """Whether a spec given as text or a path names a file rather than holding TOML: a Path;
    a line that is a file, ends in .toml (any case), or has none of TOML's '=' and '['
    (whatif.txt, a mistyped missing.tml: "no such file", not "not valid TOML")."""
    if isinstance(spec, Path):
        return True
    if not isinstance(spec, str) or "\n" in spec:
        return False
    try:
        if Path(spec).is_file():
            return True
    except OSError:  # a name the file system refuses (too long): TOML text, if anything
        return False
    return Path(spec).suffix.lower() == ".toml" or not any(c in spec for c in "=[")


def load_spec(spec, base: Path | None = None) -> Spec:
    """A Spec from a TOML file path, TOML text, a dict ({fixed, axes, zip}) or a Spec."""
    if isinstance(spec, Spec):
        return spec
    if isinstance(spec, str) and not spec.strip():
        raise SpecError("SPEC.toml", spec, "a TOML file with [fixed], [axes] and [zip]",
                        "is empty")
    if _names_a_file(spec):
        path = Path(spec)
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except OSError as exc:
            raise SpecError("SPEC.toml", str(spec), "a readable TOML file",
                            f"cannot be read ({exc.strerror})") from None
        except tomllib.TOMLDecodeError as exc:
            raise SpecError("SPEC.toml", str(spec), "TOML with [fixed], [axes] and [zip]",
                            toml_problem(exc, path)) from None
        except UnicodeDecodeError:
            raise SpecError("SPEC.toml", str(spec), "a TOML file (UTF-8 text)",
                            "is not UTF-8 text") from None
        return _spec(data, path.resolve().parent)
    if isinstance(spec, str):
        try:
            return _spec(tomllib.loads(spec), base or Path.cwd())
        except tomllib.TOMLDecodeError as exc:
            raise SpecError("spec", spec[:40], "TOML with [fixed], [axes] and [zip]",
                            toml_problem(exc, spec)) from None
    if isinstance(spec, dict):
        return _spec(spec, base or Path.cwd())
    raise SpecError("spec", repr(spec)[:40], "a TOML file, TOML text or a dict", "is not a spec")


def _aliased(data: dict) -> dict:
    """The spec with an input's alias (model_config) under the input's own name, in its place
    in its section (the axes' order numbers the scenarios); an alias beside its input, in
    any section, is a conflict naming the alias's section."""
    sections = [k for k in ("fixed", "axes", "zip") if isinstance(data.get(k), dict)]
    every = {n: v for k in sections for n, v in data[k].items()}
    for k in sections:  # a conflict, named in the section where the alias stands
        if any(alias in data[k] for alias in INPUT_ALIASES):
            with_aliases(every, f"[{k}] ")
    return {**data, **{k: with_aliases(data[k]) for k in sections}}


def _check_names(data: dict, mode: str) -> None:
    """Every key of [fixed], [axes] and [zip] is an input of ``mode`` (beside [fixed]'s catalog
    and assumptions); one that is not is named with the nearest input of that mode, or as an
    input of the other mode."""
    inputs = MODES[mode][0]
    for section in ("fixed", "axes", "zip"):
        table = data.get(section)
        if not isinstance(table, dict):
            continue  # the schema names a section that is not a table
        for name in table:
            if name in inputs or INPUT_ALIASES.get(name) in inputs or (
                    section == "fixed" and name in ("catalog", "assumptions")):
                continue
            hint = next((f' (an input of mode = "{m}")' for m, (known, _, _) in
                         MODES.items() if m != mode and name in known), "")
            if not hint and name in ("mode", "max_scenarios"):  # TOML put it in the table
                hint = " (a top-level key: write it before any [section])"
            hint = hint or input_hint(name, inputs)
            raise SpecError(f"[{section}] {name}", name, f"an input of {mode} by its flag name "
                            "with underscores: " + ", ".join(inputs), "is not an input" + hint)


def _spec(data: dict, base: Path) -> Spec:
    data = dict(data)
    order = data.pop("axis_order", None)  # a manifest's record of the axes' order (record)
    if order is not None:
        axes_in = dict(data.get("axes", {}))
        if not isinstance(order, list) or sorted(map(str, order)) != sorted(axes_in):
            raise SpecError("axis_order", order, "the [axes] names, each once, in the order "
                            "that numbers the scenarios", "does not list the axes")
        data["axes"] = {name: axes_in[name] for name in order}
    unknown = set(data) - SPEC_SECTIONS - {"mode", "max_scenarios"}
    if unknown:
        name = sorted(unknown)[0]
        inputs = set(MODES["estimate"][0]) | set(MODES["budget"][0])
        raise SpecError(f"[{name}]", name, "sections [fixed], [axes] and [zip], and a "
                        "top-level mode and max_scenarios", "is not a section" + (
                            " (an input: under [fixed], or a list under [axes])"
                            if name in inputs and not isinstance(data[name], dict) else ""))
    if not any(data.get(k) for k in SPEC_SECTIONS):  # an empty file had planned one row
        raise SpecError("SPEC.toml", None, "a TOML file with [fixed], [axes] and [zip]",
                        "names no input")
    mode = data.get("mode", "estimate")
    if mode in MODES:  # an input of the other mode is named as such before the schema's list
        _check_names(data, mode)
    data = _aliased(data)  # the names as given checked first: an alias's error is its own
    try:
        check(SCHEMA, data)
    except SchemaError as exc:
        raise SpecError(_place(exc.name), exc.value, exc.accepted, exc.reason) from None
    fixed = dict(data.get("fixed", {}))
    catalog = fixed.pop("catalog", ())
    catalog = (catalog,) if isinstance(catalog, str) else tuple(catalog)
    catalog = tuple(str((base / c).resolve()) for c in catalog)
    assumptions = fixed.pop("assumptions", {})

    def file_relative(name: str, value):
        return workload_file_relative(value, base) if name == "workload" else value

    fixed = {k: file_relative(k, v) for k, v in fixed.items()}
    axes = tuple((k, tuple(file_relative(k, x) for x in v))
                 for k, v in data.get("axes", {}).items())
    zipped = tuple((k, tuple(file_relative(k, x) for x in v))
                   for k, v in data.get("zip", {}).items())
    if len({len(v) for _, v in zipped}) > 1:
        raise SpecError("[zip]", {k: len(v) for k, v in zipped}, "lists of equal length",
                        "has lists of different lengths")
    seen: dict = {}
    for where, names in (("[fixed]", list(fixed)), ("[axes]", [n for n, _ in axes]),
                         ("[zip]", [n for n, _ in zipped])):
        for name in names:
            if name in seen:
                raise SpecError(f"{where} {name}", name, "each input in one section",
                                f"is also in {seen[name]}")
            seen[name] = where
    # an option's word in any case, as estimate reads it: the canonical one from here on
    # (the rows, the record and its hash; a spec of canonical words keeps its hash)
    spec = Spec({k: canonical_word(k, v) for k, v in fixed.items()},
                tuple((k, tuple(canonical_word(k, x) for x in v)) for k, v in axes),
                tuple((k, tuple(canonical_word(k, x) for x in v)) for k, v in zipped),
                catalog, assumptions, mode, data.get("max_scenarios"),
                str(base) if base is not None else "")
    given = spec.values()
    if "seed" in given and not any(given.get("uncertainty", [])):
        # it seeds the Monte Carlo, which only uncertainty runs (estimate refuses it too);
        # beside an uncertainty axis it seeds the scenarios that run one (sweep._coded)
        raise SpecError(f"{seen['seed']} seed", given["seed"] if len(given["seed"]) > 1
                        else given["seed"][0], "seed with uncertainty = true in some "
                        "scenario (it seeds the Monte Carlo of P10/P50/P90)",
                        "seeds nothing without uncertainty")
    most = spec.max_scenarios or SWEEP_SCENARIOS
    if spec.scenarios > most:
        raise SpecError("[axes]", f"{spec.scenarios:,} scenarios", f"at most {most:,} "
                        f"scenarios; raise the limit with max_scenarios = N at the top of the "
                        f"spec (up to {MAX_SWEEP_SCENARIOS_LIMIT:,})", "are too many")
    _not_too_slow(spec)
    _no_value_twice(axes, zipped, _same)  # as written: the error names both spellings
    return spec


def slow_rows(spec: Spec) -> int:
    """How many of a spec's scenarios take milliseconds or more each: in estimate mode those
    ``estimate`` answers itself (by_estimate_value: no device count, several accelerators, a
    Monte Carlo, ...), counted from the values without enumerating the product (a row is
    columnar where each of its values is); in budget mode every one. A seed alone moves no
    row: it seeds the rows that run a Monte Carlo (sweep._coded)."""
    if spec.mode != "estimate":
        return spec.scenarios
    values = spec.values()
    if "gpus" not in values:  # every cluster sized
        return spec.scenarios

    def columnar(name: str, v) -> bool:
        return name == "seed" or not by_estimate_value(name, v)

    if not all(columnar(n, v) for n, v in spec.fixed.items()):
        return spec.scenarios
    fast = math.prod(sum(columnar(n, v) for v in vs) for n, vs in spec.axes)
    if spec.zipped:
        fast *= sum(all(columnar(n, v) for (n, _), v in zip(spec.zipped, row))
                    for row in zip(*(vs for _, vs in spec.zipped)))
    return spec.scenarios - fast


def _not_too_slow(spec: Spec) -> None:
    """Refuse, before any work, a spec with more slow rows (slow_rows) than its limit
    (SWEEP_ESTIMATE_SCENARIOS, SWEEP_BUDGET_SCENARIOS, or its own max_scenarios), saying what
    they would take at their own rate, not the columnar path's."""
    slow = slow_rows(spec)
    budget = spec.mode == "budget"
    most = spec.max_scenarios or (SWEEP_BUDGET_SCENARIOS if budget else SWEEP_ESTIMATE_SCENARIOS)
    if slow <= most:
        return
    per_row = SWEEP_BUDGET_ROW_S if budget else SWEEP_ESTIMATE_ROW_S
    took = f"~{per_row * 1e3:g} ms" if per_row < 1 else f"~{per_row:g} s"
    what = ("budget questions (about ten sized estimates each" if budget else
            "of them answered by estimate itself (a cluster sized, several accelerators or a "
            "Monte Carlo")
    raise SpecError(
        "[axes]", f"{spec.scenarios:,} scenarios",
        f"at most {most:,} scenarios " + ("in mode = \"budget\"" if budget else
                                          "answered by estimate itself (a device count, "
                                          "gpus, and one accelerator answer a scenario in "
                                          "microseconds)")
        + f"; raise the limit with max_scenarios = N at the top of the spec (up to "
        f"{MAX_SWEEP_SCENARIOS_LIMIT:,})",
        f"are too many: {slow:,} {what}: {took} a row, about "
        f"{_duration(slow * per_row)} on one core)")


def _duration(seconds: float) -> str:
    """A long time in the unit that reads best: 35 days, 14 hours, 50 minutes."""
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:,.0f} days"
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:,.0f} hours"
    return f"{max(1.0, seconds / 60):,.0f} minutes"


# Inputs whose values are catalog keys, by the kind of key.
CATALOG_INPUTS = {"gpu": "accelerators", "site": "sites", "network": "networks"}
# The inputs that are one of an option's words, each read in any case as estimate reads it:
# WORDS and --unit (its record keeps the spelling given; estimate folds its case itself)
SPEC_WORDS = {**WORDS, "unit": lambda v: parse_word(v, "--unit", PURCHASE_UNITS)}


def _same(name: str, v, cat=None) -> str:
    """One key for one value however written: a quantity by its parser (16000 and "16K",
    "90d" and "2160h"), an option's word in any case ("BF16" and "bf16"), a layout by its
    parts in any order or form ({tp=8,pp=2} and "pp=2,tp=8"), a catalog key in any case
    and, given the catalog ``cat``, by its aliases too ("h100" and "h100-sxm"), a catalog
    workload in any case ("Llama3-8B" and "llama3-8b"; a workload file as written). A value
    its input refuses keys as written (check_values names it)."""
    try:
        if name in PARSERS:
            return repr(PARSERS[name](v, f"--{name.replace('_', '-')}"))
        if name in SPEC_WORDS:
            return repr(SPEC_WORDS[name](v))
        if name == "team" and team_of(v) is not None:
            return repr(team_of(v))
        if name == "layout":
            return repr(sorted(parse_layout(v).items()))
        if name in CATALOG_INPUTS:
            keys = v if isinstance(v, list) else str(v).split(",")
            keys = [cat.resolve(CATALOG_INPUTS[name], str(k)) if cat is not None
                    else str(k).strip().lower() for k in keys]
            return repr(tuple(dict.fromkeys(keys)))  # each once, as estimate takes them
        if name == "workload" and cat is not None:  # a file is no key: as written
            return repr(cat.resolve("workloads", str(v)))
    except (InputError, CatalogError):  # LayoutError and UnknownKeyError are of these
        pass
    return json.dumps(v, sort_keys=True, default=str)


def _no_value_twice(axes, zipped, same) -> None:
    """Refuse a value twice on an axis, or a [zip] row twice, by ``same``'s key (a value twice
    is a scenario twice), naming both spellings."""
    for name, values in axes:
        seen_values: dict = {}
        for v in values:
            key = same(name, v)
            if key in seen_values:
                first = seen_values[key]
                raise SpecError(f"[axes] {name}", list(values), "each value once",
                                f"gives {v!r} twice" if first == v else
                                f"gives {v!r} and {first!r}, one value twice")
            seen_values[key] = v
    if zipped:
        rows: dict = {}
        for i, row in enumerate(zip(*(v for _, v in zipped))):
            key = tuple(same(n, v) for (n, _), v in zip(zipped, row))
            if key in rows:
                raise SpecError("[zip]", {n: v for (n, _), v in zip(zipped, row)},
                                "rows that differ", f"row {i + 1} repeats row {rows[key] + 1}")
            rows[key] = i


def check_values(spec: Spec, ctx: Context) -> None:
    """Refuse a value no scenario could use (a unit typo, an unknown accelerator) before any
    work, naming the section and the input."""
    cat = ctx.catalog

    def team(v):
        if team_of(v) is None:
            raise InputError("--team", v, " or ".join(TEAMS))

    def workload(v):  # a key, FILE.toml or a Hugging Face config.json, as estimate takes
        return hf_workload(v, {}, DEFAULT.seq_len) if is_config_path(v) else cat.workload(v)

    checks = {"gpu": lambda v: [cat.accelerator(g) for g in
                                (v if isinstance(v, list) else str(v).split(","))],
              "site": cat.site, "network": cat.network, "workload": workload,
              "layout": parse_layout,
              # enumerations, in any case as estimate reads them: a typo refused before
              # any work, not on every row (fp9 had written an error into each row of a
              # sweep and exited 0)
              **SPEC_WORDS, "team": team,
              "inventory": lambda v: parse_inventory(v, cat)}
    sections = [("[fixed]", {k: [v] for k, v in spec.fixed.items()}),
                ("[axes]", dict(spec.axes)), ("[zip]", dict(spec.zipped))]
    for where, inputs in sections:
        for name, values in inputs.items():
            check = PARSERS.get(name) or checks.get(name)
            if check is None:
                continue
            for v in values:
                plain = plain_number_problem(name, v)
                if plain is not None:
                    # a plain number is SI (seconds, watts): 90 meant as days is 90 seconds
                    raise SpecError(f"{where} {name}", v, plain.accepted, plain.reason)
                try:
                    check(v, f"--{name.replace('_', '-')}") if name in PARSERS else check(v)
                except UnknownKeyError as exc:
                    # the key that is unknown, when the value lists several (["b200", "nope"])
                    key = exc.key if isinstance(exc.key, str) else v
                    near = did_you_mean(key, exc.known)
                    unknown = (f"names '{key}', not a known {exc.kind[:-1]}" if key != v
                               else f"is not a known {exc.kind[:-1]}")
                    raise SpecError(f"{where} {name}", v, ", ".join(exc.known), unknown
                                    + (f" (did you mean {near}?)" if near else "")) from None
                except InputError as exc:
                    raise SpecError(f"{where} {name}", v, exc.accepted, exc.reason) from None
                except LayoutError as exc:
                    raise SpecError(f"{where} {name}", v, exc.accepted, exc.reason) from None
                except CatalogError as exc:  # the file the value names is broken: say which
                    raise SpecError(f"{where} {name}", v, getattr(exc, "accepted", None)
                                    or "a value naming a valid catalog file",
                                    f"names a catalog file that is refused: "
                                    f"{str(exc).split('; accepted:')[0]}") from None
    # a value twice by the catalog's aliases ("h100" and "h100-sxm"), which load_spec, with
    # no catalog, cannot see (it sees case, layouts and units): each scenario had run twice
    _no_value_twice(spec.axes, spec.zipped, lambda name, v: _same(name, v, cat))
