"""The `planner` command: parses, calls the library, renders. No modelling here."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
from click.core import ParameterSource

import planner
from planner import catalog_view, report
from planner import config as house
from planner.assumptions import parse_overrides
from planner.catalog_files import is_workload_file
from planner.errors import (
    FLAGS,
    CatalogError,
    InputError,
    LayoutError,
    UnknownKeyError,
    did_you_mean,
    error_text,
)
from planner.frameworks import FRAMEWORKS
from planner.plan.inputs import canonical_word
from planner.plan.quantities import OBJECTIVES, OWNERSHIPS
from planner.plan.result import answer_csv, clean_json
from planner.schema import CHART_SUFFIXES, check_output_path, check_output_suffix
from planner.specs import FFN_TYPES, PRECISIONS, PURCHASE_UNITS, TEAMS, team_of


class TeamChoice(click.Choice):
    """--team: one of TEAMS, spelled with hyphens or underscores for its spaces if the user
    likes (``--team frontier-lab``), so the shell needs no quotes."""

    def convert(self, value, param, ctx):
        return super().convert(team_of(value) or value, param, ctx)


TEAM = TeamChoice(list(TEAMS), case_sensitive=False)


def choice(values) -> click.Choice:
    """An option's accepted words, in any case (``--precision FP8``, ``--format JSON``), as
    ``--team``, ``--gpu`` and ``--site`` take them: the word passed on is the canonical one."""
    return click.Choice(list(values), case_sensitive=False)


class UsageError(click.UsageError):
    """A user's error: exit 2, with the option it concerns and the form it accepts (the
    fields of ``--format json``'s error object)."""

    exit_code = 2

    def __init__(self, message: str, option: str | None = None, accepted: str | None = None):
        super().__init__(message)
        self.option, self.accepted = option, accepted


def _fail(exc: Exception | str, hint: str | None = None, option: str | None = None,
          accepted: str | None = None):
    """Library errors a user caused -> exit 2 with the message; never a traceback. ``option``
    and ``accepted`` name the input and its form when the error does not (the JSON error
    object's fields)."""
    found, form = _error_fields(exc)
    option, accepted = option or found, accepted or form
    text = error_text(exc) if isinstance(exc, Exception) else str(exc)
    origin = _config_origin(option) or _assumption_origin(exc)
    raise UsageError(text + (f" ({hint})" if hint else "")
                     + (f" (set in config file {origin})" if origin else ""), option, accepted)


def _error_fields(exc: Exception | str) -> tuple[str | None, str | None]:
    """(option, accepted form) of a user error, for the JSON error object."""
    if isinstance(exc, InputError):
        return exc.name, exc.accepted
    if isinstance(exc, UnknownKeyError):
        listing = "workloads" if exc.kind == "workloads" else "hardware"
        return FLAGS.get(exc.kind, exc.kind), f"a key of 'planner {listing} list': " \
            + ", ".join(exc.known)
    if isinstance(exc, CatalogError) and getattr(exc, "option", None):  # a file's key
        return exc.option, exc.accepted
    head = str(exc).split(":", 1)[0].strip()  # "--plot: ...", "NAME: ...", "FLEET.toml: ..."
    return (head if head.startswith("-") or head.split(".")[0].isupper() else None), None


def _config_origin(option: str | None) -> str | None:
    """The config file that set the option a failing value came from, if one did."""
    ctx = click.get_current_context(silent=True)
    if ctx is None or not option or not option.startswith("--"):
        return None
    setting = _from_config(ctx).get(option[2:].replace("-", "_"))
    return setting.origin if setting else None


def _assumption_origin(exc: Exception | str) -> str | None:
    """The config file whose [assumptions] set a failing --assume NAME=VALUE the command line
    did not type (accelerator = "h100-sxmm" in a file had been blamed on --assume alone)."""
    ctx = click.get_current_context(silent=True)
    if ctx is None or not isinstance(exc, InputError) or exc.name != "--assume" \
            or not isinstance(exc.value, str) or "=" not in exc.value:
        return None
    cfg = ctx.find_object(house.Config)
    name = exc.value.split("=", 1)[0].strip()
    setting = cfg.assumptions.get(name) if cfg is not None else None
    try:
        typed = parse_overrides(ctx.params.get("assume"))
    except (InputError, ValueError):
        typed = {}
    return setting.origin if setting is not None and name not in typed else None


def _writable(path, flag: str, directory: bool = False, suffixes: tuple = ()):
    """An output path checked before any work (its folder exists and is writable; a file's
    suffix, when ``suffixes`` are given, one of them)."""
    if path is not None:
        try:
            if suffixes:
                check_output_suffix(path, flag, suffixes)
            check_output_path(path, flag, directory)
        except InputError as exc:
            _fail(exc)


CATALOG_HELP = "Extra catalog directory (several: DIR:DIR, later ones win)."


def _catalog(ctx_catalog):
    try:
        return planner.catalog(ctx_catalog)  # one directory, or several joined with os.pathsep
    except (CatalogError, InputError) as exc:
        # the directory's origin: --catalog, or the PLANNER_CATALOG environment variable
        option = getattr(exc, "option", None) or getattr(exc, "name", None) or "--catalog"
        form = ("--catalog DIR" if option == "--catalog" else
                f"PLANNER_CATALOG=DIR[{os.pathsep}DIR...]")
        _fail(exc, f"{form}: a directory laid out like hardware/ and workloads/",
              option=option, accepted="a directory laid out like hardware/ and workloads/")


# --- house defaults: config files (planner/config.py) -------------------------------------------

# [assumptions] holds what --assume changes; --no-sensitivity and --no-plot are the command
# line's way to set aside a file's sensitivity and plot, not settings of their own
NOT_FROM_CONFIG = ("help", "version", "assume", "no_sensitivity", "no_plot")


def _flag(param: click.Parameter) -> str | None:
    """A flag's name with underscores (--price-per-gpu-hour -> price_per_gpu_hour)."""
    if not isinstance(param, click.Option):
        return None
    longs = [o for o in param.opts if o.startswith("--")]
    name = (longs[0] if longs else param.opts[0]).lstrip("-").replace("-", "_")
    return None if name in NOT_FROM_CONFIG else name


def _commands(group: click.Group = None, path: tuple = ()):
    """(path of names, command) of every command under the group."""
    group = group or app
    for name, cmd in sorted(group.commands.items()):
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, path + (name,))
        else:
            yield path + (name,), cmd


class _Planner(click.Group):
    """The top group: it keeps the words after ``planner`` for its callback (click hands them
    to the command alone), so a config value's fault is the command's that reads it."""

    def resolve_command(self, ctx: click.Context, args):
        ctx.meta["planner.args"] = list(args)
        return super().resolve_command(ctx, args)


