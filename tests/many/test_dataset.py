"""A sweep's output directory (planner/many/dataset.py): the manifest written and read back,
parts written atomically (whole or not at all, no temporary file left), part_ok, what prepare
keeps, removes and refuses, and read() returning the rows of the parts in order."""

import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from planner.many import dataset as ds
from planner.many.dataset import (
    FORMAT,
    MANIFEST,
    Manifest,
    OutputError,
    part_name,
    part_ok,
    prepare,
    read,
    write_part,
)


def _manifest(scenarios=10, chunk_rows=4, sha="a" * 64, spec=None, **kw):
    return Manifest(spec=spec or {"axes": {"params": ["7B", "13B"]}, "fixed": {"gpus": 64}},
                    spec_sha256=sha, planner_version="9.9.9", catalog_fingerprint="cafe",
                    scenarios=scenarios, chunk_rows=chunk_rows, **kw)


def _table(first, rows):
    return pa.table({"scenario": pa.array(range(first, first + rows), pa.int64()),
                     "training_days": pa.array([1.5 * i for i in range(rows)])})


def _hidden(path):
    return sorted(p.name for p in path.iterdir() if p.name.startswith("."))


# --- the manifest ---------------------------------------------------------------------------

def test_manifest_is_written_and_read_back(tmp_path):
    m = _manifest(parts={"part-00000.parquet": {"first": 0, "rows": 4}}, complete=True)
    m.save(tmp_path)
    assert sorted(os.listdir(tmp_path)) == [MANIFEST]
    data = json.loads((tmp_path / MANIFEST).read_text())
    assert data["format"] == FORMAT == "planner-sweep/1"
    assert data["spec"] == {"axes": {"params": ["7B", "13B"]}, "fixed": {"gpus": 64}}
    back = Manifest.load(tmp_path)
    assert back == m
    assert back.parts == {"part-00000.parquet": {"first": 0, "rows": 4}} and back.complete


@pytest.mark.parametrize("text", ["not json", json.dumps({"format": "other/1"}),
                                  json.dumps({"format": FORMAT, "spec": {}})])
def test_a_manifest_that_is_not_ours_is_refused(tmp_path, text):
    (tmp_path / MANIFEST).write_text(text)
    with pytest.raises(OutputError, match="not a planner sweep manifest"):
        Manifest.load(tmp_path)


def test_a_missing_manifest_is_refused(tmp_path):
    with pytest.raises(OutputError, match="choose another output directory"):
        Manifest.load(tmp_path)


# --- parts ----------------------------------------------------------------------------------

def test_write_part_is_atomic_and_carries_its_provenance(tmp_path):
    m = _manifest()
    info = write_part(tmp_path, 1, _table(4, 4), m)
    # the manifest's entry: where the part starts, its rows, and its size and SHA-256 (a
    # resume checks them: issue #17)
    assert info == {"first": 4, "rows": 4, **ds.fingerprint(tmp_path / "part-00001.parquet")}
    assert info["bytes"] == (tmp_path / "part-00001.parquet").stat().st_size
    assert sorted(os.listdir(tmp_path)) == ["part-00001.parquet"]  # no temporary file left
    t = pq.read_table(tmp_path / "part-00001.parquet")
    assert t.column("scenario").to_pylist() == [4, 5, 6, 7]
    meta = json.loads(t.schema.metadata[b"planner"])
    assert meta == {"planner_version": "9.9.9", "spec_sha256": "a" * 64,
                    "catalog_fingerprint": "cafe", "code_fingerprint": m.code_fingerprint,
                    "first_scenario": 4, "rows": 4, "spec": m.spec}
    assert part_name(1) == "part-00001.parquet" and part_name(123456) == "part-123456.parquet"


def test_a_write_that_fails_leaves_nothing_behind(tmp_path):
    target = tmp_path / "part-00000.parquet"

    def half(tmp):
        tmp.write_bytes(b"half a file")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        ds._write_atomic(target, half)
    assert os.listdir(tmp_path) == []
    # over an existing file: the old one stays whole
    write_part(tmp_path, 0, _table(0, 4), _manifest())
    before = target.read_bytes()
    with pytest.raises(OSError):
        ds._write_atomic(target, half)
    assert os.listdir(tmp_path) == ["part-00000.parquet"] and target.read_bytes() == before


def test_temporary_names_are_hidden_and_recognised(tmp_path):
    seen = []

    def spy(tmp):
        seen.append(tmp.name)
        tmp.write_text("{}")

    ds._write_atomic(tmp_path / MANIFEST, spy)
    ds._write_atomic(tmp_path / "part-00003.parquet", spy)
    assert all(n.startswith(".") and n.endswith(".tmp") for n in seen)
    assert all(ds.TEMPORARY.fullmatch(n) for n in seen)
    assert not ds.TEMPORARY.fullmatch("part-00003.parquet")
    assert sorted(os.listdir(tmp_path)) == [MANIFEST, "part-00003.parquet"]


