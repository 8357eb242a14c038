"""A user's catalog directory (--catalog DIR): what an audit found it could get away with.

Each test builds a tiny catalog in tmp_path, mostly a shipped file copied with one field
changed, and checks the refusal names the file, the field and the accepted form (exit 2 at the
CLI), or that what is listed is what a plan uses."""

import json
import re
from pathlib import Path

import pytest

import planner
from planner.catalog import HARDWARE_KINDS, CatalogError, catalog, load_file
from planner.catalog_view import catalog_records, catalog_show, catalog_table
from planner.many.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent


def _copy(tmp_path: Path, shipped: str, as_: str, *edits: tuple[str, str]) -> Path:
    """The shipped file ``shipped`` (e.g. "hardware/sites/us-hyperscale") copied into
    tmp_path as ``as_`` (a path without .toml), each (old, new) of ``edits`` replaced once;
    an accelerator loses its aliases (the shipped file's keep their own)."""
    text = (ROOT / f"{shipped}.toml").read_text()
    if shipped.startswith("hardware/accelerators/"):
        text = "\n".join(ln for ln in text.splitlines() if not ln.startswith("aliases")) + "\n"
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / f"{as_}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _cli(capsys, *args) -> tuple[int, str]:
    import cli

    with pytest.raises(SystemExit) as done:
        cli.main(list(args))
    captured = capsys.readouterr()
    return done.value.code, captured.err + captured.out


# --- 1. two files whose names differ only in case ---------------------------------------------

@pytest.mark.parametrize("kind, shipped, names", [
    ("accelerators", "hardware/accelerators/h100-sxm", ("x1000", "X1000")),
    ("workloads", "workloads/llama3-8b", ("acme-dense-30b", "ACME-Dense-30B")),
])
def test_two_files_one_key_apart_in_case_are_refused_naming_both(tmp_path, capsys, kind,
                                                                  shipped, names):
    # was: read as one key, the later file silently winning
    folder = "hardware/accelerators" if kind == "accelerators" else "workloads"
    paths = [_copy(tmp_path, shipped, f"{folder}/{name}") for name in names]
    with pytest.raises(CatalogError) as err:
        catalog(tmp_path).keys(kind)
    says = str(err.value)
    assert all(str(p) in says for p in paths)
    assert f"are both the key '{names[0]}'" in says
    listing = ["hardware", "list"] if kind == "accelerators" else ["workloads", "list"]
    code, out = _cli(capsys, *listing, "--catalog", str(tmp_path))
    assert code == 2 and all(str(p) in out for p in paths)
    paths[1].unlink()  # one file of the key: read
    assert names[0] in catalog(tmp_path).keys(kind)


# --- 2. site and network figures in the wrong unit -------------------------------------------

SITE = "hardware/sites/us-hyperscale"
NET = "hardware/networks/ib-ndr"


@pytest.mark.parametrize("shipped, old, new, says", [
    # $10M a MW typed as 10 had printed a "$57.51 facility"
    (SITE, "capex_usd_per_mw = { value = 11700000,", "capex_usd_per_mw = { value = 10,",
     "capex_usd_per_mw.value: 10 is too small: millions of USD typed as USD? ($10M a MW is "
     "10,000,000); accepted: a number in [500,000, 100,000,000] (USD per MW of IT load)"),
    (SITE, "low = 9300000, high = 15000000", "low = 9300, high = 15000000",
     "capex_usd_per_mw.low: 9300 is too small: thousands of USD typed as USD?"),
    (SITE, "capex_usd_per_mw = { value = 11700000,", "capex_usd_per_mw = { value = 1.17e10,",
     "capex_usd_per_mw.value: 11700000000.0 is too large: over 7x the dearest market's "
     "$15M a MW: the whole site's cost rather than per MW of IT load?"),
    # a kg/kWh figure (the US grid's 0.366) typed as kg/MWh
    (SITE, "grid_kg_co2_per_mwh = { value = 366,", "grid_kg_co2_per_mwh = { value = 0.4,",
     "grid_kg_co2_per_mwh.value: 0.4 is below any supply's but a carbon-free one's (0): kg/kWh "
     "or t/MWh typed as kg/MWh? (0.4 kg/kWh is 400 kg/MWh); accepted: 0 (a carbon-free "
     "supply) or a number in [1, 1,500] (kg CO2 per MWh)"),
    (SITE, "grid_kg_co2_per_mwh = { value = 366,", "grid_kg_co2_per_mwh = { value = 807,",
     None),  # lb/MWh? no: 807 kg/MWh is a coal-heavy grid's, accepted
    (SITE, "grid_kg_co2_per_mwh = { value = 366,", "grid_kg_co2_per_mwh = { value = 366000,",
     "grid_kg_co2_per_mwh.value: 366000 is too large: above any fuel's own emissions "
     "(lignite ~1,200 kg/MWh): lb/MWh (divide by 2.205) or g/MWh (divide by 1,000)?"),
    # 1.5 us typed in ns, in s and in ms
    (NET, "hop_latency_us = { value = 2,", "hop_latency_us = { value = 1500,",
     "hop_latency_us.value: 1500 is too large for one switch hop: nanoseconds typed as "
     "microseconds? (1,500 ns is 1.5 us); accepted: a number in [0.05, 200] (microseconds per "
     "switch hop or message step)"),
    (NET, "hop_latency_us = { value = 2,", "hop_latency_us = { value = 0.0000015,",
     "hop_latency_us.value: 1.5e-06 is too small for one switch hop: seconds typed as "
     "microseconds? (1.5e-06 s is 1.5 us)"),
    (NET, "hop_latency_us = { value = 2,", "hop_latency_us = { value = 0.002,",
     "hop_latency_us.value: 0.002 is too small for one switch hop: milliseconds typed as "
     "microseconds? (0.002 ms is 2 us)"),
])
def test_a_site_or_network_figure_in_the_wrong_unit_names_the_slip(tmp_path, shipped, old, new,
                                                                   says):
    kind = shipped.split("/")[1]
    path = _copy(tmp_path, shipped, f"{shipped.rsplit('/', 1)[0]}/mine", (old, new))
    if says is None:
        assert load_file(kind, path).grid_kg_co2_per_mwh == 807.0
        return
    with pytest.raises(CatalogError, match=re.escape(f"{path}: {says}")):
        load_file(kind, path)


