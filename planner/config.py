"""House defaults: TOML files that set the default of any flag and any assumption.

A team writes its negotiated price, its site, its deadline and its catalog directory once:

    [defaults]                   # any flag, by its name with underscores, for every command
    site = "eu-colocation"       #   that has it (estimate, budget, schedule, ...)
    price_per_gpu_hour = 2.10
    deadline = "100d"
    catalog = "team-catalog"     # a path, relative to this file
    [estimate]                   # optional: defaults of one command only
    gpu = ["h100-sxm", "b200"]   # a list is the comma-separated form of the flag
    [budget]
    year = 2027
    [assumptions]                # any name of planner/assumptions.py
    failure_rate_per_device_hour = 3e-5

Files are read in this order, each later one overriding the earlier ones key by key: the
user's (``$XDG_CONFIG_HOME/planner/config.toml``, else ``~/.config/planner/config.toml``), the
working directory's ``planner.toml``, then the file ``PLANNER_CONFIG`` names. A flag given on
the command line overrides them all. Every value keeps the file it came from: the CLI reports
it in a plan's assumptions table and ``planner config show`` lists them. Unknown sections,
flags and assumptions are errors naming the file, the key and the accepted names.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

from .assumptions import parse_overrides
from .errors import InputError, did_you_mean, toml_problem

__all__ = ["Setting", "Config", "search_paths", "load", "annotate", "effective", "ENV",
           "FILE_NAME", "SECTIONS"]

ENV = "PLANNER_CONFIG"
FILE_NAME = "planner.toml"  # in the working directory
SECTIONS = ("defaults", "assumptions")  # plus one table per command, named as the command
# Flags whose values are paths: relative paths are read from the config file's directory.
PATH_FLAGS = ("catalog",)
PATH_SUFFIXES = (".toml", ".json")  # a workload given as a file


@dataclass(frozen=True)
class Setting:
    """One value from a config file: the value, the file and its table ([defaults], ...)."""

    value: object
    path: Path
    table: str

    @property
    def origin(self) -> str:
        return f"{self.path} [{self.table}]"


@dataclass(frozen=True)
class Config:
    """The merged files: flag defaults (per table) and assumptions, each with its origin."""

    files: tuple[Path, ...] = ()
    flags: Mapping[str, Mapping[str, Setting]] = field(default_factory=dict)  # table -> flag
    assumptions: Mapping[str, Setting] = field(default_factory=dict)
    # table -> the first file that declares it, so an empty table ([foo] with its keys
    # commented out) is still named by its file
    tables: Mapping[str, Path] = field(default_factory=dict)

    def for_command(self, command: str, flags: Iterable[str]) -> dict[str, Setting]:
        """The defaults of one command among its ``flags`` (names with underscores): the
        [defaults] table's, then the command's own table's."""
        known = set(flags)
        out = {k: s for k, s in self.flags.get("defaults", {}).items() if k in known}
        out.update({k: s for k, s in self.flags.get(command, {}).items() if k in known})
        return out

    def check(self, commands: Mapping[str, Iterable[str]]) -> None:
        """Every [defaults] key is a flag of some command, every command table names a
        command and holds only its flags; else an InputError naming the file and the key."""
        every = sorted({f for flags in commands.values() for f in flags})
        for table, values in self.flags.items():
            if table != "defaults" and table not in commands:
                setting = next(iter(values.values()), None)
                where = setting.path if setting else self.tables.get(table, "config")
                _unknown(where, f"[{table}]", list(SECTIONS) + sorted(commands), "table")
            allowed = every if table == "defaults" else sorted(commands[table])
            for key, setting in values.items():
                if key not in allowed:
                    _unknown(setting.path, f"[{table}] {key}", allowed,
                             "flag" if table == "defaults" else f"flag of {table}")

    def check_values(self, parsers: Mapping[str, object]) -> None:
        """Every flag value with a parser in ``parsers`` (flag name -> the function its
        commands read it with: plan/quantities.py FLAG_PARSERS) and every catalog directory,
        read as its flag would: the first bad one is an InputError naming the flag, the
        accepted form and the file that set it (``planner config show`` lists only values
        the commands take)."""
        checks = {**parsers, "catalog": _directory}
        for values in self.flags.values():
            for key, setting in values.items():
                check = checks.get(key)
                if check is None:
                    continue
                try:
                    check(setting.value, "--" + key.replace("_", "-"))
                except InputError as exc:
                    raise InputError(exc.name, exc.value, exc.accepted,
                                     f"{exc.reason or 'is not valid'} (set in config file "
                                     f"{setting.origin})") from None

    def assumption_values(self) -> dict:
        return {k: s.value for k, s in self.assumptions.items()}


