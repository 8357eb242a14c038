"""One plan: inputs -> Workload, Cluster -> layout search -> step -> run -> Plan.

``estimate`` is the library's entry point for one answer. It resolves the workload (a catalog
key or file, a full shape, or a parameter count alone), the hardware (accelerator, networks,
site), sizes the cluster when no device count is given (the smallest cluster in whole scale-up
domains that meets the deadline), searches the layout, and turns the step into days, device-
hours, megawatts, megawatt-hours and dollars. Infeasible plans are answers: ``feasible`` is
false, ``binding`` names the limit and ``reason`` says by how much.
"""

from __future__ import annotations

import json
import math
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from ..model import cost as cost_model
from ..model import power as power_model
from ..model import reliability, run, uncertainty
from . import sizing
from ..model.architecture import RULE_SOURCE, active_params, shape_for_params, total_params
from ..assumptions import DEFAULT, FRAMEWORK_SOURCES, FRAMEWORKS, Assumptions, for_framework
from ..catalog import Catalog, UnknownKeyError, catalog as load_catalog
from ..model.flops import hardware_flops_per_token, model_flops_per_token
from ..model.search import LayoutError, SearchResult, parse_layout, search
from ..specs import PRECISIONS, Accelerator, Architecture, Network, Site, Workload
from ..model.step import MEMORY_KEYS, TIME_KEYS, Hardware, bottleneck
from ..units import (InputError, parse_count, parse_duration_s, parse_energy_usd_per_kwh,
                    parse_int_count, parse_money_usd, parse_power_w, parse_pue)

SECONDS_PER_DAY = 86400.0


@dataclass(frozen=True)
class Cluster:
    accelerator: Accelerator
    gpus: int
    scale_up_network: Network | None
    scale_out_network: Network | None
    site: Site | None

    @property
    def nodes(self) -> int:
        return math.ceil(self.gpus / self.accelerator.devices_per_node)


@dataclass(frozen=True)
class Limits:
    deadline_s: float | None = None
    budget_usd: float | None = None
    power_cap_w: float | None = None
    max_gpus: int | None = None
    objective: str | None = None  # None: smallest cluster meeting the deadline
    ownership: str = "cloud"
    price_per_gpu_hour: float | None = None
    inventory: tuple = ()  # ((accelerator, devices on hand), ...)
    pue: float | None = None                 # given: replaces the site's PUE
    energy_usd_per_kwh: float | None = None  # given: replaces the site's energy price


@dataclass(frozen=True)
class Plan:
    """A training plan in the contract's keys (CONTRACT.md, `planner estimate --format json`)."""

    feasible: bool
    reason: str | None
    binding: str | None
    workload: dict
    cluster: dict
    layout: dict | None
    model_flops: float | None
    hardware_flops: float | None
    step_time_s: float | None
    tokens_per_s: float | None
    tflops_per_gpu: float | None
    mfu: float | None
    hfu: float | None
    memory_gb_per_gpu: float | None
    memory_breakdown_gb: dict | None
    time_breakdown_s: dict | None
    bottleneck: str | None
    goodput: float | None
    training_days: float | None
    gpu_hours: float | None
    power_mw: float | None
    energy_mwh: float | None
    co2_t: float | None
    cost_usd: dict | None
    cost_method: str | None
    assumptions: dict
    p10: dict | None = None
    p50: dict | None = None
    p90: dict | None = None
    reliability: dict | None = None
    alternatives: list = field(default_factory=list)
    sizing: dict | None = None  # the CP-SAT choice: status, limits, options (planner/sizing.py)

    def to_dict(self) -> dict:
        return _clean(asdict(self))

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def __repr__(self) -> str:
        if not self.feasible:
            return f"Plan(infeasible, binding={self.binding!r}: {self.reason})"
        return (f"Plan({self.cluster['gpus']} x {self.cluster['accelerator']}, "
                f"{self.training_days:.1f} days, MFU {self.mfu:.1%}, "
                f"${self.cost_usd['total'] / 1e6:,.1f}M {self.cost_method})")


def _clean(x):
    """JSON-safe: numpy scalars to Python, nan/inf to None (unknown stays null)."""
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


# --- inputs -> workload ---------------------------------------------------------------------

SHAPE_FLAGS = ("layers", "hidden", "heads", "kv_heads", "ffn", "vocab", "experts", "top_k",
               "expert_ffn", "shared_experts", "dense_layers")


def resolve_workload(cat: Catalog, used: dict, params=None, tokens=None, workload=None,
                     ffn_type=None, seq_len=None, global_batch=None, precision=None,
                     asm: Assumptions = DEFAULT, **shape) -> Workload:
    """Build the Workload from a catalog key/file, explicit shape flags, or a parameter count."""
    shape = {k: v for k, v in shape.items() if v is not None}
    unknown = set(shape) - set(SHAPE_FLAGS)
    if unknown:
        raise InputError(sorted(unknown)[0], shape[sorted(unknown)[0]],
                         "one of " + ", ".join(SHAPE_FLAGS))
    for k, v in shape.items():
        shape[k] = parse_int_count(v, f"--{k.replace('_', '-')}")
    base: Workload | None = cat.workload(workload) if workload else None
    if base is not None:
        arch = base.architecture
        if shape or ffn_type:
            arch = Architecture(**{**asdict(arch), **shape,
                                   **({"ffn_type": ffn_type} if ffn_type else {})})
        w = base.with_(architecture=arch)
    elif shape:
        need = [k for k in ("layers", "hidden", "heads", "vocab") if k not in shape]
        if need:
            raise InputError(f"--{need[0]}", None, "a full shape needs --layers, --hidden, "
                             "--heads and --vocab (plus --ffn, or --experts/--expert-ffn)")
        if "ffn" not in shape and "experts" not in shape:
            raise InputError("--ffn", None, "a dense shape needs --ffn")
        if ffn_type is None:
            ratio = shape.get("ffn", 4 * shape["hidden"]) / shape["hidden"]
            ffn_type = "plain" if abs(ratio - 4.0) < 0.05 else "gated"
            used["ffn_type"] = {"value": ffn_type, "source": "inferred: ffn = 4 x hidden is a "
                                "plain GPT FFN, any other ratio a gated (SwiGLU) FFN"}
        shape.setdefault("kv_heads", shape["heads"])
        shape.setdefault("ffn", 0)
        arch = Architecture(ffn_type=ffn_type, **shape)
        w = Workload(key="custom", name="custom shape", architecture=arch, tokens=0.0)
    elif params is not None:
        n = parse_count(params, "--params")
        if not 1e6 <= n <= 1e15:
            raise InputError("--params", params, "a count between 1M and 1000T (e.g. 70B, 1T)")
        arch = shape_for_params(n)
        used["architecture"] = {"value": f"L={arch.layers} h={arch.hidden} heads={arch.heads} "
                                f"kv={arch.kv_heads} ffn={arch.ffn} V={arch.vocab}",
                                "source": RULE_SOURCE}
        w = Workload(key="custom", name=f"dense {params}", architecture=arch, tokens=0.0,
                     published_params=n)
    else:
        raise InputError("--params", None, "give --params N, --workload NAME|FILE.toml or a "
                         "full shape (--layers --hidden --heads --vocab --ffn)")
    changes = {}
    if tokens is not None:
        changes["tokens"] = parse_count(tokens, "--tokens")
    elif not w.tokens:
        raise InputError("--tokens", None, "a token count such as 15T")
    if seq_len is not None:
        changes["seq_len"] = parse_int_count(seq_len, "--seq-len")
    elif base is None:
        changes["seq_len"] = asm.seq_len
        used["seq_len"] = {"value": asm.seq_len, "source": _source(asm, "seq_len")}
    if global_batch is not None:
        changes["global_batch_tokens"] = parse_count(global_batch, "--global-batch")
    elif base is None:
        changes["global_batch_tokens"] = asm.global_batch_tokens
        used["global_batch_tokens"] = {"value": asm.global_batch_tokens,
                                       "source": _source(asm, "global_batch_tokens")}
    if precision is not None:
        if precision not in PRECISIONS:
            raise InputError("--precision", precision, "bf16, fp16, fp8 or fp4")
        changes["precision"] = precision
    w = w.with_(**changes)
    seqs = w.global_batch_tokens / w.seq_len
    if seqs < 1 or abs(seqs - round(seqs)) > 1e-6:
        fixed = whole_batch(seqs) * w.seq_len
        used["global_batch_tokens"] = {"value": fixed, "source": "rounded to whole sequences "
                                       f"of {w.seq_len} tokens, a multiple of the largest power "
                                       "of two within 5% (so data parallelism can divide it)"}
        w = w.with_(global_batch_tokens=float(fixed))
    return w


