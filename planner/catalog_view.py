"""The catalog for people and scripts: `planner hardware|workloads list|show` as tables and
JSON records, each figure with its source. No modelling here."""

from __future__ import annotations

import math
from pathlib import Path

from tabulate import tabulate

from .errors import CatalogError
from .report import wrapped
from .specs import DERIVED_RESERVED_RATE
from .units import fmt_count, fmt_fixed


def _price(acc) -> tuple[str, str]:
    """The price per device-hour a plan charges (Accelerator.cloud_price: the catalog's
    contract price, else one derived from on-demand), and which it is."""
    name, fig = acc.cloud_price()
    if fig is None:
        return "n/a", "unknown"
    return fmt_fixed(fig.value, "{:,.2f}"), ("derived contract" if name == DERIVED_RESERVED_RATE
                                             else "contract")


def _catalog_of(cat):
    """A Catalog, or the one ``cat`` names (None: the shipped one and PLANNER_CATALOG's; a
    directory or several: planner.catalog's form), as the public functions take it (None had
    raised AttributeError)."""
    from .catalog import Catalog, catalog

    return cat if isinstance(cat, Catalog) else catalog(cat)


def catalog_table(cat, kinds) -> str:
    """One table per kind (``kinds``: one kind's name, or several): key, name and the
    headline figures."""
    cat = _catalog_of(cat)
    if isinstance(kinds, str):  # "sites", not its letters
        kinds = (kinds,)
    out = []
    # workload -> its rows in the measurement files (counted with its own)
    measured = _measured(cat) if "workloads" in kinds else {}
    for kind in kinds:
        rows = []
        for item in cat.all(kind):
            check_usable(cat, kind, item)  # a broken file is named, not listed
            if kind == "accelerators":
                rows.append((item.key, item.name, fmt_fixed(item.peak_flops.get("bf16", 0) / 1e12,
                                                       "{:,.0f}"),
                             fmt_fixed(item.peak_flops.get("fp8", math.nan) / 1e12, "{:,.0f}"),
                             fmt_fixed(item.hbm_bytes / 1e9, "{:,.0f}"), item.scale_up_domain,
                             fmt_fixed(item.tdp_w, "{:,.0f}"), *_price(item)))
                headers = ["accelerator", "name", "bf16 TFLOP/s", "fp8 TFLOP/s", "HBM GB",
                           "scale-up", "TDP W", "$/device-h", "price basis"]
            elif kind == "networks":
                # what a device gets on the fabric: the file's device_gb_per_s where it gives
                # one (aws-efa-p4d: 6.25, 400 Gb/s per 8 GPUs; what a plan on it uses), else
                # its link's (one port a device); the link's rate beside it. 3 significant
                # figures: 12.5 and 6.25 had read "12" and "6"
                per_device = item.device_bytes_per_s or item.link_bytes_per_s
                rows.append((item.key, item.name, item.tier,
                             fmt_fixed((per_device or math.nan) / 1e9, "{:,.3g}"),
                             fmt_fixed((item.link_bytes_per_s or math.nan) / 1e9, "{:,.3g}"),
                             item.switch_radix or "n/a", fmt_fixed(item.achievable_fraction,
                                                              "{:.2f}")))
                headers = ["network", "name", "tier", "GB/s per device", "link GB/s", "radix",
                           "achievable"]
            elif kind == "sites":
                rows.append((item.key, item.name,
                             fmt_fixed((item.power_cap_w or math.nan) / 1e6, "{:,.0f}"),
                             fmt_fixed(item.pue, "{:.2f}"),
                             fmt_fixed(item.energy_usd_per_kwh, "{:.3f}"),
                             fmt_fixed(item.grid_kg_co2_per_mwh, "{:,.0f}")))
                headers = ["site", "name", "cap MW", "PUE", "$/kWh", "kg CO2/MWh"]
            else:
                a = item.architecture
                from .model.architecture import total_params, workload_shape

                # the count the file publishes ([training] params), and the count of the
                # shape a plan uses (its [architecture], else the shape rule's for that
                # count): 42dot LLM-PLM "1.3B" counts 1.44B
                shape = float(total_params(a if a is not None else workload_shape(item)))
                rows.append((item.key, item.name,
                             # a shape known by its count: its experts say its kind
                             ("moe" if (a.experts if a is not None
                                        else item.published_experts[0]) else "dense"),
                             fmt_count(item.published_params) if item.published_params
                             else "n/a", fmt_count(shape),
                             a.layers if a else "n/a", a.hidden if a else "n/a",
                             fmt_count(item.tokens) if item.tokens else "n/a",
                             len(item.references) + len(measured.get(item.key, ()))))
                headers = ["workload", "name", "kind", "params (file)", "params (shape)",
                           "layers", "hidden", "tokens", "references"]
        out.append(tabulate(rows, headers=headers, tablefmt="simple"))
    return "\n\n".join(out)