def _defaults(ctx: click.Context) -> house.Config:
    """The config files' defaults, checked, as the commands' default_map (a flag given on the
    command line wins); each value's type checked as its flag would check it. A bad value
    stops only the command that reads it, and never its --help (deadline = "abc" had stopped
    'planner hardware list' and 'planner estimate --help'; invalid TOML or an unknown table
    or key, 'planner estimate --help' and every other command's)."""
    words = ctx.meta.get("planner.args", [])
    helping = any(w in ("-h", "--help") for w in words)
    typed = {w.split("=", 1)[0] for w in words if w.startswith("-")}
    try:
        cfg = house.load()
        flags = {}
        for path, cmd in _commands():
            flags.setdefault(path[0], set()).update(f for f in map(_flag, cmd.params) if f)
        cfg.check(flags)
    except InputError as exc:
        if helping:  # a file that does not load, or an unknown table or key, never blocks
            return house.Config()  # --help (docs/interface.md): it is read without them
        _fail(exc)
    default_map: dict = {}
    taken, refused = set(), {}  # [defaults] flags some command takes; the others' errors
    for path, cmd in _commands():
        params = {_flag(p): p for p in cmd.params if _flag(p)}
        mine = {}
        for flag, setting in cfg.for_command(path[0], params).items():
            try:
                _setting_checked(params[flag], flag, setting, ctx)
            except UsageError as exc:
                if setting.table == "defaults" and isinstance(params[flag].type, click.Choice):
                    # a choice another command has (format = "csv": estimate's, not
                    # workloads'): this command keeps its own default
                    refused.setdefault(flag, exc)
                    continue
                # 'config show' checks every command's values
                reads = ctx.invoked_subcommand in (path[0], "config")
                given = {*params[flag].opts, "--no-" + flag.replace("_", "-")}
                if helping or not reads or given & typed:
                    # another command's value, help, or a flag the command line gives (it
                    # wins): left out, said when a command reads it
                    continue
                raise
            taken.add(flag)
            mine[params[flag].name] = setting.value
        node = default_map
        for name in path[:-1]:
            node = node.setdefault(name, {})
        node[path[-1]] = mine
    for flag, exc in refused.items():
        if flag not in taken and not helping:  # no command takes it
            raise exc
    ctx.default_map = default_map
    return cfg


def _setting_checked(param: click.Parameter, flag: str, setting, ctx: click.Context) -> None:
    """A config file's value read as its flag reads it on the command line (a switch true or
    false, a choice among the flag's, a quantity by its parser, plan/quantities.FLAG_PARSERS:
    deadline = 90 has no unit there either), else a UsageError naming the file, its table
    and the key."""
    def refuse(message: str):
        return UsageError(f"{setting.origin}: {flag} = {setting.value!r}: {message}",
                          f"--{flag.replace('_', '-')}")

    if getattr(param, "is_flag", False) and not isinstance(setting.value, bool):
        raise refuse("accepted: true or false")
    try:
        value = param.type.convert(setting.value, param, ctx)
    except click.BadParameter as exc:
        raise refuse(exc.message) from None
    from planner.plan.quantities import FLAG_PARSERS

    if flag in FLAG_PARSERS and value is not None:
        try:
            FLAG_PARSERS[flag](value, "--" + flag.replace("_", "-"))
        except InputError as exc:  # worded as config show words it (Config.check_values)
            _fail(InputError(exc.name, exc.value, exc.accepted,
                             f"{exc.reason or 'is not valid'} (set in config file "
                             f"{setting.origin})"))


def _from_config(ctx: click.Context) -> dict:
    """flag -> Setting of this command's values that came from a config file."""
    cfg = ctx.find_object(house.Config)
    if cfg is None or ctx.command is None:
        return {}
    top = ctx.command_path.split()[1] if len(ctx.command_path.split()) > 1 else ""
    settings = cfg.for_command(top, [f for f in map(_flag, ctx.command.params) if f])
    aside = ctx.meta.get("planner.set_aside", set())  # a typed flag's rivals (_flags_win)
    names = {f: _param_name(ctx.command, f) for f in settings}
    return {f: s for f, s in settings.items()
            if ctx.get_parameter_source(names[f]) == ParameterSource.DEFAULT_MAP
            and names[f] not in aside}


def _typed(ctx: click.Context, name: str) -> bool:
    """Whether the command line gave parameter ``name`` (not a default, not a file)."""
    return ctx.get_parameter_source(name) == ParameterSource.COMMANDLINE


def _flags_win(ctx: click.Context, *groups: dict) -> dict:
    """The values of each group of rival options (each answering one question: the model,
    the cluster's size, how the run grows), with a config file's values set aside (None) in a
    group where the command line gives one: the flag typed wins, as docs/interface.md says
    ([budget] tokens_per_param = 40 had refused every budget --params; [estimate] gpus = 512
    with --max-gpus 256 had read infeasible)."""
    out = {}
    set_aside = ctx.meta.setdefault("planner.set_aside", set())  # not reported as used
    for group in groups:
        typed = any(_typed(ctx, n) for n in group)
        for n, v in group.items():
            filed = ctx.get_parameter_source(n) == ParameterSource.DEFAULT_MAP
            out[n] = None if typed and filed else v
            if typed and filed:
                set_aside.add(n)
    return out


def _size_rivals(gpus, max_gpus) -> dict:
    """The cluster's size as rival options (_flags_win): --gpus and --max-gpus, or --max-gpus
    alone where --gpus is the word auto (no count: sized, whatever gpus a config file gives,
    and a file's --max-gpus still holds the sizing)."""
    from planner.plan.quantities import parse_gpus_flag

    try:
        sized = gpus is not None and parse_gpus_flag(gpus) is None
    except InputError as exc:
        _fail(exc)
    return {"max_gpus": max_gpus} if sized else {"gpus": gpus, "max_gpus": max_gpus}


def _switched_off(ctx: click.Context, *options: tuple) -> tuple:
    """The values of options that take a value and have a --no-NAME switch (--sensitivity,
    --plot): each (parameter name, flag, value, switch), None where the switch is typed, so
    a config file's value is set aside (and not reported as used); refused beside the option
    itself, which would say the opposite."""
    set_aside = ctx.meta.setdefault("planner.set_aside", set())
    out = []
    for name, flag, value, off in options:
        if off and _typed(ctx, name):
            _fail(f"{flag} and --no-{flag[2:]}: give one", option=f"--no-{flag[2:]}",
                  accepted=f"{flag} or --no-{flag[2:]}, not both")
        if off:
            set_aside.add(name)
        out.append(None if off else value)
    return tuple(out)


def _param_name(cmd: click.Command, flag: str) -> str | None:
    return next((p.name for p in cmd.params if _flag(p) == flag), None)


def _assumptions(ctx: click.Context, assume) -> tuple[dict | None, dict]:
    """The assumptions a command runs with (the config files', then --assume's), and those
    that came from a file (reported with it)."""
    cfg = ctx.find_object(house.Config)
    given = parse_overrides(assume)
    filed = {k: s for k, s in (cfg.assumptions.items() if cfg else ()) if k not in given}
    merged = {**{k: s.value for k, s in filed.items()}, **given}
    return merged or None, filed


def _json(d) -> str:
    """A JSON document of an answer: numpy scalars as numbers, an unknown (nan, inf: a
    config file's grid_kg_co2_per_mwh = nan) as null, never a bare NaN, which strict
    parsers (JavaScript's JSON.parse, Go, serde) refuse (docs/interface.md)."""
    return json.dumps(clean_json(d), indent=2, allow_nan=False, default=str)


def _emit(d: dict, fmt: str, as_csv, as_table) -> None:
    """An answer on stdout in the format asked: JSON, one CSV row or the table."""
    if fmt == "json":
        click.echo(_json(d))
    elif fmt == "csv":
        click.echo(as_csv(d), nl=False)
    else:
        click.echo(as_table(d))


def _with_origins(ctx: click.Context, d: dict, filed: dict) -> dict:
    """A plan's dict with the values from config files named in its assumptions table."""
    if d.get("assumptions") is not None:
        d["assumptions"] = house.annotate(d["assumptions"], _from_config(ctx), filed,
                                          canonical_word)
    return d


