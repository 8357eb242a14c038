"""Fleet schedules: fixes from an audit of the scheduler (sizes offered where runs share a
site, the power a site sustains, inputs the schema refuses, diagnoses' figures), each with the
answer it had given."""

import contextlib
import io
import json

import pytest

import cli


def planner(*args) -> tuple[int, str, str]:
    """cli.main as the shell runs it: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            cli.main([str(a) for a in args])
        except SystemExit as exc:
            return int(exc.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


HEAD = 'start = "2027-01"\nend = "2027-06"\nstep = "1w"\n'
RUN = '[[runs]]\nname = "a"\nparams = "70B"\ntokens = "15T"\n'


@pytest.mark.parametrize("value", ["5", "1.5", "2027-01-01"])
@pytest.mark.parametrize("fmt", ["table", "json"])
def test_sites_not_a_list_is_bad_input(tmp_path, value, fmt):
    # was: "internal error: TypeError: 'int' object is not iterable", exit 1: the plain-number
    # check enumerated sites before the schema named it (runs = 5 read as below)
    path = tmp_path / "f.toml"
    path.write_text(f"sites = {value}\n" + HEAD + RUN)
    code, out, err = planner("schedule", path, "-q", "--format", fmt)
    assert code == 2 and "Traceback" not in out + err and "internal error" not in out + err
    message = f"f.toml.sites: {value} is not a list; accepted: a list of a site with name"
    if fmt == "json":
        assert json.loads(out)["error"]["message"].startswith(message)
    else:
        assert message in err


A100_ONLY = ('[[sites]]\nname = "s0"\npower_mw = 100\ndeliveries = { a100-80gb = 4096 }\n'
             '[[runs]]\nname = "b"\nparams = "7B"\ntokens = "1T"\n'
             '[[runs]]\nname = "a"\nparams = "7B"\ntokens = "1T"\nprecision = "fp8"\n')


def test_a_precision_no_delivered_type_runs_leaves_that_run_out_not_the_fleet(tmp_path):
    # was: exit 2, "run a on a100-80gb: precision: 'fp8' has no peak", b left unscheduled,
    # where a run whose gpu is not delivered is an answer (binding devices), b scheduled
    path = tmp_path / "f.toml"
    path.write_text(HEAD.replace("2027-06", "2027-12") + A100_ONLY)
    code, out, err = planner("schedule", path, "-q", "--format", "json")
    d = json.loads(out)
    assert code == 0 and d["status"] == "INFEASIBLE" and d["unplaced"] == ["a"]
    assert [(r["name"], r["accelerator"]) for r in d["runs"]] == [("b", "a100-80gb")]
    assert d["binding"] == "devices" and d["reason"] == (
        "run a has no option that runs: none of the accelerators delivered to the sites runs "
        "its precision fp8 (f.toml.runs[1].precision): a100-80gb has a peak for bf16")
    # the run naming only a type that cannot run its precision: its own keys disagree
    path.write_text(HEAD + A100_ONLY + 'gpu = ["a100-80gb"]\n')
    code, out, err = planner("schedule", path, "-q")
    assert code == 2 and err.strip().endswith(
        "f.toml.runs[1].precision: 'fp8' has no peak on a100-80gb (its gpu); accepted: a "
        "precision a100-80gb has a peak for: bf16")