def test_the_unit_ranges_keep_every_shipped_figure_and_a_carbon_free_site(tmp_path):
    cat = catalog()
    assert cat.site("us-hyperscale").capex_usd_per_mw == 11.7e6
    assert cat.site("cheap-power").grid_kg_co2_per_mwh == 41.0
    assert cat.network("ib-hdr").hop_latency_s == pytest.approx(1.5e-6)
    assert sorted(n.hop_latency_s * 1e6 for n in cat.all("networks")
                  if n.hop_latency_s) == [1, 1, 1, 1.5, 2, 2, 5, 5, 5, 5]
    path = _copy(tmp_path, SITE, "hardware/sites/dam",
                 ("grid_kg_co2_per_mwh = { value = 366,", "grid_kg_co2_per_mwh = { value = 0,"),
                 ("capex_usd_per_mw = { value = 11700000,", "capex_usd_per_mw = { value = 1e7,"))
    site = load_file("sites", path)
    assert (site.grid_kg_co2_per_mwh, site.capex_usd_per_mw) == (0.0, 10e6)


# --- 3. one key, two kinds of file ------------------------------------------------------------

def test_a_site_named_as_an_accelerator_is_refused_not_hidden(tmp_path, capsys):
    # was: hardware show x1000 showed the accelerator; the site x1000 was unreachable
    acc = _copy(tmp_path, "hardware/accelerators/h100-sxm", "hardware/accelerators/x1000")
    site = _copy(tmp_path, SITE, "hardware/sites/x1000")
    for args in (["hardware", "show", "x1000"], ["hardware", "list"]):
        code, out = _cli(capsys, *args, "--catalog", str(tmp_path))
        assert code == 2, args
        said = re.sub(r"\s+", " ", out)
        assert (f"'x1000' is the key of the accelerator file {acc} and the key of the site "
                f"file {site}: 'planner hardware show x1000' would show the accelerator and "
                f"never the other; rename {site} to a key no other accelerator, network or "
                "site file uses") in said
    with pytest.raises(CatalogError, match="rename .*sites/x1000.toml") as err:
        planner.estimate(params="7B", tokens="100B", gpus=8, site="x1000", catalog=tmp_path)
    assert err.value.option == str(site)
    site.rename(site.with_name("x1000-campus.toml"))
    assert catalog_show(catalog(tmp_path), "sites", "x1000-campus").startswith(
        "site x1000-campus (")
    assert catalog(tmp_path).accelerator("x1000").key == "x1000"


@pytest.mark.parametrize("kind, shipped, name, other", [
    ("sites", SITE, "ib-ndr", "network"),  # a shipped network's key
    ("networks", NET, "h100", "accelerator"),  # a shipped accelerator's alias
])
def test_a_user_file_named_as_a_shipped_item_of_another_kind_is_refused(tmp_path, capsys, kind,
                                                                        shipped, name, other):
    path = _copy(tmp_path, shipped, f"hardware/{kind}/{name}")
    code, out = _cli(capsys, "hardware", "show", name, "--catalog", str(tmp_path))
    said = re.sub(r"\s+", " ", out)
    assert code == 2 and f"file {path}" in said and f"rename {path}" in said
    assert f"of the {other} file" in said
    # and a plan naming it, as hardware show and list do
    with pytest.raises(CatalogError, match=re.escape(f"rename {path}")):
        planner.estimate(params="7B", tokens="100B", gpus=8, catalog=tmp_path,
                         **{kind[:-1] if kind == "sites" else "network": name})