def test_part_ok_checks_rows_spec_and_position(tmp_path):
    m = _manifest(scenarios=10, chunk_rows=4)
    write_part(tmp_path, 2, _table(8, 2), m)
    path = tmp_path / "part-00002.parquet"
    assert part_ok(path, m, 2, 2)
    assert not part_ok(path, m, 2, 4)  # the last chunk holds 2 rows, not 4
    assert not part_ok(path, m, 1, 2)  # written as chunk 2
    assert not part_ok(path, _manifest(sha="b" * 64), 2, 2)  # another spec
    assert not part_ok(path, _manifest(chunk_rows=5), 2, 2)  # other chunks
    junk = tmp_path / "part-00003.parquet"
    junk.write_bytes(b"PAR1 not really")
    assert not part_ok(junk, m, 3, 2)
    assert not part_ok(tmp_path / "part-00009.parquet", m, 9, 2)  # missing
    plain = tmp_path / "part-00004.parquet"
    pq.write_table(_table(0, 2), plain)  # parquet, but no planner metadata
    assert not part_ok(plain, m, 4, 2)


# --- prepare ----------------------------------------------------------------------------------

def test_prepare_starts_a_new_or_empty_directory(tmp_path):
    out = tmp_path / "new" / "deeper"
    m = prepare(out, _manifest(), resume=False)
    assert m.parts == {} and os.listdir(out) == [MANIFEST]
    assert Manifest.load(out) == _manifest()


@pytest.mark.parametrize("names", [["notes.txt"], ["part-1.parquet"], [".hidden"],
                                   ["data.parquet", "part-00000.parquet"]])
def test_prepare_refuses_a_directory_that_is_not_a_sweep(tmp_path, names):
    for n in names:
        (tmp_path / n).write_text("mine")
    for resume in (False, True):
        with pytest.raises(OutputError, match="not part of a planner sweep"):
            prepare(tmp_path, _manifest(), resume=resume)
    assert sorted(os.listdir(tmp_path)) == sorted(names)  # nothing touched


OS_FILES = [".DS_Store", "._part-00000.parquet", "Thumbs.db", "desktop.ini", "Desktop.ini"]


def test_prepare_keeps_and_passes_over_the_files_an_operating_system_leaves(tmp_path):
    # was: a .DS_Store Finder left refused a --resume ("holds files that are not part of a
    # planner sweep"), and a new sweep into a folder that held one
    for n in OS_FILES:
        (tmp_path / n).write_text("os")
    (tmp_path / "._manifest.json.deadbeef.tmp").write_text("{")  # ours, AppleDouble-like
    m = prepare(tmp_path, _manifest(scenarios=8, chunk_rows=4), resume=False)
    assert sorted(os.listdir(tmp_path)) == sorted([MANIFEST, *OS_FILES])
    m.parts[part_name(0)] = write_part(tmp_path, 0, _table(0, 4), m)
    m.save(tmp_path)
    kept = prepare(tmp_path, _manifest(scenarios=8, chunk_rows=4), resume=True)
    assert list(kept.parts) == [part_name(0)]
    assert sorted(os.listdir(tmp_path)) == sorted([MANIFEST, part_name(0), *OS_FILES])
    assert read(tmp_path).num_rows == 4
    (tmp_path / "notes.txt").write_text("mine")  # anything else is refused still
    with pytest.raises(OutputError, match=r"not part of a planner sweep \(notes.txt\)"):
        prepare(tmp_path, _manifest(scenarios=8, chunk_rows=4), resume=True)


