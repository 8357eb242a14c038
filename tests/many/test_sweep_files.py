"""A sweep reads the files its rows depend on (catalogs, workload files) as they are when it
runs, and a resume refuses a dataset whose files changed (each test names what it used to
do)."""

import json
import shutil
from pathlib import Path

import pytest

import planner
from planner.many.dataset import OutputError

ROOT = Path(__file__).resolve().parents[2]
PRICE = "cloud_contract_usd_per_hour = { value = 2.35"


@pytest.fixture
def spec_dir(tmp_path) -> Path:
    """A spec beside a catalog holding a copy of h100-sxm and a workload file (32 layers)."""
    acc = tmp_path / "cat" / "hardware" / "accelerators"
    acc.mkdir(parents=True)
    shutil.copy(ROOT / "hardware" / "accelerators" / "h100-sxm.toml", acc)
    assert PRICE in (acc / "h100-sxm.toml").read_text()
    shutil.copy(ROOT / "workloads" / "llama3-8b.toml", tmp_path / "mine.toml")
    assert "layers = 32\n" in (tmp_path / "mine.toml").read_text()
    (tmp_path / "spec.toml").write_text(
        '[fixed]\ncatalog = "cat"\ngpu = "h100-sxm"\ntokens = "1T"\nworkload = "mine.toml"\n'
        '[axes]\ngpus = [64, 128]\n')
    return tmp_path


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_a_second_sweep_in_one_process_reads_the_edited_catalog(spec_dir):
    # was: the context cached per spec hash answered with the old price, while the manifest
    # recorded the new catalog's fingerprint
    first = planner.sweep(spec_dir / "spec.toml", spec_dir / "o1", progress=False).read()
    _edit(spec_dir / "cat" / "hardware" / "accelerators" / "h100-sxm.toml", PRICE,
          "cloud_contract_usd_per_hour = { value = 2.00")
    second = planner.sweep(spec_dir / "spec.toml", spec_dir / "o2", progress=False).read()
    now = planner.estimate(workload=str(spec_dir / "mine.toml"), tokens="1T", gpu="h100-sxm",
                           gpus=64, catalog=str(spec_dir / "cat"))
    assert second.column("cost_usd_total")[0].as_py() == pytest.approx(now.cost_usd["total"])
    assert second.column("cost_usd_total")[0].as_py() == \
        pytest.approx(first.column("cost_usd_total")[0].as_py() * 2.00 / 2.35)


def test_a_second_sweep_in_one_process_reads_the_edited_workload_file(spec_dir):
    # was: the rows kept 32 layers after the file said 40 (estimate read 40)
    first = planner.sweep(spec_dir / "spec.toml", progress=False).table
    assert first.column("workload_layers").to_pylist() == [32, 32]
    _edit(spec_dir / "mine.toml", "layers = 32\n", "layers = 40\n")
    second = planner.sweep(spec_dir / "spec.toml", progress=False).table
    assert second.column("workload_layers").to_pylist() == [40, 40]
    now = planner.estimate(workload=str(spec_dir / "mine.toml"), tokens="1T", gpu="h100-sxm",
                           gpus=128, catalog=str(spec_dir / "cat"))
    assert second.column("training_days")[1].as_py() == pytest.approx(now.training_days)


@pytest.mark.parametrize("config", [False, True])
def test_a_resume_after_a_workload_file_changed_is_refused_naming_it(spec_dir, config):
    # was: resumed, the spec's hash covering the file's path only: rows 0-1 had 32 layers,
    # rows 2-3 40, one dataset of two models
    name = "mine.toml"
    if config:  # a Hugging Face config.json likewise
        name = "config.json"
        (spec_dir / name).write_text(json.dumps({
            "model_type": "llama", "hidden_size": 4096, "intermediate_size": 14336,
            "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
            "vocab_size": 128256}))
    spec = spec_dir / "spec.toml"
    spec.write_text(spec.read_text().replace("mine.toml", name).replace(
        "[64, 128]", "[64, 128, 256, 512]"))
    out = spec_dir / "out"
    whole = planner.sweep(spec, out, chunk_rows=2, progress=False).read()
    manifest = json.loads((out / "_manifest.json").read_text())
    assert list(manifest["workload_files"]) == [name]
    (out / "part-00001.parquet").unlink()
    file = spec_dir / name
    original = file.read_text()
    if config:
        _edit(file, '"num_hidden_layers": 32', '"num_hidden_layers": 40')
    else:
        _edit(file, "layers = 32\n", "layers = 40\n")
    with pytest.raises(OutputError, match=f"workload file {name} \\(SHA-256 [0-9a-f]{{16}}, "
                                          "now [0-9a-f]{16}\\) has changed"):
        planner.sweep(spec, out, resume=True, progress=False)
    file.write_text(original)  # the same file again: the resume completes the same rows
    done = planner.sweep(spec, out, resume=True, progress=False)
    assert done.written == 1 and done.kept == 1
    assert done.read().column("workload_layers").to_pylist() == [32] * 4
    assert done.read().column("training_days").equals(whole.column("training_days"))


def test_the_cli_refuses_the_resume_with_exit_2(spec_dir):
    # was: exit 0, the dataset's last rows answered for the edited model
    from click.testing import CliRunner

    import cli

    out = spec_dir / "out"
    planner.sweep(spec_dir / "spec.toml", out, chunk_rows=1, progress=False)
    (out / "part-00001.parquet").unlink()
    _edit(spec_dir / "mine.toml", "layers = 32\n", "layers = 40\n")
    result = CliRunner().invoke(cli.app, ["sweep", str(spec_dir / "spec.toml"), "-o", str(out),
                                       "--resume"])
    assert result.exit_code == 2, result.output
    assert "workload file mine.toml" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("written", [False, True])
def test_a_workload_file_edited_while_a_sweep_runs_stops_it(spec_dir, written):
    # was: each chunk took the files as they were when it ran, so an edit after the first
    # chunk gave the later chunks 40 layers beside 32, under a manifest recording the first
    # file's digest (a review of the per-chunk context)
    from planner.many.spec import SpecError

    def edit_once(done, total):
        if done and "layers = 32\n" in (spec_dir / "mine.toml").read_text():
            _edit(spec_dir / "mine.toml", "layers = 32\n", "layers = 40\n")

    spec = spec_dir / "spec.toml"
    spec.write_text(spec.read_text().replace("[64, 128]", "[64, 128, 256, 512]"))
    out = spec_dir / "out" if written else None
    with pytest.raises(SpecError, match="changed while it ran: mine.toml"):
        planner.sweep(spec_dir / "spec.toml", out, chunk_rows=1, progress=edit_once)
