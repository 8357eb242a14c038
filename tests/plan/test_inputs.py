"""plan/inputs.py: a plan's inputs parsed and checked at the boundary.

Covers parse_layout (aliases mb/vp, a part given twice, unknown parts, bad values, the ZeRO
range), whole_batch (16M tokens of 8192 -> 1953 sequences; whole batches left alone by
resolve_workload), resolve_workload (the shape rule and the inferred FFN reported in ``used``;
missing or out-of-range inputs as InputErrors naming the flag), parse_limits (bad objective or
ownership; units parsed to SI), limits_for, gpu_keys and default_site; the flags' own names
as keywords, the hints for keywords the library lacks, the defaults a plan reports.
"""

import re

import pytest

import planner
from planner.assumptions import DEFAULT
from planner.catalog import catalog
from planner.errors import InputError, LayoutError
from planner.model.architecture import RULE_SOURCE, total_params
from planner.plan.inputs import (
    DEFAULT_SITE,
    default_site,
    gpu_keys,
    resolve_workload,
    whole_batch,
)
from planner.plan.quantities import Limits, limits_for, parse_limits
from planner.specs import parse_layout

CAT = catalog()


# --- parse_layout ------------------------------------------------------------------------------

def test_parse_layout_parts_and_values():
    assert parse_layout("tp=8,pp=16,recompute=full") == {"tp": 8, "pp": 16,
                                                           "recompute": "full"}
    # names are case-insensitive, spaces and empty parts are ignored
    assert parse_layout(" TP = 4 , dp=2,, ") == {"tp": 4, "dp": 2}
    # and the recompute word, in a text or a table, as the parts' names (an auditor:
    # 'TP=8' was taken where 'recompute=FULL' was refused)
    assert parse_layout("recompute=FULL:0.5") == {"recompute": "full:0.5"}
    assert parse_layout({"TP": 2, "Recompute": " Selective"}) == {"tp": 2,
                                                                   "recompute": "selective"}
    assert parse_layout(None) == {}
    # a text of no part is refused (it had read as no layout: --layout "" searched them all)
    for empty in ("", " , ", ","):
        with pytest.raises(LayoutError, match="the layout is empty"):
            parse_layout(empty)


def test_parse_layout_aliases_mb_and_vp():
    assert parse_layout("mb=2,vp=4") == {"microbatch": 2, "virtual_stages": 4}
    assert parse_layout({"mb": 1, "tp": 2}) == {"microbatch": 1, "tp": 2}
    assert parse_layout("microbatch=8") == {"microbatch": 8}


@pytest.mark.parametrize("text, says", [
    ("tp=8,tp=4", "tp is given twice"),
    ("mb=2,microbatch=4", "microbatch is given twice"),  # an alias and its name are one part
    ("vp=2,virtual_stages=2", "virtual_stages is given twice"),
    ("foo=1", "unknown layout part 'foo'"),
    ("tp", "'tp' is not NAME=VALUE"),
    ("tp=eight", "tp must be a whole number, got 'eight'"),
    ("pp=1.5", "pp must be a whole number, got '1.5'"),
    ("dp=0", "dp must be at least 1, got '0'"),
    ("mb=-2", "microbatch must be at least 1, got '-2'"),
    ("recompute=some", "recompute must be none, selective, full or full on a share of the "
                       "blocks (full:0.25, full:0.5, full:0.75), got 'some'"),
    ("zero=4", "zero must be 0, 1, 2 or 3, got '4'"),
    ("zero=-1", "zero must be 0, 1, 2 or 3, got '-1'"),
])
def test_parse_layout_errors(text, says):
    with pytest.raises(LayoutError) as exc:
        parse_layout(text)
    assert says in str(exc.value)


def test_parse_layout_zero_range_is_0_to_3():
    assert [parse_layout(f"zero={z}")["zero"] for z in range(4)] == [0, 1, 2, 3]
    assert parse_layout("recompute=none,zero=0") == {"recompute": "none", "zero": 0}


# --- whole_batch -------------------------------------------------------------------------------