def test_the_shipped_catalog_uses_each_hardware_name_for_one_kind():
    # what Catalog._one_kind leaves to the shipped catalog: no name of two kinds
    cat = catalog()
    names = {kind: set(cat.keys(kind)) for kind in HARDWARE_KINDS}
    names["accelerators"] |= {a for acc in cat.all("accelerators") for a in acc.aliases}
    assert not names["accelerators"] & names["networks"]
    assert not names["accelerators"] & names["sites"]
    assert not names["networks"] & names["sites"]


# --- 4. a reference naming an accelerator the catalog lacks -----------------------------------

def test_a_reference_naming_hardware_the_catalog_lacks_is_refused_at_load(tmp_path, capsys):
    # was: loaded; validate later raised a bare "unknown accelerator 'x2000'", no file named
    path = _copy(tmp_path, "workloads/llama3-8b", "workloads/mine",
                 ('accelerator = "h100-sxm"', 'accelerator = "x2000"'))
    says = (f"{path}: [[reference]] llama3-8b-e2e: accelerator 'x2000' names no accelerator "
            "of the catalog (did you mean h200?); accepted: a key of 'planner hardware list': "
            "a100-40gb, a100-80gb,")
    cat = catalog(tmp_path)
    with pytest.raises(CatalogError, match=re.escape(says)) as err:
        cat.workload("mine")
    assert err.value.option == f"{path}: reference.accelerator"
    with pytest.raises(CatalogError, match=re.escape(says)):  # the file given by its path
        cat.workload(str(path))
    for args in (["validate"], ["workloads", "show", "mine"], ["workloads", "list"]):
        code, out = _cli(capsys, *args, "--catalog", str(tmp_path))
        assert code == 2 and says in re.sub(r"\s+", " ", out), args
    # an alias is not the key the rows are matched by (validate had skipped the row as
    # "hardware not in the catalog")
    _copy(tmp_path, "workloads/llama3-8b", "workloads/mine",
          ('accelerator = "h100-sxm"', 'accelerator = "h100"'))
    with pytest.raises(CatalogError, match=re.escape(
            "accelerator 'h100' is not a key; accepted: its key, 'h100-sxm'")):
        catalog(tmp_path).workload("mine")
    _copy(tmp_path, "workloads/llama3-8b", "workloads/mine")
    assert catalog(tmp_path).workload("mine").references[0].accelerator == "h100-sxm"


def _page(tmp_path: Path, **row) -> Path:
    """A user's measurements file of one throughput row, page-1 on H100, with ``row``'s keys
    (written over the last one)."""
    page = tmp_path / "workloads/measurements/page.toml"
    page.parent.mkdir(parents=True, exist_ok=True)
    keys = "".join(f"{k} = {v!r}\n".replace("'", '"') for k, v in row.items())
    page.write_text('name = "a benchmark page"\nsource = "repo README"\nas_of = "2025-01"\n'
                    '[[reference]]\nrow_id = "page-1"\nkind = "throughput"\n'
                    f'accelerator = "h100-sxm"\n{keys}tokens_per_s_per_gpu = 12000.0\n')
    return page


@pytest.mark.parametrize("layout, says", [
    ("tp=3,pp=banana", "layout: 'tp=3,pp=banana': pp must be a whole number, got 'banana'; "
                       "accepted: a layout as --layout takes it"),
    ("tp=1,pp=1,dp=96,cp=1", "layout: 'tp=1,pp=1,dp=96,cp=1' lays out 96 devices, not the "
                             "row's gpus 48; accepted: tp x pp x dp x cp equal to gpus"),
    ("tp=1,pp=1,dp=96", "layout: 'tp=1,pp=1,dp=96' lays out 96 devices times cp, not the "
                        "row's gpus 48; accepted: tp x pp x dp x cp equal to gpus"),
])
def test_a_reference_rows_layout_is_checked_at_load(tmp_path, layout, says):
    # an audit: 'pp=banana' loaded, then stopped planner validate after a minute naming
    # --layout, a flag no one typed; a layout of 96 devices on a row of 48 read 'cannot lay
    # out' in the validation table
    page = _page(tmp_path, workload="llama3.1-8b", gpus=48, layout=layout)
    with pytest.raises(CatalogError, match=re.escape(f"{page}: [[reference]] page-1: {says}")):
        catalog(tmp_path).get("measurements", "page")
    _page(tmp_path, workload="llama3.1-8b", gpus=48, layout="tp=1,pp=1,dp=48,cp=1,recompute=FULL")
    ref = catalog(tmp_path).get("measurements", "page").references[0]
    assert ref.layout == "tp=1,pp=1,dp=48,cp=1,recompute=FULL"  # as written, read as --layout


