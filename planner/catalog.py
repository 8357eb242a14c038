"""Catalog files: accelerators, networks, sites and workloads, one TOML file per item.

The file name is the key; unknown keys are errors naming the file and the key; every number is a
sourced figure (docs/catalog.md). Files load lazily, on first use of a key, never at import time.
A user directory (``--catalog DIR`` or ``PLANNER_CATALOG``) has the same layout, and its files
override shipped files of the same key.
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from .assumptions import FRAMEWORKS, Assumptions
from .errors import CatalogError, UnknownKeyError
from .specs import (
    FFN_TYPES,
    PRECISIONS,
    REFERENCE_CONFIDENCE,
    TEAMS,
    Accelerator,
    Architecture,
    Figure,
    Measurements,
    Network,
    Reference,
    Site,
    Workload,
)

KINDS = {
    "accelerators": "hardware/accelerators",
    "networks": "hardware/networks",
    "sites": "hardware/sites",
    "workloads": "workloads",
    "measurements": "workloads/measurements",
}

FIGURE_KEYS = {"value", "source", "as_of", "confidence", "low", "high", "note"}

ACCELERATOR_TEXT = {"name", "vendor", "family", "aliases", "scale_up_network",
                    "scale_out_network"}
ACCELERATOR_FIGURES = {
    "release_year", "peak_bf16_tflops", "peak_fp8_tflops", "peak_fp4_tflops",
    "matmul_bf16_fraction", "matmul_fp8_fraction", "matmul_fp4_fraction", "hbm_gb",
    "hbm_tb_per_s", "tdp_w", "system_power_kw", "scale_up_gb_per_s", "scale_up_domain",
    "devices_per_node", "scale_out_gb_per_s", "purchase_usd", "server_usd_per_device",
    "cloud_on_demand_usd_per_hour", "cloud_contract_usd_per_hour", "devices_per_rack",
    "devices_per_scalable_unit",
}
ACCELERATOR_REQUIRED = {"release_year", "peak_bf16_tflops", "hbm_gb", "hbm_tb_per_s",
                        "scale_up_gb_per_s", "scale_up_domain", "devices_per_node"}
NETWORK_TEXT = {"name", "tier", "technology"}
NETWORK_FIGURES = {"link_gb_per_s", "switch_radix", "hop_latency_us", "achievable_fraction",
                   "switch_usd", "year", "device_gb_per_s"}
SITE_TEXT = {"name", "region"}
SITE_FIGURES = {"power_cap_mw", "pue", "peak_pue", "energy_usd_per_kwh", "capex_usd_per_mw",
                "grid_kg_co2_per_mwh", "storage_write_gb_per_s"}
WORKLOAD_TEXT = {"name", "family", "kind", "ffn_type", "tie_embeddings", "precision", "note"}
ARCH_KEYS = {"source", "as_of", "note", "layers", "hidden", "heads", "kv_heads", "ffn", "vocab",
             "experts", "top_k", "expert_ffn", "shared_experts", "dense_layers", "head_dim",
             "expert_groups", "group_top_k",
             "kv_lora_rank", "q_lora_rank", "rope_head_dim", "v_head_dim"}
TRAINING_KEYS = {"source", "as_of", "note", "params", "active_params", "tokens", "seq_len",
                 "global_batch_tokens"}
REFERENCE_KEYS = {f for f in Reference.__dataclass_fields__}
STAGE_KEYS = {"name", "tokens", "gpus", "seq_len", "global_batch_tokens", "layout", "note"}
FLOP_CONVENTIONS = {"megatron2021", "palm", "causal", "noncausal", "6n"}




@lru_cache(maxsize=1)
def _shipped_root() -> Path:
    """The catalogs inside the installed wheel, or the checkout's hardware/ and workloads/."""
    packaged = Path(__file__).resolve().parent / "catalog_data"  # the wheel's copy
    if (packaged / "hardware").is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent


