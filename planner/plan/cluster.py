"""The cluster a plan runs on: the accelerator, its networks and site, the step model's view of
them (``Hardware``), the unit clusters grow in, and the run model's inputs (prices, PUE, power,
checkpoint time, carbon), each taken by one rule and reported with its source."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from ..assumptions import DEFAULT, Assumptions
from ..catalog import Catalog
from ..errors import InputError
from ..model import power as power_model
from ..model import reliability
from ..model.architecture import param_counts
from ..model.step import Hardware
from ..specs import Accelerator, Network, Site, Workload


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


def networks(cat: Catalog, acc: Accelerator, network: str | None):
    """(scale-up, scale-out) networks of an accelerator; ``network`` replaces its scale-out.
    A network the accelerator's own file names but the catalog lacks is that file's error,
    not the user's --network."""
    if network is not None and not str(network).strip():
        raise InputError("--network", network, "a scale-out network key (planner hardware "
                         "list)", "is empty")
    up = cat.own_network(acc, "scale_up_network")
    out = (scale_out_network(cat, network) if network is not None
           else cat.own_network(acc, "scale_out_network"))
    if out is not None and network and not out.serves(acc):
        # a fabric another vendor's devices alone attach to (TPU DCN, AWS EFA, InfiniBand
        # HCAs in GPU servers): the network file's accelerator_vendors, with its source
        raise InputError("--network", network, f"a scale-out network {acc.key} attaches to: "
                         + cat.fabrics_for(acc),
                         f"serves {', '.join(out.accelerator_vendors)} accelerators only, "
                         f"not {acc.vendor}'s {acc.key} (--gpu)")
    own = cat.own_network(acc, "scale_out_network") if network is not None else None
    if (own is not None and out is not None and out.key != own.key
            and not out.device_bytes_per_s and out.link_bytes_per_s and own.link_bytes_per_s
            and acc.scale_out_bytes_per_s):
        # another fabric: the device keeps the NICs its design gives it (its scale-out over
        # its own network's link rate, H100: one 400G port each, DGX H100), each at the new
        # fabric's link rate, at most the device's own figure (a faster fabric does not
        # widen the NIC: ConnectX-7 on XDR still moves 400G)
        ports = max(1, round(acc.scale_out_bytes_per_s / own.link_bytes_per_s))
        out = replace(out, device_bytes_per_s=min(acc.scale_out_bytes_per_s,
                                                  ports * out.link_bytes_per_s))
    return up, out


def scale_out_network(cat: Catalog, network: str) -> Network:
    """The network ``--network`` names, which replaces an accelerator's scale-out fabric: a
    scale-up one (NVLink) is refused, whichever the accelerator (``planner config show``
    refuses a file's the same way)."""
    out = cat.network(network)
    if out.tier != "scale_out":
        raise InputError("--network", network, "a scale-out network: " + ", ".join(
            n.key for n in cat.all("networks") if n.tier == "scale_out"))
    return out


def note_user_files(cat: Catalog, used: dict, items) -> None:
    """Report in ``used`` each (kind, key, role) of ``items`` whose file a user catalog gives
    (--catalog, PLANNER_CATALOG), replacing a shipped one or added: a plan on a changed b200
    must not read as one on the shipped b200 (a replaced site is reported the same way)."""
    for kind, key, role in items:
        if key is None or not cat.from_user(kind, key):
            continue
        replaced = key in Catalog().files(kind)
        used[f"catalog_{role}"] = {"value": key, "source": (
            f"{cat.path(kind, key)}, a user catalog's file"
            + (" in place of the shipped one" if replaced else ""))}


def peak_names(acc: Accelerator) -> list[str]:
    """The precisions ``acc`` has a peak for, as it runs them: a device without BF16 (V100)
    holds its FP16 peak under "bf16"."""
    return sorted("fp16 (bf16 runs as FP16)" if k == "bf16" and not acc.bf16 else k
                  for k in acc.peak_flops)


