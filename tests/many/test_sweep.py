"""planner sweep: a complete dataset readers agree on, nothing lost after kill -9, the same rows
however the chunks run (here, in worker processes, on a Dask LocalCluster)."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import planner
from planner.many import sweep as sweeping
from planner.many.estimate_many import estimate_many

ROOT = Path(__file__).resolve().parents[2]
LAYOUTS = ["tp=8,pp=8,cp=1,ep=1,mb=1,vp=1,recompute=selective,zero=1",
           "tp=8,pp=8,cp=1,ep=1,mb=1,vp=2,recompute=selective,zero=1",
           "tp=4,pp=8,cp=1,ep=1,mb=1,vp=1,recompute=full,zero=1",
           "tp=8,pp=4,cp=2,ep=1,mb=1,vp=1,recompute=selective,zero=1",
           "tp=8,pp=8,cp=1,ep=1,mb=2,vp=1,recompute=full,zero=3"]
# 8 x 5 x 4 x 5 x 5 x 25 x 2 = 200,000 scenarios
SPEC = {
    "fixed": {"site": "us-hyperscale"},
    "axes": {"params": ["7B", "13B", "34B", "70B", "120B", "180B", "250B", "405B"],
             "tokens": ["1T", "2T", "5T", "10T", "15T"],
             "gpu": ["h100-sxm", "h200", "b200", "mi300x"],
             "gpus": [1024, 2048, 4096, 8192, 16384],
             "layout": LAYOUTS,
             "price_per_gpu_hour": [round(1.0 + 0.1 * i, 2) for i in range(25)],
             "ownership": ["cloud", "owned"]},
}
N = 200_000
CHUNK = 25_000


def _toml(spec: dict) -> str:
    lines = []
    for section, values in spec.items():
        lines.append(f"[{section}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in values.items()]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def spec_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("spec") / "what-if.toml"
    path.write_text(_toml(SPEC))
    return path


@pytest.fixture(scope="module")
def reference(spec_file, tmp_path_factory):
    """The 200,000-scenario sweep, run once, uninterrupted, in this process."""
    out = tmp_path_factory.mktemp("ref") / "sweep"
    seen = []
    result = sweeping.sweep(spec_file, out, chunk_rows=CHUNK,
                            progress=lambda done, total: seen.append((done, total)))
    return out, result, seen


def _rows(out: Path) -> pa.Table:
    return sweeping.read(out)


def test_complete_dataset_with_units_and_provenance(reference):
    out, result, seen = reference
    assert result.scenarios == N and result.parts == N // CHUNK and result.written == 8
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["complete"] is True and manifest["scenarios"] == N
    assert sorted(os.listdir(out)) == ["_manifest.json"] + [f"part-{k:05d}.parquet"
                                                            for k in range(8)]
    table = _rows(out)
    assert table.num_rows == N
    assert table.column("scenario").to_pylist() == list(range(N))
    # inputs by name, parsed to SI units; answers by the contract's flattened names
    assert table.schema.field("tokens").metadata[b"unit"] == b"tokens"
    assert table.schema.field("price_per_gpu_hour").metadata[b"unit"] == \
        b"USD per device-hour"
    assert table.schema.field("cost_usd_total").metadata[b"unit"] == b"USD"
    assert table.schema.field("training_days").metadata[b"unit"] == b"days"
    assert set(table.column("params").to_pylist()) == {7e9, 13e9, 34e9, 70e9, 120e9, 180e9,
                                                         250e9, 405e9}
    assert table.column("error").null_count == N
    meta = json.loads(pq.read_metadata(out / "part-00003.parquet").metadata[b"planner"])
    assert meta["planner_version"] == planner.__version__
    assert meta["catalog_fingerprint"] == planner.catalog().fingerprint()
    assert meta["first_scenario"] == 3 * CHUNK
    # progress: from nothing to everything, never backwards
    assert seen[0] == (0, N) and seen[-1] == (N, N)
    assert all(a[0] <= b[0] for a, b in zip(seen, seen[1:]))


def test_pandas_polars_and_duckdb_read_the_same_dataset(reference):
    out, _, _ = reference
    pd = pytest.importorskip("pandas")
    df = pd.read_parquet(out)
    assert len(df) == N and df["scenario"].is_unique
    polars = pytest.importorskip("polars")
    pl_df = polars.read_parquet(str(out / "*.parquet"))
    assert pl_df.height == N
    duckdb = pytest.importorskip("duckdb")
    count, distinct, total = duckdb.sql(
        f"select count(*), count(distinct scenario), sum(cost_usd_total) "
        f"from read_parquet('{out}/*.parquet')").fetchall()[0]
    assert count == distinct == N
    assert total == pytest.approx(float(df["cost_usd_total"].sum()), rel=1e-9)
    assert pl_df["cost_usd_total"].sum() == pytest.approx(total, rel=1e-9)


def test_rows_are_estimates_answers(reference):
    out, _, _ = reference
    table = _rows(out)
    rng = np.random.default_rng(7)
    for s in rng.choice(N, 3, replace=False):
        row = table.slice(int(s), 1).to_pylist()[0]
        inputs = dict(SPEC["fixed"])
        digits = np.unravel_index(int(s), [len(v) for v in SPEC["axes"].values()])
        inputs.update({k: v[d] for (k, v), d in zip(SPEC["axes"].items(), digits)})
        plan = planner.estimate(**inputs)
        assert row["feasible"] == plan.feasible
        if plan.feasible:
            assert row["training_days"] == pytest.approx(plan.training_days, rel=1e-12)
            assert row["cost_usd_total"] == pytest.approx(plan.cost_usd["total"], rel=1e-12)
            assert row["power_mw"] == pytest.approx(plan.power_mw, rel=1e-12)
            assert row["layout_pp"] == plan.layout["pp"]


def test_kill_9_part_way_then_resume_leaves_one_row_per_scenario(spec_file, reference,
                                                                tmp_path):
    out = tmp_path / "killed"
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from planner.many import sweep as sweep
        sweep.sweep({str(spec_file)!r}, {str(out)!r}, chunk_rows=5000,
                    resume={{resume}})
    """)
    kills = 0
    for attempt, parts_before_kill in enumerate((3, 9, 15)):
        code = script.replace("{resume}", "True" if attempt else "False")
        proc = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            parts = [p for p in out.glob("part-*.parquet")] if out.exists() else []
            if len(parts) >= parts_before_kill:
                break
            time.sleep(0.005)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait()
        assert proc.returncode in (0, -signal.SIGKILL), proc.stderr.read().decode()[-2000:]
    assert kills >= 1, "the sweep finished before it could be killed"
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["complete"] is False
    result = sweeping.sweep(spec_file, out, chunk_rows=5000, resume=True)
    assert result.kept > 0 and result.written > 0
    assert not [p for p in os.listdir(out) if p.endswith(".tmp")]
    table = _rows(out)
    ids = table.column("scenario").to_numpy()
    assert len(ids) == N and np.array_equal(np.sort(ids), np.arange(N))
    ref = _rows(reference[0])
    for name in ("training_days", "cost_usd_total", "layout_tp", "feasible", "binding"):
        assert table.column(name).to_pylist() == ref.column(name).to_pylist(), name