def test_a_measurement_row_naming_a_workload_or_network_the_catalog_lacks_is_refused(tmp_path):
    page = _page(tmp_path, workload="llama3.1-8bb", network="ib-ndr", gpus=8)
    with pytest.raises(CatalogError, match=re.escape(
            f"{page}: [[reference]] page-1: workload 'llama3.1-8bb' names no workload of the "
            "catalog (did you mean llama3.1-8b?); accepted: a key of 'planner workloads list'")):
        catalog(tmp_path).all("measurements")
    _page(tmp_path, workload="llama3.1-8b", network="ib-nrd", gpus=8)
    with pytest.raises(CatalogError, match=re.escape(
            "network 'ib-nrd' names no network of the catalog (did you mean ib-ndr?)")):
        catalog(tmp_path).get("measurements", "page")
    _page(tmp_path, workload="llama3.1-8b", network="ib-ndr", gpus=8)
    assert catalog(tmp_path).get("measurements", "page").references[0].network == "ib-ndr"


def test_a_users_network_file_that_no_longer_fits_is_named_beside_the_device_file(tmp_path):
    # an auditor: a user's ib-ndr.toml serving AMD only was blamed on the shipped
    # h100-sxm.toml alone, the file that caused it never named
    net = _copy(tmp_path, "hardware/networks/ib-ndr", "hardware/networks/ib-ndr",
                ('accelerator_vendors = ["NVIDIA", "AMD"]', 'accelerator_vendors = ["AMD"]'))
    with pytest.raises(CatalogError, match=re.escape(
            f"h100-sxm.toml: scale_out_network 'ib-ndr' (network file {net}) serves AMD "
            "accelerators only, not vendor 'NVIDIA'")):
        planner.estimate(params="7B", tokens="100B", gpus=64, gpu="h100-sxm", catalog=tmp_path)
    net.write_text(net.read_text().replace('tier = "scale_out"', 'tier = "scale_up"')
                   .replace('accelerator_vendors = ["AMD"]',
                            'accelerator_vendors = ["NVIDIA", "AMD"]'))
    with pytest.raises(CatalogError, match=re.escape(
            f"scale_out_network 'ib-ndr' (network file {net}) is a scale_up network")):
        planner.estimate(params="7B", tokens="100B", gpus=64, gpu="h100-sxm", catalog=tmp_path)


# --- 5. a missing vendor ---------------------------------------------------------------------

def test_a_missing_vendor_is_named_before_the_network_it_cannot_serve(tmp_path):
    # was: "scale_up_network 'acmelink' serves Acme accelerators only, not vendor ''"
    _copy(tmp_path, "hardware/networks/nvlink4", "hardware/networks/acmelink",
          ('tier = "scale_up"', 'tier = "scale_up"\naccelerator_vendors = ["Acme"]'))
    acc = _copy(tmp_path, "hardware/accelerators/h100-sxm", "hardware/accelerators/x1000",
                ('vendor = "NVIDIA"\n', ""),
                ('scale_up_network = "nvlink4"', 'scale_up_network = "acmelink"'))
    with pytest.raises(CatalogError) as err:
        planner.estimate(params="7B", tokens="100B", gpus=8, gpu="x1000", catalog=tmp_path)
    assert str(err.value).startswith(
        f"{acc}: vendor: missing; scale_up_network 'acmelink' serves Acme accelerators only, "
        "so the file must name its maker; accepted: vendor = \"...\"")
    assert err.value.option == f"{acc}: vendor"
    # an empty vendor is refused by the schema, as the empty text it is
    acc.write_text('vendor = ""\n' + acc.read_text())
    with pytest.raises(CatalogError, match=re.escape(f"{acc}: vendor: '' is empty")):
        load_file("accelerators", acc)


def test_a_vendor_in_another_case_attaches_to_its_fabric(tmp_path):
    # an auditor: vendor = "nvidia" in a user's file matched no NVIDIA fabric, and the message
    # offered none to attach to
    _copy(tmp_path, "hardware/accelerators/h100-sxm", "hardware/accelerators/x1000",
          ('vendor = "NVIDIA"', 'vendor = "nvidia"'))
    plan = planner.estimate(params="7B", tokens="100B", gpus=8, gpu="x1000", catalog=tmp_path,
                            alternatives=False)
    assert plan.cluster["network"] == "ib-ndr" and plan.training_days > 0


