"""The typed objects of the planner: one frozen dataclass per concept, SI units inside.

Catalog files carry figures in the units their keys name (GB, TFLOP/s, kW);
planner/catalog_files.py converts them once, here they are bytes, FLOP/s, watts and seconds.
Prices stay in the units their names carry (USD per hour, per kWh, per MW), since that is how
they are quoted.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, fields, replace
from typing import Mapping

from .errors import LayoutError, PrecisionError

PRECISIONS = ("bf16", "fp16", "fp8", "fp4")
# Activation recomputation: none, selective (parts of every block), full (the whole forward of
# every block: every block's input kept), or full recompute of a share of the blocks, the rest
# keeping all their activations ("full:0.5": half the blocks; Megatron-Core's block method,
# --recompute-method block --recompute-num-layers; NeMo Framework user guide, "Activation
# Recomputation": "partial Transformer layer recomputation")
RECOMPUTE = ("none", "selective", "full", "full:0.25", "full:0.5", "full:0.75")
# A layout's parts (model/layouts.py enumerates them in this order), the short names a user
# may give, and the text --layout, a spec, a fleet and a catalog row take (parse_layout).
LAYOUT_FIELDS = ("tp", "pp", "dp", "cp", "ep", "microbatch", "virtual_stages", "recompute",
                 "zero")
LAYOUT_ALIASES = {"mb": "microbatch", "vp": "virtual_stages"}
FFN_TYPES = ("gated", "plain")
# The widest dimension of a shape (layers, width, heads, vocabulary, experts): the bound of
# the shape flags, config.json keys and catalog files alike (a check before parameters are
# counted; the whole shape is held to MAX_PARAMS)
MAX_SHAPE = 2**24
# The shape fields a model known by its parameter count may give beside it: a mixture of
# experts by the MoE shape rule (model/architecture.py shape_for_params, docs/shape.md).
MOE_RULE_FIELDS = ("experts", "top_k", "shared_experts")
# What a cluster is bought or rented in (--unit): "auto" is the system's own unit
# (plan/cluster.purchase_unit).
PURCHASE_UNITS = ("auto", "device", "node", "rack", "scalable-unit")


class FrozenMap(dict):
    """A dict that refuses change: the catalog's objects are cached and shared by every plan
    of a session, so an edit in place (``acc.peak_flops["bf16"] *= 1.1``) would have moved
    every later plan, silently. A what-if changes a copy (``dataclasses.replace``) or a file."""

    def _refuse(self, *args, **kwargs):
        raise TypeError("catalog figures are read-only (shared by every plan of the session): "
                        "change a copy, dataclasses.replace(item, field={...}), or a catalog "
                        "file (--catalog)")

    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __reduce__(self):  # pickles (sweep workers) and copies as the dict it holds
        return type(self), (dict(self),)


def _freeze(item) -> None:
    """Make a frozen dataclass's dict fields (and tuples of dicts) FrozenMaps, in place."""
    for name, value in vars(item).items():
        if type(value) is dict:
            object.__setattr__(item, name, FrozenMap(value))
        elif isinstance(value, tuple) and any(type(v) is dict for v in value):
            object.__setattr__(item, name, tuple(FrozenMap(v) if type(v) is dict else v
                                                 for v in value))


@dataclass(frozen=True)
class Figure:
    """One sourced number from a catalog file, in the unit its key names."""

    value: float
    source: str
    as_of: str
    confidence: str | None = None
    low: float | None = None
    high: float | None = None
    note: str | None = None


# A contract (reserved) price per device-hour as a share of the on-demand one, where the
# catalog has on-demand alone: Google Cloud TPU pricing's 1-year committed-use prices are 30%
# below on-demand for v5e ($0.84 vs $1.20), v5p ($2.94 vs $4.20) and Trillium ($1.89 vs $2.70);
# the range spans the other published pairs of one offer: AWS EC2 Capacity Blocks p4d (A100
# 40GB) $1.84 against that instance's on-demand $4.10 (0.45; the a100-40gb catalog file holds
# both, the second in a note: its on-demand figure is the neocloud one) and the SemiAnalysis
# 1-year H100 neocloud contract index $2.35 against the on-demand median $2.95 (0.80).
# tests/test_catalog_prices.py holds these to the catalog's figures.
RESERVED_PER_ON_DEMAND = 0.70
RESERVED_PER_ON_DEMAND_RANGE = (0.45, 0.80)
# A price's relative range where the catalog gives none: the assumption price_relative_range's
# default (planner/assumptions.py holds its source), here so this module reads it without
# importing the assumptions, which import this module.
PRICE_RELATIVE_RANGE = 0.16
DERIVED_RESERVED_RATE = "cloud_contract_usd_per_hour (derived from on-demand)"


