"""Rendering plans and tables for people (tabulate) and scripts (JSON, CSV): no modelling here."""

from __future__ import annotations

import csv
import io
import json
import math
import textwrap

from tabulate import tabulate

from .model import realisation
from .model.published_mfu import FAMILY_OF, PUBLISHED_MFU
from .specs import TEAMS, mfu_key
from .units import (
    fmt_amount,
    fmt_count,
    fmt_days,
    fmt_days_column,
    fmt_duration_days,
    fmt_fixed,
    fmt_minutes,
    fmt_money,
    fmt_pct,
    fmt_power,
    fmt_power_mw,
)


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


def plan_csv(row: dict, names: list[str]) -> str:
    """`--format csv`: a header of ``names`` (the same for every answer: plan/fields.py
    csv_columns) and one row of ``row``'s values (plan/result.py answer_columns), a figure the
    answer lacks an empty cell."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=names, extrasaction="ignore")
    writer.writeheader()
    writer.writerow({k: row.get(k) for k in names})
    return buf.getvalue()


def layout_text(lay: dict | None) -> str:
    if not lay:
        return "n/a"
    return (f"tp={lay['tp']} pp={lay['pp']} dp={lay['dp']} cp={lay['cp']} ep={lay['ep']} "
            f"mb={lay['microbatch']} vp={lay['virtual_stages']} recompute={lay['recompute']} "
            f"zero={lay['zero']}")


def _attention(w: dict) -> str:
    """The attention's own widths where the heads do not say them: MLA's latents (DeepSeek-V2
    report sec. 2.1), or a per-head width other than hidden / heads."""
    if w.get("kv_lora_rank"):
        q = f" q={w['q_lora_rank']}" if w.get("q_lora_rank") else ""
        return (f" MLA(kv={w['kv_lora_rank']}{q} dims={w['head_dim']}+{w['rope_head_dim']}"
                f"/{w['v_head_dim']})")
    width = (f" x{w['head_dim']}" if w.get("head_dim") and w["head_dim"] * w["heads"]
             != w["hidden"] else "")
    if w.get("window"):  # a sliding window: its keys, in how many of the layers
        width += f" window={w['window']:,}x{w['window_layers']}/{w['layers']}"
    return width


def _dense_ffn(w: dict) -> str:
    """The dense FFN's width; none when every layer is a mixture of experts (gpt-oss)."""
    return f" ffn={w['ffn']}" if w["ffn"] or not w.get("experts") else ""


def _against_published(plan: dict) -> str:
    """The plan's MFU beside the highest published on its accelerator (the validation's
    scored throughput rows, planner/model/published_mfu.py): said when above it, or when the
    accelerator has no scored row (its step model is its family's calibration, unchecked
    there)."""
    acc, w = plan["cluster"]["accelerator"], plan["workload"]
    known = PUBLISHED_MFU.get(acc)
    key = mfu_key(w["precision"], bool(w.get("experts")))
    best = (known or {}).get(key)
    if best is None:  # none on the device: its family's best (an H200 beside the H100's)
        family = FAMILY_OF.get(acc)
        kin = [(e[key], a) for a, e in PUBLISHED_MFU.items()
               if a != acc and family and FAMILY_OF.get(a) == family and key in e]
        if kin:
            (mfu, row), other = max(kin)
            if not plan["mfu"] > mfu:
                return ""
            return (f"; above the best published on its family ({family}) at {key}, "
                    f"{mfu:.1%} ({row}, {other})")
        if known is None:
            return (f"; no scored throughput row on {acc} to check it against "
                    "(docs/validation.md)")
        # rows on the device, none of this kind: say so, as for no row at all
        return f"; no scored throughput row on {acc} at {key} to check it against " \
               "(docs/validation.md)"
    if not plan["mfu"] > best[0]:
        return ""
    return f"; above the best published on {acc} at {key}, {best[0]:.1%} ({best[1]})"


def _step_split(plan: dict) -> str:
    """Compute's share of the step and the largest term beside it (the plan's ``bottleneck``):
    'compute 81% of the step, largest overhead dp_comm (7.9%)', so a step mostly computing
    does not read as bound by its largest overhead."""
    times, step = plan.get("time_breakdown_s") or {}, plan["step_time_s"]
    if not step or plan["bottleneck"] == "compute" or plan["bottleneck"] not in times:
        return f"bottleneck {plan['bottleneck']}"
    compute, largest = times.get("compute", 0.0) / step, times[plan["bottleneck"]] / step
    if largest < 0.0005:  # nothing beside compute worth naming (one device: no collectives)
        return f"compute {compute:.0%} of the step"
    return (f"compute {compute:.0%} of the step, largest overhead {plan['bottleneck']} "
            f"({largest:.1%})")


