"""A fleet schedule as the user reads it (fleet/schedule.py returns it): the runs placed, each
site's use over time, the table, JSON, Parquet, a Gantt chart and a notebook frame."""

from __future__ import annotations

import copy
import math
import os
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from ..model.layouts import LAYOUT_FIELDS
from ..schema import check_output_path, check_output_suffix
from ..units import fmt_money
from . import check as fleet_check
from . import model as fleet_model
from .model import FleetInstance, FleetSolution
from .spec import (
    FleetSpec,
    step_at_or_after,
)

__all__ = ["FleetSchedule", "PARQUET_COLUMNS"]


def _windows_cut(spec: FleetSpec) -> list[tuple[str, int, str | None]]:
    """Runs whose window the step grid shortens by two days or more: (name, days lost, and
    where the first step starts on or after the deadline, the two dates), the days from the
    earliest start to the step it waits for (fleet/spec.py step_at_or_after), plus those of
    its deadline past the horizon's last whole step (runs hold whole steps inside it). A
    deadline inside the horizon costs nothing: a run is on time when its training ends by it,
    whatever step it ends in (fleet/model.py late_offset). A window the grid loses whole (a
    one-day window before the next step) is said so: "shorten a's window by 4 d" had been
    printed for a 1-day window."""
    out = []
    horizon_end = spec.step_start(spec.steps)
    for run in spec.runs:
        first = spec.step_start(step_at_or_after(spec, run.earliest))
        lost = (first - run.earliest).days \
            + max(0, (min(run.deadline, spec.end) - horizon_end).days)
        if first >= run.deadline:  # the deadline's last day, as the runs' table gives it
            out.append((run.name, lost, f"{run.deadline - timedelta(days=1)}: its first "
                                        f"step starts {first}"))
        elif lost >= 2:
            out.append((run.name, lost, None))
    return out


def _grid_words(name: str, lost: int, lost_whole: str | None) -> str:
    """One run's window as the grid note says it (_windows_cut)."""
    if lost_whole is None:
        return f"shorten {name}'s window by {lost} d"
    return f"leave {name} no start before its deadline ({lost_whole})"


def _small(x: float) -> str:
    """A table's MW or $M: one decimal, or two significant figures below 0.1 (8 B200 draw
    0.021 MW, not "0.0")."""
    return f"{x:,.1f}" if x >= 0.095 or x == 0 else f"{x:.2g}"


