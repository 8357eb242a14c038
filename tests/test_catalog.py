"""Catalog loading: shipped files, schema strictness, user overrides, the installed layout."""

import re
import textwrap
from pathlib import Path

import pytest

import planner
from planner.catalog import CatalogError, UnknownKeyError, catalog
from planner.catalog_files import load_file
from planner.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
CONTRACT_ACCELERATORS = ["a100-40gb", "a100-80gb", "h100-sxm", "h100-pcie", "h800", "h200",
                         "b200", "b300", "gb200", "gb300", "mi300x", "mi325x", "mi355x",
                         "tpu-v4", "tpu-v5p", "tpu-v6e", "tpu-v7", "trainium2", "gaudi3",
                         "v100"]


def test_every_contract_accelerator_loads():
    cat = catalog()
    assert set(CONTRACT_ACCELERATORS) <= set(cat.keys("accelerators"))
    for key in CONTRACT_ACCELERATORS:
        acc = cat.accelerator(key)
        assert acc.peak_flops["bf16"] > 1e13
        assert acc.hbm_bytes > 1e10 and acc.scale_up_domain >= 1


def test_every_catalog_file_loads_and_cites_sources():
    cat = catalog()
    for kind in ("accelerators", "networks", "sites", "workloads"):
        items = cat.all(kind)
        assert items, kind
        for item in items:
            for name, fig in item.figures.items():
                assert fig.source and fig.as_of, (kind, item.key, name)


def test_required_networks_and_sites():
    cat = catalog()
    assert {"ib-ndr", "ib-xdr", "roce-400g", "spectrum-x-800g", "tpu-ici"} <= \
        set(cat.keys("networks"))
    assert {"us-hyperscale", "eu-colocation", "cheap-power"} <= set(cat.keys("sites"))


def test_a_newer_nvidia_fabric_never_takes_the_generic_latency_its_predecessor_beats():
    # NVLink 5 and InfiniBand XDR had no latency figure, so the 5 us default applied and each
    # read slower on small messages than NVLink 4 (1 us) and NDR (2 us): a B200's tensor-
    # parallel and expert all-to-all steps, and an XDR fabric on H100, priced worse than the
    # generation before (both now carry calculon's modelled figures, as their predecessors do)
    cat = catalog()
    for old, new in (("nvlink4", "nvlink5"), ("ib-ndr", "ib-xdr")):
        before, after = cat.network(old), cat.network(new)
        assert after.hop_latency_s is not None and before.hop_latency_s is not None
        assert after.hop_latency_s <= before.hop_latency_s, (old, new)
    assert cat.network("nvlink5").hop_latency_s == pytest.approx(1e-6)
    assert cat.network("ib-xdr").hop_latency_s == pytest.approx(2e-6)


def test_published_figures_match_datasheets():
    cat = catalog()
    h100 = cat.accelerator("h100-sxm")
    assert h100.peak("bf16") == 989.4e12 and h100.peak("fp8") == 1978.9e12  # dense, not sparse
    assert h100.hbm_bytes == 80e9 and h100.scale_up_bytes_per_s == 450e9
    assert cat.accelerator("a100-80gb").peak("bf16") == 312e12


def test_aliases_case_insensitive():
    cat = catalog()
    assert cat.accelerator("H100").key == "h100-sxm"
    assert cat.accelerator("a100").key == "a100-40gb"
    with pytest.raises(UnknownKeyError) as exc:
        cat.accelerator("h900")
    assert "h100-sxm" in str(exc.value)


def _write(dirpath: Path, kind: str, key: str, text: str) -> Path:
    folder = dirpath / kind
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{key}.toml"
    path.write_text(textwrap.dedent(text))
    return path


SITE = """\
    name = "My site"
    power_cap_mw = { value = 42, source = "our contract", as_of = "2026" }
    pue = { value = 1.3, source = "our meter", as_of = "2026" }
"""


def test_user_catalog_adds_and_overrides(tmp_path, monkeypatch):
    _write(tmp_path, "hardware/sites", "mine", SITE)
    _write(tmp_path, "hardware/sites", "us-hyperscale", SITE)
    cat = catalog(tmp_path)
    assert cat.site("mine").power_cap_w == 42e6
    assert cat.site("us-hyperscale").pue == 1.3  # the user's file wins
    monkeypatch.setenv("PLANNER_CATALOG", str(tmp_path))
    assert catalog().site("mine").pue == 1.3
    plan = planner.estimate(params="7B", tokens="100B", site="mine", gpus=64)
    assert plan.cluster["site"] == "mine" and plan.assumptions["pue"]["value"] == 1.3


def test_a_missing_catalog_directory_names_where_it_was_set(tmp_path, monkeypatch, capsys):
    import json

    import cli

    def error_of(*extra):
        with pytest.raises(SystemExit) as done:
            cli.main(["estimate", "--params", "7B", "--tokens", "100B", "--gpus", "8",
                      "--format", "json", *extra])
        assert done.value.code == 2
        return json.loads(capsys.readouterr().out)["error"]

    monkeypatch.setenv("PLANNER_CATALOG", str(tmp_path / "gone"))
    with pytest.raises(CatalogError, match="set by the environment variable PLANNER_CATALOG") \
            as exc:
        catalog()
    assert exc.value.option == "PLANNER_CATALOG"
    error = error_of()
    assert error["option"] == "PLANNER_CATALOG"
    assert "PLANNER_CATALOG=DIR" in error["message"] and "--catalog" not in error["message"]
    monkeypatch.delenv("PLANNER_CATALOG")
    error = error_of("--catalog", str(tmp_path / "gone"))
    assert error["option"] == "--catalog"
    assert "--catalog DIR" in error["message"] and "PLANNER_CATALOG" not in error["message"]


@pytest.mark.parametrize("text, words", [
    ('name = "x"\nbogus = 1\n', ["bogus: 1 is an unknown key"]),
    ('pue = 1.2\n', ["pue: 1.2 is not a figure"]),
    ('pue = { value = 1.2, as_of = "2026" }\n', ["pue.source: is missing (required)"]),
    ('pue = { value = 1.2, source = "s" }\n', ["pue.as_of: is missing (required)"]),
    ('pue = { value = "high", source = "s", as_of = "2026" }\n', ["is not a number"]),
    ('pue = { value = 1.2, source = "s", as_of = "2026", colour = 1 }\n', ["unknown key"]),
    ('pue = [1, 2\n', ["not valid TOML"]),
])
def test_broken_files_name_file_and_key(tmp_path, text, words):
    path = _write(tmp_path, "hardware/sites", "broken", text)
    with pytest.raises(CatalogError) as exc:
        load_file("sites", path)
    message = str(exc.value)
    assert str(path) in message
    for w in words:
        assert w in message


SMALL_WORKLOAD = """\
    name = "w"
    [architecture]
    source = "s"
    as_of = "2026"
    layers = 2
    hidden = 64
    heads = 2
    vocab = 100
"""


def test_expert_groups_must_split_the_experts(tmp_path):
    # group-limited routing (DeepSeek-V3 sec. 2.1.2): groups of equal size, 1 <= top <= groups
    base = SMALL_WORKLOAD + "    experts = 8\n    top_k = 2\n    expert_ffn = 32\n"
    for extra, words in (("expert_groups = 3\ngroup_top_k = 1", "groups of equal size"),
                         ("expert_groups = 4\ngroup_top_k = 5", "group_top_k must be")):
        path = _write(tmp_path, "workloads", "moe", base + textwrap.indent(extra, " " * 4))
        with pytest.raises(CatalogError, match=words):
            load_file("workloads", path)
    # 1 of 4 groups of 2 experts reaches 2 experts: top_k 2 fits, top_k 3 would not
    path = _write(tmp_path, "workloads", "moe", base.replace("top_k = 2", "top_k = 3")
                  + "    expert_groups = 4\n    group_top_k = 1\n")
    with pytest.raises(CatalogError, match="reaches 2 experts, fewer than top_k"):
        load_file("workloads", path)
    path = _write(tmp_path, "workloads", "moe", base + "    expert_groups = 4\n"
                  "    group_top_k = 2\n")
    a = load_file("workloads", path).architecture
    assert (a.expert_groups, a.group_top_k) == (4, 2)