def _complete(*kinds: str, several: bool = False, files: bool = False):
    """Shell completion of catalog keys (with --catalog's directory when given before);
    ``several``: a comma-separated list, the last item completed; ``files``: a path is
    completed as a file."""
    from click.shell_completion import CompletionItem

    def complete(ctx, param, incomplete: str):
        as_file = [CompletionItem(incomplete, type="file")] if files else []
        if files and "/" in incomplete:
            return as_file
        done, _, last = incomplete.rpartition(",") if several else ("", "", incomplete)
        try:
            cat = planner.catalog(ctx.params.get("catalog_dir"))
            keys = [k for kind in kinds for k in cat.keys(kind)]
        except (CatalogError, OSError):
            return as_file
        prefix = done + "," if done else ""
        found = [CompletionItem(prefix + k) for k in keys if k.startswith(last.lower())]
        return found or as_file

    return complete


def _examples(*lines: str) -> str:
    """A command's examples, kept as written in --help (click's \\b: no rewrapping)."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


EXAMPLES = {
    "estimate": _examples(
        "planner estimate --params 1T --tokens 15T",
        "planner estimate --workload llama3.1-405b --gpus 16384 --layout tp=8,pp=16",
        "planner estimate --model-config path/to/config.json --tokens 15T --gpus 1024",
        "planner estimate --params 1T --tokens 15T --deadline 120d --power-cap 100MW \\",
        "                 --gpu h100-sxm,b200,mi300x --format json",
        "planner estimate --params 405B --tokens 15T --gpus 16384 --uncertainty",
        "planner estimate --params 1T --tokens 15T --sensitivity training_days",
        "planner estimate --params 1T --experts 64 --top-k 4 --tokens 15T   # a mixture of "
        "experts"),
    "validate": _examples("planner validate", "planner validate --format json",
                          "planner validate --refit planner/model/realisation_fit.py"),
    "sweep": _examples("planner sweep examples/what-if.toml -o sweep/",
                       "planner sweep examples/what-if.toml -o sweep/ --resume --workers 2"),
    "schedule": _examples(
        "planner schedule workloads/fleets/lab-3-sites.toml",
        "planner schedule workloads/fleets/lab-3-sites.toml -o fleet.parquet --gantt fleet.png"),
    "budget": _examples("planner budget --usd 1B --deadline 150d --year 2027",
                        "planner budget --power-cap 300MW --deadline 120d --gpu gb200",
                        "planner budget --usd 500M --params 400B --format csv"),
    "hardware": _examples("planner hardware list", "planner hardware show h100-sxm"),
    "hardware list": _examples("planner hardware list", "planner hardware list --format json"),
    "hardware show": _examples("planner hardware show h100-sxm",
                               "planner hardware show ib-ndr --format json"),
    "workloads": _examples("planner workloads list", "planner workloads show llama3.1-405b"),
    "workloads list": _examples("planner workloads list",
                                "planner workloads list --format json"),
    "workloads show": _examples("planner workloads show llama3.1-405b",
                                "planner workloads show deepseek-v3 --format json"),
    "config": _examples("planner config show", "planner config show --format json"),
    "config show": _examples("planner config show",
                             "PLANNER_CONFIG=examples/planner.toml planner config show"),
}


@click.group(cls=_Planner, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(planner.__version__, prog_name="planner")
@click.pass_context
def app(ctx):
    """Capacity planner for frontier-scale model training.

    House defaults (prices, site, deadline, catalog, assumptions) come from config files:
    PLANNER_CONFIG, ./planner.toml, ~/.config/planner/config.toml ('planner config show').
    Shell completion: eval "$(_PLANNER_COMPLETE=bash_source planner)" (zsh_source,
    fish_source)."""
    ctx.obj = _defaults(ctx)


@app.command(epilog=EXAMPLES["estimate"])
@click.option("--params", help="Parameter count: 70B, 1T, 1.5e12 (a shape by the rule of "
              "docs/shape.md; with --experts and --top-k, a mixture of experts).")
@click.option("--tokens", help="Training tokens: 15T.")
@click.option("--workload", "--model-config", "workload",
              help="A workload key (planner workloads list), FILE.toml, or a Hugging Face "
                   "config.json (local file; Llama, Mistral, Mixtral, Qwen, DeepSeek, Gemma, "
                   "gpt-oss, OLMo 2, OLMoE, Granite, Falcon, GPT-NeoX and other families).",
              shell_complete=_complete("workloads", files=True))
@click.option("--layers", help="Transformer layers (full shape).")
@click.option("--hidden", help="Model width.")
@click.option("--heads", help="Attention heads.")
@click.option("--kv-heads", help="Key/value heads (GQA); default = heads.")
@click.option("--ffn", help="FFN width (dense layers).")
@click.option("--vocab", help="Vocabulary size.")
@click.option("--ffn-type", type=choice(FFN_TYPES),
              help="gated (SwiGLU, 3 matrices) or plain (2); inferred when absent.")
@click.option("--experts", help="Routed experts per MoE layer (with --params, the MoE shape "
              "rule sizes the rest).")
@click.option("--top-k", help="Experts per token (with --params too).")
@click.option("--expert-ffn", help="FFN width of one expert.")
@click.option("--shared-experts", help="Shared experts per MoE layer (with --params too).")
@click.option("--dense-layers", help="Leading layers with a dense FFN (MoE).")
@click.option("--expert-groups", help="Groups of experts for group-limited (node-limited) "
              "routing: 8 for DeepSeek-V3 (MoE).")
@click.option("--group-top-k", help="Groups each token's experts come from: 4 for DeepSeek-V3 "
              "(MoE, with --expert-groups).")
@click.option("--head-dim", help="Per-head width when heads x it is not the model width "
              "(Gemma, Granite 3.0; with MLA the non-RoPE query/key width: 128 for "
              "DeepSeek-V3).")
@click.option("--kv-lora-rank", help="Multi-head Latent Attention: the KV latent's width, 512 "
              "for DeepSeek-V3 (with --head-dim, --rope-head-dim, --v-head-dim).")
@click.option("--q-lora-rank", help="MLA: the query latent's width, 1536 for DeepSeek-V3 "
              "(absent: queries projected directly).")
@click.option("--rope-head-dim", help="MLA: decoupled RoPE dims per head, 64 for DeepSeek-V3.")
@click.option("--v-head-dim", help="MLA: value width per head, 128 for DeepSeek-V3.")
@click.option("--window", help="Sliding-window attention: the keys a query attends in the "
              "layers that have it (1024 for Gemma 3; with --params, --workload or a full "
              "shape).")
@click.option("--window-layers", help="The layers with the sliding window (29 of Gemma 3 4B's "
              "34); default: every layer.")
@click.option("--seq-len", help="Sequence length: 8192.")
@click.option("--global-batch", help="Global batch in tokens: 16M.")
@click.option("--precision", type=choice(PRECISIONS))
@click.option("--gpu", help="Accelerator key(s): h100-sxm or b200,h100-sxm,mi300x (of "
              "several, one without a peak at the run's precision is left out and listed "
              "among the alternatives).",
              shell_complete=_complete("accelerators", several=True))
@click.option("--gpus", help="Number of devices (otherwise, or with auto, sized to meet the "
              "deadline); the plan counts the whole units they fill and their spare devices.")
@click.option("--unit", type=choice(list(PURCHASE_UNITS)), default="auto", show_default=True,
              help="What the cluster is bought or rented in: auto (the system's own: an HGX "
                   "node of 8, an NVL72 rack of 72, a TPU cube of 64), device, node, rack or "
                   "scalable-unit. A sizing grows by it.")
@click.option("--network", help="Scale-out network key (planner hardware list).",
              shell_complete=_complete("networks"))
@click.option("--site", help="Site key (planner hardware list).",
              shell_complete=_complete("sites"))
@click.option("--catalog", "catalog_dir", help=CATALOG_HELP, type=click.Path(file_okay=False))
@click.option("--layout", help='"tp=8,pp=16,dp=128,cp=1,ep=1,mb=1,vp=1,recompute=..,zero=.."')
@click.option("--deadline", help="Wall-clock limit: 90d, 12w, 2160h.")
@click.option("--budget", help="Money limit: 500M, $1.2B.")
@click.option("--power-cap", help="Facility power limit: 150MW.")
@click.option("--max-gpus", help="Most devices to consider.")
@click.option("--objective", type=choice(OBJECTIVES), default=None)
@click.option("--ownership", type=choice(OWNERSHIPS), default=None,
              help="cloud (default): the devices rented at the price per device-hour; "
              "owned: bought, priced by depreciation, cost of capital, energy and facility.")
@click.option("--price-per-gpu-hour", help="Cloud price per device-hour: 2.5 (with several "
              "--gpu, the same price for each).")
@click.option("--pue", help="Annual facility power / IT power (energy, average draw), "
              "replacing the site's: 1.2; the peak that power caps test is it plus "
              "the site's own design-day uplift (its peak - annual PUE), else "
              "peak_pue_uplift (0.1, --assume to change).")
@click.option("--energy-usd-per-kwh", help="Energy price, replacing the site's: 0.08.")
@click.option("--framework", type=choice(list(FRAMEWORKS)), default=None,
              help="Training stack (kernel fusion, attention kernel, overlap, pipeline "
              "schedule, ZeRO-3 messages); default: the best public stack of the accelerator's "
              "vendor (megatron-core for NVIDIA and AMD, maxtext for TPUs, habana-deepspeed for "
              "Gaudi, neuronx for Trainium), named in the plan's assumptions.")
@click.option("--team", type=TEAM, default=None,
              help="The kind of team running the training, whose published whole runs set the "
                   "expected realisation (default: not said, all public whole runs); hyphens may "
                   "stand for the spaces (frontier-lab).")
@click.option("--assume", multiple=True, metavar="NAME=VALUE",
              help="Change one modelling assumption (repeatable), e.g. --assume "
                   "failure_rate_per_device_hour=3e-5 --assume ep_comm_overlap=1; the plan's "
                   "assumption table names them and their sources.")
@click.option("--uncertainty/--no-uncertainty", default=False,
              help="P10/P50/P90 by Monte Carlo (--no-uncertainty: not, whatever a config file "
                   "says).")
@click.option("--seed", type=str, default="0", help="Seed of the uncertainty Monte Carlo (with "
              "--uncertainty).")
@click.option("--sensitivity", type=choice(["cost_usd", "training_days", "gpu_hours"]),
              is_flag=False, flag_value="cost_usd", default=None,
              help="Tornado: the plan's cost_usd (alone: the default), training_days or "
                   "gpu_hours at each end of every assumption's documented range and of the "
                   "catalog price, on the plan's own cluster, largest swing first, each end "
                   "naming a limit it breaks (table or json).")
@click.option("--no-sensitivity", "no_sensitivity", is_flag=True,
              help="No tornado, whatever a config file's sensitivity says.")
@click.option("--format", "fmt", type=choice(["table", "json", "csv"]), default="table")
@click.option("--inventory", help="Devices on hand per type: h100-sxm=20000,b200=8000.")
@click.option("--quiet/--no-quiet", "-q", default=False,
              help="No progress bar (one shows on a terminal when a call runs past a second).")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False),
              help="Draw days and cost against cluster size per accelerator to FILE.png, the "
                   "chosen plan and the limits marked (sizes with the solver; needs "
                   "matplotlib: pip install matplotlib, or uv sync --extra plot in the checkout).")
@click.option("--no-plot", "no_plot", is_flag=True,
              help="No chart, whatever a config file's plot says.")
@click.pass_context
def estimate(ctx, params, tokens, workload, layers, hidden, heads, kv_heads, ffn, vocab,
             ffn_type, experts, top_k, expert_ffn, shared_experts, dense_layers, expert_groups,
             group_top_k, head_dim, kv_lora_rank, q_lora_rank, rope_head_dim, v_head_dim,
             window, window_layers,
             seq_len, global_batch, precision, gpu, gpus, network, site,
             catalog_dir, layout, deadline, budget, power_cap, max_gpus, objective, ownership,
             price_per_gpu_hour, pue, energy_usd_per_kwh, framework, team, assume,
             uncertainty, seed, sensitivity, fmt, inventory, quiet, plot_path, unit,
             no_sensitivity, no_plot):
    """Plan one training run: cluster, layout, days, GPU-hours, MW, MWh, cost."""
    cat = _catalog(catalog_dir)
    shape = dict(layers=layers, hidden=hidden, heads=heads, kv_heads=kv_heads, ffn=ffn,
                 vocab=vocab, experts=experts, top_k=top_k, expert_ffn=expert_ffn,
                 shared_experts=shared_experts, dense_layers=dense_layers,
                 expert_groups=expert_groups, group_top_k=group_top_k, head_dim=head_dim,
                 kv_lora_rank=kv_lora_rank, q_lora_rank=q_lora_rank,
                 rope_head_dim=rope_head_dim, v_head_dim=v_head_dim, window=window,
                 window_layers=window_layers)
    # a model named on the command line replaces the one a config file names (its workload,
    # parameter count and shape): [estimate] workload = "llama3.1-8b" with --params 70B had
    # read as two models given; a size typed replaces a file's other size
    # a model is named by --params, --workload or a full shape; a partial shape (--kv-heads,
    # --window) changes the file's workload as it changes a --workload typed (it had set the
    # file's aside and asked for --params)
    names_model = _typed(ctx, "params") or _typed(ctx, "workload") or all(
        _typed(ctx, k) for k in ("layers", "hidden", "heads", "vocab"))
    kept = _flags_win(ctx, {"params": params, "workload": workload,
                            **(shape if names_model else {})},
                      _size_rivals(gpus, max_gpus))
    params, workload, gpus, max_gpus = (kept.get(n) for n in ("params", "workload", "gpus",
                                                              "max_gpus"))
    sensitivity, plot_path = _switched_off(
        ctx, ("sensitivity", "--sensitivity", sensitivity, no_sensitivity),
        ("plot_path", "--plot", plot_path, no_plot))
    shape = {k: kept.get(k, v) for k, v in shape.items()}
    if plot_path and gpus is not None:
        _fail("--plot: draws cluster sizes against each other; leave out --gpus")
    if sensitivity and fmt == "csv":
        _fail("--sensitivity: a tornado is a table of rows, not one CSV row; use --format "
              "table or json", option="--sensitivity", accepted="--format table or json")
    _writable(plot_path, "--plot", suffixes=CHART_SUFFIXES)
    typed = _typed(ctx, "seed")
    if not (typed or (uncertainty and ctx.get_parameter_source("seed")
                      == ParameterSource.DEFAULT_MAP)):
        seed = None  # the built-in 0, or a house default that only a Monte Carlo would use
    try:
        assumptions, filed = _assumptions(ctx, assume)
        inputs = dict(
            params=params, tokens=tokens, workload=workload, gpu=gpu, gpus=gpus,
            network=network, site=site, layout=layout, deadline=deadline, budget=budget,
            power_cap=power_cap, max_gpus=max_gpus, objective=objective, ownership=ownership,
            inventory=inventory, unit=unit,
            price_per_gpu_hour=price_per_gpu_hour, pue=pue,
            energy_usd_per_kwh=energy_usd_per_kwh, catalog=cat, ffn_type=ffn_type,
            seq_len=seq_len, global_batch=global_batch, precision=precision,
            framework=framework, team=team, assumptions=assumptions, **shape)
        plan = planner.estimate(**inputs, uncertainty=uncertainty, seed=seed,
                                progress=False if quiet else None)
        # the chart's curve comes from a sizing of its own that tries every quarter-octave
        # size: an output flag never changes the plan or its alternatives
        # (an objective, cost by default, for the curve's sizing alone: set for the plan too,
        # --plot had put "objective: given (--objective)" in the plan's JSON)
        curve = (planner.estimate(**{**inputs, "objective": objective or "cost"}, curve=True,
                                  alternatives=False, progress=False).to_dict().get("sizing")
                 if plot_path else None)
        tornado = None
        if sensitivity:
            from planner.sensitivity import sensitivity_answer

            tornado = sensitivity_answer(sensitivity, plan, **inputs)
    except (InputError, LayoutError, CatalogError) as exc:
        _fail(exc)
    d = _with_origins(ctx, plan.to_dict(), filed)
    if tornado is not None:
        d["sensitivity"] = tornado
    if plot_path:  # the file first: a write that fails is the one answer (not a second JSON
        # document after the plan), and a reader closing stdout early cannot lose the file
        from planner import charts

        try:
            charts.sizing_chart({**d, "sizing": curve}, plot_path)
        except charts.ChartError as exc:
            _fail(f"--plot: {exc}")
        except OSError as exc:
            _fail(f"--plot: {plot_path}: {exc.strerror or exc}")
        click.echo(f"plot: {plot_path}", err=True)  # stderr: stdout stays clean JSON/CSV
    _emit(d, fmt, answer_csv, report.plan_table)


@app.command(epilog=EXAMPLES["validate"])
@click.option("--format", "fmt", type=choice(["table", "json"]), default="table")
@click.option("--catalog", "catalog_dir", help=CATALOG_HELP, type=click.Path(file_okay=False))
@click.option("--refit", "refit_path", default=None, metavar="FILE|-",
              type=click.Path(dir_okay=False, allow_dash=True),
              help="Fit the realisation residual on the catalog's whole runs and write it as "
                   "the module planner/model/realisation_fit.py ships (- for stdout), "
                   "instead of validating.")
@click.pass_context
def validate(ctx, fmt, catalog_dir, refit_path):
    """Predicted vs published throughput and GPU-hours of every reference run."""
    from planner import validate as validation

    if refit_path is not None and _typed(ctx, "fmt"):  # a module is written, not a report
        _fail(f"--format {fmt} with --refit: --refit writes the Python module "
              "planner/model/realisation_fit.py ships, in no other format", option="--format",
              accepted="--format without --refit (the validation report), or --refit alone")
    if refit_path not in (None, "-"):
        _writable(refit_path, "--refit", suffixes=(".py",))  # before the fit's minutes of work
    cat = _catalog(catalog_dir)
    if refit_path is not None:
        text = validation.render_fit(*validation.fit_realisation(cat))
        if refit_path == "-":
            click.echo(text, nl=False)
        else:
            try:  # the folder checked writable can still refuse the file (/proc, as root)
                with open(refit_path, "w") as fh:
                    fh.write(text)
            except OSError as exc:
                _fail(f"--refit: {refit_path}: {exc.strerror or exc}")
            click.echo(f"wrote {refit_path}")
        return
    result = validation.run(cat)
    if fmt == "json":
        click.echo(_json(result))
    else:
        click.echo(validation.render(result))


@app.command("sweep", epilog=EXAMPLES["sweep"])
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("-o", "--out", "out", required=True, type=click.Path(file_okay=False),
              help="Output directory: Parquet part files and _manifest.json.")
@click.option("--resume/--no-resume", default=False,
              help="Complete a sweep that was interrupted (same spec, workload files, catalogs, "
                   "planner).")
@click.option("--workers", default=None, metavar="N",  # the library reads it (ASCII digits)
              help="Local worker processes (default 1; with --dask local, the local "
                   "cluster's, default up to 4; none beside a scheduler address).")
@click.option("--dask", "dask_address", default=None, metavar="ADDRESS|local",
              help="Run the chunks on a Dask cluster: a scheduler address "
                   "(tcp://host:8786) or 'local' for a LocalCluster (needs dask[distributed]).")
@click.option("--quiet/--no-quiet", "-q", default=False,
              help="No progress bar (one shows on a terminal).")
def sweep_cmd(spec, out, resume, workers, dask_address, quiet):
    """Every combination of SPEC.toml's axes, streamed to a Parquet dataset in OUT.

    Each row is an estimate, or with mode = "budget" at the top of SPEC.toml the largest run
    its limits allow (planner budget's answer; axes usd, year, deadline, gpus, ...)."""
    from planner.many import sweep as sweeping

    _writable(out, "-o/--out", directory=True)
    try:
        result = sweeping.sweep(spec, out, resume=resume, workers=workers,
                                dask=dask_address, progress=False if quiet else None)
    except sweeping.WorkersLost as exc:  # a worker killed or out of memory: not the input
        raise click.ClickException(error_text(exc)) from None  # exit 1
    except (InputError, CatalogError, sweeping.OutputError) as exc:
        _fail(exc)
    rate = result.scenarios / result.seconds if result.seconds > 0 else float("inf")
    rate_text = f"{rate:,.0f}" if rate >= 100 else f"{rate:.2g}"  # budget rows take seconds
    click.echo(f"{result.scenarios:,} scenarios, {result.parts:,} part files in {result.path} "
               f"({result.written:,} written now, {result.kept:,} already there; "
               f"{result.seconds:,.1f} s, {rate_text} scenarios/s)")
    outcome = result.outcome()
    click.echo(f"{outcome['errors']:,} with an error (their inputs refused), "
               f"{outcome['infeasible']:,} infeasible (a limit broken)"
               + (f"; first error: {outcome['first_error']}" if outcome["first_error"] else ""),
               err=bool(outcome["errors"]))
    if result.scenarios and outcome["errors"] == result.scenarios:  # no row answered: bad input
        _fail(f"{spec}: every one of its {result.scenarios:,} scenarios was refused (first "
              f"error: {outcome['first_error']}); the rows, each with its error, are in {out}",
              option="SPEC")


@app.command("schedule", epilog=EXAMPLES["schedule"])
@click.argument("fleet_file", metavar="FLEET.toml", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False),
              help="Write one row per run to OUT.parquet (status and objective in its metadata).")
