"""The command line: output, JSON contract keys, exit codes, bad input (exit 2, no traceback)."""

import json
import math
import subprocess
import sys

import pytest
from click.testing import CliRunner

import cli
import planner
from planner.model import realisation
from planner.model.realisation_fit import FIT

CONTRACT_KEYS = {
    "feasible", "reason", "binding", "workload", "cluster", "layout", "model_flops",
    "hardware_flops", "step_time_s", "tokens_per_s", "tflops_per_gpu", "mfu", "hfu",
    "memory_gb_per_gpu", "memory_breakdown_gb", "time_breakdown_s", "bottleneck", "goodput",
    "training_days", "gpu_hours", "power_mw", "energy_mwh", "co2_t", "cost_usd", "cost_method",
    "assumptions", "p10", "p50", "p90",
}
WORKLOAD_KEYS = {"params", "active_params", "tokens", "layers", "hidden", "heads", "kv_heads",
                 "ffn", "vocab", "seq_len", "global_batch_tokens", "precision", "experts",
                 "top_k"}
CLUSTER_KEYS = {"accelerator", "gpus", "nodes", "scale_up_domain", "network", "site"}
LAYOUT_KEYS = {"tp", "pp", "dp", "cp", "ep", "microbatch", "virtual_stages", "recompute", "zero"}
TIME_KEYS = {"compute", "tp_comm", "cp_comm", "ep_comm", "pp_bubble", "pp_comm", "dp_comm",
             "optimizer", "other"}
MEMORY_KEYS = {"weights", "grads", "optimizer", "activations", "other"}


def run(*args):
    return CliRunner().invoke(cli.app, list(args))


@pytest.fixture(scope="module")
def plan_json():
    r = run("estimate", "--params", "1T", "--tokens", "15T", "--format", "json")
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


def test_estimate_table_has_the_plan():
    r = run("estimate", "--params", "1T", "--tokens", "15T")
    assert r.exit_code == 0, r.output
    for word in ("cluster", "layout", "MFU", "days", "GPU-hours", "MW", "MWh", "cost",
                 "binding limit", "assumption", "step time", "memory per device"):
        assert word in r.output, word


def test_estimate_json_carries_every_contract_key(plan_json):
    assert CONTRACT_KEYS <= set(plan_json)
    assert WORKLOAD_KEYS <= set(plan_json["workload"])
    assert CLUSTER_KEYS <= set(plan_json["cluster"])
    assert LAYOUT_KEYS == set(plan_json["layout"])
    assert set(plan_json["time_breakdown_s"]) == TIME_KEYS
    assert set(plan_json["memory_breakdown_gb"]) == MEMORY_KEYS
    assert "total" in plan_json["cost_usd"] and plan_json["cost_method"] in ("cloud", "owned")


def test_json_plan_is_consistent(plan_json):
    p = plan_json
    assert p["feasible"] is True and p["binding"] == "deadline"
    lay = p["layout"]
    assert lay["tp"] * lay["pp"] * lay["dp"] * lay["cp"] == p["cluster"]["gpus"]
    assert sum(p["time_breakdown_s"].values()) == pytest.approx(p["step_time_s"], rel=1e-9)
    assert sum(p["memory_breakdown_gb"].values()) == pytest.approx(p["memory_gb_per_gpu"])
    assert p["memory_gb_per_gpu"] <= 80
    assert p["training_days"] <= 120
    assert 0 < p["mfu"] <= p["hfu"] <= 1
    assert p["gpu_hours"] == pytest.approx(p["cluster"]["gpus"] * p["training_days"] * 24)
    assert p["cost_usd"]["total"] == pytest.approx(
        p["gpu_hours"] * p["assumptions"]["price_per_gpu_hour"]["value"])
    assert p["p10"] is None  # no --uncertainty


def test_csv_is_one_row():
    r = run("estimate", "--params", "70B", "--tokens", "2T", "--format", "csv")
    assert r.exit_code == 0, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 2 and "cost_usd_total" in lines[0] and "layout_tp" in lines[0]


