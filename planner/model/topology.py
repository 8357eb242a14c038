"""The cluster as a graph, and where a layout's groups land on it.

Devices sit in scale-up domains (NVLink 8, NVL72 racks, TPU slices); domains hang off a
rail-optimised fat tree (device i of every node on rail i; Al-Fares et al. SIGCOMM 2008 for the
k-ary fat tree: k/2 downlinks per leaf, k^2/2 endpoints in two tiers, k^3/4 in three).
Ranks are numbered with tensor parallelism innermost, then context, data (expert parallelism
inside data, as in Megatron-Core), then pipeline: the order is configurable.

Two views of the same placement: ``build_graph`` + ``group_path`` (networkx, for inspection
and tests on clusters of any shape) and ``group_span`` (closed form, numpy, what the step model
uses for a million layouts). A test checks that they agree.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # networkx is imported where a graph is built, not by every plan
    import networkx as nx

DEFAULT_ORDER = ("tp", "cp", "dp", "pp")


def group_stride(sizes: dict, group: str, order=DEFAULT_ORDER):
    """Rank distance between neighbours of a group: the product of the groups inside it.
    Expert parallelism is the innermost part of data parallelism (Megatron-Core)."""
    if group == "ep":
        group = "dp"
    stride = 1
    for name in order:
        if name == group:
            return stride
        stride = stride * sizes[name]
    raise ValueError(f"group must be one of {order} or 'ep', got {group!r}")


def group_span(n, stride, domain):
    """(members per scale-up domain, domains crossed) of a group of ``n`` ranks ``stride`` apart.

    Domains and strides are whole powers of two in practice; the formula assumes one divides
    the other. Members in one domain talk over the scale-up fabric, the rest over scale-out."""
    n = np.asarray(n, dtype=float)
    stride = np.asarray(stride, dtype=float)
    inner = np.clip(np.floor(np.asarray(domain, dtype=float) / stride), 1.0, n)
    outer = np.ceil(n / inner)
    return inner, outer


def fat_tree_tiers(span_devices, devices_per_node, radix, hop_ranks):
    """Switch tiers a group's scale-out traffic climbs on a rail-optimised fat tree of radix k
    (group aligned to its span): 1 when its hops stay on one rail (``hop_ranks`` a multiple of
    the node size) and its nodes share one rail leaf (k/2 nodes), 2 up to k^2/2 endpoints (one
    pod), else 3."""
    span_devices = np.asarray(span_devices, dtype=float)
    nodes = np.ceil(span_devices / devices_per_node)
    same_rail = np.mod(hop_ranks, devices_per_node) == 0
    return np.where(nodes <= 1, 0, np.where((nodes <= radix / 2) & same_rail, 1,
                    np.where(span_devices <= radix * radix / 2, 2, 3)))


def build_graph(devices: int, domain: int, devices_per_node: int, radix: int,
                scale_up_bytes_per_s: float = 1.0, scale_out_bytes_per_s: float = 1.0):
    """A networkx graph of the cluster: devices, one scale-up switch per domain, a rail leaf
    per (rail, group of k/2 nodes), spines per rail above them, one core above all."""
    import networkx as nx

    g = nx.Graph()
    nodes = math.ceil(devices / devices_per_node)
    leaf_nodes = max(1, radix // 2)
    pod_devices = max(radix * radix // 2, 1)
    for d in range(devices):
        g.add_node(("dev", d), kind="device")
        g.add_edge(("dev", d), ("up", d // domain), kind="scale_up", tier=0,
                   bw=scale_up_bytes_per_s)
        node, rail = divmod(d, devices_per_node)
        leaf = ("leaf", rail, node // leaf_nodes)
        g.add_edge(("dev", d), leaf, kind="scale_out", tier=1, bw=scale_out_bytes_per_s)
        spine = ("spine", d // pod_devices)
        g.add_edge(leaf, spine, kind="scale_out", tier=2, bw=scale_out_bytes_per_s)
        g.add_edge(spine, ("core",), kind="scale_out", tier=3, bw=scale_out_bytes_per_s)
    g.graph.update(devices=devices, domain=domain, devices_per_node=devices_per_node,
                   radix=radix, nodes=nodes)
    return g


def group_ranks(sizes: dict, group: str, first_rank: int = 0, order=DEFAULT_ORDER) -> list[int]:
    """The ranks of the group that contains ``first_rank`` (first_rank at its start)."""
    stride = group_stride(sizes, group, order)
    n = sizes["ep" if group == "ep" else group]
    return [first_rank + i * stride for i in range(n)]


def group_path(g: "nx.Graph", ranks: list[int]) -> dict:
    """Links a ring over ``ranks`` crosses: the fabric of each hop (scale-up when both ends
    share a domain, else the fat tree) and the highest tier climbed."""
    kinds, top_tier = set(), 0
    for a, b in zip(ranks, ranks[1:] + ranks[:1]):
        if a == b:
            continue
        if g.has_node(("up", a // g.graph["domain"])) and \
                a // g.graph["domain"] == b // g.graph["domain"]:
            kinds.add("scale_up")
            continue
        import networkx as nx

        sub = nx.subgraph_view(g, filter_edge=lambda u, v: g[u][v]["kind"] == "scale_out")
        path = nx.shortest_path(sub, ("dev", a), ("dev", b))
        kinds.add("scale_out")
        tier = max(g[u][v]["tier"] for u, v in zip(path, path[1:]))
        top_tier = max(top_tier, tier)
    return {"links": sorted(kinds), "tiers": top_tier}


def describe_layout(devices: int, domain: int, devices_per_node: int, radix: int,
                    sizes: dict, order=DEFAULT_ORDER) -> dict:
    """For each group of a layout: size, stride, members per domain, domains crossed, tiers."""
    out = {}
    for group in ("tp", "cp", "ep", "dp", "pp"):
        n = sizes.get(group, 1)
        stride = group_stride(sizes, group, order)
        inner, outer = group_span(n, stride, domain)
        fabric = "none" if n == 1 else ("scale_up" if outer == 1 else
                                        "scale_out" if inner == 1 else "both")
        out[group] = {"size": n, "stride": stride, "per_domain": int(inner),
                      "domains": int(outer), "fabric": fabric,
                      "tiers": int(fat_tree_tiers(n * stride, devices_per_node, radix,
                                                  stride * inner)) if outer > 1 else 0}
    return out