@click.option("--gantt", "gantt_path", type=click.Path(dir_okay=False),
              help="Draw the schedule and each site's power to FILE.png (needs matplotlib).")
@click.option("--format", "fmt", type=choice(["table", "json"]), default="table")
@click.option("--time-limit",
              help="Time limit in seconds shared by the option plans, which are not cut "
                   "short, and CP-SAT, which gets what they leave (at least a quarter of "
                   "it); default: the file's [solver], else 60.")
@click.option("--catalog", "catalog_dir", help=CATALOG_HELP, type=click.Path(file_okay=False))
@click.option("--quiet/--no-quiet", "-q", default=False,
              help="No progress bar (one shows on a terminal).")
@click.pass_context
def schedule_cmd(ctx, fleet_file, out, gantt_path, fmt, time_limit, catalog_dir, quiet):
    """Place several runs on sites over time under devices, power and deadlines (CP-SAT)."""
    from planner.fleet import schedule as fleet

    cat = _catalog(catalog_dir)
    _writable(out, "-o/--output", suffixes=(".parquet",))
    _writable(gantt_path, "--gantt", suffixes=CHART_SUFFIXES)
    try:
        # the config files' [assumptions] (cost of capital, failure rates, a site's default
        # PUE and its design-day uplift, ...), as estimate and budget take them; the file
        # names each in the answer
        assumptions, filed = _assumptions(ctx, ())
        spec = fleet.load(fleet_file, cat, assumptions or {})
        result = fleet.schedule(spec, catalog=cat, time_limit=time_limit,
                                assumptions=assumptions or {},
                                progress=False if quiet else None)
    except UnknownKeyError as exc:
        _fail(f"FLEET.toml: {exc}")
    except (InputError, CatalogError) as exc:
        _fail(exc)
    d = result.to_dict()
    if filed:
        d["assumptions"] = {k: {"value": st.value, "origin": st.origin} for k, st in filed.items()}
    # the files first: a write that fails is the one answer (not a second JSON document after
    # the schedule), and a reader closing stdout early cannot lose them
    if out:
        try:
            result.write_parquet(out)
        except OSError as exc:
            _fail(f"-o: {out}: {exc.strerror or exc}")
        click.echo(f"parquet: {out}", err=True)
    if gantt_path and not d["runs"]:  # an infeasible fleet is an answer: nothing to draw
        click.echo(f"gantt: not drawn, the schedule places no run ({gantt_path})", err=True)
    elif gantt_path:
        from planner import charts

        try:
            charts.gantt_chart(d, gantt_path)
        except charts.ChartError as exc:
            _fail(f"--gantt: {exc}")
        except OSError as exc:
            _fail(f"--gantt: {gantt_path}: {exc.strerror or exc}")
        click.echo(f"gantt: {gantt_path}", err=True)
    if fmt == "json":
        click.echo(_json(d))
    else:
        if filed:
            click.echo("assumptions from config files: " + ", ".join(
                f"{k} = {st.value} ({st.origin})" for k, st in filed.items()))
        click.echo(result.table())