def contract_from_on_demand(key: str, on_demand: Figure,
                            price_relative_range: float | None = None) -> Figure:
    """The contract price derived from an on-demand figure (RESERVED_PER_ON_DEMAND). Its range
    joins the on-demand figure's and the ratio's, independent, as log half-widths added in
    quadrature (the root-sum-square of independent relative uncertainties: JCGM 100:2008,
    'Guide to the expression of uncertainty in measurement', 5.1.6), each side apart. An end
    the on-demand figure lacks is its value x (1 -/+ ``price_relative_range``), the range
    docs/uncertainty.md gives a price without one (the assumption's default when None): a
    figure with no range had counted as exact, so TPU v4's $2.25 ranged -36%/+14%, the
    ratio's alone."""
    if price_relative_range is None:
        price_relative_range = PRICE_RELATIVE_RANGE
    ratio_low, ratio_high = RESERVED_PER_ON_DEMAND_RANGE
    # rounded to 1e-10 USD: a product's float noise (5.50 x 0.7 = 3.8499999999999996) is no
    # figure a user should read
    value = round(on_demand.value * RESERVED_PER_ON_DEMAND, 10)
    od_low = (on_demand.low if on_demand.low is not None
              else on_demand.value * (1 - price_relative_range))
    od_high = (on_demand.high if on_demand.high is not None
               else on_demand.value * (1 + price_relative_range))
    down = math.hypot(math.log(on_demand.value / od_low),
                      math.log(RESERVED_PER_ON_DEMAND / ratio_low))
    up = math.hypot(math.log(od_high / on_demand.value),
                    math.log(ratio_high / RESERVED_PER_ON_DEMAND))
    return Figure(
        value,
        f"derived: {key} on-demand ${on_demand.value:,.2f} x {RESERVED_PER_ON_DEMAND:g}, the "
        "1-year committed-use share of on-demand in Google Cloud TPU pricing (v5e, v5p, "
        f"Trillium; {ratio_low:g}-{ratio_high:g} over the catalog's contract and on-demand "
        f"pairs); on-demand: {on_demand.source}",
        on_demand.as_of, "D", value * math.exp(-down), value * math.exp(up),
        "no contract price in the catalog: derived from on-demand")


