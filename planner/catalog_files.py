"""One catalog file into its typed object: an accelerator, network, site, workload or set of
measurements (planner/specs.py), checked against its kind's schema (catalog_schema.py) with
errors naming the file and the key. The catalog (catalog.py) finds the files and caches what
these parse."""

from __future__ import annotations

import datetime
import tomllib
from pathlib import Path

from .assumptions import DEFAULT
from .catalog_schema import (
    ACCELERATOR,
    ARCHITECTURE,
    MEASUREMENT_DEFAULTS,
    NETWORK,
    REFERENCE,
    SCHEMAS,
    SITE,
)
from .errors import CatalogError, LayoutError, toml_problem
from .schema import SchemaError, Table, check
from .specs import (
    MOE_RULE_FIELDS,
    Accelerator,
    Architecture,
    Figure,
    Measurements,
    Network,
    Reference,
    Site,
    Workload,
    devices_laid_out,
    parse_layout,
    shape_problem,
)
from .units import MIN_SHAPELESS_PARAMS

__all__ = ["PARSERS", "load_file", "read_toml", "is_workload_file", "parse_accelerator",
           "parse_network", "parse_site", "parse_workload", "parse_reference",
           "parse_measurements"]


def _checked(path: Path, kind: str, data: dict) -> dict:
    """``data`` if it meets its kind's schema, else a CatalogError naming the file and key."""
    try:
        check(SCHEMAS[kind], data)
    except SchemaError as exc:
        raise CatalogError(f"{path}: {exc}", f"{path}: {exc.name}", exc.accepted) from None
    return data


def _figures(data: dict, schema: Table) -> dict[str, Figure]:
    return {k: Figure(value=float(v["value"]), source=str(v["source"]), as_of=str(v["as_of"]),
                      confidence=v.get("confidence"), low=v.get("low"), high=v.get("high"),
                      note=v.get("note"))
            for k, v in data.items() if isinstance(schema.keys[k].node, Table)}


def _v(figs: dict[str, Figure], key: str, scale: float = 1.0) -> float | None:
    return figs[key].value * scale if key in figs else None


def parse_accelerator(path: Path, key: str, data: dict) -> Accelerator:
    f = _figures(_checked(path, "accelerators", data), ACCELERATOR)
    peaks = {p: f[f"peak_{p}_tflops"].value * 1e12 for p in ("bf16", "fp8", "fp4")
             if f"peak_{p}_tflops" in f}
    fractions = {p: f[f"matmul_{p}_fraction"].value for p in ("bf16", "fp8", "fp4")
                 if f"matmul_{p}_fraction" in f}
    return Accelerator(
        key=key, name=data.get("name", key), vendor=data.get("vendor", ""),
        release_year=int(f["release_year"].value), peak_flops=peaks, matmul_fraction=fractions,
        hbm_bytes=_v(f, "hbm_gb", 1e9), hbm_bytes_per_s=_v(f, "hbm_tb_per_s", 1e12),
        tdp_w=_v(f, "tdp_w"), system_power_w=_v(f, "system_power_kw", 1e3),
        scale_up_bytes_per_s=_v(f, "scale_up_gb_per_s", 1e9),
        scale_up_domain=int(f["scale_up_domain"].value),
        devices_per_node=int(f["devices_per_node"].value),
        scale_out_bytes_per_s=_v(f, "scale_out_gb_per_s", 1e9),
        scale_up_network=data.get("scale_up_network"),
        scale_out_network=data.get("scale_out_network"),
        purchase_usd=_v(f, "purchase_usd"), server_usd_per_device=_v(f, "server_usd_per_device"),
        cloud_on_demand_usd_per_hour=_v(f, "cloud_on_demand_usd_per_hour"),
        cloud_contract_usd_per_hour=_v(f, "cloud_contract_usd_per_hour"),
        devices_per_rack=_whole(f, "devices_per_rack"),
        devices_per_scalable_unit=_whole(f, "devices_per_scalable_unit"),
        aliases=tuple(a.lower() for a in data.get("aliases", ())), figures=f,
        family=str(data.get("family", key)), bf16=bool(data.get("bf16", True)),
        fp16=bool(data.get("fp16", True)))


def _whole(figs: dict[str, Figure], key: str) -> int | None:
    """A count figure (devices per rack, ...; the schema holds it whole), None when absent."""
    return int(figs[key].value) if key in figs else None