def test_broken_workload_reference(tmp_path):
    path = _write(tmp_path, "workloads", "w", SMALL_WORKLOAD + textwrap.dedent("""\
        ffn = 256
        [[reference]]
        row_id = "r"
        kind = "sprint"
        source = "s"
        as_of = "2026"
    """))
    with pytest.raises(CatalogError, match="reference\\[0\\].kind: 'sprint' is not one of"):
        load_file("workloads", path)


def test_missing_catalog_dir_is_an_error(tmp_path):
    with pytest.raises(CatalogError, match="does not exist"):
        catalog(tmp_path / "nope")


def test_checkout_reads_hardware_from_the_repo():
    # Editable / source checkout: the shipped catalog is the repo's hardware/ folder. The
    # installed-wheel path (planner/catalog_data) is exercised by .ci/run.
    path = catalog().path("accelerators", "h100-sxm")
    assert path.parent.parent.name == "hardware"
    assert path.read_text().startswith("#") or "name" in path.read_text()


def test_lazy_loading_no_catalog_read_at_import():
    import subprocess
    import sys

    code = ("import sys, planner; m = sys.modules['planner.catalog']; "
            "print(m._listing.cache_info().currsize, m._load.cache_info().currsize)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout.split()
    assert out == ["0", "0"]


def test_fingerprint_changes_with_user_files(tmp_path):
    base = catalog().fingerprint()
    _write(tmp_path, "hardware/sites", "mine", SITE)
    assert catalog(tmp_path).fingerprint() != base


MEASUREMENTS = """\
    name = "a benchmark page"
    source = "repo README, table 1"
    source_url = "https://example.org/readme"
    as_of = "2025-01"
    confidence = "P"
    stack = "megatron-core"
    team = "company"
    framework = "megatron-core"
    [[reference]]
    row_id = "page-8b-8g"
    kind = "throughput"
    workload = "llama3.1-8b"
    accelerator = "h100-sxm"
    gpus = 8
    seq_len = 8192
    global_batch_tokens = 1048576
    tokens_per_s_per_gpu = 12000.0
    quote = "| 8B | 8 | 12000 |"
    {extra}
"""


def test_measurement_file_rows_carry_provenance_and_inherit_defaults(tmp_path):
    path = _write(tmp_path, "workloads/measurements", "page", MEASUREMENTS.format(extra=""))
    m = load_file("measurements", path)
    (ref,) = m.references
    assert m.key == "page" and ref.workload == "llama3.1-8b"
    assert ref.source == "repo README, table 1" and ref.framework == "megatron-core"
    assert ref.tokens_per_s_per_gpu == 12000.0 and ref.quote.startswith("| 8B")
    assert ref.confidence == "P" and ref.team == "company"
    assert "page" in catalog(tmp_path).keys("measurements")


@pytest.mark.parametrize("extra, words", [
    ('gpus = 8.5', [".gpus: 8.5", "whole number"]),
    ('mfu_pct = 140', [".mfu_pct: 140", "(0, 100]"]),
    ('tokens_per_s_per_gpu = -3', [".tokens_per_s_per_gpu: -3", "> 0"]),
    ('confidence = "sure"', [".confidence: 'sure'", "one of"]),
    ('team = "lab"', [".team: 'lab'", "one of"]),
    ('derived = "yes"', [".derived: 'yes'", "true or false"]),
    ('quote = 3', [".quote: 3", "text"]),
    ('colour = "red"', ["colour", "unknown key"]),
])
def test_measurement_rows_are_checked_for_type_and_range(tmp_path, extra, words):
    name = extra.split(" = ")[0]
    text = "\n".join(line for line in MEASUREMENTS.format(extra="").splitlines()
                     if not line.strip().startswith(name + " = ")) + "\n    " + extra + "\n"
    path = _write(tmp_path, "workloads/measurements", "page", text)
    with pytest.raises(CatalogError) as exc:
        load_file("measurements", path)
    assert "page-8b-8g" in str(exc.value) or "reference 1" in str(exc.value)
    for w in words:
        assert w in str(exc.value)


def test_a_measurement_row_must_name_its_workload(tmp_path):
    path = _write(tmp_path, "workloads/measurements", "page",
                  MEASUREMENTS.format(extra="").replace('workload = "llama3.1-8b"', ""))
    with pytest.raises(CatalogError, match="needs 'workload'"):
        load_file("measurements", path)


def test_a_shapeless_workload_must_be_within_the_shape_rules_reach(tmp_path):
    # a workload known by its parameter count only is planned through the shape rule, whose
    # count is within 3% of N from 70M up (docs/shape.md); below, the file must give a shape
    text = ('name = "tiny"\n[architecture]\nsource = "s"\nas_of = "2026"\n'
            '[training]\nsource = "s"\nas_of = "2026"\nparams = 30000000\n')
    path = _write(tmp_path, "workloads", "tiny", text)
    with pytest.raises(CatalogError, match=r"training.params: 30000000 .*70M") as exc:
        load_file("workloads", path)
    assert str(path) in str(exc.value)
    ok = _write(tmp_path, "workloads", "small", text.replace("30000000", "300000000"))
    assert load_file("workloads", ok).published_params == 3e8


def _moe_by_count(tmp_path, name: str, arch: str, params: str = "1000000000000",
                  kind: str = "moe", ffn_type: str = "gated") -> Path:
    text = (f'name = "{name}"\nkind = "{kind}"\nffn_type = "{ffn_type}"\n'
            f'[architecture]\nsource = "s"\nas_of = "2026"\n'
            f'{arch}[training]\nsource = "s"\nas_of = "2026"\nparams = {params}\n')
    return _write(tmp_path, "workloads", name, text)


def test_a_mixture_of_experts_known_by_its_count_takes_the_moe_rule(tmp_path):
    # experts and top-k in [architecture] with no shape: the MoE shape rule sizes the rest, as
    # --params --experts --top-k does (docs/shape.md)
    w = load_file("workloads", _moe_by_count(tmp_path, "moe1t", "experts = 64\ntop_k = 4\n"))
    assert w.architecture is None and w.published_experts == (64, 4, 0)
    plan = planner.estimate(workload=str(tmp_path / "workloads" / "moe1t.toml"), tokens="15T",
                            gpus=4096)
    assert (plan.workload["experts"], plan.workload["expert_ffn"]) == (64, 7744)
    assert plan.workload["params"] == pytest.approx(1e12, rel=0.03)
    assert "mixture of experts" in plan.assumptions["architecture"]["source"]


@pytest.mark.parametrize("arch, params, kind, says", [
    ("top_k = 4\n", "1000000000000", "moe", r"architecture.experts: missing beside top_k"),
    ("experts = 8\ntop_k = 9\n", "1000000000000", "moe", "architecture.top_k: 9 is not between"),
    ("", "1000000000000", "moe", "kind 'moe' with no shape"),
], ids=["no-experts", "top-k-above", "moe-no-experts"])
def test_a_mixture_of_experts_known_by_its_count_is_checked(tmp_path, arch, params, kind, says):
    path = _moe_by_count(tmp_path, "bad", arch, params, kind)
    with pytest.raises(CatalogError, match=says):
        load_file("workloads", path)


def test_a_mixture_of_experts_by_count_below_the_rule_s_reach_is_refused_when_planned(tmp_path):
    # the catalog floor checks the keys; the rule's reach (which grows with the experts) is
    # the plan's to check, naming the workload
    path = _moe_by_count(tmp_path, "tinymoe", "experts = 64\ntop_k = 4\n", "100000000")
    with pytest.raises(InputError, match="is below what the shape rule reaches with 64 experts"):
        planner.estimate(workload=str(path), tokens="1T", gpus=8)


def test_a_plain_ffn_mixture_of_experts_known_by_its_count_is_refused(tmp_path):
    # the MoE rule's experts are gated; a plain file was refused at plan time as "below the
    # rule's reach", a wrong reason: the catalog names ffn_type
    path = _moe_by_count(tmp_path, "plainmoe", "experts = 64\ntop_k = 4\n", ffn_type="plain")
    with pytest.raises(CatalogError, match="ffn_type: 'plain' with experts; accepted: gated"):
        load_file("workloads", path)


def test_validate_skips_the_rows_of_a_workload_the_shape_rule_cannot_reach(tmp_path):
    # a user's MoE file below the rule's reach with published rows: `planner validate` lists
    # its rows as skipped, with why, where it ended in an internal error (ValueError)
    from planner import validate
    from planner.whole_runs import whole_runs

    path = _moe_by_count(tmp_path, "tinymoe", "experts = 64\ntop_k = 4\n", "100000000")
    path.write_text(path.read_text() + textwrap.dedent("""
        [[reference]]
        row_id = "tinymoe-tput"
        kind = "throughput"
        source = "s"
        as_of = "2026"
        accelerator = "h100-sxm"
        gpus = 8
        seq_len = 4096
        global_batch_tokens = 1048576
        tokens_per_s_per_gpu = 10000.0

        [[reference]]
        row_id = "tinymoe-run"
        kind = "whole_run"
        team = "company"
        source = "s"
        as_of = "2026"
        accelerator = "h100-sxm"
        gpus = 8
        tokens = 1000000000000
        gpu_hours = 10000.0
        """))
    cat = catalog([tmp_path])
    rows, _, skipped = validate.throughput(cat, loso=False)
    assert "tinymoe-tput" not in {r.row_id for r in rows}
    why = {s["row_id"]: s["why"] for s in skipped}
    assert "64 experts" in why["tinymoe-tput"] and "give the shape" in why["tinymoe-tput"]
    runs, run_skips = whole_runs(cat)
    assert "tinymoe-run" not in {r["row_id"] for r in runs}
    assert "below what the shape rule reaches with 64 experts" in \
        {s["row_id"]: s["why"] for s in run_skips}["tinymoe-run"]


H100 = (Path(__file__).resolve().parents[1] / "hardware" / "accelerators"
        / "h100-sxm.toml").read_text()


@pytest.mark.parametrize("old, new, says", [
    # a unit a thousand times smaller: mW for W, MB for GB, MB/s for GB/s
    ("tdp_w = { value = 700,", "tdp_w = { value = 700000,", "tdp_w.value: 700000 is too large"),
    ("hbm_gb = { value = 80,", "hbm_gb = { value = 80000,", "hbm_gb.value: 80000 is too large"),
    ("scale_up_gb_per_s = { value = 450,", "scale_up_gb_per_s = { value = 450000,",
     "scale_up_gb_per_s.value: 450000 is too large"),
    # figures that contradict each other
    ("system_power_kw = { value = 1.275,", "system_power_kw = { value = 0.3,",
     "system_power_kw.value: 0.3 is below the chip's own tdp_w (700 W)"),
    ("devices_per_rack = { value = 32,", "devices_per_rack = { value = 30,",
     "devices_per_rack.value: 30 is not a whole number of nodes of 8"),
    # an auditor: a server below its chip's price had charged the servers -$17,800
    (next(ln for ln in H100.splitlines() if ln.startswith("server_usd_per_device")),
     'server_usd_per_device = { value = 40, source = "s", as_of = "2026" }',
     "server_usd_per_device.value: 40 is below the device's own purchase_usd (27500)"),
])
def test_an_accelerator_figure_in_the_wrong_unit_or_against_another_is_refused(
        tmp_path, old, new, says):
    # was: accepted, and a plan of 64 devices with its TDP in mW drew 121 MW
    assert old in H100
    text = "\n".join(ln for ln in H100.replace(old, new).splitlines()
                     if not ln.startswith("aliases"))
    path = _write(tmp_path, "hardware/accelerators", "my-gpu", text + "\n")
    with pytest.raises(CatalogError, match=re.escape(says)):
        load_file("accelerators", path)


@pytest.mark.parametrize("extra, says", [
    ('kind = "moe"\n', "kind: 'moe' is not this file's shape, which is dense"),
    ('kind = "sparse"\n', "kind: 'sparse' is not one of the choices; accepted: one of "
                           '"dense", "moe"'),
])
def test_a_workload_kind_must_be_its_shape(tmp_path, extra, says):
    # was: ignored (a dense shape with kind "moe" planned as dense, "sparse" accepted)
    path = _write(tmp_path, "workloads", "w", extra + SMALL_WORKLOAD + "    ffn = 256\n")
    with pytest.raises(CatalogError, match=re.escape(says)):
        load_file("workloads", path)
    path = _write(tmp_path, "workloads", "w", 'kind = "dense"\n' + SMALL_WORKLOAD
                  + "    ffn = 256\n")
    assert load_file("workloads", path).architecture.experts == 0


def test_active_parameters_above_the_total_are_refused(tmp_path):
    text = SMALL_WORKLOAD + textwrap.indent(textwrap.dedent("""\
        ffn = 256
        [training]
        source = "s"
        as_of = "2026"
        params = 1000000
        active_params = 2000000
    """), "    ")
    path = _write(tmp_path, "workloads", "w", text)
    with pytest.raises(CatalogError, match="active_params: 2,000,000 is more than"):
        load_file("workloads", path)


def test_a_free_or_carbon_free_site_is_not_unknown(tmp_path):
    # was: 0 $/kWh replaced by the US industrial average, 0 kg/MWh gave CO2 null
    _write(tmp_path, "hardware/sites", "free", SITE + textwrap.dedent("""\
        energy_usd_per_kwh = { value = 0, source = "our own dam", as_of = "2026" }
        grid_kg_co2_per_mwh = { value = 0, source = "our own dam", as_of = "2026" }
    """))
    plan = planner.estimate(params="1B", tokens="10B", gpus=8, site="free", catalog=tmp_path,
                            ownership="owned")
    assert plan.assumptions["energy_usd_per_kwh"]["value"] == 0.0
    assert plan.cost_usd["energy"] == 0.0
    assert plan.co2_t == 0.0


def test_hardware_show_checks_the_file_as_every_use_does(tmp_path):
    # was: a figure without its source crashed the table (KeyError), a figure of -96 GB shown
    from planner.catalog_view import catalog_item, catalog_show

    text = "\n".join(ln for ln in H100.replace("hbm_gb = { value = 80,", "hbm_gb = { value = -96,")
                     .splitlines() if not ln.startswith("aliases"))
    _write(tmp_path, "hardware/accelerators", "my-gpu", text + "\n")
    cat = catalog(tmp_path)
    for show in (catalog_show, catalog_item):
        with pytest.raises(CatalogError, match="hbm_gb.value: -96 is negative"):
            show(cat, "accelerators", "my-gpu")


def test_a_figures_date_has_the_catalogs_form(tmp_path):
    # was: as_of = "last year" accepted and shown
    path = _write(tmp_path, "hardware/sites", "s",
                  'pue = { value = 1.2, source = "our meter", as_of = "last year" }\n')
    with pytest.raises(CatalogError, match="pue.as_of: 'last year' does not have the form; "
                                           "accepted: a date YYYY, YYYY-MM or YYYY-MM-DD"):
        load_file("sites", path)
    for good in ("2026", "2026-03", "2026-03-31"):
        path.write_text(f'pue = {{ value = 1.2, source = "our meter", as_of = "{good}" }}\n')
        assert load_file("sites", path).pue == 1.2


@pytest.mark.parametrize("old, new, says", [
    ('scale_up_network = "nvlink4"', 'scale_up_network = "nvlink9"',
     "scale_up_network 'nvlink9' names no network of the catalog (did you mean nvlink"),
    ('scale_up_network = "nvlink4"', 'scale_up_network = "ib-ndr"',
     "/hardware/networks/ib-ndr.toml) is a scale_out network; accepted: a scale_up network"),
])
def test_an_accelerators_network_must_exist_and_be_of_its_tier(tmp_path, old, new, says):
    # was: a scale-out network as the scale-up one accepted; a typo named no near key
    assert old in H100
    text = "\n".join(ln for ln in H100.replace(old, new).splitlines()
                     if not ln.startswith("aliases"))
    _write(tmp_path, "hardware/accelerators", "my-gpu", text + "\n")
    with pytest.raises(CatalogError, match=re.escape(says)):
        planner.estimate(params="1B", tokens="10B", gpus=8, gpu="my-gpu", catalog=tmp_path)


def test_catalog_files_in_misnamed_folders_are_named_not_ignored(tmp_path):
    # was: hardware/accelerator/ (singular) silently added nothing: "unknown accelerator"
    _write(tmp_path, "hardware/accelerator", "my-gpu", H100)
    with pytest.raises(CatalogError, match="holds none of the catalog's folders"):
        catalog(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert catalog(empty).user_dirs  # a directory still to be filled adds nothing, quietly


def test_an_alias_that_is_another_accelerators_key_is_refused(tmp_path):
    # was: silently dead: "b200" still meant the shipped B200, whatever my-gpu's file said
    text = "\n".join('aliases = ["b200"]' if ln.startswith("aliases") else ln
                     for ln in H100.splitlines())
    _write(tmp_path, "hardware/accelerators", "my-gpu", text + "\n")
    cat = catalog(tmp_path)
    with pytest.raises(CatalogError, match="'b200' is the key of .*b200.toml and an alias of "
                                           ".*my-gpu.toml"):
        cat.resolve("accelerators", "b200")
    assert cat.resolve("accelerators", "my-gpu") == "my-gpu"


def test_a_shape_left_to_its_defaults_is_reported_by_a_plan_of_it(tmp_path):
    # was: a file with no kv_heads planned as multi-head attention without a word
    _write(tmp_path, "workloads", "w", SMALL_WORKLOAD + "    ffn = 256\n")
    plan = planner.estimate(workload="w", tokens="1B", gpus=8, catalog=tmp_path)
    assert plan.assumptions["workload_kv_heads"]["value"] == 2
    assert "multi-head attention" in plan.assumptions["workload_kv_heads"]["source"]
    assert plan.assumptions["workload_tie_embeddings"]["value"] is False
    given = planner.estimate(workload="w", tokens="1B", gpus=8, catalog=tmp_path, kv_heads=1)
    assert "workload_kv_heads" not in given.assumptions  # given, so reported as given


def test_a_published_count_far_from_its_shape_is_refused(tmp_path):
    # was: [training] params 10x XGLM 7.5B's shape (a slip) planned the shape's 7.49B silently
    xglm = (Path(__file__).resolve().parent.parent / "workloads/xglm-7.5b.toml").read_text()
    _write(tmp_path, "workloads", "slip", xglm.replace("params = 7500000000",
                                                       "params = 75000000000"))
    # a name that rounds its count (SEA-LION 3B counts 3.83B, 1.28x) plans
    _write(tmp_path, "workloads", "round", xglm.replace("params = 7500000000",
                                                        "params = 9500000000"))
    says = ("training.params: 75,000,000,000 is 10x the 7,491,325,952 parameters its "
            "[architecture] counts; accepted: the published count of that shape (within 1.5x)")
    with pytest.raises(InputError, match=re.escape(says)) as err:
        planner.estimate(workload="slip", gpus=8, catalog=tmp_path)
    assert err.value.name == f"--workload slip ({tmp_path / 'workloads' / 'slip.toml'})"
    from planner.catalog_view import catalog_show

    with pytest.raises(CatalogError, match=re.escape(says)):
        catalog_show(catalog(tmp_path), "workloads", "slip")
    assert planner.estimate(workload="round", gpus=8, catalog=tmp_path).feasible is not None


# --- what a user's catalog must not get away with (the catalog audit) ------------------------

def _accelerator(tmp_path: Path, key: str, drop=(), **replace_lines) -> Path:
    """A copy of the shipped H100 SXM file as ``key``, without the figures in ``drop`` and
    with whole lines replaced ({figure: "figure = { ... }"})."""
    lines = []
    for line in (ROOT / "hardware/accelerators/h100-sxm.toml").read_text().splitlines():
        name = line.split("=", 1)[0].strip()
        if name in drop or name == "aliases":
            continue
        lines.append(replace_lines.pop(name, line))
    lines += list(replace_lines.values())
    folder = tmp_path / "hardware/accelerators"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{key}.toml").write_text("\n".join(lines) + "\n")
    return tmp_path


def test_an_accelerator_without_any_power_figure_plans_with_power_unknown(tmp_path, capsys):
    # was: the text table crashed (internal error: TypeError) on the unknown power
    import cli

    cat_dir = _accelerator(tmp_path, "x100", drop=("tdp_w", "system_power_kw"))
    with pytest.raises(SystemExit) as done:
        cli.main(["estimate", "--catalog", str(cat_dir), "--gpu", "x100", "--params", "7B",
                  "--tokens", "100B", "--gpus", "64"])
    out = capsys.readouterr().out
    assert done.value.code == 0
    assert "power          n/a peak facility" in out and "site_power_cap_mw" not in out
    plan = planner.estimate(catalog=cat_dir, gpu="x100", params="7B", tokens="100B", gpus=64)
    d = plan.to_dict()
    assert d["power_mw"] is None and d["cost_usd"]["total"] > 0  # the cloud cost stays known


@pytest.mark.parametrize("lines, words", [
    # a TDP typed in kW: was planned at 1.8 W a device, 1000x too little power and energy
    ({"tdp_w": 'tdp_w = { value = 1.8, source = "s", as_of = "2026" }',
      "system_power_kw": ""}, "tdp_w.value: 1.8 is too small"),
    # a scale-up domain across parts of nodes: was "bought by the node of 6" of 4 devices
    ({"scale_up_domain": 'scale_up_domain = { value = 6, source = "s", as_of = "2026" }',
      "devices_per_node": 'devices_per_node = { value = 4, source = "s", as_of = "2026" }'},
     "scale_up_domain.value: 6 neither spans whole nodes of 4"),
])
def test_inconsistent_accelerator_figures_are_refused(tmp_path, lines, words):
    cat_dir = _accelerator(tmp_path, "x100", **lines)
    with pytest.raises(CatalogError, match=words):
        planner.estimate(catalog=cat_dir, gpu="x100", params="7B", tokens="100B", gpus=64)


def test_a_site_with_only_its_peak_pue_never_averages_above_it(tmp_path):
    # was: the default annual PUE 1.20 above the site's own design-day 1.12
    _write(tmp_path, "hardware/sites", "mine", """\
        name = "Mine"
        peak_pue = { value = 1.12, source = "our design", as_of = "2026" }
    """)
    plan = planner.estimate(catalog=tmp_path, site="mine", params="7B", tokens="100B", gpus=64)
    assert plan.assumptions["pue"]["value"] == 1.12 == plan.assumptions["peak_pue"]["value"]
    assert "peak_pue" in plan.assumptions["pue"]["source"]


def test_a_user_file_in_place_of_the_default_site_is_named(tmp_path):
    _write(tmp_path, "hardware/sites", "us-hyperscale", SITE)
    plan = planner.estimate(catalog=tmp_path, params="7B", tokens="100B", gpus=64)
    assert str(tmp_path) in plan.assumptions["site"]["source"]  # was: the shipped file's path
    shipped = planner.estimate(params="7B", tokens="100B", gpus=64)
    assert shipped.assumptions["site"]["source"].endswith(
        "(hardware/sites/us-hyperscale.toml)")


def test_a_misnamed_folder_beside_the_right_ones_is_refused(tmp_path):
    # was: hardware/accelerator/ skipped silently, then "unknown accelerator 'x100'"
    _accelerator(tmp_path, "x100")
    (tmp_path / "hardware/accelerators").rename(tmp_path / "hardware/accelerator")
    _write(tmp_path, "workloads", "mine", 'name = "m"\n[training]\nparams = 7e9\n'
           'tokens = 1e11\n')
    with pytest.raises(CatalogError, match=r"hardware/accelerator/.*did you mean "
                                           r"hardware/accelerators/\?"):
        catalog(tmp_path)
    # a folder of drafts that merely shares a word with a catalog folder is left alone
    drafts = tmp_path / "drafts"
    _write(drafts, "hardware/old-sites", "x", SITE)
    _write(drafts, "hardware/sites", "mine", SITE)
    assert catalog(drafts).site("mine").pue == 1.3


def test_a_workload_files_missing_sequence_and_batch_are_reported_defaults(tmp_path):
    # was: 8,192 tokens and a 16M batch used without a word in the assumptions
    _write(tmp_path, "workloads", "mine", """\
        name = "m"
        [architecture]
        source = "ours"
        as_of = "2026"
        layers = 32
        hidden = 4096
        heads = 32
        kv_heads = 8
        ffn = 14336
        vocab = 128256
        [training]
        source = "ours"
        as_of = "2026"
        tokens = 100000000000
    """)
    plan = planner.estimate(catalog=tmp_path, workload="mine", gpus=64)
    assert plan.assumptions["seq_len"]["value"] == 8192 == plan.workload["seq_len"]
    assert plan.assumptions["seq_len"]["source"].startswith(
        "mine gives no [training] seq_len: Llama 3 405B")
    assert "gives no [training] global_batch_tokens" in \
        plan.assumptions["global_batch_tokens"]["source"]
    given = planner.estimate(catalog=tmp_path, workload="mine", gpus=64, seq_len=4096)
    assert "seq_len" not in given.assumptions and given.workload["seq_len"] == 4096
    # the assumption serves a file without its own figure, as it serves a plan without a
    # workload (an auditor: --assume seq_len=4096 had been ignored and 8,192 planned)
    assumed = planner.estimate(catalog=tmp_path, workload="mine", gpus=64,
                               assumptions={"seq_len": 4096, "global_batch_tokens": 2 ** 22})
    assert (assumed.workload["seq_len"], assumed.workload["global_batch_tokens"]) == (
        4096, 2 ** 22)
    assert assumed.assumptions["seq_len"]["source"] == (
        "mine gives no [training] seq_len: given (--assume)")
    assert assumed.training_days != plan.training_days


def test_catalog_given_twice_is_refused(tmp_path, capsys):
    # was: the last directory kept, the first dropped silently
    import cli

    with pytest.raises(SystemExit) as done:
        cli.main(["estimate", "--params", "7B", "--tokens", "1T", "--catalog", str(tmp_path),
                  "--catalog", str(tmp_path), "--format", "json"])
    import json

    error = json.loads(capsys.readouterr().out)["error"]
    assert done.value.code == 2 and error["option"] == "--catalog"
    assert "PLANNER_CATALOG" in error["message"]


MOE_SHAPE = """\
    name = "m"
    kind = "moe"
    [architecture]
    source = "ours"
    as_of = "2026"
    layers = 56
    hidden = 6144
    heads = 48
    kv_heads = 8
    vocab = 32768
    experts = 8
    top_k = 2
    expert_ffn = 16384
    [training]
    source = "ours"
    as_of = "2026"
    params = 141000000000
    active_params = {active}
    tokens = 10000000000000
"""
MOE_COUNT = """\
    name = "m"
    kind = "moe"
    [architecture]
    source = "ours"
    as_of = "2026"
    experts = 64
    top_k = 4
    [training]
    source = "ours"
    as_of = "2026"
    params = 1000000000000
    active_params = {active}
    tokens = 10000000000000
"""


@pytest.mark.parametrize("text, bad, good", [
    # the shape counts 39.2B active (was: 1B accepted and 39.2B planned, silently)
    (MOE_SHAPE, 1_000_000_000, 39_000_000_000),
    # the rule's shape for 1T with 64 experts, top 4, has 77.7B active (was: 5B shown by
    # workloads show, 77.7B planned)
    (MOE_COUNT, 5_000_000_000, 78_000_000_000),
])
def test_a_moe_files_active_count_must_be_its_shapes(tmp_path, text, bad, good):
    _write(tmp_path, "workloads", "m", text.format(active=bad))
    with pytest.raises(InputError, match=r"training.active_params: .* active parameters") as e:
        planner.estimate(catalog=tmp_path, workload="m", gpus=512)
    assert str(tmp_path / "workloads" / "m.toml") in str(e.value)  # the file, by its path
    _write(tmp_path, "workloads", "m", text.format(active=good))
    assert planner.estimate(catalog=tmp_path, workload="m", gpus=512).workload[
        "active_params"] == pytest.approx(good, rel=0.05)


def test_show_and_list_refuse_what_a_plan_would_refuse(tmp_path, capsys):
    # was: hardware show / list printed an accelerator whose network is missing, and workloads
    # show a batch smaller than one sequence, all exit 0, while estimate refused them
    import cli

    _accelerator(tmp_path, "x100", scale_out_network='scale_out_network = "ib-ndx"')
    for args in (["hardware", "show", "x100"], ["hardware", "list"],
                 ["hardware", "list", "--format", "json"]):  # JSON too (it had exit 0)
        with pytest.raises(SystemExit) as done:
            cli.main([*args, "--catalog", str(tmp_path)])
        assert done.value.code == 2
        assert "scale_out_network 'ib-ndr" not in capsys.readouterr().out
    def tiny(folder: str, training: str):
        _write(tmp_path / folder, "workloads", "tiny", """\
            name = "t"
            [architecture]
            source = "ours"
            as_of = "2026"
            [training]
            source = "ours"
            as_of = "2026"
            params = 7000000000
        """ + textwrap.indent(textwrap.dedent(training), " " * 12))
        return tmp_path / folder

    other = tiny("w", """\
        tokens = 100000000000
        seq_len = 8192
        global_batch_tokens = 1000
    """)
    with pytest.raises(SystemExit) as done:
        cli.main(["workloads", "show", "tiny", "--catalog", str(other)])
    assert done.value.code == 2
    assert "less than one sequence" in capsys.readouterr().err
    # and every use of the file says so with its path and field: the library's catalog had
    # loaded it, and estimate had named no field (or --tokens, which nobody gave)
    with pytest.raises(planner.CatalogError, match=r"tiny\.toml: training\.global_batch_"
                                                   r"tokens: 1,000 is less than one sequence"):
        planner.catalog(str(other)).workload("tiny")
    short = tiny("s", """\
        tokens = 2000
    """)
    # tokens below the default batch: a flag may still set the batch, so the file loads, and
    # a plan of it names the file's field, not --tokens, which nobody gave
    assert planner.catalog(str(short)).workload("tiny").tokens == 2000
    with pytest.raises(planner.InputError, match=r"--workload tiny \(training\.tokens\): 2000"
                                                 r".* is less than one training step's"):
        planner.estimate(workload="tiny", gpu="h100-sxm", gpus=64, catalog=str(short))
    # and flags that set a batch the tokens hold plan it (the file had been refused at load)
    plan = planner.estimate(workload="tiny", gpu="h100-sxm", gpus=8, global_batch=1024,
                            seq_len=1024, catalog=str(short))
    assert plan.feasible and plan.training_days > 0


def test_a_v100_plan_says_it_runs_fp16():
    # was: labelled bf16 with nothing said, on a part that has no BF16
    plan = planner.estimate(params="1B", tokens="20B", gpu="v100", gpus=64)
    assert plan.assumptions["precision_run"]["value"] == "fp16"
    assert "precision_run" not in planner.estimate(params="1B", tokens="20B",
                                                   gpus=64).assumptions


def test_an_fp16_plan_on_a_tpu_says_it_multiplies_in_bf16():
    # an auditor: --precision fp16 on TPU v5p planned at the BF16 peak with nothing said
    plan = planner.estimate(params="7B", tokens="100B", gpu="tpu-v5p", gpus=64,
                            precision="fp16")
    assert plan.assumptions["precision_run"]["value"] == "bf16"
    bf16 = planner.estimate(params="7B", tokens="100B", gpu="tpu-v5p", gpus=64)
    assert plan.training_days == bf16.training_days  # the same peak, now named
    assert "precision_run" not in bf16.assumptions
    shipped = catalog()
    for key in shipped.keys("accelerators"):  # every TPU says so, and only they
        assert shipped.accelerator(key).fp16 == (not key.startswith("tpu-")), key
    assert "precision_run" not in planner.estimate(params="7B", tokens="100B", gpus=64,
                                                   precision="fp16").assumptions


def test_workloads_show_takes_a_workload_file_as_estimate_does(tmp_path, capsys):
    # --workload takes FILE.toml; workloads show had refused the path ("unknown workload")
    import json

    import cli

    path = tmp_path / "my-moe.toml"
    path.write_text((Path(__file__).resolve().parent.parent / "workloads" /
                     "mixtral-8x7b.toml").read_text())
    with pytest.raises(SystemExit) as done:
        cli.main(["workloads", "show", str(path)])
    out = capsys.readouterr().out
    assert done.value.code == 0 and out.startswith(f"workload my-moe ({path})")
    assert "Mixtral 8x7B" in out
    with pytest.raises(SystemExit) as done:
        cli.main(["workloads", "show", str(path), "--format", "json"])
    shown = json.loads(capsys.readouterr().out)
    assert done.value.code == 0 and (shown["key"], shown["path"]) == ("my-moe", str(path))
    for name, says in ((str(tmp_path / "none.toml"), "is no such file"),
                       (str(tmp_path / "config.json"), "planner estimate --workload")):
        with pytest.raises(SystemExit) as done:
            cli.main(["workloads", "show", name])
        assert done.value.code == 2 and says in capsys.readouterr().err


def test_list_and_show_refuse_an_alias_two_files_claim(tmp_path, capsys):
    # a user's accelerator claiming "h100" (the shipped H100 SXM's alias) listed with exit 0
    # and failed only when a plan named it
    import cli

    _accelerator(tmp_path, "my-gpu", aliases='aliases = ["h100"]')
    for args in (["hardware", "list"], ["hardware", "show", "my-gpu"]):
        with pytest.raises(SystemExit) as done:
            cli.main([*args, "--catalog", str(tmp_path)])
        assert done.value.code == 2
        assert "alias 'h100' is claimed by 2 accelerator files" in capsys.readouterr().err


def test_a_network_serves_the_vendors_it_names_and_every_shipped_device_its_own():
    # was: --network tpu-dcn accepted for an H100 (Google's DCN joins TPU slices alone) and
    # ib-ndr for a TPU, each planned as if the device had such a NIC
    cat = catalog()
    for acc in cat.all("accelerators"):
        own = cat.own_network(acc, "scale_out_network")
        assert own is None or own.serves(acc), acc.key
    with pytest.raises(InputError, match=re.escape(
            "--network: 'tpu-dcn' serves Google accelerators only, not NVIDIA's h100-sxm "
            "(--gpu); accepted: a scale-out network h100-sxm attaches to: aws-efa, ")):
        planner.estimate(params="7B", tokens="100B", gpu="h100", gpus=64, network="tpu-dcn")
    with pytest.raises(InputError, match="accepted: a scale-out network tpu-v5p attaches "
                                         "to: tpu-dcn$"):
        planner.estimate(params="7B", tokens="100B", gpu="tpu-v5p", gpus=64, network="ib-ndr")
    for gpu in ("gaudi3", "trainium2"):  # their own on-chip RoCE, AWS's EFA
        with pytest.raises(InputError, match="serves NVIDIA, AMD accelerators only"):
            planner.estimate(params="7B", tokens="100B", gpu=gpu, gpus=64, network="ib-ndr")
    # AMD Instinct on InfiniBand NDR (Azure ND MI300X v5: 8 x 400 Gb NDR) is a plan
    plan = planner.estimate(params="7B", tokens="100B", gpu="mi300x", gpus=64,
                            network="ib-ndr")
    assert plan.cluster["network"] == "ib-ndr"


def test_a_network_file_without_vendors_serves_any_and_a_device_file_must_fit_its_own(
        tmp_path):
    _write(tmp_path, "hardware/networks", "my-fabric",
           'name = "ours"\ntier = "scale_out"\n'
           'link_gb_per_s = { value = 50, source = "our spec", as_of = "2026" }\n')
    plan = planner.estimate(params="7B", tokens="100B", gpu="tpu-v5p", gpus=64,
                            network="my-fabric", catalog=tmp_path)
    assert plan.cluster["network"] == "my-fabric"
    text = "\n".join(ln for ln in H100.replace('vendor = "NVIDIA"', 'vendor = "Acme"')
                     .splitlines() if not ln.startswith("aliases"))
    _write(tmp_path, "hardware/accelerators", "my-gpu", text + "\n")
    with pytest.raises(CatalogError, match=re.escape(
            "scale_out_network 'ib-ndr' (network file ") + r"\S*/hardware/networks/ib-ndr\.toml"
            + re.escape(") serves NVIDIA, AMD accelerators only, not vendor "
                        "'Acme'; accepted: a scale_out network its devices attach to: "
                        "my-fabric")):
        planner.estimate(params="7B", tokens="100B", gpus=8, gpu="my-gpu", catalog=tmp_path)
    # with no fabric for it, the message says what to write (it had read "(none)")
    (tmp_path / "hardware/networks/my-fabric.toml").unlink()
    with pytest.raises(CatalogError, match=re.escape(
            "attach to: none yet: a network file whose accelerator_vendors names 'Acme', or "
            "has none (docs/catalog.md)")):
        planner.estimate(params="7B", tokens="100B", gpus=8, gpu="my-gpu", catalog=tmp_path)
    # and its plan names no public stack for the vendor's own part
    text = text.replace('scale_out_network = "ib-ndr"\n', "")
    _write(tmp_path, "hardware/accelerators", "my-gpu", text + "\n")
    plan = planner.estimate(params="7B", tokens="100B", gpus=8, gpu="my-gpu", catalog=tmp_path)
    assert plan.assumptions["framework"]["source"].startswith(
        "no public stack known for Acme's accelerators (my-gpu)")


def test_a_file_added_during_a_session_is_found(tmp_path):
    # was: the folder's listing was cached for the life of the process: a notebook that added
    # an accelerator file after its first plan got "unknown accelerator" until a restart
    _write(tmp_path, "hardware/sites", "ours", SITE)
    assert "my-gpu" not in catalog(tmp_path).keys("accelerators")
    text = "\n".join(ln for ln in H100.splitlines() if not ln.startswith("aliases"))
    _write(tmp_path, "hardware/accelerators", "my-gpu", text + "\n")
    plan = planner.estimate(params="7B", tokens="100B", gpus=8, gpu="my-gpu",
                            catalog=tmp_path)
    assert plan.cluster["accelerator"] == "my-gpu"
    _write(tmp_path, "hardware/accelerators", "my-gpu2", text + "\n")  # a folder listed before
    assert {"my-gpu", "my-gpu2"} <= set(catalog(tmp_path).keys("accelerators"))



def test_a_held_block_lists_each_folder_once_and_the_next_call_sees_a_file_added(
        tmp_path, monkeypatch):
    # estimate_many answers a chunk inside catalog.held_listings: its scenarios had stat()-ed
    # every catalog folder some 17 times each; a file added after the call is still found by
    # the next one (and by estimate, outside any block)
    import sys

    from planner.many.estimate_many import estimate_many

    mod = sys.modules["planner.catalog"]
    listed = []
    real = mod._files_now
    monkeypatch.setattr(mod, "_files_now", lambda roots, kind: listed.append((roots, kind))
                        or real(roots, kind))
    text = "\n".join(ln for ln in H100.splitlines() if not ln.startswith("aliases"))
    _write(tmp_path, "hardware/accelerators", "my-gpu", text + "\n")
    rows = {"params": ["7B", "8B", "9B"], "tokens": ["100B"] * 3, "gpu": ["my-gpu"] * 3,
            "gpus": [None, 64, None]}
    first = estimate_many(rows, catalog=tmp_path, progress=False)
    assert first.column("error").to_pylist() == [None] * 3
    # each folder of each catalog listed once as the call checks the user's files
    # (scenarios.context), once for its chunk
    assert len(listed) <= 2 * len(set(listed))
    _write(tmp_path, "hardware/accelerators", "my-gpu2", text + "\n")
    second = estimate_many({**rows, "gpu": ["my-gpu2"] * 3}, catalog=tmp_path, progress=False)
    assert second.column("cluster_accelerator").to_pylist() == ["my-gpu2"] * 3
    assert second.column("cost_usd_total").to_pylist() == \
        first.column("cost_usd_total").to_pylist()
    with mod.held_listings():
        assert "my-gpu3" not in catalog(tmp_path).keys("accelerators")
        _write(tmp_path, "hardware/accelerators", "my-gpu3", text + "\n")
        assert "my-gpu3" not in catalog(tmp_path).keys("accelerators")  # as first listed
    assert "my-gpu3" in catalog(tmp_path).keys("accelerators")


def test_a_file_removed_inside_a_held_block_is_a_catalog_error(tmp_path):
    # a review: a file listed at a block's start and removed before its first read had ended
    # in an uncaught FileNotFoundError (internal error, exit 1) from its time stamp
    import sys

    mod = sys.modules["planner.catalog"]
    text = "\n".join(ln for ln in H100.splitlines() if not ln.startswith("aliases"))
    path = _write(tmp_path, "hardware/accelerators", "my-gpu", text + "\n")
    with mod.held_listings():
        cat = catalog(tmp_path)
        assert "my-gpu" in cat.keys("accelerators")
        Path(path).unlink()
        with pytest.raises(CatalogError, match="my-gpu.toml: cannot read .*removed or moved"):
            cat.accelerator("my-gpu")


def test_a_plan_names_the_user_files_it_ran_on(tmp_path):
    # was: a plan on a changed b200 read as one on the shipped b200 (only a replaced site
    # was reported)
    _write(tmp_path, "hardware/accelerators", "h100-sxm", H100.replace(
        "hbm_gb = { value = 80,", "hbm_gb = { value = 96,"))
    plan = planner.estimate(params="7B", tokens="100B", gpu="h100", gpus=64, catalog=tmp_path)
    got = plan.assumptions["catalog_accelerator"]
    assert got["value"] == "h100-sxm"
    assert got["source"].endswith("h100-sxm.toml, a user catalog's file in place of the "
                                  "shipped one")
    assert "catalog_scale_out_network" not in plan.assumptions  # the shipped ib-ndr
    shipped = planner.estimate(params="7B", tokens="100B", gpu="h100", gpus=64)
    assert not any(k.startswith("catalog_") for k in shipped.assumptions)


@pytest.mark.parametrize("old, new, says", [
    # a figure typed in the unit a thousand times larger reads a thousand times smaller:
    # B200's 2,250 TFLOP/s as 2.25 (PFLOP/s) had planned 521 days instead of about one
    ("peak_bf16_tflops = { value = 989.4,", "peak_bf16_tflops = { value = 0.9894,",
     "peak_bf16_tflops.value: 0.9894 is too small; accepted: a number in [10, 1,000,000]"),
    ("hbm_tb_per_s = { value = 3.35,", "hbm_tb_per_s = { value = 0.00335,",
     "hbm_tb_per_s.value: 0.00335 is too small"),
    ("scale_up_gb_per_s = { value = 450,", "scale_up_gb_per_s = { value = 0.45,",
     "scale_up_gb_per_s.value: 0.45 is too small"),
    ("hbm_gb = { value = 80,", "hbm_gb = { value = 0.08,", "hbm_gb.value: 0.08 is too small"),
])
def test_a_figure_a_thousand_times_too_small_is_refused(tmp_path, old, new, says):
    assert old in H100
    path = _write(tmp_path, "hardware/accelerators", "my-gpu", H100.replace(old, new))
    with pytest.raises(CatalogError, match=re.escape(says)):
        load_file("accelerators", path)


def test_an_alias_clash_is_refused_by_a_plan_as_by_hardware_list(tmp_path):
    # was: hardware list and show refused x1000's alias "h100" (the shipped H100's), while
    # estimate --gpu x1000 planned with the same file
    text = "\n".join('aliases = ["h100"]' if ln.startswith("aliases") else ln
                     for ln in H100.splitlines())
    _write(tmp_path, "hardware/accelerators", "x1000", text + "\n")
    with pytest.raises(CatalogError, match="alias 'h100' is claimed by 2 accelerator files") \
            as err:
        planner.estimate(params="7B", tokens="100B", gpu="x1000", gpus=64, catalog=tmp_path)
    assert err.value.option.endswith("x1000.toml: aliases") and err.value.accepted


def test_a_date_the_calendar_lacks_and_a_ceiling_without_its_peak_are_refused(tmp_path):
    # was: as_of = "2025-02-30" accepted; matmul_fp8_fraction on a part with no FP8 peak
    path = _write(tmp_path, "hardware/sites", "s",
                  'pue = { value = 1.2, source = "our meter", as_of = "2025-02-30" }\n')
    with pytest.raises(CatalogError, match="pue.as_of: '2025-02-30' is no day of the calendar"):
        load_file("sites", path)
    a100 = (ROOT / "hardware/accelerators/a100-80gb.toml").read_text()
    assert "peak_fp8_tflops" not in a100
    path = _write(tmp_path, "hardware/accelerators", "my-a100", a100 + (
        'matmul_fp8_fraction = { value = 0.7, source = "ours", as_of = "2026" }\n'))
    with pytest.raises(CatalogError, match="matmul_fp8_fraction.value: 0.7 is given without "
                                           "peak_fp8_tflops"):
        load_file("accelerators", path)


@pytest.mark.parametrize("name, says", [
    ("x1000.tml", "the catalog reads files ending .toml: rename it x1000.toml"),
    ("x1000.TOML", "rename it x1000.toml"),
    ("x1000.toml.txt", "rename it x1000.toml"),
    ("x1000 .toml", "its key 'x1000 ' has spaces around it: rename it x1000.toml"),
])
def test_a_catalog_file_named_near_key_toml_is_named_not_skipped(tmp_path, name, says):
    # was: skipped silently (an override of a shipped file lost without a word)
    folder = tmp_path / "hardware/accelerators"
    folder.mkdir(parents=True)
    (folder / name).write_text(H100)
    (folder / "README.md").write_text("notes")  # other files stay the user's own
    with pytest.raises(CatalogError, match=re.escape(says)):
        catalog(tmp_path)


def test_a_device_whose_system_power_is_published_is_charged_no_host_beside_it():
    # an audit: GH200's 1,000 W module already holds its Grace CPU and memory, yet a host share
    # was added beside it (1,575 W a GH200); a Frontier node has one CPU for 8 MI250X GCDs,
    # measured at 21.1 MW over 75,264 GCDs (TOP500 June 2022), where DGX H100's host share
    # had made it 510 W a GCD
    from planner.assumptions import DEFAULT
    from planner.model.power import device_power_w

    cat = catalog()
    assert device_power_w(cat.accelerator("gh200"), DEFAULT)[0] == pytest.approx(1000.0)
    for key in ("mi250x", "mi250"):
        watts = device_power_w(cat.accelerator(key), DEFAULT)[0]
        assert watts == pytest.approx(280.0)
        assert watts == pytest.approx(21.1e6 / (9408 * 8), rel=0.01)


def test_catalog_figures_read_in_the_units_their_sources_print():
    # an audit: Trainium1's NeuronLink-v2 is printed in GiB/s (384 a device), which had been
    # read as GB/s; B300's dense FP4 is NVIDIA's 105 PF over 8 GPUs
    cat = catalog()
    assert cat.accelerator("trainium1").scale_up_bytes_per_s == pytest.approx(384 * 2**30 / 2,
                                                                              rel=0.001)
    assert cat.accelerator("b300").peak_flops["fp4"] == pytest.approx(105e15 / 8)


def test_hardware_show_prints_each_figures_note():
    # an audit: the notes (dense against a sparse headline, an estimate not a measurement)
    # were in the JSON only
    from planner.catalog_view import catalog_show

    text = re.sub(r"\s+", " ", catalog_show(catalog(), "accelerators", "h100-sxm"))
    assert "Note: dense; datasheet headline 1979 is with sparsity" in text


def test_workloads_show_and_list_count_and_quote_every_published_row():
    # a user's audit: the measurement files' rows were neither counted nor shown (mixtral-8x7b
    # read 0 references), a whole run showed gpu_hours alone (Skywork's 39 days and 1,873
    # tokens/s hidden) and the conf. column held the row's kind
    from planner.catalog_view import catalog_records, catalog_show, catalog_table

    cat = catalog()
    shown = re.sub(r"\s+", " ", catalog_show(cat, "workloads", "skywork-13b"))
    assert "whole_run; 512 x a800;" in shown and "training_days=39.0" in shown
    assert "tokens_per_s_per_gpu=1,873.0" in shown and " P Wei et al. 2023" in shown
    mixtral = re.sub(r"\s+", " ", catalog_show(cat, "workloads", "mixtral-8x7b"))
    assert "measured: mcore-moe-mixtral-8x7b-v08 throughput; 64 x h100-sxm;" in mixtral
    line = next(ln for ln in catalog_table(cat, "workloads").splitlines()
                if ln.startswith("mixtral-8x7b "))
    assert line.split()[-1] == "3"
    rec = {r["key"]: r for r in catalog_records(cat, ["workloads"])["workloads"]}
    assert rec["mixtral-8x7b"]["kind"] == "moe" and rec["mixtral-8x7b"]["tokens"] is None
    assert len(rec["mixtral-8x7b"]["measured_references"]) == 3
    assert rec["chameleon-34b"]["active_params"] == rec["chameleon-34b"]["params"]
    # the per-head width named as the files and plans name it (head_dim, not head_size)
    assert rec["gpt-oss-120b"]["architecture"]["head_dim"] == 64
    assert "head_size" not in rec["gpt-oss-120b"]["architecture"]
    # every workload's published numbers with their table's source (an auditor: {} for all)
    for key, r in rec.items():
        assert r["figures"] and all(f["source"] for f in r["figures"].values()), key
    llama = rec["llama3-8b"]["figures"]
    assert llama["layers"]["value"] == 32 and llama["tokens"]["value"] == 15e12
    assert llama["layers"]["source"].startswith("meta-llama/llama-models")
    assert llama["tokens"]["as_of"] == "2024-04"


def test_a_published_active_count_the_shape_rule_does_not_reach_is_said(tmp_path):
    # an auditor: a 100B, 64-expert top-4 file publishing 10B active planned the rule's 8.69B
    # with no word of the file's figure
    _write(tmp_path, "workloads", "m1", textwrap.dedent("""\
        name = "m1"
        kind = "moe"
        [architecture]
        source = "s"
        as_of = "2026"
        experts = 64
        top_k = 4
        [training]
        source = "s"
        as_of = "2026"
        params = 1e11
        active_params = 1e10
        tokens = 1e12
        """))
    plan = planner.estimate(catalog=tmp_path, workload="m1", gpus=256)
    row = plan.assumptions["active_params"]
    assert row["value"] == plan.workload["active_params"] == pytest.approx(8.686e9, rel=1e-3)
    assert "the file's [training] active_params 10.0B is 1.15x it" in row["source"]


def test_workloads_show_json_holds_the_measured_rows_the_table_prints(capsys):
    # was: the table listed deepseek-v3's four Megatron-Bridge rows, the JSON none of them
    import json

    import cli

    with pytest.raises(SystemExit):
        cli.main(["workloads", "show", "deepseek-v3"])
    table = capsys.readouterr().out
    printed = set(re.findall(r"measured: (\S+)", table))
    with pytest.raises(SystemExit) as done:
        cli.main(["workloads", "show", "deepseek-v3", "--format", "json"])
    shown = json.loads(capsys.readouterr().out)
    assert done.value.code == 0 and len(printed) == 4
    assert {r["row_id"] for r in shown["measured"]} == printed
    row = next(r for r in shown["measured"]
               if r["row_id"] == "mbridge-2511-deepseek-v3-gb300-bf16-256g-gbs4096")
    assert (row["accelerator"], row["gpus"], row["tflops_per_gpu"]) == ("gb300", 256, 961.0)
    assert row["measurements"].endswith("workloads/measurements/megatron-bridge.toml")
