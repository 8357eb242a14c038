"""The fields of a plan, declared once.

A plan's answer is one set of named figures: the nested dicts of ``Plan`` (``workload``,
``cluster``, ``layout``, ``time_breakdown_s``, ...), and the flat columns of ``estimate_many``
and the sweeps (the same names joined with ``_``: ``layout_tp``, ``cost_usd_total``), each with
its kind (f8, i8, str, bool) and unit. Both are built from the declarations here, so a field is
added in one place. Units follow the names (house rule: units in names); GB means 1e9 bytes.
"""

from __future__ import annotations

import functools
import numbers
from dataclasses import fields as dataclass_fields

import numpy as np

from ..assumptions import Assumptions
from ..model.layouts import LAYOUT_FIELDS
from ..model.realisation import REALISATION_KEYS
from ..model.reliability import RELIABILITY_KEYS
from ..model.step import MEMORY_KEYS, TIME_KEYS
from ..model.uncertainty import QUANTITIES, WITHIN_LIMITS

GB = "GB (1e9 bytes)"

# The workload as the plan used it (after defaults and the batch the layout runs).
WORKLOAD = (("params", "f8", "parameters"), ("active_params", "f8", "parameters"),
            ("tokens", "f8", "tokens"), ("layers", "i8", ""), ("hidden", "i8", ""),
            ("heads", "i8", ""), ("kv_heads", "i8", ""), ("ffn", "i8", ""), ("vocab", "i8", ""),
            ("seq_len", "i8", "tokens"), ("global_batch_tokens", "f8", "tokens"),
            ("precision", "str", ""), ("experts", "i8", ""), ("top_k", "i8", ""),
            ("ffn_type", "str", ""), ("name", "str", ""), ("expert_ffn", "i8", ""),
            ("shared_experts", "i8", ""), ("dense_layers", "i8", ""), ("head_dim", "i8", ""),
            ("kv_lora_rank", "i8", ""), ("q_lora_rank", "i8", ""), ("rope_head_dim", "i8", ""),
            ("v_head_dim", "i8", ""), ("window", "i8", "tokens"), ("window_layers", "i8", ""),
            ("expert_groups", "i8", ""), ("group_top_k", "i8", ""))
CLUSTER = (("accelerator", "str", ""), ("gpus", "i8", "devices"), ("nodes", "i8", "nodes"),
           ("racks", "i8", "racks"), ("unit", "str", ""), ("unit_devices", "i8", "devices"),
           ("units", "i8", "units"), ("spare_devices", "i8", "devices"),
           ("scale_up_domain", "i8", "devices"), ("network", "str", ""), ("site", "str", ""))
LAYOUT = tuple((k, "str" if k == "recompute" else "i8", "") for k in LAYOUT_FIELDS)
LAYOUT_INTS = tuple(k for k, kind, _ in LAYOUT if kind == "i8")
# The steady state of the step (no failures counted).
STEP = (("model_flops", "f8", "FLOP"), ("hardware_flops", "f8", "FLOP"),
        ("step_time_s", "f8", "s"), ("tokens_per_s", "f8", "tokens/s"),
        ("tflops_per_gpu", "f8", "TFLOP/s per device"), ("mfu", "f8", "fraction"),
        ("hfu", "f8", "fraction"), ("memory_gb_per_gpu", "f8", GB),
        ("memory_free_gb_per_gpu", "f8", GB))
# The run: wall clock with goodput, device-hours, power, energy, carbon.
RUN = (("bottleneck", "str", ""), ("goodput", "f8", "fraction"),
       ("training_days", "f8", "days"), ("gpu_hours", "f8", "device-hours"),
       ("power_mw", "f8", "MW"), ("power_peak_mw", "f8", "MW"), ("power_average_mw", "f8", "MW"),
       ("energy_mwh", "f8", "MWh"), ("co2_t", "f8", "t CO2"))