def _directory(value, name: str) -> None:
    """Catalog directories (several joined by os.pathsep, as a config list gives them): each
    must exist (the commands' --catalog refuses one that does not)."""
    from .catalog import catalog_dirs

    for part in catalog_dirs(value):
        if not Path(part).is_dir():
            raise InputError(name, part, "an existing directory laid out like hardware/ and "
                             f"workloads/ (several: DIR{os.pathsep}DIR, or a list in a config "
                             "file)", "is not a directory")



def _unknown(path, what: str, allowed: list[str], kind: str):
    name = what.split()[-1].strip("[]")
    near = did_you_mean(name, allowed)
    raise InputError(str(path), what, f"a {kind}: " + ", ".join(allowed),
                     "is unknown" + (f" (did you mean {near}?)" if near else ""))


def search_paths(env: Mapping[str, str] | None = None, cwd: Path | None = None) -> list[Path]:
    """Where config files are looked for, lowest precedence first (see the module docstring);
    PLANNER_CONFIG last, whether or not its file exists."""
    env = os.environ if env is None else env
    home = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME", "~")).expanduser() /
                                              ".config")
    paths = [Path(home).expanduser() / "planner" / "config.toml",
             Path(cwd or Path.cwd()) / FILE_NAME]
    if env.get(ENV):
        # absolute, as an origin is worth reading once output is saved elsewhere; and the
        # working directory's planner.toml named again by PLANNER_CONFIG is one file, once
        mine = (Path(cwd or Path.cwd()) / Path(env[ENV]).expanduser()).resolve()
        if mine in [p.resolve() for p in paths]:
            paths = [p for p in paths if p.resolve() != mine]
        paths.append(mine)
    return paths


def load(env: Mapping[str, str] | None = None, cwd: Path | None = None) -> Config:
    """The files that exist along the search path, merged (later files win key by key)."""
    env = os.environ if env is None else env
    files: list[Path] = []
    flags: dict[str, dict[str, Setting]] = {}
    assumptions: dict[str, Setting] = {}
    tables: dict[str, Path] = {}
    paths = search_paths(env, cwd)
    for path in paths:
        if not path.is_file():
            if env.get(ENV) and path == paths[-1]:
                raise InputError(ENV, str(path), "the path of a TOML config file",
                                 "names no file")
            continue
        data = _read(path)
        files.append(path)
        for table, values in data.items():
            if not isinstance(values, dict):
                raise InputError(str(path), table, "tables [defaults], [assumptions] or "
                                 "[COMMAND] (estimate, budget, ...)", "is not a table")
            tables.setdefault(table, path)
            if table == "assumptions":
                for name, value in values.items():
                    parsed = parse_overrides([f"{name}={_text(value)}"], f"{path} [assumptions]")
                    assumptions[name] = Setting(parsed[name], path, table)
                continue
            mine = flags.setdefault(table, {})
            for key, value in values.items():
                mine[key] = Setting(_flag_value(path, key, value), path, table)
    return Config(tuple(files), flags, assumptions, tables)


