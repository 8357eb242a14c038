"""Rendering plans and tables for people (tabulate) and scripts (JSON, CSV): no modelling here."""

from __future__ import annotations

import csv
import io
import json
import math

from tabulate import tabulate

from .units import SECONDS_PER_DAY, fmt_count, fmt_duration_days, fmt_money, fmt_pct, fmt_power


def flatten(d: dict, prefix: str = "") -> dict:
    """Nested dict -> one level joined with '_' (the sweep's column names)."""
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "_"))
        elif isinstance(v, list):
            out[key] = json.dumps(v)
        else:
            out[key] = v
    return out


def plan_csv(plan: dict) -> str:
    row = {k: v for k, v in plan.items() if k not in ("assumptions", "alternatives")}
    if row.get("sizing"):  # the solve's status and limits, not its option table (one row)
        row["sizing"] = {k: v for k, v in row["sizing"].items()
                         if k not in ("options", "relaxations")}
    flat = flatten(row)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(flat))
    writer.writeheader()
    writer.writerow(flat)
    return buf.getvalue()


def _layout_text(lay: dict | None) -> str:
    if not lay:
        return "n/a"
    return (f"tp={lay['tp']} pp={lay['pp']} dp={lay['dp']} cp={lay['cp']} ep={lay['ep']} "
            f"mb={lay['microbatch']} vp={lay['virtual_stages']} recompute={lay['recompute']} "
            f"zero={lay['zero']}")


def _num(x, fmt="{:,.1f}"):
    return "n/a" if x is None or (isinstance(x, float) and not math.isfinite(x)) else fmt.format(x)


def _times(x, scale):
    """x in another unit; unknown (None: a run that never ends) stays unknown."""
    return None if x is None else x * scale


def plan_table(plan: dict) -> str:
    w, c = plan["workload"], plan["cluster"]
    head = (f"{fmt_count(w['params'])} parameters ({fmt_count(w['active_params'])} active), "
            f"{fmt_count(w['tokens'])} tokens; L={w['layers']} h={w['hidden']} "
            f"heads={w['heads']}/{w['kv_heads']} ffn={w['ffn']} ({w['ffn_type']}) "
            f"V={w['vocab']}, seq {w['seq_len']:,}, batch {fmt_count(w['global_batch_tokens'])} "
            f"tokens, {w['precision']}")
    lines = [head, ""]
    status = "feasible" if plan["feasible"] else "INFEASIBLE"
    rows = [("status", status + (f": {plan['reason']}" if plan["reason"] else "")),
            ("binding limit", plan["binding"] or "none")]
    if plan["step_time_s"] is not None:
        cost = plan["cost_usd"]
        other = {k: v for k, v in cost["by_method"].items() if k != plan["cost_method"]}
        alt = ", ".join(f"{k} {fmt_money(v)}" for k, v in other.items())
        price = plan["assumptions"].get("price_per_gpu_hour", {}).get("value")
        rows += [
            ("cluster", f"{c['gpus']:,} x {c['accelerator']} ({c['nodes']:,} nodes, scale-up "
                        f"domain {c['scale_up_domain']}, {c['network']}, site {c['site']})"),
            ("layout", _layout_text(plan["layout"])),
            ("utilisation", f"MFU {fmt_pct(plan['mfu'])}, HFU {fmt_pct(plan['hfu'])}, "
                            f"{plan['tflops_per_gpu']:,.0f} TFLOP/s per device"),
            ("step", f"{plan['step_time_s']:,.2f} s, {fmt_count(plan['tokens_per_s'])} tokens/s,"
                     f" bottleneck {plan['bottleneck']}"),
            ("memory", f"{plan['memory_gb_per_gpu']:,.1f} GB per device"),
            ("days", f"{fmt_duration_days(_times(plan['training_days'], SECONDS_PER_DAY))} "
                     f"(goodput {fmt_pct(plan['goodput'])})"),
            ("reliability", _reliability_text(plan)),
            ("GPU-hours", fmt_count(plan["gpu_hours"])),
            ("power", f"{fmt_power(_times(plan['power_mw'], 1e6))} facility"),
            ("energy", f"{_num(plan['energy_mwh'], '{:,.0f}')} MWh, CO2 "
                       f"{_num(plan['co2_t'], '{:,.0f}')} t"),
            ("cost", f"{fmt_money(cost.get('total'))} {plan['cost_method']}"
                     + (f" at ${price:,.2f}/device-h" if plan["cost_method"] == "cloud"
                        and price is not None and math.isfinite(price) else "")
                     + (f" ({alt})" if alt else "")),
            ("model FLOPs", f"{plan['model_flops']:.3g} (hardware {plan['hardware_flops']:.3g})"),
        ]
    lines.append(tabulate(rows, tablefmt="plain"))
    if plan["time_breakdown_s"]:
        step = plan["step_time_s"]
        t = [(k, f"{v:,.3f}", fmt_pct(v / step)) for k, v in plan["time_breakdown_s"].items()
             if v > 0]
        m = [(k, f"{v:,.1f}") for k, v in plan["memory_breakdown_gb"].items()]
        lines += ["", tabulate(t, headers=["step time", "s", "share"], tablefmt="simple"),
                  "", tabulate(m, headers=["memory per device", "GB"], tablefmt="simple")]
    if plan.get("p50"):
        fmt = {"training_days": lambda x: f"{x:,.1f} d", "gpu_hours": fmt_count,
               "power_mw": lambda x: fmt_power(x * 1e6), "energy_mwh": lambda x: f"{x:,.0f}",
               "cost_usd": fmt_money}
        q = [(k, *(fmt.get(k, str)(plan[p][k]) if plan[p][k] is not None else "n/a"
                   for p in ("p10", "p50", "p90"))) for k in plan["p50"]]
        lines += ["", tabulate(q, headers=["uncertainty (seeded Monte Carlo)", "P10", "P50",
                                           "P90"], tablefmt="simple", disable_numparse=True,
                               colalign=("left", "right", "right", "right"))]
    if plan.get("alternatives"):
        alt = []
        for a in plan["alternatives"]:
            alt.append((a.get("accelerator", c["accelerator"]), a.get("gpus"),
                        _layout_text(a.get("layout")) if a.get("layout") else "",
                        _num(a.get("training_days")), fmt_pct(a.get("mfu")), a.get("note", "")))
        lines += ["", tabulate(alt, headers=["alternative", "devices", "layout", "days", "MFU",
                                             "why"], tablefmt="simple")]
    asm = plan["assumptions"]
    shown = [(k, _short(v["value"]), v["source"][:90]) for k, v in asm.items()]
    lines += ["", tabulate(shown, headers=["assumption", "value", "source"], tablefmt="simple")]
    return "\n".join(lines)


