"""A sweep refuses what its rows could not use, and resumes only into the same scenarios
(each test names what it used to do)."""

import json

import pytest

from planner.many import sweep as sweeping
from planner.many.spec import SpecError, load_spec
from planner.units import InputError


def _spec(fixed: dict | None = None, axes: dict | None = None) -> dict:
    return {"fixed": {"tokens": "1T", "gpus": 64, **(fixed or {})},
            "axes": axes or {"params": ["7B", "8B"]}}


@pytest.mark.parametrize("key, value", [("precision", "fp9"), ("objective", "cheap"),
                                        ("ownership", "lease"), ("team", "startup"),
                                        ("framework", "jax"), ("unit", "pod"),
                                        ("inventory", "h100-sxm=abc")])
def test_a_value_no_row_could_use_is_refused_before_any_work(key, value):
    # was: every row got the error in its error column and the sweep exited 0
    with pytest.raises(SpecError) as exc:
        sweeping.sweep(_spec({key: value}))
    assert str(exc.value).startswith(f"[fixed] {key}: {value!r}")


def test_spellings_estimate_reads_pass():
    result = sweeping.sweep(_spec({"team": "frontier-lab", "unit": "Node"}))
    assert result.table.column("error").null_count == 2


def test_swapped_axes_are_another_spec_for_resume(tmp_path):
    # was: the hash sorted the axes, so --resume of a spec with its axes swapped kept the old
    # parts and wrote new ones in the other scenario order (a scenario twice, one missing)
    a = _spec(axes={"params": ["7B", "8B"], "price_per_gpu_hour": [1.0, 2.0]})
    b = _spec(axes={"price_per_gpu_hour": [1.0, 2.0], "params": ["7B", "8B"]})
    assert load_spec(a).sha256 != load_spec(b).sha256
    sorted_axes = _spec(axes={"params": ["7B"], "seq_len": [4096]})
    assert "axis_order" not in json.dumps(load_spec(sorted_axes).to_dict())  # hash kept
    out = tmp_path / "out"
    sweeping.sweep(a, out, chunk_rows=2)
    (out / "part-00001.parquet").unlink()
    with pytest.raises(sweeping.OutputError, match="another spec"):
        sweeping.sweep(b, out, chunk_rows=2, resume=True)


def _rows_damaged(m: dict, rows) -> dict:
    return {**m, "parts": {k: {**v, "rows": rows} for k, v in m["parts"].items()}}


@pytest.mark.parametrize("damage", [lambda m: {**m, "parts": []}, lambda m: [],
                                    lambda m: {**m, "parts": {"part-00000.parquet": "x"}},
                                    # an auditor: TypeError, ZeroDivisionError (exit 1)
                                    lambda m: {**m, "chunk_rows": "abc"},
                                    lambda m: {**m, "chunk_rows": 0},
                                    lambda m: {**m, "scenarios": None},
                                    lambda m: _rows_damaged(m, "x"),
                                    lambda m: _rows_damaged(m, True)])
def test_a_damaged_manifest_is_named_not_an_internal_error(tmp_path, damage):
    # was: TypeError / AttributeError ("internal error", exit 1) on --resume
    out = tmp_path / "out"
    sweeping.sweep(_spec(), out)
    path = out / "_manifest.json"
    path.write_text(json.dumps(damage(json.loads(path.read_text()))))
    with pytest.raises(sweeping.OutputError, match="is not a planner sweep manifest"):
        sweeping.sweep(_spec(), out, resume=True)


def test_a_value_twice_on_an_axis_is_refused():
    # was: gpus = [256, 256] swept every scenario twice
    with pytest.raises(SpecError, match="gives 256 twice"):
        load_spec({"fixed": {"tokens": "1T", "params": "7B"}, "axes": {"gpus": [256, 256]}})


def test_an_unknown_key_names_the_nearest():
    # was: "is an unknown key" with the whole list and no suggestion
    from planner.fleet import schedule as fleet

    with pytest.raises(InputError, match=r"did you mean power_mw\?"):
        fleet.load({"start": "2027-01", "end": "2027-06",
                    "sites": [{"name": "a", "powr_mw": 10}],
                    "runs": [{"name": "r", "params": "1B", "tokens": "10B"}]})
    with pytest.raises(SpecError, match=r"did you mean deadline\?"):
        load_spec({"fixed": {"tokens": "1T", "params": "7B", "deadlin": "90d"},
                   "axes": {"gpus": [8]}})