@dataclass(frozen=True)
class Accelerator:
    key: str
    name: str
    vendor: str
    release_year: int
    peak_flops: Mapping[str, float]  # precision -> dense peak FLOP/s (never sparse)
    matmul_fraction: Mapping[str, float]  # precision -> measured max achievable matmul / peak
    hbm_bytes: float
    hbm_bytes_per_s: float
    tdp_w: float | None  # None where no figure or estimate is catalogued: unknown stays unknown
    scale_up_bytes_per_s: float  # per device, unidirectional
    scale_up_domain: int
    devices_per_node: int
    scale_out_bytes_per_s: float | None  # per device, unidirectional
    system_power_w: float | None = None  # IT power per device at the server's maximum
    scale_up_network: str | None = None
    scale_out_network: str | None = None
    purchase_usd: float | None = None
    server_usd_per_device: float | None = None
    cloud_on_demand_usd_per_hour: float | None = None
    cloud_contract_usd_per_hour: float | None = None
    devices_per_rack: int | None = None  # a rack as sold (DGX H100: 4 nodes; NVL72: 72)
    devices_per_scalable_unit: int | None = None  # a reference-architecture block (SU, pod)
    aliases: tuple[str, ...] = ()
    figures: Mapping[str, Figure] = field(default_factory=dict, repr=False, compare=False)
    # the architecture generation it belongs to ("NVIDIA Hopper", "Google TPU v5p"): the unit
    # the validation reports accuracy by; the key when the file names none
    family: str = ""
    bf16: bool = True  # tensor cores run BF16; False: peak "bf16" is the FP16 peak (V100)
    fp16: bool = True  # matrix units run FP16; False: an fp16 plan multiplies in BF16 (TPU)

    def __post_init__(self):
        _freeze(self)

    def cloud_price(self, price_relative_range: float | None = None
                    ) -> tuple[str | None, Figure | None]:
        """(figure name, Figure) of the price per device-hour a plan rents at: the contract
        (reserved) price where the catalog has one at or below its on-demand price, else one
        derived from on-demand (contract_from_on_demand); (None, None) when unknown.
        A multi-month training run is rented by contract, which 1-3 year reservations price
        below on-demand (Google Cloud TPU committed-use and AWS EC2 Capacity Blocks pricing
        pages), so every accelerator is priced on that one basis and a comparison between
        accelerators does not set one's contract against another's on-demand list. A contract
        figure above its on-demand one (H200: a 2024 AWS capacity block at $5.41 against 2026
        neocloud on-demand at $3.50; A100 40GB: $1.84 against $1.07) is a different market,
        not a reservation of the on-demand offer: on-demand's derived contract is the
        renter's price. ``price_relative_range``: the range of an on-demand figure without
        one, for a derived contract's (contract_from_on_demand; the assumption's default when
        None)."""
        contract, on_demand = self.cloud_contract_usd_per_hour, self.cloud_on_demand_usd_per_hour

        def figure(name: str, value: float) -> Figure:
            # the file's sourced figure; a bare one where the object was built without files
            return self.figures.get(name) or Figure(value, "", "")

        if contract is not None and not (on_demand is not None and on_demand < contract):
            return "cloud_contract_usd_per_hour", figure("cloud_contract_usd_per_hour", contract)
        if on_demand is not None:
            derived = contract_from_on_demand(self.key,
                                              figure("cloud_on_demand_usd_per_hour", on_demand),
                                              price_relative_range)
            if contract is not None:  # said where the price is shown, never dropped silently
                derived = replace(derived, source=(
                    f"{derived.source}; the file's contract figure ${contract:,.2f} sits "
                    "above its on-demand one, a different market and era, not a reservation "
                    "of it: not used"))
            return DERIVED_RESERVED_RATE, derived
        return None, None

    def peak(self, precision: str) -> float:
        """Dense peak FLOP/s at a precision; fp16 runs at the bf16 rate."""
        key = str(precision).strip().lower()
        key = "bf16" if key == "fp16" else key
        if key not in self.peak_flops:
            raise PrecisionError("precision", precision, f"a precision {self.key} has a peak "
                                 f"for: {', '.join(sorted(self.peak_flops))}",
                                 f"has no peak on {self.key}")
        return self.peak_flops[key]


@dataclass(frozen=True)
class Network:
    key: str
    name: str
    tier: str  # "scale_up" or "scale_out"
    technology: str = ""
    link_bytes_per_s: float | None = None  # per port, unidirectional
    switch_radix: int | None = None
    hop_latency_s: float | None = None
    achievable_fraction: float | None = None
    switch_usd: float | None = None
    # Per-device bandwidth of this fabric as a system builds it, when it differs from the
    # accelerator's reference design (AWS p4d: 400 Gb/s per 8 A100, not DGX A100's 8 x 200).
    device_bytes_per_s: float | None = None
    # The accelerator vendors whose devices attach to this fabric (TPU DCN: Google's alone);
    # None: any
    accelerator_vendors: tuple[str, ...] | None = None
    figures: Mapping[str, Figure] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self):
        _freeze(self)

    def serves(self, acc: Accelerator) -> bool:
        """Whether ``acc``'s devices attach to this fabric (its vendor is one it serves, in
        any case: a user's vendor = "nvidia" had matched no NVIDIA fabric, and the message
        named none it could attach to)."""
        return self.accelerator_vendors is None or any(
            same_vendor(acc.vendor, v) for v in self.accelerator_vendors)


def same_vendor(a: str | None, b: str | None) -> bool:
    """Whether two files name one maker, in whatever case each writes it ("aws" is AWS): the
    one rule for a fabric's vendors and a stack's (frameworks.known_vendor)."""
    return (a or "").casefold() == (b or "").casefold()


@dataclass(frozen=True)
class Site:
    key: str
    name: str
    region: str = ""
    power_cap_w: float | None = None  # facility power
    pue: float | None = None  # annualised: the energy bill's
    peak_pue: float | None = None  # design-day, at full IT load: the power contract's
    energy_usd_per_kwh: float | None = None
    capex_usd_per_mw: float | None = None  # building, per MW of IT load
    grid_kg_co2_per_mwh: float | None = None
    storage_write_bytes_per_s: float | None = None
    figures: Mapping[str, Figure] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self):
        _freeze(self)


