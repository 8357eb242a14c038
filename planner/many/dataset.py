"""A sweep's output directory: Parquet part files and a manifest, written so that nothing is
ever half there.

Each part goes to a hidden temporary file, is flushed to disk and renamed into place; then the
manifest (itself replaced the same way) records it. A process killed at any moment leaves
whole parts, perhaps one the manifest does not list yet, and hidden temporary files. On resume,
``prepare`` removes the temporary files, keeps a listed part only if it is on disk as written
(the manifest records each part's rows, size and SHA-256), and keeps an unlisted one only if its
metadata says it is the whole chunk of this spec (else removes it), so the missing or damaged
chunks are answered once each. A directory holding anything else (but an operating system's
own files, ``os_file``), or another sweep, is refused, never overwritten; one sweep writes a
directory at a time (``locked``). Readers (pandas, polars, DuckDB, pyarrow.dataset) skip the
manifest and the temporary files: their names start with "_" or ".".
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

FORMAT = "planner-sweep/1"
MANIFEST = "_manifest.json"
PART = re.compile(r"part-(\d{5,})\.parquet")
TEMPORARY = re.compile(r"\.(part-\d{5,}\.parquet|_manifest\.json)\.[0-9a-f]+\.tmp")

# Files an operating system leaves in a folder it shows: macOS Finder's .DS_Store and, on a
# volume that is not a Mac's, AppleDouble ._NAME files; Windows' Thumbs.db, ehthumbs.db and
# desktop.ini (any case). Neither this sweep's nor another's: kept, never read (one had
# refused a --resume as "files that are not part of a planner sweep").
OS_FILES = frozenset({".ds_store", "thumbs.db", "ehthumbs.db", "desktop.ini"})


def os_file(name: str) -> bool:
    """Whether ``name`` is a file an operating system leaves in a folder (OS_FILES), not one
    of the sweep's hidden temporary files (._manifest.json.HEX.tmp starts as AppleDouble
    does)."""
    return (name.lower() in OS_FILES or name.startswith("._")) and not TEMPORARY.fullmatch(name)


# Names of a file a user may mean where a sweep wants a directory (-o out.csv). Not
# ".parquet": a directory of that name is a common name for a Parquet dataset.
FILE_SUFFIXES = (".csv", ".tsv", ".json", ".jsonl", ".txt", ".xlsx", ".xls")


class OutputError(ValueError):
    """An output directory the sweep will not write into (not ours, or another sweep's)."""


def part_name(index: int) -> str:
    return f"part-{index:05d}.parquet"


def _write_atomic(path: Path, write) -> None:
    """write(tmp) to a hidden temporary file beside ``path``, flush it to disk, then rename it
    into place: a reader (or a resume after kill -9) sees the whole file or none."""
    tmp = path.parent / f".{path.name}.{os.urandom(4).hex()}.tmp"
    try:
        write(tmp)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@dataclass
class Manifest:
    """What the output directory holds: the spec, where it came from, the parts written."""

    spec: dict
    spec_sha256: str
    planner_version: str
    catalog_fingerprint: str
    scenarios: int
    chunk_rows: int
    parts: dict = field(default_factory=dict)  # part -> {first, rows, bytes, sha256}
    complete: bool = False
    format: str = FORMAT
    code_fingerprint: str = ""  # version.code_fingerprint(): the planner source that ran it
    # the catalog directories read beside the shipped one, PLANNER_CATALOG's first (the
    # fingerprint alone had not said that the environment moved the rows: an auditor)
    catalog_dirs: list = field(default_factory=list)
    # each workload file the spec names (FILE.toml, config.json) -> the SHA-256 of its bytes
    # (Spec.workload_files): the spec's hash covers its path only and the catalog's
    # fingerprint its own files, so a resume after an edit had mixed two models in one dataset
    workload_files: dict = field(default_factory=dict)

    def save(self, out: Path) -> None:
        text = json.dumps(self.__dict__, indent=1, sort_keys=True, default=str)
        _write_atomic(out / MANIFEST, lambda tmp: tmp.write_text(text))
        _fsync_dir(out)

    @classmethod
    def load(cls, out: Path) -> "Manifest":
        try:
            data = json.loads((out / MANIFEST).read_text())
            if not isinstance(data, dict):
                raise TypeError("not a JSON object")
            if data.get("format") != FORMAT:
                raise ValueError(data.get("format"))
            manifest = cls(**data)
            # a hand-edited or damaged part list (a list, a string entry) had ended in an
            # internal error on --resume
            if not isinstance(manifest.parts, dict) or not all(
                    PART.fullmatch(str(k)) and isinstance(v, dict) and "rows" in v
                    for k, v in manifest.parts.items()):
                raise TypeError("its parts are not a table of part entries")
            if not isinstance(manifest.workload_files, dict):
                raise TypeError("its workload_files are not a table of digests")
            # counts a resume divides and compares by: a text or 0 had ended in a TypeError
            # or a ZeroDivisionError (exit 1, "internal error")
            for what, n in (("chunk_rows", manifest.chunk_rows),
                            ("scenarios", manifest.scenarios),
                            *((f"parts.{k}.rows", v["rows"])
                              for k, v in manifest.parts.items())):
                if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                    raise ValueError(f"its {what} is {n!r}, not a whole number of at least 1")
            return manifest
        except (OSError, ValueError, TypeError) as exc:
            raise OutputError(f"{out}: {MANIFEST} is not a planner sweep manifest ({exc}); "
                              "choose another output directory") from None


@contextmanager
def locked(out: Path, named_dir: bool = False):
    """The output directory for this sweep alone: a second writer (a second --resume while
    the first still runs) is refused, not let in to delete the first one's files. The lock
    is an flock on the directory itself (no file is left behind) and goes with the process
    however it ends, so a killed sweep leaves none. ``named_dir``: the path was typed with a
    trailing separator, so a file suffix in its name is meant (out.csv/)."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} exists and is not a directory; choose another output path")
    if not out.exists() and not named_dir and out.suffix.lower() in FILE_SUFFIXES:
        # -o out.csv had made a directory named out.csv holding Parquet
        raise OutputError(f"{out} names a {out.suffix[1:].upper()} file, but a sweep writes a "
                          f"directory of Parquet part files and {MANIFEST}: give a directory "
                          f"(-o {out.with_suffix('')}/, or -o {out}/ for that name), which "
                          "pandas, polars, DuckDB or pyarrow read as one table")
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd = os.open(out, os.O_RDONLY)
    except OSError as exc:
        raise OutputError(f"{out}: cannot write there ({exc.strerror}); choose a writable "
                          "output directory") from None
    try:
        try:
            import fcntl
        except ImportError:  # no flock (Windows): one writer at a time is the user's care
            fcntl = None
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                raise OutputError(f"{out} is being written by another sweep; wait for it to "
                                  "finish (then --resume if it was stopped), or choose another "
                                  "output directory") from None
        yield
    finally:
        os.close(fd)  # releases the lock


def prepare(out: Path, manifest: Manifest, resume: bool) -> Manifest:
    """Refuse a directory that is not ours; on resume, keep the parts already written whole
    (each listed part's size and SHA-256 against the manifest's, so a part truncated or
    swapped for another is answered again)."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} exists and is not a directory; choose another output path")
    out.mkdir(parents=True, exist_ok=True)
    names = sorted(p.name for p in out.iterdir() if not os_file(p.name))
    foreign = [n for n in names if n != MANIFEST and not PART.fullmatch(n)
               and not TEMPORARY.fullmatch(n)]
    if foreign:
        raise OutputError(f"{out} holds files that are not part of a planner sweep "
                          f"({', '.join(foreign[:3])}{', ...' if len(foreign) > 3 else ''}); "
                          "refusing to write there: choose an empty or new directory")
    if MANIFEST not in names:
        if any(PART.fullmatch(n) for n in names):
            raise OutputError(f"{out} holds part files but no {MANIFEST}; refusing to mix "
                              "sweeps: choose an empty or new directory")
        for n in names:  # temporary files of a sweep killed before its first manifest
            (out / n).unlink()
        manifest.save(out)
        return manifest
    old = Manifest.load(out)
    if not resume:
        raise OutputError(f"{out} already holds a complete sweep; choose another output "
                          "directory (--resume reads it as it is)" if old.complete else
                          f"{out} already holds an unfinished sweep; use --resume to complete "
                          "it, or choose another output directory")
    for what, mine, theirs in (("spec", manifest.spec_sha256, old.spec_sha256),
                               ("catalog", manifest.catalog_fingerprint,
                                old.catalog_fingerprint),
                               ("planner version", manifest.planner_version,
                                old.planner_version),
                               ("planner code", manifest.code_fingerprint,
                                old.code_fingerprint),
                               ("chunk size", manifest.chunk_rows, old.chunk_rows)):
        if mine != theirs:
            was = theirs if theirs != "" else "not recorded"
            raise OutputError(f"{out} holds a sweep with another {what} ({was}, now {mine}); "
                              "resume needs the same spec, workload files, catalogs and "
                              "planner: choose another output directory")
    changed = files_changed(old.workload_files, manifest.workload_files)
    if changed:
        raise OutputError(f"{out} holds a sweep whose workload file {changed} has changed "
                          "since its rows were written; resume needs the same spec, workload "
                          "files, catalogs and planner: restore the file, or choose another "
                          "output directory")
    for n in names:
        if TEMPORARY.fullmatch(n):
            (out / n).unlink()  # a part or manifest being written when the sweep died
    for n in names:
        m = PART.fullmatch(n)
        if not m or n in old.parts:
            continue
        # renamed into place, but the sweep died before the manifest said so: keep it if whole
        index = int(m.group(1))
        expect = min(old.chunk_rows, old.scenarios - index * old.chunk_rows)
        if part_ok(out / n, old, index, expect):
            old.parts[n] = {"first": index * old.chunk_rows, "rows": expect,
                            **fingerprint(out / n)}
        else:
            (out / n).unlink()
    for n, entry in list(old.parts.items()):
        if not listed_part_ok(out, n, entry, old):
            del old.parts[n]  # missing, truncated or another sweep's: answered again
            if (out / n).exists():
                (out / n).unlink()
    old.save(out)
    return old


