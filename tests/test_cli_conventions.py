"""CLI conventions: --format json for errors (an object naming the option, the accepted form
and the message; exit 2) and for the catalog commands, budget --format csv, examples in every
command's --help, "did you mean" for unknown keys, and shell completion of commands, flags and
catalog keys."""

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.shell_completion import ShellComplete
from click.testing import CliRunner

import cli
import planner
from planner.plan.fields import ASSUMPTION_COLUMNS

ROOT = Path(__file__).resolve().parent.parent


def run(capsys, *args):
    with pytest.raises(SystemExit) as exc:
        cli.main(list(args))
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


@pytest.mark.parametrize("args, option, words", [
    (["estimate", "--params", "70X", "--tokens", "1T"], "--params", ["'70X'"]),
    (["estimate", "--params", "70B", "--tokens", "1T", "--gpu", "h100-smx"], "--gpu",
     ["did you mean h100-sxm?"]),
    (["estimate", "--params", "70B", "--tokens", "1T", "--gpus", "64", "--layout", "tq=8"],
     "--layout", ["unknown layout part 'tq'"]),
    (["estimate", "--params", "70B", "--ownership", "rented"], "--ownership", ["rented"]),
    (["estimate", "--params", "70B", "--tokens", "1T", "--gpuz", "8"], "--gpuz", ["--gpu"]),
    (["budget", "--usd", "lots"], "--usd", ["'lots'"]),
    (["hardware", "show", "h100-smx"], "NAME", ["did you mean h100-sxm?"]),
    (["workloads", "show", "llama3-405b"], "NAME", ["did you mean llama3.1-405b?"]),
    (["schedule", "no-such-fleet.toml"], "FLEET.toml", []),
    # click's own errors name the argument as the usage line does (was: "name")
    (["hardware", "show"], "NAME", ["Missing argument 'NAME'"]),
])
@pytest.mark.parametrize("style", ["--format json", "--format=json"])
def test_errors_as_json(capsys, args, option, words, style):
    code, out, err = run(capsys, *args, *style.split())
    assert code == 2 and err == ""
    error = json.loads(out)["error"]
    assert set(error) == {"option", "accepted", "message", "exit_status"}
    assert error["option"] == option and error["exit_status"] == 2
    for w in words:
        assert w in error["message"], (w, error)
    if option.startswith("--") and option not in ("--gpuz",):
        assert error["accepted"], error


def test_the_last_format_typed_decides_the_error_as_it_does_the_answer(capsys):
    # an auditor: --format json --format csv answered in CSV but erred in JSON
    base = ("estimate", "--params", "70B", "--tokens", "2T", "--gpus")
    code, out, err = run(capsys, *base, "-5", "--format", "json", "--format", "csv")
    assert code == 2 and out == "" and "Error: --gpus" in err
    code, out, err = run(capsys, *base, "-5", "--format", "csv", "--format=json")
    assert code == 2 and json.loads(out)["error"]["option"] == "--gpus"
    code, out, _ = run(capsys, *base, "64", "--format", "json", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))  # the answer in CSV, the last typed
    assert code == 0 and len(rows) == 1 and rows[0]["cluster_gpus"] == "64"


def test_a_workload_file_that_is_missing_or_not_toml_is_named_as_the_workload_input(
        capsys, tmp_path):
    # was: "option": null in the JSON error, no accepted form
    bad = tmp_path / "bad.toml"
    bad.write_text("a = [\n")
    for path, says in ((tmp_path / "nosuch.toml", "is no such file"),
                       (bad, "not valid TOML")):
        code, out, _ = run(capsys, "estimate", "--workload", str(path), "--tokens", "1T",
                           "--format", "json")
        error = json.loads(out)["error"]
        assert code == 2 and error["option"] == "--workload" and says in error["message"]
        assert "FILE.toml" in error["accepted"]


def test_input_errors_give_the_accepted_form(capsys):
    _, out, _ = run(capsys, "estimate", "--params", "70B", "--tokens", "1T", "--deadline",
                    "soon", "--format", "json")
    error = json.loads(out)["error"]
    assert error["option"] == "--deadline" and "90d" in error["accepted"]
    _, out, _ = run(capsys, "estimate", "--params", "70B", "--tokens", "1T", "--ownership",
                    "rented", "--format", "json")
    assert json.loads(out)["error"]["accepted"] == "one of cloud, owned"


def test_errors_stay_text_without_json(capsys):
    code, out, err = run(capsys, "estimate", "--params", "70B", "--tokens", "1T", "--gpu",
                         "h100-smx")
    assert code == 2 and out == ""
    assert "--gpu: unknown accelerator 'h100-smx' (did you mean h100-sxm?)" in err
    assert "Traceback" not in err