@app.command("budget", epilog=EXAMPLES["budget"])
@click.option("--usd", help="Money: 500M, $1.2B.")
@click.option("--power-cap", help="Facility power: 300MW.")
@click.option("--deadline", help="Wall-clock limit: 150d.")
@click.option("--gpus", help="Devices available (a fixed fleet); auto: sized, as when left "
              "out.")
@click.option("--max-gpus", help="Most devices to consider.")
@click.option("--unit", type=choice(list(PURCHASE_UNITS)), default="auto", show_default=True,
              help="What clusters are bought in (as for estimate).")
@click.option("--gpu", help="Accelerator key(s) allowed: h100-sxm,b200.",
              shell_complete=_complete("accelerators", several=True))
@click.option("--params", help="Fix the parameter count (tokens grow).")
@click.option("--tokens", help="Fix the token count (parameters grow).")
@click.option("--tokens-per-param", default=None,
              help="Tokens per parameter as both grow: 20, the default, is compute-optimal "
              "(Hoffmann et al. 2022); 40+ for over-training. Not with --params or --tokens.")
@click.option("--experts", help="A mixture of experts of that many routed experts per layer, "
              "shaped by the MoE rule as estimate --params shapes one (with --params or "
              "--tokens fixed: no compute-optimal ratio for experts is taken).")