def network_text(c: dict) -> str:
    """The scale-out network's key; an accelerator whose file names none (GH200 on Slingshot,
    MI250) runs at its own file's scale-out bandwidth."""
    return c["network"] or "scale-out at its accelerator file's bandwidth (no network named)"


def _experts(w: dict) -> str:
    """A mixture of experts' routing and widths, as the plan ran it."""
    if not w.get("experts"):
        return ""
    shared = f"+{w['shared_experts']}" if w.get("shared_experts") else ""  # shared experts
    dense = f" dense_layers={w['dense_layers']}" if w.get("dense_layers") else ""
    groups = (f" routed within {w['group_top_k']}/{w['expert_groups']} groups"
              if w.get("expert_groups") else "")
    return f" experts={w['top_k']}/{w['experts']}{shared} x{w['expert_ffn']}{dense}{groups}"


def plan_table(plan: dict) -> str:
    w, c = plan["workload"], plan["cluster"]
    head = (f"{fmt_count(w['params'])} parameters ({fmt_count(w['active_params'])} active), "
            f"{fmt_count(w['tokens'])} tokens; L={w['layers']} h={w['hidden']} "
            f"heads={w['heads']}/{w['kv_heads']}{_attention(w)}{_dense_ffn(w)} "
            f"({w['ffn_type']}){_experts(w)} V={w['vocab']}, seq {w['seq_len']:,}, batch "
            f"{fmt_count(w['global_batch_tokens'])} tokens, {w['precision']}")
    lines = [head, ""]
    status = "feasible" if plan["feasible"] else "INFEASIBLE"
    rows = [("status", status + (f": {plan['reason']}" if plan["reason"] else "")),
            ("binding limit", plan["binding"] or _unbound_text(plan))]
    past = next((a for a in plan.get("alternatives") or () if a.get("default_deadline_days")),
                None)
    if past is not None and plan["training_days"] is not None:
        # a given cluster holds no deadline: feasible, but a buyer reads how far past the
        # default one it runs (1T on 256 H100: 59,442 days had read "feasible" alone)
        # the flag that gave the size (a full --layout names its devices too: it had read
        # "--gpus given")
        given = ("--layout" if "--layout" in str((plan["assumptions"].get("gpus") or {})
                                                  .get("source", "")) else "--gpus")
        # where no size tried meets it, said with the sizing's nearest (10T on 16,384 H100:
        # 26,840 days had read "feasible" with no deadline row)
        nearest = (f"the sizing's nearest, {past['gpus']:,} x {past['accelerator']}, takes "
                   f"{fmt_days(past['training_days'])}; " if past.get("training_days") else "")
        meets = (f"which {past['gpus']:,} x {past['accelerator']} meet in "
                 f"{fmt_days(past['training_days'])} (" if past.get("meets_default_deadline", True)
                 else f"which no cluster size tried meets ({nearest}")
        rows.append(("deadline", f"none held ({given} given); {fmt_days(plan['training_days'])} "
                     f"runs past the default {past['default_deadline_days']:g}-day deadline, "
                     f"{meets}--deadline to hold one)"))
    deadline = plan["assumptions"].get("deadline_days")
    if deadline and plan.get("sizing") and not str(deadline.get("source", "")).startswith(
            "given"):  # sized by the default deadline (a fixed --gpus is not sized)
        rows.append(("sized", f"to meet the default {deadline['value']:g}-day deadline "
                              "(--deadline to change, --gpus to fix the size)"))
    sizing = plan.get("sizing") or {}
    held = (sizing.get("limits") or {}).get("inventory") or {}
    considered = sizing.get("accelerators") or ()
    unused = {k: v for k, v in held.items() if k not in considered}
    said = []
    if unused:  # an inventory of types the plan does not consider (a house default's list)
        said.append(", ".join(f"{k}={v:,}" for k, v in unused.items())
                    + " not used: the plan considers " + ", ".join(considered) + " (--gpu)")
    free = [k for k in considered if held and k not in held]
    if free:  # a type the inventory leaves out is not held to it (an auditor: unsaid)
        said.append(", ".join(free) + " not in the inventory: no limit on how many")
    if said:
        rows.append(("inventory", "; ".join(said)))
    if plan["step_time_s"] is not None:
        cost = plan["cost_usd"]
        other = {k: v for k, v in cost["by_method"].items() if k != plan["cost_method"]}
        alt = ", ".join(f"{k} {fmt_money(v)}" for k, v in other.items())
        price = plan["assumptions"].get("price_per_gpu_hour", {}).get("value")
        rows += [
            ("cluster", f"{c['gpus']:,} x {c['accelerator']} ({_units_text(c)}; scale-up "
                        f"domain {c['scale_up_domain']}, {network_text(c)}, site {c['site']})"),
            ("layout", layout_text(plan["layout"])),
            ("utilisation", f"MFU {fmt_pct(plan['mfu'])}, HFU {fmt_pct(plan['hfu'])}, "
                            f"{plan['tflops_per_gpu']:,.0f} TFLOP/s per device"
                            f"{_against_published(plan)}"),
            ("step", f"{fmt_amount(plan['step_time_s'])} s, "
                     f"{fmt_count(plan['tokens_per_s'])} tokens/s, {_step_split(plan)}"),
            ("memory", _memory_text(plan)),
            ("days", days_text(plan)),
            ("realisation", _realisation_text(plan)),
            ("reliability", f"goodput {fmt_pct(plan['goodput'])}; " + _reliability_text(plan)),
            ("GPU-hours", fmt_count(plan["gpu_hours"])
             + ideal_text(plan, "gpu_hours", fmt_count)),
            ("power", power_text(plan)),
            ("energy", f"{fmt_amount(plan['energy_mwh'])} MWh, CO2 {fmt_amount(plan['co2_t'])} t"
                       + ideal_text(plan, "energy_mwh", lambda x: f"{fmt_amount(x)} MWh")),
            ("cost", f"{fmt_money(cost.get('total'))} {plan['cost_method']}"
                     + _cost_unknown_text(plan)
                     + (f" at ${_price_text(price)}/device-h" if plan["cost_method"] == "cloud"
                        and price is not None and math.isfinite(price) else "")
                     + (f" ({alt})" if alt else "")
                     + ideal_text(plan, "cost_usd", fmt_money)),
            ("to own it", capex_text(plan)),
            ("model FLOPs", f"{plan['model_flops']:.3g} (hardware {plan['hardware_flops']:.3g})"),
        ]
    lines.append(tabulate(rows, tablefmt="plain"))
    if plan["time_breakdown_s"]:
        step = plan["step_time_s"]
        # to 3 significant figures, small ones with their decimals: a 70M model's 0.4 ms of
        # tp_comm had read "0" beside its 1.5% share, its 0.035 GB of weights "0"
        t = [(k, fmt_amount(v), fmt_pct(v / step)) for k, v in plan["time_breakdown_s"].items()
             if v > 0]
        m = [(k, fmt_amount(v)) for k, v in plan["memory_breakdown_gb"].items()]
        lines += ["", tabulate(t, headers=["step time", "s", "share"], tablefmt="simple",
                               disable_numparse=True, colalign=("left", "right", "right")),
                  "", tabulate(m, headers=["memory per device", "GB"], tablefmt="simple",
                               disable_numparse=True, colalign=("left", "right"))]
    if plan.get("p50"):
        fmt = {"training_days": fmt_days_column, "gpu_hours": fmt_count,
               "power_mw": fmt_power_mw, "energy_mwh": lambda x: f"{fmt_amount(x)} MWh",
               "co2_t": lambda x: f"{fmt_amount(x)} t",
               "cost_usd": fmt_money}
        # each row by what it is, its JSON key beside it (the keys alone had read as jargon)
        label = {"training_days": "days (training_days)", "gpu_hours": "device-hours "
                 "(gpu_hours)", "power_mw": "peak facility power (power_mw)",
                 "energy_mwh": "energy (energy_mwh)", "co2_t": "CO2 (co2_t)",
                 "cost_usd": "cost (cost_usd)"}
        q = [(label.get(k, k), *(fmt.get(k, str)(plan[p][k]) if plan[p][k] is not None
                                 else "n/a" for p in ("p10", "p50", "p90")))
             for k in plan["p50"]]
        lines += ["", tabulate(q, headers=["uncertainty (seeded Monte Carlo)", "P10", "P50",
                                           "P90"], tablefmt="simple", disable_numparse=True,
                               colalign=("left", "right", "right", "right"))]
        drift = _cost_p50_drift(plan)
        if drift:
            lines.append(drift)
        if plan.get("within_limits"):
            lines.append("chance of keeping to the limits (share of the draws): " + ", ".join(
                f"{k.replace('_', ' ')} {fmt_pct(v) if v is not None else 'n/a'}"
                for k, v in plan["within_limits"].items()))
    elif (plan.get("assumptions") or {}).get("uncertainty"):  # asked for, nothing to draw
        lines += ["", f"uncertainty: none ({plan['assumptions']['uncertainty']['source']})"]
    if plan.get("sensitivity"):
        lines += ["", sensitivity_table(plan["sensitivity"])]
    if plan.get("alternatives"):
        alt = []
        for a in plan["alternatives"]:
            # days as the other days columns show them (0.000254 days had read "0")
            alt.append((a.get("accelerator", c["accelerator"]), fmt_fixed(a.get("gpus"),
                                                                          "{:,}"),
                        layout_text(a.get("layout")) if a.get("layout") else "",
                        fmt_days_column(a.get("training_days")), fmt_pct(a.get("mfu")),
                        a.get("note", "")))
        lines += ["", tabulate(alt, headers=["alternative", "devices", "layout", "days", "MFU",
                                             "why"], tablefmt="simple", disable_numparse=True,
                               colalign=("left", "right", "left", "right", "right", "left"))]
    asm = plan["assumptions"]
    shown = [(k, _short(v["value"]), v["source"][:90]) for k, v in asm.items()]
    lines += ["", tabulate(shown, headers=["assumption", "value", "source"], tablefmt="simple")]
    return "\n".join(lines)