def test_whole_batch_rounds_to_the_nearest_whole_sequence():
    # was: to a power-of-two multiple within 5% (1953.1 -> 2048, +4.9%), which the layout
    # search's own 5% then moved again: an auditor's 16M batch planned at +10.1%
    assert whole_batch(16e6 / 8192) == 1953
    assert whole_batch(2048.0) == 2048
    assert whole_batch(1000.4) == 1000
    assert whole_batch(0.5) == 1  # at least one sequence


def test_resolve_workload_rounds_16m_tokens_to_1953_sequences():
    used = {}
    w = resolve_workload(CAT, used, params="7B", tokens="1T", global_batch="16M")
    assert w.seq_len == 8192
    assert w.global_batch_tokens == 1953 * 8192
    assert used["global_batch_tokens"]["value"] == 1953 * 8192
    assert used["global_batch_tokens"]["source"] == (
        "rounded to whole sequences of 8192 tokens from 16,000,000 as given")


@pytest.mark.parametrize("gpus", [1400, 2400, 8400, 8600])
def test_a_batch_given_moves_by_at_most_the_tolerance_in_all(gpus):
    # an auditor: --global-batch 16M planned at 17,203,200 (+7.5%) on 2,400 devices and
    # 17,612,800 (+10.1%) on 8,600, reported as adjusted from 16,777,216
    plan = planner.estimate(params="70B", tokens="2T", gpus=gpus, global_batch="16M",
                            alternatives=False)
    batch = plan.workload["global_batch_tokens"]
    assert abs(batch / 16e6 - 1) <= DEFAULT.batch_tolerance + 8192 / 16e6
    if batch != 1953 * 8192:
        assert "from 16,000,000 as given" in plan.assumptions["global_batch_tokens"]["source"]


def test_resolve_workload_leaves_whole_batches_unchanged():
    used = {}
    # 1000 sequences is whole, though not a multiple of a power of two near 1000
    w = resolve_workload(CAT, used, params="7B", tokens="1T", global_batch=1000 * 8192)
    assert w.global_batch_tokens == 1000 * 8192
    assert "global_batch_tokens" not in used  # given, not changed
    used = {}
    w = resolve_workload(CAT, used, params="7B", tokens="1T", seq_len=4096,
                         global_batch="12288")
    assert w.global_batch_tokens == 12288 and w.seq_len == 4096  # 3 sequences
    # under one sequence is no batch: refused, naming the flag (issue #17; it used to be
    # rounded up to one sequence, and a later "no layout" blamed --gpus)
    with pytest.raises(InputError, match="--global-batch: '4K' leaves a global batch of "
                       "4,000 tokens, less than one 8,192-token sequence"):
        resolve_workload(CAT, {}, params="7B", tokens="1T", global_batch="4K")
    # a --seq-len longer than the default batch is the flag named (an auditor: the error had
    # named --assume global_batch_tokens, which the user never typed)
    # (the batch by what it is, the default, and the flags that set it)
    with pytest.raises(InputError, match=r"--seq-len: '32M' is longer than the global batch of "
                       r"16,777,216 tokens \(the default global_batch_tokens: --global-batch "
                       r"or --assume global_batch_tokens sets it\)"):
        resolve_workload(CAT, {}, params="7B", tokens="1T", seq_len="32M")


# --- resolve_workload --------------------------------------------------------------------------

def test_a_parameter_count_reports_the_shape_rule():
    used = {}
    w = resolve_workload(CAT, used, params="7B", tokens="300B")
    a = w.architecture
    assert w.published_params == 7e9 and w.tokens == 300e9
    assert used["architecture"]["source"] == RULE_SOURCE
    assert used["architecture"]["value"] == (f"L={a.layers} h={a.hidden} heads={a.heads} "
                                             f"kv={a.kv_heads} ffn={a.ffn} V={a.vocab}")
    # the defaults it fell back on are reported with their sources
    assert used["seq_len"] == {"value": DEFAULT.seq_len, "source": DEFAULT.source("seq_len")}
    assert used["global_batch_tokens"]["value"] == DEFAULT.global_batch_tokens
    assert w.seq_len == DEFAULT.seq_len and w.global_batch_tokens == DEFAULT.global_batch_tokens


SHAPE = dict(layers=4, hidden=1024, heads=8, vocab=32000)