def _reliability_text(plan: dict) -> str:
    rel = plan.get("reliability") or {}
    if not rel:
        return "n/a"
    return (f"{_num(rel.get('expected_interruptions'), '{:,.0f}')} expected interruptions "
            f"(a failure every {_num(rel.get('mtbf_s', 0) / 3600, '{:,.1f}')} h), checkpoint "
            f"every {_num(rel.get('checkpoint_interval_s', 0) / 60, '{:,.1f}')} min, "
            f"{fmt_count(rel.get('lost_hours'))} device-hours lost")


def _short(v):
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)[:40]


def _price(acc) -> tuple[str, str]:
    """The price per device-hour a plan charges (Accelerator.cloud_price: contract where the
    catalog has one, else on-demand), and which it is."""
    name, fig = acc.cloud_price()
    if fig is None:
        return "n/a", "unknown"
    return _num(fig.value, "{:,.2f}"), ("contract" if "contract" in name else "on-demand")


def catalog_table(cat, kinds) -> str:
    """One table per kind: key, name and the headline figures."""
    out = []
    for kind in kinds:
        rows = []
        for item in cat.all(kind):
            if kind == "accelerators":
                rows.append((item.key, item.name, _num(item.peak_flops.get("bf16", 0) / 1e12,
                                                       "{:,.0f}"),
                             _num(item.peak_flops.get("fp8", math.nan) / 1e12, "{:,.0f}"),
                             _num(item.hbm_bytes / 1e9, "{:,.0f}"), item.scale_up_domain,
                             _num(item.tdp_w, "{:,.0f}"), *_price(item)))
                headers = ["accelerator", "name", "bf16 TFLOP/s", "fp8 TFLOP/s", "HBM GB",
                           "scale-up", "TDP W", "$/device-h", "price basis"]
            elif kind == "networks":
                rows.append((item.key, item.name, item.tier,
                             _num((item.link_bytes_per_s or math.nan) / 1e9, "{:,.0f}"),
                             item.switch_radix or "n/a", _num(item.achievable_fraction,
                                                              "{:.2f}")))
                headers = ["network", "name", "tier", "GB/s per port", "radix", "achievable"]
            elif kind == "sites":
                rows.append((item.key, item.name, _num((item.power_cap_w or math.nan) / 1e6,
                                                       "{:,.0f}"),
                             _num(item.pue, "{:.2f}"), _num(item.energy_usd_per_kwh, "{:.3f}"),
                             _num(item.grid_kg_co2_per_mwh, "{:,.0f}")))
                headers = ["site", "name", "cap MW", "PUE", "$/kWh", "kg CO2/MWh"]
            else:
                a = item.architecture
                from .model.architecture import total_params
                rows.append((item.key, item.name, "moe" if a.experts else "dense",
                             fmt_count(float(total_params(a))), a.layers, a.hidden,
                             fmt_count(item.tokens) if item.tokens else "n/a",
                             len(item.references)))
                headers = ["workload", "name", "kind", "params", "layers", "hidden", "tokens",
                           "references"]
        out.append(tabulate(rows, headers=headers, tablefmt="simple"))
    return "\n\n".join(out)