def parse_network(path: Path, key: str, data: dict) -> Network:
    f = _figures(_checked(path, "networks", data), NETWORK)
    tier = data.get("tier", "scale_out")
    radix = _v(f, "switch_radix")
    return Network(key=key, name=data.get("name", key), tier=tier,
                   technology=data.get("technology", ""),
                   link_bytes_per_s=_v(f, "link_gb_per_s", 1e9),
                   switch_radix=int(radix) if radix else None,
                   hop_latency_s=_v(f, "hop_latency_us", 1e-6),
                   achievable_fraction=_v(f, "achievable_fraction"),
                   switch_usd=_v(f, "switch_usd"),
                   device_bytes_per_s=_v(f, "device_gb_per_s", 1e9),
                   accelerator_vendors=(tuple(data["accelerator_vendors"])
                                        if "accelerator_vendors" in data else None),
                   figures=f)


def parse_site(path: Path, key: str, data: dict) -> Site:
    f = _figures(_checked(path, "sites", data), SITE)
    pue, peak = _v(f, "pue"), _v(f, "peak_pue")
    if pue is not None and peak is not None and peak < pue:
        raise CatalogError(f"{path}: peak_pue {peak:g} is below pue {pue:g} (the design-day "
                           "PUE at full IT load cannot be below the annual average)")
    return Site(key=key, name=data.get("name", key), region=data.get("region", ""),
                power_cap_w=_v(f, "power_cap_mw", 1e6), pue=_v(f, "pue"),
                peak_pue=_v(f, "peak_pue"),
                energy_usd_per_kwh=_v(f, "energy_usd_per_kwh"),
                capex_usd_per_mw=_v(f, "capex_usd_per_mw"),
                grid_kg_co2_per_mwh=_v(f, "grid_kg_co2_per_mwh"),
                storage_write_bytes_per_s=_v(f, "storage_write_gb_per_s", 1e9), figures=f)


def parse_workload(path: Path, key: str, data: dict) -> Workload:
    _checked(path, "workloads", data)
    arch, train = data["architecture"], data.get("training", {})
    given = set(arch) - {"source", "as_of", "note"}
    experts = {k: int(arch[k]) for k in MOE_RULE_FIELDS if k in arch}
    if given <= set(MOE_RULE_FIELDS):
        # shape unpublished: a plan takes it from the parameter count (the shape rule; a
        # mixture of experts with its experts and top-k, docs/shape.md)
        if experts and not {"experts", "top_k"} <= set(experts):
            lack = " and ".join(k for k in ("experts", "top_k") if k not in experts)
            raise CatalogError(f"{path}: architecture.{lack.split(' ')[0]}: missing beside "
                               f"{', '.join(sorted(experts))} (no {lack}); accepted: experts "
                               "and top_k (and shared_experts) for a mixture of experts known "
                               "by its count, or the whole published shape")
        if experts and not 1 <= experts["top_k"] <= experts["experts"]:
            raise CatalogError(f"{path}: architecture.top_k: {experts['top_k']!r} is not "
                               f"between 1 and the {experts['experts']} experts")
        if experts and data.get("ffn_type", "gated") != "gated":
            raise CatalogError(f"{path}: ffn_type: {data['ffn_type']!r} with experts; accepted: "
                               "gated (the MoE shape rule's experts are gated, as every "
                               "published MoE's), or the whole published shape")
        if data.get("kind") == "moe" and not experts:
            raise CatalogError(f"{path}: kind 'moe' with no shape: accepted: experts and top_k "
                               "in [architecture] (the MoE shape rule sizes the rest from "
                               "[training] params), or the whole published shape")
        if not train.get("params"):
            raise CatalogError(f"{path}: [architecture] has no shape, so [training] needs "
                               "'params' (the published parameter count)")
        if train["params"] < MIN_SHAPELESS_PARAMS:
            raise CatalogError(f"{path}: training.params: {train['params']!r} is below the shape "
                               "rule's reach; accepted: 70M or more, or the published shape in "
                               "[architecture] (layers, hidden, heads, vocab, ffn)")
        architecture = None
    else:
        missing = [k for k in ("layers", "hidden", "heads", "vocab") if k not in arch]
        if missing:
            raise CatalogError(f"{path}: architecture.{missing[0]} is missing; accepted: "
                               "layers, hidden, heads and vocab for a published shape (or none "
                               "of the shape keys and [training] params)")
        architecture = _architecture(path, data, arch)
    params, active = train.get("params"), train.get("active_params")
    if params and active and active > params:
        raise CatalogError(f"{path}: training.active_params: {active:,.0f} is more than "
                           f"training.params ({params:,.0f}); accepted: the parameters a token "
                           "uses, at most all of them")
    is_moe = architecture.is_moe if architecture is not None else bool(experts)
    if "kind" in data and data["kind"] != ("moe" if is_moe else "dense"):
        raise CatalogError(f"{path}: kind: {data['kind']!r} is not this file's shape, which is "
                           f"{'a mixture of experts' if is_moe else 'dense (no experts)'}; "
                           f"accepted: kind = \"{'moe' if is_moe else 'dense'}\", or leave it "
                           "out")
    # a run is whole optimizer steps of whole sequences: a file whose own figures break that
    # is refused here, with its path and field, for every use of it (the library's catalog had
    # loaded it); where a default is one of the two, a flag may still set it (plan/inputs.py)
    seq_len = int(train.get("seq_len", DEFAULT.seq_len))
    batch = float(train.get("global_batch_tokens", DEFAULT.global_batch_tokens))
    if "global_batch_tokens" in train and "seq_len" in train and batch < seq_len:
        raise CatalogError(f"{path}: training.global_batch_tokens: {batch:,.0f} is less than "
                           f"one sequence of {seq_len:,} tokens (training.seq_len); accepted: "
                           "a batch of whole sequences")
    if "global_batch_tokens" in train and 0 < train.get("tokens", 0) < batch:
        raise CatalogError(f"{path}: training.tokens: {train['tokens']:,.0f} is less than one "
                           f"global batch of {batch:,.0f} tokens (training.global_batch_tokens)"
                           "; accepted: at least one global batch (a run is whole optimizer "
                           "steps)")
    refs = [parse_reference(path, raw, i) for i, raw in enumerate(data.get("reference", []))]
    for ref in refs:
        if ref.workload is not None and ref.workload != key:
            raise CatalogError(f"{path}: [[reference]] {ref.row_id}: workload '{ref.workload}' "
                               f"is not this file's workload '{key}' (leave it out here)")
    return Workload(
        key=key, name=data.get("name", key), architecture=architecture,
        tokens=float(train.get("tokens", 0.0)), seq_len=seq_len, global_batch_tokens=batch,
        precision=data.get("precision", "bf16"), published_params=train.get("params"),
        published_active_params=train.get("active_params"),
        published_ffn_type=data.get("ffn_type", "gated"),
        published_experts=tuple(experts.get(k, 0) for k in MOE_RULE_FIELDS) if architecture is None
        else (0, 0, 0),
        references=tuple(refs), family=data.get("family", ""),
        figures=_workload_figures(data),
        defaulted=_defaulted(data, arch, architecture, train))