def test_an_unknown_key_is_named_against_its_modes_inputs():
    # was: the schema's list of every mode's keys, so an estimate spec's "tokenz" was offered
    # budget's keys and "usdd" was told "did you mean usd?", which estimate does not take
    with pytest.raises(SpecError, match="an input of estimate") as err:
        load_spec({"fixed": {"tokens": "1T", "params": "7B"}, "axes": {"usdd": [1]}})
    assert "usd," not in str(err.value) and "did you mean usd" not in str(err.value)
    with pytest.raises(SpecError, match=r"did you mean tokens\?.*an input of budget by its "
                       r"flag name with underscores: usd,"):
        load_spec({"mode": "budget", "fixed": {"usd": "1M"}, "axes": {"tokenz": ["1T"]}})
    with pytest.raises(SpecError, match=r'is not an input \(an input of mode = "budget"\)'):
        load_spec({"fixed": {"tokens": "1T", "params": "7B"}, "axes": {"usd": ["1M"]}})


def test_a_workload_file_is_read_relative_to_the_spec(tmp_path, monkeypatch):
    # was: relative to the working directory, where the catalog was relative to the spec
    import shutil
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    (tmp_path / "specs").mkdir()
    shutil.copy(root / "workloads" / "llama3.1-8b.toml", tmp_path / "specs" / "mine.toml")
    path = tmp_path / "specs" / "what-if.toml"
    path.write_text('[fixed]\nworkload = "mine.toml"\ntokens = "1T"\n[axes]\ngpus = [64]\n')
    monkeypatch.chdir(tmp_path)  # not the spec's directory
    spec = load_spec(path)
    assert spec.fixed["workload"] == str(tmp_path / "specs" / "mine.toml")


def test_a_mistyped_key_of_the_catalog_gets_its_nearest_name():
    # estimate says "did you mean h100-sxm?"; a sweep's axis said only "is not known"
    with pytest.raises(SpecError, match=r"\[axes\] gpu: 'h100-smx' is not a known accelerator "
                                        r"\(did you mean h100-sxm\?\)"):
        sweeping.sweep(_spec(axes={"gpu": ["h100-smx"]}))


def test_a_data_parallel_only_stack_gets_estimates_rows_at_a_given_size():
    # was: with gpus given, the columnar path planned pytorch-fsdp with tp=2 (estimate: tp=1)
    # and 4,096 devices on a 2,048-sequence batch, which estimate refuses
    import planner

    result = sweeping.sweep({"fixed": {"tokens": "2T", "params": "13B", "gpu": "h100-sxm"},
                             "axes": {"gpus": [512, 4096],
                                      "framework": ["pytorch-fsdp", "deepspeed"]}})
    rows = result.table.to_pylist()
    fsdp = planner.estimate(params="13B", tokens="2T", gpu="h100-sxm", gpus=512,
                            framework="pytorch-fsdp")
    assert rows[0]["layout_tp"] == fsdp.layout["tp"] == 1
    assert rows[0]["training_days"] == pytest.approx(fsdp.training_days)
    assert rows[2]["error"].startswith("--gpus: 4096 is more devices than the batch has")
    assert rows[3]["error"] is None  # deepspeed builds model parallelism


def test_a_config_json_workload_is_taken_as_estimate_takes_it(tmp_path):
    # was: refused by the spec's check ("is not a known workload") though estimate reads it
    import planner

    config = tmp_path / "config.json"
    config.write_text(json.dumps({
        "model_type": "llama", "hidden_size": 4096, "intermediate_size": 14336,
        "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
        "vocab_size": 128256}))
    spec = tmp_path / "spec.toml"
    spec.write_text('[fixed]\nworkload = "config.json"\ntokens = "1T"\n[axes]\ngpus = [64]\n')
    row = sweeping.sweep(spec).table.to_pylist()[0]
    plan = planner.estimate(workload=str(config), tokens="1T", gpus=64)
    assert row["error"] is None and row["training_days"] == pytest.approx(plan.training_days)


@pytest.mark.parametrize("name, value, says", [
    ("deadline", 90, "90 is a plain number, read as seconds: far below any training run's"),
    ("power_cap", 150, "150 is a plain number, read as watts"),
])
def test_a_plain_number_far_below_any_run_is_refused(name, value, says):
    # was: deadline = 90 planned a 90-second deadline (114,688 devices, infeasible) and
    # power_cap = 5 a 5 W cap
    with pytest.raises(SpecError, match=says):
        sweeping.sweep(_spec(axes={name: [value]}))