def _figure(path: Path, key: str, raw: Any) -> Figure:
    if not isinstance(raw, dict):
        raise CatalogError(f"{path}: '{key}' must be a figure "
                           "{ value = ..., source = \"...\", as_of = \"...\" }, got " + repr(raw))
    unknown = set(raw) - FIGURE_KEYS
    if unknown:
        raise CatalogError(f"{path}: unknown key '{sorted(unknown)[0]}' in figure '{key}'")
    for need in ("value", "source", "as_of"):
        if need not in raw:
            raise CatalogError(f"{path}: figure '{key}' has no '{need}'")
    value = raw["value"]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise CatalogError(f"{path}: figure '{key}' value must be a number, got {value!r}")
    return Figure(value=float(value), source=str(raw["source"]), as_of=str(raw["as_of"]),
                  confidence=raw.get("confidence"), low=raw.get("low"), high=raw.get("high"),
                  note=raw.get("note"))


def _check_keys(path: Path, data: dict, allowed: set[str], where: str = "") -> None:
    for key in data:
        if key not in allowed:
            place = f" in [{where}]" if where else ""
            raise CatalogError(f"{path}: unknown key '{key}'{place}; allowed: "
                               + ", ".join(sorted(allowed)))


def _sourced_table(path: Path, data: Any, allowed: set[str], name: str) -> dict:
    if not isinstance(data, dict):
        raise CatalogError(f"{path}: [{name}] must be a table")
    _check_keys(path, data, allowed, name)
    for need in ("source", "as_of"):
        if need not in data:
            raise CatalogError(f"{path}: [{name}] has no '{need}' for its figures")
    return data


def _figures(path: Path, data: dict, text: set[str], figure_keys: set[str],
             required: set[str] = frozenset()) -> dict[str, Figure]:
    _check_keys(path, data, text | figure_keys)
    figs = {k: _figure(path, k, v) for k, v in data.items() if k in figure_keys}
    missing = required - set(figs)
    if missing:
        raise CatalogError(f"{path}: missing required figure '{sorted(missing)[0]}'")
    return figs


def _v(figs: dict[str, Figure], key: str, scale: float = 1.0) -> float | None:
    return figs[key].value * scale if key in figs else None


def parse_accelerator(path: Path, key: str, data: dict) -> Accelerator:
    f = _figures(path, data, ACCELERATOR_TEXT, ACCELERATOR_FIGURES, ACCELERATOR_REQUIRED)
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
        devices_per_rack=_whole(path, f, "devices_per_rack"),
        devices_per_scalable_unit=_whole(path, f, "devices_per_scalable_unit"),
        aliases=tuple(a.lower() for a in data.get("aliases", ())), figures=f,
        family=str(data.get("family", key)))


def _whole(path: Path, figs: dict[str, Figure], key: str) -> int | None:
    """A count figure (devices per rack, ...): a whole number >= 1, or None when absent."""
    if key not in figs:
        return None
    value = figs[key].value
    if value < 1 or int(value) != value:
        raise CatalogError(f"{path}: '{key}' must be a whole number >= 1, got {value!r}")
    return int(value)


def parse_network(path: Path, key: str, data: dict) -> Network:
    f = _figures(path, data, NETWORK_TEXT, NETWORK_FIGURES)
    tier = data.get("tier", "scale_out")
    if tier not in ("scale_up", "scale_out"):
        raise CatalogError(f"{path}: tier must be 'scale_up' or 'scale_out', got {tier!r}")
    radix = _v(f, "switch_radix")
    return Network(key=key, name=data.get("name", key), tier=tier,
                   technology=data.get("technology", ""),
                   link_bytes_per_s=_v(f, "link_gb_per_s", 1e9),
                   switch_radix=int(radix) if radix else None,
                   hop_latency_s=_v(f, "hop_latency_us", 1e-6),
                   achievable_fraction=_v(f, "achievable_fraction"),
                   switch_usd=_v(f, "switch_usd"),
                   device_bytes_per_s=_v(f, "device_gb_per_s", 1e9), figures=f)


def parse_site(path: Path, key: str, data: dict) -> Site:
    f = _figures(path, data, SITE_TEXT, SITE_FIGURES)
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


def _int(path: Path, table: dict, key: str, default: int | None = None) -> int:
    value = table.get(key, default)
    if value is None:
        raise CatalogError(f"{path}: [architecture] needs '{key}'")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 \
            or int(value) != value:
        raise CatalogError(f"{path}: '{key}' must be a whole number >= 0, got {value!r}")
    return int(value)