def _many(n: int, noun: str) -> str:
    """'1 site', '3 sites'."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


@dataclass(frozen=True)
class FleetSchedule:
    """A validated schedule (or a reasoned infeasibility) with its instance and spec."""

    spec: FleetSpec
    instance: FleetInstance
    solution: FleetSolution
    infos: tuple
    binding: str | None
    reason: str | None
    estimate_calls: int
    estimate_s: float
    # runs no option of which fits even alone (binding and reason say why the first cannot):
    # the others are still scheduled, so one impossible run does not blank the plan
    unplaced: tuple = ()

    @property
    def status(self) -> str:
        """OPTIMAL, FEASIBLE or INFEASIBLE, as the interface lists them: the solver's status of
        what it scheduled; INFEASIBLE when a run is left out, or when no schedule was found
        within the time limit (CP-SAT's UNKNOWN, kept in ``phases``: binding "time_limit",
        whose reason says it proves nothing; it had read "UNKNOWN")."""
        if self.unplaced or self.solution.status == "UNKNOWN":
            return "INFEASIBLE"
        return self.solution.status

    def runs(self) -> list[dict]:
        spec, inst = self.spec, self.instance
        out = []
        for p in self.solution.placements:
            opt, run, rs = inst.options[p.option], inst.runs[p.run], spec.runs[p.run]
            end_step = p.start_step + opt.duration_steps
            late = fleet_model.late_steps(inst, run, opt, p.start_step)
            # the day its training ends, inclusive (it holds its devices to its last step's end)
            finish = spec.step_start(p.start_step) + timedelta(
                days=max(1, math.ceil(round(opt.training_days, 9))) - 1)
            info = self.infos[p.option]
            out.append({
                "name": run.name, "site": inst.sites[opt.site].name,
                "accelerator": opt.accelerator, "gpus": opt.gpus,
                "start": spec.step_start(p.start_step).isoformat(),
                # the last day it holds its devices (inclusive, like start and deadline)
                "end": (spec.step_start(end_step) - timedelta(days=1)).isoformat(),
                "training_days": opt.training_days, "power_mw": opt.power_mw,
                "cost_usd": opt.cost_usd if math.isfinite(opt.cost_usd) else None,
                "finish": finish.isoformat(),
                "on_time": late == 0,
                # whole days its training ends past the deadline (an int, as the Parquet
                # column: it had been a float beside an int64 column); the solver counts whole
                # steps of it (late_steps), so on time exactly when this is 0
                "lateness_days": max(0, (finish - rs.deadline).days + 1),
                "earliest": rs.earliest.isoformat(),
                "deadline": (rs.deadline - timedelta(days=1)).isoformat(),
                "weight": run.weight, "duration_steps": opt.duration_steps,
                # a copy: the option's own (shared by every call, to_dict and to_frame) had
                # changed with a caller's edit of a row
                "layout": copy.deepcopy(info.layout), "mfu": info.mfu})
        return out

    def sites_usage(self) -> list[dict]:
        spec, inst = self.spec, self.instance
        use = fleet_check.usage(inst, self.solution) if self.solution.placements else \
            {"devices": {}, "power_mw": {}}
        steps = [spec.step_start(t).isoformat() for t in range(inst.steps)]
        out = []
        for s, site in enumerate(inst.sites):
            drawn = use["power_mw"].get(s, np.zeros(inst.steps))
            out.append({
                "name": site.name, "step_starts": steps,
                "power_cap_mw": [float(x) for x in site.power_mw],
                "power_used_mw": [float(x) for x in drawn],
                "devices": {acc: {"on_hand": [int(x) for x in on_hand],
                                  "used": [int(x) for x in use["devices"].get(
                                      (s, acc), np.zeros(inst.steps, dtype=int))]}
                            for acc, on_hand in sorted(site.devices.items())}})
        return out

    def to_dict(self) -> dict:
        sol = self.solution
        placed = bool(sol.placements)
        return {
            "status": self.status,
            "unplaced": list(self.unplaced),
            "objective": ({"weighted_lateness_days": sol.weighted_lateness_steps *
                           self.spec.step_days,
                           "cost_usd": sol.cost_usd if math.isfinite(sol.cost_usd) else None}
                          if placed else None),
            "runs": self.runs(),
            "binding": self.binding, "reason": self.reason,
            "validated": placed,
            "phases": list(sol.phases), "solve_time_s": sol.solve_time_s,
            # (objective - proven bound) / objective per phase: 0 proven optimal, None unknown
            "optimality_gap": dict(sol.gap),
            "solver": self.spec.settings.to_dict(),
            "estimates": {"calls": self.estimate_calls, "wall_s": self.estimate_s},
            "horizon": {"start": self.spec.start.isoformat(),
                        "end": self.spec.last_day.isoformat(), "step_days": self.spec.step_days,
                        "steps": self.instance.steps},
            "options": len(self.instance.options),
            "sites": self.sites_usage(),
        }

    def table(self) -> str:
        from tabulate import tabulate

        d, spec = self.to_dict(), self.spec
        # every run of the file, those left out too (a 3-run file had read "2 runs")
        runs = (f"{_many(len(spec.runs) + len(self.unplaced), 'run')} "
                f"({len(self.solution.placements)} placed)" if self.unplaced
                else _many(len(spec.runs), "run"))
        head = [f"fleet: {_many(len(spec.sites), 'site')}, {runs}, "
                f"{spec.start} to {spec.last_day_text()} in {self.instance.steps} steps of "
                f"{spec.step_days} days; {len(self.instance.options)} options "
                f"({self.estimate_calls} estimates, {self.estimate_s:,.1f} s)",
                f"status: {d['status']} ("
                + (f"lateness phase: {d['phases'][0]}, so the greedy schedule stands"
                   if len(d["phases"]) == 1 and d["status"] == "FEASIBLE" else
                   # each phase beside its own status (one INFEASIBLE had read "lateness
                   # phase, cost phase: INFEASIBLE", a cost phase that never ran)
                   ", ".join(f"{name} phase: {status}" for name, status
                             in zip(("lateness", "cost"), d["phases"]))
                   + ("; no cost phase" if len(d["phases"]) == 1 else "") if d["phases"] else
                   "not solved: a run has no option that fits on its own")
                + f") in {d['solve_time_s']:,.1f} s; "
                f"{spec.settings.workers} workers, seed {spec.settings.seed}, time limit "
                f"{spec.settings.time_limit_s:g} s (CP-SAT gets what the option plans leave, "
                "at least a quarter)"]
        if d["objective"]:
            obj = d["objective"]
            gap = ", ".join(f"{k} {'unknown' if v is None else f'{v:.1%}'}"
                            for k, v in d["optimality_gap"].items())
            cost = ("n/a (a price unknown)" if obj["cost_usd"] is None
                    else fmt_money(obj["cost_usd"]))  # as the Gantt title words it
            # the solver's lateness (fleet/model.py late_offset): days past the deadline,
            # rounded up to whole steps
            steps = ("" if spec.step_days == 1 else
                     f" (each run's days past its deadline rounded up to whole "
                     f"{spec.step_days:g}-day steps)")
            head.append(f"objective: weighted lateness {obj['weighted_lateness_days']:,.1f} "
                        f"days{steps}, then cost {cost}"
                        + (f" (gap to the proven bound: {gap})" if gap else ""))
            head.append("validated: each run placed once inside its window; devices and power "
                        "within each site's limits at every step")
            cut = _windows_cut(spec)
            if cut:
                head.append(f"grid: the {spec.step_days:g}-day steps "
                            + ", ".join(_grid_words(*c) for c in cut)
                            + " (a run starts and ends on a step: a shorter window may need a "
                            "larger cluster; step = \"1d\" plans to the day)")
        if d["binding"]:
            head.append(f"binding: {d['binding']}: {d['reason']}")
        if d["unplaced"]:
            others = ("the other runs are scheduled below" if d["runs"] else
                      "the other runs do not fit together either (binding says why)"
                      if spec.runs else "")
            head.append(f"unplaced: {', '.join(d['unplaced'])} (no option fits even alone)"
                        + (f"; {others}" if others else ""))
        if not d["runs"]:
            return "\n".join(head)
        rows = [(r["name"], r["site"], r["accelerator"], f"{r['gpus']:,}", r["start"],
                 r["finish"],
                 f"{r['training_days']:,.1f}", _small(r["power_mw"]),
                 "n/a" if r["cost_usd"] is None else _small(r["cost_usd"] / 1e6),
                 r["deadline"], "yes" if r["on_time"] else f"late {r['lateness_days']:g} d")
                for r in d["runs"]]
        return "\n".join(head) + "\n\n" + tabulate(
            rows, headers=["run", "site", "accelerator", "devices", "start", "trained by",
                           "days", "MW", "cost $M", "deadline", "on time"],
            disable_numparse=True,  # as formatted: "175.0" beside "103.3", not "175"
            colalign=("left", "left", "left", "right", "left", "left", "right", "right",
                      "right", "left", "left"))

    def __repr__(self) -> str:
        sol = self.solution
        # the fleet's status and every run of its file, those not placed too (a fleet with
        # one had read "OPTIMAL, 1 of 1 run"); the sites the runs use of the fleet's (2 runs
        # on 2 sites of 3 had read "on 3 sites")
        used = {self.instance.options[p.option].site for p in sol.placements}
        head = (f"FleetSchedule({self.status}, {len(sol.placements)} of "
                f"{_many(len(self.spec.runs) + len(self.unplaced), 'run')} on {len(used)} of "
                f"{_many(len(self.spec.sites), 'site')}")
        if sol.placements:
            late = sol.weighted_lateness_steps * self.spec.step_days
            cost = ("unknown" if not math.isfinite(sol.cost_usd)
                    else f"${_small(sol.cost_usd / 1e6)}M")
            return head + f", weighted lateness {late:,} days, cost {cost})"
        return head + f", binding={self.binding!r})"

    def _repr_html_(self) -> str:
        """A notebook's view: status, objective and one row per run."""
        from .. import report_html

        return report_html.schedule_html(self.to_dict())

    def to_frame(self):
        """One row per run (the Parquet file's rows: layout flattened, dates as dates), as a
        pandas DataFrame."""
        from .. import report

        # every column whether or not a run is placed, as the Parquet file has (an infeasible
        # fleet had given a frame with none, so df["gpus"] raised KeyError)
        return report.pandas().DataFrame(self._rows(),
                                         columns=[name for name, _ in PARQUET_COLUMNS])

    def plot(self):
        """The schedule as a matplotlib Figure: runs on their sites over time, each site's
        power against its cap (the CLI's --gantt)."""
        from .. import charts

        return charts.gantt_figure(self.to_dict())

    def _rows(self) -> list[dict]:
        rows = []
        for r in self.runs():
            row = {k: v for k, v in r.items() if k != "layout"}
            for k in ("start", "end", "finish", "earliest", "deadline"):
                row[k] = date.fromisoformat(row[k])
            row.update({f"layout_{k}": v for k, v in (r["layout"] or {}).items()})
            row["status"] = self.status
            rows.append(row)
        return rows

    def write_parquet(self, path: str | Path) -> Path:
        """One row per run (the JSON's run keys, layout flattened, dates as dates); the status
        and objective in the file's metadata. Written to a temporary file, then renamed, so an
        interrupted write leaves no corrupt file."""
        import json

        import pyarrow as pa
        import pyarrow.parquet as pq

        # checked as the command line's -o is: a .csv had been written as Parquet, a missing
        # folder raised FileNotFoundError naming the temporary file
        check_output_path(check_output_suffix(path, "path", (".parquet",)), "path")
        rows = self._rows()
        d = self.to_dict()
        meta = {"status": d["status"], "objective": d["objective"], "binding": d["binding"],
                "reason": d["reason"], "unplaced": d["unplaced"], "solver": d["solver"],
                "horizon": d["horizon"]}
        # one schema whether or not any run is placed (an infeasible fleet: zero rows, every
        # column), so a script reading df["gpus"] reads it either way
        schema = pa.schema([(name, getattr(pa, kind)()) for name, kind in PARQUET_COLUMNS])
        table = pa.Table.from_pylist(rows, schema=schema)
        # each field with its unit, as a sweep's Parquet carries them (docs/interface.md)
        units = {"gpus": "devices", "training_days": "days", "power_mw": "MW",
                 "cost_usd": "USD", "lateness_days": "days", "duration_steps": "steps",
                 "mfu": "fraction", "weight": "", "start": "date", "end": "date",
                 "finish": "date", "earliest": "date", "deadline": "date"}
        table = pa.Table.from_arrays(table.columns, schema=pa.schema(
            [f.with_metadata({"unit": units.get(f.name, "")}) for f in table.schema]))
        table = table.replace_schema_metadata({"planner.fleet": json.dumps(meta)})
        out = Path(path)
        fd, tmp = tempfile.mkstemp(dir=out.parent or ".", suffix=".parquet.tmp")
        os.close(fd)
        try:
            pq.write_table(table, tmp)
            # mkstemp makes its file private (0600): the output gets the mode any new file
            # gets under the user's umask, as the Gantt chart's does
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
            os.replace(tmp, out)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return out


# The Parquet file's columns, in order, with their Arrow types (docs/interface.md): a run's
# JSON keys, its layout flattened, the fleet's status.
PARQUET_COLUMNS = (
    ("name", "string"), ("site", "string"), ("accelerator", "string"), ("gpus", "int64"),
    ("start", "date32"), ("end", "date32"), ("finish", "date32"), ("training_days", "float64"),
    ("power_mw", "float64"), ("cost_usd", "float64"), ("on_time", "bool_"),
    ("lateness_days", "int64"), ("earliest", "date32"), ("deadline", "date32"),
    ("weight", "float64"), ("duration_steps", "int64"), ("mfu", "float64"),
    *((f"layout_{k}", "string" if k == "recompute" else "int64") for k in LAYOUT_FIELDS),
    ("status", "string"))
