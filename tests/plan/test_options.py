"""plan/options.py: the candidate sizes of a plan and the searches they share.

Covers ladder() (quarter-octave sizes 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, ... within bounds), that a
sized plan's option table holds the smallest cluster meeting the deadline to the unit (the size
one unit smaller, planned on its own with --gpus, misses it), merge() (one row per accelerator
and size, the first kept), and shared_searches() (a second identical estimate inside one block
adds nothing to the memo; a memo carries across blocks).
"""

import numpy as np
import pytest

import planner
from planner.model.layouts import LAYOUT_FIELDS
from planner.model.search import FIGURES, FITS, NO_FIT, Best
from planner.plan.options import Options, ladder, merge, shared_memo, shared_searches

# --- ladder ------------------------------------------------------------------------------------


def test_ladder_values():
    assert ladder(1, 40) == [1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40]
    assert ladder(1, 1) == [1]
    assert ladder(64, 160) == [64, 80, 96, 112, 128, 160]


def test_ladder_bounds_are_inclusive_and_empty_when_nothing_fits():
    assert ladder(3, 9) == [3, 4, 5, 6, 7, 8]
    assert ladder(10, 10) == [10]
    assert ladder(9, 9) == [] and ladder(11, 11) == []  # not quarter-octave sizes
    assert ladder(5, 4) == []
    assert ladder(1, 0) == []


def test_ladder_has_four_sizes_per_octave():
    ks = ladder(1, 2**20)
    assert ks == sorted(set(ks))
    for a in range(2, 20):  # each octave [2^a, 2^(a+1)) holds 1, 1.25, 1.5, 1.75 x 2^a
        assert [k for k in ks if 2**a <= k < 2**(a + 1)] == [m * 2**a // 4
                                                             for m in (4, 5, 6, 7)]
    assert max(b / a for a, b in zip(ks[3:], ks[4:])) == 1.25


# --- the smallest size meeting the deadline, to the unit --------------------------------------

# the ideal run (realisation off): the sizing's logic, not the realisation, is under test
SMALL = dict(params="7B", tokens="300B", assumptions={"realisation": False})


@pytest.mark.parametrize("deadline", ["2d", "20d"])
def test_sized_plan_finds_the_smallest_size_meeting_the_deadline(deadline):
    days = float(deadline[:-1])
    plan = planner.estimate(**SMALL, deadline=deadline)
    assert plan.feasible and plan.training_days <= days
    o = plan.sizing["options"]
    meeting = [g for g, d in zip(o["gpus"], o["training_days"]) if d is not None and d <= days]
    smallest = min(meeting)
    unit = 8  # h100-sxm grows in NVLink domains of 8
    # (small clusters, 2 and 20 units: the deadline's bracket is narrowed to a single unit)
    assert smallest % unit == 0 and smallest > unit
    # the size one unit smaller is in the table and misses the deadline ...
    below = smallest - unit
    assert below in o["gpus"]
    assert o["training_days"][o["gpus"].index(below)] > days
    # ... and planned on its own it misses the deadline too
    alone = planner.estimate(**SMALL, gpus=below, deadline=deadline)
    assert alone.training_days > days
    assert not alone.feasible and alone.binding == "deadline"
    # the table's figures are those of the size planned alone
    at = planner.estimate(**SMALL, gpus=smallest)
    assert o["training_days"][o["gpus"].index(smallest)] == pytest.approx(at.training_days,
                                                                          rel=1e-12)
    assert alone.training_days == pytest.approx(o["training_days"][o["gpus"].index(below)],
                                                rel=1e-12)
    # the plan is the cheapest of the sizes meeting it (near the deadline cost barely moves
    # with size; a size whose layout runs a little better can be the cheaper one)
    cost = {g: c for g, d, c in zip(o["gpus"], o["training_days"], o["cost_usd"])
            if d is not None and d <= days}
    assert plan.cluster["gpus"] == min(cost, key=cost.get)


# --- merge -------------------------------------------------------------------------------------

def _options(side, gpus, tag) -> Options:
    n = len(gpus)
    state = np.array([FITS if g % 16 else NO_FIT for g in gpus], np.int8)
    figures = np.full((n, len(FIGURES)), float(tag))
    layouts = np.tile(np.arange(len(LAYOUT_FIELDS)), (n, 1)) + tag
    best = Best(state, figures, layouts, np.full(n, float(tag)), np.full(n, tag), {})
    cols = {"tag": np.full(n, float(tag)), "gpus_col": np.array(gpus, dtype=float)}
    return Options(["side0", "side1"], np.array(side, np.int64), np.array(gpus, np.int64),
                   best, cols, (("tp", 8),), False)


def test_merge_keeps_one_row_per_accelerator_and_size():
    a = _options([0, 0, 1], [8, 16, 8], tag=1)
    b = _options([0, 1, 1], [16, 8, 24], tag=2)
    m = merge(a, b)
    assert list(zip(m.side.tolist(), m.gpus.tolist())) == [(0, 8), (0, 16), (1, 8), (1, 24)]
    # a size in both keeps the first set's row, whole: figures, layout, state, columns
    assert m.cols["tag"].tolist() == [1.0, 1.0, 1.0, 2.0]
    assert m.cols["gpus_col"].tolist() == [8.0, 16.0, 8.0, 24.0]
    assert m.best.state.tolist() == [FITS, NO_FIT, FITS, FITS]
    assert m.best.figures[:, 0].tolist() == [1.0, 1.0, 1.0, 2.0]
    assert m.best.layouts[3].tolist() == (np.arange(len(LAYOUT_FIELDS)) + 2).tolist()
    assert m.sides == ["side0", "side1"] and m.fixed == (("tp", 8),) and m.allow_tp is False


def test_merge_orders_by_accelerator_then_size():
    m = merge(_options([1, 0], [64, 32], 1), _options([0, 1, 0], [8, 8, 32], 2))
    assert list(zip(m.side.tolist(), m.gpus.tolist())) == [(0, 8), (0, 32), (1, 8), (1, 64)]
    assert m.cols["tag"].tolist() == [2.0, 1.0, 2.0, 1.0]
    assert len(m.best.state) == len(m.gpus) == 4


# --- shared searches ---------------------------------------------------------------------------

def test_shared_searches_reuse_within_a_block():
    assert shared_memo() is None
    with shared_searches():
        memo = shared_memo()
        assert memo == {}
        first = planner.estimate(**SMALL, gpus=64)
        n = len(memo)
        assert n > 0 and all(k[0] in ("best", "search") for k in memo)
        again = planner.estimate(**SMALL, gpus=64)
        assert len(memo) == n  # nothing new scored
        assert again.to_dict() == first.to_dict()
        planner.estimate(**SMALL, gpus=128)  # a new size is scored once
        assert len(memo) > n
        with shared_searches():  # an inner block keeps the enclosing memo
            assert shared_memo() is memo
    assert shared_memo() is None


def test_a_memo_carries_across_blocks():
    memo: dict = {}
    with shared_searches(memo):
        planner.estimate(**SMALL, deadline="20d")
    n = len(memo)
    assert n > 0
    with shared_searches(memo):
        assert shared_memo() is memo
        planner.estimate(**SMALL, deadline="20d")
    assert len(memo) == n
