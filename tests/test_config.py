"""House defaults (planner/config.py): the search order and precedence of config files, strict
keys, paths relative to the file, and the CLI: a value from a file is used unless a flag is
given, named with its file in the plan's assumptions table, and listed by `planner config
show`."""

import json
import os
from pathlib import Path

import pytest

import cli
from planner import config
from planner.errors import InputError


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def house_file(tmp_path: Path, monkeypatch, text: str) -> Path:
    """A working directory's planner.toml holding ``text``, the only config file read (no
    PLANNER_CONFIG, an empty user config directory)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PLANNER_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    return write(tmp_path / "planner.toml", text)


@pytest.fixture
def files(tmp_path, monkeypatch):
    """A user config, a working-directory planner.toml and a PLANNER_CONFIG file."""
    xdg = tmp_path / "xdg"
    user = write(xdg / "planner" / "config.toml",
                 '[defaults]\nsite = "cheap-power"\ndeadline = "200d"\nprice_per_gpu_hour = 3\n'
                 '[assumptions]\nrestart_s = 300\n')
    work = tmp_path / "work"
    here = write(work / "planner.toml", '[defaults]\ndeadline = "150d"\ncatalog = "cat"\n'
                 '[estimate]\ngpu = ["h100-sxm", "b200"]\n')
    env = write(tmp_path / "team.toml", '[defaults]\nprice_per_gpu_hour = 2.25\n'
                '[assumptions]\nrestart_s = 120\n')
    (work / "cat").mkdir()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg))
    monkeypatch.setenv("PLANNER_CONFIG", str(env))
    monkeypatch.chdir(work)
    return user, here, env


def test_search_order_and_precedence(files):
    user, here, env = files
    cfg = config.load()
    assert cfg.files == (user, Path.cwd() / "planner.toml", env)
    d = cfg.for_command("estimate", ["site", "deadline", "price_per_gpu_hour", "gpu",
                                     "catalog"])
    assert d["site"].value == "cheap-power" and d["site"].path == user       # only there
    assert d["deadline"].value == "150d" and d["deadline"].path.name == "planner.toml"
    assert d["price_per_gpu_hour"].value == 2.25 and d["price_per_gpu_hour"].path == env
    assert d["gpu"].value == "h100-sxm,b200" and d["gpu"].table == "estimate"
    assert d["catalog"].value == str(here.parent / "cat")    # relative to the file
    assert cfg.assumptions["restart_s"].value == 120.0 and cfg.assumptions["restart_s"].path == env
    # a command's own table applies to it only
    assert "gpu" not in cfg.for_command("budget", ["gpu", "site"])


def test_search_paths_default_to_the_home_config_dir(tmp_path):
    paths = config.search_paths({"HOME": str(tmp_path)}, cwd=tmp_path / "w")
    assert paths == [tmp_path / ".config" / "planner" / "config.toml",
                     tmp_path / "w" / "planner.toml"]


def test_unknown_keys_are_errors_naming_file_key_and_neighbour(tmp_path):
    path = write(tmp_path / "planner.toml", "[defaults]\nprice_per_gpu_hr = 2\n")
    cfg = config.load({"HOME": str(tmp_path / "h")}, cwd=tmp_path)
    with pytest.raises(InputError) as exc:
        cfg.check({"estimate": {"price_per_gpu_hour", "site"}, "budget": {"usd"}})
    text = str(exc.value)
    assert str(path) in text and "price_per_gpu_hr" in text
    assert "did you mean price_per_gpu_hour?" in text
    write(tmp_path / "planner.toml", "[assumptions]\nfailure_rate = 1\n")
    with pytest.raises(InputError, match="failure_rate_per_device_hour"):
        config.load({"HOME": str(tmp_path / "h")}, cwd=tmp_path)
    write(tmp_path / "planner.toml", "[estimat]\ngpu = 'b200'\n")
    with pytest.raises(InputError, match=r"did you mean estimate\?"):
        config.load({"HOME": str(tmp_path / "h")}, cwd=tmp_path).check({"estimate": {"gpu"}})
    write(tmp_path / "planner.toml", "[defaults\n")
    with pytest.raises(InputError, match="not valid TOML"):
        config.load({"HOME": str(tmp_path / "h")}, cwd=tmp_path)


def test_a_missing_planner_config_file_is_an_error(tmp_path):
    with pytest.raises(InputError, match="PLANNER_CONFIG"):
        config.load({"HOME": str(tmp_path), "PLANNER_CONFIG": str(tmp_path / "none.toml")},
                    cwd=tmp_path)


def run(capsys, *args):
    with pytest.raises(SystemExit) as exc:
        cli.main(list(args))
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def test_estimate_uses_and_reports_the_files(files, capsys):
    user, here, env = files
    code, out, _ = run(capsys, "estimate", "--params", "8B", "--tokens", "1T", "--gpus", "64",
                       "--format", "json")
    assert code == 0
    plan = json.loads(out)
    asm = plan["assumptions"]
    assert plan["cluster"]["site"] == "cheap-power"
    assert asm["site"] == {"value": "cheap-power",
                           "source": f"config file {user} [defaults]"}
    assert asm["price_per_gpu_hour"]["value"] == 2.25
    assert asm["price_per_gpu_hour"]["source"] == f"config file {env} [defaults]"
    assert asm["restart_s"] == {"value": 120.0, "source": f"config file {env} [assumptions]"}
    assert asm["deadline"]["source"].endswith("planner.toml [defaults]")
    # 64 devices at $2.25 an hour: the cloud cost is the file's price
    assert plan["cost_usd"]["total"] == pytest.approx(plan["gpu_hours"] * 2.25)


def test_a_flag_wins_over_every_file(files, capsys):
    code, out, _ = run(capsys, "estimate", "--params", "8B", "--tokens", "1T", "--gpus", "64",
                       "--price-per-gpu-hour", "1.5", "--site", "us-hyperscale",
                       "--assume", "restart_s=60", "--format", "json")
    assert code == 0
    asm = json.loads(out)["assumptions"]
    assert asm["price_per_gpu_hour"]["value"] == 1.5
    assert "config file" not in asm["price_per_gpu_hour"]["source"]
    assert asm["restart_s"] == {"value": 60.0, "source": "given (--assume)"}
    assert "site" not in asm   # given on the command line: no default to report


def test_budget_takes_house_defaults(files, capsys):
    code, out, _ = run(capsys, "budget", "--usd", "20M", "--gpu", "h100-sxm", "--format",
                       "json")
    assert code == 0
    answer = json.loads(out)
    assert answer["inverse"]["limits"]["deadline_s"] == 150 * 86400
    assert "planner.toml [defaults]" in answer["assumptions"]["deadline"]["source"]


def test_config_show_lists_defaults_and_origins(files, capsys):
    user, here, env = files
    code, out, _ = run(capsys, "config", "show", "--format", "json")
    assert code == 0
    shown = json.loads(out)
    assert [f["found"] for f in shown["files"]] == [True, True, True]
    est = shown["defaults"]["estimate"]
    assert est["price_per_gpu_hour"] == {"value": 2.25, "origin": f"{env} [defaults]"}
    assert est["gpu"]["origin"].endswith("planner.toml [estimate]")
    assert est["ownership"] == {"value": "cloud", "origin": "built-in"}
    assert shown["assumptions"]["restart_s"]["origin"] == f"{env} [assumptions]"
    assert shown["assumptions"]["pue"]["origin"].startswith("built-in: ")
    code, out, _ = run(capsys, "config", "show")
    assert code == 0 and str(env) in out and "price_per_gpu_hour" in out


def test_config_show_table_prints_false_defaults_as_false(tmp_path, monkeypatch, capsys):
    # was: "sweep  resume  True  built-in": tabulate's wrapping (maxcolwidths) read the text
    # "False" as a flag and printed bool("False"), True, for every False default
    import re

    house_file(tmp_path, monkeypatch, "[sweep]\nresume = true\n")
    code, out, _ = run(capsys, "config", "show")
    assert code == 0
    rows = {tuple(line.split()[:3]) for line in out.splitlines() if len(line.split()) >= 4}
    assert ("sweep", "resume", "True") in rows  # the file's
    assert ("estimate", "quiet", "False") in rows and ("estimate", "uncertainty", "False") in rows
    assert re.search(r"^sweep +quiet +False +built-in$", out, re.M)
    code, out, _ = run(capsys, "config", "show", "--format", "json")
    assert json.loads(out)["defaults"]["sweep"]["quiet"]["value"] is False


def test_bad_values_in_a_file_name_the_file(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "planner.toml", '[defaults]\nownership = "rented"\n')
    code, _, err = run(capsys, "estimate", "--params", "8B", "--tokens", "1T")
    assert code == 2 and "planner.toml [defaults]: ownership = 'rented'" in err
    assert "Traceback" not in err
    write(tmp_path / "planner.toml", '[defaults]\ndeadline = "ninety days"\n')
    code, out, _ = run(capsys, "estimate", "--params", "8B", "--tokens", "1T", "--format",
                       "json")
    error = json.loads(out)["error"]
    assert code == 2 and error["option"] == "--deadline"
    assert "set in config file" in error["message"] and "planner.toml" in error["message"]
    write(tmp_path / "planner.toml", "[defaults]\nunknown_flag = 1\n")
    code, _, err = run(capsys, "hardware", "list")
    assert code == 2 and "unknown_flag" in err


def test_the_shipped_example_config_is_valid(monkeypatch, capsys):
    example = Path(__file__).resolve().parent.parent / "examples" / "planner.toml"
    monkeypatch.setenv("PLANNER_CONFIG", str(example))
    code, out, _ = run(capsys, "config", "show", "--format", "json")
    assert code == 0
    shown = json.loads(out)
    assert any(v["origin"].startswith(str(example))
               for v in shown["defaults"]["estimate"].values())


@pytest.mark.parametrize("text, flag", [
    ('[estimate]\ndeadline = "ten days"\n', "--deadline"),
    ('[budget]\nusd = "lots"\n', "--usd"),
    ('[defaults]\npue = 0.5\n', "--pue"),
    ('[defaults]\ncatalog = "no-such-dir"\n', "--catalog"),
])
def test_config_show_refuses_what_a_command_would(tmp_path, monkeypatch, capsys, text, flag):
    # docs/interface.md: values a flag would refuse are errors naming the file; config show
    # listed them as in force (exit 0) and only the command refused them
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "planner.toml", text)
    code, _, err = run(capsys, "config", "show")
    assert code == 2 and err.count(f"Error: {flag}:") == 1
    assert "(set in config file" in err and "planner.toml [" in err and "Traceback" not in err


def test_a_config_file_lists_several_catalog_directories(tmp_path, monkeypatch, capsys):
    # was: the list joined with commas as one directory, "cat1,cat2 does not exist"
    root = Path(__file__).resolve().parent.parent
    h100 = (root / "hardware/accelerators/h100-sxm.toml").read_text()
    h100 = "\n".join(ln for ln in h100.splitlines() if not ln.startswith("aliases"))
    write(tmp_path / "cat1/hardware/accelerators/mine-a.toml", h100 + "\n")
    write(tmp_path / "cat2/hardware/accelerators/mine-b.toml", h100 + "\n")
    house_file(tmp_path, monkeypatch, '[defaults]\ncatalog = ["cat1", "cat2"]\n')
    for gpu in ("mine-a", "mine-b"):  # each directory's files are read
        code, out, err = run(capsys, "estimate", "--params", "7B", "--tokens", "100B",
                             "--gpus", "8", "--gpu", gpu, "--format", "json")
        assert code == 0, err
        assert json.loads(out)["cluster"]["accelerator"] == gpu
    write(tmp_path / "planner.toml", '[defaults]\ncatalog = ["cat1", "nope"]\n')
    code, _, err = run(capsys, "estimate", "--params", "7B", "--tokens", "100B", "--gpus", "8")
    assert code == 2 and "nope' does not exist" in err and "planner.toml [defaults]" in err
    # an empty path is refused as an empty list entry is (it had become the file's folder)
    write(tmp_path / "planner.toml", '[defaults]\ncatalog = ""\n')
    code, _, err = run(capsys, "estimate", "--params", "7B", "--tokens", "100B", "--gpus", "8")
    assert code == 2 and "planner.toml catalog: '' is empty" in err


def test_config_show_lists_the_defaults_an_assumption_holds(tmp_path, monkeypatch, capsys):
    # was: no gpu, sequence, batch or budget deadline listed, though the help promises every
    # flag's default; a file's [assumptions] moves them, and says so
    house_file(tmp_path, monkeypatch, '[assumptions]\naccelerator = "b200"\n')
    code, out, _ = run(capsys, "config", "show", "--format", "json")
    d = json.loads(out)["defaults"]
    assert d["estimate"]["gpu"]["value"] == "b200"
    assert d["estimate"]["gpu"]["origin"].endswith("planner.toml [assumptions] (assumption "
                                                   "accelerator)")
    assert d["estimate"]["seq_len"] == {"value": 8192, "origin": "built-in: assumption seq_len"}
    assert d["budget"]["deadline"]["value"] == "120d" and "gpu" not in d["budget"]


def test_a_defaults_choice_applies_where_a_command_has_it(tmp_path, monkeypatch, capsys):
    # a user's audit: [defaults] format = "csv" stopped every command (workloads and config
    # show have no csv), estimate's own --format included
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "planner.toml", '[defaults]\nformat = "csv"\n')
    code, out, _ = run(capsys, "estimate", "--params", "7B", "--tokens", "1T", "--gpus", "64",
                       "-q")
    assert code == 0 and out.startswith("error,feasible,")
    code, out, _ = run(capsys, "workloads", "list")
    assert code == 0 and out.startswith("workload ")
    write(tmp_path / "planner.toml", '[defaults]\nformat = "xml"\n')  # no command takes it
    code, _, err = run(capsys, "hardware", "list")
    assert code == 2 and "planner.toml [defaults]: format = 'xml'" in err


@pytest.mark.parametrize("text, said", [
    ('[estimate]\nuncertainty = 5\n', "[estimate]: uncertainty = 5: accepted: true or false"),
    ('[estimate]\nseed = -1\n', "--seed: '-1' is not valid (set in config file"),
    ('[defaults]\ndeadline = 90\n', "--deadline: '90' has no unit (set in config file"),
])
def test_a_file_value_the_flag_would_refuse_is_refused_naming_the_file(
        tmp_path, monkeypatch, capsys, text, said):
    # a user's audit: a switch set to 5 was an internal error (exit 1); seed = -1 was taken;
    # deadline = 90 passed config show while every command refused it
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "planner.toml", text)
    for args in (("estimate", "--params", "7B", "--tokens", "1T", "-q"), ("config", "show")):
        code, _, err = run(capsys, *args)
        assert code == 2 and said in err and "Traceback" not in err


def test_a_config_file_not_in_utf8_is_refused_naming_it(tmp_path, monkeypatch, capsys):
    # a user's audit: an internal error (UnicodeDecodeError, exit 1)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "planner.toml").write_bytes(b'[defaults]\nsite = "eu-colocation" # caf\xe9\n')
    code, _, err = run(capsys, "config", "show")
    assert code == 2 and "is not valid TOML (not UTF-8 text)" in err


def test_a_model_on_the_command_line_replaces_the_files(tmp_path, monkeypatch, capsys):
    # a user's audit: [estimate] workload = "llama3.1-8b" with --params 70B read as two models
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "planner.toml", '[estimate]\nworkload = "llama3.1-8b"\ngpus = 64\n')
    code, out, _ = run(capsys, "estimate", "--params", "70B", "--tokens", "1T", "-q",
                       "--format", "json")
    assert code == 0 and json.loads(out)["workload"]["layers"] == 64
    code, out, _ = run(capsys, "estimate", "-q", "--format", "json")
    assert code == 0 and json.loads(out)["workload"]["layers"] == 32


def test_an_assumption_a_workload_overrides_is_not_quoted_as_used(tmp_path, monkeypatch,
                                                                   capsys):
    # a user's audit: [assumptions] seq_len = 4096 was quoted for a 405B plan at 8,192
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "planner.toml", '[assumptions]\nseq_len = 4096\n')
    code, out, _ = run(capsys, "estimate", "--workload", "llama3.1-405b", "--gpus", "16384",
                       "-q", "--format", "json")
    row = json.loads(out)["assumptions"]["seq_len"]
    assert code == 0 and row["value"] == 8192 and "llama3.1-405b's own" in row["source"]
    assert "planner.toml [assumptions]'s seq_len = 4096 serves plans without one" in \
        row["source"]


def test_config_show_lists_every_default_a_plan_takes(tmp_path, monkeypatch, capsys):
    # a user's audit: the default deadline, site and objective of estimate went unlisted
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PLANNER_CONFIG", raising=False)
    code, out, _ = run(capsys, "config", "show", "--format", "json")
    shown = json.loads(out)["defaults"]["estimate"]
    assert code == 0 and shown["deadline"]["value"] == "120d"
    assert shown["site"]["value"] == "us-hyperscale" and shown["objective"]["value"] == "cost"


def test_a_relative_planner_config_is_named_by_its_full_path_once(tmp_path, monkeypatch):
    # a user's audit: PLANNER_CONFIG=planner.toml was listed twice and relative origins meant
    # nothing once output was saved elsewhere
    write(tmp_path / "planner.toml", '[defaults]\nsite = "eu-colocation"\n')
    paths = config.search_paths({"PLANNER_CONFIG": "planner.toml", "HOME": str(tmp_path)},
                                cwd=tmp_path)
    assert [p.name for p in paths].count("planner.toml") == 1
    assert paths[-1] == (tmp_path / "planner.toml").resolve() and paths[-1].is_absolute()


def test_schedule_takes_the_files_assumptions_and_names_them(tmp_path, monkeypatch, capsys):
    # a user's audit: a config's cost_of_capital moved estimate's owned cost but not the
    # fleet's, though config show listed it as in force
    fleet_file = tmp_path / "fleet.toml"
    write(fleet_file, 'start = "2027-01"\nend = "2027-03"\nstep = "1w"\n'
          '[[sites]]\nname = "s0"\npower_mw = 10\ndeliveries = { h100-sxm = 512 }\n'
          '[[runs]]\nname = "r"\nparams = "7B"\ntokens = "2T"\ngpus = [288]\n')
    monkeypatch.delenv("PLANNER_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "schedule", str(fleet_file), "--format", "json", "-q")
    assert code == 0
    plain = json.loads(out)
    assert "assumptions" not in plain
    write(tmp_path / "planner.toml", "[assumptions]\ncost_of_capital = 0.30\n")
    code, out, _ = run(capsys, "schedule", str(fleet_file), "--format", "json", "-q")
    filed = json.loads(out)
    assert code == 0 and filed["assumptions"]["cost_of_capital"]["value"] == 0.30
    assert "planner.toml [assumptions]" in filed["assumptions"]["cost_of_capital"]["origin"]
    assert filed["objective"]["cost_usd"] > plain["objective"]["cost_usd"]
    code, out, _ = run(capsys, "schedule", str(fleet_file), "-q")
    assert out.startswith("assumptions from config files: cost_of_capital = 0.3 (")


def test_a_seed_from_a_file_is_named_with_it(tmp_path, monkeypatch, capsys):
    path = tmp_path / "seeded.toml"
    path.write_text("[estimate]\nseed = 5\n")
    monkeypatch.setenv("PLANNER_CONFIG", str(path))
    code, out, _ = run(capsys, "estimate", "--params", "8B", "--tokens", "1T", "--gpus", "64",
                       "--uncertainty", "--format", "json")
    assert code == 0
    used = json.loads(out)["assumptions"]
    assert used["uncertainty_seed"]["value"] == 5
    assert used["uncertainty_seed"]["source"].startswith("config file ") and "seed" not in used


@pytest.mark.parametrize("written", ["7.0", '"07"', "7"])
def test_a_seed_file_value_runs_as_the_whole_number(written, tmp_path, monkeypatch, capsys):
    # seed = 7.0 (TOML's float) had stopped every estimate; "07" had been shown as text
    path = tmp_path / "seeded.toml"
    path.write_text(f"[estimate]\nseed = {written}\n")
    monkeypatch.setenv("PLANNER_CONFIG", str(path))
    code, out, _ = run(capsys, "estimate", "--params", "8B", "--tokens", "1T", "--gpus", "64",
                       "--uncertainty", "--format", "json")
    assert code == 0
    assert json.loads(out)["assumptions"]["uncertainty_seed"]["value"] == 7


@pytest.mark.parametrize("text, args, check", [
    # an audit: a file's tokens_per_param refused every budget --params ("sets nothing beside
    # --params"); a file's tokens, every --tokens-per-param, blaming a --tokens never typed
    ('[budget]\ntokens_per_param = 40\n',
     ("budget", "--usd", "2M", "--params", "7B", "--gpu", "h100-sxm", "--format", "json"),
     lambda d: abs(d["inverse"]["params"] / 7e9 - 1) < 0.03),  # the shape rule's 7B
    ('[budget]\ntokens = "2T"\n',
     ("budget", "--usd", "2M", "--tokens-per-param", "30", "--gpu", "h100-sxm", "--format",
      "json"),
     lambda d: d["inverse"]["tokens"] == pytest.approx(30 * d["inverse"]["params"])),
    # a file's size beside a typed --max-gpus (or the reverse) read infeasible: the flag wins
    ('[estimate]\ngpus = 512\n',
     ("estimate", "--params", "7B", "--tokens", "1T", "--max-gpus", "256", "--format", "json"),
     lambda d: d["feasible"] and d["cluster"]["gpus"] <= 256),
    ('[estimate]\nmax_gpus = 256\n',
     ("estimate", "--params", "7B", "--tokens", "1T", "--gpus", "512", "--format", "json"),
     lambda d: d["feasible"] and d["cluster"]["gpus"] == 512),
])
def test_a_flag_sets_aside_a_files_rival_value(tmp_path, monkeypatch, capsys, text, args,
                                                check):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "planner.toml", text)
    code, out, err = run(capsys, *args, "-q")
    assert code == 0, err
    assert check(json.loads(out))


def test_config_show_lists_only_the_values_a_command_takes(tmp_path, monkeypatch, capsys):
    # an audit: [defaults] format = "csv" was listed as hardware list's and validate's, which
    # print tables all the same
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "planner.toml", '[defaults]\nformat = "csv"\n')
    code, out, _ = run(capsys, "config", "show", "--format", "json")
    assert code == 0
    d = json.loads(out)["defaults"]
    assert d["estimate"]["format"]["value"] == "csv"
    assert d["budget"]["format"]["value"] == "csv"
    for command in ("hardware list", "validate", "schedule", "workloads show"):
        assert d[command]["format"] == {"value": "table", "origin": "built-in"}


@pytest.mark.parametrize("text, said", [
    ('[defaults]\nsite = "nowhere"\n', "--site: 'nowhere' is not in the catalog"),
    ('[estimate]\ngpu = "h100-sxm,h100x"\n', "'h100x' is not in the catalog (did you mean"),
])
def test_config_show_refuses_an_unknown_catalog_key(tmp_path, monkeypatch, capsys, text,
                                                    said):
    # an audit: config show listed them and exited 0, while every estimate refused them
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "planner.toml", text)
    code, _, err = run(capsys, "config", "show")
    assert code == 2 and said in err and "planner.toml" in err


def strict_json(text: str):
    """JSON as strict parsers read it (JavaScript's JSON.parse): no NaN or Infinity."""
    def refuse(name):
        raise ValueError(f"{name} is not JSON")
    return json.loads(text, parse_constant=refuse)


def test_json_answers_are_strict_json_with_a_files_unknown_assumption(tmp_path, monkeypatch,
                                                                      capsys):
    # an audit: a file's grid_kg_co2_per_mwh = nan (the assumption's "unknown") came out as a
    # bare NaN in estimate's and config show's JSON, which JSON.parse refuses
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "planner.toml", "[assumptions]\ngrid_kg_co2_per_mwh = nan\n")
    code, out, _ = run(capsys, "estimate", "--params", "7B", "--tokens", "1T", "--gpus", "64",
                       "--format", "json")
    assert code == 0
    assert strict_json(out)["assumptions"]["grid_kg_co2_per_mwh"]["value"] is None
    code, out, _ = run(capsys, "config", "show", "--format", "json")
    assert code == 0 and strict_json(out)["assumptions"]["grid_kg_co2_per_mwh"]["value"] is None


