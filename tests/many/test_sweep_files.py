"""A sweep reads the files its rows depend on (catalogs, workload files) as they are when it
runs, and a resume refuses a dataset whose files changed (each test names what it used to
do)."""

import shutil
from pathlib import Path

import pytest

import planner

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