def test_resume_after_death_between_rename_and_manifest(spec_file, tmp_path):
    out = tmp_path / "s"
    spec = {"axes": {"params": ["7B", "13B"], "gpus": [64, 128, 256],
                     "tokens": ["1T", "2T"]}}
    sweeping.sweep(spec, out, chunk_rows=3)
    whole = _rows(out)
    manifest = json.loads((out / "_manifest.json").read_text())
    # the sweep "died" after renaming parts 2 and 3 but before recording them; part 3 was
    # then damaged; a part and the manifest were being written (temporary files)
    del manifest["parts"]["part-00002.parquet"], manifest["parts"]["part-00003.parquet"]
    manifest["complete"] = False
    (out / "_manifest.json").write_text(json.dumps(manifest))
    (out / "part-00003.parquet").write_bytes(b"PAR1 torn")
    (out / ".part-00001.parquet.0badc0de.tmp").write_bytes(b"half")
    (out / "._manifest.json.12345678.tmp").write_text("{")
    result = sweeping.sweep(spec, out, chunk_rows=3, resume=True)
    assert (result.kept, result.written) == (3, 1)  # part 2 kept, part 3 written again
    assert sorted(os.listdir(out)) == ["_manifest.json"] + [f"part-{k:05d}.parquet"
                                                            for k in range(4)]
    assert _rows(out).equals(whole)
    # a part the manifest lists but the disk lost is answered again
    (out / "part-00000.parquet").unlink()
    assert sweeping.sweep(spec, out, chunk_rows=3, resume=True).written == 1
    assert _rows(out).equals(whole)


