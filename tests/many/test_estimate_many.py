"""estimate_many: the same answers as estimate, row by row; bad rows reported per row."""

import math
import re

import numpy as np
import pyarrow as pa
import pytest

import planner
from planner.many.estimate_many import INPUTS, estimate_many
from planner.report import flatten
from planner.units import InputError

FULL = "tp=8,pp=4,cp=1,ep=1,mb=1,vp=1,recompute=selective,zero=1"

# Scenarios covering each path: fixed layouts (scored in one batch), partial layouts and none
# (searched), catalog workloads, MoE, other accelerators, networks and sites, owned and cloud
# money, given prices, limits that bind and that do not, a plan that fits no memory, and
# clusters sized by estimate itself (no gpus).
SCENARIOS = [
    dict(params="70B", tokens="15T", gpus=1024, layout=FULL),
    dict(params="70B", tokens="2T", gpus=2048, layout=FULL, price_per_gpu_hour=1.8),
    dict(params="70B", tokens="15T", gpus=1024, layout=FULL, ownership="owned"),
    dict(params="70B", tokens=15e12, gpus=1024, layout="tp=8,pp=8,cp=1,mb=2,vp=2,"
         "recompute=full,zero=2", gpu="h200", site="eu-colocation"),
    dict(params="405B", tokens="15T", gpus=16384, layout="tp=8,pp=16"),
    dict(params="405B", tokens="15T", gpus=16384, price_per_gpu_hour="$2.5",
         ownership="owned", site="cheap-power"),
    dict(workload="llama3.1-405b", gpus=16384),
    dict(workload="llama3.1-70b", tokens="1T", gpus=512, gpu="b200", seq_len=4096,
         global_batch="4M"),
    dict(workload="deepseek-v3", gpus=2048, layout="tp=1,pp=16,ep=64"),
    dict(params="8B", tokens="1T", gpus=64, gpu="mi300x", precision="bf16",
         framework="pytorch-fsdp"),
    dict(params="13B", tokens="1T", gpus=256, gpu="h100-sxm", network="ib-ndr", layout=FULL),
    dict(params="70B", tokens="15T", gpus=1024, layout=FULL, budget="1M"),
    dict(params="70B", tokens="15T", gpus=1024, layout=FULL, budget="1B", deadline="400d"),
    dict(params="70B", tokens="15T", gpus=1024, layout=FULL, deadline="30d"),
    dict(params="70B", tokens="15T", gpus=1024, layout=FULL, power_cap="1MW"),
    dict(params="1T", tokens="15T", gpus=8, layout="tp=8,pp=1,cp=1,mb=1,vp=1,"
         "recompute=none,zero=1"),
    dict(params="70B", tokens="15T", layout=FULL),
    dict(params="70B", tokens="15T", gpu="h100-sxm,b200", gpus=1024),
    # a named site's power cap holds a given cluster (was: the columnar path judged it
    # feasible where estimate says 60.9 MW against eu-colocation's 30 MW), and a
    # --power-cap replaces it
    dict(params="70B", tokens="2T", gpus=32768, site="eu-colocation"),
    dict(params="70B", tokens="2T", gpus=32768, site="eu-colocation", power_cap="100MW"),
]


def _table(rows: list[dict]) -> pa.Table:
    names = sorted({k for r in rows for k in r})
    cols = {}
    for k in names:
        values = [r.get(k) for r in rows]
        if all(v is None or isinstance(v, (int, float)) for v in values):
            cols[k] = pa.array(values, type=pa.float64() if any(
                isinstance(v, float) for v in values) else pa.int64())
        else:
            cols[k] = pa.array([None if v is None else str(v) for v in values])
    return pa.table(cols)


def _expected(scenario: dict) -> dict:
    d = planner.estimate(**scenario).to_dict()
    flat = flatten({k: v for k, v in d.items() if k not in ("assumptions", "alternatives")})
    return {k: v for k, v in flat.items() if v is not None}