def test_a_full_shape_infers_plain_or_gated_ffn_and_reports_it():
    used = {}
    w = resolve_workload(CAT, used, tokens="1T", ffn=4096, **SHAPE)  # 4 x hidden
    assert w.architecture.ffn_type == "plain" and w.architecture.ffn == 4096
    assert used["ffn_type"]["value"] == "plain"
    assert used["ffn_type"]["source"].startswith("inferred: ffn = 4 x hidden")
    assert w.architecture.kv_heads == 8  # defaults to the heads
    used = {}
    w = resolve_workload(CAT, used, tokens="1T", ffn=2816, **SHAPE)  # 2.75 x hidden
    assert w.architecture.ffn_type == "gated" and used["ffn_type"]["value"] == "gated"
    used = {}
    w = resolve_workload(CAT, used, tokens="1T", ffn=4096, ffn_type="gated", **SHAPE)
    assert w.architecture.ffn_type == "gated" and "ffn_type" not in used  # given, not inferred


def test_a_catalog_workload_keeps_its_own_tokens_and_batch():
    used = {}
    w = resolve_workload(CAT, used, workload="llama2-7b")
    assert w.tokens == 2e12 and w.seq_len == 4096 and w.global_batch_tokens == 4194304
    assert used == {}  # nothing fell back on a default
    w = resolve_workload(CAT, {}, workload="llama2-7b", tokens="1T", layers=16)
    assert w.tokens == 1e12 and w.architecture.layers == 16 and w.architecture.hidden == 4096


@pytest.mark.parametrize("kwargs, flag", [
    (dict(params="7B"), "--tokens"),                      # no token count
    (dict(params="500K", tokens="1T"), "--params"),        # below the shape rule's 70M
    (dict(params="10M", tokens="1T"), "--params"),
    (dict(params="2000T", tokens="1T"), "--params"),       # above 1000T
    (dict(params="7B", tokens="10M"), "--tokens"),         # less than one 16.8M-token step
    (dict(params="7B", tokens="1M", global_batch="2M"), "--tokens"),
    (dict(tokens="1T"), "--params"),                       # no workload at all
    (dict(tokens="1T", layers=4, hidden=1024), "--heads"),  # incomplete shape
    (dict(tokens="1T", hidden=1024, heads=8, vocab=32000), "--layers"),
    (dict(tokens="1T", **SHAPE), "--ffn"),                 # a dense shape without --ffn
    (dict(tokens="1T", layers="4.5", hidden=1024, heads=8, vocab=32000, ffn=4096),
     "--layers"),
    (dict(params="7B", tokens="1T", precision="int3"), "--precision"),
    (dict(params="7B", tokens="1T", seq_len="0"), "--seq-len"),
])
def test_bad_workload_inputs_name_the_flag(kwargs, flag):
    with pytest.raises(InputError) as exc:
        resolve_workload(CAT, {}, **kwargs)
    assert exc.value.name == flag
    assert str(exc.value).startswith(f"{flag}: ")


def test_params_range_edges_are_allowed():
    # the shape rule's count is within 3% of N over the whole accepted range (docs/shape.md)
    for given, n in (("70M", 70e6), ("1000T", 1e15)):
        w = resolve_workload(CAT, {}, params=given, tokens="1T")
        assert w.published_params == n
        assert total_params(w.architecture) == pytest.approx(n, rel=0.03)


def test_params_below_the_shape_rule_ask_for_a_shape():
    # the tied 128,256-token embedding at the narrowest width (512) is ~66M by itself: a 10M
    # model had been planned silently as 71M
    with pytest.raises(InputError, match="--layers") as exc:
        resolve_workload(CAT, {}, params="10M", tokens="1T")
    assert exc.value.name == "--params" and "70M" in exc.value.accepted


def test_unknown_shape_input_is_refused():
    with pytest.raises(InputError) as exc:
        resolve_workload(CAT, {}, tokens="1T", depth=4, **SHAPE)
    assert exc.value.name == "depth" and "layers" in exc.value.accepted


# --- parse_limits ------------------------------------------------------------------------------