def hardware_for(acc: Accelerator, up: Network | None, out: Network | None, precision: str,
                 asm: Assumptions, used: dict) -> Hardware:
    """The step model's view of a cluster: peaks at the precision, links after their
    achievable fraction of line rate."""
    try:
        peak = acc.peak(precision)
    except KeyError:
        raise InputError("--precision", precision, f"a precision {acc.key} has a peak for ("
                         + ", ".join(peak_names(acc)) + f"), or a --gpu with a "
                         f"{precision} peak", f"has no peak on {acc.key} (--gpu)") from None
    key = "bf16" if precision == "fp16" else precision
    if precision == "bf16" and not acc.bf16:  # the same peak, under its own name
        used["precision_run"] = {"value": "fp16", "source": (
            f"{acc.key} has no BF16: a bf16 plan runs FP16 mixed precision (with loss "
            "scaling) at the FP16 tensor-core peak, the one its catalog file gives")}
    if precision == "fp16" and not acc.fp16:  # the same peak; the plan says what runs
        used["precision_run"] = {"value": "bf16", "source": (
            f"{acc.key}'s matrix units multiply in BF16 (its catalog file: fp16 = false): an "
            "fp16 plan's matmuls run BF16 at the BF16 peak")}
    if precision == "fp4":  # what an FP4 plan leaves out, said where its figures are read
        used["fp4_gemms"] = {"value": "every layer's GEMMs at the FP4 ceiling", "source": (
            "an upper bound: the output head runs BF16, as published recipes run it, but the "
            "quantisation work of NVIDIA's NVFP4 recipe (Transformer Engine NVFP4BlockScaling: "
            "Hadamard transforms, 2D weight scaling, stochastic rounding) is not modelled; "
            "Megatron-Bridge publishes Llama 3.1 405B on 256 GB300 at 1,413 tokens/s per GPU "
            "in NVFP4 (26.06) against this model's 1,612 (+14%), while its FP8 rows agree "
            "(docs/validation.md)")}
    frac = acc.matmul_fraction.get(key)
    if frac is None and acc.matmul_fraction.get("bf16", 1.0) < asm.matmul_fraction_default:
        # no ceiling measured at this precision: at most the device's own bf16 ceiling, since
        # measured FP8 ceilings sit 1-9% below bf16's on the same device (B200 0.763 vs
        # 0.776, H100 0.734 vs 0.802: stas00 ml-engineering MAMF table), so an FP8 plan never
        # gains more than its peaks' ratio (MI325X ran 2.09x its bf16 plan on a 2x peak, its
        # bf16 at the measured 0.60 and FP8 at the generic 0.80)
        frac = acc.matmul_fraction["bf16"]
        used["matmul_fraction"] = {"value": frac, "source": (
            f"{acc.key}'s measured bf16 matmul ceiling, below the generic default (none "
            f"measured at {precision}; measured FP8 ceilings sit below bf16's)")}
    elif frac is None:
        frac = asm.matmul_fraction_default
        used["matmul_fraction"] = {"value": frac, "source": asm.source("matmul_fraction_default")}
    def figure(net, field: str, default: str, tier: str):
        """A network's figure, else the default, reported in ``used`` as the plan's."""
        value = getattr(net, field) if net is not None else None
        if value:
            return value
        used[f"{tier}_{default}"] = {"value": getattr(asm, default), "source": (
            f"{tier.replace('_', '-')} network {net.key if net else '(none)'} gives no "
            f"{field}: " + asm.source(default))}
        return getattr(asm, default)

    up_frac = figure(up, "achievable_fraction", "link_fraction_default", "scale_up")
    out_frac = figure(out, "achievable_fraction", "link_fraction_default", "scale_out")
    up_lat = figure(up, "hop_latency_s", "link_latency_default_s", "scale_up")
    out_lat = figure(out, "hop_latency_s", "link_latency_default_s", "scale_out")
    radix = int(figure(out, "switch_radix", "switch_radix_default", "scale_out"))
    # a fabric built with its own per-device bandwidth (a cloud instance type) overrides the
    # accelerator's reference design
    out_bw = (out.device_bytes_per_s if out and out.device_bytes_per_s
              else acc.scale_out_bytes_per_s)
    if not out_bw:  # said, not left to read as a deadline missed or a model too large
        used["scale_out_gb_per_s"] = {"value": "unknown", "source": (
            f"neither {acc.key}'s file (scale_out_gb_per_s) nor a network names its scale-out "
            "bandwidth, so a run stays inside one scale-up domain; add a sourced figure with "
            "--catalog (docs/catalog.md)")}
    elif out is not None and out.device_bytes_per_s and out_bw != acc.scale_out_bytes_per_s:
        used["scale_out_gb_per_s"] = {"value": out_bw / 1e9, "source": (
            f"network {out.key}: its per-device bandwidth (device_gb_per_s), or {acc.key}'s "
            f"ports at its link rate, at most the device's own "
            f"{(acc.scale_out_bytes_per_s or 0) / 1e9:g} GB/s (docs/catalog.md)")}
    bf16 = acc.peak("bf16") * acc.matmul_fraction.get("bf16", asm.matmul_fraction_default) \
        * asm.gemm_efficiency
    # FlashAttention-2 predates the asynchronous tensor cores of Hopper and later NVIDIA GPUs
    # (the ones with FP8 tensor cores), where it reaches a fraction of a tuned kernel's rate
    # (Shah et al. 2024, FlashAttention-3, abstract: 35% vs 75% of H100 peak).
    newer = acc.vendor == "NVIDIA" and "fp8" in acc.peak_flops
    attention = bf16 * (asm.fa2_hopper_ratio if asm.flash_attention_2 and newer else 1.0)
    return Hardware(peak_flops=peak, matmul_fraction=frac * asm.gemm_efficiency,
                    attention_flops=attention,
                    hbm_bytes=acc.hbm_bytes, hbm_bytes_per_s=acc.hbm_bytes_per_s,
                    scale_up_bytes_per_s=acc.scale_up_bytes_per_s * up_frac,
                    scale_up_latency_s=up_lat, scale_up_domain=acc.scale_up_domain,
                    devices_per_node=acc.devices_per_node,
                    scale_out_bytes_per_s=out_bw * out_frac if out_bw else math.nan,
                    scale_out_latency_s=out_lat, switch_radix=radix,
                    quantized_bytes=quantized_bytes(precision),
                    # the output head runs BF16 under an FP8 or FP4 recipe (step.Hardware)
                    output_flops=bf16 if precision in ("fp8", "fp4") else 0.0)


