"""The calibration's machinery (planner/calibrate.py, planner/workers.py): scoring each point
of the constants once and spreading the held-out folds over worker processes change no
figure, only how long ``planner validate`` takes."""

import numpy as np
import pytest

import planner
from planner import calibrate, validate, workers


@pytest.fixture(scope="module")
def cases():
    # a few throughput rows from three sources, planned as validate plans them
    cat = planner.catalog()
    out, sources = [], {}
    for w, ref, usable, source in validate.throughput_rows(cat):
        pub = validate.published(cat, w, ref)
        if (not usable or pub is None or ref.unscored or validate.unshaped(w) is not None
                or sources.get(source, 0) >= 2 or (len(sources) >= 3 and source not in sources)):
            continue
        case = calibrate.prepare_case(cat, w, ref, source, cat.accelerator(ref.accelerator).family,
                                      validate.published_tokens_per_s(cat, w, ref))
        if case is not None:
            out.append(case)
            sources[source] = sources.get(source, 0) + 1
    assert len(sources) == 3 and len(out) == 6
    return out


def test_a_point_scored_before_is_not_scored_again_and_reads_the_same(cases, monkeypatch):
    scorer = calibrate.Scorer(cases)
    grid = calibrate.CALIBRATED["gemm_efficiency"]
    walked = scorer.at(calibrate.shipped(), "gemm_efficiency", grid)
    assert walked.shape == (len(grid), len(cases)) and np.isfinite(walked).all()
    # each point alone, on a scorer that has seen nothing, reads the same tokens/s
    fresh = calibrate.Scorer(cases)
    for value, row in zip(grid, walked):
        alone = fresh.at(dict(calibrate.shipped(), gemm_efficiency=float(value)))
        np.testing.assert_array_equal(alone[0], row)
    # a higher GEMM efficiency never slows a row
    assert (np.diff(walked, axis=0) >= 0).all()
    # the shipped point is on the walked grid: asked again, nothing is scored
    calls = []
    real = calibrate._score
    monkeypatch.setattr(calibrate, "_score", lambda *a: calls.append(1) or real(*a))
    again = scorer.at(calibrate.shipped())
    assert not calls
    np.testing.assert_array_equal(again[0], walked[list(grid).index(
        calibrate.shipped()["gemm_efficiency"])])


def test_folds_in_workers_fit_as_the_folds_here(cases, monkeypatch):
    starts = [calibrate.shipped()]
    spread = calibrate.leave_groups_out(calibrate.Scorer(cases), ("source", "family"), starts)
    monkeypatch.setattr(calibrate, "forked_map", lambda fn, args, done=None: None)
    here = calibrate.leave_groups_out(calibrate.Scorer(cases), ("source", "family"), starts)
    for by in ("source", "family"):
        np.testing.assert_array_equal(spread[by][0], here[by][0])
        assert spread[by][1] == here[by][1]
        assert np.isfinite(here[by][0]).all()
    assert set(here["source"][1]) == {c.source for c in cases}
    # one grouping asked alone is the same fit
    alone = calibrate.leave_one_group_out(calibrate.Scorer(cases), "source", starts)
    np.testing.assert_array_equal(alone[0], here["source"][0])


def _square(x):
    return x * x


def _refuse(x):
    if x == 3:
        raise RuntimeError(f"call {x} refused")
    return x


def test_forked_map_keeps_the_order_and_counts_each_answer():
    done = []
    got = workers.forked_map(_square, list(range(7)), lambda: done.append(1))
    if got is None:  # one core: the caller answers itself
        pytest.skip("this machine gives no worker processes")
    assert got == [x * x for x in range(7)] and len(done) == 7
    assert workers.forked_map(_square, [3]) is None  # one call: no pool for it
    # a call's own error is raised, not taken for a pool that could not start (which would
    # have answered every call again in this process before the same error)
    with pytest.raises(RuntimeError, match="call 3 refused"):
        workers.forked_map(_refuse, list(range(6)))


def test_a_stacks_profile_is_built_for_the_names_given_not_only_the_values():
    # the profile cache (frameworks._profiled) is keyed on the assumptions and their given
    # names: equal values with tp_comm_overlap given keep the caller's figure, without it the
    # stack's profile applies; a cache keyed on the values alone would hand one the other's
    from planner.assumptions import DEFAULT
    from planner.frameworks import FRAMEWORKS, for_framework

    stack = next(k for k, v in FRAMEWORKS.items() if "tp_comm_overlap" in v
                 and v["tp_comm_overlap"] != DEFAULT.tp_comm_overlap)
    given = DEFAULT.with_(tp_comm_overlap=DEFAULT.tp_comm_overlap)
    assert given == DEFAULT and "tp_comm_overlap" in given.given
    plain = for_framework(DEFAULT, stack)
    mine = for_framework(given, stack)
    assert plain.tp_comm_overlap != DEFAULT.tp_comm_overlap
    assert mine.tp_comm_overlap == DEFAULT.tp_comm_overlap and "tp_comm_overlap" in mine.given
    assert for_framework(DEFAULT, stack) is plain  # built once