@pytest.fixture(scope="module")
def answered():
    return estimate_many(_table(SCENARIOS)).to_pylist()


@pytest.mark.parametrize("i", range(len(SCENARIOS)))
def test_each_row_is_estimates_answer(answered, i):
    want = _expected(SCENARIOS[i])
    got = answered[i]
    assert got["error"] is None
    compared = 0
    for key, value in want.items():
        if key not in got or key in INPUTS:
            continue  # plan fields that are not columns (sizing summary) or input names
        compared += 1
        if isinstance(value, float):
            assert got[key] == pytest.approx(value, rel=1e-12, abs=1e-300), key
        else:
            assert got[key] == value, key
    assert compared >= 20
    # and nothing answered that estimate leaves unknown
    for key, value in got.items():
        if key in want or key in INPUTS or key.startswith("assumptions_") or value is None:
            continue
        assert key in ("error",), f"{key}={value!r} not in estimate's answer"


def test_infeasible_rows_carry_reason_and_binding(answered):
    oom = answered[15]
    assert oom["feasible"] is False and oom["binding"] == "memory"
    assert "no layout fits in memory" in oom["reason"]
    assert oom["training_days"] is None and oom["workload_layers"] is not None
    budget = answered[11]
    assert budget["feasible"] is False and budget["binding"] == "budget"
    assert budget["training_days"] > 0  # the plan's numbers stay, as estimate keeps them
    capped = answered[18]
    assert capped["feasible"] is False and capped["binding"] == "power"
    assert answered[19]["feasible"] is True


def test_a_run_that_never_ends_is_estimates_answer():
    # failures faster than restarts: goodput 0, answered by estimate itself (a million
    # devices at the default failure rate had been such a run until Daly's complete model,
    # 2026-12-03, which leaves them 31%; a failure every 15 seconds on 8,192 devices is one)
    row = dict(params="70B", tokens="1T", gpus=8192)
    asm = {"failure_rate_per_device_hour": 0.03}
    want = flatten({k: v for k, v in planner.estimate(**row, assumptions=asm).to_dict().items()
                    if k not in ("assumptions", "alternatives")})
    lost = estimate_many(_table([row]), assumptions=asm, progress=False).to_pylist()[0]
    assert lost["feasible"] is False and lost["binding"] == "reliability"
    assert lost["training_days"] is None  # infinite: null, as Plan.to_dict
    assert lost["reason"] == want["reason"] and "no progress" in lost["reason"]
    for key in ("goodput", "step_time_s", "reliability_mtbf_s", "cluster_gpus"):
        assert lost[key] == pytest.approx(want[key], rel=1e-12), key


def test_bad_rows_are_reported_per_row_not_raised():
    rows = [dict(params="70B", tokens="15T", gpus=1024, layout=FULL),
            dict(params="abc", tokens="15T", gpus=1024),
            dict(params="70B", tokens="15T", gpus=1000, layout="tp=8,pp=3"),
            dict(params="70B", tokens="15T", gpus=1024, gpu="nope"),
            dict(params="70B", gpus=1024),
            dict(params="70B", tokens="15T", gpus=1024, site="mars"),
            dict(params="70B", tokens="15T", gpus=1024, layout="tp=eight"),
            dict(params="70B", tokens="-5T", gpus=1024),
            dict(params="70B", tokens="10M", gpus=1024),            # less than one step
            dict(workload="llama3.1-70b", tokens="1M", gpus=1024, global_batch="4M"),
            dict(params="70B", tokens="15T", gpus=1024.5),
            dict(params="70B", tokens="15T", gpus=1024, precision="fp4"),
            dict(params="70B", tokens="15T", gpus=1024, ownership="leased"),
            dict(params="70B", tokens="15T", gpus=2048, layout=FULL)]
    out = estimate_many(_table(rows)).to_pylist()
    assert out[0]["error"] is None and out[0]["feasible"] is True
    assert out[-1]["error"] is None and out[-1]["feasible"] is True
    for row, got in zip(rows[1:-1], out[1:-1]):
        with pytest.raises((InputError, planner.LayoutError, planner.CatalogError)) as exc:
            planner.estimate(**row)
        assert got["error"], row
        assert got["feasible"] is None and got["training_days"] is None
        message = str(exc.value)
        assert message in got["error"], (row, got["error"], message)


