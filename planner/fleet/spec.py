"""Fleet files (docs/interface.md, "Fleet spec"): parsing with strict keys, and the step grid.

Dates are YYYY-MM or YYYY-MM-DD. A month means its first day for `start`, `earliest`, and the
dates of power and deliveries, and its end (the first day of the next month) for `end` and
`deadline`: "deadline = 2027-12" is "by the end of December 2027". On the grid, what arrives
during a step (power, devices) counts from the next step and a deadline falls back to the last
step boundary before it: every rounding is conservative, so a schedule valid on the grid is
valid in time. A site's power or deliveries may be a plain number (all there from the start).
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from ..assumptions import DEFAULT, Assumptions
from ..catalog import Catalog, UnknownKeyError
from ..catalog import catalog as load_catalog
from ..errors import PrecisionError, toml_problem
from ..plan.inputs import (
    SHAPE_INPUTS,
    assumptions_for,
    parse_precision,
    resolve_workload,
    workload_file_relative,
)
from ..plan.quantities import check_gpus
from ..schema import (
    AnyOf,
    Boolean,
    Key,
    List,
    Number,
    SchemaError,
    Table,
    Text,
    TomlDate,
    any_case,
    check,
    plain,
)
from ..specs import PRECISIONS
from ..units import (
    MAX_DEVICES,
    MAX_ENERGY_USD_PER_KWH,
    MAX_POWER_W,
    MAX_PUE,
    SECONDS_PER_DAY,
    InputError,
    ascii_float,
    parse_duration_s,
    parse_int_count,
    parse_power_w,
)
from .model import WEIGHT_RESOLUTION, FleetSettings

__all__ = ["FleetSpec", "RunSpec", "SiteSpec", "parse_date", "load", "solver_settings",
           "on_grid", "step_at_or_after", "step_at_or_before"]

# How a fleet raises the assumption max_gpus (planner schedule has no --assume).
RAISE_MAX_GPUS = ("a config file's [assumptions] max_gpus = N, or planner.schedule's "
                  "assumptions={\"max_gpus\": N}")

# A run's weight when the file gives none: every run counts the same.
DEFAULT_WEIGHT = 1.0

# the MoE shape rule's inputs, as estimate's --experts, --top-k and --shared-experts
MOE_KEYS = ("experts", "top_k", "shared_experts")
ESTIMATE_INPUTS = ("params", "tokens", "workload", "seq_len", "global_batch", "precision",
                   *MOE_KEYS)

# --- the schema of a fleet file (planner/schema.py; planner/schemas/fleet.schema.json) ---------
DATE = AnyOf((Text(pattern=r"[0-9]{4}-[0-9]{1,2}(-[0-9]{1,2})?"), TomlDate()),
             what="a date YYYY-MM or YYYY-MM-DD (e.g. 2027-03 or 2027-03-15)")
QUANTITY = AnyOf((Number(0, low_open=True), Text(nonempty=True)),
                 what="a positive number, or a text with its unit (3T, 40T)")
COUNT = AnyOf((Number(1, MAX_DEVICES, whole=True), Text(nonempty=True)),
              what="a whole number of devices of at least 1, or a text such as 20K")
MEGAWATTS = AnyOf((Number(0, MAX_POWER_W / 1e6), Text(nonempty=True)),
                  what="megawatts (0: no power for a while), or a power with its unit (150MW)")


def in_file_words(text: str | None) -> str | None:
    """An estimate message in a fleet file's words: its flags (--params, --global-batch) as
    the run's keys (params, global_batch); a shape flag a run has no key for (--expert-ffn),
    or a list of them (a shape: --layers --hidden ...), as the workload file that would give
    them; an assumption (--assume seq_len) by its name, as the schedule takes it (a run had
    been told to give keys its table refuses: expert_ffn, "assume seq_len")."""
    if text is None:
        return None

    def key(flag: str) -> str:
        return flag.replace("-", "_")

    def group(m: re.Match) -> str:
        keys = [key(f) for f in re.findall(r"--([a-z][a-z-]*)", m.group(0))]
        if all(k in RUN.keys for k in keys):
            return "(" + " ".join(keys) + ")"
        return ("(a workload file giving " + ", ".join(keys) + ": workload = "
                "\"FILE.toml\", laid out as workloads/*.toml)")

    def word(m: re.Match) -> str:
        k = key(m.group(2))
        if k in RUN.keys:  # estimate's --global-batch: the run's global_batch
            return k
        if k in SHAPE_INPUTS:  # a shape is a workload file's, never a run's key
            return f"a workload file's {k}"
        return (m.group(1) or "") + k

    text = re.sub(r"--assume ([a-z_]+)(?:=N\b)?", r"the assumption \1", text)
    text = re.sub(r"\((?:--[a-z][a-z-]*\s*)+\)", group, text)
    return re.sub(r"(estimate's )?--([a-z][a-z-]*)", word, text)


def run_input_error(where: str, raw: dict, exc: InputError) -> InputError:
    """estimate's refusal of a run's workload inputs in the file's words, named by the run's
    key. A shape input a run has no key for (expert_ffn, expert_groups) is one the MoE keys
    (experts, top_k, shared_experts) beside a workload made it need, as estimate's flags over
    --workload change its shape: named by those keys, with the way the file can give it (a
    run had been told that expert_ffn is missing, then that expert_ffn is an unknown key)."""
    key = exc.name.lstrip("-").replace("-", "_") if exc.name.startswith("--") else exc.name
    if key in SHAPE_INPUTS and key not in RUN.keys:
        moe = [k for k in MOE_KEYS if k in raw] or ["workload"]
        workload = raw.get("workload")
        problem = in_file_words(exc.reason) or "is missing"
        # the file's [architecture] keys, as the flags name them (--expert-groups: its
        # expert_groups)
        need = re.sub(r"--([a-z][a-z-]*)", lambda m: m.group(1).replace("-", "_"),
                      exc.accepted)
        return InputError(
            f"{where}.{moe[0]}", raw.get(moe[0]),
            f"{', '.join(MOE_KEYS[:-1])} and {MOE_KEYS[-1]} with params (a mixture of "
            f"experts by the MoE shape rule), or the whole shape in a workload file "
            f"(workload = \"FILE.toml\", laid out as workloads/*.toml, its [architecture] "
            f"giving {key}: {need})",
            f"changes workload {workload}'s shape, whose {key} then {problem}; a run has no "
            f"{key} key")
    return InputError(f"{where}.{key}", exc.value, in_file_words(exc.accepted),
                      in_file_words(exc.reason))


def series(value, what: str):
    """A plain value (there from the start) or a step function { "YYYY-MM" = value, ... }."""
    return AnyOf((value, Table(extra=value, what="a table of dates")),
                 what=f"{what}, or {{ \"YYYY-MM\" = {what}, ... }}")


SITE = Table({
    "name": Key(Text(nonempty=True), required=True),
    "pue": Key(Number(1, MAX_PUE, note="facility power / IT power, annual")),
    "peak_pue": Key(Number(1, MAX_PUE, note="at full IT load on the design day (default: pue "
                                            "+ peak_pue_uplift)")),
    "energy_usd_per_kwh": Key(Number(0, MAX_ENERGY_USD_PER_KWH, note="USD per kWh")),
    "power_mw": Key(series(MEGAWATTS, "MW"), required=True),
    "deliveries": Key(Table(extra=series(COUNT, "devices"),
                            what="a table of deliveries by accelerator key")),
}, what="a site with name and power_mw")
RUN = Table({
    "name": Key(Text(nonempty=True), required=True), "params": Key(QUANTITY),
    "tokens": Key(QUANTITY), "workload": Key(Text(nonempty=True)), "earliest": Key(DATE),
    "deadline": Key(DATE, note="the end of this month or day"),
    "weight": Key(Number(WEIGHT_RESOLUTION, 1e6, note="lateness weight, counted in hundredths "
                         "(CP-SAT takes whole numbers: a smaller weight would count as none)")),
    "gpus": Key(AnyOf((COUNT, List(COUNT, min_items=1)),
                      what="a size or a list of sizes, each a whole number of devices of at "
                           "least 1 or a text such as 20K")),
    "gpu": Key(AnyOf((Text(nonempty=True), List(Text(nonempty=True), min_items=1)),
                     what="an accelerator key, KEY,KEY or a list of keys")),
    "seq_len": Key(AnyOf((Number(0, low_open=True), Text(nonempty=True)),
                         what="a positive number of tokens (8192, or 8K)")),
    "global_batch": Key(AnyOf((Number(0, low_open=True), Text(nonempty=True)),
                              what="a positive number of tokens (16777216, or 16M)")),
    # any case, as estimate's --precision takes it (parsed with the run, plan.inputs)
    "precision": Key(Text(pattern="|".join(any_case(p) for p in PRECISIONS),
                          note="one of " + ", ".join(PRECISIONS) + " (any case)")),
    # a mixture of experts by its parameter count: the MoE shape rule's inputs, as estimate's
    # --experts, --top-k and --shared-experts
    # (each at least 1, as the flags take them: 0 had been let in as "none" and refused after)
    **{k: Key(AnyOf((Number(1, whole=True), Text(nonempty=True)),
                    what="a positive whole number (8, or 64)"))
       for k in MOE_KEYS},
}, what="a run with a name")
SOLVER = Table({
    "time_limit_s": Key(Number(0, low_open=True, note="seconds")),
    "workers": Key(Number(1, 1024, whole=True)), "seed": Key(Number(0, 2**31 - 1, whole=True)),
    "deterministic": Key(Boolean(), note="the time limit in CP-SAT's deterministic time: the "
                         "same file gives the same schedule even when the limit binds, in a "
                         "wall time several times the limit"),
}, what="the [solver] table")
SCHEMA = Table({
    "start": Key(DATE, required=True), "end": Key(DATE, required=True),
    "step": Key(Text(nonempty=True, note="whole days: 1d, 1w, 2w")),
    "sites": Key(List(SITE), required=True),
    "runs": Key(List(RUN), required=True), "solver": Key(SOLVER),
}, what="a fleet file with start, end, sites and runs (docs/interface.md, Fleet spec)")



# --- the fleet file -------------------------------------------------------------------------

@dataclass(frozen=True)
class SiteSpec:
    name: str
    pue: float  # annualised: the energy bill's
    peak_pue: float  # design-day at full IT load: what power_mw is checked against
    energy_usd_per_kwh: float
    power_mw: tuple  # ((date, MW from then on), ...) sorted: the site's peak supply
    deliveries: dict  # accelerator -> ((date, devices delivered then), ...)


@dataclass(frozen=True)
class RunSpec:
    name: str
    inputs: tuple  # ((estimate keyword, value), ...): the workload
    earliest: date
    deadline: date  # the instant by which it should end
    weight: float
    gpus: tuple | None  # size options; None: chosen around the window (planning_mfu)
    accelerators: tuple | None  # allowed types; None: any type delivered to a site
    # its table in the file ("lab.toml.runs[1]"): what a reason found after loading names
    table: str | None = None


@dataclass(frozen=True)
class FleetSpec:
    start: date
    end: date  # exclusive
    step_days: int
    sites: tuple
    runs: tuple
    settings: FleetSettings = FleetSettings()

    @property
    def steps(self) -> int:
        return (self.end - self.start).days // self.step_days

    def step_start(self, t: int) -> date:
        return self.start + timedelta(days=t * self.step_days)

    @property
    def last_day(self) -> date:
        """The horizon's last day: the last whole step's (a step that does not divide the
        horizon leaves the days after it out, as runs hold whole steps)."""
        return self.step_start(self.steps) - timedelta(days=1)

    def last_day_text(self) -> str:
        """'2028-12-28', with the end the file gave when whole steps cut it."""
        given = self.end - timedelta(days=1)
        cut = f" (the end, {given}, cut to whole steps)" if given != self.last_day else ""
        return f"{self.last_day}{cut}"


_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})(?:-([0-9]{1,2}))?")  # ASCII digits only


# The years a fleet's dates may name: training runs of the past (backtests) to a long plan.
FLEET_YEARS = (2000, 2199)


def parse_date(value, name: str, end: bool = False) -> date:
    """YYYY-MM or YYYY-MM-DD (or a TOML date). A month alone is its first day, or with
    `end` the first day of the next month (the month's end); a day with `end` is the next
    day (the day's end: a deadline of 2027-03-04 allows that day)."""
    if isinstance(value, datetime):
        value = value.date()
    accepted = "a date YYYY-MM or YYYY-MM-DD (e.g. 2027-03 or 2027-03-15)"

    def in_years(year: int, given) -> None:  # 9999-12's month end had crashed (year 10000)
        if not FLEET_YEARS[0] <= year <= FLEET_YEARS[1]:
            raise InputError(name, given, f"{accepted}, in the years {FLEET_YEARS[0]}-"
                             f"{FLEET_YEARS[1]}", "is outside the years a fleet plans")

    if isinstance(value, date):
        in_years(value.year, value.isoformat())
        return value + timedelta(days=1) if end else value
    m = _DATE.fullmatch(str(value).strip())
    if not m:
        raise InputError(name, value, accepted)
    y, mo, d = int(m.group(1)), int(m.group(2)), m.group(3)
    in_years(y, value)
    try:
        if d is not None:
            day = date(y, mo, int(d))
            return day + timedelta(days=1) if end else day
        first = date(y, mo, 1)
    except ValueError:
        raise InputError(name, value, accepted, "is not a calendar date") from None
    if not end:
        return first
    return date(y + (mo == 12), mo % 12 + 1, 1)


def _positive(value, name: str, zero: bool = False) -> float:
    """A finite number above 0 (or, with ``zero``, at least 0: free power, a site without
    power for a while)."""
    accepted = "a number >= 0" if zero else "a positive number"
    try:
        x = ascii_float(value)  # ASCII digits alone ('１０' had read as 10)
    except (TypeError, ValueError):
        raise InputError(name, value, accepted) from None
    if not math.isfinite(x) or x < 0 or (x == 0 and not zero) or isinstance(value, bool):
        raise InputError(name, value, accepted)
    return x


def _series(table, name: str, parse_value, start: date | None = None) -> tuple:
    """{date: value, ...} -> ((date, value), ...) sorted by date; a plain value holds from
    `start` on."""
    if start is not None and not isinstance(table, dict):
        return ((start, parse_value(table, name)),)
    if not isinstance(table, dict) or not table:
        raise InputError(name, table, '{ "YYYY-MM" = VALUE, ... }')
    out = sorted((parse_date(k, f"{name} date"), parse_value(v, f"{name}.{k}"))
                 for k, v in table.items())
    dates = [d for d, _ in out]
    if len(set(dates)) != len(dates):  # "2027-01" and "2027-01-01": one date twice
        twice = next(d for d in dates if dates.count(d) > 1)
        raise InputError(name, list(table), "each date once", f"gives {twice} twice")
    return tuple(out)


def _mw(value, name):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _positive(value, name, zero=True)  # 0: a site without power for a while
    return parse_power_w(value, name) / 1e6


def _plain_number_problem(data: dict, where: str, name: str) -> None:
    """Raise what is wrong with the plain number the schema refused at ``name``, where it is a
    site's power_mw or a delivery given as one number: its own reason ("is negative"), as a
    dated value gets, where the schema's either-or had said only "-5 is not MW, or ...".
    Sites that are not a list are the schema's to name (sites = 5 had been enumerated here:
    "internal error: TypeError")."""
    sites = data.get("sites")
    for n, raw in enumerate(sites if isinstance(sites, list) else []):
        if not isinstance(raw, dict):
            continue
        w = f"{where}.sites[{n}]"
        plain = [(f"{w}.power_mw", raw.get("power_mw"), MEGAWATTS)]
        if isinstance(raw.get("deliveries"), dict):
            plain += [(f"{w}.deliveries.{k}", v, COUNT) for k, v in raw["deliveries"].items()]
        for at, value, node in plain:
            if at == name and isinstance(value, int | float) and not isinstance(value, bool):
                check(node, value, at)


def _runs_precision(cat: Catalog, accs: tuple, precision: str, name: str) -> None:
    """Refuse a run's precision that none of the types it names has a peak for (fp8 on
    gpu = ["a100-80gb"]): the run's own inputs disagree, whatever the sites are delivered. A
    run naming no type, or one type that runs it, is placed where a delivered type runs it,
    and left out with its reason where none does (fleet/options.py build)."""
    errors = []
    for acc in accs:
        try:
            cat.accelerator(acc).peak(precision)
            return
        except PrecisionError as exc:
            errors.append(exc)
    if errors:
        raise InputError(name, precision, "; or ".join(e.accepted for e in errors),
                         f"has no peak on {', '.join(accs)} (its gpu)")


def _not_empty(data: dict, part: str, where: str) -> None:
    """An empty fleet is no question (runs = [] had read OPTIMAL): named in the file's words
    (the command line had named "fleet.runs", not the file)."""
    if not data[part]:
        raise InputError(f"{where}.{part}", None, f"at least one [[{part}]] table", "is empty")


def solver_settings(solver: dict, where: str) -> FleetSettings:
    """A [solver] table (checked as a fleet file's is) -> FleetSettings; ``where`` names the
    file (or "settings") in its errors."""
    check(SOLVER, solver, f"{where}.solver")
    default = FleetSettings()
    return FleetSettings(
        time_limit_s=_positive(solver.get("time_limit_s", default.time_limit_s),
                               f"{where}.solver.time_limit_s"),
        workers=int(_positive(solver.get("workers", default.workers), f"{where}.solver.workers")),
        seed=int(solver.get("seed", default.seed)),
        deterministic=bool(solver.get("deterministic", default.deterministic)))


def load(source, cat: Catalog | None = None, asm: Assumptions | dict | None = DEFAULT
         ) -> FleetSpec:
    """A fleet file (path) or its parsed dict -> FleetSpec, with strict keys and every
    accelerator resolved against the catalog; a site's PUE, peak PUE and energy price the
    file leaves out are those of ``asm`` (the schedule's assumptions: a config file's
    [assumptions] peak_pue_uplift had been listed as in effect and not applied). ``asm``: the
    assumptions, or a dict of overrides by name, as schedule takes them."""
    asm = assumptions_for(asm, None)
    where, base = "fleet", None
    if isinstance(source, (str, Path)):
        path = Path(source)
        where, base = path.name, path.parent
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except FileNotFoundError:
            raise InputError("FLEET.toml", str(source), "a readable fleet file",
                             "does not exist") from None
        except OSError as exc:  # a directory, no permission
            raise InputError("FLEET.toml", str(source), "a readable fleet file",
                             f"cannot be read ({exc.strerror})") from None
        except tomllib.TOMLDecodeError as exc:
            raise InputError("FLEET.toml", str(source), "TOML (see docs/interface.md, Fleet spec)",
                             toml_problem(exc, path)) from None
        except UnicodeDecodeError:  # had been an internal error (exit 1)
            raise InputError("FLEET.toml", str(source), "a TOML file (UTF-8 text)",
                             "is not UTF-8 text") from None
    elif isinstance(source, Mapping):
        data = plain(source)  # a DataFrame's numpy numbers are numbers (schema.plain)
    else:
        raise InputError("FLEET.toml", source, "a fleet file's path, or its parsed dict (see "
                         "docs/interface.md, Fleet spec)", "is not a fleet")
    cat = cat or load_catalog(None)
    try:
        check(SCHEMA, data, where)
    except SchemaError as exc:
        _plain_number_problem(data, where, exc.name)
        raise
    start = parse_date(data["start"], f"{where}.start")
    end = parse_date(data["end"], f"{where}.end", end=True)
    step_s = parse_duration_s(data.get("step", "1w"), f"{where}.step")
    if step_s % SECONDS_PER_DAY:
        raise InputError(f"{where}.step", data.get("step"), "whole days (e.g. 1d, 1w, 2w)")
    step_days = int(step_s // SECONDS_PER_DAY)
    if (end - start).days < step_days:
        # the step is named when it is the longer: the horizon holds no step of it (a step of
        # 400 days had been blamed on the end)
        horizon = (end - start).days
        if "step" in data and horizon >= 1:
            raise InputError(f"{where}.step", data["step"], f"whole days up to the horizon "
                             f"from start ({data['start']}) to end ({data['end']}): "
                             f"{horizon} days", "is longer than the horizon")
        raise InputError(f"{where}.end", data["end"], f"a date at least one step after start "
                         f"({data['start']})")

    def acc_key(k, name):
        try:
            return cat.resolve("accelerators", str(k))
        except UnknownKeyError as exc:
            raise InputError(name, k, "an accelerator key of the catalog "
                             "(planner hardware list)", str(exc)) from None
        except InputError as exc:  # an empty key ("b200,,h100"): the file's key, not --gpu
            raise InputError(name, k, exc.accepted, exc.reason) from None

    _not_empty(data, "sites", where)
    sites = []
    for n, raw in enumerate(data["sites"]):
        w = f"{where}.sites[{n}]"
        deliveries = {}
        for k, series in (raw.get("deliveries") or {}).items():
            key = acc_key(k, f"{w}.deliveries")
            if key in deliveries:  # h100 and h100-sxm: one accelerator twice
                raise InputError(f"{w}.deliveries", k, "each accelerator once",
                                 f"is {key} again")
            deliveries[key] = _series(series, f"{w}.deliveries.{k}",
                                      lambda v, nm: parse_int_count(v, nm, maximum=MAX_DEVICES),
                                      start)
        pue = _positive(raw.get("pue", asm.pue), f"{w}.pue")
        # no peak given: the annual PUE + the schedule's design-day uplift (peak_pue_uplift),
        # rounded to 1e-10 as a plan's (1.1 + 0.1 shows no float noise)
        peak_pue = _positive(raw.get("peak_pue", round(pue + asm.peak_pue_uplift, 10)),
                             f"{w}.peak_pue")
        if peak_pue < pue:
            raise InputError(f"{w}.peak_pue", raw.get("peak_pue"), f"a number >= pue ({pue:g})",
                             "is below the annual PUE (the design-day PUE at full IT load "
                             "cannot be below the year's average)")
        sites.append(SiteSpec(
            name=str(raw["name"]), pue=pue, peak_pue=peak_pue,
            energy_usd_per_kwh=_positive(raw.get("energy_usd_per_kwh",
                                                 asm.energy_usd_per_kwh),
                                         f"{w}.energy_usd_per_kwh", zero=True),
            power_mw=_series(raw["power_mw"], f"{w}.power_mw", _mw, start),
            deliveries=deliveries))
    if len({s.name for s in sites}) != len(sites):
        raise InputError(f"{where}.sites", [s.name for s in sites], "sites with distinct names")
    _not_empty(data, "runs", where)
    runs = []
    for n, raw in enumerate(data["runs"]):
        w = f"{where}.runs[{n}]"
        # a workload file is read relative to the fleet file, as a sweep spec's is
        inputs = tuple((k, workload_file_relative(raw[k], base)
                        if k == "workload" and base is not None
                        else parse_precision(raw[k], f"{w}.precision") if k == "precision"
                        else raw[k])
                       for k in ESTIMATE_INPUTS if k in raw)
        try:  # the run's workload, checked once here (estimate sees it again per size)
            workload = resolve_workload(cat, {}, **dict(inputs))
        except UnknownKeyError as exc:
            near = f" (did you mean {exc.suggestion}?)" if exc.suggestion else ""
            raise InputError(f"{w}.workload", exc.key, "a workload key of the catalog "
                             "(planner workloads list) or a FILE.toml",
                             f"is not a workload of the catalog{near}") from None
        except InputError as exc:
            raise run_input_error(w, raw, exc) from None
        gpus = raw.get("gpus")
        if gpus is not None:
            # a size above the assumption max_gpus is refused here, as estimate's --gpus is
            # (10M had read as an infeasible schedule, binding "gpus", exit 0)
            gpus = tuple(check_gpus(parse_int_count(g, f"{w}.gpus"), asm, g, f"{w}.gpus",
                                    RAISE_MAX_GPUS) for g in
                         (gpus if isinstance(gpus, list) else [gpus]))
        accs = raw.get("gpu")
        if accs is not None:
            accs = tuple(acc_key(a.strip(), f"{w}.gpu") for a in
                         (accs if isinstance(accs, list) else str(accs).split(",")))
            # the precision the run's own key gives, else its workload's (a workload file's
            # fp8 had been named as the run's precision key, which the file does not have)
            _runs_precision(cat, accs, workload.precision,
                            f"{w}.precision" if "precision" in raw else
                            f"{w}.workload's precision")
        # an earliest start before the fleet's start is the fleet's start: nothing runs
        # before the horizon (2020-01 on a 2027 fleet had read "the steps shorten its window
        # by 2557 d" and sized the run for a window it never had)
        earliest = max(start, parse_date(raw.get("earliest", data["start"]), f"{w}.earliest"))
        deadline = parse_date(raw.get("deadline", data["end"]), f"{w}.deadline", end=True)
        if deadline <= start:  # lateness would be counted from the fleet's start
            raise InputError(f"{w}.deadline", raw.get("deadline"),
                             f"a date after the fleet's start ({start})",
                             "is before the fleet starts")
        last = FleetSpec(start, end, step_days, (), ()).last_day  # of the last whole step
        if earliest > last:
            raise InputError(f"{w}.earliest", raw.get("earliest"),
                             f"a date on or before the horizon's last day ({last}: the end "
                             f"of its last whole step)",
                             "is after the horizon ends")
        if deadline <= earliest:
            raise InputError(f"{w}.deadline", raw.get("deadline", data["end"]),
                             f"a date after the run's earliest start ({earliest})",
                             "is not after its earliest start")
        runs.append(RunSpec(str(raw["name"]), inputs, earliest, deadline,
                            _positive(raw.get("weight", DEFAULT_WEIGHT), f"{w}.weight"),
                            gpus, accs, w))
    if len({r.name for r in runs}) != len(runs):
        raise InputError(f"{where}.runs", [r.name for r in runs], "runs with distinct names")
    settings = solver_settings(data.get("solver") or {}, where)
    return FleetSpec(start, end, step_days, tuple(sites), tuple(runs), settings)


# --- the step grid ----------------------------------------------------------------------------

def on_grid(spec: FleetSpec, series: tuple, cumulative: bool) -> tuple:
    """A step function of dates -> its least value within each step (what is on hand for the
    whole step). `cumulative`: the values are amounts added at their dates (deliveries)."""
    points = []
    total = 0.0
    for d, v in series:
        total = total + v if cumulative else v
        points.append((d, total))

    def at(day: date) -> float:
        value = 0.0
        for d, v in points:
            if d <= day:
                value = v
        return value

    out = []
    for t in range(spec.steps):
        lo, hi = spec.step_start(t), spec.step_start(t + 1)
        inside = [v for d, v in points if lo < d < hi]
        out.append(min([at(lo)] + inside))
    return tuple(out)


def step_at_or_after(spec: FleetSpec, d: date) -> int:
    return max(0, min(spec.steps, math.ceil((d - spec.start).days / spec.step_days)))


def step_at_or_before(spec: FleetSpec, d: date) -> int:
    return max(0, min(spec.steps, (d - spec.start).days // spec.step_days))