@dataclass(frozen=True)
class Architecture:
    """A decoder-only transformer, dense or mixture-of-experts."""

    layers: int
    hidden: int
    heads: int
    kv_heads: int
    ffn: int
    vocab: int
    ffn_type: str = "gated"
    tie_embeddings: bool = False
    experts: int = 0  # routed experts per MoE layer; 0 = dense
    top_k: int = 0
    expert_ffn: int = 0
    shared_experts: int = 0
    dense_layers: int = 0  # leading layers with a dense FFN in a MoE model
    # Group-limited routing: each token picks group_top_k of expert_groups groups of experts
    # first, then its top_k experts inside them (DeepSeek-V3 report sec. 2.1.2, node-limited
    # routing, M = 4 of 8 groups; config.json n_group, topk_group); 0 = unrestricted.
    expert_groups: int = 0
    group_top_k: int = 0
    head_size: int = 0  # per-head width when heads x head_size != hidden (PaLM: 48 x 256)
    # Multi-head Latent Attention (DeepSeek-V2 report sec. 2.1): keys and values come from a
    # kv_lora_rank latent, queries from a q_lora_rank latent (0: projected directly), each head
    # adds rope_head_dim decoupled RoPE dims to its query/key, values are v_head_dim wide.
    # kv_lora_rank 0 means standard (grouped-query) attention; head_size is then MLA's
    # non-RoPE query/key width per head.
    kv_lora_rank: int = 0
    q_lora_rank: int = 0
    rope_head_dim: int = 0
    v_head_dim: int = 0
    # Sliding-window attention (Beltagy et al. 2020, Longformer; Mistral 7B, Jiang et al. 2023):
    # in window_layers of the layers each query attends to the last `window` keys only (Gemma
    # 3: 1,024 in 5 of every 6 layers; gpt-oss: 128 in every 2nd); 0: every layer attends to
    # the whole causal prefix.
    window: int = 0
    window_layers: int = 0

    def attended_keys(self, seq_len):
        """Keys a query attends on average over the layers, causal (FlashAttention-2 skips
        the blocks above the diagonal and, with a window, those left of its band): s/2 in a
        full layer (the causal half, PaLM appendix B), and sum_i min(i, w) / s = w - w^2/(2s)
        under a window w < s (the first w queries see fewer than w keys)."""
        import numpy as np

        s = np.asarray(seq_len, dtype=float)
        w = np.asarray(self.window, dtype=float)
        local = np.where((w > 0) & (w < s), w - w * w / (2.0 * np.maximum(s, 1.0)), s / 2.0)
        n_local = np.asarray(self.window_layers, dtype=float)
        return ((self.layers - n_local) * s / 2.0 + n_local * local) / self.layers

    @property
    def is_moe(self) -> bool:
        return self.experts > 0

    def routing_problem(self) -> tuple[str, str] | None:
        """(the field at fault, what is wrong) with the group-limited routing fields, or None:
        groups need experts that split into them evenly and 1 <= group_top_k <= expert_groups,
        and the groups a token may use must hold top_k experts."""
        if not self.expert_groups and not self.group_top_k:
            return None
        if not self.is_moe:
            return ("expert_groups", "expert groups need a mixture of experts (experts > 0)")
        if self.expert_groups < 1 or self.experts % self.expert_groups:
            return ("expert_groups", f"{self.experts} experts do not split into "
                    f"{self.expert_groups} groups of equal size")
        if not 1 <= self.group_top_k <= self.expert_groups:
            return ("group_top_k", f"group_top_k must be 1 to expert_groups "
                    f"({self.expert_groups}), got {self.group_top_k}")
        reachable = self.group_top_k * self.experts // self.expert_groups
        if reachable < self.top_k:
            return ("top_k", f"group_top_k {self.group_top_k} of {self.expert_groups} groups "
                    f"reaches {reachable} experts, fewer than top_k ({self.top_k}): "
                    "group_top_k x experts / expert_groups must be at least top_k")
        return None

    def routing_error(self) -> str | None:
        """What is wrong with the group-limited routing fields (routing_problem's words), or
        None."""
        problem = self.routing_problem()
        return problem[1] if problem else None

    @property
    def head_dim(self):
        import numpy as np

        return np.where(np.asarray(self.head_size) > 0, self.head_size,
                        np.asarray(self.hidden) / np.asarray(self.heads))

    @property
    def q_width(self):
        """Width of the query (and attention output): heads x head_dim."""
        return self.heads * self.head_dim

    @property
    def qk_head_dim(self):
        """Per-head width of QK^T: head_dim, plus MLA's decoupled RoPE dims."""
        return self.head_dim + self.rope_head_dim

    @property
    def v_dim(self):
        """Per-head width of the values (and the attention output)."""
        import numpy as np

        return np.where(np.asarray(self.v_head_dim) > 0, self.v_head_dim, self.head_dim)

    @property
    def attention_width(self):
        """heads x (QK^T width + AV width) / 2: the width the attention core's FLOPs scale
        with (4 s x this per token forward, PaLM appendix B); heads x head_dim unless MLA."""
        return self.heads * (self.qk_head_dim + self.v_dim) / 2.0


