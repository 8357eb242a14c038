"""Alpha-beta collectives (model/collectives.py): closed forms worked by hand, latency and
bandwidth regimes, broadcasting."""


import numpy as np
import pytest

from planner.model import collectives as coll


def test_ring_all_reduce_closed_form():
    # 2(n-1)/n x B / bw + 2(n-1) alpha: 1 GB over 8 ranks at 100 GB/s, 10 us.
    t = coll.ring_all_reduce_s(1e9, 8, 100e9, 10e-6)
    assert t == pytest.approx(2 * 7 / 8 * 1e9 / 100e9 + 14 * 10e-6)


def test_collectives_of_one_cost_nothing():
    for f in (coll.ring_all_reduce_s, coll.reduce_scatter_s, coll.all_gather_s,
              coll.all_to_all_s, coll.tree_all_reduce_s, coll.all_reduce_s):
        assert f(1e9, 1, 1e9, 1e-5) == 0


def test_tree_beats_ring_on_latency_for_small_messages():
    ring = coll.ring_all_reduce_s(1e3, 1024, 50e9, 10e-6)
    tree = coll.tree_all_reduce_s(1e3, 1024, 50e9, 10e-6)
    assert tree < ring and coll.all_reduce_s(1e3, 1024, 50e9, 10e-6) == tree
    assert coll.all_reduce_s(1e10, 8, 50e9, 1e-6) == coll.ring_all_reduce_s(1e10, 8, 50e9, 1e-6)


def test_hierarchical_all_reduce_hand_worked():
    # 8 in a domain at 400 GB/s, 16 domains at 50 GB/s, no latency:
    # 2 x RS(7/8 x 1 GB / 400) + AR of 1/8 GB over 16 at 50 GB/s.
    t = coll.hierarchical_all_reduce_s(1e9, 8, 16, 400e9, 50e9, 0, 0)
    expected = 2 * (7 / 8 * 1e9 / 400e9) + 2 * 15 / 16 * (1e9 / 8) / 50e9
    assert t == pytest.approx(expected)


def test_all_to_all_and_p2p():
    assert coll.all_to_all_s(8e9, 8, 100e9, 0) == pytest.approx(7 / 8 * 8e9 / 100e9)
    assert coll.p2p_s(1e9, 50e9, 5e-6) == pytest.approx(0.02 + 5e-6)


def test_collectives_broadcast():
    n = np.array([1, 2, 8, 64])
    t = coll.ring_all_reduce_s(1e9, n, 50e9, 0.0)
    assert t.shape == (4,) and t[0] == 0 and np.all(np.diff(t) > 0)


def test_reduce_scatter_across_domains_is_one_flat_ring_in_latency():
    # 8 per domain, 16 domains, 1 GB: bandwidth as the hierarchy (7/8 GB in the domain at 400,
    # 15/16 of 1/8 GB across at 50), latency of one ring through all 128 ranks: 127 steps, of
    # which the 15 between domains pay the inter-domain latency and the 112 inside the
    # domain's own (NCCL's tuner, src/graph/tuning.cc: (nsteps - nInterSteps) x intraLat +
    # nInterSteps x interLat; every step had been charged the inter-domain latency, which
    # made 8B fully sharded over 8,192 GPUs 3.7x too slow), per message.
    bw = 7 / 8 * 1e9 / 400e9 + 15 / 16 * (1e9 / 8) / 50e9
    one = coll.hierarchical_reduce_scatter_s(1e9, 8, 16, 400e9, 50e9, 1e-6, 10e-6)
    assert one == pytest.approx(bw + 15 * 10e-6 + 112 * 1e-6)
    many = coll.hierarchical_reduce_scatter_s(1e9, 8, 16, 400e9, 50e9, 1e-6, 10e-6, 80.0)
    assert many - one == pytest.approx(79 * (15 * 10e-6 + 112 * 1e-6))
    # inside one domain the ring pays the domain's own latency
    inside = coll.hierarchical_reduce_scatter_s(1e9, 8, 1, 400e9, 50e9, 1e-6, 10e-6)
    assert inside == pytest.approx(7 / 8 * 1e9 / 400e9 + 7 * 1e-6)
    assert coll.hierarchical_reduce_scatter_s(1e9, 1, 1, 400e9, 50e9, 1e-6, 1e-5) == 0