# --- 6. a user's file named as a shipped alias -----------------------------------------------

def test_a_user_file_named_as_a_shipped_alias_is_the_one_to_rename(tmp_path):
    # was: "... and an alias of .../h100-sxm.toml; remove the alias": an edit of a shipped file
    path = _copy(tmp_path, "hardware/accelerators/h100-sxm", "hardware/accelerators/h100")
    with pytest.raises(CatalogError) as err:
        catalog(tmp_path).resolve("accelerators", "h100")
    assert str(err.value) == (
        f"{path}: its key 'h100' is an alias of the shipped h100-sxm "
        f"({ROOT / 'hardware/accelerators/h100-sxm.toml'}), and a key may not be another "
        "file's alias: rename h100.toml to a key no accelerator file uses as its key or alias "
        "(planner hardware list), or name it h100-sxm.toml to replace h100-sxm")
    assert err.value.option == str(path)  # the user's file, not the shipped one
    # what it says works: named h100-sxm.toml, it replaces the shipped file (the whole file:
    # its aliases are the ones it gives), or under a key of its own it is added
    path.rename(path.with_name("h100-sxm.toml"))
    assert catalog(tmp_path).path("accelerators", "h100-sxm") == path.with_name("h100-sxm.toml")
    path.with_name("h100-sxm.toml").rename(path.with_name("h100-mine.toml"))
    cat = catalog(tmp_path)
    assert cat.accelerator("h100").key == "h100-sxm"  # the shipped alias, live again
    assert cat.accelerator("h100-mine").hbm_bytes == 80e9


# --- 7. the list columns say what plans use --------------------------------------------------

def test_hardware_list_shows_the_bandwidth_a_plan_on_the_network_uses():
    # was: aws-efa-p4d listed at its link's 12.5 GB/s, while a plan on it uses 6.25 a device
    cat = catalog()
    block = catalog_table(cat, "networks").splitlines()
    assert block[0].split()[:7] == ["network", "name", "tier", "GB/s", "per", "device", "link"]
    p4d = next(ln for ln in block if ln.startswith("aws-efa-p4d "))
    assert re.search(r"scale_out\s+6\.25\s+12\.5\s", p4d)
    assert cat.network("aws-efa-p4d").device_bytes_per_s == 6.25e9
    ndr = next(ln for ln in block if ln.startswith("ib-ndr "))
    assert re.search(r"scale_out\s+50\s+50\s", ndr)  # no device figure: its port's
    rec = {r["key"]: r for r in catalog_records(cat, ["networks"])["networks"]}
    assert rec["aws-efa-p4d"]["link_bytes_per_s"] == 12.5e9  # JSON keys unchanged
    assert rec["aws-efa-p4d"]["device_bytes_per_s"] == 6.25e9


def test_workloads_list_shows_the_files_count_beside_the_shapes():
    # was: one "params" column holding the shape's count (42dot "1.3B" read 1.44B)
    cat = catalog()
    lines = catalog_table(cat, "workloads").splitlines()
    assert "params (file)    params (shape)" in lines[0]
    dot = next(ln for ln in lines if ln.startswith("42dot-llm-plm-1.3b "))
    assert re.search(r"dense\s+1\.30B\s+1\.44B\s+24\s+2048\s", dot)
    rec = {r["key"]: r for r in catalog_records(cat, ["workloads"])["workloads"]}
    assert rec["42dot-llm-plm-1.3b"]["params"] == pytest.approx(1.44e9, rel=0.01)  # unchanged
    assert rec["42dot-llm-plm-1.3b"]["published_params"] == 1.3e9


# --- 8. an unquoted date ---------------------------------------------------------------------

def test_an_unquoted_as_of_date_reads_as_its_text_and_a_bare_year_says_quote_it(tmp_path,
                                                                               capsys):
    # was: "capex_usd_per_mw.as_of: datetime.date(2026, 6, 1) is not a text"
    path = _copy(tmp_path, SITE, "hardware/sites/s",
                 ('as_of = "2025", confidence = "V", low = 9300000',
                  'as_of = 2026-06-01, confidence = "V", low = 9300000'))
    assert load_file("sites", path).figures["capex_usd_per_mw"].as_of == "2026-06-01"
    code, out = _cli(capsys, "hardware", "show", "s", "--catalog", str(tmp_path), "--format",
                     "json")
    assert code == 0
    assert json.loads(out)["entries"]["capex_usd_per_mw"]["as_of"] == "2026-06-01"
    path = _copy(tmp_path, SITE, "hardware/sites/s",
                 ('as_of = "2025", confidence = "V", low = 9300000',
                  'as_of = 2026, confidence = "V", low = 9300000'))
    with pytest.raises(CatalogError, match=re.escape(
            'capex_usd_per_mw.as_of: 2026 is a number, not a date: quote it (as_of = "2026")')):
        load_file("sites", path)