@pytest.mark.parametrize("args", [("--bogus",), ("--precision", "bf17")])
def test_a_files_json_format_holds_for_errors_before_the_command_runs(tmp_path, monkeypatch,
                                                                       capsys, args):
    # an audit: with [defaults] format = "json" an unknown flag or a bad choice printed plain
    # text on stderr (the options were not parsed yet to say json)
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "planner.toml", '[defaults]\nformat = "json"\n')
    code, out, _ = run(capsys, "estimate", "--params", "7B", "--tokens", "1T", *args)
    assert code == 2
    assert strict_json(out)["error"]["exit_status"] == 2


def test_an_output_file_that_fails_is_the_one_answer(tmp_path, monkeypatch, capsys):
    # an audit: a --plot to a full disk printed the plan, then a second JSON document (the
    # internal error) after it, and a reader closing stdout early lost the file: the file is
    # written first, and its failure is the answer
    from planner import charts

    def full(*_args, **_kw):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(charts, "sizing_chart", full)
    code, out, _ = run(capsys, "estimate", "--params", "7B", "--tokens", "1T", "--max-gpus",
                       "64", "--plot", str(tmp_path / "c.png"), "--format", "json", "-q")
    assert code == 2
    answer = strict_json(out)  # one document: a second would raise "Extra data"
    assert "No space left on device" in answer["error"]["message"]
    assert answer["error"]["option"] == "--plot"