def test_did_you_mean_in_library_errors():
    with pytest.raises(planner.UnknownKeyError) as exc:
        planner.estimate(params="70B", tokens="1T", site="us-hyperscal")
    assert exc.value.suggestion == "us-hyperscale"
    assert "did you mean us-hyperscale?" in str(exc.value)
    with pytest.raises(planner.UnknownKeyError) as exc:
        planner.catalog().resolve("accelerators", "zzzz")
    assert exc.value.suggestion is None and "did you mean" not in str(exc.value)


def test_catalog_commands_as_json():
    runner = CliRunner()
    r = runner.invoke(cli.app, ["hardware", "list", "--format", "json"])
    assert r.exit_code == 0
    listed = json.loads(r.output)
    assert set(listed) == {"accelerators", "networks", "sites"}
    h100 = next(a for a in listed["accelerators"] if a["key"] == "h100-sxm")
    assert h100["hbm_bytes"] == 80e9 and h100["peak_flops"]["bf16"] == pytest.approx(989.4e12,
                                                                                     rel=0.01)
    assert h100["figures"]["hbm_gb"]["source"]
    assert h100["price_basis"] in ("contract", "on-demand") and h100["price_per_gpu_hour"] > 0
    r = runner.invoke(cli.app, ["hardware", "show", "h100-sxm", "--format", "json"])
    shown = json.loads(r.output)
    assert shown["kind"] == "accelerator" and shown["key"] == "h100-sxm"
    assert shown["entries"]["hbm_gb"]["value"] == 80 and shown["path"].endswith("h100-sxm.toml")
    r = runner.invoke(cli.app, ["workloads", "list", "--format", "json"])
    w = {x["key"]: x for x in json.loads(r.output)["workloads"]}
    assert w["deepseek-v3"]["params"] == pytest.approx(671e9, rel=0.01)
    assert w["deepseek-v3"]["architecture"]["experts"] == 256
    r = runner.invoke(cli.app, ["workloads", "show", "llama3.1-405b", "--format", "json"])
    assert json.loads(r.output)["entries"]["architecture"]["layers"] == 126


def test_budget_as_csv_matches_its_json():
    runner = CliRunner()
    args = ["budget", "--usd", "20M", "--deadline", "60d", "--gpu", "h100-sxm"]
    rows = list(csv.DictReader(io.StringIO(runner.invoke(cli.app, args + ["--format", "csv"])
                                           .output)))
    answer = json.loads(runner.invoke(cli.app, args + ["--format", "json"]).output)
    assert len(rows) == 1
    row = rows[0]
    assert float(row["inverse_params"]) == pytest.approx(answer["inverse"]["params"])
    assert float(row["cost_usd_total"]) == pytest.approx(answer["cost_usd"]["total"])
    assert row["binding"] == answer["binding"] and row["cluster_accelerator"] == "h100-sxm"
    # the assumptions table is a column per name, its values (estimate_many's columns)
    assert [k for k in row if k.startswith("assumptions")] == [
        f"assumptions_{name}_value" for name, _, _ in ASSUMPTION_COLUMNS]
    used = answer["assumptions"]
    assert row["assumptions_framework_value"] == used["framework"]["value"] == "megatron-core"
    assert float(row["assumptions_gemm_efficiency_value"]) == \
        pytest.approx(used["gemm_efficiency"]["value"])
    assert all(row[f"assumptions_{name}_value"] == "" for name, _, _ in ASSUMPTION_COLUMNS
               if name not in used)


def _commands(group=cli.app, path=()):
    for name, cmd in sorted(group.commands.items()):
        yield path + (name,), cmd
        if hasattr(cmd, "commands"):
            yield from _commands(cmd, path + (name,))


@pytest.mark.parametrize("path", [p for p, _ in _commands()], ids=" ".join)
def test_every_command_shows_examples(path):
    r = CliRunner().invoke(cli.app, [*path, "--help"])
    assert r.exit_code == 0
    assert "Examples:" in r.output and f"planner {path[0]}" in r.output.split("Examples:")[1]


def completions(args, incomplete):
    comp = ShellComplete(cli.app, {}, "planner", "_PLANNER_COMPLETE")
    return [c.value for c in comp.get_completions(args, incomplete)]