def _workload_figures(data: dict) -> dict[str, Figure]:
    """A workload file's published numbers ([architecture] and [training]), each with its
    table's source and date, as the hardware files' figures are listed (`workloads list
    --format json` had given every workload's figures as {})."""
    out = {}
    for table in ("architecture", "training"):
        block = data.get(table) or {}
        for k, v in block.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                out[k] = Figure(value=float(v), source=str(block.get("source", "")),
                                as_of=str(block.get("as_of", "")),
                                confidence=block.get("confidence"), note=block.get("note"))
    return out


def _defaulted(data: dict, arch: dict, architecture: Architecture | None,
               train: dict) -> tuple:
    """What a workload file's published shape and training left to a default, reported by a
    plan of it (unless a flag gives it)."""
    out = []
    for key in ("seq_len", "global_batch_tokens"):
        if key not in train:
            out.append((key, getattr(DEFAULT, key), f"the file gives no [training] {key}: "
                        f"the planner default, {DEFAULT.source(key)}"))
    if architecture is None:
        return tuple(out)
    if "kv_heads" not in arch:
        out.append(("kv_heads", architecture.heads, "the file gives no kv_heads: every head "
                    "its own key and value (multi-head attention, Vaswani et al. 2017)"))
    if "tie_embeddings" not in data:
        out.append(("tie_embeddings", False, "the file does not say: input and output "
                    "embeddings counted apart"))
    return tuple(out)


def _architecture(path: Path, data: dict, arch: dict) -> Architecture:
    ints = {k: int(arch.get(k, 0)) for k in ARCHITECTURE.keys if k not in (
        "source", "as_of", "note")}
    architecture = Architecture(
        layers=ints["layers"], hidden=ints["hidden"], heads=ints["heads"],
        kv_heads=int(arch.get("kv_heads", ints["heads"])), ffn=ints["ffn"], vocab=ints["vocab"],
        ffn_type=data.get("ffn_type", "gated"),
        tie_embeddings=bool(data.get("tie_embeddings", False)), experts=ints["experts"],
        top_k=ints["top_k"], expert_ffn=ints["expert_ffn"],
        shared_experts=ints["shared_experts"], dense_layers=ints["dense_layers"],
        expert_groups=ints["expert_groups"], group_top_k=ints["group_top_k"],
        head_size=ints["head_dim"], kv_lora_rank=ints["kv_lora_rank"],
        q_lora_rank=ints["q_lora_rank"], rope_head_dim=ints["rope_head_dim"],
        v_head_dim=ints["v_head_dim"], window=ints["window"],
        # a window without its layers is every layer's (Mistral 7B's 4,096)
        window_layers=int(arch.get("window_layers", ints["layers"] if ints["window"] else 0)))
    problem = shape_problem(architecture)
    if problem:
        name, reason, accepted = problem
        value = getattr(architecture, name)
        name = {"head_size": "head_dim"}.get(name, name)
        raise CatalogError(f"{path}: architecture.{name}: {value!r} {reason}; accepted: "
                           f"{accepted}")
    if architecture.routing_error():
        raise CatalogError(f"{path}: architecture: {architecture.routing_error()}")
    return architecture