def quantized_bytes(precision: str) -> float:
    """Bytes per element of the activations an FP8 recipe keeps in FP8: the inputs of linear
    layers saved for their backward GEMMs and the MoE tokens a dispatcher sends (Megatron-Core
    MoE README, FP8 training: "Stores linear layer inputs in FP8 instead of BF16",
    "Dispatches tokens in FP8 instead of BF16"; DeepSeek-V3 report sec. 3.3.3). FP4 recipes
    keep them in FP8 too as far as published (DeepEP dispatches FP8 or BF16, README); BF16
    otherwise."""
    return 1.0 if precision in ("fp8", "fp4") else 2.0


_ACCEPT_UNIT = ("auto (the system's unit), device (rented by the device), node, rack or "
                "scalable-unit")
# The largest scale-up domain sold as one rack: GB200 NVL72, 72 GPUs on one NVLink fabric
# (NVIDIA DGX SuperPOD GB200 reference architecture, Key Components).
RACK_DOMAIN_MAX = 72


def purchase_unit(acc: Accelerator, unit: str = "auto") -> tuple[int, str]:
    """(devices, name) of the unit a cluster of ``acc`` is bought or rented in.

    "auto": a scale-up domain that fits in a rack is the unit (an HGX/DGX node of 8, an
    NVL72 rack of 72, a Trainium instance of 16), never less than a node (H100 PCIe pairs
    come in servers of 8); a larger domain is sliced by the rack (a TPU v4/v5p/v7 cube of
    4x4x4 = 64 chips, the block a multi-cube slice is built of: Jouppi et al. 2023, sec. 2),
    else by the host. "device", "node", "rack", "scalable-unit" ask for that unit; a rack or
    scalable unit the catalog lacks is an input error."""
    if unit == "device":
        return 1, "device"
    if unit == "node":
        return acc.devices_per_node, "node"
    if unit in ("rack", "scalable-unit"):
        n = acc.devices_per_rack if unit == "rack" else acc.devices_per_scalable_unit
        if not n:
            field = "devices_per_rack" if unit == "rack" else "devices_per_scalable_unit"
            # the units this accelerator has (the whole list had offered the one refused)
            known = ["auto (the system's unit)"] + [
                "device (rented by the device)" if u == "device" else u
                for u, _ in units_of(acc)]
            raise InputError("--unit", unit, f"for {acc.key}: " + ", ".join(known[:-1])
                             + f" or {known[-1]}",
                             f"is not known for {acc.key} (the catalog has no {field})")
        return n, unit
    if unit != "auto":
        raise InputError("--unit", unit, _ACCEPT_UNIT)
    rack = acc.devices_per_rack
    if acc.scale_up_domain <= (rack or RACK_DOMAIN_MAX):
        n = max(acc.scale_up_domain, acc.devices_per_node)
        return n, ("rack" if rack and n == rack and n > acc.devices_per_node else "node")
    if rack:
        return rack, "rack"
    return acc.devices_per_node, "node"


