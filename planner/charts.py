"""Pictures for planners (matplotlib, the optional ``plot`` extra): no modelling here.

``sizing_figure``: training days and cost against cluster size for every accelerator the
sizing considered, the chosen plan marked and the limits drawn (deadline, budget, power cap,
device caps). ``breakdown_figure``: one plan's step time, memory per device and cost by
component. ``gantt_figure``: a fleet schedule, one bar per run on its site, deadlines marked,
and the power each site draws against its cap over time. Each ``*_figure`` returns a
matplotlib Figure (what ``Plan.plot()`` and ``FleetSchedule.plot()`` give a notebook); each
``*_chart`` writes one to a file (the CLI's --plot and --gantt).

matplotlib is imported inside the functions, and figures are built with its object API
(``matplotlib.figure.Figure``), never pyplot: ``import planner`` never needs matplotlib,
charts render without a display, and a notebook's backend is left as it is.
"""

from __future__ import annotations

import math
import sys
from datetime import date, timedelta
from pathlib import Path

from .units import fmt_count, fmt_days, fmt_money, fmt_mw


class ChartError(ValueError):
    """A chart that cannot be drawn from what it was given (names what is missing)."""


# Text carrying names (a workload's, a run's, a site's, an accelerator's) is drawn as written,
# never as mathtext, where a pair of "$" opens a formula: "Acme $10M run, tier $2" had lost
# its dollars to italics and "cost $\frac{1}$ model" had crashed the chart. (Tick labels
# of the log axes are matplotlib's own mathtext, so this is set per text, not globally.)
LITERAL = {"parse_math": False}


def _legend(ax, *args, **kwargs):
    """ax.legend, its labels drawn as written (LITERAL)."""
    legend = ax.legend(*args, **kwargs)
    for text in legend.get_texts():
        text.set_parse_math(False)
    return legend


def _figure(**kwargs):
    """A new matplotlib Figure (object API, no pyplot state), and matplotlib's colour cycle."""
    try:
        import matplotlib
        from matplotlib.figure import Figure
    except ImportError:  # the optional extra
        raise ChartError("charts need matplotlib: pip install matplotlib, or uv sync --extra "
                         "plot in the checkout") from None
    _notebook_display(Figure)
    return Figure(**kwargs), matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]