def test_a_users_alias_that_is_a_site_key_is_the_alias_to_remove(tmp_path, capsys):
    # a review: aliases = ["us-hyperscale"] on a user's accelerator was told to rename the
    # file, which left the alias claiming the name and the same error after the rename
    acc = _copy(tmp_path, "hardware/accelerators/h100-sxm", "hardware/accelerators/mygpu",
                ("name = ", 'aliases = ["us-hyperscale"]\nname = '))
    code, out = _cli(capsys, "estimate", "--params", "8B", "--tokens", "1T", "--gpu",
                     "h100-sxm", "--catalog", str(tmp_path))
    said = re.sub(r"\s+", " ", out)
    assert code == 2 and f"remove the alias 'us-hyperscale' from {acc}" in said


# --- a folder inside a hardware folder, and several directories as one string -----------------

def test_a_file_in_a_folder_inside_a_hardware_folder_is_refused_not_skipped(tmp_path, capsys):
    # hardware/accelerators/sub/x1000.toml had been skipped without a word: "unknown
    # accelerator 'x1000'"
    _copy(tmp_path, "hardware/accelerators/h100-sxm", "hardware/accelerators/sub/x1000")
    with pytest.raises(CatalogError, match=r"holds files in hardware/accelerators/sub/, which "
                                           r"the catalog does not read: did you mean "
                                           r"hardware/accelerators/\?"):
        catalog([tmp_path])
    code, out = _cli(capsys, "estimate", "--catalog", str(tmp_path), "--params", "7B",
                     "--tokens", "1T", "--gpu", "x1000")
    assert code == 2 and "hardware/accelerators/sub/" in out


def test_the_library_takes_directories_joined_as_the_flag_does(tmp_path):
    # interface.md: the functions take the flags' inputs; --catalog A:B and PLANNER_CATALOG
    # did, planner.catalog("A:B") read "catalog directory 'A:B' does not exist"
    import os

    _copy(tmp_path, "hardware/accelerators/h100-sxm", "a/hardware/accelerators/x1000")
    _copy(tmp_path, "hardware/accelerators/h100-sxm", "b/hardware/accelerators/x2000")
    joined = catalog(f"{tmp_path / 'a'}{os.pathsep}{tmp_path / 'b'}")
    assert joined.accelerator("x1000") and joined.accelerator("x2000")
    plan = planner.estimate(params="7B", tokens="100B", gpu="x2000", gpus=64,
                            catalog=f"{tmp_path / 'a'}{os.pathsep}{tmp_path / 'b'}")
    assert plan.cluster["accelerator"] == "x2000"


def test_an_unknown_price_is_none_in_the_typed_plan_as_in_its_json(tmp_path):
    # an auditor: plan.assumptions held nan where to_dict() gave null
    text = (ROOT / "hardware/accelerators/h100-sxm.toml").read_text()
    keep = [ln for ln in text.splitlines() if not ln.startswith(
        ("aliases", "purchase_usd", "server_usd_per_device", "cloud_"))]
    path = tmp_path / "hardware/accelerators/x2000.toml"
    path.parent.mkdir(parents=True)
    path.write_text("\n".join(keep) + "\n")
    plan = planner.estimate(params="7B", tokens="100B", gpus=8, gpu="x2000", catalog=tmp_path,
                            alternatives=False)
    price = plan.assumptions["price_per_gpu_hour"]["value"]
    assert price is None and plan.to_dict()["assumptions"]["price_per_gpu_hour"]["value"] is None
    assert plan.training_days > 0


def test_a_vendor_in_another_case_runs_its_vendors_stacks_alone(tmp_path):
    # a review: vendor = "aws" attached to the AWS fabric but planned megatron-core by
    # default, and took --framework maxtext, which Trainium does not run
    _copy(tmp_path, "hardware/accelerators/trainium2", "hardware/accelerators/trn-mine",
          ('vendor = "AWS"', 'vendor = "aws"'))
    plan = planner.estimate(params="7B", tokens="100B", gpus=64, gpu="trn-mine",
                            catalog=tmp_path, alternatives=False)
    assert plan.assumptions["framework"]["value"] == "neuronx"
    with pytest.raises(planner.InputError, match="'maxtext' does not run on trn-mine"):
        planner.estimate(params="7B", tokens="100B", gpus=64, gpu="trn-mine",
                         catalog=tmp_path, framework="maxtext")