# The ideal run beside the realised one the headline figures give (model/realisation.py):
# the tuned steady state with failures and checkpoints, before evaluation, ramp-up, rollbacks
# and the empirical residual.
IDEAL = (("ideal_training_days", "f8", "days"), ("ideal_gpu_hours", "f8", "device-hours"),
         ("ideal_energy_mwh", "f8", "MWh"), ("ideal_co2_t", "f8", "t CO2"),
         ("ideal_cost_usd", "f8", "USD"))
IDEAL_KEYS = tuple(k[len("ideal_"):] for k, _, _ in IDEAL)
# What owning the cluster costs up front (model/cost.purchase_capex): the hardware (accelerators,
# servers, network), the facility built for its peak IT load, and their total; the owned cost
# charges a run its share of it.
CAPEX = (("capex_usd_hardware", "f8", "USD"), ("capex_usd_facility", "f8", "USD"),
         ("capex_usd_total", "f8", "USD"))
CAPEX_KEYS = tuple(k[len("capex_usd_"):] for k, _, _ in CAPEX)
REALISATION_UNITS = {"multiplier": "x ideal wall time", "p10_multiplier": "x ideal wall time",
                     "p90_multiplier": "x ideal wall time", "named_fraction": "fraction",
                     "residual": "x ideal wall time"}
# The cost figures beyond the components of each method.
COST_PER_UNIT = (("total", "USD"), ("per_trillion_tokens", "USD per 1e12 tokens"),
                 ("per_1e24_flop", "USD per 1e24 FLOP"))
RELIABILITY_UNITS = {"goodput": "fraction", "expected_interruptions": "interruptions"}
# What a plan reports it used beside the Assumptions fields (its ``assumptions`` table, by
# name: plan/inputs.py, cluster.py, estimate.py, chosen.py, quantiles.py, hf.py), each with
# the kind and unit of its value.
REPORTED_BESIDE = (
    ("framework", "str", ""), ("architecture", "str", ""),
    ("active_params", "f8", "parameters"), ("ffn_type", "str", ""),
    ("tie_embeddings", "bool", ""), ("sliding_window", "i8", "tokens"), ("window", "str", ""),
    ("multi_token_prediction", "i8", "layers"), ("workload_kv_heads", "i8", ""),
    ("workload_tie_embeddings", "bool", ""), ("precision", "str", ""),
    ("precision_run", "str", ""), ("fp4_gemms", "str", ""), ("ownership", "str", ""),
    ("site", "str", ""), ("unit", "str", ""), ("network", "str", ""),
    ("catalog_accelerator", "str", ""), ("catalog_scale_up_network", "str", ""),
    ("catalog_scale_out_network", "str", ""), ("matmul_fraction", "f8", "fraction"),
    ("scale_up_link_fraction_default", "f8", "fraction"),
    ("scale_out_link_fraction_default", "f8", "fraction"),
    ("scale_up_link_latency_default_s", "f8", "s"),
    ("scale_out_link_latency_default_s", "f8", "s"),
    ("scale_out_switch_radix_default", "f8", "ports"),
    ("scale_out_gb_per_s", "f8", "GB/s per device"), ("power_basis", "str", ""),
    ("price_per_gpu_hour", "f8", "USD per device-hour"), ("peak_pue", "f8", ""),
    ("storage_write_gb_per_s", "f8", "GB/s"), ("capex_usd_per_mw", "f8", "USD per MW"),
    ("purchase_usd", "f8", "USD per device"), ("server_usd_per_device", "f8", "USD per device"),
    ("gpus", "i8", "devices"), ("layout_stack", "str", ""), ("power_cap_mw", "f8", "MW"),
    ("site_power_cap_mw", "f8", "MW"), ("objective", "str", ""), ("sizing", "str", ""),
    ("step_model", "str", ""), ("uncertainty", "str", ""), ("uncertainty_seed", "i8", ""),
    ("size_step", "i8", "devices"), ("accelerators_left_out", "str", ""))
