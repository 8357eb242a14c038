"""A sweep refuses what its rows could not use, and resumes only into the same scenarios
(each test names what it used to do)."""

import json

import pytest

from planner.many import sweep as sweeping
from planner.many.spec import SpecError, load_spec


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


@pytest.mark.parametrize("damage", [lambda m: {**m, "parts": []}, lambda m: [],
                                    lambda m: {**m, "parts": {"part-00000.parquet": "x"}}])
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

    with pytest.raises(Exception, match=r"did you mean power_mw\?"):
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