def test_refuses_directories_that_are_not_its_own(tmp_path):
    spec = {"axes": {"params": ["7B"], "gpus": [64], "tokens": ["1T"]}}
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(sweeping.OutputError, match="not part of a planner sweep"):
        sweeping.sweep(spec, foreign)
    assert sorted(os.listdir(foreign)) == ["notes.txt"]
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(sweeping.OutputError, match="not a directory"):
        sweeping.sweep(spec, a_file)
    done = tmp_path / "done"
    sweeping.sweep(spec, done)
    with pytest.raises(sweeping.OutputError, match="--resume"):
        sweeping.sweep(spec, done)
    other = {"axes": {"params": ["13B"], "gpus": [64], "tokens": ["1T"]}}
    with pytest.raises(sweeping.OutputError, match="another spec"):
        sweeping.sweep(other, done, resume=True)
    orphan = tmp_path / "orphan"
    orphan.mkdir()
    (orphan / "part-00000.parquet").write_bytes(b"x")
    with pytest.raises(sweeping.OutputError, match="no _manifest.json"):
        sweeping.sweep(spec, orphan)
    # a file's name where the directory goes: refused before a directory of that name is made
    for name in ("out.csv", "rows.JSON"):
        with pytest.raises(sweeping.OutputError,
                           match=r"names a (CSV|JSON) file.*-o \S*(out|rows)/, or -o "
                                 r"\S*(out.csv|rows.JSON)/ for that name\)"):
            sweeping.sweep(spec, tmp_path / name)
        assert not (tmp_path / name).exists()
    assert sweeping.sweep(spec, tmp_path / "what-if.parquet").scenarios == 1  # a dataset's name
    # a trailing separator says a directory is meant, its suffix and all
    assert sweeping.sweep(spec, f"{tmp_path / 'out.csv'}/").scenarios == 1
    assert (tmp_path / "out.csv" / "_manifest.json").is_file()


def test_spec_errors_name_the_section_and_input():
    cases = [({"axis": {}}, r"\[axis\]"),
             ({"axes": {"gpu_count": [1]}}, "gpu_count"),
             ({"axes": {"gpu": ["h100-sxn"]}}, r"\[axes\] gpu.*h100-sxm"),
             ({"fixed": {"tokens": "15X"}, "axes": {"params": ["7B"]}}, r"\[fixed\] tokens"),
             ({"axes": {"params": ["7B"]}, "zip": {"gpus": [8, 16], "tokens": ["1T"]}},
              "different lengths"),
             ({"fixed": {"gpus": 8}, "axes": {"gpus": [8]}}, "also in"),
             ({"axes": {"params": []}}, "non-empty list")]
    for spec, pattern in cases:
        with pytest.raises(sweeping.SpecError, match=pattern):
            sweeping.sweep(spec)