def _read(path: Path) -> dict:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise InputError(str(path), str(path), "a readable TOML file",
                         f"cannot be read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(str(path), str(path), "TOML (docs/interface.md, 'Config files')",
                         toml_problem(exc, path)) from None
    except UnicodeDecodeError:
        raise InputError(str(path), str(path), "TOML (docs/interface.md, 'Config files')",
                         "is not valid TOML (not UTF-8 text)") from None


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def flag_text(value) -> str:
    """A TOML value as its flag's text: a list comma-separated (--gpu h100-sxm,b200), a table
    as NAME=VALUE pairs in its order (--layout tp=8,pp=2, --inventory h100-sxm=20000), a
    flag as true or false, anything else as str() writes it."""
    if isinstance(value, list):
        return ",".join(_text(v) for v in value)
    if isinstance(value, dict):
        return ",".join(f"{k}={_text(v)}" for k, v in value.items())
    return _text(value)


def _flag_value(path: Path, key: str, value):
    """A TOML value as the flag takes it: a list as its comma-separated form, a table as
    NAME=VALUE pairs (inventory, layout), a relative path from the file's directory."""
    if isinstance(value, list) and key in PATH_FLAGS:  # several directories, later ones win
        if not value or not all(isinstance(v, str) and v.strip() for v in value):
            raise InputError(f"{path} {key}", value, "a list of directories")
        return os.pathsep.join(_flag_value(path, key, v) for v in value)
    if isinstance(value, list):
        if not all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value):
            raise InputError(f"{path} {key}", value, "a list of names or numbers")
        value = flag_text(value)
    elif isinstance(value, dict):
        value = flag_text(value)
    elif not isinstance(value, (str, int, float, bool)):
        raise InputError(f"{path} {key}", value, "a string, number, true/false, list or table")
    if isinstance(value, str) and key in PATH_FLAGS and not value.strip():
        # an empty path is no directory (catalog = "" had become the file's own folder)
        raise InputError(f"{path} {key}", value, "a directory, relative to this file, or a "
                         "list of them", "is empty")
    if isinstance(value, str) and (key in PATH_FLAGS or (
            key == "workload" and value.lower().endswith(PATH_SUFFIXES))):
        p = Path(value).expanduser()
        value = str(p if p.is_absolute() else (path.parent / p))
    return value


def annotate(assumptions: dict, settings: Mapping[str, Setting],
             config_assumptions: Mapping[str, Setting] = (),
             canonical=lambda name, value: value) -> dict:
    """A plan's assumptions table with every value that came from a config file named with
    its file: flags by their name, assumptions (replacing "given (--assume)"). ``canonical``
    (name, value): a flag's value as the plan reads it (plan.inputs.canonical_word, which
    this floor does not import: an option's word in any case)."""
    out = dict(assumptions)
    for name, s in dict(config_assumptions).items():
        mine = out.get(name)
        if mine is None or mine.get("source") == "given (--assume)":
            out[name] = {"value": s.value, "source": f"config file {s.origin}"}
        else:  # the plan used another figure (a workload's own seq_len): kept, the file said
            out[name] = {**mine, "source": mine["source"].replace(
                "the assumption", f"config file {s.origin}'s", 1)}
    for name, s in dict(settings).items():
        # a flag whose row the plan names otherwise (--seed's is uncertainty_seed): that row
        if name in FLAG_ROWS and name not in out and FLAG_ROWS[name] in out:
            # the row keeps the value the plan parsed it to (seed = "07" runs as 7)
            row = FLAG_ROWS[name]
            out[row] = {"value": out[row]["value"], "source": f"config file {s.origin}"}
            continue
        # an option's word as the plan reads it ('FP8': fp8), also where the plan has no row
        # of its own for it (a precision given is the workload's, not an assumption)
        value, mine = canonical(name, s.value), out.get(name)
        if mine is not None and isinstance(value, str) and isinstance(mine.get("value"), str) \
                and mine["value"] == value.strip().lower():
            value = mine["value"]  # an option's word as the plan read it ("Owned": owned)
        out[name] = {"value": value, "source": f"config file {s.origin}"}
    return out


# Flags whose row in a plan's assumptions table has another name.
FLAG_ROWS = {"seed": "uncertainty_seed"}