def units_of(acc: Accelerator) -> list[tuple[str, int]]:
    """(name, devices) of each unit ``acc`` is bought in that the catalog knows, as --unit
    names them: the device, the node, and the rack and scalable unit where its file gives
    them."""
    return [("device", 1), ("node", acc.devices_per_node)] + [
        (u, n) for u, n in (("rack", acc.devices_per_rack),
                            ("scalable-unit", acc.devices_per_scalable_unit)) if n]


def size_unit(acc: Accelerator) -> int:
    """The devices a cluster of ``acc`` grows by when nobody says otherwise (purchase_unit)."""
    return purchase_unit(acc)[0]


# --- the run model's inputs -------------------------------------------------------------------

def pue_of(site: Site | None, asm: Assumptions, given: float | None = None) -> tuple[float, str]:
    """(PUE, source): given (--pue), else the site's, else the default."""
    if given is not None:
        return given, "given (--pue)"
    if site and site.pue:
        return site.pue, f"site {site.key}"
    if site and site.peak_pue and asm.pue > site.peak_pue:
        # a site giving its design-day PUE alone: the annual average never exceeds it
        return site.peak_pue, (f"site {site.key}'s peak_pue (it gives no annual PUE, and the "
                               f"default {asm.pue:g} is above its peak)")
    return asm.pue, asm.source("pue")


def site_peak_pue(site: Site | None, asm: Assumptions) -> float | None:
    """The site's design-day PUE where a plan uses it; None without one, or where an assumed
    peak_pue_uplift replaces it, as an assumed PUE replaces the site's (--assume
    peak_pue_uplift=0.3 had been reported as given while the site's peak held)."""
    if site and site.peak_pue and "peak_pue_uplift" not in asm.given:
        return site.peak_pue
    return None


def peak_uplift_of(site: Site | None, asm: Assumptions) -> float:
    """The design-day uplift a given annual PUE takes: the site's own, its peak - the annual
    PUE a plan there uses without one (its own, or the default where it gives a peak alone), so
    that giving that PUE changes nothing; else asm.peak_pue_uplift; rounded to 1e-10 (1.15 -
    1.1 shows no float noise). A site with a peak of 1.4 and no annual PUE had taken the
    default uplift, so --pue 1.2, the PUE its plans already used, lowered its peak to 1.3."""
    peak = site_peak_pue(site, asm)
    if peak is not None:
        # from the default's annual PUE, not asm's: an assumed pue is a given PUE as --pue is
        # (the review: --assume pue=1.3 had read a 1.4 peak, --pue 1.3 a 1.5 one)
        return round(peak - pue_of(site, DEFAULT)[0], 10)
    return asm.peak_pue_uplift