def test_a_files_value_set_aside_by_a_flag_is_not_reported_as_used(tmp_path, monkeypatch,
                                                                   capsys):
    # a review: the plan sized to --max-gpus and still listed the file's gpus = 512 as used
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "planner.toml", '[defaults]\nmax_gpus = "256"\n[estimate]\ngpus = "512"\n')
    code, out, _ = run(capsys, "estimate", "--params", "8B", "--tokens", "1T", "--max-gpus",
                       "1024", "--format", "json", "-q")
    assert code == 0
    d = json.loads(out)
    assert "gpus" not in d["assumptions"] and d["cluster"]["gpus"] <= 1024


def test_a_typed_format_wins_over_the_files_for_early_errors(tmp_path, monkeypatch, capsys):
    # a review: --format table typed, [defaults] format = "json": the usage error came as JSON;
    # and sweep (no --format) and a misspelt command answered JSON too
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "planner.toml", '[defaults]\nformat = "json"\n')
    for args in (("estimate", "--format", "table", "--bogus"), ("sweep", "--bogus"),
                 ("estimat",)):
        code, out, err = run(capsys, *args)
        assert code == 2 and out == "" and "Error" in err, args


def test_config_show_names_the_file_of_an_empty_catalog_key(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "planner.toml", '[defaults]\ngpu = "b200,,h100"\n')
    code, out, _ = run(capsys, "config", "show", "--format", "json")
    assert code == 2 and "planner.toml" in strict_json(out)["error"]["message"]


