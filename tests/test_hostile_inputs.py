"""Issue #17's property, over the whole command line: whatever a careful user or a careless
script passes, `planner` answers with sane figures (exit 0) or refuses naming an input
(exit 2); never exit 1 (an internal error), never a hang. Hypothesis draws the commands from
good values and hostile ones (negative, zero, huge, non-finite, malformed, empty, unknown)."""

import contextlib
import io
import json
import math
import os
import re
import time
import warnings
from dataclasses import fields
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cli
from planner.assumptions import Assumptions

# How many commands a run draws (CI runs the default; PLANNER_HYPOTHESIS_EXAMPLES=500 digs).
EXAMPLES = int(os.environ.get("PLANNER_HYPOTHESIS_EXAMPLES", "30"))
# A command may take a few seconds (a sizing under limits runs CP-SAT); none may hang.
SECONDS = 20.0

HOSTILE = st.one_of(
    st.sampled_from(["", " ", "abc", "-5", "0", "-0", "-1e30", "1e30", "1e309", "nan", "inf",
                     "-inf", "1,000", "1_000", "0x10", "\u0661\u0662", "1e-320", "5B5", "$",
                     "None", "1.5", "2.5e3", "7.5", "1e15", "1e18", "99999999999999999999"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-10**20, 10**20).map(str))


def values(*good: str):
    return st.one_of(st.sampled_from(good), st.sampled_from(good), HOSTILE)


def layouts():
    part = st.tuples(
        st.sampled_from(["tp", "pp", "dp", "cp", "ep", "mb", "vp", "zero", "recompute", "xx"]),
        st.one_of(st.integers(-2, 20000).map(str),
                  st.sampled_from(["1", "2", "4", "8", "16", "none", "full", "abc", ""])))
    return st.lists(part, max_size=4).map(lambda xs: ",".join(f"{k}={v}" for k, v in xs))


ASSUMPTIONS = [f.name for f in fields(Assumptions)]
FLAGS = {
    "--tokens": values("1T", "15T", "100B", "2T"),
    "--gpus": values("64", "1024", "16384", "8", "1000000", "512"),
    "--gpu": st.sampled_from(["h100-sxm", "b200", "mi300x", "tpu-v5p", "h100", "a100-80gb",
                              "h100-sxm,b200", "", "nope", ","]),
    "--layout": layouts(),
    "--deadline": values("90d", "30d", "2w", "400d"),
    "--budget": values("500M", "$1B", "10M"),
    "--power-cap": values("150MW", "5MW", "5kW", "1GW"),
    "--max-gpus": values("4096", "100000"),
    "--seq-len": values("8192", "4096", "131072"),
    "--global-batch": values("16M", "4M", "64M"),
    "--precision": st.sampled_from(["bf16", "fp8", "fp4", "fp16"]),
    "--price-per-gpu-hour": values("2.5", "0", "$3"),
    "--pue": values("1.2", "1.05", "2"),
    "--energy-usd-per-kwh": values("0.08", "0", "$0.2"),
    "--assume": st.tuples(st.sampled_from(ASSUMPTIONS + ["bogus"]),
                          st.one_of(HOSTILE, st.sampled_from(["0.5", "1", "true", "0.01"]))
                          ).map("=".join),
    "--objective": st.sampled_from(["cost", "time"]),
    "--ownership": st.sampled_from(["cloud", "owned"]),
    "--site": st.sampled_from(["us-hyperscale", "cheap-power", "nope", ""]),
    "--network": st.sampled_from(["ib-ndr", "nvlink4", "roce-400g", "nope", ""]),
    "--seed": values("0", "7"),
    "--window": values("4096", "1024", "128"),
    "--window-layers": values("16", "1", "40"),
}
MODELS = st.one_of(
    st.tuples(st.just("--params"), values("7B", "70B", "1T", "405B", "8B")),
    st.tuples(st.just("--workload"), st.sampled_from(["llama3.1-405b", "llama3.1-8b",
                                                      "deepseek-v3", "gpt3-175b", "nope", ""])))


@st.composite
def commands(draw) -> list[str]:
    args = ["estimate", "--format", "json"]
    args += list(draw(MODELS))
    if draw(st.integers(0, 9)) == 0:  # now and then a conflicting second model
        args += list(draw(MODELS))
    for flag in draw(st.sets(st.sampled_from(sorted(FLAGS)), max_size=5)):
        args += [flag, draw(FLAGS[flag])]
    if draw(st.integers(0, 5)) == 0:
        args.append("--uncertainty")
    if draw(st.integers(0, 5)) == 0:  # a tornado: bare (cost), a quantity, or a bad one
        args += ["--sensitivity", *draw(st.sampled_from(
            [[], ["training_days"], ["gpu_hours"], ["days"], [""]]))]
    return args


def run(args: list[str]) -> tuple[int, str, str]:
    """(exit status, stdout, the error as the user reads it: stderr, or with --format json the
    error object on stdout); numpy's warnings (an overflow the user would see on stderr) are
    failures too."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
            warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        try:
            cli.main(args)
        except SystemExit as exc:
            code = int(exc.code or 0)
    noisy = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert not noisy, (args, noisy)
    shown = err.getvalue() + (out.getvalue() if code and '"error"' in out.getvalue() else "")
    return code, out.getvalue(), shown


def sane(d: dict) -> None:
    """The figures of an answer are physical (unknown may be null)."""
    def known(x):
        return x is not None

    for name in ("training_days", "gpu_hours", "power_mw", "energy_mwh", "step_time_s",
                 "tokens_per_s", "tflops_per_gpu", "memory_gb_per_gpu", "model_flops"):
        x = d.get(name)
        assert not known(x) or (math.isfinite(x) and x > 0), (name, x)
    if known(d.get("mfu")):
        assert 0 < d["mfu"] <= d["hfu"] * (1 + 1e-9) <= 1 + 1e-9, (d["mfu"], d["hfu"])
    if known(d.get("goodput")):
        assert 0 <= d["goodput"] <= 1
    total = (d.get("cost_usd") or {}).get("total")
    assert not known(total) or (math.isfinite(total) and total >= 0), total
    if d["feasible"]:
        assert known(d["training_days"]) and known(d["cluster"]) and d["cluster"]["gpus"] >= 1
        layout = d["layout"]
        assert layout["tp"] * layout["pp"] * layout["dp"] * layout["cp"] == d["cluster"]["gpus"]
    for q in ("p10", "p50", "p90"):
        for name, x in (d.get(q) or {}).items():
            assert not known(x) or (math.isfinite(x) and x >= 0), (q, name, x)
    for row in (d.get("sensitivity") or {}).get("rows", []):
        for end in ("at_low", "at_high", "base"):
            x = row[end]
            assert not known(x) or (math.isfinite(x) and x >= 0), (row["assumption"], end, x)


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(commands())
def test_any_command_answers_sanely_or_names_the_bad_input(args):
    t0 = time.perf_counter()
    code, out, err = run(args)
    took = time.perf_counter() - t0
    assert took < SECONDS, (args, took)
    assert code in (0, 2), (args, code, err[-600:])
    assert "Traceback" not in out + err
    if code == 2:
        # a flag of the command, or the model's size a missing one needs (--params, --tokens,
        # --workload): never one the command did not give
        given_flags = {a for a in args if a.startswith("--")} | {"--tokens", "--params",
                                                                 "--workload"}
        named = set(re.findall(r"--[a-z][a-z-]*", err))
        assert named & given_flags or ".toml" in err, (args, err[-600:])
        return
    sane(json.loads(out))


# --- the budget command ------------------------------------------------------------------------

@st.composite
def budget_commands(draw) -> list[str]:
    args = ["budget", "--format", "json"]
    limits = {"--usd": values("100M", "1B", "$50M"), "--power-cap": values("50MW", "300MW"),
              "--deadline": values("90d", "150d"), "--gpus": values("4096", "16384"),
              "--max-gpus": values("8192")}
    extra = {"--gpu": st.sampled_from(["h100-sxm", "b200", "h100-sxm,b200", "", "nope"]),
             "--params": values("70B", "1T"), "--tokens": values("15T"),
             "--tokens-per-param": values("20", "40"), "--year": values("2026", "2027", "1990"),
             "--price-trend": values("0.14", "0.3"), "--assume": FLAGS["--assume"]}
    for flag in draw(st.sets(st.sampled_from(sorted(limits)), min_size=1, max_size=2)):
        args += [flag, draw(limits[flag])]
    for flag in draw(st.sets(st.sampled_from(sorted(extra)), max_size=2)):
        args += [flag, draw(extra[flag])]
    return args


@settings(max_examples=max(4, EXAMPLES // 5), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(budget_commands())
def test_any_budget_answers_sanely_or_names_the_bad_input(args):
    t0 = time.perf_counter()
    code, out, err = run(args)
    assert time.perf_counter() - t0 < 3 * SECONDS, args
    assert code in (0, 2), (args, code, err[-600:])
    if code == 2:
        assert set(re.findall(r"--[a-z][a-z-]*", err)) - {"--help"}, (args, err[-600:])
        return
    d = json.loads(out)
    if d.get("cluster"):
        sane(d)


# --- catalog figures ---------------------------------------------------------------------------

H100 = (Path(__file__).resolve().parent.parent / "hardware/accelerators/h100-sxm.toml")
FIGURES = [line.split(" = ", 1)[0] for line in H100.read_text().splitlines()
           if " = { value = " in line]
TOML_NUMBERS = st.one_of(
    st.sampled_from(["-50", "0", "1", "0.5", "7.5", "inf", "-inf", "nan", "1e300", "5",
                     "2017", "8", "1e-300", '"80"', "true"]),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(repr),
    st.integers(-10**6, 10**7).map(str))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(FIGURES), TOML_NUMBERS)
def test_any_catalog_figure_plans_sanely_or_names_the_file(tmp_path_factory, figure, value):
    folder = tmp_path_factory.mktemp("cat") / "hardware/accelerators"
    folder.mkdir(parents=True)
    lines = []
    for line in H100.read_text().splitlines():
        if line.startswith(f"{figure} = {{ value = "):
            rest = line.split(",", 1)[1]
            # the figure's own range would refuse a value outside low..high: drop them
            rest = re.sub(r", (low|high) = [^,}]+", "", rest)
            line = f"{figure} = {{ value = {value},{rest}"
        lines.append(line)
    (folder / "h100-sxm.toml").write_text("\n".join(lines) + "\n")
    args = ["estimate", "--format", "json", "--params", "70B", "--tokens", "2T", "--gpus",
            "1024", "--catalog", str(folder.parent.parent)]
    code, out, err = run(args)
    assert code in (0, 2), (figure, value, code, err[-600:])
    if code == 2:
        assert "h100-sxm.toml" in err and figure in err, (figure, value, err[-600:])
        return
    sane(json.loads(out))


# --- the library ------------------------------------------------------------------------------

ANY = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**20),
                st.floats(allow_nan=True, allow_infinity=True), HOSTILE,
                st.lists(st.integers(0, 9), max_size=2), st.just({"x": 1}), st.just(object()))
KWARGS = {"gpus": ANY, "tokens": ANY, "deadline": ANY, "budget": ANY, "power_cap": ANY,
          "layout": st.one_of(ANY, layouts(), st.just({"tp": 8, "pp": "x"})),
          "seed": ANY, "uncertainty": ANY, "catalog": ANY, "ffn_type": ANY, "precision": ANY,
          "price_per_gpu_hour": ANY, "pue": ANY, "seq_len": ANY, "global_batch": ANY,
          "inventory": ANY, "gpu": ANY, "assumptions": st.one_of(
              ANY, st.dictionaries(st.sampled_from(ASSUMPTIONS + ["bogus"]), ANY, max_size=2))}


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.fixed_dictionaries({}, optional=KWARGS))
def test_any_library_call_answers_or_raises_a_user_error(kwargs):
    import planner
    from planner.errors import CatalogError, InputError, LayoutError

    base = {"params": "70B", "tokens": "2T", "gpus": 1024}
    try:
        plan = planner.estimate(**{**base, **kwargs})
    except (InputError, LayoutError, CatalogError) as exc:
        assert str(exc)
        return
    sane(plan.to_dict())


# --- whatever a declaration accepts, the model answers sanely -----------------------------------

def within(node) -> st.SearchStrategy:
    """Numbers a declared range accepts, its ends (and just inside them) the likeliest."""
    lo = node.low if node.low is not None else -1e6
    hi = node.high if node.high is not None else max(1e6, 10 * abs(lo))
    ends = [x for x in (lo, hi, lo * (1 + 1e-9) + 1e-12, hi * (1 - 1e-9)) if lo <= x <= hi
            and not (node.low_open and x == lo) and not (node.high_open and x == hi)
            and node.problem(x) is None]
    inner = st.floats(min_value=lo, max_value=hi, exclude_min=node.low_open,
                      exclude_max=node.high_open, allow_nan=False)
    if lo > 0:  # log-uniform over positive ranges: every order of magnitude
        inner = st.floats(math.log10(lo), math.log10(hi)).map(lambda e: 10 ** e).filter(
            lambda x: node.problem(x) is None)
    out = st.one_of(st.sampled_from(ends), inner) if ends else inner
    if node.whole:
        out = out.map(round).filter(lambda x: node.problem(x) is None)
    return out


def _assumption_values():
    from planner.assumptions import _FIELDS  # noqa: PLC2701 - the declaration itself
    from planner.schema import Number

    numeric = sorted(n for n, (_, v) in _FIELDS.items() if isinstance(v, Number))
    return st.sampled_from(numeric).flatmap(
        lambda n: st.tuples(st.just(n), within(_FIELDS[n][1])))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_assumption_values(), st.sampled_from([None, "60d"]))
def test_any_assumption_its_range_accepts_plans_sanely(item, deadline):
    import planner
    from planner.errors import CatalogError, InputError, LayoutError

    name, value = item
    kwargs = {"gpus": 1024} if deadline is None else {"deadline": deadline}
    try:
        plan = planner.estimate(params="70B", tokens="2T", assumptions={name: value}, **kwargs)
    except (InputError, LayoutError, CatalogError) as exc:  # e.g. no layout of 1024 devices
        assert name in str(exc) or "--gpus" in str(exc) or "--layout" in str(exc), str(exc)
        return
    sane(plan.to_dict())


def _figure_values():
    from planner.catalog_schema import ACCELERATOR
    from planner.schema import Table

    names = sorted(k for k, v in ACCELERATOR.keys.items() if isinstance(v.node, Table))
    return st.sampled_from(names).flatmap(lambda n: st.tuples(
        st.just(n), within(ACCELERATOR.keys[n].node.keys["value"].node)))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_figure_values())
def test_any_figure_its_range_accepts_plans_sanely(tmp_path_factory, item):
    figure, value = item
    folder = tmp_path_factory.mktemp("cat") / "hardware/accelerators"
    folder.mkdir(parents=True)
    lines = []
    for line in H100.read_text().splitlines():
        if line.startswith(f"{figure} = {{ value = "):
            rest = re.sub(r", (low|high) = [^,}]+", "", line.split(",", 1)[1])
            line = f"{figure} = {{ value = {value!r},{rest}"
        lines.append(line)
    (folder / "h100-sxm.toml").write_text("\n".join(lines) + "\n")
    code, out, err = run(["estimate", "--format", "json", "--params", "70B", "--tokens", "2T",
                          "--gpus", "1024", "--catalog", str(folder.parent.parent)])
    assert code in (0, 2), (figure, value, code, err[-600:])
    if code == 0:
        sane(json.loads(out))


# --- tables of scenarios ----------------------------------------------------------------------

CELL = st.one_of(st.none(), HOSTILE, st.floats(allow_nan=True, allow_infinity=True))
COLUMNS = {"params": st.one_of(st.sampled_from(["7B", "70B", "1T"]), CELL),
           "tokens": st.one_of(st.sampled_from([1e12, "2T"]), CELL),
           "gpus": st.one_of(st.sampled_from([64, 1024, None]), CELL),
           "layout": st.one_of(st.none(), layouts()),
           "price_per_gpu_hour": st.one_of(st.sampled_from([2.0, 2.5]), CELL),
           "deadline": st.one_of(st.sampled_from(["60d", None]), CELL),
           "pue": st.one_of(st.sampled_from([1.2, None]), CELL),
           "gpu": st.sampled_from(["h100-sxm", "b200", "", "nope", None])}


@settings(max_examples=max(4, EXAMPLES // 3), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.fixed_dictionaries({k: COLUMNS[k] for k in ("params", "tokens", "gpus")},
                                      optional={k: v for k, v in COLUMNS.items()
                                                if k not in ("params", "tokens", "gpus")}),
                min_size=1, max_size=6))
def test_any_table_answers_each_row_or_names_its_error(rows):
    import pyarrow as pa

    import planner

    names = sorted({k for r in rows for k in r})
    table = pa.table({k: pa.array([None if r.get(k) is None else str(r[k]) for r in rows],
                                  pa.string()) for k in names})
    out = planner.estimate_many(table)  # never raises for a row's values
    assert out.num_rows == len(rows)
    for row in out.to_pylist():
        if row["error"] is not None:
            assert re.search(r"--[a-z][a-z-]*", row["error"]), row["error"]
            continue
        for name in ("training_days", "gpu_hours", "power_mw", "step_time_s"):
            assert row[name] is None or (math.isfinite(row[name]) and row[name] > 0), row
        if row["mfu"] is not None:
            assert 0 < row["mfu"] <= row["hfu"] * (1 + 1e-9) <= 1 + 1e-9, row


# --- sweep specs ------------------------------------------------------------------------------

SPEC_VALUES = {"params": values("7B", "70B"), "tokens": values("1T", "2T"),
               "gpus": st.one_of(st.sampled_from([64, 1024]), values("64")),
               "gpu": st.sampled_from(["h100-sxm", "b200", "", "nope"]),
               "layout": layouts(), "deadline": values("60d"),
               "bogus": st.just(1)}


@st.composite
def specs(draw) -> dict:
    spec: dict = {"fixed": {}, "axes": {}}
    others = sorted(set(SPEC_VALUES) - {"params", "tokens"})
    for name in ["params", "tokens"] + sorted(draw(st.sets(st.sampled_from(others),
                                                           max_size=3))):
        if draw(st.booleans()):
            spec["fixed"][name] = draw(SPEC_VALUES[name])
        else:
            spec["axes"][name] = draw(st.lists(SPEC_VALUES[name], min_size=int(draw(
                st.integers(0, 5)) > 0), max_size=3))
    if draw(st.integers(0, 4)) == 0:
        spec["fixed"]["assumptions"] = {draw(st.sampled_from(ASSUMPTIONS + ["bogus"])):
                                        draw(st.one_of(st.floats(), st.integers(-5, 10**9)))}
    return {k: v for k, v in spec.items() if v}


@settings(max_examples=max(4, EXAMPLES // 3), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(specs())
def test_any_sweep_spec_answers_or_names_the_section(spec):
    import math as m

    from planner.errors import CatalogError, InputError, LayoutError
    from planner.many import sweep as sweeping

    try:
        table = sweeping.sweep(spec).table
    except (InputError, LayoutError, CatalogError) as exc:
        assert re.search(r"\[(fixed|axes|zip)\]|mode|--", str(exc)), str(exc)
        return
    for row in table.to_pylist():
        if row["error"] is None and row["training_days"] is not None:
            assert m.isfinite(row["training_days"]) and row["training_days"] > 0, row