def parse_reference(path: Path, raw, i: int, defaults: dict | None = None) -> Reference:
    """One [[reference]] row (``defaults``: keys a measurement file gives once for all its
    rows), checked against REFERENCE (every key's type and range)."""
    if not isinstance(raw, dict):
        raise CatalogError(f"{path}: reference[{i}] must be a table")
    row = {**(defaults or {}), **raw}
    where = f"[[reference]] {row.get('row_id') or i + 1}"
    try:
        check(REFERENCE, row, where)
    except SchemaError as exc:
        raise CatalogError(f"{path}: {exc}") from None
    # a row's layouts (its own, its stages') checked here as --layout is, and against the
    # devices where they give every part that multiplies to them: 'pp=banana' had loaded,
    # then stopped planner validate after a minute naming a flag no one typed (an audit)
    for name, part in [("layout", row)] + [(f"stages[{n}].layout", st) for n, st in
                                           enumerate(row.get("stages", ()))]:
        if "layout" not in part:
            continue
        try:
            layout = parse_layout(part["layout"])
        except LayoutError as exc:
            raise CatalogError(f"{path}: {where}: {name}: {part['layout']!r}: {exc}; accepted: "
                               "a layout as --layout takes it (tp=8,pp=16,recompute=full)",
                               f"{path}: reference.{name}") from None
        gpus, n = part.get("gpus", row.get("gpus")), devices_laid_out(layout)
        # without cp, the search chooses it: tp x pp x dp must divide the devices
        split = (layout["tp"] * layout["pp"] * layout["dp"]
                 if n is None and all(k in layout for k in ("tp", "pp", "dp")) else None)
        if gpus and ((n is not None and n != gpus) or (split is not None and gpus % split)):
            raise CatalogError(
                f"{path}: {where}: {name}: {part['layout']!r} lays out "
                f"{n or split:,} devices{'' if n else ' times cp'}, not the row's gpus "
                f"{gpus:,}; accepted: tp x pp x dp x cp equal to gpus",
                f"{path}: reference.{name}")
    return Reference(**{**row, "stages": tuple(dict(s) for s in row.get("stages", ()))})




def parse_measurements(path: Path, key: str, data: dict) -> Measurements:
    """A file of one public source's measurements: plain keys, defaults for its rows, and
    [[reference]] rows that each name their workload."""
    _checked(path, "measurements", data)
    defaults = {k: data[k] for k in MEASUREMENT_DEFAULTS if k in data}
    refs = []
    for i, raw in enumerate(data["reference"]):
        ref = parse_reference(path, raw, i, defaults)
        if not ref.workload:
            raise CatalogError(f"{path}: [[reference]] {ref.row_id}: a measurement row needs "
                               "'workload', the key of a workload file")
        refs.append(ref)
    ids = [r.row_id for r in refs]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})[0]
        raise CatalogError(f"{path}: row_id '{dup}' is given twice")
    return Measurements(key=key, name=str(data.get("name", key)), references=tuple(refs),
                        note=str(data.get("note", "")))



PARSERS = {"accelerators": parse_accelerator, "networks": parse_network, "sites": parse_site,
           "workloads": parse_workload, "measurements": parse_measurements}


def read_toml(path: Path) -> dict:
    try:
        with open(path, "rb") as fh:
            return _dates_as_text(tomllib.load(fh))
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{path}: {toml_problem(exc, path)}") from None
    except UnicodeDecodeError:
        raise CatalogError(f"{path}: not valid TOML (not UTF-8 text)") from None


def _dates_as_text(data):
    """``data`` with each ``as_of`` written as a TOML date (as_of = 2026-06-01, unquoted) as
    its text, the form the catalog's dates take ("2026-06-01"); a date and time is left for
    the schema to name."""
    if isinstance(data, dict):
        return {k: (v.isoformat() if k == "as_of" and type(v) is datetime.date
                    else _dates_as_text(v)) for k, v in data.items()}
    if isinstance(data, list):
        return [_dates_as_text(v) for v in data]
    return data


def load_file(kind: str, path: Path):
    """Parse one catalog file of a kind ('accelerators', ...) into its typed object."""
    path = Path(path)
    return PARSERS[kind](path, path.stem.lower(), read_toml(path))


def is_workload_file(key) -> bool:
    """Whether a workload input names a workload file (FILE.toml) rather than a catalog key."""
    return str(key).endswith(".toml")