@pytest.mark.parametrize("args, option", [
    (["--params", "1Q", "--tokens", "15T"], "--params"),
    (["--params", "-5B", "--tokens", "15T"], "--params"),
    (["--params", "abc", "--tokens", "15T"], "--params"),
    (["--params", "nan", "--tokens", "15T"], "--params"),
    (["--params", "1T", "--tokens", "inf"], "--tokens"),
    (["--params", "1T", "--tokens", ""], "--tokens"),
    (["--params", "1T"], "--tokens"),
    (["--tokens", "15T"], "--params"),
    (["--params", "1T", "--tokens", "15T", "--deadline", "90"], "--deadline"),
    (["--params", "1T", "--tokens", "15T", "--power-cap", "lots"], "--power-cap"),
    (["--params", "1T", "--tokens", "15T", "--budget", "-1"], "--budget"),
    (["--params", "1T", "--tokens", "15T", "--gpu", "h900"], "--gpu"),
    (["--params", "1T", "--tokens", "15T", "--network", "carrier-pigeon"], "--network"),
    (["--params", "1T", "--tokens", "15T", "--site", "moon"], "--site"),
    (["--workload", "gpt-9", "--tokens", "1T"], "--workload"),
    (["--params", "1T", "--tokens", "15T", "--gpus", "0"], "--gpus"),
    (["--params", "1T", "--tokens", "15T", "--gpus", "8", "--layout", "tp=3"], "--layout"),
    (["--params", "1T", "--tokens", "15T", "--layout", "tp=8,foo=2"], "--layout"),
    (["--params", "1T", "--tokens", "15T", "--layout", "recompute=some"], "--layout"),
    (["--params", "1T", "--tokens", "15T", "--precision", "fp64"], "--precision"),
    (["--params", "1T", "--tokens", "15T", "--gpu", "a100", "--precision", "fp8"],
     "--precision"),
    (["--layers", "10", "--tokens", "1T"], "--hidden"),
    (["--workload", "deepseek-v3", "--tokens", "1T", "--expert-groups", "7"], "--expert-groups"),
    (["--workload", "deepseek-v3", "--tokens", "1T", "--group-top-k", "9"], "--group-top-k"),
    (["--workload", "deepseek-v3", "--tokens", "1T", "--expert-groups", "0"], "--expert-groups"),
    (["--params", "1T", "--tokens", "15T", "--catalog", "/no/such/dir"], "--catalog"),
])
def test_bad_input_exit_2_names_option(args, option):
    r = run("estimate", *args)
    assert r.exit_code == 2, r.output
    assert option in r.output
    assert "Traceback" not in r.output