# A cost P50 this far off the headline gets a line saying why (less reads as rounding).
COST_P50_DRIFT_NOTE = 0.05


def _cost_p50_drift(plan: dict) -> str | None:
    """Why the Monte Carlo's cost P50 sits off the headline cost, when it does by more than
    COST_P50_DRIFT_NOTE: days and P50 agree, but the median of a product of right-skewed draws
    (hours, price) lies above the product of their medians (docs/uncertainty.md)."""
    p50 = (plan.get("p50") or {}).get("cost_usd")
    total = (plan.get("cost_usd") or {}).get("total")
    if not p50 or not total or abs(p50 / total - 1) <= COST_P50_DRIFT_NOTE:
        return None
    side = "above" if p50 > total else "below"
    return (f"cost P50 sits {abs(p50 / total - 1):.0%} {side} the headline "
            f"{fmt_money(total)}: each draw multiplies its hours by its price, both ranges "
            "skewed, and the median of the product is not the product of the medians "
            "(docs/uncertainty.md)")


# How the tornado shows an assumption's range (planner/sensitivity.py); others to 4 figures.
_RANGE_TEXT = {
    "restart_s": lambda x: f"{x / 60:g} min",
    "price_per_gpu_hour": lambda x: f"{fmt_money(x)}/device-h",
    "energy_usd_per_kwh": lambda x: f"${x:g}/kWh",
    "tp_comm_overlap": fmt_pct,
    "ep_comm_overlap": fmt_pct,
    "failure_rate_per_device_hour": lambda x: f"{x:.2g}/device-h",
    "realisation_residual": lambda x: f"x{x:.2f}",
    "depreciation_years": lambda x: f"{x:g} years",
    "purchase_usd": fmt_money,
    "server_usd_per_device": fmt_money,
    "capex_usd_per_mw": lambda x: f"{fmt_money(x)}/MW",
}
_QUANTITY_TEXT = {"cost_usd": fmt_money, "training_days": fmt_days_column,
                  "gpu_hours": fmt_count}