_KINDS = {"float": "f8", "int": "i8", "bool": "bool", "str": "str"}
# Units where an assumption's own says less than its column should (USD/kWh, 1/h).
_UNITS = {"energy_usd_per_kwh": "USD per kWh", "failure_rate_per_device_hour":
          "per device-hour", "grid_kg_co2_per_mwh": "kg CO2 per MWh"}


def _assumption_columns() -> tuple[tuple[str, str, str], ...]:
    """(name, kind, unit) of every assumption a plan can report: each Assumptions field (any
    one given is reported) and REPORTED_BESIDE; the four figures long carried first, then
    the rest by name."""
    found = {f.name: (_KINDS[str(f.type)], _UNITS.get(f.name, f.metadata.get("unit", "")))
             for f in dataclass_fields(Assumptions)}
    found.update({name: (kind, unit) for name, kind, unit in REPORTED_BESIDE})
    first = ("price_per_gpu_hour", "pue", "peak_pue", "energy_usd_per_kwh")
    order = list(first) + sorted(set(found) - set(first))
    return tuple((name, *found[name]) for name in order)


# Every assumption a plan can report, carried as a column (assumptions_<name>_value: what
# the row used; null where its plan reports no such assumption). The sources are not columns
# (docs/interface.md says why and where to read them).
ASSUMPTION_COLUMNS = _assumption_columns()


def assumption_cell(value, kind: str):
    """A reported assumption's value as its column holds it (``kind``): a number as a float
    or a whole number, a switch as a bool, anything as text in a text column; a value the
    kind cannot hold (a bandwidth reported "unknown") null, as an unknown figure is."""
    if value is None:
        return None
    if kind == "str":
        return str(value)
    if kind == "bool":
        return bool(value) if isinstance(value, (bool, np.bool_)) else None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        return None
    if kind == "i8":
        return int(value) if float(value).is_integer() else None
    return float(value)


def reliability_unit(name: str) -> str:
    return RELIABILITY_UNITS.get(name, "s" if name.endswith("_s") else "device-hours")


def columns(cost_keys: dict[str, tuple[str, ...]]) -> list[tuple[str, str, str]]:
    """(name, kind, unit) of every flat column of a plan, in order.

    ``cost_keys`` maps each cost method to its components (model.run.outcome's cost dicts),
    so the money columns follow the cost model rather than a list kept here."""
    f: list[tuple[str, str, str]] = [("error", "str", ""), ("feasible", "bool", ""),
                                     ("reason", "str", ""), ("binding", "str", "")]
    for group, fields in (("workload", WORKLOAD), ("cluster", CLUSTER), ("layout", LAYOUT)):
        f += [(f"{group}_{k}", kind, unit) for k, kind, unit in fields]
    f += list(STEP)
    f += [(f"memory_breakdown_gb_{k}", "f8", GB) for k in MEMORY_KEYS]
    f += [(f"time_breakdown_s_{k}", "f8", "s") for k in TIME_KEYS]
    f += list(RUN)
    f += list(IDEAL)
    f += list(CAPEX)
    parts: list[str] = []
    for keys in cost_keys.values():
        parts += [k for k in keys if k != "total" and k not in parts]
    f += [(f"cost_usd_{k}", "f8", "USD") for k in parts]
    f += [(f"cost_usd_{k}", "f8", unit) for k, unit in COST_PER_UNIT]
    f += [(f"cost_usd_by_method_{m}", "f8", "USD") for m in cost_keys]
    f += [("cost_method", "str", "")]
    f += [(f"{p}_{k}", "f8", unit_of(k)) for p in ("p10", "p50", "p90") for k in QUANTITIES]
    f += [(f"within_limits_{k}", "f8", "fraction") for k in WITHIN_LIMITS]
    f += [(f"reliability_{k}", "f8", reliability_unit(k)) for k in RELIABILITY_KEYS]
    f += [(f"realisation_{k}", "f8", REALISATION_UNITS.get(k, "device-hours"))
          for k in REALISATION_KEYS]
    f += [(f"assumptions_{k}_value", kind, unit) for k, kind, unit in ASSUMPTION_COLUMNS]
    return f