def test_no_traceback_from_the_installed_entry_point(tmp_path):
    proc = subprocess.run([sys.executable, "-c", "import cli; cli.main()", "estimate",
                           "--params", "1Q", "--tokens", "15T"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "--params" in proc.stderr


def test_infeasible_is_an_answer_exit_0():
    # A 1T model cannot fit on 8 A100-40GB: memory binds, and the plan says by how much.
    r = run("estimate", "--params", "1T", "--tokens", "1T", "--gpu", "a100-40gb", "--gpus", "8",
            "--format", "json")
    assert r.exit_code == 0, r.output
    p = json.loads(r.output)
    assert p["feasible"] is False and p["binding"] == "memory"
    assert "GB per device" in p["reason"]


def test_full_shape_infers_ffn_type():
    r = run("estimate", "--layers", "32", "--hidden", "4096", "--heads", "32", "--ffn", "16384",
            "--vocab", "50000", "--tokens", "1T", "--format", "json")
    assert r.exit_code == 0, r.output
    p = json.loads(r.output)
    assert p["assumptions"]["ffn_type"]["value"] == "plain"
    assert p["workload"]["layers"] == 32


# DeepSeek-V3 from flags alone (report sec. 4.2 and its config.json, as workloads/deepseek-v3.toml
# reads them): Multi-head Latent Attention, 256 routed experts in 8 groups, 3 dense layers.
DEEPSEEK_V3_FLAGS = ["--layers", "61", "--hidden", "7168", "--heads", "128", "--ffn", "18432",
                     "--vocab", "129280", "--experts", "256", "--top-k", "8",
                     "--expert-ffn", "2048", "--shared-experts", "1", "--dense-layers", "3",
                     "--expert-groups", "8", "--group-top-k", "4", "--head-dim", "128",
                     "--kv-lora-rank", "512", "--q-lora-rank", "1536", "--rope-head-dim", "64",
                     "--v-head-dim", "128", "--tokens", "14.8T", "--seq-len", "4096",
                     "--global-batch", "62914560"]


def test_mla_shape_from_flags_plans_as_the_catalog_workload():
    common = ["--precision", "fp8", "--gpu", "h800", "--gpus", "2048", "--format", "json"]
    r = run("estimate", *DEEPSEEK_V3_FLAGS, *common)
    assert r.exit_code == 0, r.output
    flags = json.loads(r.output)
    r = run("estimate", "--workload", "deepseek-v3", *common)
    assert r.exit_code == 0, r.output
    catalog = json.loads(r.output)
    # the report's 671B total and ~37B activated parameters (DeepSeek-V3 report, abstract)
    assert flags["workload"]["params"] == pytest.approx(671e9, rel=0.001)
    assert flags["workload"]["active_params"] == pytest.approx(37e9, rel=0.03)
    for key in ("step_time_s", "memory_gb_per_gpu", "gpu_hours"):
        assert flags[key] == pytest.approx(catalog[key], rel=1e-12), key
    assert flags["layout"] == catalog["layout"]
    # the plan says what it ran: the latent and expert widths, in JSON and the table's header
    w = flags["workload"]
    assert (w["kv_lora_rank"], w["q_lora_rank"], w["head_dim"], w["rope_head_dim"],
            w["v_head_dim"]) == (512, 1536, 128, 64, 128)
    assert (w["experts"], w["top_k"], w["expert_ffn"], w["shared_experts"],
            w["dense_layers"]) == (256, 8, 2048, 1, 3)
    r = run("estimate", "--workload", "deepseek-v3", *common[:-2])
    assert "MLA(kv=512 q=1536 dims=128+64/128)" in r.output
    assert "experts=8/256+1 x2048 dense_layers=3" in r.output
    # without the latent, the same flags plan plain multi-head attention over 128 KV heads:
    # more parameters (full K/V projections) and a different step
    plain = [f for i, f in enumerate(DEEPSEEK_V3_FLAGS)
             if f not in ("--kv-lora-rank", "--q-lora-rank", "--rope-head-dim", "--v-head-dim")
             and DEEPSEEK_V3_FLAGS[i - 1] not in ("--kv-lora-rank", "--q-lora-rank",
                                                  "--rope-head-dim", "--v-head-dim")]
    r = run("estimate", *plain, *common)
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["workload"]["params"] > flags["workload"]["params"]


@pytest.mark.parametrize("extra, flag", [
    (["--q-lora-rank", "1536"], "--q-lora-rank"),
    (["--rope-head-dim", "64"], "--rope-head-dim"),
    (["--v-head-dim", "128"], "--v-head-dim"),
    (["--kv-lora-rank", "0"], "--kv-lora-rank"),
    (["--head-dim", "-4"], "--head-dim"),
])
def test_mla_flags_refuse_bad_input(extra, flag):
    r = run("estimate", "--layers", "4", "--hidden", "1024", "--heads", "8", "--ffn", "4096",
            "--vocab", "32000", "--tokens", "1B", "--gpus", "8", *extra)
    assert r.exit_code == 2, r.output
    assert flag in r.output and "Traceback" not in r.output


def test_head_dim_lets_heads_not_divide_the_width():
    shape = ["--layers", "4", "--hidden", "1000", "--heads", "16", "--ffn", "4096", "--vocab",
             "32000", "--tokens", "1B", "--gpus", "8"]
    r = run("estimate", *shape)
    assert r.exit_code == 2 and "--head-dim" in r.output
    r = run("estimate", *shape, "--head-dim", "64", "--format", "json")
    assert r.exit_code == 0, r.output


def test_hardware_and_workloads_commands():
    r = run("hardware", "list")
    assert r.exit_code == 0 and "h100-sxm" in r.output and "ib-ndr" in r.output
    r = run("hardware", "show", "h100")  # alias
    assert r.exit_code == 0 and "989.4" in r.output and "source" in r.output
    r = run("workloads", "list")
    assert r.exit_code == 0 and "llama3.1-405b" in r.output
    r = run("workloads", "show", "llama3.1-405b")
    assert r.exit_code == 0 and "16,384" in r.output  # numbers with thousands separators
    for kind, listing in (("hardware", "hardware"), ("workloads", "workload")):
        r = run(kind, "show", "nope")
        assert r.exit_code == 2
        assert f"NAME: unknown {listing} 'nope'; see 'planner {kind} list'" in r.output


def test_schedule_example_json_and_gantt(tmp_path):
    pytest.importorskip("matplotlib")
    png, pq = tmp_path / "g.png", tmp_path / "f.parquet"
    r = run("schedule", "workloads/fleets/lab-3-sites.toml", "--format", "json",
            "--gantt", str(png), "-o", str(pq))
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["status"] in ("OPTIMAL", "FEASIBLE") and d["validated"]
    assert {"name", "site", "accelerator", "gpus", "start", "end", "training_days",
            "power_mw", "cost_usd", "on_time"} <= set(d["runs"][0])
    assert png.stat().st_size > 20_000 and pq.exists()


def test_estimate_plot_and_inventory(tmp_path):
    pytest.importorskip("matplotlib")
    png = tmp_path / "s.png"
    r = run("estimate", "--params", "70B", "--tokens", "2T", "--gpu", "h100-sxm,b200",
            "--inventory", "b200=512", "--deadline", "60d", "--plot", str(png),
            "--format", "json")
    assert r.exit_code == 0, r.output
    assert png.stat().st_size > 20_000
    # an output flag never changes the answer: the plan and its alternatives are the ones
    # printed without it (the chart's curve is a sizing of its own)
    plain = run("estimate", "--params", "70B", "--tokens", "2T", "--gpu", "h100-sxm,b200",
                "--inventory", "b200=512", "--deadline", "60d", "--format", "json")
    # stdout alone: the "plot: FILE" notice goes to stderr, before the answer (the file is
    # written first)
    with_plot, without = json.loads(r.stdout), json.loads(plain.output)
    # the whole answer, its assumptions too (was: --plot set the objective for the plan as
    # well as for the chart's curve, and assumptions.objective read "given (--objective)"
    # where none was given); the sizing's solve time is a wall clock
    for d in (with_plot, without):
        d["sizing"].pop("solve_time_s")
    assert with_plot.keys() == without.keys()
    for key in with_plot:
        assert with_plot[key] == without[key], key
    assert "objective" not in with_plot["assumptions"] or not str(
        with_plot["assumptions"]["objective"]["source"]).startswith("given")
    r = run("estimate", "--params", "70B", "--tokens", "2T", "--inventory", "h900=5")
    assert r.exit_code == 2
    assert "--inventory: 'h900=5' names an unknown accelerator 'h900' (did you mean h800?)" \
        in r.output
    r = run("schedule", "no-such.toml")
    assert r.exit_code == 2 and "FLEET.toml: 'no-such.toml' does not exist" in r.output
    # a file not in UTF-8 (an auditor: "internal error: UnicodeDecodeError", exit 1)
    latin = tmp_path / "latin1.toml"
    latin.write_bytes(b'start = "2027-01"\nend = "2027-06"\n# caf\xe9\n')
    r = run("schedule", str(latin))
    assert r.exit_code == 2 and "is not UTF-8 text; accepted: a TOML file (UTF-8 text)" \
        in r.output


def test_limits_with_several_accelerators_honour_both():
    r = run("estimate", "--params", "1T", "--tokens", "15T", "--deadline", "120d",
            "--power-cap", "100MW", "--gpu", "h100-sxm,b200,mi300x", "--format", "json")
    assert r.exit_code == 0, r.output
    p = json.loads(r.output)
    assert p["feasible"] and p["training_days"] <= 120 and p["power_mw"] <= 100
    r = run("estimate", "--params", "1T", "--tokens", "15T", "--deadline", "120d",
            "--power-cap", "10MW", "--gpu", "h100-sxm,b200", "--format", "json")
    p = json.loads(r.output)
    assert not p["feasible"] and p["binding"] in ("power", "deadline")
    assert "MW" in p["reason"] and "cap" in p["reason"]


def test_sweep_command_writes_resumes_and_refuses(tmp_path):
    import pyarrow.parquet as pq
    from click.testing import CliRunner

    spec = tmp_path / "s.toml"
    spec.write_text('[fixed]\ntokens = "1T"\n[axes]\nparams = ["7B", "13B"]\n'
                    'gpus = [64, 128]\n')
    out = tmp_path / "out"
    runner = CliRunner()
    r = runner.invoke(cli.app, ["sweep", str(spec), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "4 scenarios, 1 part files" in r.output  # and no progress bar: not a terminal
    assert pq.read_table(out).num_rows == 4
    r = runner.invoke(cli.app, ["sweep", str(spec), "-o", str(out)])
    assert r.exit_code == 2 and "--resume" in r.output
    r = runner.invoke(cli.app, ["sweep", str(spec), "-o", str(out), "--resume"])
    assert r.exit_code == 0 and "0 written now, 1 already there" in r.output
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    r = runner.invoke(cli.app, ["sweep", str(spec), "-o", str(tmp_path / "other")])
    assert r.exit_code == 2 and "not part of a planner sweep" in r.output
    spec.write_text('[axes]\ngpu = ["h100-sxn"]\n')
    r = runner.invoke(cli.app, ["sweep", str(spec), "-o", str(tmp_path / "bad")])
    assert r.exit_code == 2 and "[axes] gpu" in r.output
    for workers in ("0", "１", "1_0"):  # a review: click's int had read "１" and "1_0" (10)
        r = runner.invoke(cli.app, ["sweep", str(spec), "-o", str(tmp_path / "x"),
                                    "--workers", workers])
        assert r.exit_code == 2 and f"--workers: '{workers}'" in r.output, r.output


def test_assume_changes_a_modelling_assumption_and_reports_it():
    base = json.loads(run("estimate", "--params", "70B", "--tokens", "2T", "--gpus", "1024",
                          "--format", "json").output)
    out = run("estimate", "--params", "70B", "--tokens", "2T", "--gpus", "1024", "--format",
              "json", "--assume", "gemm_efficiency=0.6", "--assume", "flash_attention=false",
              "--assume", "restart_s=1200")
    assert out.exit_code == 0, out.output
    d = json.loads(out.output)
    assert d["assumptions"]["gemm_efficiency"] == {"value": 0.6, "source": "given (--assume)"}
    assert d["assumptions"]["flash_attention"]["value"] is False
    assert d["assumptions"]["restart_s"]["value"] == 1200.0
    assert d["training_days"] > base["training_days"]  # slower GEMMs, no FlashAttention


@pytest.mark.parametrize("item, says", [
    ("gemm_efficency=0.8", "NAME=VALUE with NAME one of"),
    ("gemm_efficiency", "NAME=VALUE"),
    ("gemm_efficiency=fast", "is not a number; accepted: gemm_efficiency=N with N a number "
                             "in [0.01, 1]"),
    ("restart_s=-5", "is negative; accepted: a number in [0, 3,153,600,000]"),
    ("flash_attention=maybe", "flash_attention=true or flash_attention=false"),
    ("uncertainty_samples=10.5", "whole number"),
])
def test_assume_bad_input_exit_2(item, says):
    for command in (["estimate", "--params", "7B", "--tokens", "1T"],
                    ["budget", "--usd", "1M", "--gpu", "h100-sxm"]):
        out = run(*command, "--assume", item)
        assert out.exit_code == 2, out.output
        assert "--assume" in out.output and says in out.output
        assert "Traceback" not in out.output


def test_team_sets_the_realisation_and_reports_it():
    args = ["estimate", "--params", "70B", "--tokens", "2T", "--gpus", "1024", "--format",
            "json"]
    base = json.loads(run(*args).output)
    out = run(*args, "--team", "frontier lab")
    assert out.exit_code == 0, out.output
    d = json.loads(out.output)
    assert d["assumptions"]["team"] == {"value": "frontier lab", "source": "given (--team)"}
    assert d["ideal_gpu_hours"] == pytest.approx(base["ideal_gpu_hours"])
    # the residual of the team's group, all runs' when the shipped fit keeps no team grouping
    centre = FIT[realisation.group_of("frontier lab")]["log_centre"]
    assert d["realisation"]["residual"] == pytest.approx(math.exp(centre))
    assert d["ideal_gpu_hours"] < d["gpu_hours"] <= base["gpu_hours"]
    assert d["realisation"]["multiplier"] == pytest.approx(d["gpu_hours"] / d["ideal_gpu_hours"])
    for spelling in ("frontier-lab", "Frontier_Lab", "FRONTIER  LAB"):  # no quotes needed
        same = json.loads(run(*args, "--team", spelling).output)
        assert same["assumptions"]["team"]["value"] == "frontier lab"
        assert same["gpu_hours"] == pytest.approx(d["gpu_hours"], rel=1e-12)
    bad = run(*args, "--team", "a startup")
    assert bad.exit_code == 2 and "--team" in bad.output
    assert "Traceback" not in bad.output and "'frontier lab'" in bad.output
    wrong = run(*args, "--assume", "team=a startup")
    assert wrong.exit_code == 2 and "--assume team" in wrong.output \
        and "frontier lab" in wrong.output


def test_budget_takes_the_team_too():
    args = ["budget", "--usd", "20M", "--gpus", "1024", "--gpu", "h100-sxm", "--format", "json"]
    base = json.loads(run(*args).output)
    out = run(*args, "--team", "frontier lab")
    assert out.exit_code == 0, out.output
    d = json.loads(out.output)
    assert d["assumptions"]["team"] == {"value": "frontier lab", "source": "given (--team)"}
    # the same money buys more when the team's residual is below all runs' (the same otherwise)
    faster = FIT[realisation.group_of("frontier lab")]["log_centre"] < FIT["any"]["log_centre"]
    assert (d["inverse"]["params"] > base["inverse"]["params"]) == faster
    assert d["inverse"]["params"] >= base["inverse"]["params"]


@pytest.mark.parametrize("args, says", [
    # was: the whole solve, then "internal error: ValueError: Format 'txt' is not supported"
    (("schedule", "workloads/fleets/lab-3-sites.toml", "--gantt", "{tmp}/g.txt"),
     "--gantt: '{tmp}/g.txt' has another suffix; accepted: a file name ending in .png, .svg"),
    # was: Parquet written under a .csv name
    (("schedule", "workloads/fleets/lab-3-sites.toml", "-o", "{tmp}/f.csv"),
     "-o/--output: '{tmp}/f.csv' has another suffix; accepted: a file name ending in .parquet"),
    (("estimate", "--params", "7B", "--tokens", "1T", "--plot", "{tmp}/chart"),
     "--plot: '{tmp}/chart' has no suffix"),
])
def test_an_output_file_of_the_wrong_kind_is_refused_before_any_work(tmp_path, args, says):
    r = run(*[a.format(tmp=tmp_path) for a in args])
    assert r.exit_code == 2 and says.format(tmp=tmp_path) in r.output
    assert not list(tmp_path.iterdir())


def test_an_infeasible_fleet_with_a_gantt_is_still_an_answer(tmp_path):
    # was: exit 2, "--gantt: the schedule has no placed runs to draw", after the answer
    fleet = tmp_path / "f.toml"
    fleet.write_text('start = "2027-01"\nend = "2027-01"\nstep = "1w"\n[[sites]]\nname = "s"\n'
                     'power_mw = 20\ndeliveries = { b200 = 256 }\n[[runs]]\nname = "A"\n'
                     'params = "70B"\ntokens = "1.05T"\ngpus = [256]\n')
    r = run("schedule", str(fleet), "--gantt", str(tmp_path / "g.png"))
    assert r.exit_code == 0 and "INFEASIBLE" in r.output and "horizon" in r.output
    assert "(the end, 2027-01-31, cut to whole steps)" in r.output
    assert "gantt: not drawn" in r.output


def test_validate_refit_checks_its_path_before_the_fit():
    # was: exit 1 with FileNotFoundError after the whole fit
    for path, says in (("/nonexistent/x.py", "is in a folder that does not exist"),
                       ("/tmp/fit.txt", "a file name ending in .py")):
        out = CliRunner().invoke(cli.app, ["validate", "--refit", path])
        assert out.exit_code == 2 and "--refit" in out.output and says in out.output


def test_validate_refit_names_a_file_its_folder_would_not_take(tmp_path, monkeypatch):
    # was: "internal error: FileNotFoundError", exit 1, where the folder passed the check
    # (os.access says yes to root) and the file could not be made (/proc/fit.py, /sys/fit.py)
    from planner import validate as validation

    monkeypatch.setattr(validation, "fit_realisation", lambda cat: ())
    monkeypatch.setattr(validation, "render_fit", lambda *fit: "X = 1\n")

    def refuse(path, mode="r", *a, **k):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(cli, "open", refuse, raising=False)
    out = CliRunner().invoke(cli.app, ["validate", "--refit", str(tmp_path / "fit.py")])
    assert out.exit_code == 2 and "internal error" not in out.output, out.output
    assert f"--refit: {tmp_path / 'fit.py'}: Permission denied" in out.output


def test_validate_refit_refuses_a_format_it_cannot_write():
    # was: --refit - --format json printed the Python module, exit 0, --format unread
    for fmt in ("json", "table"):
        out = CliRunner().invoke(cli.app, ["validate", "--refit", "-", "--format", fmt])
        assert out.exit_code == 2 and "--format" in out.output, out.output
        assert "--refit writes the Python module" in out.output


def test_a_shape_from_the_parameter_count_reports_its_ffn_kind():
    # the contract: an FFN kind not given is inferred and reported in assumptions
    d = json.loads(CliRunner().invoke(cli.app, ["estimate", "--params", "70B", "--tokens", "2T",
                                                "--gpus", "512", "--format", "json"]).output)
    assert d["assumptions"]["ffn_type"]["value"] == "gated"
    assert d["assumptions"]["ffn_type"]["source"].startswith("default for --params")



def test_a_sliding_window_from_the_command_line_and_a_catalog_file(tmp_path):
    shape = ["--layers", "34", "--hidden", "2560", "--heads", "8", "--kv-heads", "4",
             "--head-dim", "256", "--ffn", "10240", "--vocab", "262208", "--tokens", "4T",
             "--gpus", "512", "--seq-len", "32768", "--format", "json"]
    d = json.loads(run(*["estimate", *shape, "--window", "1024", "--window-layers",
                         "29"]).output)
    assert (d["workload"]["window"], d["workload"]["window_layers"]) == (1024, 29)
    assert d["assumptions"]["window"]["value"] == "1024 keys in 29 of 34 layers"
    whole = json.loads(run(*["estimate", *shape]).output)
    assert d["model_flops"] < whole["model_flops"] and d["mfu"] <= 1
    # a window alone covers every layer; layers without a window, or more than there are,
    # are refused naming the flag
    every = json.loads(run(*["estimate", *shape, "--window", "1024"]).output)
    assert every["workload"]["window_layers"] == 34
    for extra, says in ((["--window-layers", "29"], "--window-layers: 29 is given without a "
                         "window"),
                        (["--window", "1024", "--window-layers", "40"],
                         "--window-layers: 40 is not between 0 and the 34 layers")):
        r = run(*["estimate", *shape[:-2], *extra])
        assert r.exit_code == 2 and says in r.output, r.output
    # a catalog file declares it in [architecture]
    (tmp_path / "workloads").mkdir()
    (tmp_path / "workloads" / "swa.toml").write_text(
        'name = "swa"\nkind = "dense"\n[architecture]\nsource = "test"\nas_of = "2026"\n'
        'layers = 34\nhidden = 2560\nheads = 8\nkv_heads = 4\nhead_dim = 256\nffn = 10240\n'
        'vocab = 262208\nwindow = 1024\nwindow_layers = 29\n')
    d2 = json.loads(run("estimate", "--workload", "swa", "--catalog", str(tmp_path),
                        *shape[14:]).output)
    assert (d2["workload"]["window"], d2["workload"]["window_layers"]) == (1024, 29)
    # and a flag over the file's window keeps the file's layers
    d3 = json.loads(run("estimate", "--workload", "swa", "--catalog", str(tmp_path),
                        "--window", "512", *shape[14:]).output)
    assert (d3["workload"]["window"], d3["workload"]["window_layers"]) == (512, 29)
    assert d3["model_flops"] < d2["model_flops"]


def test_an_empty_catalog_name_is_named_as_name_and_link_rates_keep_their_decimals(capsys):
    # was: "--gpu: '' is empty" (a flag not given), plain text under --format json; and
    # hardware list printed 12.5 GB/s as "12"
    from click.testing import CliRunner

    with pytest.raises(SystemExit) as exit_:
        cli.main(["hardware", "show", "", "--format", "json"])
    err = json.loads(capsys.readouterr().out)["error"]
    assert exit_.value.code == 2 and err["option"] == "NAME"
    assert err["message"] == "NAME: '' is empty; accepted: a key of 'planner hardware list'"
    r = CliRunner().invoke(cli.app, ["hardware", "list"])
    line = next(ln for ln in r.output.splitlines() if ln.startswith("ib-edr"))
    assert " 12.5 " in line


def test_ctrl_c_is_an_interruption_not_an_internal_error(monkeypatch, capsys):
    # it had printed "aborted" and exited 1, the internal error's status, saying nothing of
    # --resume
    import click

    def interrupted(*a, **k):
        raise click.exceptions.Abort()

    monkeypatch.setattr(cli.app, "main", interrupted)
    with pytest.raises(SystemExit) as stop:
        cli.main(["sweep", "spec.toml", "-o", "out"])
    assert stop.value.code == 130
    assert "rerun with --resume" in capsys.readouterr().err


def test_a_seed_that_is_no_number_names_its_form(capsys):
    # click's int type had answered with no accepted form
    with pytest.raises(SystemExit) as exit_:
        cli.main(["estimate", "--params", "7B", "--tokens", "1T", "--gpus", "64",
                  "--uncertainty", "--seed", "abc", "--format", "json"])
    err = json.loads(capsys.readouterr().out)["error"]
    assert exit_.value.code == 2 and err["option"] == "--seed"
    assert err["accepted"] == "a whole number from 0 to 2^63 - 1"


def test_plot_of_a_plan_with_no_sizing_says_why_in_its_own_terms(tmp_path):
    # an auditor: a sizing no size of which runs a layout had been told "a --gpus given
    # fixes the size" where no --gpus was given
    pytest.importorskip("matplotlib")
    png = str(tmp_path / "s.png")
    for flags, says in (
            (("--layout", "tp=8,pp=1,dp=8"), "(a full --layout fixes the size: leave its dp "
                                             "out)"),
            (("--layout", "zero=0,tp=1,pp=1", "--max-gpus", "4096"),
             "among sizes a layout runs; none does: no layout fits in memory: the leanest "
             "needs 1,268.0 GB per device, h100-sxm has 80 GB")):
        r = run("estimate", "--params", "70B", "--tokens", "2T", *flags, "--plot", png)
        assert r.exit_code == 2 and says in r.output, r.output
        assert "--gpus" not in r.output


def test_the_gantt_title_words_the_cost_as_the_table_does():
    # an auditor: the title read $1M beside the table's $1.5M, and $0M for $69,679 or for a
    # cost unknown
    pytest.importorskip("matplotlib")
    from planner.charts import gantt_figure
    from planner.units import fmt_money

    d = planner.schedule("workloads/fleets/lab-3-sites.toml").to_dict()
    cost = d["objective"]["cost_usd"]
    title = gantt_figure(d).axes[0].get_title()
    assert f"cost {fmt_money(cost)};" in title and "validated" in title
    unknown = {**d, "objective": {**d["objective"], "cost_usd": None}}
    assert "cost n/a (a price unknown)" in gantt_figure(unknown).axes[0].get_title()


def test_money_past_the_ceiling_names_the_ceiling_and_help_shows_plain_defaults():
    # an auditor: --usd 1e30 had been "too large" with no bound said (--tokens and
    # --power-cap name theirs), and budget --help read "[default: (20)]"
    for cmd in (["budget", "--usd", "1e30", "--gpu", "h100-sxm"],
                ["estimate", "--params", "7B", "--tokens", "1T", "--budget", "1e30"]):
        r = run(*cmd)
        assert r.exit_code == 2 and "is too large" in r.output and "at most $1,000T" in r.output
    for command in ("estimate", "budget", "sweep", "schedule", "validate"):
        r = run(command, "--help")
        assert r.exit_code == 0 and "default: (" not in r.output, command
    assert "20, the default, is compute-optimal" in " ".join(run("budget", "--help")
                                                              .output.split())


def test_option_words_in_any_case_pass_on_the_canonical_word():
    """--precision FP8, --ownership Owned, --format JSON: the words of an option are taken in
    any case, as --team, --gpu and --site are, and the plan is the lower-case word's."""
    args = ["estimate", "--params", "7B", "--tokens", "200B", "--gpus", "64"]
    lower = json.loads(run(*args, "--precision", "fp8", "--ownership", "owned",
                           "--objective", "time", "--format", "json").output)
    out = run(*args, "--precision", "FP8", "--ownership", "Owned", "--objective", "TIME",
              "--format", "JSON")
    assert out.exit_code == 0, out.output
    upper = json.loads(out.output)
    assert upper["workload"]["precision"] == "fp8"
    assert upper["gpu_hours"] == pytest.approx(lower["gpu_hours"], rel=1e-12)
    assert upper["cost_usd"] == lower["cost_usd"]
    bad = run(*args, "--precision", "FP9")
    assert bad.exit_code == 2 and "--precision" in bad.output and "fp8" in bad.output


@pytest.mark.parametrize("flag, value, says", [
    # an auditor: an empty --layout or --inventory had planned as if the flag were absent
    ("--layout", "", "--layout: the layout is empty"),
    ("--layout", ",", "--layout: the layout is empty"),
    ("--inventory", "", "--inventory: '' is empty; accepted: ACCELERATOR=DEVICES"),
    # an auditor: '=5' had been refused as "--gpu: '' is empty", naming another flag
    ("--inventory", "=5", "--inventory: '=5' gives devices without an accelerator"),
    # a full-width digit had seeded the Monte Carlo as 1
    ("--seed", "１", "--seed: '１' is not valid; accepted: a whole number"),
])
def test_an_empty_or_foreign_flag_value_is_refused_naming_the_flag(flag, value, says):
    out = run("estimate", "--params", "7B", "--tokens", "200B", "--gpus", "64",
              "--uncertainty", flag, value)
    assert out.exit_code == 2 and says in out.output, out.output
    assert "Traceback" not in out.output


def test_a_negative_zero_price_reads_zero():
    # an auditor: --price-per-gpu-hour -0 printed "$-0.00/device-h" and a JSON total of -0.0
    args = ["estimate", "--params", "7B", "--tokens", "200B", "--gpus", "64",
            "--price-per-gpu-hour", "-0"]
    table = run(*args)
    assert table.exit_code == 0 and "at $0.00/device-h" in table.output, table.output
    total = json.loads(run(*args, "--format", "json").output)["cost_usd"]["total"]
    assert total == 0 and math.copysign(1, total) == 1
