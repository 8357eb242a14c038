"""The cluster as a graph (model/topology.py): where a parallel group lands, closed form against
the networkx graph."""


import networkx as nx
import pytest

from planner.model.topology import build_graph, describe_layout, group_path, group_ranks, group_span


def test_group_span_closed_form():
    inner, outer = group_span(8, 1, 8)            # TP 8 on an 8-GPU NVLink domain
    assert (inner, outer) == (8, 1)
    inner, outer = group_span(16, 8, 8)           # DP 16 beside TP 8: one per domain
    assert (inner, outer) == (1, 16)
    inner, outer = group_span(8, 2, 8)            # DP 8 beside TP 2: 4 per domain, 2 domains
    assert (inner, outer) == (4, 2)
    inner, outer = group_span(8, 1, 72)           # NVL72 holds it
    assert (inner, outer) == (8, 1)


@pytest.mark.parametrize("sizes", [
    {"tp": 8, "cp": 1, "dp": 4, "pp": 2},
    {"tp": 2, "cp": 2, "dp": 4, "pp": 4},
    {"tp": 4, "cp": 1, "dp": 16, "pp": 1},
    {"tp": 1, "cp": 1, "dp": 8, "pp": 8},
])
def test_graph_agrees_with_closed_form(sizes):
    devices, domain, per_node, radix = 64, 8, 8, 8
    g = build_graph(devices, domain, per_node, radix)
    assert nx.is_connected(g)
    desc = describe_layout(devices, domain, per_node, radix, sizes)
    for group in ("tp", "cp", "dp", "pp"):
        d = desc[group]
        if d["size"] == 1 or d["fabric"] == "both":
            continue
        path = group_path(g, group_ranks(sizes, group, 0))
        assert path["links"] == [d["fabric"]], group
        if d["fabric"] == "scale_out":
            assert path["tiers"] == d["tiers"], group
