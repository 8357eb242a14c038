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