def test_columns_have_units_and_rows_keep_their_order():
    out = estimate_many(_table(SCENARIOS[:3]))
    assert out.num_rows == 3
    unit = lambda name: out.schema.field(name).metadata[b"unit"].decode()  # noqa: E731
    assert unit("training_days") == "days"
    assert unit("power_mw") == "MW"
    assert unit("cost_usd_total") == "USD"
    assert unit("step_time_s") == "s"
    assert unit("energy_mwh") == "MWh"
    assert out.column("workload_tokens").to_pylist() == [15e12, 2e12, 15e12]


def test_unknown_column_is_refused():
    with pytest.raises(InputError, match="gpu_count"):
        estimate_many(pa.table({"params": ["70B"], "tokens": ["1T"], "gpu_count": [8]}))


def test_label_columns_are_carried_through_untouched_and_named_ones_only():
    # a finance model's table names its scenarios; such a column had been refused outright
    table = pa.table({"scenario": ["base", "fast"], "owner": [7, 9], "params": ["70B", "70B"],
                      "tokens": [2e12, 2e12], "gpus": [1024, 2048]})
    out = estimate_many(table, labels=["scenario", "owner"], progress=False)
    assert out.column("scenario").to_pylist() == ["base", "fast"]
    assert out.column("owner").to_pylist() == [7, 9]
    bare = estimate_many(table.drop_columns(["scenario", "owner"]), progress=False)
    for name in bare.column_names:  # the labels change no answer
        assert out.column(name).to_pylist() == bare.column(name).to_pylist(), name
    one = estimate_many({"id": ["x"], "params": ["70B"], "tokens": [2e12], "gpus": [1024]},
                        labels="id", progress=False)
    assert one.column_names[0] == "id" and one.column("id").to_pylist() == ["x"]
    assert one.column("training_days").to_pylist() == bare.column("training_days").to_pylist()[:1]
    # a column not named a label is still refused, and the message says how to keep it
    with pytest.raises(InputError, match=r"'scenario' is not an input .*labels=\[\.\.\.\]"):
        estimate_many(table, labels=["owner"], progress=False)
    with pytest.raises(InputError, match="labels: 'params' names the input"):
        estimate_many(table, labels=["scenario", "owner", "params"], progress=False)
    with pytest.raises(InputError, match="labels: 'scenaro' is not a column of the table"):
        estimate_many(table, labels=["scenaro", "owner"], progress=False)
    for bad in (5, [3], {"scenario": 1}):
        with pytest.raises(InputError, match="labels: .*is not a list of column names"):
            estimate_many(table, labels=bad, progress=False)
    assert estimate_many(table.drop_columns(["scenario", "owner"]), labels=None,
                         progress=False).num_rows == 2  # None names none, as () does
    # the review: a DataFrame's column named 0 is named "0"; a dict's label of mixed kinds is
    # carried as text; one not a value a row is refused by name (they had escaped as KeyError,
    # ArrowTypeError and ArrowInvalid, or split a string into letters)
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({0: ["a", "b"], "params": ["70B", "70B"], "tokens": [2e12, 2e12],
                          "gpus": [1024, 2048]})
    assert estimate_many(frame, labels=["0"], progress=False)[0].tolist() == ["a", "b"]
    rows = {"params": ["70B", "70B"], "tokens": [2e12, 2e12], "gpus": [1024, 2048]}
    mixed = estimate_many({"id": ["a", 1], **rows}, labels="id", progress=False)
    assert mixed.column("id").to_pylist() == ["a", "1"]
    # a dict's key 0 is named "0" as a DataFrame's is (it had raised a bare KeyError)
    keyed = estimate_many({0: ["a", "b"], **rows}, labels=["0"], progress=False)
    assert keyed.column("0").to_pylist() == ["a", "b"]
    with pytest.raises(InputError, match=r"labels: '0' names two columns \(0 and '0'\)"):
        estimate_many({0: ["a", "b"], "0": ["c", "d"], **rows}, labels=["0"], progress=False)
    assert keyed.column("training_days").to_pylist() == \
        estimate_many(rows, progress=False).column("training_days").to_pylist()
    for bad_id in ("ab", ["a"]):
        with pytest.raises(InputError, match="column 'id': is not one value a row"):
            estimate_many({"id": bad_id, **rows}, labels="id", progress=False)
    # a near-miss of an input still hears of labels=
    with pytest.raises(InputError, match=r"did you mean hidden\?\) \(a column to carry"):
        estimate_many({"id": [1, 2], **rows}, progress=False)
    with pytest.raises(InputError, match="column 'feasible': .* is an output name"):
        estimate_many(table.append_column("feasible", pa.array([1, 2])),
                      labels=["scenario", "owner", "feasible"], progress=False)