def shape_problem(a: Architecture) -> tuple[str, str, str] | None:
    """The first way a shape cannot be a transformer, as (field, reason, accepted), or None.
    Grouped-query attention shares each KV head among heads / kv_heads query heads (Ainslie
    et al. 2023), so kv_heads divides heads; without a per-head width the heads split the
    model width evenly; a mixture of experts routes each token to top_k of its experts and
    keeps at least one MoE layer after its dense ones (DeepSeek-V3 report, sec. 2.1)."""
    for name in ("layers", "hidden", "heads", "kv_heads", "vocab"):
        if getattr(a, name) < 1:
            return name, "is below 1", "a whole number >= 1"
    if a.ffn_type not in FFN_TYPES:
        return "ffn_type", "is not an FFN type", " or ".join(FFN_TYPES)
    if a.kv_heads > a.heads or a.heads % a.kv_heads:
        return ("kv_heads", f"does not divide the {a.heads} heads",
                f"a divisor of heads ({a.heads}): each KV head serves heads / kv_heads "
                "query heads")
    if a.head_size == 0 and a.hidden % a.heads:
        return ("hidden", f"is not a multiple of the {a.heads} heads",
                "a multiple of heads (the heads split the width evenly), or a per-head width "
                "(--head-dim; head_dim in a catalog file)")
    if a.window < 0:
        return "window", "is below 0", "the keys a sliding window attends (>= 1), or 0"
    if not 0 <= a.window_layers <= a.layers:
        return ("window_layers", f"is not between 0 and the {a.layers} layers",
                "the layers with a sliding window, 0 to layers")
    if bool(a.window) != bool(a.window_layers):
        return (("window", "is given without the layers it applies to") if a.window else
                ("window_layers", "is given without a window")) + (
                "a sliding window (--window, window in a catalog file) with the layers it "
                "applies to (--window-layers, window_layers; absent: every layer), or neither",)
    # Multi-head Latent Attention (DeepSeek-V2 report sec. 2.1): the query latent, decoupled
    # RoPE dims and value width belong to a KV latent
    if a.kv_lora_rank == 0:
        for name in ("q_lora_rank", "rope_head_dim", "v_head_dim"):
            if getattr(a, name):
                return (name, "is given without kv_lora_rank",
                        "Multi-head Latent Attention's KV latent with it (--kv-lora-rank; "
                        "kv_lora_rank in a catalog file; 512 in DeepSeek-V3), or leave it out")
    else:  # a latent needs its decoupled RoPE keys and its value width (DeepSeek-V2 sec. 2.1)
        for name, what in (("rope_head_dim", "the decoupled RoPE key width (64 in DeepSeek-V3)"),
                           ("v_head_dim", "the value head width (128 in DeepSeek-V3)")):
            if not getattr(a, name):
                return (name, "is missing with kv_lora_rank",
                        f"{what} with Multi-head Latent Attention's KV latent")
    moe = ("top_k", "expert_ffn", "shared_experts", "dense_layers")
    if a.experts > 0:
        if not 1 <= a.top_k <= a.experts:
            return ("top_k", "is missing" if not a.top_k else
                    f"is not between 1 and the {a.experts} experts",
                    f"the experts each token is routed to, 1 to {a.experts}")
        if a.expert_ffn < 1:
            return "expert_ffn", "is missing", "the FFN width of one expert (>= 1)"
        if a.ffn_type != "gated":  # each expert is counted, and timed, as three matrices
            return ("ffn_type", "does not go with experts",
                    "gated with experts: the planner counts and times each expert as a gated "
                    "(SwiGLU) FFN of three matrices, as Mixtral, DeepSeek and Qwen's are")
        if a.dense_layers >= a.layers:
            return ("dense_layers", f"leaves none of the {a.layers} layers to the experts",
                    f"fewer dense layers than layers ({a.layers})")
        if a.dense_layers and a.ffn < 1:
            return ("ffn", f"is missing for the {a.dense_layers} dense layers",
                    "the FFN width of the dense layers (>= 1)")
        return None
    for name in moe:
        if getattr(a, name):
            return (name, "is given without experts",
                    "a mixture of experts (experts > 0), or leave it out")
    if a.ffn < 1:
        return "ffn", "is missing for a dense model", "the FFN width (>= 1)"
    return None