def test_a_seed_is_repeated_as_given_where_no_monte_carlo_reads_it():
    # an auditor: the rows without --uncertainty had all read the last seed (3, 3, 3), the
    # input column indexing the answers' unset code
    spec = {"fixed": {"tokens": "2T", "params": "8B", "gpus": 64},
            "axes": {"uncertainty": [True, False], "seed": [1, 2, 3]}}
    rows = planner.sweep(spec).table.to_pylist()
    assert [(r["uncertainty"], r["seed"]) for r in rows] == [
        (True, 1), (True, 2), (True, 3), (False, 1), (False, 2), (False, 3)]
    assert all(r["p50_training_days"] is None for r in rows[3:])
    assert all(r["p50_training_days"] > 0 for r in rows[:3])


def test_in_memory_sweep_zip_and_scenario_order():
    spec = {"fixed": {"tokens": "2T", "gpus": 512},
            "axes": {"params": ["7B", "13B"], "gpu": ["h100-sxm", "b200"]},
            "zip": {"layout": ["tp=8,pp=1", "tp=8,pp=2"], "global_batch": ["4M", "8M"]}}
    table = planner.sweep(spec).table
    assert table.num_rows == 8
    rows = table.to_pylist()
    assert [r["params"] for r in rows] == [7e9] * 4 + [13e9] * 4
    assert [r["gpu"] for r in rows[:4]] == ["h100-sxm", "h100-sxm", "b200", "b200"]
    assert [(r["layout"], r["global_batch"]) for r in rows[:2]] == \
        [("tp=8,pp=1", 4e6), ("tp=8,pp=2", 8e6)]
    assert [r["layout_pp"] for r in rows[:2]] == [1, 2]
    direct = estimate_many(pa.table({"params": ["13B"], "gpu": ["b200"], "tokens": ["2T"],
                                     "gpus": [512], "layout": ["tp=8,pp=2"],
                                     "global_batch": ["8M"]})).to_pylist()[0]
    assert rows[-1]["training_days"] == direct["training_days"]


def test_worker_processes_give_the_same_rows(spec_file, reference, tmp_path):
    out = tmp_path / "workers"
    result = sweeping.sweep(spec_file, out, chunk_rows=CHUNK, workers=2)
    assert result.written == 8
    assert _rows(out).equals(_rows(reference[0]))