def test_schedule_s_fleet_sites_take_the_config_s_pue_and_uplift(tmp_path, monkeypatch, capsys):
    # the review: the command line loaded the fleet file before reading the config's
    # [assumptions], so a site without a PUE or a peak kept the defaults' (1.2 and 1.3) while
    # the answer listed peak_pue_uplift = 0.5 as in effect; the library applied them
    fleet_file = write(tmp_path / "f.toml", 'start = "2027-01"\nend = "2027-06"\nstep = "1w"\n'
                       '[[sites]]\nname = "s"\npower_mw = 10\n'
                       'deliveries = { h100-sxm = 1024 }\n'
                       '[[runs]]\nname = "r"\nparams = "7B"\ntokens = "200B"\ngpus = [1024]\n')
    assumed = {"peak_pue_uplift": 0.5, "pue": 1.3, "energy_usd_per_kwh": 0.2}
    cfg = write(tmp_path / "team.toml", "[assumptions]\n" + "".join(
        f"{k} = {v}\n" for k, v in assumed.items()))
    monkeypatch.setenv("PLANNER_CONFIG", str(cfg))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "none"))
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "schedule", str(fleet_file), "--format", "json")
    assert code == 0
    (cli_run,) = json.loads(out)["runs"]
    from planner.fleet import schedule as fleet
    (lib_run,) = fleet.schedule(str(fleet_file), assumptions=assumed).to_dict()["runs"]
    (plain,) = fleet.schedule(str(fleet_file)).to_dict()["runs"]
    assert cli_run["power_mw"] == lib_run["power_mw"] == pytest.approx(
        plain["power_mw"] * 1.8 / 1.3, rel=1e-12)  # peak 1.3 + 0.5, not the default 1.2 + 0.1
    assert cli_run["cost_usd"] == lib_run["cost_usd"]