@dataclass(frozen=True)
class Reference:
    """A published figure a workload is checked against (a [[reference]] of a workload file)."""

    row_id: str
    kind: str  # "throughput" or "whole_run"
    source: str
    as_of: str
    accelerator: str | None = None
    gpus: int | None = None
    layout: str | None = None
    seq_len: int | None = None
    global_batch_tokens: float | None = None
    tokens: float | None = None
    precision: str | None = None
    flop_convention: str | None = None
    tflops_per_gpu: float | None = None
    mfu_pct: float | None = None
    hfu_pct: float | None = None
    gpu_hours: float | None = None
    training_days: float | None = None
    energy_mwh: float | None = None
    cost_usd: float | None = None
    framework: str | None = None  # a key of frameworks.FRAMEWORKS ("megatron", ...)
    network: str | None = None  # the scale-out network the run used, when not the default
    stages: tuple = ()  # whole runs in stages: ({tokens, gpus, seq_len, ...}, ...)
    assumptions: dict | None = None  # published facts about the run's software, by name
    flash_attention: bool | None = None  # the run's attention kernel, when it differs from now
    dropout: bool | None = None
    # Why the published figure cannot test the planner (e.g. derived from an assumed device
    # count and throughput, so circular): the row is still predicted and shown, never scored.
    unscored: str | None = None
    note: str | None = None
    # --- provenance of a published measurement (workloads/measurements/*.toml) -----------
    workload: str | None = None  # the workload's key (a measurement file names it per row)
    tokens_per_s_per_gpu: float | None = None  # published tokens per second per device
    source_url: str | None = None
    quote: str | None = None  # the figure as the source prints it (table cell or phrase)
    confidence: str | None = None  # P primary, S secondary, D derived (REFERENCE_CONFIDENCE)
    derived: bool | None = None  # a figure of the row was derived by arithmetic (see note)
    stack: str | None = None  # the software stack as the source names it
    team: str | None = None  # who ran it (TEAMS)

    def __post_init__(self):
        _freeze(self)


# Grades of a reference row's figures: read in the primary source (P, or V as the hardware
# catalog writes it), a secondary source quoting it (S), derived by arithmetic (D), unverified
# (U).
REFERENCE_CONFIDENCE = ("P", "V", "S", "D", "U")
# The kinds of team a run is published by; the realisation model (planner/model/realisation.py)
# takes one as a planning-time input (--team).
TEAMS = ("frontier lab", "company", "open-model group", "academic", "national cluster")


def team_of(text) -> str | None:
    """The kind of team ``text`` names, in TEAMS' spelling, or None: case, and hyphens,
    underscores or spaces between the words, are free (``frontier-lab``, ``Open_Model_Group``),
    so a command line need not quote a space."""
    words = re.sub(r"[\s_-]+", " ", str(text)).strip().lower()
    return next((t for t in TEAMS if t.replace("-", " ") == words), None)