def whole_batch(seqs: float) -> int:
    """A batch of ``seqs`` sequences (not whole) rounded to m x 2^j sequences, with the largest
    2^j that keeps it within 5%: '16M' tokens of 8192 is 1953.1 sequences -> 2048."""
    for j in range(30, -1, -1):
        step = 2 ** j
        n = max(step, round(seqs / step) * step)
        if abs(n - seqs) <= 0.05 * seqs:
            return int(n)
    return max(1, round(seqs))


def _source(asm: Assumptions, name: str) -> str:
    return asm.describe()[name]["source"]


# --- hardware -------------------------------------------------------------------------------

def hardware_for(acc: Accelerator, up: Network | None, out: Network | None, precision: str,
                 asm: Assumptions, used: dict) -> Hardware:
    """The step model's view of a cluster: peaks at the precision, links after their
    achievable fraction of line rate."""
    try:
        peak = acc.peak(precision)
    except KeyError:
        raise InputError("--precision", precision, f"a precision {acc.key} has a peak for: "
                         + ", ".join(sorted(acc.peak_flops))) from None
    key = "bf16" if precision == "fp16" else precision
    frac = acc.matmul_fraction.get(key)
    if frac is None:
        frac = asm.matmul_fraction_default
        used["matmul_fraction"] = {"value": frac, "source": _source(asm, "matmul_fraction_default")}
    up_frac = (up.achievable_fraction if up and up.achievable_fraction else
               asm.link_fraction_default)
    out_frac = (out.achievable_fraction if out and out.achievable_fraction else
                asm.link_fraction_default)
    up_lat = up.hop_latency_s if up and up.hop_latency_s else asm.link_latency_default_s
    out_lat = out.hop_latency_s if out and out.hop_latency_s else asm.link_latency_default_s
    radix = out.switch_radix if out and out.switch_radix else 64
    # a fabric built with its own per-device bandwidth (a cloud instance type) overrides the
    # accelerator's reference design
    out_bw = (out.device_bytes_per_s if out and out.device_bytes_per_s
              else acc.scale_out_bytes_per_s)
    bf16 = acc.peak("bf16") * acc.matmul_fraction.get("bf16", asm.matmul_fraction_default) \
        * asm.gemm_efficiency
    return Hardware(peak_flops=peak, matmul_fraction=frac * asm.gemm_efficiency,
                    attention_flops=bf16,
                    hbm_bytes=acc.hbm_bytes, hbm_bytes_per_s=acc.hbm_bytes_per_s,
                    scale_up_bytes_per_s=acc.scale_up_bytes_per_s * up_frac,
                    scale_up_latency_s=up_lat, scale_up_domain=acc.scale_up_domain,
                    devices_per_node=acc.devices_per_node,
                    scale_out_bytes_per_s=out_bw * out_frac if out_bw else math.nan,
                    scale_out_latency_s=out_lat, switch_radix=radix)


# --- one cluster -> one plan ------------------------------------------------------------------

@dataclass(frozen=True)
class Candidate:
    gpus: int
    found: SearchResult
    wall_s: float  # inf when no layout fits


_SHARED_SEARCHES: ContextVar[dict | None] = ContextVar("planner_shared_searches", default=None)


@contextmanager
def shared_searches(memo: dict | None = None):
    """Inside this block a layout search with the same inputs as an earlier one reuses it, so
    many scenarios on one workload and cluster search once (planner.many, planner.sweep). The
    reused result keeps what a plan reads: the best layouts in order and the leanest one.
    ``memo`` (a dict the caller keeps) carries the searches from one block to the next."""
    token = _SHARED_SEARCHES.set({} if memo is None else memo)
    try:
        yield
    finally:
        _SHARED_SEARCHES.reset(token)


def _search(w: Workload, hw: Hardware, gpus: int, asm: Assumptions, fixed: dict,
            allow_tp: bool) -> SearchResult:
    memo = _SHARED_SEARCHES.get()
    key = None
    if memo is not None:
        key = (w.architecture, w.seq_len, w.global_batch_tokens, hw, gpus, asm,
               tuple(sorted(fixed.items())), allow_tp)
        if key in memo:
            return memo[key]
    found = search(w.architecture, gpus, w.seq_len, w.global_batch_tokens, hw, asm, fixed,
                   allow_tp, asm.batch_tolerance)
    if memo is not None:
        found = memo[key] = _compact(found)
    return found


def _compact(found: SearchResult, keep: int = 5) -> SearchResult:
    """The same answer from a handful of layouts: the fastest that fit, in order (best first),
    and the leanest in memory (for the reason when none fits)."""
    if not found.count:
        return found
    rows = found.ranked(keep)
    lean = int(np.argmin(found.result["memory_bytes"]))
    rows = rows + ([lean] if lean not in rows else [])
    idx = np.array(rows)
    n = len(found.result["step_time_s"])

    def cut(v):
        if isinstance(v, dict):
            return {k: cut(x) for k, x in v.items()}
        return np.broadcast_to(v, (n,))[idx] if np.ndim(v) else v

    return SearchResult({k: np.asarray(v)[idx] for k, v in found.layouts.items()},
                        cut(found.result), 0 if found.best is not None else None, found.count)