def test_pandas_in_pandas_out():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"params": ["70B", "70B", 405e9], "tokens": [15e12, 2e12, 15e12],
                       "gpus": [1024, 2048, 16384]}, index=["a", "b", "c"])
    out = estimate_many(df)
    assert isinstance(out, pd.DataFrame)
    assert list(out.index) == ["a", "b", "c"]
    assert list(out["params"]) == ["70B", "70B", 405e9]  # inputs untouched
    expect = planner.estimate(params=405e9, tokens=15e12, gpus=16384)
    assert out.loc["c", "training_days"] == pytest.approx(expect.training_days, rel=1e-12)
    assert out["error"].isna().all()


def test_twenty_thousand_rows_with_bad_ones_in_one_call():
    rng = np.random.default_rng(1)
    n = 20_000
    params = rng.choice(["7B", "13B", "70B", "oops"], n, p=[0.3, 0.3, 0.39, 0.01])
    table = pa.table({
        "params": params, "tokens": rng.uniform(1e12, 2e13, n),
        "gpu": rng.choice(["h100-sxm", "b200", "mi300x"], n),
        "gpus": rng.choice([256, 512, 1024], n),
        "layout": rng.choice([FULL, "tp=4,pp=2,cp=1,ep=1,mb=1,vp=1,recompute=full,zero=1"], n),
        "price_per_gpu_hour": rng.uniform(1.0, 4.0, n)})
    out = estimate_many(table)
    error = out.column("error").to_pylist()
    bad = params == "oops"
    assert all((e is not None) == b for e, b in zip(error, bad))
    days = np.array(out.column("training_days").to_pylist(), dtype=float)
    assert np.isfinite(days[~bad]).sum() > 0.9 * (~bad).sum()
    # spot check against estimate
    for i in np.flatnonzero(~bad)[:3]:
        row = {k: table.column(k)[int(i)].as_py() for k in table.column_names}
        plan = planner.estimate(**row)
        if plan.feasible:
            assert days[i] == pytest.approx(plan.training_days, rel=1e-12)
            assert out.column("cost_usd_total")[int(i)].as_py() == pytest.approx(
                plan.cost_usd["total"], rel=1e-12)


def test_same_scenario_repeated_gives_identical_rows():
    out = estimate_many(_table([SCENARIOS[0]] * 5 + [SCENARIOS[4]] * 3)).to_pylist()
    for a in out[1:5]:
        assert a == out[0]
    assert out[5] == out[6] == out[7]
    assert not math.isnan(out[5]["training_days"])