def test_a_spec_path_is_read_whatever_its_name_and_a_missing_one_is_named(tmp_path):
    # was: whatif.txt parsed as TOML text ("not valid TOML"), missing.tml too, "" and a
    # binary file exit 0 / internal error
    text = '[fixed]\ntokens = "1T"\nparams = "7B"\n[axes]\ngpus = [64, 128]\n'
    for name in ("whatif.txt", "WHATIF.TOML", "whatif"):
        (tmp_path / name).write_text(text)
        assert len(load_spec(str(tmp_path / name)).axes[0][1]) == 2
    with pytest.raises(SpecError, match="cannot be read \\(No such file"):
        load_spec(str(tmp_path / "missing.tml"))
    with pytest.raises(SpecError, match="'' is empty"):
        load_spec("")
    (tmp_path / "bin.toml").write_bytes(b"\xff\xfe\x00[fixed]\x9c")
    with pytest.raises(SpecError, match="is not UTF-8 text"):
        load_spec(str(tmp_path / "bin.toml"))


def test_the_manifest_keeps_the_axes_order_that_numbers_the_scenarios(tmp_path):
    # was: the manifest's spec had its axes sorted (JSON sort_keys), so a spec rebuilt from
    # it numbered scenario 6 as 405B/8192 where the run had 70B/16384
    spec = {"fixed": {"tokens": "1T"}, "axes": {"params": ["7B", "70B"], "gpus": [64, 128]}}
    out = tmp_path / "out"
    sweeping.sweep(spec, out)
    recorded = json.loads((out / "_manifest.json").read_text())["spec"]
    again = load_spec(recorded)
    assert [n for n, _ in again.axes] == ["params", "gpus"]
    assert again.sha256 == load_spec(spec).sha256
    with pytest.raises(SpecError, match="axis_order: .* does not list the axes"):
        load_spec({**recorded, "axis_order": ["gpus"]})


def test_one_value_written_two_ways_is_a_value_twice():
    # was: gpus = [16000, "16K"] and deadline = ["90d", "2160h"] accepted (each scenario
    # twice), as were repeated [zip] rows; only a literal repeat was refused
    with pytest.raises(SpecError, match=r"\[axes\] gpus: .* gives '16K' and 16000, one value "
                                        "twice"):
        load_spec({"fixed": {"tokens": "1T", "params": "7B"}, "axes": {"gpus": [16000, "16K"]}})
    with pytest.raises(SpecError, match="gives '2160h' and '90d', one value twice"):
        load_spec(_spec(axes={"deadline": ["90d", "2160h"]}))
    with pytest.raises(SpecError, match=r"\[zip\]: .* row 3 repeats row 1"):
        load_spec({"fixed": {"tokens": "1T", "params": "7B"},
                   "zip": {"gpus": [64, 128, 64], "layout": ["tp=8", "tp=4", "tp=8"]}})


def test_a_sweep_result_keeps_its_place_and_shows_its_head(tmp_path, monkeypatch):
    # was: a relative path (read() failed after a chdir) and a notebook view that read the
    # whole dataset to show five rows; an assumption typo in estimate_many was each row's error
    import planner

    monkeypatch.chdir(tmp_path)
    r = sweeping.sweep({"fixed": {"tokens": "1T"}, "axes": {"params": ["7B", "8B"],
                                                            "gpus": [64, 128, 256]}}, "out")
    assert r.path.is_absolute()
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    assert r.read().num_rows == 6 and "first 5 rows" in r._repr_html_()
    with pytest.raises(planner.InputError, match="did you mean gemm_efficiency"):
        planner.estimate_many({"params": ["7B"], "tokens": ["1T"], "gpus": [64]},
                              assumptions={"gemm_eficiency": 0.8})


def test_a_resume_continues_in_the_chunks_the_sweep_began_with(tmp_path):
    # was: refused ("another chunk size (2, now 65536)") unless chunk_rows was given again,
    # though the manifest records it
    spec = {"fixed": {"tokens": "1T"}, "axes": {"params": ["7B", "8B"], "gpus": [64, 128]}}
    first = sweeping.sweep(spec, tmp_path / "out", chunk_rows=2)
    whole = first.read()
    (tmp_path / "out" / "part-00001.parquet").unlink()
    again = sweeping.sweep(spec, tmp_path / "out", resume=True)
    assert again.written == 1 and again.kept == 1
    assert again.read().column("training_days").equals(whole.column("training_days"))