def sensitivity_table(tornado: dict) -> str:
    """`planner estimate --sensitivity`'s tornado: each assumption's range, the plan's figure
    at each end on its own cluster, and the limit an end breaks; the largest swing first."""
    quantity, rows = tornado["quantity"], tornado["rows"]
    value = _QUANTITY_TEXT[quantity]
    if not rows:
        return f"sensitivity of {quantity}: none (the plan has no figures on a cluster to vary)"
    out = []
    for r in rows:
        text = _RANGE_TEXT.get(r["assumption"], lambda x: f"{x:.4g}")
        broken = [f"{end}: {r[f'breaks_at_{end}']}" for end in ("low", "high")
                  if r.get(f"breaks_at_{end}")]
        out.append((r["assumption"], f"{text(r['low'])} - {text(r['high'])}",
                    value(r["at_low"]), value(r["at_high"]), ", ".join(broken)))
    residual = any(r["assumption"] == "realisation_residual" for r in rows)
    head = (f"sensitivity of {quantity} (plan: {value(rows[0]['base'])}, on its cluster"
            + ("; realisation_residual: the fitted 10-90% over the expected)" if residual
               else ")"))  # the row is absent with --assume realisation=false
    return (head + "\n" + tabulate(out, headers=["assumption", "range", "at low", "at high",
                                                 "breaks"], tablefmt="simple",
                                   disable_numparse=True))