def _notebook_display(figure_type) -> None:
    """In IPython, make a returned Figure display as a PNG when nothing has said how yet (the
    inline backend says so only once pyplot has drawn): IPython's own print_figure, for the
    Figure type only; a backend's later setup replaces it."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return
    png = shell.display_formatter.formatters.get("image/png")
    if png is None:
        return
    try:
        png.lookup_by_type(figure_type)
    except KeyError:
        from IPython.core.pylabtools import print_figure

        png.for_type(figure_type, lambda fig: print_figure(fig, "png", bbox_inches="tight"))


def _save(fig, path: str | Path, **kwargs) -> Path:
    from .schema import CHART_SUFFIXES, check_output_suffix
    from .units import InputError

    try:
        out = check_output_suffix(path, "chart", CHART_SUFFIXES)
    except InputError as exc:
        raise ChartError(str(exc)) from None
    fig.savefig(out, **kwargs)  # PNG, SVG or PDF by the suffix
    return out


def _finite(x) -> bool:
    return x is not None and math.isfinite(x)


def _envelope(ax, opts: dict, idx: list, x: list, colour, first: bool) -> list:
    """The days a planner can reach with at most each size (the fastest at or below it: a
    poor size is run on fewer devices, or fewer are bought), drawn under the curve; poor
    sizes crossed. Returns the notes of the worst two (plan/assemble.size_notes)."""
    days = [opts["training_days"][i] if _finite(opts["training_days"][i]) else math.inf
            for i in idx]
    reach, best = [], math.inf
    for d in days:
        best = min(best, d)
        reach.append(best if math.isfinite(best) else math.nan)
    ax.step(x, reach, where="post", color=colour, lw=3, alpha=0.25,
            label="reachable (fastest at or below each size)" if first else None)
    poor = [(days[j] / reach[j - 1] if j and _finite(reach[j - 1]) else 1.0, j)
            for j, i in enumerate(idx) if (opts.get("poor") or [False] * len(x))[i]]
    if not poor:
        return []
    ax.scatter([x[j] for _, j in poor], [days[j] for _, j in poor], marker="x", color=colour,
               s=40, zorder=4, label="poor size (a smaller one is faster)" if first else None)
    notes = opts.get("note") or [None] * len(opts["gpus"])
    return [notes[idx[j]] for _, j in sorted(poor, reverse=True)[:2] if notes[idx[j]]]


def sizing_chart(plan: dict, path: str | Path) -> Path:
    """Draw days and cost against cluster size per accelerator to `path` (PNG, SVG or PDF by
    its suffix). `plan` is ``Plan.to_dict()`` of a sized plan (one with a ``sizing`` key)."""
    return _save(sizing_figure(plan), path, dpi=120)


def sizing_figure(plan: dict):
    """Days and cost against cluster size per accelerator, as a matplotlib Figure."""
    sizing = plan.get("sizing")
    if not sizing or not sizing.get("options", {}).get("gpus"):
        given = str(((plan.get("assumptions") or {}).get("gpus") or {}).get("source", ""))
        raise ChartError(
            "the sizing chart needs a plan sized under limits or an objective "
            + ("(a --gpus given fixes the size: leave it out)" if given == "given" else
               "(a full --layout fixes the size: leave its dp out)" if given.startswith("given")
               # a sizing no size of which runs a layout has nothing to draw ("a --gpus given"
               # had been said where none was)
               else f"among sizes a layout runs; none does: {plan.get('reason')}"))
    fig, colours = _figure(figsize=(9, 7.5))
    opts, limits = sizing["options"], sizing.get("limits") or {}
    accs = list(dict.fromkeys(opts["accelerator"]))
    ax_days, ax_cost = fig.subplots(2, 1, sharex=True)
    why: list = []  # (colour, note) of the worst poor sizes
    for n, acc in enumerate(accs):
        colour = colours[n % len(colours)]
        idx = sorted((i for i, a in enumerate(opts["accelerator"]) if a == acc),
                     key=lambda i: opts["gpus"][i])
        x = [opts["gpus"][i] for i in idx]
        for ax, key, scale in ((ax_days, "training_days", 1.0), (ax_cost, "cost_usd", 1e-6)):
            y = [opts[key][i] * scale if _finite(opts[key][i]) else math.nan for i in idx]
            ax.plot(x, y, "-", color=colour, lw=1.2, alpha=0.8, label=acc if ax is ax_days
                    else None)
            ok = [opts["meets_limits"][i] for i in idx]  # the validator's verdict
            ax.scatter([v for v, m in zip(x, ok) if m], [v for v, m in zip(y, ok) if m],
                       color=colour, s=18, zorder=3)
            ax.scatter([v for v, m in zip(x, ok) if not m], [v for v, m in zip(y, ok) if not m],
                       facecolors="none", edgecolors=colour, s=18, zorder=3)
        why += [(colour, f"{acc} {note}") for note in _envelope(ax_days, opts, idx, x, colour,
                                                                   n == 0)]
        per_device_mw = [opts["power_mw"][i] / opts["gpus"][i] for i in idx
                         if _finite(opts["power_mw"][i])]
        caps = []
        if limits.get("power_cap_mw") is not None and per_device_mw:
            caps.append((limits["power_cap_mw"] / per_device_mw[0],
                         f"power cap {fmt_mw(limits['power_cap_mw'])} ({acc})", ":"))
        inventory = (limits.get("inventory") or {}).get(acc)
        if inventory is not None:
            caps.append((inventory, f"inventory {inventory:,} ({acc})", "-."))
        for gpus, label, style in caps:
            for ax in (ax_days, ax_cost):
                ax.axvline(gpus, color=colour, ls=style, lw=1,
                           label=label if ax is ax_cost else None)
    if limits.get("max_gpus") is not None:
        for ax in (ax_days, ax_cost):
            ax.axvline(limits["max_gpus"], color="black", ls="-.", lw=1,
                       label=f"--max-gpus {limits['max_gpus']:,}" if ax is ax_cost else None)
    if limits.get("deadline_days") is not None:
        ax_days.axhline(limits["deadline_days"], color="crimson", ls="--", lw=1,
                        label=f"deadline {fmt_days(limits['deadline_days'])}")
    if limits.get("budget_usd") is not None:
        ax_cost.axhline(limits["budget_usd"] / 1e6, color="crimson", ls="--", lw=1,
                        label=f"budget {fmt_money(limits['budget_usd'])}")
    c = plan["cluster"]
    if _finite(plan.get("training_days")):
        mark = "*" if plan["feasible"] else "X"
        label = (f"{'chosen' if plan['feasible'] else 'nearest (infeasible)'}: "
                 f"{c['gpus']:,} x {c['accelerator']}")
        ax_days.scatter([c["gpus"]], [plan["training_days"]], marker=mark, s=220, color="gold",
                        edgecolors="black", zorder=5, label=label)
        total = (plan.get("cost_usd") or {}).get("total")
        if _finite(total):
            ax_cost.scatter([c["gpus"]], [total / 1e6], marker=mark, s=220, color="gold",
                            edgecolors="black", zorder=5)
    # a cost of zero everywhere (--price-per-gpu-hour 0) has no log scale: drawn linear (it had
    # left the panel empty and a matplotlib warning on standard error)
    positive = any(_finite(v) and v > 0 for v in opts["cost_usd"])
    for ax in (ax_days, ax_cost):
        ax.set_xscale("log", base=2)
        if ax is ax_days or positive:
            ax.set_yscale("log")
        ax.grid(True, which="both", alpha=0.25)
    realised = ((plan.get("realisation") or {}).get("multiplier") or 1.0) != 1.0
    ax_days.set_ylabel("expected training days (realisation, failures)" if realised
                       else "training days (steady state, failures included)")
    ax_cost.set_ylabel(f"cost, USD millions ({plan.get('cost_method') or 'n/a'})")
    ax_cost.set_xlabel("cluster size (devices); hollow markers break a limit")
    for ax, corner in ((ax_days, "upper right"), (ax_cost, "upper left")):
        if ax.get_legend_handles_labels()[0]:  # no limit drawn on an axis: no legend
            _legend(ax, fontsize=8, loc=corner)
    w = plan["workload"]
    status = sizing.get("status", "")
    # the chooser the sizing names: CP-SAT, or numpy ranking the options (the title had said
    # CP-SAT for either)
    chooser = "CP-SAT" if str(sizing.get("solver", "")).startswith("CP-SAT") else "ranked"
    verdict = "feasible" if plan["feasible"] else f"infeasible, binding {plan['binding']}"
    # the limits and the run as the plan's table says them: '$1.50M', '40.0 kW', '1.5 days',
    # '125M' (whole units had read "budget $2M" for $1.5M and "0B parameters")
    fig.suptitle(f"{w.get('name') or 'workload'}: {fmt_count(w['params'])} parameters, "
                 f"{fmt_count(w['tokens'])} tokens; {chooser} {status}, {verdict}",
                 fontsize=10, **LITERAL)
    if why:  # why the worst poor sizes are poor, under the axes
        import textwrap

        lines = [(c, textwrap.shorten(t, 150, placeholder="...")) for c, t in why[:6]]
        bottom = 0.02 + 0.022 * len(lines)
        fig.tight_layout(rect=(0, bottom, 1, 1))
        for k, (c, text) in enumerate(lines):
            fig.text(0.01, bottom - 0.022 * (k + 1), "x " + text, color=c, fontsize=7,
                     **LITERAL)
    else:
        fig.tight_layout()
    return fig


def breakdown_figure(plan: dict):
    """One plan's step time, memory per device and cost, each by component (horizontal bars),
    as a matplotlib Figure; `plan` is ``Plan.to_dict()`` of a plan with figures."""
    if not plan.get("time_breakdown_s"):
        raise ChartError(f"the plan has no figures to draw ({plan.get('reason')})")
    fig, colours = _figure(figsize=(11, 3.2))
    axes = fig.subplots(1, 3)
    cost = {k: v / 1e6 for k, v in (plan.get("cost_usd") or {}).items()
            if isinstance(v, (int, float)) and k not in ("total", "per_trillion_tokens",
                                                         "per_1e24_flop")}
    # the totals as the plan's table says them; an unknown price is "n/a" (a None total had
    # raised TypeError), a run's days under a day in hours
    panels = ((plan["time_breakdown_s"], "step time, s", f"{plan['step_time_s']:,.2f} s"),
              (plan["memory_breakdown_gb"], "memory per device, GB",
               f"{plan['memory_gb_per_gpu']:,.1f} GB"),
              (cost, f"cost, USD millions ({plan.get('cost_method')})",
               fmt_money((plan.get("cost_usd") or {}).get("total"))))
    for n, (ax, (parts, label, total)) in enumerate(zip(axes, panels)):
        shown = {k: v for k, v in parts.items() if _finite(v) and v > 0}
        ax.barh(list(shown), list(shown.values()), color=colours[n % len(colours)])
        ax.invert_yaxis()
        ax.set_xlabel(label)
        ax.set_title(f"total {total}", fontsize=9)
        ax.grid(True, axis="x", alpha=0.3)
    c = plan["cluster"]
    fig.suptitle(f"{c['gpus']:,} x {c['accelerator']}: {fmt_days(plan['training_days'])}, "
                 f"MFU {plan['mfu']:.1%}", fontsize=10, **LITERAL)
    fig.tight_layout()
    return fig


def gantt_chart(schedule: dict, path: str | Path) -> Path:
    """Draw a fleet schedule (``FleetSchedule.to_dict()``) to `path`: one bar per run on its
    site's row band, its deadline marked (late runs hatched), and below, each site's power
    drawn against its cap over the horizon."""
    return _save(gantt_figure(schedule), path, dpi=110, bbox_inches="tight")


def gantt_figure(schedule: dict):
    """A fleet schedule as a matplotlib Figure (see ``gantt_chart``)."""
    runs = [r for r in schedule.get("runs", []) if r.get("start")]
    if not runs:
        raise ChartError("the schedule has no placed runs to draw "
                         f"(status {schedule.get('status')})")
    fig, colours = _figure(figsize=(11, 3 + 0.45 * len(runs) + 2.5))
    import matplotlib.dates as mdates
    from matplotlib.lines import Line2D
    from matplotlib.patches import Rectangle

    sites = list(dict.fromkeys(r["site"] for r in runs))
    usage = schedule.get("sites") or []
    # every site its own colour, those with no run too (their power lines had all been black)
    every = sites + [s["name"] for s in usage if s["name"] not in sites]
    colour = {s: colours[n % len(colours)] for n, s in enumerate(every)}
    runs = sorted(runs, key=lambda r: (sites.index(r["site"]), r["start"], r["name"]))
    ax, ax_power = fig.subplots(
        2, 1, sharex=True, gridspec_kw={"height_ratios": [max(2, 0.45 * len(runs)), 2.5]})
    d = date.fromisoformat
    for y, r in enumerate(runs):
        start, end = d(r["start"]), d(r["end"]) + timedelta(days=1)  # end: last day held
        late = not r.get("on_time", True)
        ax.barh(y, (end - start).days, left=start, height=0.6, color=colour[r["site"]],
                alpha=0.85, hatch="//" if late else None, edgecolor="black", lw=0.5)
        ax.text(start + timedelta(days=2), y, f"{r['name']}: {r['gpus']:,} x {r['accelerator']}",
                va="center", fontsize=8, **LITERAL)
        if r.get("deadline"):
            ax.plot([d(r["deadline"]) + timedelta(days=1)] * 2, [y - 0.4, y + 0.4],
                    color="crimson", lw=2)
        if r.get("earliest"):
            ax.plot([d(r["earliest"])] * 2, [y - 0.4, y + 0.4], color="grey", lw=1, ls=":")
    ax.set_yticks(range(len(runs)), [f"{r['name']} ({r['site']})" for r in runs], fontsize=8,
                  **LITERAL)
    ax.invert_yaxis()
    ax.grid(True, axis="x", alpha=0.3)
    handles = [Rectangle((0, 0), 1, 1, color=colour[s]) for s in sites]
    handles += [Line2D([0], [0], color="crimson", lw=2),
                Line2D([0], [0], color="grey", lw=1, ls=":"),
                Rectangle((0, 0), 1, 1, facecolor="white", edgecolor="black", hatch="//")]
    _legend(ax, handles, sites + ["deadline", "earliest start", "late"], fontsize=8,
            loc="upper left", bbox_to_anchor=(1.005, 1.0))
    from .units import fmt_money

    obj = schedule.get("objective") or {}
    unplaced = schedule.get("unplaced") or []
    # the cost as the table words it ($1.49M, $69.7K; n/a where a price is unknown): an
    # auditor found $1M beside the table's $1.5M, and $0M for a cost of $69,679 or unknown
    cost = obj.get("cost_usd")
    ax.set_title(f"fleet schedule: {schedule.get('status')}, weighted lateness "
                 f"{obj.get('weighted_lateness_days', 0):,.1f} days, cost "
                 + (fmt_money(cost) if cost is not None else "n/a (a price unknown)")
                 + "; placements validated"
                 # runs the schedule could not place are named, not left out unseen
                 + (f"\nnot placed: {', '.join(unplaced)} ({schedule.get('binding')})"
                    if unplaced else ""), fontsize=10, **LITERAL)
    for s in usage:
        steps = [d(t) for t in s["step_starts"]]
        c = colour.get(s["name"], "black")
        ax_power.step(steps, s["power_used_mw"], where="post", color=c, lw=1.5,
                      label=f"{s['name']} used")
        ax_power.step(steps, s["power_cap_mw"], where="post", color=c, lw=1, ls="--",
                      label=f"{s['name']} cap")
    ax_power.set_ylabel("facility MW")
    ax_power.grid(True, alpha=0.3)
    if usage:
        _legend(ax_power, fontsize=7, loc="upper left", bbox_to_anchor=(1.005, 1.0))
    ax_power.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig
