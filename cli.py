"""The `planner` command: parses, calls the library, renders. No modelling here."""

from __future__ import annotations

import json
import sys

import click

import planner
from planner import report
from planner.assumptions import FRAMEWORKS, parse_overrides
from planner.errors import CatalogError, InputError, LayoutError, UnknownKeyError, error_text
from planner.schema import check_output_path


class UsageError(click.UsageError):
    exit_code = 2


def _fail(exc: Exception, hint: str | None = None):
    """Library errors a user caused -> exit 2 with the message; never a traceback."""
    raise UsageError(str(exc) + (f" ({hint})" if hint else ""))


def _writable(path, flag: str, directory: bool = False):
    """An output path checked before any work (its folder exists and is writable)."""
    if path is not None:
        try:
            check_output_path(path, flag, directory)
        except InputError as exc:
            _fail(exc)


def _catalog(ctx_catalog):
    try:
        return planner.catalog(ctx_catalog)
    except (CatalogError, InputError) as exc:
        _fail(exc, "--catalog DIR: a directory laid out like hardware/ and workloads/")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(planner.__version__, prog_name="planner")
def app():
    """Capacity planner for frontier-scale model training."""


@app.command()
@click.option("--params", help="Parameter count: 70B, 1T, 1.5e12.")
@click.option("--tokens", help="Training tokens: 15T.")
@click.option("--workload", help="A workload key (planner workloads list) or FILE.toml.")
@click.option("--layers", help="Transformer layers (full shape).")
@click.option("--hidden", help="Model width.")
@click.option("--heads", help="Attention heads.")
@click.option("--kv-heads", help="Key/value heads (GQA); default = heads.")
@click.option("--ffn", help="FFN width (dense layers).")
@click.option("--vocab", help="Vocabulary size.")
@click.option("--ffn-type", type=click.Choice(["gated", "plain"]),
              help="gated (SwiGLU, 3 matrices) or plain (2); inferred when absent.")
@click.option("--experts", help="Routed experts per MoE layer.")
@click.option("--top-k", help="Experts per token.")
@click.option("--expert-ffn", help="FFN width of one expert.")
@click.option("--shared-experts", help="Shared experts per MoE layer.")
@click.option("--dense-layers", help="Leading layers with a dense FFN (MoE).")
@click.option("--seq-len", help="Sequence length: 8192.")
@click.option("--global-batch", help="Global batch in tokens: 16M.")
@click.option("--precision", type=click.Choice(["bf16", "fp16", "fp8", "fp4"]))
@click.option("--gpu", help="Accelerator key(s): h100-sxm or b200,h100-sxm,mi300x.")
@click.option("--gpus", help="Number of devices (otherwise sized to meet the deadline).")
@click.option("--network", help="Scale-out network key (planner hardware list).")
@click.option("--site", help="Site key (planner hardware list).")
@click.option("--catalog", "catalog_dir", help="Extra catalog directory.")
@click.option("--layout", help='"tp=8,pp=16,dp=128,cp=1,ep=1,mb=1,vp=1,recompute=..,zero=.."')
@click.option("--deadline", help="Wall-clock limit: 90d, 12w, 2160h.")
@click.option("--budget", help="Money limit: 500M, $1.2B.")
@click.option("--power-cap", help="Facility power limit: 150MW.")
@click.option("--max-gpus", help="Most devices to consider.")
@click.option("--objective", type=click.Choice(["cost", "time"]), default=None)
@click.option("--ownership", type=click.Choice(["cloud", "owned"]), default="cloud")
@click.option("--price-per-gpu-hour", help="Cloud price per device-hour: 2.5.")
@click.option("--pue", help="Facility power / IT power, replacing the site's: 1.2.")
@click.option("--energy-usd-per-kwh", help="Energy price, replacing the site's: 0.08.")
@click.option("--framework", type=click.Choice(list(FRAMEWORKS)), default=None,
              help="Training framework (kernel fusion, attention kernel): "
              + ", ".join(FRAMEWORKS) + " (default megatron).")
@click.option("--assume", multiple=True, metavar="NAME=VALUE",
              help="Change one modelling assumption (repeatable), e.g. --assume "
                   "failure_rate_per_device_hour=3e-5 --assume ep_comm_overlap=1; the plan's "
                   "assumption table names them and their sources.")