def test_a_workload_files_column_is_its_path_relative_to_the_spec(tmp_path):
    # its absolute path had split one workload in two when a resumed sweep's directory moved
    import shutil
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    (tmp_path / "wl").mkdir()
    shutil.copy(root / "workloads" / "llama3.1-8b.toml", tmp_path / "wl" / "mine.toml")
    spec = tmp_path / "spec.toml"
    spec.write_text('[fixed]\nworkload = "wl/mine.toml"\ntokens = "1T"\n[axes]\ngpus = [64]\n')
    row = sweeping.sweep(spec).table.to_pylist()[0]
    assert row["workload"] == "wl/mine.toml" and row["error"] is None


@pytest.mark.parametrize("fixed, says", [
    ({"params": "7B", "ffn_type": "swiglu"}, r"\[fixed\] ffn_type: 'swiglu' is not valid"),
    ({"params": "1e30"}, r"\[fixed\] params: '1e30' is not valid; accepted: a count between"),
    ({"params": "7B", "seq_len": "1Ti"}, r"\[fixed\] seq_len: '1Ti' is too large.*at most 128Mi"),
    ({"layers": 100_000_000, "hidden": 4096, "heads": 32, "vocab": 32000, "ffn": 11008},
     r"\[fixed\] layers: 100000000 is too large.*at most 16Mi"),
])
def test_a_value_the_flag_refuses_refuses_the_sweep_before_any_row(fixed, says):
    # each had written an error into every row of a sweep that exited 0
    with pytest.raises(SpecError, match=says):
        sweeping.sweep({"fixed": {"tokens": "1T", **fixed}, "axes": {"gpus": [64, 128]}})


def test_an_empty_spec_or_an_input_outside_a_section_is_refused(tmp_path):
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    with pytest.raises(SpecError, match="names no input"):  # it had planned one error row
        load_spec(empty)
    with pytest.raises(SpecError, match=r"is not a section \(an input: under \[fixed\]"):
        load_spec('tokens = "1T"\n[fixed]\nparams = "7B"\n')
    # --model-config's name is the workload's, as estimate takes it (it had been refused)
    assert load_spec({"fixed": {"model_config": "llama3-8b", "tokens": "1T"}}
                     ).fixed["workload"] == "llama3-8b"


def test_a_seed_seeds_only_the_scenarios_that_run_a_monte_carlo():
    # was: a seed with no uncertainty ran every row without a word (estimate refuses it)
    with pytest.raises(SpecError) as exc:
        sweeping.sweep(_spec({"seed": 4}))
    assert str(exc.value).startswith("[fixed] seed: 4 seeds nothing without uncertainty")
    # beside an uncertainty axis it seeds the rows that run one; the others run as without it
    rows = sweeping.sweep(_spec({"seed": 4}, {"params": ["7B"],
                                              "uncertainty": [True, False]})).table.to_pylist()
    assert [r["error"] for r in rows] == [None, None]
    assert rows[0]["p50_training_days"] is not None and rows[1]["p50_training_days"] is None


def test_estimate_many_refuses_a_rows_seed_without_uncertainty_as_estimate_does():
    import pandas as pd

    import planner

    frame = planner.estimate_many(pd.DataFrame({"params": ["7B"] * 3, "tokens": ["1T"] * 3,
                                                "gpus": [64] * 3, "seed": [3, None, 3],
                                                "uncertainty": [False, False, True]}))
    assert frame["error"][0].startswith("--seed: 3 seeds nothing without --uncertainty")
    assert pd.isna(frame["error"][1]) and pd.isna(frame["error"][2])
    with pytest.raises(planner.InputError, match="seeds nothing without --uncertainty"):
        planner.estimate(params="7B", tokens="1T", gpus=64, seed=3)


def test_a_spec_catalog_that_does_not_exist_names_the_spec_key(tmp_path):
    # was: "catalog directory '.../nope' does not exist" alone, naming neither [fixed] catalog
    # nor what it accepts
    with pytest.raises(SpecError, match=r"\[fixed\] catalog: catalog directory '.*nope' does "
                                        r"not exist; accepted: catalog directories"):
        sweeping.sweep({"fixed": {"tokens": "1T", "gpus": 64, "gpu": "h100-sxm",
                                  "catalog": str(tmp_path / "nope")},
                        "axes": {"params": ["7B", "13B"]}})