def _unbound_text(plan: dict) -> str:
    """'none' for a plan no limit binds, with why where a sizing held it to a deadline it
    meets with room (the cheapest size tried sits inside it: 118 of 120 days had read as a
    bare 'none' under 'sized to meet the default 120-day deadline')."""
    sizing = plan.get("sizing") or {}
    limit = (sizing.get("limits") or {}).get("deadline_days")
    days = plan.get("training_days")
    if not plan["feasible"] or days is None or not sizing:
        return "none"
    if sizing.get("objective") == "time":  # the fastest size tried: the larger ran no faster
        return "none: the fastest size tried (the larger sizes tried ran no faster)"
    if not limit or days > limit:
        return "none"
    return (f"none: the cheapest size tried meets the {limit:g}-day deadline with "
            f"{fmt_days(limit - days)} to spare")


def capex_text(plan: dict) -> str:
    """What buying the cluster and building its facility costs up front, beside the owned
    cost's share of it charged to the run."""
    capex = plan.get("capex_usd") or {}
    if capex.get("total") is None:
        known = [f"{fmt_money(capex[k])} {k}" for k in ("hardware", "facility")
                 if capex.get(k) is not None]
        return ("n/a (" + ", ".join(known) + " known)") if known else "n/a"
    # a device only rented (TPU, Trainium: its catalog purchase_usd says "not sold") has a
    # notional price: said here, where a buyer reads what owning it costs
    notional = str((plan["assumptions"].get("purchase_usd") or {}).get("source", "")) \
        .startswith("not sold")
    return (f"{fmt_money(capex['total'])} up front: {fmt_money(capex['hardware'])} hardware "
            f"(accelerators, servers, network) + {fmt_money(capex['facility'])} facility for "
            "its peak IT load; the owned cost charges the run a share of it"
            + (f" ({plan['cluster']['accelerator']} is not sold: a notional price from its "
               "rental, purchase_usd below)" if notional else ""))


def _cost_unknown_text(plan: dict) -> str:
    """Why a plan's cost is unknown: the catalog figure it lacks (an owned cost's hardware
    parts need the accelerator's purchase price, its facility the site's capex per MW)."""
    cost = plan["cost_usd"]
    if cost.get("total") is not None:
        return ""
    if plan.get("gpu_hours") is None:  # a run that never ends has no hours to price
        return " (the run never ends: no hours to price)"
    if plan["cost_method"] == "cloud":
        return " (no cloud price of this accelerator: --price-per-gpu-hour, or a catalog file)"
    needs = [need for part, need in (("accelerators", "the accelerator's purchase_usd"),
                                     ("facility", "the site's capex_usd_per_mw"))
             if cost.get(part) is None]
    return f" (unknown without {' and '.join(needs) or 'a price'}: a --catalog file)"


def _memory_text(plan: dict) -> str:
    """Peak memory per device, what is left, and a warning when little is: the allocator
    wastes GBs to fragmentation (memory_headroom_fraction's source)."""
    used, free = plan["memory_gb_per_gpu"], plan.get("memory_free_gb_per_gpu")
    if free is None:
        return f"{used:,.1f} GB per device"
    hbm = used + free
    text = f"{used:,.1f} of {hbm:,.0f} GB per device ({free:,.1f} GB free)"
    headroom = plan["assumptions"].get("memory_headroom_fraction", {}).get("value")
    if headroom is not None and free < headroom * hbm:
        text += (f": runs close to memory, inside the {headroom:.0%} the search keeps free "
                 "where it can (allocator fragmentation alone can take that: "
                 "memory_headroom_fraction)")
    return text