def test_a_row_that_fits_nothing_keeps_its_assumptions_figures(answered):
    # was: null price, PUE and energy price on a memory-infeasible row, where estimate's
    # to_frame fills them
    frame = planner.estimate(**SCENARIOS[15]).to_frame().iloc[0]
    oom = answered[15]
    assert oom["feasible"] is False
    for name in ("price_per_gpu_hour", "pue", "peak_pue", "energy_usd_per_kwh"):
        key = f"assumptions_{name}_value"
        assert oom[key] is not None and oom[key] == pytest.approx(frame[key]), key


def test_cells_and_columns_of_odd_shapes_are_rows_or_named_errors():
    # was: TypeError (unhashable dict / ndarray, len() of a scalar) stopped the whole call
    import numpy as np
    import pandas as pd

    from planner.errors import InputError

    out = estimate_many(pd.DataFrame({"params": ["70B"], "tokens": ["2T"], "gpus": [1024],
                                      "layout": [{"tp": 8}]}))
    assert out.loc[0, "layout_tp"] == 8 and pd.isna(out.loc[0, "error"])
    out = estimate_many(pd.DataFrame({"params": ["70B"], "tokens": ["2T"],
                                      "gpus": [np.array([1024])]}))
    assert out.loc[0, "error"].startswith("--gpus: [1024] is not a whole count")
    with pytest.raises(InputError, match="column 'params': '70B' is a single value; accepted: "
                                         "a sequence of one value per row"):
        estimate_many({"params": "70B", "tokens": ["2T"], "gpus": [8]})
    with pytest.raises(InputError, match="column 'gpus': is a 2-D array"):
        estimate_many({"params": ["70B", "7B"], "tokens": ["2T", "2T"],
                       "gpus": np.array([[8, 16], [8, 16]])})


def test_a_plain_number_far_below_any_run_is_a_row_error_as_in_a_sweep():
    # a finance table of deadlines in days (90) had planned 90-second deadlines, every row
    # infeasible with no error; a sweep spec refuses the same number
    import pandas as pd

    out = planner.estimate_many(pd.DataFrame({
        "params": ["7B"] * 3, "tokens": ["1T"] * 3, "gpus": [64] * 3,
        "deadline": [90, 90 * 86400, None], "power_cap": [None, None, 150]}))
    assert out["error"][0].startswith("--deadline: 90")
    assert "is a plain number, read as seconds" in out["error"][0]
    assert out["error"].isna()[1] and bool(out["feasible"][1])
    assert out["error"][2].startswith("--power-cap: 150")
    assert "is a plain number, read as watts" in out["error"][2]


def test_a_switch_read_from_csv_as_words_is_taken():
    # "true"/"False" (a table read from CSV) had been refused where 1/0 were taken
    import pandas as pd

    out = planner.estimate_many(pd.DataFrame({
        "params": ["7B"] * 3, "tokens": ["1T"] * 3, "gpus": [64] * 3,
        "uncertainty": ["true", "False", "maybe"]}))
    assert out["error"].isna()[0] and out["error"].isna()[1]
    assert out["p90_training_days"][0] > out["training_days"][0]
    assert pd.isna(out["p90_training_days"][1])
    assert "'maybe' is not valid; accepted: true or false" in out["error"][2]


def test_a_column_near_an_input_is_named_with_it():
    import pandas as pd

    df = pd.DataFrame({"params": ["70B"], "tokens": ["2T"], "gpus": [1024]})
    for bad, near in ((df.rename(columns={"gpus": " gpus"}), "gpus"),
                      (df.rename(columns={"gpus": "GPUs"}), "gpus"),
                      (df.rename(columns={"gpus": "num_gpus"}), "gpus"),
                      (df.assign(**{"price-per-gpu-hour": 2.0}), "price_per_gpu_hour")):
        with pytest.raises(InputError, match=f"did you mean {near}\\?"):
            planner.estimate_many(bad)
    # one row of a frame is a Series, no table: the documented error, not pandas' AttributeError
    with pytest.raises(InputError, match=r"df\.iloc\[\[i\]\]"):
        planner.estimate_many(df.iloc[0])