def test_prepare_refuses_a_file_and_parts_without_a_manifest(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(OutputError, match="not a directory"):
        prepare(f, _manifest(), resume=False)
    orphan = tmp_path / "orphan"
    orphan.mkdir()
    write_part(orphan, 0, _table(0, 4), _manifest())
    with pytest.raises(OutputError, match=f"no {MANIFEST}"):
        prepare(orphan, _manifest(), resume=True)
    assert os.listdir(orphan) == ["part-00000.parquet"]


def test_prepare_removes_the_temporary_files_of_a_sweep_killed_before_its_manifest(tmp_path):
    (tmp_path / ".part-00000.parquet.0123abcd.tmp").write_bytes(b"half")
    (tmp_path / "._manifest.json.deadbeef.tmp").write_text("{")
    prepare(tmp_path, _manifest(), resume=False)
    assert os.listdir(tmp_path) == [MANIFEST]


def test_prepare_refuses_an_existing_sweep_without_resume_or_with_other_inputs(tmp_path):
    prepare(tmp_path, _manifest(), resume=False)
    with pytest.raises(OutputError, match="an unfinished sweep; use --resume"):
        prepare(tmp_path, _manifest(), resume=False)
    done = _manifest(complete=True)
    done.save(tmp_path)
    with pytest.raises(OutputError, match="a complete sweep"):
        prepare(tmp_path, _manifest(), resume=False)
    for other, what in ((_manifest(sha="b" * 64), "spec"), (_manifest(chunk_rows=5), "chunk size")):
        with pytest.raises(OutputError, match=f"another {what}"):
            prepare(tmp_path, other, resume=True)
    other = _manifest()
    other.catalog_fingerprint = "beef"
    with pytest.raises(OutputError, match="another catalog "):
        prepare(tmp_path, other, resume=True)
    other = _manifest()
    other.planner_version = "0.0.1"
    with pytest.raises(OutputError, match="another planner version"):
        prepare(tmp_path, other, resume=True)
    # the same version string on other code (a default assumption edited): refused too
    other = _manifest()
    other.code_fingerprint = "0123456789abcdef"
    with pytest.raises(OutputError, match="another planner code"):
        prepare(tmp_path, other, resume=True)


def test_the_code_fingerprint_is_the_package_source():
    from planner.version import code_fingerprint

    assert len(code_fingerprint()) == 16 and code_fingerprint() == code_fingerprint()


def test_resume_keeps_whole_parts_and_drops_the_rest(tmp_path):
    m = prepare(tmp_path, _manifest(scenarios=10, chunk_rows=4), resume=False)
    m.parts[part_name(0)] = write_part(tmp_path, 0, _table(0, 4), m)
    m.parts[part_name(1)] = write_part(tmp_path, 1, _table(4, 4), m)
    m.save(tmp_path)
    os.remove(tmp_path / part_name(1))  # listed, but lost
    write_part(tmp_path, 2, _table(8, 2), m)  # renamed into place, not listed yet: whole
    write_part(tmp_path, 3, _table(0, 1), m)  # not a chunk of this spec (3 x 4 > 10 rows)
    (tmp_path / ".part-00001.parquet.0a0b0c0d.tmp").write_bytes(b"half")
    kept = prepare(tmp_path, _manifest(scenarios=10, chunk_rows=4), resume=True)
    assert kept.parts == {
        part_name(0): {"first": 0, "rows": 4, **ds.fingerprint(tmp_path / part_name(0))},
        part_name(2): {"first": 8, "rows": 2, **ds.fingerprint(tmp_path / part_name(2))}}
    assert sorted(os.listdir(tmp_path)) == [MANIFEST, part_name(0), part_name(2)]
    assert Manifest.load(tmp_path).parts == kept.parts
    assert _hidden(tmp_path) == []


def test_a_part_written_after_a_resume_is_byte_for_byte_the_first_writes(tmp_path):
    # a resumed sweep reads its spec back from the manifest, whose keys are sorted: the part's
    # metadata had kept the spec's own order (fixed, axes against axes, fixed), so the part
    # differed from the uninterrupted sweep's (user audit)
    spec = {"fixed": {"gpus": 64}, "axes": {"params": ["7B", "13B"]}}
    first = prepare(tmp_path / "a", _manifest(spec=spec), resume=False)
    write_part(tmp_path / "a", 0, _table(0, 4), first)
    first.save(tmp_path / "a")
    again = Manifest.load(tmp_path / "a")
    assert list(again.spec) != list(spec)  # read back in another order
    (tmp_path / "b").mkdir()
    write_part(tmp_path / "b", 0, _table(0, 4), again)
    assert (tmp_path / "a" / part_name(0)).read_bytes() == \
        (tmp_path / "b" / part_name(0)).read_bytes()


# --- read -------------------------------------------------------------------------------------

def test_read_returns_the_rows_of_the_parts_in_order(tmp_path):
    m = prepare(tmp_path, _manifest(scenarios=10, chunk_rows=4), resume=False)
    for i, (first, rows) in reversed(list(enumerate([(0, 4), (4, 4), (8, 2)]))):
        write_part(tmp_path, i, _table(first, rows), m)  # written last part first
    (tmp_path / ".part-00003.parquet.00000000.tmp").write_bytes(b"half")  # skipped
    t = read(tmp_path)
    assert t.column("scenario").to_pylist() == list(range(10))
    assert t.column_names == ["scenario", "training_days"]
    assert read(str(tmp_path)).equals(t)


def test_read_of_an_empty_sweep_is_an_empty_table(tmp_path):
    prepare(tmp_path, _manifest(), resume=False)
    t = read(tmp_path)
    assert t.num_rows == 0 and t.num_columns == 0


def test_read_keeps_scenario_order_past_99999_parts(tmp_path):
    m = _manifest(scenarios=100001 * 2, chunk_rows=2)
    write_part(tmp_path, 99999, _table(199998, 2), m)
    write_part(tmp_path, 100000, _table(200000, 2), m)
    assert read(tmp_path).column("scenario").to_pylist() == [199998, 199999, 200000, 200001]