def _entry(cat, kind: str, key: str):
    """(item, path) of a catalog key, or of a workload file given by its path (FILE.toml, as
    --workload takes it)."""
    from .catalog import is_workload_file

    if kind == "workloads" and is_workload_file(key):
        return cat.workload(key), Path(key)
    return cat.get(kind, key), cat.path(kind, key)


def check_usable(cat, kind: str, item, path=None) -> None:
    """The checks a plan of a catalog item makes beyond its file's schema, so that a file
    ``hardware show`` or ``workloads show`` prints is one a plan can use: an accelerator's
    networks exist and are of their tiers; a workload's counts agree with its shape, the rule
    reaches its count, and its batch holds a sequence."""
    path = path or cat.path(kind, item.key)
    if kind == "accelerators":
        for name in ("scale_up_network", "scale_out_network"):
            cat.own_network(item, name)
        for name in (item.key, *item.aliases):  # an alias two files claim (catalog.resolve)
            cat.resolve(kind, name)
    elif kind == "workloads":
        from .model.architecture import published_params_problem, workload_shape

        count = published_params_problem(item)
        if count:
            raise CatalogError(f"{path}: {count[0]}; accepted: {count[1]}")
        if item.architecture is None and item.published_params:
            try:
                workload_shape(item)
            except ValueError as exc:
                raise CatalogError(f"{path}: training.params: {exc}") from None
        if item.global_batch_tokens < item.seq_len:  # one of the two a default (a file's own
            # two are refused as it loads: catalog_files.py), as a plan of it refuses
            raise CatalogError(f"{path}: training.global_batch_tokens: "
                               f"{item.global_batch_tokens:,.0f} is less than one sequence of "
                               f"{item.seq_len:,} tokens; accepted: a batch of whole sequences")


def catalog_show(cat, kind: str, key: str) -> str:
    """Every entry of one catalog file, each figure with its source: the file as written, once
    it has passed the checks every use of it makes (a broken file is named, not shown)."""
    cat = _catalog_of(cat)
    from .catalog import read_toml

    item, path = _entry(cat, kind, key)
    check_usable(cat, kind, item, path)
    raw = read_toml(path)
    rows = []
    def big(x):  # thousands separated: 11,700,000 rather than 11700000 (a year not)
        return f"{x:,}" if isinstance(x, int | float) and not isinstance(x, bool) \
            and abs(x) >= 1e4 else x

    for k, v in raw.items():
        if isinstance(v, dict) and "value" in v:
            rng = f" [{big(v.get('low', ''))}-{big(v.get('high', ''))}]" \
                if ("low" in v or "high" in v) else ""
            value = big(v["value"])
            rows.append((k, f"{value}{rng}", v.get("confidence", ""),
                         f"{v['source']} ({v['as_of']})" + _note(v)))
        elif isinstance(v, dict):
            src = f"{v.get('source', '')} ({v.get('as_of', '')})" + _note(v)
            rows.append((k, ", ".join(f"{a}={big(b)}" for a, b in v.items()
                                      if a not in ("source", "as_of", "note")), "", src))
        elif isinstance(v, list) and v and isinstance(v[0], dict):
            rows += [_reference_row(f"{k}: {ref.get('row_id')}", ref) for ref in v]
        elif isinstance(v, list):  # plain lists (aliases, accelerator_vendors)
            rows.append((k, ", ".join(map(str, v)), "", ""))
        else:
            rows.append((k, v, "", ""))
    if kind == "workloads":  # the rows of the measurement files that name this workload
        rows += [_reference_row(f"measured: {ref.row_id}", vars(ref),
                                _measurements_file(cat, source))
                 for ref, source in _measured(cat).get(item.key, ())]
    if kind == "accelerators":
        name, fig = item.cloud_price()
        if name == DERIVED_RESERVED_RATE:  # what a plan rents at, where the file has no figure
            rows.append(("rents at (derived contract)",
                         f"{fig.value:,.2f} [{fig.low:,.2f}-{fig.high:,.2f}]", fig.confidence,
                         fig.source.split("; on-demand: ")[0]))
    title = f"{kind[:-1]} {item.key} ({path})"
    # wrapped here (report.wrapped): tabulate's own wrapping reads "24,875" as a number it
    # cannot parse and "False" as True (tabulate 0.10)
    return title + "\n" + tabulate(wrapped(rows, [None, 40, None, 70]),
                                   headers=["key", "value", "conf.", "source"],
                                   tablefmt="simple", disable_numparse=True)


# A published row's figures, in the order `workloads show` prints them.
REFERENCE_FIGURES = ("tokens_per_s_per_gpu", "tflops_per_gpu", "mfu_pct", "hfu_pct",
                     "gpu_hours", "training_days", "energy_mwh", "cost_usd")