# Per command, a flag left out takes its value from this assumption (planner/assumptions.py),
# shown as the flag takes it (budget with no --gpu compares several: no single default).
FLAG_ASSUMPTIONS = {
    "estimate": {"gpu": ("accelerator", str), "seq_len": ("seq_len", int),
                 "global_batch": ("global_batch_tokens", int),
                 # the deadline a sizing meets when none is given (a given --gpus has none)
                 "deadline": ("deadline_days", lambda days: f"{days:g}d")},
    "budget": {"deadline": ("deadline_days", lambda days: f"{days:g}d")},
}


def effective(cfg: Config, builtins: Mapping[str, Mapping[str, object]],
              taken: Mapping[str, set] | None = None) -> dict:
    """What every command runs with when a flag is left out: per command (``builtins``: its
    flags and their built-in defaults, "hardware list" style names), each flag's value and
    origin (a config file and table, or "built-in"); every assumption likewise; and the files
    searched, in precedence order (lowest first). ``taken``: per command, the flags whose
    config value it takes (None: all its tables name), so a [defaults] value a command has
    no choice for (format = "csv" beside a table-only command) is not listed as its own."""
    from .assumptions import DEFAULT
    from .catalog import DEFAULT_SITE

    # flags left out whose default the planner holds outside the assumptions (an audit: the
    # default site and objective had gone unlisted)
    site = (DEFAULT_SITE, f"built-in: planner default site profile (hardware/sites/"
                          f"{DEFAULT_SITE}.toml)")
    # cloud: the cost method a plan takes when --ownership is left out (plan/estimate.py)
    ownership = ("cloud", "built-in")
    held = {"estimate": {"site": site, "objective": (
                "cost", "built-in: the cheapest plan that meets the limits"),
                         "ownership": ownership},
            "budget": {"site": site, "ownership": ownership}}
    defaults = {}
    for command, flags in builtins.items():
        mine = {f: {"value": v, "origin": "built-in"} for f, v in flags.items()
                if v is not None and v != ()}
        # flags whose default an assumption holds (a plan's deadline, accelerator, sequence
        # and batch): listed with it, as the commands take it when the flag is left out
        for f, (name, shown) in FLAG_ASSUMPTIONS.get(command, {}).items():
            if f in flags and f not in mine:
                s = cfg.assumptions.get(name)  # a file's [assumptions] moves it too
                mine[f] = ({"value": shown(s.value), "origin": f"{s.origin} (assumption "
                            f"{name})"} if s else
                           {"value": shown(getattr(DEFAULT, name)),
                            "origin": f"built-in: assumption {name}"})
        for f, (value, origin) in held.get(command, {}).items():
            if f in flags and f not in mine:
                mine[f] = {"value": value, "origin": origin}
        for f, s in cfg.for_command(command.split()[0], flags).items():
            if taken is None or f in taken.get(command, ()):
                mine[f] = {"value": s.value, "origin": s.origin}
        env = os.environ.get("PLANNER_CATALOG", "")
        if env and "catalog" in flags:  # read before any --catalog (an auditor: unlisted, as
            filed = mine.get("catalog")  # if a file's catalog had replaced it)
            mine["catalog"] = {
                "value": env if filed is None else f"{env}{os.pathsep}{filed['value']}",
                "origin": "environment: PLANNER_CATALOG" + (
                    "" if filed is None else f", then {filed['origin']} (later ones win)")}
        defaults[command] = dict(sorted(mine.items()))
    assumptions = {}
    for name, d in DEFAULT.describe().items():
        s = cfg.assumptions.get(name)
        assumptions[name] = ({"value": s.value, "unit": d["unit"], "origin": s.origin} if s else
                             {"value": d["value"], "unit": d["unit"],
                              "origin": f"built-in: {d['source']}"})
    return {"files": [{"path": str(p), "found": p in cfg.files} for p in search_paths()],
            "defaults": defaults, "assumptions": assumptions}