def test_parse_limits_parses_units_to_si():
    lim = parse_limits(deadline="90d", budget="$1.2B", power_cap="150MW", max_gpus="16K",
                       price_per_gpu_hour="$2.5", pue="1.2", energy_usd_per_kwh="$0.06")
    assert lim.deadline_s == 90 * 86400 == 7_776_000
    assert lim.budget_usd == 1.2e9
    assert lim.power_cap_w == 1.5e8
    assert lim.max_gpus == 16000 and isinstance(lim.max_gpus, int)
    assert lim.price_per_gpu_hour == 2.5 and lim.pue == 1.2 and lim.energy_usd_per_kwh == 0.06
    assert lim.objective is None and lim.ownership == "cloud"
    assert parse_limits(deadline="12w").deadline_s == 12 * 7 * 86400
    assert parse_limits(power_cap="700kW").power_cap_w == 7e5


def test_parse_limits_absent_is_none_and_caps_size():
    lim = parse_limits()
    assert (lim.deadline_s, lim.budget_usd, lim.power_cap_w, lim.max_gpus) == (None,) * 4
    assert not lim.caps_size
    assert not parse_limits(deadline="30d").caps_size  # a deadline alone sizes without CP-SAT
    assert parse_limits(budget="1M").caps_size and parse_limits(max_gpus=64).caps_size
    assert parse_limits(power_cap="1MW").caps_size
    assert Limits(inventory=(("b200", 8),)).caps_size


@pytest.mark.parametrize("kwargs, flag", [
    (dict(objective="speed"), "--objective"),
    (dict(ownership="leased"), "--ownership"),
    (dict(deadline="90"), "--deadline"),       # no unit
    (dict(deadline="3m"), "--deadline"),       # minutes or months: refused
    (dict(power_cap="150"), "--power-cap"),
    (dict(budget="-5M"), "--budget"),
    (dict(max_gpus="1.5"), "--max-gpus"),
])
def test_parse_limits_bad_values_name_the_flag(kwargs, flag):
    with pytest.raises(InputError) as exc:
        parse_limits(**kwargs)
    assert exc.value.name == flag


def test_parse_limits_accepts_both_objectives_and_ownerships():
    assert parse_limits(objective="time").objective == "time"
    assert parse_limits(objective="cost", ownership="owned").ownership == "owned"


# --- limits_for, gpu_keys, default_site --------------------------------------------------------

def test_several_accelerators_leave_the_objective_to_its_default():
    # no objective given stays None (the cost one by default, several accelerators compared
    # by it too), so the plan reports it as the default, not as given
    lim = parse_limits(deadline="30d")
    assert limits_for(lim, None, ["h100-sxm", "b200"], CAT).objective is None
    assert limits_for(lim, None, ["h100-sxm"], CAT).objective is None
    timed = parse_limits(objective="time")
    assert limits_for(timed, None, ["h100-sxm", "b200"], CAT).objective == "time"
    # the rest of the limits is kept
    assert limits_for(lim, None, ["h100-sxm", "b200"], CAT).deadline_s == 30 * 86400


def test_limits_for_parses_the_inventory_with_catalog_keys():
    lim = limits_for(Limits(), "h100=20000,b200=8000", ["h100-sxm"], CAT)
    assert lim.inventory == (("b200", 8000), ("h100-sxm", 20000))  # alias resolved, sorted
    assert limits_for(Limits(), {"b200": "8K"}, ["b200"], CAT).inventory == (("b200", 8000),)
    assert limits_for(Limits(), None, ["b200"], CAT).inventory == ()


def test_gpu_keys():
    used = {}
    assert gpu_keys(None, DEFAULT, used) == [DEFAULT.accelerator] == ["h100-sxm"]
    assert used["accelerator"] == {"value": "h100-sxm",
                                   "source": DEFAULT.source("accelerator")}
    used = {}
    assert gpu_keys("h100-sxm, b200", DEFAULT, used) == ["h100-sxm", "b200"]
    assert gpu_keys(["mi300x", " b200 "], DEFAULT, used) == ["mi300x", "b200"]
    assert used == {}  # given, not defaulted
    with pytest.raises(InputError) as exc:
        gpu_keys("h100-sxm,,b200", DEFAULT, {})
    assert exc.value.name == "--gpu"


def test_default_site():
    used = {}
    site = default_site(CAT, used)
    assert DEFAULT_SITE == "us-hyperscale" and site.key == "us-hyperscale"
    assert used["site"] == {"value": "us-hyperscale", "source": "planner default site profile "
                            "(hardware/sites/us-hyperscale.toml)"}

    class NoSites:
        def keys(self, kind):
            return []

    used = {}
    assert default_site(NoSites(), used) is None and used == {}