@click.option("--uncertainty", is_flag=True, help="P10/P50/P90 by Monte Carlo.")
@click.option("--seed", default=0, type=int, help="Seed of the uncertainty Monte Carlo.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table")
@click.option("--inventory", help="Devices on hand per type: h100-sxm=20000,b200=8000.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False),
              help="Draw days and cost against cluster size per accelerator to FILE.png, the "
                   "chosen plan and the limits marked (sizes with the solver; needs "
                   "matplotlib: pip install 'planner[plot]').")
def estimate(params, tokens, workload, layers, hidden, heads, kv_heads, ffn, vocab, ffn_type,
             experts, top_k, expert_ffn, shared_experts, dense_layers, seq_len, global_batch,
             precision, gpu, gpus, network, site, catalog_dir, layout, deadline, budget,
             power_cap, max_gpus, objective, ownership, price_per_gpu_hour, pue,
             energy_usd_per_kwh, framework, assume, uncertainty, seed, fmt, inventory,
             plot_path):
    """Plan one training run: cluster, layout, days, GPU-hours, MW, MWh, cost."""
    cat = _catalog(catalog_dir)
    shape = dict(layers=layers, hidden=hidden, heads=heads, kv_heads=kv_heads, ffn=ffn,
                 vocab=vocab, experts=experts, top_k=top_k, expert_ffn=expert_ffn,
                 shared_experts=shared_experts, dense_layers=dense_layers)
    if plot_path and gpus is not None:
        _fail("--plot: draws cluster sizes against each other; leave out --gpus")
    _writable(plot_path, "--plot")
    if plot_path and objective is None:
        objective = "cost"  # the curves come from the solver's sizing; cost is its default
    try:
        plan = planner.estimate(
            params=params, tokens=tokens, workload=workload, gpu=gpu, gpus=gpus,
            network=network, site=site, layout=layout, deadline=deadline, budget=budget,
            power_cap=power_cap, max_gpus=max_gpus, objective=objective, ownership=ownership,
            inventory=inventory,
            price_per_gpu_hour=price_per_gpu_hour, pue=pue,
            energy_usd_per_kwh=energy_usd_per_kwh, catalog=cat, ffn_type=ffn_type,
            seq_len=seq_len, global_batch=global_batch, precision=precision,
            framework=framework, uncertainty=uncertainty, seed=seed, curve=bool(plot_path),
            assumptions=parse_overrides(assume) or None, **shape)
    except (InputError, LayoutError, CatalogError) as exc:
        _fail(error_text(exc))
    d = plan.to_dict()
    if fmt == "json":
        click.echo(json.dumps(d, indent=2))
    elif fmt == "csv":
        click.echo(report.plan_csv(d), nl=False)
    else:
        click.echo(report.plan_table(d))
    if plot_path:
        from planner import charts

        try:
            charts.sizing_chart(d, plot_path)
        except charts.ChartError as exc:
            _fail(f"--plot: {exc}")
        click.echo(f"plot: {plot_path}", err=True)  # stderr: stdout stays clean JSON/CSV


@app.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.option("--catalog", "catalog_dir", help="Extra catalog directory.")
def validate(fmt, catalog_dir):
    """Predicted vs published throughput and GPU-hours of every reference run."""
    from planner import validate as validation

    cat = _catalog(catalog_dir)
    result = validation.run(cat)
    if fmt == "json":
        click.echo(json.dumps(result, indent=2))
    else:
        click.echo(validation.render(result))


@app.command("sweep")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("-o", "--out", "out", required=True, type=click.Path(file_okay=False),
              help="Output directory: Parquet part files and _manifest.json.")
@click.option("--resume", is_flag=True,
              help="Complete a sweep that was interrupted (same spec, catalogs, planner).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1),
              help="Local worker processes.")
@click.option("--dask", "dask_address", default=None, metavar="ADDRESS|local",
              help="Run the chunks on a Dask cluster: a scheduler address "
                   "(tcp://host:8786) or 'local' for a LocalCluster (needs planner[dask]).")
def sweep_cmd(spec, out, resume, workers, dask_address):
    """Every combination of SPEC.toml's axes, streamed to a Parquet dataset in OUT.

    Each row is an estimate, or with mode = "budget" at the top of SPEC.toml the largest run
    its limits allow (planner budget's answer; axes usd, year, deadline, gpus, ...)."""
    from planner.many import sweep as sweeping

    _writable(out, "-o/--out", directory=True)
    bar = None
    if sys.stderr.isatty():
        bar = click.progressbar(length=1, label="scenarios", file=sys.stderr,
                                show_pos=True, show_percent=True, show_eta=True)

    def progress(done, total):
        if bar is None:
            return
        bar.length = total
        bar.update(done - bar.pos)

    try:
        if bar is not None:
            bar.__enter__()
        result = sweeping.sweep(spec, out, resume=resume, workers=workers,
                                dask=dask_address, progress=progress)
    except (InputError, CatalogError, sweeping.OutputError) as exc:
        _fail(exc)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    rate = result.scenarios / result.seconds if result.seconds > 0 else float("inf")
    rate_text = f"{rate:,.0f}" if rate >= 100 else f"{rate:.2g}"  # budget rows take seconds
    click.echo(f"{result.scenarios:,} scenarios, {result.parts:,} part files in {result.path} "
               f"({result.written:,} written now, {result.kept:,} already there; "
               f"{result.seconds:,.1f} s, {rate_text} scenarios/s)")


@app.command("schedule")
@click.argument("fleet_file", metavar="FLEET.toml", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False),
              help="Write one row per run to OUT.parquet (status and objective in its metadata).")
@click.option("--gantt", "gantt_path", type=click.Path(dir_okay=False),
              help="Draw the schedule and each site's power to FILE.png (needs matplotlib).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.option("--time-limit", type=float,
              help="CP-SAT time limit in seconds (default: the file's [solver], else 60).")
@click.option("--catalog", "catalog_dir", help="Extra catalog directory.")
def schedule_cmd(fleet_file, out, gantt_path, fmt, time_limit, catalog_dir):
    """Place several runs on sites over time under devices, power and deadlines (CP-SAT)."""
    from planner.fleet import schedule as fleet
    from planner.fleet.model import FleetSettings

    cat = _catalog(catalog_dir)
    _writable(out, "-o/--output")
    _writable(gantt_path, "--gantt")
    if time_limit is not None and not time_limit > 0:
        _fail(f"--time-limit: {time_limit!r} is not valid; accepted: a positive number of "
              "seconds")
    try:
        spec = fleet.load(fleet_file, cat)
        settings = None
        if time_limit is not None:
            settings = FleetSettings(time_limit, spec.settings.workers, spec.settings.seed)
        result = fleet.schedule(spec, catalog=cat, settings=settings)
    except UnknownKeyError as exc:
        _fail(f"FLEET.toml: {exc}")
    except (InputError, CatalogError) as exc:
        _fail(exc)
    d = result.to_dict()
    if fmt == "json":
        click.echo(json.dumps(d, indent=2))
    else:
        click.echo(result.table())
    if out:
        result.write_parquet(out)
        click.echo(f"parquet: {out}", err=True)
    if gantt_path:
        from planner import charts

        try:
            charts.gantt_chart(d, gantt_path)
        except charts.ChartError as exc:
            _fail(f"--gantt: {exc}")
        click.echo(f"gantt: {gantt_path}", err=True)


@app.command("budget")
@click.option("--usd", help="Money: 500M, $1.2B.")
@click.option("--power-cap", help="Facility power: 300MW.")
@click.option("--deadline", help="Wall-clock limit: 150d.")
@click.option("--gpus", help="Devices available (a fixed fleet).")
@click.option("--max-gpus", help="Most devices to consider.")
@click.option("--gpu", help="Accelerator key(s) allowed: h100-sxm,b200.")
@click.option("--params", help="Fix the parameter count (tokens grow).")
@click.option("--tokens", help="Fix the token count (parameters grow).")
@click.option("--tokens-per-param", default="20", show_default=True,
              help="Compute-optimal ratio (Hoffmann et al. 2022); 40+ for over-training.")
@click.option("--year", help="Hardware available and prices of that year: 2027.")
@click.option("--price-trend", help="FLOP per dollar gained per year, in orders of magnitude "
              "(default 0.14, Epoch AI 2022); prices of other years move along it.")
@click.option("--frontier-cost-growth", help="Frontier training cost growth per year, shown "
              "as context (default 2.4x, Cottier et al. 2024).")