def _units_text(c: dict) -> str:
    """"128 nodes, 32 racks, bought by the node of 8": what a purchase order counts."""
    def many(n: int, what: str) -> str:
        return f"{n:,} {what}" + ("" if n == 1 else "s")

    parts = [many(c["nodes"], "node")]
    if c.get("racks") is not None:
        parts.append(many(c["racks"], "rack"))
    if c.get("unit"):
        spare = c.get("spare_devices") or 0
        parts.append(("bought by the device" if c["unit_devices"] == 1 else
                      f"bought by the {c['unit']} of {c['unit_devices']:,}")
                     + (f": {many(c['units'], c['unit'])}, {many(spare, 'device')} spare, not "
                        f"charged (--gpus {c['gpus'] + spare:,} costs the whole "
                        f"{c['unit']}{'' if c['units'] == 1 else 's'})" if spare else ""))
    return ", ".join(parts)


def days_text(plan: dict) -> str:
    """'119.3 d expected (ideal 72.2 d)': the expected run's days beside the ideal run's, as
    the P10-P90 and the alternatives' days show them (fmt_days_column: 3 significant figures
    had read "119 d expected" beside a P50 of "118.7 d")."""
    return (f"{fmt_days_column(plan['training_days'])} expected"
            f"{ideal_text(plan, 'training_days', fmt_days_column)}")


def ideal_text(plan: dict, name: str, fmt) -> str:
    """'; ideal X': the ideal run's figure beside the expected one (nothing when equal)."""
    ideal, value = plan.get(f"ideal_{name}"), plan.get(name)
    if name == "cost_usd":
        value = (value or {}).get("total")
    if ideal is None or value is None or not math.isfinite(ideal) or ideal == value:
        return ""
    return f" (ideal {fmt(ideal)})"


def _realisation_text(plan: dict) -> str:
    """How the expected run departs from the ideal one, and its 10-90% range."""
    r = plan.get("realisation") or {}
    if not r or r.get("multiplier") is None:
        return "n/a"
    if not plan["assumptions"].get("realisation", {}).get("value", True):
        return "off: the figures are the ideal run's (--assume realisation=false)"
    team = plan["assumptions"].get("team", {}).get("value", "not said")
    group = realisation.group_of(team if team in TEAMS else None)
    if group not in realisation.FIT:  # too few runs of its own: all runs' fit (realise)
        group = "any"
    why = (f" ({team}: the fit keeps no grouping by team)" if group == "any" and team in TEAMS
           else f" ({team})" if team in TEAMS else " (team not said)")
    # the runs it was fitted on, counted: a range from 11 runs is wider than one from 39
    runs = realisation.GROUP_RUNS[group].format(n=realisation.FIT[group]["runs"])
    return (f"x{r['multiplier']:.2f} the ideal wall time: named terms "
            f"+{r['named_fraction']:.1%} (evaluation, batch ramp-up, rollbacks), residual "
            f"x{r['residual']:.2f} fitted on {runs}{why}; 10-90% "
            f"x{r['p10_multiplier']:.2f}-x{r['p90_multiplier']:.2f}")


def power_text(plan: dict) -> str:
    """Peak (what the site supplies, every cap's test) and the average (the energy bill)."""
    asm = plan["assumptions"]
    peak = asm.get("peak_pue", {}).get("value")
    pue = asm.get("pue", {}).get("value")
    over = asm.get("site_power_cap_mw", {}).get("value")
    return (f"{fmt_power_mw(plan['power_mw'])} peak facility "
            f"(PUE {fmt_fixed(peak, '{:.2f}')} at "
            f"full load), {fmt_power_mw(plan['power_average_mw'])} average (PUE "
            f"{fmt_fixed(pue, '{:.2f}')})"
            + (f"; more than the {fmt_power_mw(over)} the default site "
               f"{plan['cluster']['site']} supplies, a cap not applied unless --site names "
               "it (or --power-cap sets one)" if over else ""))