def test_an_unknown_accelerator_in_a_files_assumptions_names_the_file(tmp_path, monkeypatch,
                                                                      capsys):
    # an auditor: accelerator = "h100-sxmm" under [assumptions] had been blamed on --assume
    # alone, a flag never typed; one typed on the command line stays the flag's
    house_file(tmp_path, monkeypatch, '[assumptions]\naccelerator = "h100-sxmm"\n')
    code, _, err = run(capsys, "estimate", "--params", "7B", "--tokens", "100B")
    assert code == 2 and "'accelerator=h100-sxmm' names no accelerator" in err
    assert "(set in config file " in err and "planner.toml [assumptions])" in err
    code, _, err = run(capsys, "estimate", "--params", "7B", "--tokens", "100B",
                       "--assume", "accelerator=b2000")
    assert code == 2 and "'accelerator=b2000'" in err and "set in config file" not in err


def test_a_bad_value_stops_only_the_command_that_reads_it(tmp_path, monkeypatch, capsys):
    # an auditor: deadline = "abc" had stopped 'hardware list', 'estimate --help' and an
    # estimate that typed its own --deadline; the command that reads it still refuses it
    house_file(tmp_path, monkeypatch, '[defaults]\ndeadline = "abc"\n')
    code, out, _ = run(capsys, "hardware", "list", "--format", "json")
    assert code == 0 and any(a["key"] == "h100-sxm" for a in json.loads(out)["accelerators"])
    code, out, _ = run(capsys, "estimate", "--help")
    assert code == 0 and "--deadline" in out
    code, out, err = run(capsys, "estimate", "--params", "7B", "--tokens", "100B",
                         "--deadline", "90d", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["sizing"]["limits"]["deadline_days"] == 90
    code, _, err = run(capsys, "estimate", "--params", "7B", "--tokens", "100B")
    assert code == 2 and "--deadline: 'abc' is not a duration (set in config file" in err


@pytest.mark.parametrize("text, said", [
    # an auditor: config show had listed each as taken, while every plan refused it
    ('[estimate]\nworkload = "llama3-8bb"\n',
     "--workload: 'llama3-8bb' is not in the catalog (did you mean llama3-8b?)"),
    ('[estimate]\nlayout = "tp=2,foo=2"\n', "unknown layout part 'foo'"),
    ('[estimate]\ninventory = "h100-sxm=abc"\n', "--inventory: 'abc' is not a whole count"),
    ('[assumptions]\naccelerator = "h100-sxmm"\n',
     "--assume: 'accelerator=h100-sxmm' is not in the catalog"),
])
def test_config_show_refuses_what_a_plan_would(tmp_path, monkeypatch, capsys, text, said):
    house_file(tmp_path, monkeypatch, text)
    code, _, err = run(capsys, "config", "show")
    assert code == 2 and said in err and "(set in config file " in err
    model = () if "workload" in text else ("--params", "7B")  # --params replaces a workload
    code, _, err = run(capsys, "estimate", *model, "--tokens", "100B", "-q")
    assert code == 2, "a plan refuses it too"


def test_config_show_takes_good_keys_and_workload_files(tmp_path, monkeypatch, capsys):
    house_file(tmp_path, monkeypatch, '[estimate]\nworkload = "mine.toml"\nlayout = "tp=2"\n'
               'inventory = "h100-sxm=64"\n[assumptions]\naccelerator = "b200"\n')
    code, out, err = run(capsys, "config", "show", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["defaults"]["estimate"]["layout"]["value"] == "tp=2"
    # a Hugging Face config.json is a file too (a review: refused as no catalog key)
    write(tmp_path / "planner.toml", '[estimate]\nworkload = "config.json"\n')
    code, _, err = run(capsys, "config", "show")
    assert code == 0, err


def test_config_show_lists_the_environments_catalog_before_a_files(tmp_path, monkeypatch,
                                                                   capsys):
    # an auditor: PLANNER_CATALOG went unlisted beside a file's catalog, as if replaced (it
    # is read first; the file's directories after it win a key both give)
    (tmp_path / "env/hardware").mkdir(parents=True)
    (tmp_path / "mine/hardware").mkdir(parents=True)
    house_file(tmp_path, monkeypatch, '[defaults]\ncatalog = "mine"\n')
    monkeypatch.setenv("PLANNER_CATALOG", str(tmp_path / "env"))
    code, out, err = run(capsys, "config", "show", "--format", "json")
    assert code == 0, err
    row = json.loads(out)["defaults"]["estimate"]["catalog"]
    assert row["value"] == f"{tmp_path / 'env'}{os.pathsep}{tmp_path / 'mine'}"
    assert row["origin"].startswith("environment: PLANNER_CATALOG, then ")
    assert row["origin"].endswith("planner.toml [defaults] (later ones win)")


def test_a_partial_shape_typed_changes_the_files_workload(tmp_path, monkeypatch, capsys):
    # an auditor: [estimate] workload = "llama3-8b" with --kv-heads 4 typed had set the
    # file's workload aside and asked for --params; a full shape or --params still replaces it
    house_file(tmp_path, monkeypatch, '[estimate]\nworkload = "llama3-8b"\n')

    def workload(*args):
        code, out, err = run(capsys, "estimate", *args, "--tokens", "1T", "--gpus", "64",
                             "--format", "json", "-q")
        assert code == 0, err
        return json.loads(out)["workload"]

    w = workload("--kv-heads", "4")
    assert w["name"] == "Llama 3 8B" and w["kv_heads"] == 4 and w["layers"] == 32
    assert workload("--window", "4096")["window"] == 4096
    assert workload("--params", "70B")["layers"] != 32
    full = workload("--layers", "40", "--hidden", "5120", "--heads", "40", "--vocab", "32000",
                    "--ffn", "13824")
    assert full["name"] == "custom shape" and full["layers"] == 40


def test_a_files_option_word_is_reported_as_the_plan_reads_it(tmp_path, monkeypatch, capsys):
    # was: precision "FP8" from a file reported as written, beside framework's lower-case word
    # (a precision given has no row of the plan's own for the word to be taken from)
    house_file(tmp_path, monkeypatch, '[estimate]\nprecision = "FP8"\n'
               'framework = "Megatron-Core"\n')
    code, out, _ = run(capsys, "estimate", "--params", "7B", "--tokens", "1T", "--gpus", "64",
                       "--gpu", "h100-sxm", "--format", "json", "-q")
    assumptions = json.loads(out)["assumptions"]
    assert code == 0 and json.loads(out)["workload"]["precision"] == "fp8"
    assert assumptions["precision"]["value"] == "fp8"
    assert assumptions["framework"]["value"] == "megatron-core"
    assert "planner.toml [estimate]" in assumptions["precision"]["source"]


@pytest.mark.parametrize("text", ["[foo]\n# x = 1\n", "[estmate]\n# gpus = 64\n"])
def test_an_empty_unknown_table_names_its_file(tmp_path, monkeypatch, capsys, text):
    # an auditor: a table whose keys are all commented out was blamed on 'config', not on
    # the file that holds it
    path = house_file(tmp_path, monkeypatch, text)
    code, _, err = run(capsys, "hardware", "list")
    assert code == 2 and f"Error: {path}: '[" in err and "config: " not in err
    assert "accepted: a table: defaults, assumptions" in err


@pytest.mark.parametrize("text", ["[estimate\n", "[foo]\nx = 1\n", "[estimate]\nfoo = 1\n",
                                  "[defaults]\nunknown_flag = 1\n"])
def test_a_broken_config_never_blocks_help(tmp_path, monkeypatch, capsys, text):
    # an auditor: invalid TOML, an unknown table or an unknown key had stopped every
    # subcommand's --help with the config error (docs/interface.md: never --help)
    house_file(tmp_path, monkeypatch, text)
    for command in (("estimate",), ("hardware", "list"), ("config", "show"), ("hardware",)):
        for flag in ("--help", "-h"):
            code, out, err = run(capsys, *command, flag)
            assert code == 0 and "Usage: planner " in out, (command, err)
    code, _, err = run(capsys, "hardware", "list")
    assert code == 2 and "planner.toml" in err, "the commands still refuse it"


def test_config_show_refuses_a_scale_up_network(tmp_path, monkeypatch, capsys):
    # an auditor: config show exited 0 while every estimate refused it; it now refuses it
    # with estimate's own message
    house_file(tmp_path, monkeypatch, '[estimate]\nnetwork = "nvlink4"\n')
    code, _, shown = run(capsys, "config", "show")
    assert code == 2 and "accepted: a scale-out network: " in shown
    code, _, said = run(capsys, "estimate", "--params", "7B", "--tokens", "100B", "-q")
    assert code == 2 and said.splitlines()[-1] == shown.splitlines()[-1]
    assert "(set in config file " in shown and "planner.toml [estimate]" in shown
    write(tmp_path / "planner.toml", '[estimate]\nnetwork = "ib-ndr"\n')
    code, _, err = run(capsys, "config", "show")
    assert code == 0, err


def test_config_show_refuses_a_missing_planner_catalog(tmp_path, monkeypatch, capsys):
    # an auditor: config show exited 0 while every other command refused it
    house_file(tmp_path, monkeypatch, "")
    monkeypatch.setenv("PLANNER_CATALOG", str(tmp_path / "nonexist"))
    code, _, shown = run(capsys, "config", "show")
    code2, _, said = run(capsys, "hardware", "list")
    assert code == code2 == 2 and "PLANNER_CATALOG" in shown
    assert said.splitlines()[-1] == shown.splitlines()[-1]


def test_the_command_line_turns_off_what_a_file_turns_on(tmp_path, monkeypatch, capsys):
    # an auditor: [estimate] uncertainty = true ran the Monte Carlo in every estimate and
    # --no-uncertainty was 'No such option'; a file's sensitivity, plot and gpus had no way
    # out either (docs/interface.md: a flag on the command line overrides them all)
    house_file(tmp_path, monkeypatch, '[estimate]\nuncertainty = true\nsensitivity = '
               '"training_days"\nplot = "sizing.png"\ngpus = 512\n[defaults]\nquiet = true\n'
               'max_gpus = 256\n')
    code, out, err = run(capsys, "estimate", "--params", "7B", "--tokens", "100B",
                         "--no-uncertainty", "--no-sensitivity", "--no-plot", "--gpus", "AUTO",
                         "--no-quiet", "--format", "json")
    assert code == 0, err
    plan = json.loads(out)
    assert plan["p10"] is None and "sensitivity" not in plan
    assert not (tmp_path / "sizing.png").exists()
    # sized (the file's gpus set aside), under the file's max_gpus, which still holds
    assert plan["sizing"] is not None and plan["sizing"]["limits"]["max_gpus"] == 256
    filed = {k for k, v in plan["assumptions"].items() if "config file" in v["source"]}
    assert filed == {"max_gpus"}, "what the command line set aside is not reported as used"
    # typed beside their own flag: which one is meant is not guessed
    code, _, err = run(capsys, "estimate", "--params", "7B", "--tokens", "100B",
                       "--sensitivity", "--no-sensitivity")
    assert code == 2 and "--sensitivity and --no-sensitivity: give one" in err
    # --gpus keeps its meaning; a word it does not take names auto beside the count
    code, out, err = run(capsys, "estimate", "--params", "7B", "--tokens", "100B", "--gpus",
                         "64", "--no-plot", "--no-sensitivity", "-q", "--format", "json")
    assert code == 0 and json.loads(out)["cluster"]["gpus"] == 64, err
    code, _, err = run(capsys, "estimate", "--params", "7B", "--tokens", "100B", "--gpus",
                       "some")
    assert code == 2 and "or auto (sized to the limits)" in err


def test_a_later_file_or_the_command_line_sizes_a_budget_a_file_fixed(tmp_path, monkeypatch,
                                                                      capsys):
    user = write(tmp_path / "xdg" / "planner" / "config.toml", '[defaults]\ngpus = 512\n')
    house_file(tmp_path, monkeypatch, "")

    def gpus(*args):
        code, out, err = run(capsys, "budget", "--usd", "2M", "--gpu", "h100-sxm", *args,
                             "-q", "--format", "json")
        assert code == 0, err
        return json.loads(out)["cluster"]["gpus"]

    user.write_text("")
    sized = gpus()  # no file's gpus: the budget's own size
    user.write_text('[defaults]\ngpus = 512\n')
    assert sized != 512 and gpus() == 512
    assert gpus("--gpus", "auto") == sized
    write(tmp_path / "planner.toml", '[budget]\ngpus = "auto"\n')  # read after the user's
    assert gpus() == sized


def test_a_typed_no_switch_sets_aside_a_files_refused_value(tmp_path, monkeypatch, capsys):
    # a file's value the flag would refuse stops only a command that takes it: --no-X typed
    # takes the command line's
    house_file(tmp_path, monkeypatch, '[estimate]\nsensitivity = "bogus"\nuncertainty = "yes"\n')
    code, _, err = run(capsys, "estimate", "--params", "7B", "--tokens", "100B", "--gpus", "64",
                       "--no-sensitivity", "--no-uncertainty", "-q")
    assert code == 0, err
    code, _, err = run(capsys, "estimate", "--params", "7B", "--tokens", "100B", "--gpus", "64")
    assert code == 2 and "planner.toml [estimate]" in err


def test_no_resume_sets_aside_a_files_resume(tmp_path, monkeypatch, capsys):
    house_file(tmp_path, monkeypatch, "[sweep]\nresume = true\n")
    spec = write(tmp_path / "spec.toml", '[fixed]\nparams = "7B"\ntokens = "100B"\ngpus = 64\n'
                 "[axes]\nprice_per_gpu_hour = [2.0]\n")
    for _ in range(2):  # the file's resume: the second run keeps the first's part
        code, _, err = run(capsys, "sweep", str(spec), "-o", "out", "-q")
        assert code == 0, err
    code, _, err = run(capsys, "sweep", str(spec), "-o", "out", "--no-resume", "-q")
    assert code == 2 and "already holds a complete sweep" in err