def test_a_whole_seed_as_a_float_is_the_seed():
    # was: 7.0 refused, so a pandas seed column with one blank cell failed every seeded row
    from planner.plan.quantities import parse_seed

    assert parse_seed(7.0) == parse_seed("7") == 7
    for bad in (7.5, -1.0, float("nan"), True):
        with pytest.raises(InputError, match="--seed"):
            parse_seed(bad)


def test_the_flags_own_names_are_keywords_too():
    # docs/interface.md: the flags' names with underscores are planner.estimate's keywords;
    # model_config (--model-config, --workload's alias) and assume (--assume) had been refused
    by_alias = planner.estimate(model_config="examples/mixtral-8x7b/config.json", tokens="8T",
                                gpus=1024)
    by_key = planner.estimate(workload="examples/mixtral-8x7b/config.json", tokens="8T",
                              gpus=1024)
    assert by_alias.training_days == by_key.training_days
    kw = dict(params="70B", tokens="2T", gpus=1024)
    texts = planner.estimate(assume=["gemm_efficiency=0.8"], assumptions={"restart_s": 60}, **kw)
    d = planner.estimate(assumptions={"gemm_efficiency": 0.8, "restart_s": 60}, **kw)
    assert texts.training_days == d.training_days
    assert texts.assumptions["gemm_efficiency"] == {"value": 0.8, "source": "given (--assume)"}
    with pytest.raises(InputError, match="conflicts with workload"):
        planner.estimate(model_config="x.json", workload="llama3-8b", tokens="1T")
    with pytest.raises(InputError, match="NAME=VALUE"):
        planner.estimate(assume=5, **kw)


@pytest.mark.parametrize("word, hint", [
    ("num_gpus", "did you mean gpus?"), ("price-per-gpu-hour", "did you mean price_per_gpu_hour?"),
    ("quiet", "the library shows no progress unless progress=True"),
    ("format", "to_json()"), ("sensitivity", "planner.sensitivity.sensitivity")])
def test_a_keyword_the_library_lacks_says_what_it_takes(word, hint):
    with pytest.raises(InputError, match=re.escape(hint)):
        planner.estimate(params="7B", tokens="1T", **{word: 1})


def test_a_plan_reports_the_network_and_cost_method_it_fell_back_on():
    used = planner.estimate(params="7B", tokens="1T", gpus=64).assumptions
    assert used["network"]["value"] == "ib-ndr" and "scale_out_network" in \
        used["network"]["source"]
    assert used["ownership"]["value"] == "cloud" and "planner default" in \
        used["ownership"]["source"]
    given = planner.estimate(params="7B", tokens="1T", gpus=64, ownership="owned",
                             network="roce-400g").assumptions
    assert given["ownership"] == {"value": "owned", "source": "given (--ownership)"}
    assert given["network"] == {"value": "roce-400g", "source": "given (--network)"}


def test_a_stacks_own_figure_names_the_stack():
    # MaxText runs gemm_efficiency 1.0 (its matmul share stands for the GEMMs): the table had
    # given it the calibrated figure's source
    used = planner.estimate(params="70B", tokens="2T", gpu="tpu-v5p", gpus=1024).assumptions
    assert used["gemm_efficiency"]["value"] == 1.0
    assert used["gemm_efficiency"]["source"].startswith("the maxtext stack's profile")


def test_a_given_cluster_no_layout_fits_says_how_many_devices_would():
    plan = planner.estimate(params="1T", tokens="15T", gpus=64)
    assert not plan.feasible and plan.binding == "memory"
    fewest = [a for a in plan.alternatives if a["note"].startswith("the fewest devices")]
    assert [a["gpus"] for a in fewest] == [256] and fewest[0]["accelerator"] == "h100-sxm"
    assert planner.estimate(params="1T", tokens="15T", gpus=256).feasible
    assert planner.estimate(params="1T", tokens="15T", gpus=128).binding == "memory"
    # a row of a table (no alternatives) searches nothing more
    assert planner.estimate(params="1T", tokens="15T", gpus=64, alternatives=False).alternatives \
        == []