@pytest.mark.parametrize("row, kw", [
    # a row's seq_len or global batch against the same assumption given another value
    ({"seq_len": [8192]}, {"seq_len": 8192, "assumptions": {"seq_len": 4096}}),
    ({"global_batch": ["8M"]}, {"global_batch": "8M",
                                "assumptions": {"global_batch_tokens": 4194304}}),
    # a --max-gpus above the sizing's ceiling
    ({"max_gpus": [2000000]}, {"max_gpus": 2000000}),
    # a catalog workload's own precision that the device has no peak for
    ({"workload": ["deepseek-v3"], "gpu": ["a100-80gb"], "params": None, "tokens": None},
     {"workload": "deepseek-v3", "gpu": "a100-80gb", "params": None, "tokens": None}),
])
def test_a_row_with_a_device_count_is_refused_as_estimate_refuses_it(row, kw):
    # an auditor's parity script: estimate refused these, estimate_many's columnar path
    # (rows with a device count) planned the first three and worded the fourth as --precision
    base = {"params": "7B", "tokens": "1T", "gpu": "h100-sxm", "gpus": 64}
    assumptions = kw.pop("assumptions", None)
    call = {k: v for k, v in {**base, **kw}.items() if v is not None}
    with pytest.raises(InputError) as exc:
        planner.estimate(**call, assumptions=assumptions)
    table = {k: [v] for k, v in base.items()}
    table.update({k: v for k, v in row.items() if v is not None})
    for k in [k for k, v in row.items() if v is None]:
        table.pop(k)
    out = estimate_many(table, assumptions=assumptions, progress=False)
    assert out.column("error").to_pylist() == [str(exc.value)]


@pytest.mark.parametrize("kw, assumptions", [
    (dict(params="70B", tokens="2T", gpu="h100-sxm", gpus=8192, max_gpus=4096),
     {"failure_rate_per_device_hour": 0.03}),  # failures outpace the restarts
    (dict(params="1T", tokens="2T", gpu="h100-sxm", gpus=8, max_gpus=4), None),  # memory
])
def test_a_count_past_max_gpus_is_said_beside_the_failures_or_the_memory(kw, assumptions):
    # the parity script: estimate said "; 8,192 devices break --max-gpus 4,096" after the
    # reason, estimate_many's columnar path left it out
    plan = planner.estimate(**kw, assumptions=assumptions)
    out = estimate_many({k: [v] for k, v in kw.items()}, assumptions=assumptions,
                        progress=False)
    assert plan.reason.endswith(f"{kw['gpus']:,} devices break --max-gpus {kw['max_gpus']:,}")
    assert out.column("reason").to_pylist() == [plan.reason]
    assert out.column("binding").to_pylist() == [plan.binding]


def test_a_broken_catalog_file_is_the_calls_error_not_each_rows(tmp_path):
    # library.md: catalog= holds for the whole table; a user accelerator with a negative peak
    # had come back as the same error in each of 20,000 rows, where estimate and sweep refuse
    from pathlib import Path

    shipped = Path(planner.__file__).resolve().parent.parent / "hardware" / "accelerators"
    text = "\n".join(ln for ln in (shipped / "h100-sxm.toml").read_text().splitlines()
                     if not ln.startswith("aliases"))
    bad = text.replace("peak_bf16_tflops = { value = ", "peak_bf16_tflops = { value = -", 1)
    assert bad != text
    (tmp_path / "hardware" / "accelerators").mkdir(parents=True)
    (tmp_path / "hardware" / "accelerators" / "x1000.toml").write_text(bad)
    rows = {"params": ["7B"], "tokens": ["1T"], "gpu": ["h100-sxm"], "gpus": [64]}
    with pytest.raises(planner.CatalogError, match=r"x1000\.toml: peak_bf16_tflops\.value"):
        planner.estimate_many(rows, catalog=str(tmp_path))