def test_workers_from_an_unguarded_script_say_to_guard_the_call(tmp_path):
    # an auditor: spawn imports the script again in each worker, whose own sweep met the
    # directory's lock, and the caller got a bare BrokenProcessPool
    script = tmp_path / "unguarded.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        import planner
        spec = {{"fixed": {{"tokens": "1T", "gpus": 64}}, "axes": {{"params": ["1B", "2B"]}}}}
        try:
            planner.sweep(spec, {str(tmp_path / 'out')!r}, workers=2, chunk_rows=1)
        except planner.InputError as exc:
            print("REFUSED", exc)
    """))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)
    said = [line for line in done.stdout.splitlines() if line.startswith("REFUSED")]
    assert said, done.stderr[-2000:]
    assert "lost its worker processes before any chunk was done" in said[0]
    assert 'if __name__ == "__main__":' in said[0]
    # nothing left to resume: the same call, guarded, runs afresh
    assert not any((tmp_path / "out").iterdir())


def test_a_worker_lost_part_way_is_no_input_error_and_the_sweep_resumes(spec_file,
                                                                        reference, tmp_path):
    # a worker killed (or out of memory) after some parts are written is not the user's
    # input: it had been a SpecError, so the command line exited 2 ("bad input")
    import multiprocessing

    out = tmp_path / "lost"
    killed = []

    def kill_a_worker(done, total):
        if done and not killed:  # a part recorded: kill a worker while others run
            child = multiprocessing.active_children()[0]
            os.kill(child.pid, signal.SIGKILL)
            killed.append(child.pid)

    with pytest.raises(Exception) as lost:
        sweeping.sweep(spec_file, out, chunk_rows=CHUNK, workers=2, progress=kill_a_worker)
    assert killed
    assert not isinstance(lost.value, planner.InputError), type(lost.value)
    assert isinstance(lost.value, sweeping.WorkersLost)
    assert "lost a worker process part-way" in str(lost.value)
    assert "resume" in str(lost.value)
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["parts"] and manifest["complete"] is False
    result = sweeping.sweep(spec_file, out, chunk_rows=CHUNK, resume=True)
    assert result.kept >= 1 and result.kept + result.written == 8
    assert _rows(out).equals(_rows(reference[0]))


def test_the_command_line_exits_1_when_a_worker_is_lost(tmp_path):
    # exit 0 an answer, 2 bad input, 1 anything else: a worker killed part-way is the last
    psutil = pytest.importorskip("psutil")
    spec = tmp_path / "big.toml"
    spec.write_text(_toml(dict(SPEC, axes=dict(SPEC["axes"], ownership=["cloud", "owned"],
                                               gpus=[512, 1024, 2048, 4096, 8192, 16384,
                                                     32768, 65536]))))  # 320,000: 5 chunks
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "sweep", str(spec), "-o",
                             str(out), "--workers", "2", "-q"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    killed = False
    while time.monotonic() < deadline and proc.poll() is None and not killed:
        try:
            parts = json.loads((out / "_manifest.json").read_text())["parts"]
        except (OSError, ValueError, KeyError):
            parts = {}
        workers = [c for c in psutil.Process(proc.pid).children()
                   if "multiprocessing" in " ".join(c.cmdline())
                   and "resource_tracker" not in " ".join(c.cmdline())]
        if parts and workers:
            workers[0].kill()
            killed = True
        time.sleep(0.01)
    _, err = proc.communicate(timeout=120)
    if not killed:
        pytest.skip("the sweep finished before a worker could be killed")
    assert proc.returncode == 1, err
    assert "lost a worker process part-way" in err and "--resume" in err, err
    assert "Traceback" not in err


def test_dask_local_cluster_gives_the_same_rows(spec_file, reference, tmp_path):
    pytest.importorskip("dask.distributed")
    out = tmp_path / "dask"
    result = sweeping.sweep(spec_file, out, chunk_rows=CHUNK, dask="local")
    assert result.written == 8
    table, ref = _rows(out), _rows(reference[0])
    assert table.num_rows == N
    assert table.equals(ref)
    assert pc.all(pc.equal(table["scenario"], ref["scenario"])).as_py()


def test_memory_stays_bounded_for_a_million_scenarios(tmp_path):
    """Chunks stream to disk: a 1,000,000-scenario sweep's peak RSS stays far under 1 GB
    (benchmarks/bench_sweep.py runs 10 million)."""
    spec = dict(SPEC, axes=dict(SPEC["axes"], ownership=["cloud", "owned"],
                                gpus=[512, 1024, 2048, 4096, 8192, 16384, 32768, 65536,
                                      131072, 262144, 524288, 1048576, 2097152, 4194304,
                                      8388608, 16777216, 33554432, 67108864, 134217728,
                                      268435456, 536870912, 1073741824, 2147483648,
                                      4294967296, 8589934592]))
    spec_file = tmp_path / "big.toml"
    spec_file.write_text(_toml(spec))
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from planner.many import sweep as sweep
        r = sweep.sweep({str(spec_file)!r}, {str(tmp_path / 'out')!r})
        # VmHWM: this process's peak resident set since exec (ru_maxrss would count the
        # parent's pages at fork)
        peak = [line.split()[1] for line in open("/proc/self/status")
                if line.startswith("VmHWM")][0]
        print(r.scenarios, peak)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    scenarios, peak_kb = map(int, done.stdout.split())
    assert scenarios == 1_000_000
    assert peak_kb < 1_000_000, f"peak RSS {peak_kb / 1e3:,.0f} MB"
    print(f"1,000,000 scenarios, peak RSS {peak_kb / 1e3:,.0f} MB")


@pytest.mark.parametrize("spec,rows", [
    # every row has a device count and one accelerator: the columnar path's large chunks
    ({"fixed": {"tokens": "1T", "gpus": 1024}, "axes": {"params": ["7B", "13B"]}}, 65_536),
    # no device count: every cluster is sized by estimate itself
    ({"fixed": {"tokens": "1T"}, "axes": {"params": ["7B", "13B"]}}, 2_048),
    # several accelerators in one row, or a Monte Carlo on some rows
    ({"fixed": {"tokens": "1T", "gpus": 1024, "gpu": "h100-sxm,b200"},
      "axes": {"params": ["7B"]}}, 2_048),
    ({"fixed": {"tokens": "1T", "gpus": 1024},
      "axes": {"params": ["7B"], "uncertainty": [False, True]}}, 2_048),
    # the budget mode keeps its own
    ({"mode": "budget", "fixed": {"usd": "$1M"}, "axes": {"params": ["7B"]}}, 8),
])
def test_a_chunk_holds_fewer_rows_when_estimate_answers_them(spec, rows):
    # 10,000 sized rows: 22.3 s in one chunk, 17.2 s in chunks of 2,048 (tuning.py), and the
    # default chunk is what --resume holds a dataset to
    assert sweeping.load_spec(spec).chunk_rows == rows


def test_estimate_many_answers_the_same_rows_in_any_chunking():
    table = pa.table({"params": [7e9, 13e9, 7e9], "tokens": [1e11, 2e11, 1e11],
                      "deadline": ["30d", "60d", "90d"]})
    default = estimate_many(table, progress=False)  # sized rows: chunks of 2,048
    one_by_one = estimate_many(table, chunk_rows=1, progress=False)
    # the same values in every column (the chunks' dictionaries of text columns differ)
    assert default.to_pylist() == one_by_one.to_pylist()
    assert all(n > 0 for n in default.column("cluster_gpus").to_pylist())


def test_a_sweep_says_how_many_rows_were_refused_and_infeasible(tmp_path):
    # every row refused (a shape given twice) had exited 0 saying only how many it wrote
    from click.testing import CliRunner

    import cli

    spec = tmp_path / "s.toml"
    spec.write_text('[fixed]\nparams = "8B"\nworkload = "llama3-8b"\ntokens = "1T"\n'
                    '[axes]\ngpus = [64, 128, 256]\n')
    r = CliRunner().invoke(cli.app, ["sweep", str(spec), "-o", str(tmp_path / "out")])
    assert "3 with an error (their inputs refused), 0 infeasible" in r.output
    assert "first error: --params: '8B' conflicts with --workload" in r.output
    # no row answered: bad input, exit 2 naming the spec (it had exited 0); the rows are written
    assert r.exit_code == 2, r.output
    assert f"{spec}: every one of its 3 scenarios was refused" in r.output
    assert pq.read_table(tmp_path / "out").num_rows == 3
    # one row refused of two: an answer, exit 0
    spec.write_text('[fixed]\nparams = "8B"\ntokens = "1T"\nlayout = "tp=8"\n'
                    '[axes]\ngpus = [64, 3]\n')
    r = CliRunner().invoke(cli.app, ["sweep", str(spec), "-o", str(tmp_path / "mixed")])
    assert r.exit_code == 0, r.output
    assert "1 with an error (their inputs refused)" in r.output
    ok = sweeping.sweep({"fixed": {"params": "7B", "tokens": "1T", "gpus": 64},
                         "axes": {"deadline": ["1d", "90d"]}})
    assert ok.outcome() == {"errors": 0, "infeasible": 1, "first_error": None}


def test_a_sweep_moved_with_its_files_resumes_where_it_went(tmp_path):
    # a workload file beside the spec is hashed by its path relative to the spec: the spec,
    # its files and its output moved together had been refused as "another spec"
    import shutil

    here = tmp_path / "here"
    here.mkdir()
    src = Path(planner.__file__).parent.parent / "workloads" / "llama3.1-8b.toml"
    shutil.copy(src, here / "mine.toml")
    (here / "s.toml").write_text('[fixed]\nworkload = "mine.toml"\ntokens = "1T"\n'
                                 '[axes]\ngpus = [8, 16, 32]\n')
    sweeping.sweep(str(here / "s.toml"), here / "out", chunk_rows=1)
    there = tmp_path / "there"
    shutil.move(str(here), str(there))
    (there / "out" / "part-00002.parquet").unlink()
    done = sweeping.sweep(str(there / "s.toml"), there / "out", resume=True)
    assert done.written == 1 and done.kept == 2


def test_dask_without_a_scheduler_or_an_output_leaves_nothing_behind(tmp_path):
    # an unreachable scheduler had left an unfinished manifest, so a plain rerun was refused;
    # dask without an output directory had been ignored, the sweep run here
    dask = pytest.importorskip("dask")
    pytest.importorskip("dask.distributed")
    spec = {"fixed": {"params": "7B", "tokens": "1T", "gpus": 64},
            "axes": {"seq_len": [2048, 4096]}}
    with pytest.raises(sweeping.SpecError, match="needs an output directory"):
        sweeping.sweep(spec, dask="tcp://127.0.0.1:1")
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        with pytest.raises(sweeping.SpecError, match="cannot be reached"):
            sweeping.sweep(spec, tmp_path / "out", dask="tcp://127.0.0.1:1")
    assert not (tmp_path / "out" / "_manifest.json").exists()
    assert sweeping.sweep(spec, tmp_path / "out").written == 1


def test_the_manifest_names_the_catalog_directories_the_environment_adds(tmp_path,
                                                                         monkeypatch):
    # an auditor: PLANNER_CATALOG moved a sweep's prices with only a fingerprint to show it
    extra = tmp_path / "cat" / "hardware" / "accelerators"
    extra.mkdir(parents=True)
    monkeypatch.setenv("PLANNER_CATALOG", str(tmp_path / "cat"))
    spec = {"fixed": {"tokens": "1T", "params": "1B", "gpus": 8}}
    planner.sweep(spec, tmp_path / "out")
    manifest = json.loads((tmp_path / "out" / "_manifest.json").read_text())
    assert manifest["catalog_dirs"] == [str(tmp_path / "cat")]
    monkeypatch.delenv("PLANNER_CATALOG")
    planner.sweep(spec, tmp_path / "plain")
    assert json.loads((tmp_path / "plain" / "_manifest.json").read_text())["catalog_dirs"] == []


def test_workers_without_an_output_directory_are_refused_as_dask_is():
    # an auditor: workers=2 without a directory had run the sweep here, unsaid
    spec = {"fixed": {"tokens": "1T", "params": "1B", "gpus": 8}}
    with pytest.raises(sweeping.SpecError, match="--workers: 2 needs an output directory"):
        planner.sweep(spec, workers=2)
    assert planner.sweep(spec, workers=1).table.num_rows == 1  # one process: this one


def test_workers_beside_a_remote_dask_scheduler_are_refused(tmp_path):
    # an auditor: --workers had been ignored beside --dask, unsaid
    with pytest.raises(sweeping.SpecError, match="sizes nothing on a remote Dask cluster"):
        planner.sweep({"fixed": {"tokens": "1T", "params": "1B", "gpus": 8}}, tmp_path / "o",
                      workers=2, dask="tcp://127.0.0.1:1")
    assert not (tmp_path / "o").exists()
    with pytest.raises(sweeping.SpecError, match="sizes nothing"):  # given is given, 1 too
        planner.sweep({"fixed": {"tokens": "1T", "params": "1B", "gpus": 8}}, tmp_path / "o",
                      workers=1, dask="tcp://127.0.0.1:1")