def files_changed(before: dict, now: dict) -> str | None:
    """The first file of ``now`` ({path: SHA-256, None if unreadable}) whose digest is not
    ``before``'s, as a message names it (with both digests' heads), or None if none
    changed."""
    for path in sorted(set(before) | set(now), key=str):
        was, is_ = before.get(path, "not recorded"), now.get(path, "not named now")
        if was != is_:
            def head(d):
                return d[:16] if isinstance(d, str) and len(d) == 64 else d or "unreadable"
            return f"{path} (SHA-256 {head(was)}, now {head(is_)})"
    return None


def fingerprint(path: Path) -> dict:
    """A part file's size and SHA-256, as the manifest records them."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return {"bytes": path.stat().st_size, "sha256": digest.hexdigest()}


def listed_part_ok(out: Path, name: str, entry: dict, manifest: Manifest) -> bool:
    """A part the manifest lists is on disk as it was written: its size and SHA-256 (a
    manifest of an older planner, without them: its metadata and row count)."""
    path = out / name
    if not path.is_file():
        return False
    if "sha256" in entry:
        return path.stat().st_size == entry.get("bytes") and \
            fingerprint(path)["sha256"] == entry["sha256"]
    index = int(PART.fullmatch(name).group(1))
    return part_ok(path, manifest, index, entry.get("rows"))


def part_ok(path: Path, manifest: Manifest, index: int, rows: int) -> bool:
    try:
        meta = pq.read_metadata(path)
    except Exception:  # noqa: BLE001 - any unreadable file is simply not a part
        return False
    info = json.loads((meta.metadata or {}).get(b"planner", b"{}"))
    return (meta.num_rows == rows and info.get("spec_sha256") == manifest.spec_sha256
            and info.get("first_scenario") == index * manifest.chunk_rows)


def write_part(out: Path, index: int, table: pa.Table, manifest: Manifest) -> dict:
    name = part_name(index)
    info = {"planner_version": manifest.planner_version, "spec_sha256": manifest.spec_sha256,
            "catalog_fingerprint": manifest.catalog_fingerprint,
            "code_fingerprint": manifest.code_fingerprint,
            "first_scenario": index * manifest.chunk_rows, "rows": table.num_rows,
            "spec": manifest.spec}
    meta = dict(table.schema.metadata or {})
    meta[b"planner"] = json.dumps(info, sort_keys=True, default=str).encode()
    table = table.replace_schema_metadata(meta)
    _write_atomic(out / name, lambda tmp: pq.write_table(table, tmp, compression="zstd"))
    return {"first": index * manifest.chunk_rows, "rows": table.num_rows,
            **fingerprint(out / name)}


def read_head(out, rows: int) -> pa.Table:
    """The first ``rows`` scenarios of a sweep's output directory (from its first part)."""
    first = Path(out) / part_name(0)
    if not first.is_file():
        return read(out).slice(0, rows)
    pf = pq.ParquetFile(first)
    batch = next(pf.iter_batches(batch_size=rows), None)
    return (pa.Table.from_batches([batch], schema=pf.schema_arrow) if batch is not None
            else pf.schema_arrow.empty_table())


def read(out, columns: list | None = None) -> pa.Table:
    """A sweep's output directory as one pyarrow Table, in scenario order (``columns``: those
    alone)."""
    out = Path(out)
    # by the part's number, not its name: past 99,999 parts the names outgrow their padding
    parts = sorted((p for p in out.iterdir() if PART.fullmatch(p.name)),
                   key=lambda p: int(PART.fullmatch(p.name).group(1)))
    return (pa.concat_tables([pq.read_table(p, columns=columns) for p in parts]) if parts
            else pa.table({}))