def test_the_tp_switch_is_read_as_estimate_reads_it():
    # an auditor: "false" and "no" had read true on the columnar path (bool of a text) and let
    # tp=16 past the 8-device domain, where estimate refuses "false" by the domain and "no"
    # as no switch; a row without it keeps the default (false)
    import pandas as pd

    shape = dict(layers=32, hidden=8192, heads=64, kv_heads=64, ffn=28672, vocab=128256,
                 tokens="1T", layout="tp=16,pp=2", gpus=1024)
    values = [False, "false", "no", True, "true"]
    frame = planner.estimate_many(pd.DataFrame(
        [dict(shape, allow_tp_beyond_domain=v) for v in values] + [dict(shape)]))
    assert frame["feasible"].tolist()[3:5] == [True, True]
    errors = frame["error"].tolist()
    for i in (0, 1, 5):
        assert "larger than the scale-up domain" in errors[i], errors[i]
    assert errors[2] == "allow_tp_beyond_domain: 'no' is not valid; accepted: true or false"
    for v in values:  # each row as estimate answers it
        try:
            planner.estimate(**shape, allow_tp_beyond_domain=v)
        except planner.InputError as exc:
            assert str(exc) in errors[values.index(v)]


def test_model_config_names_the_workload_in_a_table_and_a_spec_as_in_estimate():
    # an auditor: planner.estimate(model_config=...) planned, a column or a spec key of that
    # name was refused ("did you mean workload?")
    import pandas as pd

    one = planner.estimate(model_config="llama3-8b", tokens="1T", gpus=64).training_days
    frame = planner.estimate_many(pd.DataFrame({"model_config": ["llama3-8b"],
                                                "tokens": ["1T"], "gpus": [64]}))
    assert frame["training_days"].tolist() == [pytest.approx(one)]
    table = planner.sweep({"fixed": {"tokens": "1T", "gpus": 64},
                           "axes": {"model_config": ["llama3-8b"]}}).table
    assert table.column("workload").to_pylist() == ["llama3-8b"]
    assert table.column("training_days").to_pylist() == [pytest.approx(one)]
    with pytest.raises(InputError, match="conflicts with workload"):
        planner.estimate_many(pd.DataFrame({"model_config": ["llama3-8b"], "workload": ["x"],
                                            "tokens": ["1T"], "gpus": [64]}))
    with pytest.raises(InputError, match=re.escape("[axes] model_config: conflicts with "
                                                   "workload")):
        planner.sweep({"fixed": {"tokens": "1T", "gpus": 64, "workload": "llama3-8b"},
                       "axes": {"model_config": ["llama3-8b"]}})
    # a mode without a workload names the key as written (a review: "[axes] workload: ...")
    with pytest.raises(InputError, match=re.escape("[axes] model_config: 'model_config' is "
                                                   "not an input; accepted: an input of budget")):
        planner.sweep({"mode": "budget", "fixed": {"usd": "1M", "gpu": "h100-sxm"},
                       "axes": {"model_config": ["llama3-8b"]}})
    with pytest.raises(InputError, match=re.escape("model_config: 'x' conflicts with workload; "
                                                   "accepted: workload or model_config")):
        planner.estimate(workload="llama3-8b", model_config="x", tokens="1T")


