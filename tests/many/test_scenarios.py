"""What many-scenario calls share (planner/many/scenarios.py): numbers() parses each distinct
value of a column as the input's parser would (plain numbers by its rule, text through it,
errors worded by it); group() numbers the combinations of coded columns in order of first
appearance; Rows.fail keeps the first error of a row; per_scenario calls once per distinct
scenario and fails only a failing scenario's rows; Context.once caches a user error as its
message."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import planner
from planner.errors import LayoutError
from planner.many.columns import Answers, code_values
from planner.many.scenarios import (
    ROW_QUANTITIES,
    Context,
    Rows,
    context,
    group,
    numbers,
    per_scenario,
)
from planner.plan.options import shared_memo
from planner.units import InputError, parse_count, parse_int_count, parse_money_usd


@pytest.fixture(scope="module")
def ctx():
    return context()


def _parsed(parser, flag, v):
    """(value, None) or (nan, message) as the parser itself answers."""
    try:
        return float(parser(v, flag)), None
    except InputError as exc:
        return math.nan, str(exc)


# --- numbers --------------------------------------------------------------------------------

TEXT = ["1T", "2.5B", "16K", "$5", "$1.2B", "90d", "150MW", "1.1", "0.08", "abc", "1,000", "",
        "-3", "nan", "inf", "0", "1e400", " 8 "]
values = st.lists(st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-2**60, max_value=2**60),
    st.sampled_from([0, 1, 2.5, 8, 1e12, 0.9, 1.0, 5.0, 5.5, 2.0**53, -0.0, 1e-320]),
    st.sampled_from(TEXT),
    st.booleans(),
), min_size=1, max_size=12)


@settings(max_examples=25, deadline=None)
@given(values, st.sampled_from(sorted(ROW_QUANTITIES)))
def test_numbers_answer_as_the_parser_would(vals, name):
    parser, flag, rule = ROW_QUANTITIES[name]
    parsed, errors = numbers(vals, parser, flag, rule)
    assert parsed.shape == (len(vals),)
    for j, v in enumerate(vals):
        want, message = _parsed(parser, flag, v)
        if message is None:
            assert j not in errors, (v, errors.get(j))
            assert parsed[j] == want, v
        else:
            assert errors[j] == message, v
            assert math.isnan(parsed[j]), v


@settings(max_examples=15, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=1,
                max_size=10), st.sampled_from(sorted(ROW_QUANTITIES)))
def test_numbers_of_a_numpy_column_answer_as_the_parser_would(vals, name):
    parser, flag, rule = ROW_QUANTITIES[name]
    parsed, errors = numbers(np.array(vals), parser, flag, rule)
    for j, v in enumerate(vals):
        want, message = _parsed(parser, flag, v)
        assert errors.get(j) == message, v
        assert parsed[j] == want or (math.isnan(parsed[j]) and math.isnan(want)), v


def test_numbers_plain_values_pass_the_rule_without_the_parser():
    calls = []

    def parser(v, flag):
        calls.append(v)
        return parse_count(v, flag)

    parsed, errors = numbers([1e12, 7, "2T", -1, 0.5], parser, "--tokens", "positive")
    assert parsed.tolist()[:3] == [1e12, 7.0, 2e12] and parsed[4] == 0.5
    assert calls == ["2T", -1]  # only text and numbers breaking the rule
    assert list(errors) == [3] and errors[3].startswith("--tokens: -1 is negative")
    # whole counts: 2.5 devices is no count; money and energy allow zero; PUE is at least 1
    p, e = numbers(np.array([8.0, 2.5]), parse_int_count, "--gpus", "whole")
    assert p[0] == 8 and math.isnan(p[1]) and "not a whole number" in e[1]
    p, e = numbers([0, 0.0, "$0"], parse_money_usd, "--budget", "money")
    assert p.tolist() == [0.0, 0.0, 0.0] and e == {}
    pue = ROW_QUANTITIES["pue"]
    p, e = numbers([1.0, 0.99], *pue)
    assert p[0] == 1.0 and "below 1" in e[1]
    energy = ROW_QUANTITIES["energy_usd_per_kwh"]
    p, e = numbers([0.0, 5.0, 80.0], *energy)
    assert p[:2].tolist() == [0.0, 5.0] and "a price per MWh" in e[2]


def test_numbers_errors_name_the_flag_and_the_value():
    parser, flag, rule = ROW_QUANTITIES["deadline"]
    parsed, errors = numbers(["30d", "30", True, None], parser, flag, rule)
    assert parsed[0] == 30 * 86400
    assert set(errors) == {1, 2, 3}
    assert errors[1].startswith("--deadline: '30'") and "has no unit" in errors[1]
    assert all(m.startswith("--deadline:") for m in errors.values())


# --- group --------------------------------------------------------------------------------------

def test_group_numbers_combinations_in_first_appearance_order():
    a = code_values(["x", "y", "x", "y", None, "x"])
    b = code_values([1, 1, 1, 2, 1, 2])
    ids, first = group([a, b], 6)
    assert ids.tolist() == [0, 1, 0, 2, 3, 4]
    assert first.tolist() == [0, 1, 3, 4, 5]
    ids, first = group([b], 6)
    assert ids.tolist() == [0, 0, 0, 1, 0, 1] and first.tolist() == [0, 3]
    ids, first = group([], 4)  # no columns: one scenario
    assert ids.tolist() == [0, 0, 0, 0] and first.tolist() == [0]
    ids, first = group([], 0)
    assert ids.size == 0 and first.size == 0


def _reference_groups(cols):
    seen: dict = {}
    ids = [seen.setdefault(key, len(seen)) for key in zip(*cols)]
    first = [ids.index(g) for g in range(len(seen))]
    return ids, first


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 40).flatmap(lambda n: st.lists(
    st.lists(st.one_of(st.none(), st.integers(0, 3)), min_size=n, max_size=n),
    min_size=1, max_size=4)))
def test_group_matches_a_reference(cols):
    ids, first = group([code_values(c) for c in cols], len(cols[0]))
    want_ids, want_first = _reference_groups(cols)
    assert ids.tolist() == want_ids and first.tolist() == want_first


def test_group_renumbers_before_the_key_overflows():
    rng = np.random.default_rng(0)
    n = 3000
    # eight columns of ~1000 distinct values: 1001^8 combinations overflow int64
    cols = [rng.integers(0, 1000, n).tolist() for _ in range(8)]
    cols[0][n // 2] = cols[0][0]
    for c in cols[1:]:
        c[n // 2] = c[0]  # row n/2 repeats row 0
    ids, first = group([code_values(c) for c in cols], n)
    want_ids, want_first = _reference_groups(cols)
    assert ids.tolist() == want_ids and first.tolist() == want_first
    assert ids[n // 2] == 0 and len(first) == n - 1


# --- Rows ---------------------------------------------------------------------------------------

def test_the_first_error_of_a_row_wins(ctx):
    st_ = Rows(Answers(5, ctx.fields))
    st_.fail(np.array([1, 3]), "--gpus: first")
    st_.fail(np.array([0, 1, 2]), "--tokens: second")
    st_.fail(np.array([True, False, False, False, True]), "--pue: third")  # a mask
    st_.fail(np.array([], dtype=np.int64), "--never")
    assert st_.bad.tolist() == [True, True, True, True, True]
    assert st_.ans.table().column("error").to_pylist() == [
        "--tokens: second", "--gpus: first", "--tokens: second", "--gpus: first", "--pue: third"]


def test_fail_coded_and_fail_codes_skip_rows_already_failed(ctx):
    st_ = Rows(Answers(4, ctx.fields))
    st_.fail(np.array([2]), "first")
    st_.fail_coded(np.array([0, 1, 2, 3]), np.array([1, -1, 0, 0]), ["bad a", "bad b"])
    assert st_.bad.tolist() == [True, False, True, True]
    st_.fail_codes(np.array([0, 1, 2, 3]), np.array([5, 5, 6, 6]), {5: "five"})
    assert st_.ans.table().column("error").to_pylist() == ["bad b", "five", "first", "bad a"]


# --- per_scenario -----------------------------------------------------------------------------

def test_per_scenario_calls_once_per_distinct_scenario(ctx):
    cols = {"params": code_values(["7B", "7B", "13B", "7B", "13B", None]),
            "gpus": code_values([8, 8, 8, 16, 8, 8])}
    st_ = Rows(Answers(6, ctx.fields))
    calls, memos = [], []

    def call(kwargs):
        calls.append(kwargs)
        memos.append(shared_memo())
        return {"cluster_gpus": kwargs["gpus"], "workload_name": kwargs.get("params", "none"),
                "not_a_column": 1, "training_days": None}

    per_scenario(ctx, cols, np.arange(6), st_, ["params", "gpus"], call)
    assert calls == [{"params": "7B", "gpus": 8}, {"params": "13B", "gpus": 8},
                     {"params": "7B", "gpus": 16}, {"gpus": 8}]  # None inputs left out
    assert all(m is ctx.cache["shared-searches"] for m in memos)
    t = st_.ans.table()
    assert t.column("cluster_gpus").to_pylist() == [8, 8, 8, 16, 8, 8]
    assert t.column("workload_name").to_pylist() == ["7B", "7B", "13B", "7B", "13B", "none"]
    assert t.column("training_days").null_count == 6
    assert not st_.bad.any()


def test_per_scenario_a_user_error_fails_only_its_rows(ctx):
    cols = {"gpu": code_values(["h100-sxm", "h900", "b200", "h900", "h100-sxm"])}
    st_ = Rows(Answers(5, ctx.fields))
    calls = []

    def call(kwargs):
        calls.append(kwargs["gpu"])
        acc = ctx.catalog.accelerator(kwargs["gpu"])  # UnknownKeyError for h900
        if acc.key == "b200":
            raise LayoutError("tp=3 does not divide 64 heads")
        return {"cluster_accelerator": acc.key}

    rows = np.array([0, 1, 2, 3, 4])
    per_scenario(ctx, cols, rows, st_, ["gpu"], call)
    assert calls == ["h100-sxm", "h900", "b200"]
    t = st_.ans.table()
    assert t.column("cluster_accelerator").to_pylist() == ["h100-sxm", None, None, None,
                                                           "h100-sxm"]
    errors = t.column("error").to_pylist()
    assert errors[0] is None and errors[4] is None
    assert errors[1] == errors[3] and errors[1].startswith("--gpu: unknown accelerator 'h900'")
    assert errors[2] == "--layout: tp=3 does not divide 64 heads"
    assert st_.bad.tolist() == [False, True, True, True, False]


def test_per_scenario_answers_only_the_rows_given_and_raises_other_errors(ctx):
    cols = {"gpus": code_values([8, 16, 8, 32])}
    st_ = Rows(Answers(4, ctx.fields))
    per_scenario(ctx, cols, np.array([1, 2]), st_, ["gpus"],
                 lambda kw: {"cluster_gpus": kw["gpus"]})
    assert st_.ans.table().column("cluster_gpus").to_pylist() == [None, 16, 8, None]
    per_scenario(ctx, cols, np.array([], dtype=np.int64), st_, ["gpus"],
                 lambda kw: pytest.fail("called for no rows"))

    def boom(kwargs):
        raise RuntimeError("a bug, not a bad input")

    with pytest.raises(RuntimeError, match="a bug"):
        per_scenario(ctx, cols, np.array([0]), st_, ["gpus"], boom)


# --- Context ------------------------------------------------------------------------------------

def test_once_makes_each_value_once_and_caches_user_errors_as_messages():
    ctx = Context(planner.catalog())
    made = []

    def make(key):
        def inner():
            made.append(key)
            return ctx.catalog.accelerator(key)
        return inner

    ok, acc = ctx.once("gpu", "h100", make("h100"))
    assert ok and acc.key == "h100-sxm"
    assert ctx.once("gpu", "h100", make("h100")) == (True, acc)
    bad = ctx.once("gpu", "h900", make("h900"))
    assert bad[0] is False and bad[1].startswith("--gpu: unknown accelerator 'h900'")
    assert ctx.once("gpu", "h900", make("h900")) == bad
    assert made == ["h100", "h900"]
    # another kind is another cache
    assert ctx.once("network", "h100", lambda: "other") == (True, "other")
    assert ctx.once("tokens", "x", lambda: parse_count("x", "--tokens"))[1].startswith(
        "--tokens: 'x' is not a count")
    assert ctx.once("batch", 1, lambda: (_ for _ in ()).throw(ValueError("plain"))) == \
        (False, "plain")

    def bug():
        raise KeyError("not a user error")

    with pytest.raises(KeyError):
        ctx.once("gpu", "bug", bug)
    assert "bug" not in ctx.cache["gpu"]  # not cached: raised again next time
    with pytest.raises(KeyError):
        ctx.once("gpu", "bug", bug)


def test_intern_keeps_one_assumptions_object_per_value(ctx):
    from planner.assumptions import DEFAULT

    a = DEFAULT.with_(pue=1.3)
    b = DEFAULT.with_(pue=1.3)
    assert a is not b and a == b
    assert ctx.intern(a) is a and ctx.intern(b) is a
    assert ctx.intern(DEFAULT) is DEFAULT