def _reference_row(label: str, ref: dict, measured_in: str | None = None) -> tuple:
    """One published row as `workloads show` prints it: its run (devices, layout, kind),
    every published figure, its confidence and its source with the date, and for a row of
    a measurements file, that file (``measured_in``)."""
    run = " x ".join(str(x) for x in (ref.get("gpus"), ref.get("accelerator")) if x)
    figures = ", ".join(f"{a}={ref[a]:,}" if isinstance(ref[a], int | float) else
                        f"{a}={ref[a]}" for a in REFERENCE_FIGURES if ref.get(a) is not None)
    value = "; ".join(x for x in (ref.get("kind"), run, ref.get("layout"), figures) if x)
    source = f"{ref.get('source', '')} ({ref.get('as_of', '')})"
    if measured_in:
        source += f" [{measured_in}]"
    return label, value, ref.get("confidence") or "", source


def _measurements_file(cat, key: str) -> str:
    """The measurements file ``key`` as `workloads show` names it: a user catalog's by its
    path (one replacing the shipped file of its key had been labelled with the shipped
    file's name), the shipped one by its place in the catalog."""
    if cat.from_user("measurements", key):
        return str(cat.path("measurements", key))
    return f"workloads/measurements/{key}.toml"


def _measured(cat) -> dict[str, list[tuple]]:
    """workload key -> (reference, measurement file key) of every measurement row naming it."""
    out: dict[str, list[tuple]] = {}
    for m in cat.all("measurements"):
        for ref in m.references:
            out.setdefault(ref.workload, []).append((ref, m.key))
    return out


def _note(figure: dict) -> str:
    """A figure's note, after its source: how the value was read, what its range means (a
    dense figure against a sparse headline, an estimate not a measurement)."""
    return f". Note: {figure['note']}" if figure.get("note") else ""


def _record(item) -> dict:
    """A catalog object's fields, numbers in the units their names carry, figures with their
    sources."""
    from dataclasses import fields, is_dataclass

    out = {}
    for f in fields(item):
        v = getattr(item, f.name)
        if f.name == "figures":
            out["figures"] = {k: {a: getattr(fig, a) for a in ("value", "source", "as_of",
                                                               "confidence", "low", "high")}
                              for k, fig in v.items()}
        elif f.name == "references":
            out["references"] = [ref.row_id for ref in v]
        elif is_dataclass(v):
            out[f.name] = _record(v)
        elif isinstance(v, (dict, tuple, list)):
            out[f.name] = dict(v) if isinstance(v, dict) else list(v)
        else:
            out[f.name] = v
    return out


def catalog_records(cat, kinds) -> dict:
    """`planner hardware list --format json`: {kind: [every item's fields]} (the typed
    objects of specs.py: SI units inside, e.g. hbm_bytes, peak_flops in FLOP/s)."""
    out = {}
    measured = _measured(cat) if "workloads" in kinds else {}
    for kind in kinds:
        rows = []
        for item in cat.all(kind):
            # a broken file is named, not listed, as the table does (JSON had listed a file
            # the table and every plan refuse)
            check_usable(cat, kind, item)
            rec = {"key": item.key, **_record(item)}
            if kind == "accelerators":
                rec["price_per_gpu_hour"], rec["price_basis"] = (
                    item.cloud_price()[1].value if item.cloud_price()[1] else None,
                    _price(item)[1])
            if kind == "workloads":
                from .model.architecture import active_params, total_params

                a = item.architecture
                if rec.get("architecture"):  # named as the files and plans name it
                    rec["architecture"]["head_dim"] = rec["architecture"].pop("head_size")
                experts = a.experts if a is not None else item.published_experts[0]
                rec["kind"] = "moe" if experts else "dense"  # the table's column
                rec["params"] = (float(total_params(a)) if a is not None
                                 else item.published_params)
                # a dense model's active count is its count; a MoE known by its count alone
                # has none the planner can say
                rec["active_params"] = (float(active_params(a)) if a is not None else
                                        item.published_active_params or
                                        (rec["params"] if not experts else None))
                rec["tokens"] = item.tokens or None  # unknown: null, as the table's n/a
                rec["measured_references"] = [ref.row_id
                                              for ref, _ in measured.get(item.key, ())]
            rows.append(rec)
        out[kind] = rows
    return _json_safe(out)


def catalog_item(cat, kind: str, key: str) -> dict:
    """`planner hardware show NAME --format json`: the file's entries as written (each figure
    in the unit its key names, with value, source and as_of), its kind, key and path, once
    the file has passed the checks every use of it makes."""
    from .catalog import read_toml

    item, path = _entry(cat, kind, key)
    check_usable(cat, kind, item, path)
    out = {"kind": kind[:-1], "key": item.key, "path": str(path), "entries": read_toml(path)}
    if kind == "workloads":  # the measurement files' rows of it, as the table prints them
        out["measured"] = [{**_record(ref), "measurements": str(cat.path("measurements",
                                                                          source))}
                           for ref, source in _measured(cat).get(item.key, ())]
    return _json_safe(out)


def _json_safe(x):
    """Numbers as JSON has them: numpy scalars to Python, nan and inf to None."""
    if isinstance(x, dict):
        return {k: _json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_json_safe(v) for v in x]
    if hasattr(x, "item") and not isinstance(x, (str, bytes)):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x