def _try(w: Workload, acc, hw: Hardware, gpus: int, asm: Assumptions, fixed: dict,
         allow_tp: bool) -> Candidate:
    memo = _SHARED_SEARCHES.get()
    key = None
    if memo is not None:  # inside shared_searches: the same probe answers once
        key = ("candidate", w.architecture, w.seq_len, w.global_batch_tokens, w.tokens, hw,
               gpus, asm, tuple(sorted(fixed.items())), allow_tp)
        if key in memo:
            return memo[key]
    found = _search(w, hw, gpus, asm, fixed, allow_tp)
    if found.best is None:
        cand = Candidate(gpus, found, math.inf)
    else:
        tokens_per_s = float(found.result["tokens_per_s"][found.best])
        compute_s = w.tokens / tokens_per_s
        ckpt_s = _checkpoint_s(w, None, asm)
        rel = reliability.goodput(gpus, compute_s, ckpt_s, asm)
        cand = Candidate(gpus, found, float(rel["wall_s"]))
    if memo is not None:
        memo[key] = cand
    return cand


def _checkpoint_s(w: Workload, site: Site | None, asm: Assumptions) -> float:
    bw = (site.storage_write_bytes_per_s if site and site.storage_write_bytes_per_s
          else asm.checkpoint_write_gb_per_s * 1e9)
    return float(reliability.checkpoint_write_s(
        reliability.checkpoint_bytes(total_params(w.architecture), asm), bw))


def _size_unit(acc: Accelerator) -> int:
    """Clusters grow in whole scale-up domains (NVLink 8, NVL72); TPU pods of thousands grow
    by hosts instead, since slices of a pod are rented and scheduled by host."""
    return acc.scale_up_domain if acc.scale_up_domain <= 72 else acc.devices_per_node