@dataclass(frozen=True)
class Measurements:
    """One public source's published measurements (a file of workloads/measurements/): its
    rows, each naming the workload it ran."""

    key: str
    name: str
    references: tuple[Reference, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class Workload:
    """A model to train: its architecture, tokens, sequence, batch and precision."""

    key: str
    name: str
    architecture: Architecture | None  # None: shape unpublished, only `published_params`
    tokens: float
    seq_len: int = 8192
    global_batch_tokens: float = 16 * 2**20
    precision: str = "bf16"
    published_params: float | None = None
    published_active_params: float | None = None  # [training] active_params, when given
    published_ffn_type: str = "gated"  # the FFN of a shape known by its parameter count only
    # (experts, top_k, shared_experts) of a mixture of experts known by its count only
    published_experts: tuple[int, int, int] = (0, 0, 0)
    references: tuple[Reference, ...] = ()
    family: str = ""
    figures: Mapping[str, Figure] = field(default_factory=dict, repr=False, compare=False)
    # (key, value, why) of the shape a file left to its default (kv_heads: every head its own)
    defaulted: tuple = ()

    def __post_init__(self):
        _freeze(self)

    def with_(self, **changes) -> "Workload":
        return replace(self, **changes)


@dataclass(frozen=True)
class Layout:
    """How one training job is split over devices (Megatron-LM naming)."""

    tp: int = 1
    pp: int = 1
    dp: int = 1
    cp: int = 1
    ep: int = 1
    microbatch: int = 1
    virtual_stages: int = 1
    recompute: str = "none"
    zero: int = 1

    @property
    def devices(self) -> int:
        return self.tp * self.pp * self.dp * self.cp

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def __str__(self) -> str:
        return (f"tp={self.tp},pp={self.pp},dp={self.dp},cp={self.cp},ep={self.ep},"
                f"mb={self.microbatch},vp={self.virtual_stages},recompute={self.recompute},"
                f"zero={self.zero}")


def mfu_key(precision: str, moe: bool) -> str:
    """A plan's or a published row's key in planner/model/published_mfu.py: its precision, with
    " moe" for a mixture of experts (whose all-to-all and narrow GEMMs hold its MFU lower);
    fp16 is bf16's key, running at its peak (Accelerator.peak)."""
    precision = "bf16" if str(precision).strip().lower() == "fp16" else precision
    return precision + (" moe" if moe else "")


def parse_layout(text: str | dict | None) -> dict:
    """'tp=8,pp=16,recompute=full' -> {'tp': 8, 'pp': 16, 'recompute': 'full'} (strict: an
    unknown or repeated part is an error, and so is a text of no part: None is no layout)."""
    if text is None:
        return {}
    if isinstance(text, dict):
        items = list(text.items())
    else:
        items = []
        for part in str(text).split(","):
            if not part.strip():
                continue
            if "=" not in part:
                raise LayoutError(f"'{part.strip()}' is not NAME=VALUE")
            k, v = part.split("=", 1)
            items.append((k.strip().lower(), v.strip()))
        if not items:  # "" had read as no layout given, every layout searched
            raise LayoutError("the layout is empty: give the parts to fix (tp=8,pp=16), or "
                              "leave it out to search every layout")
    out: dict = {}
    for k, v in items:
        k = str(k).strip().lower()  # a table's keys as a text's ('TP' in {TP = 8})
        k = LAYOUT_ALIASES.get(k, k)
        if k not in LAYOUT_FIELDS:
            raise LayoutError(f"unknown layout part '{k}' (the parts: tp, pp, dp, cp, ep, mb, "
                              "vp, recompute, zero)")
        if k in out:
            raise LayoutError(f"{k} is given twice; give each part once")
        if k == "recompute":  # in any case, as the parts' names are ('recompute=FULL')
            word = str(v).strip().lower()
            if word not in RECOMPUTE:
                raise LayoutError("recompute must be none, selective, full or full on a share "
                                  "of the blocks (full:0.25, full:0.5, full:0.75), "
                                  f"got '{v}'")
            out[k] = word
            continue
        # ASCII digits alone: int() reads other scripts' digits ('８') and underscores too
        if isinstance(v, bool) or not re.fullmatch(r"[+-]?[0-9]+", str(v).strip(), re.ASCII):
            raise LayoutError(f"{k} must be a whole number, got '{v}'")
        iv = int(str(v))
        if k == "zero" and iv not in (0, 1, 2, 3):
            raise LayoutError(f"zero must be 0, 1, 2 or 3, got '{v}'")
        if k != "zero" and iv < 1:
            raise LayoutError(f"{k} must be at least 1, got '{v}'")
        out[k] = iv
    return out


def devices_laid_out(fixed: dict) -> int | None:
    """tp x pp x dp x cp, the devices a layout spans, when it gives all four; else None."""
    if not all(k in fixed for k in ("tp", "pp", "dp", "cp")):
        return None
    return fixed["tp"] * fixed["pp"] * fixed["dp"] * fixed["cp"]