@click.option("--top-k", help="Experts per token (with --experts).")
@click.option("--shared-experts", help="Shared experts per MoE layer (with --experts).")
@click.option("--year", help="Hardware available and prices of that year: 2027.")
@click.option("--price-trend", help="FLOP per dollar gained per year, in orders of magnitude "
              "(default 0.14, Epoch AI 2022); with --year, the catalog's prices move "
              "along it to that year.")
@click.option("--frontier-cost-growth", help="Frontier training cost growth per year, shown "
              "as context (default 2.4x, Cottier et al. 2024).")
@click.option("--ownership", type=choice(OWNERSHIPS), default=None,
              help="cloud (default): the devices rented at the price per device-hour; "
              "owned: bought, priced by depreciation, cost of capital, energy and facility.")
@click.option("--site", help="Site key (planner hardware list).",
              shell_complete=_complete("sites"))
@click.option("--pue", help="Annual facility power / IT power (energy, average draw), "
              "replacing the site's: 1.2; the peak that power caps test is it plus "
              "the site's own design-day uplift (its peak - annual PUE), else "
              "peak_pue_uplift (0.1, --assume to change).")
@click.option("--energy-usd-per-kwh", help="Energy price, replacing the site's: 0.08.")
@click.option("--price-per-gpu-hour", help="Cloud price per device-hour, replacing the "
              "catalog's for every accelerator and year (no trend moves it): 2.5.")
@click.option("--catalog", "catalog_dir", help=CATALOG_HELP, type=click.Path(file_okay=False))
@click.option("--assume", multiple=True, metavar="NAME=VALUE",
              help="Change one modelling assumption (repeatable), e.g. --assume "
                   "failure_rate_per_device_hour=3e-5 --assume ep_comm_overlap=1; the plan's "
                   "assumption table names them and their sources.")
@click.option("--team", type=TEAM, default=None,
              help="The kind of team running the training, whose published whole runs set the "
                   "expected realisation (default: not said, all public whole runs); hyphens may "
                   "stand for the spaces (frontier-lab).")
@click.option("--format", "fmt", type=choice(["table", "json", "csv"]), default="table",
              help="table; json (the estimate keys plus 'inverse'); csv (one row: the same "
                   "keys flattened with _, as a budget sweep's columns).")
@click.option("--quiet/--no-quiet", "-q", default=False,
              help="No progress bar (one shows on a terminal).")
@click.pass_context
def budget_cmd(ctx, usd, power_cap, deadline, gpus, max_gpus, unit, gpu, params, tokens,
               tokens_per_param, experts, top_k, shared_experts, year, price_trend,
               frontier_cost_growth, ownership, site, pue, energy_usd_per_kwh,
               price_per_gpu_hour, catalog_dir, assume, team, fmt, quiet):
    """The largest training run a budget, a site, a deadline or a fleet allows."""
    from planner import inverse

    cat = _catalog(catalog_dir)
    kept = _flags_win(ctx, {"params": params, "tokens": tokens,
                            "tokens_per_param": tokens_per_param},
                      _size_rivals(gpus, max_gpus))
    params, tokens, tokens_per_param, gpus, max_gpus = (
        kept.get(n) for n in ("params", "tokens", "tokens_per_param", "gpus", "max_gpus"))
    try:
        assumptions, filed = _assumptions(ctx, assume)
        if team is not None:
            assumptions = {**(assumptions or {}), "team": team}  # TEAM's spelling
        answer = inverse.budget(usd=usd, power_cap=power_cap, deadline=deadline, gpus=gpus,
                                max_gpus=max_gpus, gpu=gpu, params=params, tokens=tokens,
                                tokens_per_param=tokens_per_param, experts=experts,
                                top_k=top_k, shared_experts=shared_experts, year=year,
                                ownership=ownership, site=site, pue=pue,
                                energy_usd_per_kwh=energy_usd_per_kwh,
                                price_per_gpu_hour=price_per_gpu_hour, catalog=cat,
                                assumptions=assumptions,
                                price_trend=price_trend,
                                frontier_cost_growth=frontier_cost_growth,
                                progress=False if quiet else None, unit=unit)
    except (InputError, CatalogError) as exc:
        _fail(exc)
    d = _with_origins(ctx, answer.to_dict(), filed)
    _emit(d, fmt, inverse.budget_csv, report.budget_table)