def test_a_published_row_given_by_two_files_is_refused_not_scored_twice(tmp_path, capsys):
    # a shipped workload copied under a new key kept its row ids: validate and its refit had
    # scored (and fitted the realisation on) Llama 3.1 405B's rows twice, 51 whole runs
    from planner.references import reference_rows, throughput_rows
    _copy(tmp_path, "workloads/llama3.1-405b", "workloads/my-405b")
    with pytest.raises(CatalogError, match=r"my-405b\.toml: row_id '.*' is given by "
                       r".*llama3\.1-405b\.toml too"):
        reference_rows(catalog([tmp_path]))
    code, out = _cli(capsys, "validate", "--refit", "-", "--catalog", str(tmp_path))
    assert code == 2 and "is given by" in out, out
    # the same key replaces the shipped file: its rows once
    override = tmp_path / "override"
    _copy(override.parent, "workloads/llama3.1-405b", "override/workloads/llama3.1-405b")
    ids = [ref.row_id for _, ref, _, _ in throughput_rows(catalog([override]))]
    assert len(ids) == len(set(ids))


# --- files an editor or a system leaves in a catalog folder ------------------------------------

def test_hidden_files_are_not_catalog_files(tmp_path, capsys):
    # an Emacs lock link (.#x1000.toml, pointing nowhere) had crashed every command with
    # 'internal error: FileNotFoundError'; .hidden.toml was listed as the key '.hidden'; a
    # macOS AppleDouble file (._x1000.toml) stopped the whole catalog as invalid TOML
    folder = tmp_path / "hardware/accelerators"
    _copy(tmp_path, "hardware/accelerators/h100-sxm", "hardware/accelerators/x1000")
    (folder / ".#x1000.toml").symlink_to("root@host.12345:1700000000")
    (folder / "._x1000.toml").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X")
    _copy(tmp_path, "hardware/accelerators/h100-sxm", "hardware/accelerators/.hidden")
    _copy(tmp_path, "hardware/accelerators/h100-sxm", "hardware/accelerators/.trash/x2000")
    cat = catalog([tmp_path])
    assert "x1000" in cat.keys("accelerators")
    assert not [k for k in cat.keys("accelerators") if k.startswith(".")]
    for args in (("estimate", "--params", "7B", "--tokens", "1T", "--gpus", "64", "--gpu",
                  "x1000"), ("hardware", "list"), ("workloads", "list")):
        code, out = _cli(capsys, *args, "--catalog", str(tmp_path))
        assert code == 0, out


def test_an_unreadable_catalog_file_is_refused_naming_it(tmp_path, capsys):
    # a dangling link that is not hidden is a file the user meant to be read: named, exit 2
    # (was: 'internal error: FileNotFoundError', exit 1)
    link = tmp_path / "hardware/accelerators/x1000.toml"
    link.parent.mkdir(parents=True)
    link.symlink_to(tmp_path / "gone.toml")
    code, out = _cli(capsys, "estimate", "--params", "7B", "--tokens", "1T", "--gpus", "64",
                     "--catalog", str(tmp_path))
    said = re.sub(r"\s+", " ", out)
    assert code == 2 and f"{link}: cannot read (it is a link to" in said, out
    assert "which does not exist" in said
    # a link to a folder exists: it is not a file (a review: 'which does not exist' had said)
    (tmp_path / "gone.toml").mkdir()
    code, out = _cli(capsys, "estimate", "--params", "7B", "--tokens", "1T", "--gpus", "64",
                     "--catalog", str(tmp_path))
    assert code == 2 and f"{link}: cannot read (it is not a file)" in re.sub(r"\s+", " ", out)


# --- a key the commands could never name -------------------------------------------------------

@pytest.mark.parametrize("name, alias", [("x,y", None), ("x=y", None), ("x y", None),
                                         ("x1000", "q,r"), ("x1000", "q r")])
def test_a_key_or_alias_outside_the_key_alphabet_is_refused_at_load(tmp_path, capsys, name,
                                                                    alias):
    # was: x,y.toml (or aliases = ["q,r"]) loaded and `hardware show x,y` worked, but
    # `estimate --gpu x,y` read the accelerators 'x' and 'y'; x=y.toml broke --inventory
    edits = [("name = ", f'aliases = ["{alias}"]\nname = ')] if alias else []
    path = _copy(tmp_path, "hardware/accelerators/h100-sxm", f"hardware/accelerators/{name}",
                 *edits)
    with pytest.raises(CatalogError) as err:
        catalog([tmp_path]).accelerator(name)
    assert str(path) in str(err.value)
    assert "letters, digits, '.', '_', '+', '-'" in err.value.accepted
    code, out = _cli(capsys, "hardware", "list", "--catalog", str(tmp_path))
    said = re.sub(r"\s+", " ", out)
    assert code == 2 and str(path) in said and "letters, digits" in said, out