def _reliability_text(plan: dict) -> str:
    rel = plan.get("reliability") or {}
    if not rel:
        return "n/a"
    lost = f"{fmt_count(rel.get('lost_hours'))} device-hours lost"
    mtbf_s, interval_s = rel.get("mtbf_s"), rel.get("checkpoint_interval_s")
    if mtbf_s is None or not math.isfinite(mtbf_s):  # a failure rate of 0: JSON's null
        return f"no failures modelled (a failure rate of 0): no interruptions, {lost}"
    n = rel.get("expected_interruptions")
    # fewer than ten: one decimal, so a run expecting 0.3 does not read "0" beside lost hours;
    # below what one decimal shows, 3 significant figures (a 70M run on 8 devices had read
    # "0.0 expected interruptions" beside its lost hours)
    count = (fmt_amount(n) if n is not None and 0 < n < 0.05 else
             fmt_fixed(n, "{:,.1f}" if n is not None and n < 9.95 else "{:,.0f}"))
    # below what one decimal shows (0.0 h, 0.0 min), in minutes or seconds: a cluster failing
    # every 8.79 seconds had read "a failure every 0.0 h, checkpoint every 0.0 min"
    def minutes(s):  # "3.5 min", below a minute in seconds ("8.79 seconds", as the status)
        return "n/a min" if s is None else f"{s / 60:,.1f} min" if s >= 60 else fmt_minutes(s)

    every = f"{mtbf_s / 3600:,.1f} h" if mtbf_s >= 360 else minutes(mtbf_s)
    ckpt = minutes(interval_s)
    return (f"{count} expected interruption{'' if count in ('1', '1.0') else 's'} "
            f"in the ideal run (a failure every {every}), checkpoint every {ckpt}, {lost}")


def wrapped(rows, widths) -> list[tuple]:
    """``rows`` for tabulate with each cell of a column that has a width (None: as it is)
    wrapped to lines of at most that many characters. tabulate's own wrapping (maxcolwidths)
    reads a cell's text as a value first: every "False" came out True ("sweep resume True")
    and "24,875" as a number it cannot parse (tabulate 0.10)."""
    return [tuple(c if w is None or c is None else "\n".join(textwrap.wrap(str(c), w)) or str(c)
                  for c, w in zip(row, widths)) for row in rows]


def _short(v):
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)[:40]


def largest_run_text(answer: dict) -> str:
    """The run a budget answer found: parameters (a mixture of experts' active ones beside its
    total), tokens and model FLOPs."""
    inv, w = answer["inverse"], answer.get("workload") or {}
    active = w.get("active_params")
    of = (f" ({fmt_count(active)} active)" if w.get("experts") and active is not None else "")
    return (f"{fmt_count(inv['params'])} parameters{of} x {fmt_count(inv['tokens'])} tokens = "
            f"{inv['model_flops']:.3g} FLOP")


def price_header_text(answer: dict) -> str:
    """The considered accelerators' price column: their rental rate, which an owned budget
    does not pay (it is costed at purchase prices), so it says whose rate it is."""
    return "cloud $/device-h" if answer.get("cost_method") == "owned" else "$/device-h"


def budget_table(answer: dict) -> str:
    """`planner budget`: the run the limits allow, its plan, the binding limit."""
    inv = answer["inverse"]
    year = f"; year {inv['year']}" if inv.get("year") else ""
    if year and answer.get("cost_method") == "owned":
        year += (" (the price trend moves rental prices; owned hardware is costed at the "
                 "catalog's purchase prices)")
    trends = inv.get("trends") or {}
    lines = [f"limits: {limits_text(inv['limits'])}{year}",
             f"rule: {inv['rule']}"]
    if trends.get("frontier_cost_growth_per_year") is not None:  # context, not a limit
        lines.append(f"context: frontier training runs' cost grows "
                     f"x{trends['frontier_cost_growth_per_year']:g} a year "
                     f"({trends['frontier_cost_source'].split(':')[0]})")
    lines.append("")
    if not answer["feasible"] or not answer.get("workload"):
        lines.append(f"no run fits: {answer['reason']}")
        return "\n".join(lines)
    lines.append(tabulate(wrapped([
        ("largest run", largest_run_text(answer)),
        ("binding limit", f"{answer['binding'] or 'none'}: {answer['reason']}"),
    ], [None, 90]), tablefmt="plain", disable_numparse=True))
    rows = [(c["accelerator"], fmt_fixed(c["price_per_gpu_hour"], "${:,.2f}"),
             fmt_count(c["params"]) if c["params"] else "n/a",
             f"{c['model_flops']:.3g}" if c["model_flops"] else "n/a", c["binding"] or "")
            for c in inv["considered"]]
    lines += ["", tabulate(rows, headers=["accelerator", price_header_text(answer), "params",
                                          "FLOP", "binding"], tablefmt="simple",
                           disable_numparse=True)]
    lines += ["", "the plan that trains it:", plan_table({**answer, "reason": None})]
    return "\n".join(lines)