def parse_workload(path: Path, key: str, data: dict) -> Workload:
    _check_keys(path, data, WORKLOAD_TEXT | {"architecture", "training", "reference"})
    arch = _sourced_table(path, data.get("architecture"), ARCH_KEYS, "architecture")
    train = _sourced_table(path, data.get("training", {"source": "-", "as_of": "-"}),
                           TRAINING_KEYS, "training")
    ffn_type = data.get("ffn_type", "gated")
    if ffn_type not in FFN_TYPES:
        raise CatalogError(f"{path}: ffn_type must be one of {FFN_TYPES}, got {ffn_type!r}")
    precision = data.get("precision", "bf16")
    if precision not in PRECISIONS:
        raise CatalogError(f"{path}: precision must be one of {PRECISIONS}, got {precision!r}")
    shape = set(arch) - {"source", "as_of", "note"}
    if not shape:  # shape unpublished: the plan takes it from the parameter count
        if not train.get("params"):
            raise CatalogError(f"{path}: [architecture] has no shape, so [training] needs "
                               "'params' (the published parameter count)")
        architecture = None
    else:
        architecture = _architecture(path, arch, ffn_type, data)
    refs = [parse_reference(path, raw, i) for i, raw in enumerate(data.get("reference", []))]
    for ref in refs:
        if ref.workload is not None and ref.workload != key:
            raise CatalogError(f"{path}: [[reference]] {ref.row_id}: workload '{ref.workload}' "
                               f"is not this file's workload '{key}' (leave it out here)")
    tokens = float(train.get("tokens", 0.0))
    return Workload(
        key=key, name=data.get("name", key), architecture=architecture, tokens=tokens,
        seq_len=int(train.get("seq_len", 8192)),
        global_batch_tokens=float(train.get("global_batch_tokens", 16 * 2**20)),
        precision=precision, published_params=train.get("params"), references=tuple(refs),
        family=data.get("family", ""))


def _architecture(path: Path, arch: dict, ffn_type: str, data: dict) -> Architecture:
    heads = _int(path, arch, "heads")
    architecture = Architecture(
        layers=_int(path, arch, "layers"), hidden=_int(path, arch, "hidden"), heads=heads,
        kv_heads=_int(path, arch, "kv_heads", heads), ffn=_int(path, arch, "ffn", 0),
        vocab=_int(path, arch, "vocab"), ffn_type=ffn_type,
        tie_embeddings=bool(data.get("tie_embeddings", False)),
        experts=_int(path, arch, "experts", 0), top_k=_int(path, arch, "top_k", 0),
        expert_ffn=_int(path, arch, "expert_ffn", 0),
        shared_experts=_int(path, arch, "shared_experts", 0),
        dense_layers=_int(path, arch, "dense_layers", 0),
        expert_groups=_int(path, arch, "expert_groups", 0),
        group_top_k=_int(path, arch, "group_top_k", 0),
        head_size=_int(path, arch, "head_dim", 0),
        kv_lora_rank=_int(path, arch, "kv_lora_rank", 0),
        q_lora_rank=_int(path, arch, "q_lora_rank", 0),
        rope_head_dim=_int(path, arch, "rope_head_dim", 0),
        v_head_dim=_int(path, arch, "v_head_dim", 0))
    if architecture.ffn == 0 and not architecture.is_moe:
        raise CatalogError(f"{path}: [architecture] needs 'ffn' for a dense model")
    if architecture.routing_error():
        raise CatalogError(f"{path}: [architecture] {architecture.routing_error()}")
    return architecture


# A reference row's keys by the type its value must have: text, whole numbers >= 1, positive
# finite numbers, percentages in (0, 100], switches.
REFERENCE_TEXT = {"row_id", "kind", "source", "as_of", "accelerator", "layout", "precision",
                  "flop_convention", "framework", "network", "unscored", "note", "workload",
                  "source_url", "quote", "confidence", "stack", "team"}
REFERENCE_COUNTS = {"gpus", "seq_len"}
REFERENCE_POSITIVE = {"global_batch_tokens", "tokens", "tflops_per_gpu", "gpu_hours",
                      "training_days", "energy_mwh", "cost_usd", "tokens_per_s_per_gpu"}
REFERENCE_PERCENT = {"mfu_pct", "hfu_pct"}
REFERENCE_SWITCHES = {"flash_attention", "dropout", "derived"}