def test_completion_of_commands_flags_and_catalog_keys():
    assert "estimate" in completions([], "est")
    assert set(completions(["hardware"], "")) == {"list", "show"}
    assert "--power-cap" in completions(["estimate"], "--pow")
    assert completions(["estimate", "--gpu"], "h100") == ["h100-pcie", "h100-sxm"]
    assert completions(["estimate", "--gpu"], "b200,mi3") == [
        "b200,mi300x", "b200,mi325x", "b200,mi355x"]
    assert completions(["estimate", "--site"], "eu") == ["eu-colocation"]
    assert completions(["estimate", "--network"], "ib-n") == ["ib-ndr"]
    assert "llama3.1-405b" in completions(["estimate", "--workload"], "llama3.1")
    assert "h100-sxm" in completions(["hardware", "show"], "h1")
    assert "ib-ndr" in completions(["hardware", "show"], "ib")
    assert completions(["workloads", "show"], "deepseek") == ["deepseek-v2", "deepseek-v3"]


def test_completion_reads_a_catalog_given_before(tmp_path):
    folder = tmp_path / "hardware" / "sites"
    folder.mkdir(parents=True)
    (folder / "my-site.toml").write_text('name = "mine"\n')
    assert completions(["estimate", "--catalog", str(tmp_path), "--site"], "my") == ["my-site"]


def test_the_shell_hook_is_generated():
    env = {**os.environ, "_PLANNER_COMPLETE": "bash_source"}
    out = subprocess.run([sys.executable, "-c", "import cli; cli.main()"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "_PLANNER_COMPLETE=bash_complete" in out.stdout
    env = {**os.environ, "_PLANNER_COMPLETE": "bash_complete", "COMP_WORDS":
           "planner estimate --gpu h100", "COMP_CWORD": "3"}
    out = subprocess.run([sys.executable, "-c", "import cli; cli.main()"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert "plain,h100-sxm" in out.stdout.splitlines()


@pytest.mark.parametrize("flag, value, says", [
    ("--assume", "gem_efficiency=0.5", "did you mean gemm_efficiency?"),
    ("--inventory", "h100-smx=100", "did you mean h100-sxm?"),
])
def test_a_mistyped_name_in_a_flag_value_gets_a_suggestion(capsys, flag, value, says):
    # docs/interface.md: unknown keys say "did you mean" (these two had not)
    code, out, _ = run(capsys, "estimate", "--params", "7B", "--tokens", "1T", flag, value,
                       "--format", "json")
    error = json.loads(out)["error"]
    assert code == 2 and error["option"] == flag and says in error["message"]


def test_an_option_missing_its_value_is_named(capsys):
    # was: option null in the JSON error
    code, out, _ = run(capsys, "estimate", "--format", "json", "--tokens", "1T", "--params")
    error = json.loads(out)["error"]
    assert code == 2 and error["option"] == "--params"
    assert "requires an argument" in error["message"]


def test_settings_joined_by_a_semicolon_are_named_as_what_toml_refuses(capsys, tmp_path):
    # a compact example's notation ('start = "2027-01"; end = "2028-12"') copied into a file
    # read as an opaque parser message; each TOML input now says what is wrong with it
    joined = 'start = "2027-01"; end = "2027-12"\n'
    hint = "TOML takes one key = value a line, and ';' does not separate them"
    fleet, spec, workload = (tmp_path / n for n in ("fleet.toml", "spec.toml", "w.toml"))
    fleet.write_text(joined)
    spec.write_text('[fixed]\ntokens = "15T"; gpu = "h100-sxm"\n')
    workload.write_text('name = "x"; kind = "dense"\n')
    for args in (("schedule", str(fleet)), ("sweep", str(spec), "-o", str(tmp_path / "o")),
                 ("estimate", "--workload", str(workload), "--tokens", "1T")):
        code, out, err = run(capsys, *args)
        assert code == 2 and "is not valid TOML" in out + err and hint in out + err, args
    # another mistake gets the parser's words alone
    fleet.write_text("start = = 1\n")
    code, out, err = run(capsys, "schedule", str(fleet))
    assert code == 2 and "is not valid TOML" in out + err and hint not in out + err
    from planner.errors import toml_problem
    from planner.many.spec import SpecError, load_spec

    with pytest.raises(SpecError, match="does not separate them"):
        load_spec('[axes]\nparams = ["7B"]; gpus = [8]\n')
    assert "does not separate" not in toml_problem(ValueError("x"), 'a = "1;2"\n# b; c = 1\n')


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize("args", [["hardware", "list", "--format", "json"],
                                  ["hardware", "list"]])
def test_a_stdout_that_cannot_be_written_gives_one_line_not_a_traceback(args):
    # a user's audit: with --format json the handler wrote its JSON error to the same full
    # stdout, and two chained tracebacks came out
    with open("/dev/full", "w") as full:
        out = subprocess.run([sys.executable, "-c", "import cli; cli.main()", *args], cwd=ROOT,
                             stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    assert out.stderr.strip() == ("planner: internal error: OSError: [Errno 28] No space left "
                                  "on device")