# A budget's limits as a reader names them (the JSON keeps the names with units).
LIMIT_LABELS = {"usd": "budget", "power_cap_w": "power cap", "deadline_s": "deadline",
                "gpus": "devices", "max_gpus": "at most", "unit": "bought by the"}


def limits_text(limits: dict) -> str:
    """"budget $1.00B, deadline 150 d": the limits given (a unit only when asked for)."""
    text = ", ".join(f"{LIMIT_LABELS.get(k, k)} {_limit_text(k, v)}"
                     + (" (default)" if k == "deadline_s" and limits.get("deadline_default")
                        else "")
                     for k, v in limits.items()
                     if v is not None and k != "deadline_default"
                     and not (k == "unit" and v == "auto"))
    if "power_cap_w" in limits and limits["power_cap_w"] is None and limits.get("gpus") is None:
        # said, since the plan names a site: the default site's cap holds only when named
        text += ("; no power cap (--power-cap, or --site to hold a site's; the default "
                 "site caps nothing)")
    if "deadline_s" in limits and limits["deadline_s"] is None \
            and limits.get("gpus") is not None:
        # a fixed fleet with money alone: said, as its run may take years (8 H100 and $10M
        # had planned 868 days with no word of time among the limits)
        text += ("; no deadline (a fixed fleet's run takes what the money buys, however "
                 "long: --deadline holds one)")
    return text


def _limit_text(key: str, v) -> str:
    if key == "usd":
        return fmt_money(v)
    if key == "power_cap_w":
        return fmt_power(v)
    if key == "deadline_s":
        return fmt_duration_days(v)
    if isinstance(v, str):
        return v
    return f"{v:,} device{'' if v == 1 else 's'}" if key == "max_gpus" else f"{v:,}"


def config_table(effective: dict) -> str:
    """`planner config show`: the files searched, then per command each flag's default and
    its origin, then the assumptions a config file sets (the others are built-in)."""
    files = [(f["path"], "found" if f["found"] else "-") for f in effective["files"]]
    lines = ["config files, lowest precedence first (a flag on the command line wins):",
             tabulate(files, headers=["file", ""], tablefmt="simple", disable_numparse=True),
             ""]
    rows = [(command, flag, _short(v["value"]), v["origin"])
            for command, flags in effective["defaults"].items() for flag, v in flags.items()]
    # the values as they are (wrapped, not read as numbers or flags)
    lines += [tabulate(wrapped(rows, [None, None, 40, 70]),
                       headers=["command", "flag", "default", "origin"], tablefmt="simple",
                       disable_numparse=True), ""]
    filed = [(k, _short(v["value"]), v["origin"]) for k, v in effective["assumptions"].items()
             if not v["origin"].startswith("built-in")]
    built = sum(1 for v in effective["assumptions"].values()
                if v["origin"].startswith("built-in"))
    if filed:
        lines += [tabulate(filed, headers=["assumption", "value", "origin"],
                           tablefmt="simple", disable_numparse=True), ""]
    lines.append(f"{built} assumptions at their built-in defaults (--format json lists them, "
                 "each with its source)")
    return "\n".join(lines)


def pandas():
    """pandas, imported on first use (the optional extra), with the install hint if absent."""
    try:
        import pandas as pd
    except ImportError:
        raise ImportError("frames need pandas: pip install pandas, or uv sync --extra pandas "
                          "in the checkout") from None
    return pd


def _price_text(price: float) -> str:
    """A price per device-hour as the plan charges it: cents, and a tenth of a cent where the
    price has one ($1.393, a derived contract rate: $1.39 read $0.02M short on a $8.8M run)."""
    return f"{price:,.2f}" if abs(price * 100 - round(price * 100)) < 1e-6 else f"{price:,.3f}"