def _number(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and value == value \
        and abs(value) != float("inf")


def _check_reference_types(path: Path, raw: dict, label: str) -> None:
    """Each key of a reference row has a value of its type and range, or a CatalogError
    names the file, the row, the key and the accepted form."""
    where = f"{path}: [[reference]] {label}"
    for key, value in raw.items():
        if key in REFERENCE_TEXT and not isinstance(value, str):
            raise CatalogError(f"{where}: '{key}' must be text, got {value!r}")
        if key in REFERENCE_COUNTS and not (_number(value) and value >= 1
                                            and int(value) == value):
            raise CatalogError(f"{where}: '{key}' must be a whole number >= 1, got {value!r}")
        if key in REFERENCE_POSITIVE and not (_number(value) and value > 0):
            raise CatalogError(f"{where}: '{key}' must be a number > 0, got {value!r}")
        if key in REFERENCE_PERCENT and not (_number(value) and 0 < value <= 100):
            raise CatalogError(f"{where}: '{key}' must be a percentage in (0, 100], "
                               f"got {value!r}")
        if key in REFERENCE_SWITCHES and not isinstance(value, bool):
            raise CatalogError(f"{where}: '{key}' must be true or false, got {value!r}")
    if raw.get("confidence") is not None and raw["confidence"] not in REFERENCE_CONFIDENCE:
        raise CatalogError(f"{where}: confidence must be one of "
                           f"{', '.join(REFERENCE_CONFIDENCE)}, got {raw['confidence']!r}")
    if raw.get("team") is not None and raw["team"] not in TEAMS:
        raise CatalogError(f"{where}: team must be one of {', '.join(TEAMS)}, "
                           f"got {raw['team']!r}")
    if "assumptions" in raw and not isinstance(raw["assumptions"], dict):
        raise CatalogError(f"{where}: 'assumptions' must be an inline table NAME = VALUE")
    if "stages" in raw and not (isinstance(raw["stages"], list)
                                and all(isinstance(s, dict) for s in raw["stages"])):
        raise CatalogError(f"{where}: 'stages' must be a list of inline tables")


def parse_reference(path: Path, raw: Any, i: int, defaults: dict | None = None) -> Reference:
    """One [[reference]] row (``defaults``: keys a measurement file gives once for all its
    rows); every key is checked for its type and range."""
    if not isinstance(raw, dict):
        raise CatalogError(f"{path}: [[reference]] {i + 1} must be a table")
    raw = {**(defaults or {}), **raw}
    _check_keys(path, raw, REFERENCE_KEYS, f"reference {i + 1}")
    for need in ("row_id", "kind", "source", "as_of"):
        if need not in raw:
            raise CatalogError(f"{path}: [[reference]] {i + 1} has no '{need}'")
    _check_reference_types(path, raw, str(raw["row_id"]))
    if raw["kind"] not in ("throughput", "whole_run"):
        raise CatalogError(f"{path}: [[reference]] {raw['row_id']}: kind must be "
                           "'throughput' or 'whole_run'")
    conv = raw.get("flop_convention")
    if conv is not None and conv not in FLOP_CONVENTIONS:
        raise CatalogError(f"{path}: [[reference]] {raw['row_id']}: flop_convention must be "
                           f"one of {sorted(FLOP_CONVENTIONS)}")
    stages = raw.get("stages", [])
    for st in stages:
        bad = set(st) - STAGE_KEYS
        if bad:
            raise CatalogError(f"{path}: [[reference]] {raw['row_id']}: unknown stage key "
                               f"'{sorted(bad)[0]}'; allowed: {', '.join(sorted(STAGE_KEYS))}")
        if "tokens" not in st:
            raise CatalogError(f"{path}: [[reference]] {raw['row_id']}: a stage needs "
                               "'tokens'")
    if raw.get("framework") is not None and raw["framework"] not in FRAMEWORKS:
        raise CatalogError(f"{path}: [[reference]] {raw['row_id']}: framework must be one "
                           f"of {', '.join(FRAMEWORKS)}")
    known = set(Assumptions.__dataclass_fields__)
    for name in raw.get("assumptions", {}):
        if name not in known:
            raise CatalogError(f"{path}: [[reference]] {raw['row_id']}: unknown assumption "
                               f"'{name}'")
    return Reference(**{**raw, "stages": tuple(dict(s) for s in stages)})


# Keys a measurement file may give once, for all its rows (a row's own value wins).
MEASUREMENT_DEFAULTS = {"source", "source_url", "as_of", "confidence", "accelerator",
                        "framework", "stack", "team", "flop_convention", "precision",
                        "network", "kind"}
MEASUREMENT_TEXT = {"name", "note"}


def parse_measurements(path: Path, key: str, data: dict) -> Measurements:
    """A file of one public source's measurements: plain keys, defaults for its rows, and
    [[reference]] rows that each name their workload."""
    _check_keys(path, data, MEASUREMENT_TEXT | MEASUREMENT_DEFAULTS | {"reference"})
    defaults = {k: data[k] for k in MEASUREMENT_DEFAULTS if k in data}
    refs = []
    for i, raw in enumerate(data.get("reference", [])):
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
            return tomllib.load(fh)
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{path}: not valid TOML ({exc})") from None


def load_file(kind: str, path: Path):
    """Parse one catalog file of a kind ('accelerators', ...) into its typed object."""
    path = Path(path)
    return PARSERS[kind](path, path.stem.lower(), read_toml(path))


@dataclass(frozen=True)
class Catalog:
    """The shipped catalog overlaid with user directories (later directories win)."""

    user_dirs: tuple[Path, ...] = ()

    @property
    def roots(self) -> tuple[Path, ...]:
        return (_shipped_root(), *self.user_dirs)

    def files(self, kind: str) -> dict[str, Path]:
        """key -> file, user files overriding shipped ones of the same key."""
        return _files(self.roots, kind)

    def keys(self, kind: str) -> list[str]:
        return sorted(self.files(kind))

    def path(self, kind: str, key: str) -> Path:
        files = self.files(kind)
        resolved = self.resolve(kind, key)
        return files[resolved]

    def resolve(self, kind: str, key: str) -> str:
        """A key or alias (case-insensitive) to the key of its file."""
        files = self.files(kind)
        k = str(key).strip().lower()
        if k in files:
            return k
        if kind == "accelerators":
            for name in sorted(files):
                if k in self.get(kind, name).aliases:
                    return name
        raise UnknownKeyError(kind, key, files)

    def get(self, kind: str, key: str):
        files = self.files(kind)
        k = str(key).strip().lower()
        if k not in files:
            k = self.resolve(kind, key)
        return _load(kind, files[k], files[k].stat().st_mtime_ns)

    def accelerator(self, key: str) -> Accelerator:
        return self.get("accelerators", key)

    def network(self, key: str) -> Network:
        return self.get("networks", key)

    def site(self, key: str) -> Site:
        return self.get("sites", key)

    def workload(self, key: str) -> Workload:
        if str(key).endswith(".toml"):
            path = Path(key)
            if not path.is_file():
                raise CatalogError(f"{key}: no such workload file")
            return load_file("workloads", path)
        return self.get("workloads", key)

    def all(self, kind: str) -> list:
        return [self.get(kind, k) for k in self.keys(kind)]

    def raw(self, kind: str, key: str) -> dict:
        return read_toml(self.path(kind, key))

    def fingerprint(self) -> str:
        """A hash of every catalog file in use, for sweep metadata."""
        digest = hashlib.sha256()
        for kind in KINDS:
            for key, path in sorted(self.files(kind).items()):
                digest.update(f"{kind}/{key}\0".encode())
                digest.update(path.read_bytes())
        return digest.hexdigest()[:16]


@lru_cache(maxsize=64)
def _files(roots: tuple[Path, ...], kind: str) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for root in roots:
        folder = Path(root) / KINDS[kind]
        if folder.is_dir():
            for path in sorted(folder.glob("*.toml")):
                found[path.stem.lower()] = path
    return found


@lru_cache(maxsize=1024)
def _load(kind: str, path: Path, mtime_ns: int):
    return load_file(kind, path)


def catalog(dirs: Iterable[str | Path] | str | None = None) -> Catalog:
    """The catalog in use: PLANNER_CATALOG directories, then ``dirs`` (later ones win)."""
    user: list[Path] = []
    env = os.environ.get("PLANNER_CATALOG", "")
    user += [Path(p) for p in env.split(os.pathsep) if p]
    if isinstance(dirs, (str, Path)):
        dirs = [dirs]
    user += [Path(p) for p in (dirs or [])]
    for p in user:
        if not p.is_dir():
            raise CatalogError(f"catalog directory '{p}' does not exist")
    return Catalog(tuple(user))