# --- a catalog folder that is not one ----------------------------------------------------------

@pytest.mark.parametrize("file", ["hardware/accelerators", "hardware", "workloads/measurements"])
def test_a_file_where_a_catalog_folder_goes_is_refused(tmp_path, capsys, file):
    # was: hardware/accelerators as a plain file added nothing, exit 0, then 'unknown
    # accelerator'
    _copy(tmp_path, "workloads/llama3-8b", "workloads/mine")
    (tmp_path / file).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / file).write_text("")
    with pytest.raises(CatalogError, match=f"{re.escape(str(tmp_path / file))} is not a "
                                           f"folder: the catalog reads the KEY.toml files "
                                           f"inside {file}/"):
        catalog([tmp_path])
    code, out = _cli(capsys, "hardware", "list", "--catalog", str(tmp_path))
    assert code == 2 and "is not a folder" in out


@pytest.mark.parametrize("folder, says", [
    ("workloads/models", "holds files in workloads/models/, which the catalog does not read: "
                         "a workload file goes in workloads/, a source's measurements in "
                         "workloads/measurements/"),
    ("workloads/measurement", "did you mean workloads/measurements/?"),
    ("workloads/measurements/old", "did you mean workloads/measurements/?"),
    ("hardware", "did you mean hardware/accelerators/, hardware/networks/ or "
                 "hardware/sites/?"),
])
def test_files_in_a_folder_the_catalog_does_not_read_are_refused(tmp_path, capsys, folder,
                                                                 says):
    # was: workloads/models/x.toml skipped without a word (exit 0), then 'unknown workload'
    _copy(tmp_path, "workloads/llama3-8b", "workloads/mine")  # beside a folder read
    _copy(tmp_path, "workloads/llama3-8b", f"{folder}/x")
    with pytest.raises(CatalogError) as err:
        catalog([tmp_path])
    assert says in re.sub(r"\s+", " ", str(err.value))
    code, out = _cli(capsys, "workloads", "list", "--catalog", str(tmp_path))
    assert code == 2 and f"{folder}/" in out


def test_the_shipped_layouts_fleets_folder_is_left_alone(tmp_path):
    # workloads/fleets/ holds fleet files in the shipped layout (planner schedule FLEET.toml):
    # a user's copy of the layout may keep theirs there, and hidden folders are no one's
    _copy(tmp_path, "workloads/fleets/lab-3-sites", "workloads/fleets/lab")
    _copy(tmp_path, "workloads/llama3-8b", "workloads/.drafts/x")
    _copy(tmp_path, "workloads/llama3-8b", "workloads/mine")
    assert catalog([tmp_path]).workload("mine").key == "mine"


def test_workloads_show_names_a_users_measurements_file_by_its_path(tmp_path, capsys):
    # was: a user's file in place of the shipped megatron-lm measurements was labelled
    # [workloads/measurements/megatron-lm.toml], as the shipped one; only JSON said which
    mine = _copy(tmp_path, "workloads/measurements/megatron-lm",
                 "workloads/measurements/megatron-lm")
    code, out = _cli(capsys, "workloads", "show", "mcore24-gpt-1.7b", "--catalog", str(tmp_path))
    flat = re.sub(r"\s+", "", out)
    assert code == 0 and f"[{mine}]" in flat, out
    code, out = _cli(capsys, "workloads", "show", "mcore24-gpt-1.7b")  # the shipped: short
    assert code == 0 and "[workloads/measurements/megatron-lm.toml]" in re.sub(r"\s+", "", out)


def test_a_file_saved_with_a_byte_order_mark_is_told_so(tmp_path, capsys):
    # an audit: "UTF-8 with BOM" (some Windows editors' default) had read only "is not valid
    # TOML (Invalid statement (at line 1, column 1))", the cause unsaid
    path = _copy(tmp_path, "hardware/accelerators/h100-sxm", "hardware/accelerators/x1000")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    code, err = _cli(capsys, "hardware", "show", "x1000", "--catalog", str(tmp_path))
    assert code == 2 and "x1000.toml" in err and "Traceback" not in err
    assert "byte-order mark (U+FEFF, 'UTF-8 with BOM')" in err and "without one" in err
    # the same words wherever a TOML file is read (a sweep spec, a config file, a fleet)
    spec = tmp_path / "spec.toml"
    spec.write_bytes(b'\xef\xbb\xbf[fixed]\nparams = "7B"\n')
    with pytest.raises(planner.InputError, match="byte-order mark"):
        load_spec(str(spec))