def size_cluster(w: Workload, acc: Accelerator, hw: Hardware, asm: Assumptions, fixed: dict,
                 deadline_s: float, max_gpus: int, allow_tp: bool) -> tuple[Candidate, Candidate]:
    """(cheapest candidate meeting the deadline, or None; fastest candidate seen).

    Candidates are whole size units times 2^a and 3 x 2^a (sizes whose factors the layouts
    can use), plus the smallest size meeting the deadline found by bisection between them.
    Among those meeting the deadline the fewest device-hours wins (cost follows device-hours),
    then the smaller cluster."""
    unit = _size_unit(acc)
    k_max = max(1, max_gpus // unit)
    seen: dict[int, Candidate] = {}

    def probe(k: int) -> Candidate:
        if k not in seen:
            seen[k] = _try(w, acc, hw, k * unit, asm, fixed, allow_tp)
        return seen[k]

    ladder = sorted({k for a in range(0, 40) for k in (2 ** a, 3 * 2 ** a) if k <= k_max}
                    | {k_max})
    last_miss = 0
    first_hit = None
    for k in ladder:
        c = probe(k)
        if c.wall_s <= deadline_s:
            first_hit = first_hit or k
        elif first_hit is None:
            last_miss = k
        if first_hit and k >= 4 * first_hit:
            break  # far past the deadline's size: larger clusters only cost more
    if first_hit is not None:
        lo, hi = last_miss, first_hit
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if probe(mid).wall_s <= deadline_s:
                hi = mid
            else:
                lo = mid
    fastest = min(seen.values(), key=lambda c: (c.wall_s, c.gpus))
    hits = [c for c in seen.values() if c.wall_s <= deadline_s]
    if not hits:
        return None, fastest
    return min(hits, key=lambda c: (round(c.wall_s * c.gpus, -3), c.gpus)), fastest


def _networks(cat: Catalog, acc: Accelerator, network: str | None):
    up = cat.network(acc.scale_up_network) if acc.scale_up_network else None
    key = network or acc.scale_out_network
    out = cat.network(key) if key else None
    if out is not None and out.tier != "scale_out" and network:
        raise InputError("--network", network, "a scale-out network: " + ", ".join(
            n.key for n in cat.all("networks") if n.tier == "scale_out"))
    return up, out


def _parse_limits(deadline, budget, power_cap, max_gpus, objective, ownership,
                  price_per_gpu_hour, pue=None, energy_usd_per_kwh=None) -> Limits:
    if objective not in (None, "time", "cost"):
        raise InputError("--objective", objective, "cost or time")
    if ownership not in ("cloud", "owned"):
        raise InputError("--ownership", ownership, "cloud or owned")
    return Limits(
        deadline_s=parse_duration_s(deadline, "--deadline") if deadline is not None else None,
        budget_usd=parse_money_usd(budget, "--budget") if budget is not None else None,
        power_cap_w=parse_power_w(power_cap, "--power-cap") if power_cap is not None else None,
        max_gpus=parse_int_count(max_gpus, "--max-gpus") if max_gpus is not None else None,
        objective=objective, ownership=ownership,
        price_per_gpu_hour=(parse_money_usd(price_per_gpu_hour, "--price-per-gpu-hour")
                            if price_per_gpu_hour is not None else None),
        pue=parse_pue(pue, "--pue") if pue is not None else None,
        energy_usd_per_kwh=(parse_energy_usd_per_kwh(energy_usd_per_kwh, "--energy-usd-per-kwh")
                            if energy_usd_per_kwh is not None else None))


# The flag a user gives each kind of catalog key with (the CLI's and per-row errors' wording).
FLAGS = {"accelerators": "--gpu", "networks": "--network", "sites": "--site",
         "workloads": "--workload"}


def error_text(exc: Exception) -> str:
    """A user error as the CLI words it: the flag, the value and the accepted form."""
    if isinstance(exc, UnknownKeyError):
        return f"{FLAGS.get(exc.kind, exc.kind)}: {exc}"
    if isinstance(exc, LayoutError):
        return f"--layout: {exc}"
    return str(exc)


def assumptions_for(assumptions: dict | Assumptions | None, framework: str | None) -> Assumptions:
    """The assumptions of a plan: the object given (else the defaults), then the framework's
    overrides, then a dict of overrides by name."""
    asm = assumptions if isinstance(assumptions, Assumptions) else DEFAULT
    try:
        asm = for_framework(asm, framework)
    except KeyError:
        raise InputError("--framework", framework, " or ".join(FRAMEWORKS)) from None
    if isinstance(assumptions, dict):
        try:
            asm = asm.with_(**assumptions)
        except KeyError as exc:
            raise InputError("assumptions", assumptions, str(exc)) from None
    return asm


def estimate(params=None, tokens=None, workload=None, *, gpu=None, gpus=None, network=None,
             site=None, layout=None, deadline=None, budget=None, power_cap=None, max_gpus=None,
             objective=None, ownership="cloud", price_per_gpu_hour=None, pue=None,
             energy_usd_per_kwh=None, catalog=None,
             ffn_type=None, seq_len=None, global_batch=None, precision=None,
             allow_tp_beyond_domain=False, uncertainty=False, seed=0, framework=None,
             assumptions: dict | Assumptions | None = None, inventory=None, **shape) -> Plan:
    """Plan one training run. Quantities accept numbers (SI units) or strings with suffixes
    ('1T', '90d', '150MW', '$2.5'); see CONTRACT.md for every input. ``pue`` and
    ``energy_usd_per_kwh`` replace the site's figures."""
    asm = assumptions_for(assumptions, framework)
    cat = catalog if isinstance(catalog, Catalog) else load_catalog(catalog)
    used: dict = {"framework": {"value": framework or "megatron",
                                "source": FRAMEWORK_SOURCES[framework or "megatron"]}}
    if isinstance(assumptions, dict):  # what the caller changed is reported as given
        used.update({k: {"value": v, "source": "given (--assume)"}
                     for k, v in assumptions.items()})
    w = resolve_workload(cat, used, params, tokens, workload, ffn_type, seq_len, global_batch,
                         precision, asm, **shape)
    limits = _parse_limits(deadline, budget, power_cap, max_gpus, objective, ownership,
                           price_per_gpu_hour, pue, energy_usd_per_kwh)
    gpu_keys = _gpu_keys(gpu, asm, used)
    limits = _limits_for(limits, inventory, gpu_keys, cat)
    fixed = parse_layout(layout) if not isinstance(layout, dict) else parse_layout(layout)
    n_gpus = parse_int_count(gpus, "--gpus") if gpus is not None else None
    site_obj = cat.site(site) if site else _default_site(cat, used)
    plans = [_plan_on(cat, w, cat.accelerator(k), network, site_obj, n_gpus, fixed, limits,
                      asm, dict(used), allow_tp_beyond_domain) for k in gpu_keys]
    best = _choose(plans, limits)
    if (limits.budget_usd is None and limits.power_cap_w is None and limits.max_gpus is None
            and not inventory):
        best = _frontier(best, w)  # a deadline alone: say why more devices do not help
    if uncertainty and best.feasible:
        best = _with_uncertainty(best, w, cat, site_obj, limits, asm, seed)
    return best


def _with_uncertainty(plan: Plan, w: Workload, cat: Catalog, site: Site | None, limits: Limits,
                      asm: Assumptions, seed: int) -> Plan:
    """P10/P50/P90 of days, device-hours, MWh and cost (planner/uncertainty.py)."""
    acc = cat.accelerator(plan.cluster["accelerator"])
    cluster = Cluster(acc, plan.cluster["gpus"], None, None, site)
    inputs = run_inputs(w, cluster, limits, asm, {})
    price_key = ("cloud_contract_usd_per_hour" if acc.cloud_contract_usd_per_hour is not None
                 else "cloud_on_demand_usd_per_hour")
    fig = acc.figures.get(price_key)
    ranges = {"cloud_usd_per_hour": (fig.low, fig.high) if fig and
              limits.price_per_gpu_hour is None else (None, None)}
    for name in ("pue", "energy_usd_per_kwh"):
        f = site.figures.get(name) if site else None
        ranges[name] = (f.low, f.high) if f else (None, None)
        if getattr(limits, name) is not None:  # a given figure: its range is the default one
            ranges[name] = (None, None)
    if limits.pue is not None and limits.pue * (1 - asm.pue_relative_range) < 1:
        ranges["pue"] = (1.0, None)  # PUE >= 1 (a facility draws at least its IT load)
    samples = uncertainty.simulate(plan.cluster["gpus"], w.tokens / plan.tokens_per_s, inputs,
                                   ranges, limits.ownership, asm, seed)
    p10, p50, p90 = uncertainty.quantiles(samples)
    used = dict(plan.assumptions)
    for name in ("uncertainty_samples", "efficiency_log_sd", "failure_rate_log_sd"):
        used[name] = {"value": getattr(asm, name), "source": _source(asm, name)}
    used["uncertainty_seed"] = {"value": seed, "source": "given (--seed)"}
    return Plan(**{**plan.__dict__, "p10": p10, "p50": p50, "p90": p90, "assumptions": used})


def _frontier(plan: Plan, w: Workload) -> Plan:
    """A missed deadline at the fastest cluster the search found is not a shortage of devices
    when more devices would not help: say whether the batch (too few microbatches per pipeline:
    the critical batch size bounds data parallelism, McCandlish et al. 2018) or communication
    binds (Epoch AI 2024, 'Data movement limits to frontier model training')."""
    if plan.feasible or plan.binding != "deadline" or not plan.time_breakdown_s:
        return plan
    t, step = plan.time_breakdown_s, plan.step_time_s
    comm = sum(v for k, v in t.items() if k.endswith("_comm"))
    seqs = plan.workload["global_batch_tokens"] / plan.workload["seq_len"]
    lay = plan.layout
    m = seqs / (lay["dp"] * lay["microbatch"])
    losses = {
        "reliability": (1.0 - plan.goodput,
                        f"failures cost {1 - plan.goodput:.0%} of wall time at "
                        f"{plan.cluster['gpus']:,} devices (a failure every "
                        f"{plan.reliability['mtbf_s'] / 60:,.0f} minutes); larger clusters lose "
                        "more to failures than they gain"),
        "critical_batch": (t["pp_bubble"] / step,
                           f"the global batch of {seqs:,.0f} sequences leaves each of "
                           f"{lay['dp']:,} pipelines {m:,.0f} microbatches, so the pipeline "
                           f"bubble takes {t['pp_bubble'] / step:.0%} of the step; more devices "
                           "do not help without a larger batch, which the critical batch size "
                           "bounds"),
        "network": (comm / step, f"communication takes {comm / step:.0%} of the step: the run "
                                 "is bound by data movement, not device count"),
    }
    binding, (share, why) = max(losses.items(), key=lambda kv: kv[1][0])
    if share < 0.1:
        return plan
    return Plan(**{**plan.__dict__, "binding": binding, "reason": f"{plan.reason}: {why}"})


def _nan_last(x: float) -> float:
    return x if x is not None and math.isfinite(x) else math.inf


def _gpu_keys(gpu, asm: Assumptions, used: dict) -> list[str]:
    if gpu is None or gpu == "":
        used["accelerator"] = {"value": asm.accelerator, "source": _source(asm, "accelerator")}
        return [asm.accelerator]
    keys = [g.strip() for g in (gpu if isinstance(gpu, (list, tuple)) else str(gpu).split(","))]
    if not all(keys):
        raise InputError("--gpu", gpu, "NAME[,NAME...] of accelerators in the catalog")
    return keys


def _default_site(cat: Catalog, used: dict) -> Site | None:
    if "us-hyperscale" in cat.keys("sites"):
        used["site"] = {"value": "us-hyperscale", "source": "planner default site profile "
                        "(hardware/sites/us-hyperscale.toml)"}
        return cat.site("us-hyperscale")
    return None


def _choose(plans: list[Plan], limits: Limits) -> Plan:
    """The plan among accelerators: CP-SAT over each accelerator's plan (sizing.py) by the
    objective; when none meets the limits, the one needing the smallest relaxation."""
    if len(plans) == 1:
        return plans[0]
    numbered = [p for p in plans if _has_numbers(p)]
    if not numbered:
        return plans[0]
    objective = limits.objective or "cost"
    feasible = [p for p in numbered if p.feasible]
    status, wall = "OPTIMAL", 0.0
    if feasible:  # each already meets the limits: choose by the objective
        sol = sizing.solve(_rows(feasible, sizing.SizingLimits(), objective), SIZING_SETTINGS)
        best, status, wall = feasible[sol.index], sol.status, sol.solve_time_s
    elif all(p.sizing for p in numbered):  # sized: each carries its smallest relaxations
        best = min(numbered, key=_relaxation_rank)
        # every way out, the best accelerator for each set of limits to relax, best first
        ways = sorted(((_relaxation_key(r), r["message"]) for p in numbered
                       for r in p.sizing["relaxations"]), key=lambda t: t[0])
        seen, messages = set(), []
        for key, message in ways:
            if key[0] == ways[0][0][0] and key[2] not in seen:  # fewest limits only
                seen.add(key[2])
                messages.append(message)
        best = replace(best, reason="; or: ".join(messages) if messages else best.reason)
    else:  # fixed sizes: which limit to relax, across accelerators
        slim = _sizing_limits(limits, DEFAULT, None, default_deadline=False)
        sol = sizing.solve(_rows(numbered, slim, objective), SIZING_SETTINGS)
        best = numbered[sol.index] if sol.index is not None else numbered[0]
        if sol.binding is not None:
            best = replace(best, binding=sol.binding, reason=sol.reason)
        status, wall = sol.status, sol.solve_time_s
    others = [{"accelerator": p.cluster["accelerator"], "gpus": p.cluster["gpus"],
               "training_days": p.training_days, "cost_usd_total": p.cost_usd["total"],
               "mfu": p.mfu, "note": "another accelerator considered"}
              for p in feasible if p is not best]
    return replace(best, alternatives=others + list(best.alternatives),
                   sizing=_merge_sizing(best, numbered, status, wall))


def _plan_on(cat: Catalog, w: Workload, acc: Accelerator, network, site: Site | None,
             n_gpus: int | None, fixed: dict, limits: Limits, asm: Assumptions, used: dict,
             allow_tp: bool) -> Plan:
    up, out = _networks(cat, acc, network)
    hw = hardware_for(acc, up, out, w.precision, asm, used)
    fastest = None
    if n_gpus is not None:
        if n_gpus < 1:
            raise InputError("--gpus", n_gpus, "a positive whole number of devices")
        cand = _try(w, acc, hw, n_gpus, asm, fixed, allow_tp)
        if cand.found.count == 0:
            raise InputError("--layout" if fixed else "--gpus", _layout_text(fixed) or n_gpus,
                             _no_layout_hint(w, n_gpus, fixed))
        binding = "gpus"
        used["gpus"] = {"value": n_gpus, "source": "given"}
    elif _wants_solver(limits):
        return _plan_sized(w, acc, up, out, hw, site, fixed, limits, asm, used, allow_tp)
    else:  # no limits: the cheapest cluster meeting the default deadline
        deadline_s = asm.deadline_days * SECONDS_PER_DAY
        used["deadline_days"] = {"value": asm.deadline_days,
                                 "source": _source(asm, "deadline_days")}
        cand, fastest = size_cluster(w, acc, hw, asm, fixed, deadline_s, asm.max_gpus, allow_tp)
        binding = "deadline"
        if cand is None:
            cand = fastest
    cluster = Cluster(acc, cand.gpus, up, out, site)
    plan = _assemble(w, cluster, cand, limits, asm, used, binding)
    return _check_limits(plan, limits, asm, fastest)


def _layout_text(fixed: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in fixed.items())


def _no_layout_hint(w: Workload, gpus: int, fixed: dict) -> str:
    seqs = int(w.global_batch_tokens // w.seq_len)
    return (f"a layout with tp*pp*dp*cp = {gpus} devices, tp dividing the {w.architecture.heads} "
            f"heads within the scale-up domain, pp <= {w.architecture.layers} layers and dp*mb "
            f"dividing the batch of {seqs} sequences")


def _facility_w_per_device(acc: Accelerator, site: Site | None, asm: Assumptions,
                           given_pue: float | None = None) -> float:
    dev_w, _ = power_model.device_power_w(acc, asm)
    it = power_model.it_power_w(1, dev_w, asm)
    return float(power_model.facility_power_w(it, _pue(site, asm, given_pue)))


def _pue(site: Site | None, asm: Assumptions, given: float | None = None) -> float:
    """The PUE a plan uses: given (--pue), else the site's, else the default."""
    if given is not None:
        return given
    return site.pue if site and site.pue else asm.pue


def _assemble(w: Workload, cluster: Cluster, cand: Candidate, limits: Limits,
              asm: Assumptions, used: dict, binding: str | None) -> Plan:
    a, acc = w.architecture, cluster.accelerator
    workload = {"params": total_params(a), "active_params": active_params(a), "tokens": w.tokens,
                "layers": a.layers, "hidden": a.hidden, "heads": a.heads,
                "kv_heads": a.kv_heads, "ffn": a.ffn, "vocab": a.vocab, "seq_len": w.seq_len,
                "global_batch_tokens": w.global_batch_tokens, "precision": w.precision,
                "experts": a.experts, "top_k": a.top_k, "ffn_type": a.ffn_type,
                "name": w.name}
    clus = {"accelerator": acc.key, "gpus": cluster.gpus, "nodes": cluster.nodes,
            "scale_up_domain": acc.scale_up_domain,
            "network": cluster.scale_out_network.key if cluster.scale_out_network else None,
            "site": cluster.site.key if cluster.site else None}
    # what the plan used (site figures, given inputs) wins over the defaults of the same name
    assumptions = {**{k: {"value": v["value"], "source": v["source"]}
                      for k, v in asm.describe().items() if k in _REPORTED}, **used}
    found = cand.found
    if found.best is None and found.count and bool(np.any(
            found.result["memory_bytes"] <= acc.hbm_bytes)):
        link = "scale-out" if not acc.scale_out_bytes_per_s else "network"
        reason = (f"layouts fit in memory but their step time needs the {link} bandwidth of "
                  f"{acc.key}, which the catalog does not have (unknown stays unknown: add a "
                  "sourced figure with --catalog)")
        return _empty_plan(workload, clus, assumptions, "unknown", reason)
    if found.best is None:
        need = float(np.min(found.result["memory_bytes"])) if found.count else math.nan
        reason = (f"no layout fits in memory: the leanest needs {need / 1e9:,.1f} GB per device, "
                  f"{acc.key} has {acc.hbm_bytes / 1e9:,.0f} GB" if found.count else
                  "no valid layout for this cluster")
        return _empty_plan(workload, clus, assumptions, "memory", reason)
    i = found.best
    r = found.result
    lay = found.layout(i)
    batch_tokens = float(found.layouts["batch_seqs"][i]) * w.seq_len
    if batch_tokens != w.global_batch_tokens:
        assumptions["global_batch_tokens"] = {
            "value": batch_tokens, "source": f"adjusted from {w.global_batch_tokens:,.0f} so "
            f"dp x microbatch divides it ({_source(asm, 'batch_tolerance')[:60]}...)"}
        workload["global_batch_tokens"] = batch_tokens
    step_s = float(r["step_time_s"][i])
    tokens_per_s = float(r["tokens_per_s"][i])
    recompute = lay["recompute"]
    model_flops = float(model_flops_per_token(a, w.seq_len)) * w.tokens
    hardware_flops = float(hardware_flops_per_token(a, w.seq_len, recompute)) * w.tokens
    compute_s = w.tokens / tokens_per_s
    inputs = run_inputs(w, cluster, limits, asm, assumptions)
    out = run.outcome(cluster.gpus, compute_s, asm=asm, **inputs)
    rel = out["reliability"]
    wall_s = float(out["wall_s"])
    gpu_hours = float(out["gpu_hours"])
    facility_w = float(out["facility_w"])
    energy = float(out["energy_mwh"])
    co2 = float(out["co2_t"])
    costs = {m: {k: float(v) for k, v in c.items()} for m, c in out["cost"].items()}
    method = limits.ownership
    cost = dict(costs[method])
    cost["per_trillion_tokens"] = float(cost_model.cost_per_trillion_tokens(cost["total"],
                                                                            w.tokens))
    cost["per_1e24_flop"] = float(cost_model.cost_per_1e24_flop(cost["total"], model_flops))
    cost["by_method"] = {k: v["total"] for k, v in costs.items()}

    assumptions["step_model"] = {"value": "parallelism-aware step model (planner/step.py)",
                                 "source": "docs/validation.md"}
    time_bd = {k: float(r["time"][k][i]) for k in TIME_KEYS}
    mem_bd = {k: float(r["memory"][k][i]) / 1e9 for k in MEMORY_KEYS}
    alternatives = [_alternative(found, j, w, cluster.gpus, float(rel["goodput"]))
                    for j in found.ranked(4)[1:]]
    feasible, reason = True, None
    if not math.isfinite(wall_s):
        feasible, binding = False, "reliability"
        reason = (f"at {cluster.gpus:,} devices the cluster fails every "
                  f"{float(rel['mtbf_s']) / 60:,.1f} minutes on average, within the "
                  f"{asm.restart_s / 60:,.0f}-minute restart plus the work redone: no progress "
                  "(goodput 0); fewer devices, faster restarts or a lower failure rate")
    return Plan(
        feasible=feasible, reason=reason, binding=binding, workload=workload, cluster=clus,
        layout=lay, model_flops=model_flops, hardware_flops=hardware_flops, step_time_s=step_s,
        tokens_per_s=tokens_per_s,
        tflops_per_gpu=float(r["mfu"][i]) * acc.peak(w.precision) / 1e12,
        mfu=float(r["mfu"][i]), hfu=float(r["hfu"][i]),
        memory_gb_per_gpu=float(r["memory_bytes"][i]) / 1e9, memory_breakdown_gb=mem_bd,
        time_breakdown_s=time_bd, bottleneck=str(bottleneck({k: r["time"][k][i:i + 1]
                                                              for k in TIME_KEYS})[0]),
        goodput=float(rel["goodput"]), training_days=wall_s / SECONDS_PER_DAY,
        gpu_hours=gpu_hours, power_mw=facility_w / 1e6, energy_mwh=energy, co2_t=co2,
        cost_usd=cost, cost_method=method, assumptions=assumptions,
        reliability={k: float(v) for k, v in rel.items()}, alternatives=alternatives)


_REPORTED = ("gemm_efficiency", "attention_efficiency", "hbm_efficiency", "tp_comm_overlap",
             "dp_comm_overlap", "failure_rate_per_device_hour", "restart_s", "power_utilisation",
             "energy_usd_per_kwh", "depreciation_years", "cost_of_capital",
             "framework_reserved_gb")


def _alternative(found: SearchResult, j: int, w: Workload, gpus: int, goodput: float) -> dict:
    r = found.result
    days = (w.tokens / float(r["tokens_per_s"][j]) / goodput / SECONDS_PER_DAY if goodput > 0
            else math.inf)
    return {"gpus": gpus, "layout": found.layout(j), "step_time_s": float(r["step_time_s"][j]),
            "training_days": days,
            "mfu": float(r["mfu"][j]), "memory_gb_per_gpu": float(r["memory_bytes"][j]) / 1e9,
            "note": "next-best layout on the same cluster"}


def run_inputs(w: Workload, cluster: Cluster, limits: Limits, asm: Assumptions,
               used: dict) -> dict:
    """The run model's inputs for a cluster (run.outcome's keywords), each reported in
    ``used`` with its source: prices, PUE, power per device, checkpoint time, carbon."""
    acc, site = cluster.accelerator, cluster.site
    dev_w, power_basis = power_model.device_power_w(acc, asm)
    used["power_basis"] = {"value": power_basis, "source": "per-device server power"}
    pue = _pue(site, asm, limits.pue)
    used["pue"] = {"value": pue, "source": ("given (--pue)" if limits.pue is not None
                                            else f"site {site.key}" if site and site.pue
                                            else _source(asm, "pue"))}
    carbon = (site.grid_kg_co2_per_mwh if site and site.grid_kg_co2_per_mwh
              else asm.grid_kg_co2_per_mwh)
    if limits.price_per_gpu_hour is not None:
        rate, src = limits.price_per_gpu_hour, "given (--price-per-gpu-hour)"
    elif acc.cloud_contract_usd_per_hour is not None:
        rate = acc.cloud_contract_usd_per_hour
        src = acc.figures["cloud_contract_usd_per_hour"].source
    elif acc.cloud_on_demand_usd_per_hour is not None:
        rate = acc.cloud_on_demand_usd_per_hour
        src = acc.figures["cloud_on_demand_usd_per_hour"].source
    else:
        rate, src = math.nan, f"unknown: {acc.key} has no cloud price in the catalog"
    used["price_per_gpu_hour"] = {"value": rate, "source": src}
    if limits.energy_usd_per_kwh is not None:
        price, src = limits.energy_usd_per_kwh, "given (--energy-usd-per-kwh)"
    elif site and site.energy_usd_per_kwh:
        price, src = site.energy_usd_per_kwh, f"site {site.key}"
    else:
        price, src = asm.energy_usd_per_kwh, _source(asm, "energy_usd_per_kwh")
    used["energy_usd_per_kwh"] = {"value": price, "source": src}
    return {"checkpoint_s": _checkpoint_s(w, site, asm), "device_power_w": dev_w, "pue": pue,
            "cloud_usd_per_hour": rate, "energy_usd_per_kwh": price,
            "device_usd": acc.purchase_usd if acc.purchase_usd else math.nan,
            "server_usd_per_device": (acc.server_usd_per_device if acc.server_usd_per_device
                                      else math.nan),
            "capex_usd_per_mw": (site.capex_usd_per_mw if site and site.capex_usd_per_mw
                                 else math.nan),
            "grid_kg_co2_per_mwh": carbon}


def _empty_plan(workload, clus, assumptions, binding, reason) -> Plan:
    none = {k: None for k in ("model_flops", "hardware_flops", "step_time_s", "tokens_per_s",
                              "tflops_per_gpu", "mfu", "hfu", "memory_gb_per_gpu",
                              "memory_breakdown_gb", "time_breakdown_s", "bottleneck",
                              "goodput", "training_days", "gpu_hours", "power_mw",
                              "energy_mwh", "co2_t", "cost_usd", "cost_method")}
    return Plan(feasible=False, reason=reason, binding=binding, workload=workload,
                cluster=clus, layout=None, assumptions=assumptions, **none)


def _check_limits(plan: Plan, limits: Limits, asm: Assumptions, fastest) -> Plan:
    """Turn a plan that breaks a limit into an answer naming the limit and by how much. The
    check is sizing.violations, the same validator every CP-SAT choice passes."""
    if not plan.feasible or not _has_numbers(plan):
        return plan
    by_default = plan.binding == "deadline" and limits.deadline_s is None
    slim = _sizing_limits(limits, asm, None, default_deadline=by_default)
    broken = sizing.violations(_rows([plan], slim, limits.objective or "cost"), 0)
    if not broken:
        return plan
    gpus, acc = plan.cluster["gpus"], plan.cluster["accelerator"]
    texts = []
    for limit, need, cap in broken:
        if limit == "deadline":
            texts.append(f"{'the fastest plan takes' if by_default else 'takes'} {need:,.1f} "
                         f"days on {gpus:,} devices, deadline {cap:,.1f}")
        elif limit == "power":
            texts.append(f"needs {need:,.1f} MW, cap {cap:,.1f} MW" if math.isfinite(need)
                         else f"power unknown ({acc} has no published power), cap "
                         f"{cap:,.1f} MW")
        elif limit == "budget":
            texts.append(f"costs ${need / 1e6:,.1f}M, budget ${cap / 1e6:,.1f}M" if
                         math.isfinite(need) else f"cost unknown ({acc} has no price in the "
                         f"catalog: --price-per-gpu-hour), budget ${cap / 1e6:,.1f}M")
        elif limit == "max_gpus":
            texts.append(f"needs {gpus:,} devices, --max-gpus {int(cap):,}")
        else:
            texts.append(f"needs {gpus:,} {acc}, inventory {int(cap):,}")
    return replace(plan, feasible=False, binding=broken[0][0], reason="; ".join(texts))


# --- sizing under limits: the options table CP-SAT chooses from (planner/sizing.py) ----------

# Candidate sizes: k = m x 2^a / 4 size units for m in 4..7, a quarter-octave ladder (1, 1.25,
# 1.5 and 1.75 x a power of two). It holds the 2^a and 3 x 2^a sizes size_cluster probes (whose
# factors layouts use best) and as many points again for the curves between them.
SIZE_LADDER_NUMERATORS = (4, 5, 6, 7)
# Sizes whose ideal time (every device at its dense peak, MFU 1) exceeds twice the deadline are
# no options: no real MFU brings them within it. The factor 2 keeps part of the curve beyond the
# deadline for the plot and for the relaxation messages.
SIZE_HORIZON_FACTOR = 2.0
SIZING_SETTINGS = sizing.SolverSettings()  # 10 s, 2 workers, seed 0 (sizing.py)


def _wants_solver(limits: Limits) -> bool:
    """CP-SAT sizes the cluster when a limit, an objective or an inventory is given (several
    accelerators set the objective, see _limits_for)."""
    return any(v is not None for v in (limits.deadline_s, limits.budget_usd, limits.power_cap_w,
                                       limits.max_gpus, limits.objective)) or bool(
        limits.inventory)


def _parse_inventory(inventory, cat: Catalog) -> tuple:
    """{accelerator: devices} or 'h100-sxm=20000,b200=8000' -> ((key, devices), ...), with
    catalog keys (aliases resolved)."""
    if inventory is None or inventory == "" or inventory == {}:
        return ()
    accepted = "ACCELERATOR=DEVICES[,...] with catalog keys (e.g. h100-sxm=20000,b200=8000)"
    if isinstance(inventory, dict):
        items = list(inventory.items())
    else:
        items = []
        for part in str(inventory).split(","):
            if "=" not in part:
                raise InputError("--inventory", inventory, accepted)
            k, v = part.split("=", 1)
            items.append((k.strip(), v.strip()))
    out = {}
    for k, v in items:
        try:
            key = cat.resolve("accelerators", str(k))
        except UnknownKeyError:
            raise InputError("--inventory", inventory, accepted,
                             f"names an unknown accelerator '{k}'") from None
        out[key] = parse_int_count(v, "--inventory")
    return tuple(sorted(out.items()))


def _limits_for(limits: Limits, inventory, gpu_keys: list[str], cat: Catalog) -> Limits:
    """The limits with the inventory parsed; several accelerators are compared by cost unless
    an objective is given (the rule _choose has always applied)."""
    objective = limits.objective
    if objective is None and len(gpu_keys) > 1:
        objective = "cost"
    return replace(limits, inventory=_parse_inventory(inventory, cat), objective=objective)


def _sizing_limits(limits: Limits, asm: Assumptions, used: dict | None,
                   default_deadline: bool) -> sizing.SizingLimits:
    """Limits in the sizing's units. Minimising cost needs a deadline (else the cheapest plan
    is the smallest cluster taking years): the default deadline applies, and is reported."""
    deadline = limits.deadline_s / SECONDS_PER_DAY if limits.deadline_s is not None else None
    if deadline is None and default_deadline:
        deadline = asm.deadline_days
        if used is not None:
            used["deadline_days"] = {"value": asm.deadline_days,
                                     "source": _source(asm, "deadline_days")}
    return sizing.SizingLimits(
        deadline_days=deadline, budget_usd=limits.budget_usd,
        power_cap_mw=limits.power_cap_w / 1e6 if limits.power_cap_w is not None else None,
        max_gpus=limits.max_gpus, inventory=dict(limits.inventory))


def _size_ladder(k_top: int) -> list[int]:
    ks, a = set(), 0
    while (4 << a) // 4 <= k_top:
        ks |= {(m << a) // 4 for m in SIZE_LADDER_NUMERATORS
               if (m << a) % 4 == 0 and (m << a) // 4 <= k_top}
        a += 1
    return sorted(ks)


def _size_options(w: Workload, acc: Accelerator, hw: Hardware, site: Site | None, fixed: dict,
                  slim: sizing.SizingLimits, asm: Assumptions, allow_tp: bool,
                  given_pue: float | None = None) -> list[Candidate]:
    """Candidate clusters for one accelerator, each with its best layout (one layout search
    per size): the size ladder from the horizon up, the largest size each cap allows (power,
    --max-gpus, inventory), and the smallest size meeting the deadline (bisection)."""
    if all(k in fixed for k in ("tp", "pp", "dp", "cp")):  # the layout fixes the size
        n = fixed["tp"] * fixed["pp"] * fixed["dp"] * fixed["cp"]
        return [_try(w, acc, hw, n, asm, fixed, allow_tp)]
    unit = _size_unit(acc)
    k_top = max(1, asm.max_gpus // unit)
    horizon_s = (slim.deadline_days or asm.deadline_days) * SECONDS_PER_DAY
    flops = float(model_flops_per_token(w.architecture, w.seq_len)) * w.tokens
    ideal_gpus = flops / (acc.peak(w.precision) * horizon_s * SIZE_HORIZON_FACTOR)
    ladder = [k for k in _size_ladder(k_top) if k * unit >= ideal_gpus] or [k_top]
    caps = [slim.max_gpus, slim.inventory.get(acc.key)]
    if slim.power_cap_mw is not None:
        per_device_w = _facility_w_per_device(acc, site, asm, given_pue)
        if math.isfinite(per_device_w) and per_device_w > 0:
            caps.append(slim.power_cap_mw * 1e6 / per_device_w)
    at_caps = {min(k_top, int(c // unit)) for c in caps if c is not None and c >= unit}
    seen: dict[int, Candidate] = {}

    def probe(k: int) -> Candidate:
        if k not in seen:
            seen[k] = _try(w, acc, hw, k * unit, asm, fixed, allow_tp)
        return seen[k]

    fastest, misses = None, 0
    for k in sorted(set(ladder) | at_caps):
        c = probe(k)
        if c.wall_s < math.inf:
            misses = 0
            if fastest is None or c.wall_s < fastest.wall_s:
                fastest = c
        elif fastest is not None:
            misses += 1
            if misses >= 2:
                break  # no layout fits or makes progress beyond this size
        if fastest is not None and c.wall_s > horizon_s * SIZE_HORIZON_FACTOR and \
                k * unit > 2 * fastest.gpus:
            break  # the curve has turned back up, far past the fastest cluster
    if slim.deadline_days is not None:
        deadline_s = slim.deadline_days * SECONDS_PER_DAY
        hits = [k for k in sorted(seen) if seen[k].wall_s <= deadline_s]
        if hits:
            lo = max([k for k in seen if k < hits[0]], default=0)
            hi = hits[0]
            while hi - lo > 1:  # smallest size meeting the deadline, as size_cluster finds it
                mid = (lo + hi) // 2
                if probe(mid).wall_s <= deadline_s:
                    hi = mid
                else:
                    lo = mid
    return [seen[k] for k in sorted(seen)]


def _has_numbers(p: Plan) -> bool:
    return p.training_days is not None and math.isfinite(p.training_days)


def _plan_sized(w: Workload, acc: Accelerator, up, out, hw: Hardware, site: Site | None,
                fixed: dict, limits: Limits, asm: Assumptions, used: dict,
                allow_tp: bool) -> Plan:
    """The plan CP-SAT chooses among this accelerator's sizes under the limits; when none
    meets them, the plan of the smallest relaxation, with binding and reason."""
    objective = limits.objective or "cost"
    used["objective"] = {"value": objective, "source": (
        "given (--objective)" if limits.objective else "planner default: the cheapest plan "
        "that meets the limits (--objective time for the fastest)")}
    slim = _sizing_limits(limits, asm, used, default_deadline=objective == "cost")
    cands = _size_options(w, acc, hw, site, fixed, slim, asm, allow_tp, limits.pue)
    plans = [_assemble(w, Cluster(acc, c.gpus, up, out, site), c, limits, asm, dict(used), None)
             for c in cands]
    ok = [p for p in plans if p.feasible and _has_numbers(p)]
    if not ok:  # no size fits in memory (or makes progress): say why at the largest size
        return plans[-1]
    inst = sizing.SizingInstance(
        accelerator=[acc.key] * len(ok), gpus=[p.cluster["gpus"] for p in ok],
        training_days=[p.training_days for p in ok],
        cost_usd=[p.cost_usd["total"] for p in ok], power_mw=[p.power_mw for p in ok],
        limits=slim, objective=objective)
    sol = sizing.solve(inst, SIZING_SETTINGS)
    best = ok[sol.index] if sol.index is not None else min(ok, key=lambda p: p.training_days)
    summary = sol.summary(inst)
    assumptions = dict(best.assumptions)
    assumptions["sizing"] = {
        "value": f"CP-SAT {sol.status}: {objective} over {inst.n} sizes of {acc.key}",
        "source": f"planner/sizing.py; time limit {SIZING_SETTINGS.time_limit_s:g} s, "
                  f"{SIZING_SETTINGS.workers} workers, seed {SIZING_SETTINGS.seed}; resolutions "
                  f"{sizing.DAYS_RESOLUTION} day, ${sizing.COST_RESOLUTION_USD:,.0f}, "
                  f"{sizing.POWER_RESOLUTION_MW * 1e3:g} kW, {sizing.GPU_RESOLUTION} device"}
    return replace(best, feasible=sol.feasible, binding=sol.binding, reason=sol.reason,
                   sizing=summary, assumptions=assumptions)


def _rows(plans: list[Plan], slim: sizing.SizingLimits, objective: str) -> sizing.SizingInstance:
    return sizing.SizingInstance(
        accelerator=[p.cluster["accelerator"] for p in plans],
        gpus=[p.cluster["gpus"] for p in plans],
        training_days=[p.training_days for p in plans],
        cost_usd=[p.cost_usd["total"] for p in plans],
        power_mw=[p.power_mw for p in plans], limits=slim, objective=objective)


def _relaxation_key(r: dict) -> tuple:
    """Fewer limits to relax first, then the smaller relative overrun, then the limit order."""
    return (len(r["limits"]), r["excess"], tuple(sizing.LIMITS.index(k) for k in r["limits"]))


def _relaxation_rank(p: Plan) -> tuple:
    relax = (p.sizing or {}).get("relaxations") or []
    if not relax:
        return (math.inf, math.inf, (), p.cluster["accelerator"])
    return (*_relaxation_key(relax[0]), p.cluster["accelerator"])


def _merge_sizing(best: Plan, plans: list[Plan], status: str, wall_s: float) -> dict | None:
    """One sizing summary over every accelerator considered (the plot draws them all)."""
    sized = [p for p in plans if p.sizing]
    if not sized:
        return best.sizing
    merged = dict(best.sizing or sized[0].sizing)
    cols = {k: [] for k in merged["options"]}
    relaxations, chosen = [], None
    for p in sized:
        offset = len(cols["gpus"])
        if p is best and p.sizing.get("chosen") is not None:
            chosen = offset + p.sizing["chosen"]
        for k in cols:
            cols[k] += p.sizing["options"][k]
        relaxations += [{**r, "index": r["index"] + offset} for r in p.sizing["relaxations"]]
    # Proven-infeasible accelerators do not weaken the proof; a time-out anywhere does.
    statuses = [p.sizing["status"] for p in sized if p.sizing["status"] != "INFEASIBLE"]
    overall = ("INFEASIBLE" if not best.feasible else
               "OPTIMAL" if all(s == "OPTIMAL" for s in statuses + [status]) else "FEASIBLE")
    merged.update(options=cols, chosen=chosen, relaxations=relaxations, status=overall,
                  solve_time_s=sum(p.sizing["solve_time_s"] for p in sized) + wall_s,
                  accelerators=[p.cluster["accelerator"] for p in sized])
    return merged