def catalog_show(cat, kind: str, key: str) -> str:
    """Every entry of one catalog file, each figure with its source."""
    raw = cat.raw(kind, key)
    rows = []
    for k, v in raw.items():
        if isinstance(v, dict) and "value" in v:
            rng = f" [{v.get('low', '')}-{v.get('high', '')}]" if ("low" in v or "high" in v) \
                else ""
            rows.append((k, f"{v['value']}{rng}", v.get("confidence", ""),
                         f"{v['source']} ({v['as_of']})"))
        elif isinstance(v, dict):
            src = f"{v.get('source', '')} ({v.get('as_of', '')})"
            rows.append((k, ", ".join(f"{a}={b}" for a, b in v.items()
                                      if a not in ("source", "as_of", "note")), "", src))
        elif isinstance(v, list) and v and isinstance(v[0], dict):
            for ref in v:
                pub = ", ".join(f"{a}={ref[a]}" for a in ("tflops_per_gpu", "mfu_pct", "hfu_pct",
                                                         "gpu_hours") if a in ref)
                rows.append((f"{k}: {ref.get('row_id')}", pub, ref.get("kind", ""),
                             ref.get("source", "")))
        else:
            rows.append((k, v, "", ""))
    title = f"{kind[:-1]} {key} ({cat.path(kind, key)})"
    return title + "\n" + tabulate(rows, headers=["key", "value", "conf.", "source"],
                                   tablefmt="simple", maxcolwidths=[None, 40, None, 70])


def budget_table(answer: dict) -> str:
    """`planner budget`: the run the limits allow, its plan, the binding limit."""
    inv = answer["inverse"]
    lim = {k: v for k, v in inv["limits"].items() if v is not None}
    shown = ", ".join(f"{k} {_limit_text(k, v)}" for k, v in lim.items())
    lines = [f"limits: {shown}" + (f"; year {inv['year']}" if inv.get("year") else ""),
             f"rule: {inv['rule']}", ""]
    if not answer["feasible"] or not answer.get("workload"):
        lines.append(f"no run fits: {answer['reason']}")
        return "\n".join(lines)
    lines.append(tabulate([
        ("largest run", f"{fmt_count(inv['params'])} parameters x {fmt_count(inv['tokens'])} "
                        f"tokens = {inv['model_flops']:.3g} FLOP"),
        ("binding limit", f"{answer['binding'] or 'none'}: {answer['reason']}"),
    ], tablefmt="plain", maxcolwidths=[None, 90]))
    rows = [(c["accelerator"], _num(c["price_per_gpu_hour"], "${:,.2f}"),
             fmt_count(c["params"]) if c["params"] else "n/a",
             f"{c['model_flops']:.3g}" if c["model_flops"] else "n/a", c["binding"] or "")
            for c in inv["considered"]]
    lines += ["", tabulate(rows, headers=["accelerator", "$/device-h", "params", "FLOP",
                                          "binding"], tablefmt="simple",
                           disable_numparse=True)]
    lines += ["", "the plan that trains it:", plan_table({**answer, "reason": None})]
    return "\n".join(lines)


def _limit_text(key: str, v) -> str:
    if key == "usd":
        return fmt_money(v)
    if key == "power_cap_w":
        return fmt_power(v)
    if key == "deadline_s":
        return fmt_duration_days(v)
    return f"{v:,}"
