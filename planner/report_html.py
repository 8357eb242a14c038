"""Plans, budget answers and fleet schedules as compact HTML tables: the ``_repr_html_`` a
notebook shows of Plan, BudgetAnswer and FleetSchedule. No modelling here."""

from __future__ import annotations

from html import escape

from .report import (
    capex_text,
    days_text,
    ideal_text,
    largest_run_text,
    layout_text,
    limits_text,
    network_text,
    power_text,
    price_header_text,
)
from .units import (
    fmt_amount,
    fmt_count,
    fmt_fixed,
    fmt_money,
    fmt_mw,
    fmt_pct,
)


def _html_table(rows, headers=None, caption: str | None = None) -> str:
    head = ""
    if headers:
        head = "<thead><tr>" + "".join(f"<th>{escape(str(h))}</th>" for h in headers) + \
            "</tr></thead>"
    body = "".join("<tr>" + "".join(
        (f"<th style='text-align:left'>{escape(str(c))}</th>" if i == 0 and not headers else
         f"<td style='text-align:left'>{escape(str(c))}</td>") for i, c in enumerate(row))
        + "</tr>" for row in rows)
    cap = f"<caption style='text-align:left'>{escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}{head}<tbody>{body}</tbody></table>"


def plan_summary(plan: dict) -> list[tuple[str, str]]:
    """The headline of a plan in (label, text) rows: what a notebook shows of it."""
    w, c = plan["workload"] or {}, plan["cluster"] or {}
    rows = [("status", ("feasible" if plan["feasible"] else "INFEASIBLE")
             + (f": {plan['reason']}" if plan.get("reason") else "")),
            ("binding limit", plan.get("binding") or "none")]
    if w:
        rows.append(("workload", f"{w.get('name') or ''} {fmt_count(w['params'])} parameters, "
                                 f"{fmt_count(w['tokens'])} tokens, {w['precision']}".strip()))
    if plan.get("step_time_s") is None:
        return rows
    cost = plan["cost_usd"]
    return rows + [
        ("cluster", f"{c['gpus']:,} x {c['accelerator']} ({network_text(c)}, "
                    f"site {c['site']})"),
        ("layout", layout_text(plan["layout"])),
        ("MFU", f"{fmt_pct(plan['mfu'])} ({plan['tflops_per_gpu']:,.0f} TFLOP/s per device)"),
        # the rows as the text table words them: the expected run beside the ideal one, the
        # peak power beside the average ("days 32.9" and "power 1.69 MW facility" had said
        # neither); a run that never ends (goodput under 1%) has no days: "n/a"
        ("days", f"{days_text(plan)}; goodput {fmt_pct(plan['goodput'])}"),
        ("GPU-hours", fmt_count(plan["gpu_hours"]) + ideal_text(plan, "gpu_hours", fmt_count)),
        ("power", power_text(plan)),
        ("energy", f"{fmt_amount(plan['energy_mwh'])} MWh"
                   + ideal_text(plan, "energy_mwh", lambda x: f"{fmt_amount(x)} MWh")),
        ("cost", f"{fmt_money(cost['total'])} {plan['cost_method']}"
                 + "".join(f", {k} {fmt_money(v)}" for k, v in
                           (cost.get("by_method") or {}).items() if k != plan["cost_method"])
                 + ideal_text(plan, "cost_usd", fmt_money)),
        ("to own it", capex_text(plan)),
    ]


def plan_html(plan: dict) -> str:
    """A plan as a compact HTML table, the cost by component beside it."""
    html = _html_table(plan_summary(plan), caption="planner.Plan")
    cost = plan.get("cost_usd") or {}
    parts = [(k, fmt_money(v)) for k, v in cost.items()
             if isinstance(v, (int, float)) and k not in ("total", "per_trillion_tokens",
                                                         "per_1e24_flop")]
    if parts:
        html += _html_table(parts, ["cost component", "USD"])
    return f"<div>{html}</div>"


def budget_html(answer: dict) -> str:
    """A budget answer: the largest run, the binding limit, each accelerator considered and
    the plan that trains it."""
    inv = answer["inverse"]
    year = f"; year {inv['year']}" if inv.get("year") else ""
    rows = [("limits", limits_text(inv["limits"]) + year),
            ("rule", inv["rule"])]
    if answer["feasible"] and inv.get("params"):
        rows += [("largest run", largest_run_text(answer)),
                 ("binding limit", f"{answer['binding'] or 'none'}: {answer['reason']}")]
    else:
        rows.append(("answer", f"no run fits: {answer['reason']}"))
    html = _html_table(rows, caption="planner.budget")
    html += _html_table([(c["accelerator"], fmt_fixed(c["price_per_gpu_hour"], "${:,.2f}"),
                          fmt_count(c["params"]) if c["params"] else "n/a",
                          f"{c['model_flops']:.3g}" if c["model_flops"] else "n/a",
                          c["binding"] or "") for c in inv["considered"]],
                        ["accelerator", price_header_text(answer), "params", "FLOP", "binding"])
    if answer.get("workload") and answer.get("step_time_s") is not None:
        html += _html_table(plan_summary({**answer, "reason": None}),
                            caption="the plan that trains it")
    return f"<div>{html}</div>"


def schedule_html(schedule: dict) -> str:
    """A fleet schedule: status and objective, then one row per run."""
    obj = schedule.get("objective") or {}
    rows = [("status", schedule["status"] + (f", binding {schedule['binding']}: "
                                             f"{schedule['reason']}" if schedule.get("binding")
                                             else ""))]
    if obj:
        rows.append(("objective", f"weighted lateness {obj['weighted_lateness_days']:,.1f} "
                                  f"days, then cost {fmt_money(obj['cost_usd'])}"))
    html = _html_table(rows, caption="planner.schedule")
    # as the text table (FleetSchedule.table): the training's end, the deadline beside it
    html += _html_table([(r["name"], r["site"], r["accelerator"], f"{r['gpus']:,}", r["start"],
                          r["finish"], f"{r['training_days']:,.1f}", fmt_mw(r["power_mw"]),
                          fmt_money(r["cost_usd"]) if r["cost_usd"] is not None else "n/a",
                          r["deadline"],
                          "yes" if r["on_time"] else f"late {r['lateness_days']:g} d")
                         for r in schedule["runs"]],
                        ["run", "site", "accelerator", "devices", "start", "trained by", "days",
                         "power", "cost", "deadline", "on time"])
    return f"<div>{html}</div>"