@app.group(epilog=EXAMPLES["hardware"])
def hardware():
    """Accelerators, networks and sites in the catalog."""


HARDWARE = ("accelerators", "networks", "sites")
CATALOG_OPTION = click.option("--catalog", "catalog_dir", type=click.Path(file_okay=False),
                              help=CATALOG_HELP)
LIST_FORMAT = click.option("--format", "fmt", type=choice(["table", "json"]),
                           default="table", help="table, or json (every item's figures, in "
                           "the units their names carry; docs/interface.md).")


@hardware.command("list", epilog=EXAMPLES["hardware list"])
@CATALOG_OPTION
@LIST_FORMAT
def hardware_list(catalog_dir, fmt):
    """List accelerators, networks and sites."""
    _list(catalog_dir, HARDWARE, fmt)


@hardware.command("show", epilog=EXAMPLES["hardware show"])
@click.argument("name", shell_complete=_complete(*HARDWARE))
@CATALOG_OPTION
@LIST_FORMAT
def hardware_show(name, catalog_dir, fmt):
    """Every figure of one accelerator, network or site, with its source."""
    _show(catalog_dir, HARDWARE, name, fmt, "hardware")


@app.group(epilog=EXAMPLES["workloads"])
def workloads():
    """Model architectures and published runs in the catalog."""


@workloads.command("list", epilog=EXAMPLES["workloads list"])
@CATALOG_OPTION
@LIST_FORMAT
def workloads_list(catalog_dir, fmt):
    """List workloads."""
    _list(catalog_dir, ("workloads",), fmt)


@workloads.command("show", epilog=EXAMPLES["workloads show"])
@click.argument("name", shell_complete=_complete("workloads"))
@CATALOG_OPTION
@LIST_FORMAT
def workloads_show(name, catalog_dir, fmt):
    """The architecture and published figures of one workload: NAME is a key of 'planner
    workloads list' or a workload FILE.toml (as --workload takes it)."""
    _show(catalog_dir, ("workloads",), name, fmt, "workload")


def _list(catalog_dir, kinds, fmt):
    cat = _catalog(catalog_dir)
    try:
        if fmt == "json":
            click.echo(_json(catalog_view.catalog_records(cat, kinds)))
        else:
            click.echo(planner.catalog_table(cat, kinds))
    except CatalogError as exc:
        _fail(exc)


def _show(catalog_dir, kinds, name, fmt, what):
    cat = _catalog(catalog_dir)
    listing = "planner hardware list" if what == "hardware" else "planner workloads list"
    if not str(name).strip():  # named as NAME, not as a flag it was not given through
        raise UsageError(f"NAME: {name!r} is empty; accepted: a key of '{listing}'", "NAME",
                         f"a key of '{listing}'")
    if what == "workload" and str(name).endswith(".json"):  # read by estimate, not a file here
        raise UsageError(f"NAME: {name} is a Hugging Face config.json: 'planner estimate "
                         f"--workload {name} --tokens N' reads its shape (the plan's "
                         "architecture assumption names what it took)", "NAME",
                         "a key of 'planner workloads list' or FILE.toml")
    if what == "workload" and is_workload_file(name) and not Path(name).is_file():
        raise UsageError(f"NAME: '{name}' is no such file; accepted: a key of 'planner "
                         "workloads list' or FILE.toml laid out as docs/catalog.md says",
                         "NAME", "a key of 'planner workloads list' or FILE.toml")
    for kind in kinds:
        try:
            key = (name if what == "workload" and is_workload_file(name)
                   else cat.resolve(kind, name))
        except UnknownKeyError:
            continue
        except CatalogError as exc:
            _fail(exc)
        try:
            if fmt == "json":
                click.echo(_json(catalog_view.catalog_item(cat, kind, key)))
            else:
                click.echo(planner.catalog_show(cat, kind, key))
        except CatalogError as exc:
            _fail(exc)
        return
    near = did_you_mean(name, [k for kind in kinds for k in cat.keys(kind)])
    raise UsageError(f"NAME: unknown {what} '{name}'"
                     + (f" (did you mean {near}?)" if near else "") + f"; see '{listing}'",
                     "NAME", f"a key of '{listing}'")


@app.group(epilog=EXAMPLES["config"])
def config():
    """House defaults from config files: where they are and what they set."""


@config.command("show", epilog=EXAMPLES["config show"])
@click.option("--format", "fmt", type=choice(["table", "json"]), default="table")
@click.pass_context
def config_show(ctx, fmt):
    """Every flag's default per command and every assumption, each with its origin: a config
    file (and its table) or the planner's built-in default."""
    cfg = ctx.find_object(house.Config) or house.Config()
    try:
        from planner.plan.quantities import FLAG_PARSERS

        cfg.check_values(FLAG_PARSERS)  # the values a command would refuse (interface.md)
    except InputError as exc:
        _fail(exc)
    _check_catalog_keys(cfg)
    builtins, taken = {}, {}
    root = ctx.find_root().default_map or {}
    for path, cmd in _commands():
        mine = builtins.setdefault(" ".join(path), {})
        node = root
        for name in path:
            node = node.get(name, {}) if isinstance(node, dict) else {}
        for p in cmd.params:
            flag = _flag(p)
            if flag:  # a built-in default is a plain value (click's "unset" is not)
                mine[flag] = p.default if isinstance(p.default, (str, int, float)) else None
        # the config values the command really takes (_defaults: a [defaults] format = "csv"
        # is not the table-only commands'), not every one its tables name
        taken[" ".join(path)] = {_flag(p) for p in cmd.params if p.name in node}
    effective = house.effective(cfg, builtins, taken)
    if fmt == "json":
        click.echo(_json(effective))
    else:
        click.echo(report.config_table(effective))


# Flags whose values are catalog keys, and the kind of key (config show checks a file's).
CATALOG_FLAGS = {"gpu": "accelerators", "site": "sites", "network": "networks",
                 "workload": "workloads"}