def test_the_flags_own_names_are_not_given_as_none_and_meet_the_assumptions():
    kw = dict(params="70B", tokens="2T", gpus=1024)
    base = planner.estimate(**kw)
    assert planner.estimate(assume=None, model_config=None, **kw).training_days == \
        base.training_days
    # a team spelt as --team takes it is still read beside an assume=
    plan = planner.estimate(assumptions={"team": "frontier-lab"}, assume="restart_s=60", **kw)
    assert plan.assumptions["team"]["value"] == "frontier lab"
    with pytest.raises(InputError, match="not both with different values"):
        planner.estimate(assumptions={"restart_s": 30}, assume="restart_s=60", **kw)
    # planner.budget takes assume= too
    answer = planner.budget(usd="10M", gpu="h100-sxm", assume="restart_s=60")
    assert answer.plan.assumptions["restart_s"] == {"value": 60.0, "source": "given (--assume)"}


@pytest.mark.parametrize("seed, value", [("7", 7), (" 07 ", 7), ("7.0", 7), ("1e3", 1000),
                                         (7.0, 7)])
def test_a_seed_is_a_whole_number_however_written(seed, value):
    from planner.plan.quantities import parse_seed

    assert parse_seed(seed) == value


@pytest.mark.parametrize("seed", ["²", "-1", "7.5", "abc", "1e30", True])
def test_a_seed_that_is_no_whole_number_is_refused(seed):
    from planner.plan.quantities import parse_seed

    with pytest.raises(InputError, match="--seed"):
        parse_seed(seed)


def test_a_decimal_plain_number_below_its_floor_is_refused():
    from decimal import Decimal

    with pytest.raises(InputError, match="is a plain number, read as seconds"):
        planner.estimate(params="70B", tokens="2T", gpus=1024, deadline=Decimal("5"))
    with pytest.raises(InputError, match="is a plain number, read as watts"):
        planner.estimate(params="70B", tokens="2T", power_cap=Decimal("150"))


def test_a_workload_by_params_is_named_by_its_count_however_it_is_spelt():
    # an auditor: params="8B" had been named "dense 8B" and params=8e9 "dense 8.00B"; the name
    # comes from the parsed count, so a table's rows name one model alike
    import pandas as pd

    names = {planner.estimate(params=p, tokens="1T", gpus=64, alternatives=False)
             .workload["name"] for p in ("8B", 8e9, "8000M", "8e9")}
    assert names == {"dense 8B"}
    rows = planner.estimate_many(pd.DataFrame({"params": [1.5e12, "1.5T", 70e9],
                                               "tokens": "1T", "gpus": 4096}))
    assert list(rows["workload_name"]) == ["dense 1.5T", "dense 1.5T", "dense 70B"]


def test_a_switch_of_none_is_not_given_as_every_keyword_is():
    # an auditor: uncertainty=None, allow_tp_beyond_domain=None and alternatives=None had been
    # refused ("--uncertainty: not given") where every other keyword reads None as not given

    from planner.plan.quantities import parse_flag

    kw = dict(params="8B", tokens="1T", gpus=64)
    plain = planner.estimate(**kw)
    none = planner.estimate(**kw, uncertainty=None, allow_tp_beyond_domain=None,
                            alternatives=None)
    assert none.to_dict() == plain.to_dict() and none.alternatives
    # each switch's None reads as its keyword's default, which the caller passes
    assert parse_flag(None, "--uncertainty") is False
    assert parse_flag(None, "alternatives", default=True) is True


def test_a_budget_tolerance_of_none_is_the_default():
    assert planner.budget(usd="1M", tolerance=None).to_dict() == \
        planner.budget(usd="1M").to_dict()


@pytest.mark.parametrize("team", ["", "  "])
def test_an_empty_team_is_refused_as_the_cli_refuses_it(team):
    # an auditor: team="" had read "not said", its source "given (--team)"
    with pytest.raises(InputError, match=r"^--team: '' is not valid; accepted: one of: "):
        planner.estimate(params="8B", tokens="1T", gpus=64, team=team)
    with pytest.raises(InputError, match="--team"):
        planner.budget(usd="1M", team=team)