def test_a_toml_date_and_a_misplaced_mode_are_said_in_the_files_words():
    # an auditor: "datetime.date(2027, 1, 1) is not a number", and mode written under [fixed]
    # was "not an input" with no word of where it goes
    import datetime

    with pytest.raises(SpecError, match=r"\[fixed\] deadline: 2027-01-01 is not a number"):
        load_spec({"fixed": {"tokens": "1T", "params": "1B",
                             "deadline": datetime.date(2027, 1, 1)}})
    with pytest.raises(SpecError, match=r"a top-level key: write it before any \[section\]"):
        load_spec('[fixed]\ntokens = "1T"\nparams = "1B"\nmode = "budget"\n')


def test_option_words_in_any_case_are_read_and_counted_as_their_lower_case_words():
    # an auditor: precision = ["bf16", "BF16"] was refused as a whole ("'BF16' is not
    # valid"), as was any spec writing an option's word as the CLI takes it ("FP8", "Owned")
    with pytest.raises(SpecError, match=r"\[axes\] precision: .* gives 'BF16' and 'bf16', "
                                        "one value twice"):
        load_spec(_spec(axes={"precision": ["bf16", "BF16"]}))
    spec = load_spec(_spec({"ownership": "Owned", "framework": "Megatron-Core",
                            "objective": "TIME"}, {"precision": ["BF16", "fp8"]}))
    assert spec.fixed["ownership"] == "owned" and spec.fixed["framework"] == "megatron-core"
    assert spec.fixed["objective"] == "time" and spec.axes == (("precision", ("bf16", "fp8")),)
    upper = sweeping.sweep(_spec({"ownership": "OWNED", "ffn_type": "Gated"},
                                 {"precision": ["FP8"], "params": ["7B"]})).table
    lower = sweeping.sweep(_spec({"ownership": "owned", "ffn_type": "gated"},
                                 {"precision": ["fp8"], "params": ["7B"]})).table
    assert upper.column("error").to_pylist() == [None]
    assert upper.column("cost_method").to_pylist() == ["owned"]
    assert upper.column("cost_usd_total").to_pylist() == lower.column("cost_usd_total").to_pylist()
    with pytest.raises(SpecError, match=r"\[fixed\] precision: 'FP9'"):
        sweeping.sweep(_spec({"precision": "FP9"}))


def test_an_accelerator_or_a_layout_written_two_ways_is_a_value_twice():
    # an auditor: gpu = ["h100", "h100-sxm", "H100-SXM"] gave three identical rows and
    # layout = [{tp=8,pp=2}, "pp=2,tp=8"] two: only quantities were compared by their value
    with pytest.raises(SpecError, match=r"\[axes\] gpu: .* gives 'H100-SXM' and 'h100-sxm', "
                                        "one value twice"):
        load_spec(_spec(axes={"gpu": ["h100-sxm", "H100-SXM"]}))
    # an alias is the catalog's: refused before any work, with the catalog in hand
    with pytest.raises(SpecError, match=r"\[axes\] gpu: .* gives 'h100-sxm' and 'h100', "
                                        "one value twice"):
        sweeping.sweep(_spec(axes={"gpu": ["h100", "h100-sxm"]}))
    with pytest.raises(SpecError, match=r"\[axes\] gpu: .* one value twice"):
        sweeping.sweep(_spec(axes={"gpu": [["h100", "b200"], "h100-sxm,B200"]}))
    with pytest.raises(SpecError, match=r"\[axes\] layout: .* gives 'pp=2,tp=8' and "
                                        r"\{'tp': 8, 'pp': 2\}, one value twice"):
        load_spec(_spec(axes={"layout": [{"tp": 8, "pp": 2}, "pp=2,tp=8"]}))
    with pytest.raises(SpecError, match=r"\[axes\] layout: .* one value twice"):
        load_spec(_spec(axes={"layout": ["mb=2,TP=8", "tp=8,microbatch=2"]}))
    with pytest.raises(SpecError, match=r"\[zip\]: .* row 2 repeats row 1"):
        sweeping.sweep({"fixed": {"tokens": "1T", "params": "7B"},
                        "zip": {"gpus": [64, 64], "gpu": ["h100", "h100-sxm"]}})
    # a catalog workload in any case, as estimate reads it (a review: two identical rows)
    with pytest.raises(SpecError, match=r"\[axes\] workload: .* gives 'Llama3-8B' and "
                                        "'llama3-8b', one value twice"):
        sweeping.sweep({"fixed": {"tokens": "1T", "gpus": 64},
                        "axes": {"workload": ["llama3-8b", "Llama3-8B"]}})
    # values that differ still sweep: each accelerator, each layout once
    assert sweeping.sweep(_spec(axes={"gpu": ["h100", "b200"],
                                      "layout": ["tp=8", "tp=8,pp=2"]})).table.num_rows == 4