def _check_catalog_keys(cfg: house.Config) -> None:
    """The catalogs the commands would read (PLANNER_CATALOG's and the files' directories), a
    config file's accelerator, site, network (a scale-out one) and workload keys, its
    inventory and layout, and its [assumptions] accelerator, each checked against the catalog
    its command would read: a value every plan would refuse is refused here, naming the file
    (docs/interface.md; a misspelt workload, a layout part, an inventory's device count and a
    scale-up network had been listed as if taken)."""
    from planner.plan.cluster import scale_out_network
    from planner.plan.quantities import parse_inventory
    from planner.specs import parse_layout

    catalogs: dict = {}  # one load per catalog setting, for the tables that name a key

    def catalog_of(command: str):
        given = cfg.for_command(command, ["catalog"]).get("catalog")
        where = given.value if given is not None else None
        if repr(where) not in catalogs:  # by its text: a list of directories too
            catalogs[repr(where)] = _catalog(where)
        return catalogs[repr(where)]

    def refuse(flag, value, accepted, reason, setting):
        _fail(InputError(flag, value, accepted, f"{reason} (set in config file "
                                                f"{setting.origin})"))

    def key_checked(flag, kind, key, setting, cat, shown=None):
        try:
            cat.resolve(kind, key)
        except UnknownKeyError as exc:
            hint = f" (did you mean {exc.suggestion}?)" if exc.suggestion else ""
            listing = "workloads" if kind == "workloads" else "hardware"
            refuse(flag, shown or key.strip(), f"a key of 'planner {listing} list' ({kind}): "
                   + ", ".join(sorted(exc.known)), f"is not in the catalog{hint}", setting)
        except (InputError, CatalogError) as exc:  # an empty item; a catalog fault
            refuse(flag, setting.value, getattr(exc, "accepted", None)
                   or f"a key of 'planner hardware list' ({kind})",
                   getattr(exc, "reason", None) or exc, setting)

    # every catalog a command would read, PLANNER_CATALOG's directories first, loaded as it
    # loads them (PLANNER_CATALOG=/nonexist had passed here and stopped every command)
    for command in ("estimate", *cfg.flags):
        catalog_of("estimate" if command == "defaults" else command)
    for table, values in cfg.flags.items():
        command = "estimate" if table == "defaults" else table
        for flag, kind in CATALOG_FLAGS.items():
            setting = values.get(flag)
            if setting is None or setting.value is None:
                continue
            if flag == "workload" and str(setting.value).lower().endswith(
                    house.PATH_SUFFIXES):  # a workload FILE.toml or a config.json: read
                continue  # (and checked) by the plan that takes it, as the loader reads it
            keys = [setting.value] if flag == "workload" else str(setting.value).split(",")
            for key in keys:
                key_checked(f"--{flag}", kind, str(key), setting, catalog_of(command))
            if flag == "network":  # a scale-up fabric (nvlink4), refused by every plan
                try:
                    scale_out_network(catalog_of(command), str(setting.value))
                except InputError as exc:  # worded as estimate words it (_fail)
                    raise UsageError(f"{error_text(exc)} (set in config file "
                                     f"{setting.origin})", exc.name, exc.accepted) from None
        for flag in ("inventory", "layout"):
            setting = values.get(flag)
            if setting is None or setting.value is None:
                continue
            try:
                if flag == "inventory":
                    parse_inventory(setting.value, catalog_of(command))
                else:
                    parse_layout(setting.value)
            except InputError as exc:
                refuse(f"--{flag}", exc.value, exc.accepted, exc.reason or "is not valid",
                       setting)
    accelerator = cfg.assumptions.get("accelerator")
    if accelerator is not None:  # the default accelerator of every plan with no --gpu
        key_checked("--assume", "accelerators", str(accelerator.value), accelerator,
                    catalog_of("estimate"), f"accelerator={accelerator.value}")


def main(argv=None):
    """Entry point: exit 0 an answer, 2 bad input, 130 interrupted (Ctrl-C), 1 anything else;
    never a traceback.
    With --format json, an error is a JSON object on stdout: {"error": {"option",
    "accepted", "message", "exit_status"}}."""
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        _one_catalog_flag(args)
        app.main(args=args, prog_name="planner", standalone_mode=False)
    except click.exceptions.Abort:  # Ctrl-C: not an internal error (128 + SIGINT, as shells)
        resumable = bool(args) and args[0] == "sweep"  # it always writes to -o DIR
        click.echo("interrupted" + ("; the parts written are kept: rerun with --resume to "
                                    "complete the sweep" if resumable else ""), err=True)
        sys.exit(130)
    except click.ClickException as exc:
        status = 2 if isinstance(exc, click.UsageError) else exc.exit_code
        try:
            if _wants_json(args, exc):
                click.echo(_json({"error": _error_object(exc, status)}))
            else:
                exc.show()
        except BrokenPipeError:  # the reader left: the exit status says it
            _quiet_stdout()
        sys.exit(status)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except (InputError, LayoutError, CatalogError) as exc:  # bad input no command worded
        try:
            click.echo(f"Error: {error_text(exc)}", err=True)
        except OSError:
            pass  # nowhere left to say it: the exit status does
        sys.exit(2)
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback
        text = f"internal error: {type(exc).__name__}: {exc}"
        as_json = _wants_json(args, exc)
        if as_json:
            try:
                click.echo(_json({"error": {
                    "option": None, "accepted": None, "exit_status": 1, "message": text}}))
            except OSError:  # stdout itself is what failed (a full disk): stderr says it
                as_json = False
        if not as_json:
            try:
                click.echo(f"planner: {text}", err=True)
            except OSError:
                pass  # nowhere left to say it: the exit status does
        sys.exit(1)
    sys.exit(0)


def _one_catalog_flag(args: list[str]) -> None:
    """Refuse --catalog given twice: click would keep the last one, silently dropping the
    other directory's files."""
    given = [a for a in args if a == "--catalog" or a.startswith("--catalog=")]
    if len(given) > 1:
        raise UsageError(f"--catalog is given {len(given)} times: give it once, several "
                         f"directories joined with {os.pathsep} (--catalog DIR1{os.pathsep}DIR2, "
                         "later ones win; PLANNER_CATALOG likewise, which --catalog adds to)",
                         "--catalog", "one --catalog DIR")


def _quiet_stdout() -> None:
    """Point stdout at the null device, so the interpreter's last flush of a closed pipe
    prints nothing (Python's documented handling of SIGPIPE: the signal module's notes)."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _wants_json(args: list[str], exc: Exception) -> bool:
    """--format json on the command line, or a command whose format resolved to json (a
    config file's default), also when the error came before the command read its options
    (an unknown flag, a bad choice, a config file's value refused)."""
    typed = None
    for i, a in enumerate(args):  # a format typed wins over a file's, the last typed as click
        if a.startswith("--format="):  # takes it (the first had decided errors alone)
            typed = a == "--format=json"
        elif a == "--format" and args[i + 1:i + 2]:
            typed = args[i + 1] == "json"
    if typed is not None:
        return typed
    ctx = getattr(exc, "ctx", None) or click.get_current_context(silent=True)
    if ctx is not None and "fmt" in ctx.params:
        return ctx.params["fmt"] == "json"
    if ctx is not None and ctx.default_map and "fmt" in ctx.default_map:
        return ctx.default_map["fmt"] == "json"
    command = next((a for a in args if not a.startswith("-")), None)
    cmd = app.commands.get(command) if command is not None else None
    if not isinstance(cmd, click.Command) or isinstance(cmd, click.Group) \
            or not any(p.name == "fmt" for p in cmd.params):
        return False  # a command without --format (sweep), a group, a name misspelt
    try:  # the config files' format for the command named, read again on this error path
        setting = house.load().for_command(command, ["format"]).get("format")
    except Exception:  # noqa: BLE001 - a file that does not load is the error being shown
        return False
    return setting is not None and setting.value == "json"


def _error_object(exc: click.ClickException, status: int) -> dict:
    """option, accepted form, message and exit status of a CLI error."""
    option = getattr(exc, "option", None)
    accepted = getattr(exc, "accepted", None)
    param = getattr(exc, "param", None)
    if option is None and isinstance(param, click.Argument):  # as the usage line names it
        option = param.human_readable_name
    elif option is None and param is not None:
        option = (param.opts[0] if getattr(param, "opts", None) else param.name)
        if isinstance(param.type, click.Choice):
            accepted = "one of " + ", ".join(map(str, param.type.choices))
    if option is None and isinstance(exc, click.BadOptionUsage) and not isinstance(
            exc, click.NoSuchOption):  # "Option '--params' requires an argument."
        option = exc.option_name
    if option is None and isinstance(exc, click.NoSuchOption):
        option, accepted = exc.option_name, (", ".join(exc.possibilities)
                                             if exc.possibilities else None)
    return {"option": option, "accepted": accepted, "message": exc.format_message(),
            "exit_status": status}


if __name__ == "__main__":
    main()