def peak_pue_of(site: Site | None, asm: Assumptions,
                given: float | None = None) -> tuple[float, str]:
    """(peak PUE, source): the design-day PUE at full IT load that the power contract covers.
    The site's when its annual PUE is the one used; a given annual PUE plus peak_uplift_of;
    else (no site peak, or an assumed peak_pue_uplift) the PUE used + asm.peak_pue_uplift."""
    own_peak = site_peak_pue(site, asm)
    if given is None and own_peak is not None:
        return own_peak, f"site {site.key}"
    if given is not None and own_peak is not None:
        uplift = peak_uplift_of(site, asm)
        return round(given + uplift, 10), (
            f"PUE {given:g} + site {site.key}'s design-day uplift {uplift:g} (its peak "
            f"{site.peak_pue:g} - " + (f"its annual {site.pue:g})" if site.pue else
                                       "the annual PUE its plans use, "
                                       f"{pue_of(site, DEFAULT)[0]:g})"))
    pue, _ = pue_of(site, asm, given)
    uplift = peak_uplift_of(None, asm)
    # rounded to 1e-10 as a row's (many/): 1.3 + 0.1 shows no float noise
    return round(pue + uplift, 10), f"PUE {pue:g} + peak_pue_uplift {uplift:g}" + (
        f" (given, replacing site {site.key}'s peak_pue {site.peak_pue:g})"
        if site and site.peak_pue else "")


def cloud_price_of(acc: Accelerator, given: float | None = None) -> tuple[float, str]:
    """(USD per device-hour, source): given (--price-per-gpu-hour), else the catalog's rule
    (Accelerator.cloud_price), else unknown (nan)."""
    if given is not None:
        return given, "given (--price-per-gpu-hour)"
    name, fig = acc.cloud_price()
    if fig is None:
        return math.nan, f"unknown: {acc.key} has no cloud price in the catalog"
    return fig.value, fig.source


def energy_price_of(site: Site | None, asm: Assumptions,
                    given: float | None = None) -> tuple[float, str]:
    """(USD per kWh, source): given (--energy-usd-per-kwh), else the site's, else the default."""
    if given is not None:
        return given, "given (--energy-usd-per-kwh)"
    if site and site.energy_usd_per_kwh is not None:  # 0 is a price (free power), not unknown
        return site.energy_usd_per_kwh, f"site {site.key}"
    return asm.energy_usd_per_kwh, asm.source("energy_usd_per_kwh")


def server_quote_of(acc: Accelerator, asm: Assumptions) -> tuple[float | None, str]:
    """(USD per device, source) of the whole server the owned cost charges a device (the
    accelerator included): the catalog's server_usd_per_device, with its source and note; None
    where the catalog quotes none or an assumed server_overhead replaces the quote (the user's
    figure wins over the catalog's, as an assumed PUE over the site's: --assume
    server_overhead=2.0 had been reported as given while H100's $39,200 quote made the cost),
    the source then saying how the rest of the server is priced."""
    assumed = "server_overhead" in asm.given
    if acc.server_usd_per_device and not assumed:
        fig = acc.figures.get("server_usd_per_device")
        return acc.server_usd_per_device, (
            (fig.source + (f" ({fig.note})" if fig.note else "")) if fig else
            f"{acc.key}'s catalog file")
    rule = "the rest of the server is purchase_usd x (server_overhead - 1)"
    if assumed:
        return None, "given (--assume)" + (
            f", replacing {acc.key}'s server_usd_per_device "
            f"${acc.server_usd_per_device:,.0f}: " if acc.server_usd_per_device else ": ") + rule
    return None, (f"{acc.key} has no server_usd_per_device: {rule}; "
                  + asm.source("server_overhead"))


def grid_intensity_of(site: Site | None, asm: Assumptions) -> tuple[float, str]:
    """(kg CO2 per MWh, source) of the energy a plan draws: an assumed grid_kg_co2_per_mwh
    (the user's figure replaces the site's, as an assumed PUE does: it had been reported as
    given while the site's 366 kg/MWh made the CO2), else the site's, else the default
    (nan: unknown). 0 kg/MWh is a carbon-free supply, not unknown."""
    if "grid_kg_co2_per_mwh" in asm.given:
        return asm.grid_kg_co2_per_mwh, "given (--assume)"
    if site and site.grid_kg_co2_per_mwh is not None:
        return site.grid_kg_co2_per_mwh, f"site {site.key}"
    return asm.grid_kg_co2_per_mwh, asm.source("grid_kg_co2_per_mwh")


def storage_write_of(site: Site | None, asm: Assumptions) -> tuple[str, float, str]:
    """(name, bytes/s, source) of the bandwidth a checkpoint is written at: the site's storage
    figure, else checkpoint_write_gb_per_s (an assumed one drops the site's figure first:
    inputs.without_site_storage)."""
    if site and site.storage_write_bytes_per_s:
        return "storage_write_gb_per_s", site.storage_write_bytes_per_s, f"site {site.key}"
    return ("checkpoint_write_gb_per_s", asm.checkpoint_write_gb_per_s * 1e9,
            asm.source("checkpoint_write_gb_per_s"))