SUFFIX_UNITS = (("_days", "days"), ("_hours", "device-hours"), ("_mwh", "MWh"), ("_mw", "MW"),
                ("_usd", "USD"), ("_s", "s"), ("_t", "t CO2"), ("_gb", GB))


def unit_of(name: str) -> str:
    """The unit a quantity's name carries (house rule: units in names)."""
    for suffix, unit in SUFFIX_UNITS:
        if name.endswith(suffix) or f"{suffix}_" in name:
            return unit
    return ""


@functools.lru_cache(maxsize=1)
def arrow_types() -> dict:
    """Each kind's Arrow type. Text answers repeat (accelerators, methods, reasons):
    dictionary-encoded, as pandas reads a categorical and DuckDB and polars a string or
    categorical column."""
    import pyarrow as pa

    return {"f8": pa.float64(), "i8": pa.int64(),
            "str": pa.dictionary(pa.int32(), pa.string()), "bool": pa.bool_()}


def schema(fields: list[tuple[str, str, str]], metadata: dict | None = None):
    """Arrow schema of the answer columns, each field with its unit (b'unit')."""
    import pyarrow as pa

    types = arrow_types()
    return pa.schema([pa.field(name, types[kind], metadata={"unit": unit})
                      for name, kind, unit in fields], metadata=metadata)


def to_pandas(table):
    """An answer table as pandas reads it with stable types: whole-number and true/false
    columns as pandas' nullable Int64 and boolean, so a null (an error row, an infeasible
    row's layout) neither turns a count into floats nor ``feasible`` into objects, and every
    call, whatever its rows, has the same dtypes."""
    import pandas as pd
    import pyarrow as pa

    nullable = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}
    return table.to_pandas(types_mapper=nullable.get)


def frame(flat: dict, fields: list[tuple[str, str, str]]):
    """One answer's flat columns (``flat``: name -> value) as a one-row pandas DataFrame of
    exactly ``fields``, in their order and types (a value not given, or not finite, is null):
    a plan or a budget answer as one row of estimate_many's columns or a budget sweep's."""
    import math

    import pyarrow as pa

    types, arrays = arrow_types(), []
    for name, kind, _ in fields:
        v = flat.get(name)
        if v is None or (kind in ("f8", "i8") and not math.isfinite(float(v))):
            arrays.append(pa.nulls(1, types[kind]))
        elif kind == "str":
            arrays.append(pa.array([str(v)], pa.string()).dictionary_encode()
                          .cast(types["str"]))
        else:
            cast = {"f8": float, "i8": int, "bool": bool}[kind]
            arrays.append(pa.array([cast(v)], types[kind]))
    return to_pandas(pa.Table.from_arrays(arrays, schema=schema(fields)))


# The sizing's status and limits as CSV columns (Plan.sizing less its option table and
# relaxations; the inventory as JSON text), empty when a plan was not sized under limits.
SIZING_COLUMNS = ("sizing_solver", "sizing_status", "sizing_objective", "sizing_feasible",
                  "sizing_binding", "sizing_tight", "sizing_chosen", "sizing_solve_time_s",
                  "sizing_time_limit_s", "sizing_workers", "sizing_seed",
                  "sizing_resolution_training_days", "sizing_resolution_cost_usd",
                  "sizing_resolution_power_mw", "sizing_resolution_gpus",
                  "sizing_limits_deadline_days", "sizing_limits_budget_usd",
                  "sizing_limits_power_cap_mw", "sizing_limits_max_gpus",
                  "sizing_limits_inventory", "sizing_accelerators")


def csv_columns(cost_keys: dict, extra_fields: list | tuple = ()) -> list[str]:
    """The header of ``--format csv``, the same for every answer: estimate_many's answer
    columns, then ``extra_fields`` (a budget's inverse_*), then the sizing's (SIZING_COLUMNS)."""
    return ([name for name, _, _ in columns(cost_keys)]
            + [name for name, _, _ in extra_fields] + list(SIZING_COLUMNS))