def test_the_curve_switch_is_read_as_the_other_switches():
    # a review: bool(curve) read curve="false" as true (a sizing of every quarter octave)
    base = dict(params="7B", tokens="100B", gpu="h100-sxm", alternatives=False)
    off = planner.estimate(**base, curve=False).sizing["options"]["gpus"]
    assert planner.estimate(**base, curve="false").sizing["options"]["gpus"] == off
    assert len(planner.estimate(**base, curve="true").sizing["options"]["gpus"]) > len(off)
    with pytest.raises(InputError, match="curve: 'maybe' is not valid; accepted: true or false"):
        planner.estimate(**base, curve="maybe")


SMALL_MOE = dict(layers=32, hidden=4096, heads=32, kv_heads=8, ffn=14336, vocab=32000,
                 tokens="1T", experts=8, top_k=2, expert_ffn=14336, gpu="h100-sxm", gpus=64)


def test_zero_shared_experts_and_dense_layers_are_a_shape_of_their_own():
    # an audit: "--shared-experts: '0' must be greater than zero", though a plan's own workload
    # reports Mixtral's shared_experts 0 and dense_layers 0 (it could not be fed back in)
    zero = planner.estimate(**SMALL_MOE, shared_experts=0, dense_layers="0")
    assert zero.workload["shared_experts"] == 0 and zero.workload["dense_layers"] == 0
    assert zero.training_days == planner.estimate(**SMALL_MOE).training_days
    for name, value, says in (("shared_experts", -1, "is negative"),
                              ("dense_layers", 1.5, "is not a whole number")):
        with pytest.raises(InputError, match=re.escape(f"{says}; accepted: 0 or a positive")):
            planner.estimate(**SMALL_MOE, **{name: value})
    with pytest.raises(InputError, match="--layers: '0' must be greater than zero"):
        planner.estimate(**{**SMALL_MOE, "layers": "0"})  # the others stay positive


@pytest.mark.parametrize("given, flag, says", [
    # --top-k beyond what DeepSeek-V3's groups reach: had blamed --group-top-k (value empty)
    (dict(workload="deepseek-v3", top_k=256), "--top-k: 256 is not valid",
     "reaches 128 experts, fewer than top_k (256)"),
    # --group-top-k without --expert-groups: had read "8 experts do not split into 0 groups"
    (dict(**SMALL_MOE, group_top_k=2), "--expert-groups: is missing "
     "beside --group-top-k", "8 experts do not split into 0 groups"),
    ({**SMALL_MOE, "expert_groups": 4, "group_top_k": 1, "top_k": 4}, "--group-top-k: 1 is not "
     "valid", "reaches 2 experts, fewer than top_k (4)"),
    (dict(**SMALL_MOE, expert_groups=3, group_top_k=1), "--expert-groups: 3 is not valid",
     "do not split into 3 groups"),
    # a review: the workload's groups met by another input had blamed --group-top-k, empty
    (dict(workload="deepseek-v3", experts=8), "--experts: 8 is not valid",
     "reaches 4 experts, fewer than top_k (8)"),
    (dict(workload="deepseek-v3", expert_groups=256), "--expert-groups: 256 is not valid",
     "group_top_k 4 of 256 groups reaches 4 experts"),
])
def test_a_routing_error_names_the_input_at_fault(given, flag, says):
    if "workload" in given:
        given.update(tokens="1T", gpus=4096)
    with pytest.raises(InputError) as exc:
        planner.estimate(**given)
    assert str(exc.value).startswith(flag) and says in str(exc.value), str(exc.value)


def test_a_pinned_layout_whose_step_passes_the_sizing_ceiling_is_refused():
    # a review: tp=8,pp=120,cp=2 under max_gpus 1,000 had been planned on 1,920 devices,
    # a cluster --gpus 1920 refuses; --max-gpus below a step stays a limit's answer
    with pytest.raises(InputError, match="runs on multiples of 1,920 devices, above 1,000"):
        planner.estimate(params="405B", tokens="15T", layout="tp=8,pp=120,cp=2",
                         assumptions={"max_gpus": 1000})
    capped = planner.estimate(params="405B", tokens="15T", layout="tp=8,pp=16", max_gpus=100)
    assert not capped.feasible and capped.binding == "max_gpus"