def checkpoint_s(w: Workload, site: Site | None, asm: Assumptions) -> float:
    """Blocking time of one checkpoint: the training state over the storage bandwidth
    (storage_write_of)."""
    return float(reliability.checkpoint_write_s(
        reliability.checkpoint_bytes(param_counts(w.architecture)[0], asm),
        storage_write_of(site, asm)[1]))


def run_inputs(w: Workload, acc: Accelerator, site: Site | None, asm: Assumptions,
               used: dict, price_per_gpu_hour: float | None = None, pue: float | None = None,
               energy_usd_per_kwh: float | None = None) -> dict:
    """The run model's inputs for a cluster (model.run.outcome's keywords), each reported in
    ``used`` with its source: prices, PUE, power per device, checkpoint time, carbon."""
    dev_w, power_basis = power_model.device_power_w(acc, asm)
    used["power_basis"] = {"value": power_basis, "source": "per-device server power"}
    pue_value, src = pue_of(site, asm, pue)
    used["pue"] = {"value": pue_value, "source": src}
    peak_value, src = peak_pue_of(site, asm, pue)
    used["peak_pue"] = {"value": peak_value, "source": src}
    rate, src = cloud_price_of(acc, price_per_gpu_hour)
    used["price_per_gpu_hour"] = {"value": rate, "source": src}
    price, src = energy_price_of(site, asm, energy_usd_per_kwh)
    used["energy_usd_per_kwh"] = {"value": price, "source": src}
    carbon, src = grid_intensity_of(site, asm)
    used.setdefault("grid_kg_co2_per_mwh", {"value": carbon, "source": src})  # given says so
    if acc.purchase_usd:
        # the price the owned cost and the up-front capex rest on, with its note: a device only
        # rented (TPU, Trainium) has a notional one, which the table had not said
        fig = acc.figures.get("purchase_usd")
        used["purchase_usd"] = {"value": acc.purchase_usd, "source": (
            (fig.source + (f" ({fig.note})" if fig.note else "")) if fig else
            f"{acc.key}'s catalog file")}
    server_usd, src = server_quote_of(acc, asm)
    if acc.purchase_usd and server_usd is not None:
        used["server_usd_per_device"] = {"value": server_usd, "source": src}
    elif acc.purchase_usd:
        # the owned cost's rest of the server, when no server quote is in the catalog or an
        # assumed server_overhead replaces it
        used["server_overhead"] = {"value": asm.server_overhead, "source": src}
    name, write_bw, src = storage_write_of(site, asm)  # what a checkpoint's write takes
    used.setdefault(name, {"value": write_bw / 1e9, "source": src})  # a given one says so
    if site is not None and site.capex_usd_per_mw:  # the facility's share of the owned cost
        used.setdefault("capex_usd_per_mw", {"value": site.capex_usd_per_mw,
                                             "source": f"site {site.key}"})
    return {"checkpoint_s": checkpoint_s(w, site, asm), "device_power_w": dev_w,
            "pue": pue_value, "peak_pue": peak_value, "cloud_usd_per_hour": rate,
            "energy_usd_per_kwh": price,
            "device_usd": acc.purchase_usd if acc.purchase_usd else math.nan,
            "server_usd_per_device": server_usd if server_usd is not None else math.nan,
            "capex_usd_per_mw": (site.capex_usd_per_mw if site and site.capex_usd_per_mw
                                 else math.nan),
            "grid_kg_co2_per_mwh": carbon}


def facility_w_per_device(acc: Accelerator, site: Site | None, asm: Assumptions,
                          given_pue: float | None = None) -> float:
    """Peak facility watts one device adds (server maximum, network share, peak PUE): a power
    cap's largest cluster is the cap over this."""
    dev_w, _ = power_model.device_power_w(acc, asm)
    it = power_model.it_peak_power_w(1, dev_w, asm)
    return float(power_model.facility_power_w(it, peak_pue_of(site, asm, given_pue)[0]))