@click.option("--ownership", type=click.Choice(["cloud", "owned"]), default="cloud")
@click.option("--site", help="Site key (planner hardware list).")
@click.option("--pue", help="Facility power / IT power, replacing the site's: 1.2.")
@click.option("--energy-usd-per-kwh", help="Energy price, replacing the site's: 0.08.")
@click.option("--catalog", "catalog_dir", help="Extra catalog directory.")
@click.option("--assume", multiple=True, metavar="NAME=VALUE",
              help="Change one modelling assumption (repeatable), e.g. --assume "
                   "failure_rate_per_device_hour=3e-5 --assume ep_comm_overlap=1; the plan's "
                   "assumption table names them and their sources.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
def budget_cmd(usd, power_cap, deadline, gpus, max_gpus, gpu, params, tokens, tokens_per_param,
               year, price_trend, frontier_cost_growth, ownership, site, pue,
               energy_usd_per_kwh, catalog_dir, assume, fmt):
    """The largest training run a budget, a site, a deadline or a fleet allows."""
    from planner import inverse

    cat = _catalog(catalog_dir)
    try:
        answer = inverse.budget(usd=usd, power_cap=power_cap, deadline=deadline, gpus=gpus,
                                max_gpus=max_gpus, gpu=gpu, params=params, tokens=tokens,
                                tokens_per_param=tokens_per_param, year=year,
                                ownership=ownership, site=site, pue=pue,
                                energy_usd_per_kwh=energy_usd_per_kwh, catalog=cat,
                                assumptions=parse_overrides(assume) or None,
                                trends=inverse.trends_for(price_trend, frontier_cost_growth))
    except (InputError, CatalogError) as exc:
        _fail(error_text(exc))
    if fmt == "json":
        click.echo(answer.to_json())
    else:
        click.echo(report.budget_table(answer.to_dict()))


@app.group()
def hardware():
    """Accelerators, networks and sites in the catalog."""


@hardware.command("list")
@click.option("--catalog", "catalog_dir")
def hardware_list(catalog_dir):
    """List accelerators, networks and sites."""
    cat = _catalog(catalog_dir)
    try:
        click.echo(planner.catalog_table(cat, ("accelerators", "networks", "sites")))
    except CatalogError as exc:
        _fail(exc)


@hardware.command("show")
@click.argument("name")
@click.option("--catalog", "catalog_dir")
def hardware_show(name, catalog_dir):
    """Every figure of one accelerator, network or site, with its source."""
    cat = _catalog(catalog_dir)
    for kind in ("accelerators", "networks", "sites"):
        try:
            key = cat.resolve(kind, name)
        except UnknownKeyError:
            continue
        except CatalogError as exc:
            _fail(exc)
        click.echo(planner.catalog_show(cat, kind, key))
        return
    _fail(f"NAME: unknown hardware '{name}' (see 'planner hardware list')")


@app.group()
def workloads():
    """Model architectures and published runs in the catalog."""


@workloads.command("list")
@click.option("--catalog", "catalog_dir")
def workloads_list(catalog_dir):
    """List workloads."""
    cat = _catalog(catalog_dir)
    try:
        click.echo(planner.catalog_table(cat, ("workloads",)))
    except CatalogError as exc:
        _fail(exc)


@workloads.command("show")
@click.argument("name")
@click.option("--catalog", "catalog_dir")
def workloads_show(name, catalog_dir):
    """The architecture and published figures of one workload."""
    cat = _catalog(catalog_dir)
    try:
        key = cat.resolve("workloads", name)
        click.echo(planner.catalog_show(cat, "workloads", key))
    except UnknownKeyError:
        _fail(f"NAME: unknown workload '{name}' (see 'planner workloads list')")
    except CatalogError as exc:
        _fail(exc)


def main(argv=None):
    """Entry point: exit 0 an answer, 2 bad input, 1 anything else; never a traceback."""
    try:
        app.main(args=argv, prog_name="planner", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2 if isinstance(exc, click.UsageError) else exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except (InputError, LayoutError, CatalogError) as exc:  # bad input no command worded
        click.echo(f"Error: {error_text(exc)}", err=True)
        sys.exit(2)
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback
        click.echo(f"planner: internal error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(1)
    sys.exit(0)


if __name__ == "__main__":
    main()