def test_a_resume_with_fixed_and_zip_reordered_writes_one_schema(tmp_path):
    # was: the same hash (its JSON sorts keys) resumed, and the new part's input columns in
    # the new order: read() raised ArrowInvalid "Schema at index 1 was different"
    first = ('[fixed]\ntokens = "1T"\ngpu = "h100-sxm"\n[axes]\ngpus = [64, 128]\n'
             '[zip]\nparams = ["7B", "8B"]\nseq_len = [2048, 4096]\n')
    again = ('[fixed]\ngpu = "h100-sxm"\ntokens = "1T"\n[axes]\ngpus = [64, 128]\n'
             '[zip]\nseq_len = [2048, 4096]\nparams = ["7B", "8B"]\n')
    assert load_spec(first).sha256 == load_spec(again).sha256
    whole = sweeping.sweep(first, tmp_path / "out", chunk_rows=2).read()
    (tmp_path / "out" / "part-00001.parquet").unlink()
    done = sweeping.sweep(again, tmp_path / "out", resume=True)
    assert done.written == 1
    table = done.read()
    # [fixed] by name, the axes as written, [zip] by name
    assert table.column_names[:6] == ["scenario", "gpu", "tokens", "gpus", "params", "seq_len"]
    assert table.equals(whole)
    assert len(done.to_frame()) == 4


def test_a_table_valued_input_is_written_as_its_flags_text():
    # was: '{"pp": 1, "tp": 2}' and '{"b200": 8000, "h100-sxm": 20000}', JSON text that no
    # flag takes, so a row could not be run again from its own cells
    import planner

    rows = sweeping.sweep({
        "fixed": {"params": "8B", "tokens": "1T", "gpu": ["h100-sxm", "b200"],
                  "inventory": {"h100-sxm": 20000, "b200": "8K"}},
        "axes": {"layout": [{"tp": 2, "pp": 1}, "tp=1,pp=2"]}}).table
    assert rows.column("layout").to_pylist() == ["pp=1,tp=2", "tp=1,pp=2"]
    assert rows.column("inventory").to_pylist() == ["b200=8K,h100-sxm=20000"] * 2
    assert rows.column("gpu").to_pylist() == ["h100-sxm,b200"] * 2
    again = planner.estimate_many(rows.select(["params", "tokens", "gpu", "inventory",
                                               "layout"]))
    assert again.column("error").to_pylist() == [None, None]
    assert again.column("training_days").equals(rows.column("training_days"))
    first = rows.to_pylist()[0]
    plan = planner.estimate(params="8B", tokens="1T", gpu=first["gpu"],
                            inventory=first["inventory"], layout=first["layout"])
    assert plan.layout["tp"] == 2 and plan.training_days == pytest.approx(first["training_days"])


def test_a_sweep_takes_zero_shared_experts_and_dense_layers_as_estimate_does():
    # a review: the spec's parsers had refused 0 ("must be greater than zero") where estimate
    # and estimate_many take it (a plan's own workload reports Mixtral's 0 and 0)
    got = sweeping.sweep({"fixed": {"workload": "deepseek-v3", "tokens": "1T", "gpus": 1024},
                          "axes": {"dense_layers": [0, 3], "shared_experts": [0, 1]}})
    assert got.table.num_rows == 4 and got.table.column("error").null_count == 4
    assert sorted(set(got.table.column("dense_layers").to_pylist())) == [0, 3]
    with pytest.raises(SpecError, match="layers"):  # the other shape counts stay positive
        sweeping.sweep({"fixed": {"workload": "deepseek-v3", "tokens": "1T", "gpus": 1024},
                        "axes": {"layers": [0, 61]}})