def test_option_words_in_any_case_are_their_lower_case_words_in_the_library_too():
    # an auditor: the CLI took --precision FP8 (and Owned, TIME, ...) but planner.estimate
    # refused precision="FP8", ownership="OWNED", objective="Time", framework="Megatron-Core"
    # and ffn_type="Gated", and an estimate_many row put the refusal in its error column
    kw = dict(params="7B", tokens="200B", gpus=64, alternatives=False)
    words = dict(precision="FP8", ownership="OWNED", objective="Time",
                 framework="Megatron-Core", ffn_type="Gated")
    upper = planner.estimate(**kw, **words).to_dict()
    lower = planner.estimate(**kw, **{k: v.lower() for k, v in words.items()}).to_dict()
    assert upper["workload"]["precision"] == "fp8" and upper["cost_method"] == "owned"
    assert upper["assumptions"]["framework"]["value"] == "megatron-core"
    assert upper == lower
    with pytest.raises(InputError, match="--precision: 'FP9' is not valid"):
        planner.estimate(**kw, precision="FP9")
    with pytest.raises(InputError, match="--ownership: 'lease' is not valid"):
        planner.budget(usd="1M", ownership="lease")
    # a table: rows of the columnar path (Megatron-Core) and of estimate's own (a stack of
    # data parallelism alone) alike; the caller's columns stay as given
    rows = {"params": ["7B"] * 4, "tokens": ["200B"] * 4, "gpus": [64] * 4,
            "ownership": ["OWNED", "owned", "Cloud", "cloud"],
            "precision": ["FP8", "fp8", "BF16", "bf16"],
            "framework": ["PyTorch-FSDP", "pytorch-fsdp", "Megatron-Core", "megatron-core"]}
    out = estimate_many(pa.table(rows), progress=False)
    assert out.column("error").to_pylist() == [None] * 4
    assert out.column("cost_method").to_pylist() == ["owned", "owned", "cloud", "cloud"]
    assert out.column("workload_precision").to_pylist() == ["fp8", "fp8", "bf16", "bf16"]
    for name in ("cost_usd_total", "training_days", "layout_tp", "layout_zero"):
        got = out.column(name).to_pylist()
        assert got[0] == got[1] and got[2] == got[3], name
    assert out.column("precision").to_pylist() == rows["precision"]


def test_a_dict_of_columns_keeps_its_columns_before_the_answers():
    # an auditor: a dict's input columns were dropped (the table began at error), though a
    # Table or a DataFrame keeps them and docs/interface.md says the caller's own columns come
    # back as given
    out = estimate_many({"params": ["70B", 8e9], "tokens": ["2T", "1T"], "gpus": [64, 64],
                         "site": [None, None]}, progress=False)
    assert out.column_names[:5] == ["params", "tokens", "gpus", "site", "error"]
    assert out.column("tokens").to_pylist() == ["2T", "1T"]
    assert out.column("gpus").to_pylist() == [64, 64]
    assert out.column("params").to_pylist() == ["70B", "8000000000.0"]  # mixed: as text
    assert out.column("error").to_pylist() == [None, None]


def test_a_dict_column_arrow_cannot_hold_comes_back_as_text_not_an_error():
    # a review: a timedelta64 of hours and an int past 64 bits had raised from Arrow after
    # every row was answered (the row with the int is refused in its error column)
    out = estimate_many({"params": ["8B", "8B"], "tokens": ["100B", 10**20], "gpus": [64, 64],
                         "deadline": [np.timedelta64(2000, "h")] * 2}, progress=False)
    assert out.column("deadline").to_pylist() == ["2000 hours"] * 2
    assert out.column("tokens").to_pylist() == ["100B", str(10**20)]
    errors = out.column("error").to_pylist()
    assert errors[0] is None and "--tokens" in errors[1]


def test_a_negative_zero_is_zero_on_the_columnar_path_too():
    # a plain -0.0 price is taken without its parser there: it had priced the run at -0.0
    out = estimate_many({"params": ["7B"], "tokens": ["200B"], "gpus": [64],
                         "price_per_gpu_hour": [-0.0]}, progress=False)
    for name in ("cost_usd_total", "assumptions_price_per_gpu_hour_value"):
        value = out.column(name)[0].as_py()
        assert value == 0 and math.copysign(1, value) == 1, name
