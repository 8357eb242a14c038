"""Sweeps: every combination of a spec's axes, answered in chunks, streamed to Parquet.

    [fixed]                 # any estimate input, by its flag name with underscores
    tokens = "15T"
    [axes]                  # every combination of these (a product, the last axis fastest)
    params = ["70B", "405B", "1T"]
    gpus = [8192, 16384]
    [zip]                   # lists of equal length that vary together (one more axis, last)
    layout = ["tp=8,pp=8", "tp=8,pp=16"]
    global_batch = ["8M", "16M"]

[fixed] may also hold ``catalog`` (a directory, or a list, relative to the spec file) and
``assumptions`` (a table of Assumptions overrides), which hold for every scenario.

A top-level ``mode = "budget"`` (before any section) asks the inverse question instead: the
inputs are ``planner.budget``'s (usd, power_cap, deadline, gpus, max_gpus, gpu, params,
tokens, tokens_per_param, experts, top_k, shared_experts, year, ownership, site, pue,
energy_usd_per_kwh, tolerance) and each
row is inverse.budget's answer for its scenario, flattened as ``planner budget --format json``
is (the estimate columns, then inverse_*). ``mode = "estimate"`` is the default.

Scenario ``s`` is the ``s``-th element of itertools.product(*axes, zip). Chunk ``k`` holds
scenarios [k C, (k+1) C) and becomes part file ``part-0000k.parquet`` of the output directory,
with one row per scenario: ``scenario``, every input by name (quantities parsed to the SI
units in their field metadata), every output of the contract flattened with ``_``
(many.estimate_many's columns). Parts and the manifest are written so that a sweep killed at
any moment leaves whole parts only, and ``resume`` completes it (many/dataset.py); a
directory holding anything else is refused, never overwritten.

Chunks run in this process, in ``workers`` local processes, or on a Dask cluster
(``dask="local"`` or a scheduler address); every way gives the same rows, since each runs the
same ``chunk_table``.
"""

from __future__ import annotations

import math
import os
import sys
import time
import types
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from ..config import flag_text
from ..errors import CatalogError, InputError, unknown_keyword
from ..plan.fields import to_pandas
from ..plan.quantities import parse_flag
from ..progress import Progress
from ..schema import check_output_given
from ..tuning import SWEEP_INFLIGHT_PER_WORKER
from ..units import parse_int_count
from .columns import Coded
from .dataset import (
    MANIFEST,
    Manifest,
    OutputError,
    files_changed,
    locked,
    part_name,
    prepare,
    read,
    read_head,
    write_part,
)
from .scenarios import Context, context
from .spec import (  # noqa: F401 (SCHEMA: the published sweep schema's source)
    MODES,
    PARSERS,
    SCHEMA,
    UNITS,
    WHOLE,
    Spec,
    SpecError,
    check_values,
    load_spec,
)

__all__ = ["Spec", "SpecError", "OutputError", "WorkersLost", "SweepResult", "load_spec",
           "chunk_table", "sweep", "read"]


class WorkersLost(RuntimeError):
    """A sweep's worker processes were lost (a worker killed, or out of memory): not its
    input, so the command line exits 1, not 2. The parts written are kept; a resume
    completes the sweep."""


class WorkersLostAtStart(SpecError, WorkersLost):
    """Worker processes lost before any chunk was done: a WorkersLost, and from a script an
    InputError too, since the likelier cause there is the caller's (a call to sweep with
    workers not guarded by ``if __name__ == "__main__":``, which spawn's workers run again)."""

# --- one chunk --------------------------------------------------------------------------------

_CONTEXTS: dict = {}


def _context(spec: Spec) -> Context:
    """The answering context of a spec (_context_files)."""
    return _context_files(spec)[0]


def _context_files(spec: Spec) -> tuple[Context, tuple[str, dict]]:
    """(the answering context of a spec, the files it was built from: the catalog's
    fingerprint and the SHA-256 of each workload file the spec names). One context per
    process and thread (its caches of workloads, hardware and scored layouts serve every
    chunk the process answers) while those files are unchanged: a file edited between two
    sweeps of the spec in one process gets a fresh context (the second sweep had kept the
    first one's price and layer count while its manifest recorded the new catalog's
    fingerprint)."""
    import threading

    # the environment's catalog directories too: a second sweep of the spec after
    # PLANNER_CATALOG changed had answered with the first one's catalog
    key = (spec.sha256, os.environ.get("PLANNER_CATALOG", ""), threading.get_ident())
    held = _CONTEXTS.get(key)
    files = spec.workload_files()
    if held is not None and held[1] == (held[0].catalog.fingerprint(), files):
        return held
    try:
        ctx = context(list(spec.catalog) or None, spec.assumptions or None)
    except CatalogError as exc:  # the spec's key, not a flag nobody gave
        raise SpecError("[fixed] catalog", None,
                        "catalog directories (laid out like hardware/ and workloads/), "
                        "relative to the spec file", str(exc).split("; accepted:")[0]) \
            from None
    _CONTEXTS[key] = (ctx, (ctx.catalog.fingerprint(), files))  # in place of the stale one
    return _CONTEXTS[key]


def _digits(spec: Spec, start: int, stop: int) -> list[np.ndarray]:
    """Index into each axis (and the zipped block, last) of scenarios start..stop-1."""
    s = np.arange(start, stop, dtype=np.int64)
    sizes = spec.sizes
    out = []
    stride = math.prod(sizes)
    for size in sizes:
        stride //= size
        out.append((s // stride) % size)
    return out


def _coded(spec: Spec, start: int, stop: int) -> tuple[dict[str, Coded], dict[str, Coded]]:
    """(the columns the answers read, the inputs as the spec gives them): a seed reaches the
    answers only of the rows that run a Monte Carlo, and is repeated as given in every row
    (the input column had read the last seed where the answers' was unset)."""
    n = stop - start
    digits = _digits(spec, start, stop)
    cols = {k: Coded(np.zeros(n, np.int64), [v]) for k, v in spec.fixed.items()}
    for (name, values), d in zip(spec.axes, digits):
        cols[name] = Coded(d, list(values))
    for name, values in spec.zipped:
        cols[name] = Coded(digits[-1], list(values))
    given = dict(cols)
    if "seed" in cols:  # it seeds the scenarios that run a Monte Carlo, not the others
        unc = cols.get("uncertainty")
        on = np.zeros(n, bool) if unc is None else \
            np.array([bool(v) for v in unc.values] + [False])[unc.codes]
        seed = cols["seed"]
        cols["seed"] = Coded(np.where(on, seed.codes, -1), seed.values)
    return cols, given


def _input_column(name: str, c: Coded, base: str = "") -> tuple[pa.Array, str]:
    """The column of an input: quantities as the numbers estimate parses them to, text as
    text (dictionary-encoded), flags as booleans; a workload file inside the spec's directory
    ``base`` by its path relative to it, as written (its absolute path had split one workload
    in two when a resumed sweep's directory moved)."""
    values = c.value_list()
    if name == "workload" and base:
        values = [os.path.relpath(v, base) if isinstance(v, str) and os.path.isabs(v)
                  and Path(v).is_relative_to(base) else v for v in values]
    unit = UNITS.get(name, "")
    if name in PARSERS:
        parsed = np.array([PARSERS[name](v, name) for v in values])
        kind = pa.int64() if name in WHOLE else pa.float64()
        return pa.array(parsed.astype(np.int64 if name in WHOLE else float)[c.codes],
                        type=kind), unit
    if all(isinstance(v, bool) for v in values):
        return pa.array(np.array(values, dtype=bool)[c.codes]), unit
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return pa.array(np.array(values, dtype=np.int64)[c.codes]), unit
    # a list or a table as its flag's text (gpu = ["h100-sxm", "b200"]: h100-sxm,b200;
    # layout = {tp = 2, pp = 1}: pp=1,tp=2), so estimate reads a row again from its cells
    # (a table had been JSON text, which no flag takes); a table's keys sorted, as the spec's
    # hash reads them, so a resume of the table reordered writes the cells it began with
    text = [flag_text(dict(sorted(v.items())) if isinstance(v, dict) else v)
            if isinstance(v, (list, dict)) else str(v) for v in values]
    return pa.DictionaryArray.from_arrays(pa.array(c.codes.astype(np.int32)),
                                          pa.array(text, type=pa.string())), unit


def chunk_table(spec: Spec, index: int, chunk_rows: int,
                expect: tuple[str, dict] | None = None) -> pa.Table:
    """The rows of chunk ``index``: scenario ids, inputs, then every answer column.
    ``expect``: the (catalog fingerprint, workload files' SHA-256) the sweep began with; a
    chunk whose files have changed since is refused, as a resume over them is (a workload file
    edited while a sweep ran had given its later chunks another model beside a manifest that
    recorded the first)."""
    start = index * chunk_rows
    stop = min(spec.scenarios, start + chunk_rows)
    ctx, now = _context_files(spec)
    if expect is not None and now != tuple(expect):
        what = (files_changed(expect[1], now[1]) or "the catalog files "
                f"(fingerprint {expect[0]}, now {now[0]})")
        raise SpecError("spec", spec.base, "the files a sweep began with, unchanged until it "
                        "ends", f"reads files that changed while it ran: {what}")
    cols, given = _coded(spec, start, stop)
    answers = MODES[spec.mode][1](ctx, cols, stop - start).table()
    arrays = [pa.array(np.arange(start, stop, dtype=np.int64))]
    fields = [pa.field("scenario", pa.int64(), metadata={"unit": ""})]
    for name in spec.inputs:
        arr, unit = _input_column(name, given[name], spec.base)
        arrays.append(arr)
        fields.append(pa.field(name, arr.type, metadata={"unit": unit}))
    arrays += answers.columns
    fields += list(answers.schema)
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


# --- the output directory ---------------------------------------------------------------------

# --- running ----------------------------------------------------------------------------------

@dataclass
class SweepResult:
    """Where the dataset is and what this call did."""

    path: Path | None
    scenarios: int
    parts: int
    written: int       # parts this call answered and wrote
    kept: int          # parts already there (resume)
    seconds: float
    table: pa.Table | None = None  # the rows, when no output directory was given

    def read(self) -> pa.Table:
        """The whole dataset as one pyarrow Table, in scenario order."""
        if self.table is not None:
            return self.table
        return read(self.path)

    def to_frame(self):
        """The whole dataset as a pandas DataFrame, in scenario order (text answers as
        categoricals)."""
        return to_pandas(self.read())

    def outcome(self) -> dict:
        """How the rows came out: {"errors": rows whose inputs were refused, "infeasible":
        rows planned but breaking a limit, "first_error": the first refusal's text or None},
        read from the error and feasible columns alone (a sweep whose every row is refused
        had said only how many scenarios it wrote)."""
        import pyarrow.compute as pc

        t = (self.table.select([c for c in ("error", "feasible")
                                if c in self.table.column_names])
             if self.table is not None else read(self.path, columns=["error", "feasible"]))
        errors = t.column("error").drop_null() if "error" in t.column_names else pa.array([])
        infeasible = (pc.sum(pc.invert(pc.fill_null(t.column("feasible"), True))).as_py() or 0
                      if "feasible" in t.column_names else 0)
        return {"errors": len(errors), "infeasible": int(infeasible),
                "first_error": errors[0].as_py() if len(errors) else None}

    def __repr__(self) -> str:
        where = str(self.path) if self.path is not None else "in memory"
        return (f"SweepResult({self.scenarios:,} scenarios in {self.parts:,} parts, {where}; "
                f"{self.written:,} written now, {self.kept:,} kept; {self.seconds:,.1f} s)")

    def _repr_html_(self) -> str:
        """A notebook's view: where the rows are, and the first few of them."""
        from html import escape

        # the first part's first rows: a display reads no more than it shows (it had read a
        # 500,000-row dataset whole, 0.8 GB, to show five)
        head = (self.table if self.table is not None else read_head(self.path, 5)).slice(0, 5)
        cols = [c for c in ("scenario", *head.column_names[1:9]) if c in head.column_names]
        preview = head.select(cols).to_pylist()
        rows = "".join("<tr>" + "".join(f"<td>{escape(str(r[c]))}</td>" for c in cols)
                       + "</tr>" for r in preview)
        return (f"<div><p>{escape(repr(self))}</p><table><thead><tr>"
                + "".join(f"<th>{escape(c)}</th>" for c in cols)
                + f"</tr></thead><tbody>{rows}</tbody></table>"
                f"<p>first {len(preview)} rows, {len(cols)} of {head.num_columns} columns; "
                "to_frame() gives them all</p></div>")


def _local_chunk(args) -> tuple[int, dict]:
    """A worker process: answer one chunk and write its part (returns its manifest entry)."""
    spec, index, chunk_rows, out, manifest = args
    table = chunk_table(spec, index, chunk_rows, _began_with(manifest))
    return index, write_part(Path(out), index, table, manifest)


def _began_with(manifest) -> tuple[str, dict]:
    """The files a written sweep began with, as chunk_table's ``expect``."""
    return manifest.catalog_fingerprint, dict(manifest.workload_files or {})


def _dask_chunk(spec: Spec, index: int, chunk_rows: int, fingerprint: str,
                code: str = "") -> pa.Table:
    """A Dask task: answer one chunk where the worker runs; the client writes the part."""
    from ..version import code_fingerprint

    ctx = _context(spec)
    mine = ctx.catalog.fingerprint()
    if mine != fingerprint:
        raise RuntimeError(f"worker catalogs differ from the client's ({mine} vs "
                           f"{fingerprint}): install the same planner and catalogs on every "
                           "worker")
    if code and code_fingerprint() != code:
        raise RuntimeError(f"worker planner code differs from the client's "
                           f"({code_fingerprint()} vs {code}): install the same planner on "
                           "every worker")
    return chunk_table(spec, index, chunk_rows)


def sweep(spec, out=None, *, resume: bool = False, workers: int | None = None, dask=None,
          progress=None, chunk_rows: int | None = None, **unknown) -> SweepResult:
    """Answer every scenario of ``spec`` (a TOML path, TOML text, a dict or a Spec).

    With ``out`` (a directory), stream the rows to a Parquet dataset there (part files and a
    manifest); ``resume`` completes one a killed sweep left. Without ``out``, return the rows
    in ``SweepResult.table``, answered in this process. ``workers`` local processes, or
    ``dask`` ("local" for a LocalCluster on this machine, or a scheduler address such as
    "tcp://head:8786"), answer the chunks of a sweep written to ``out`` (refused without).
    ``progress``: a bar on a terminal (None, True), nothing (False), or a callable called with
    (scenarios done, total) as they complete (planner/progress.py)."""
    wrong = unknown_keyword("planner.sweep", unknown, (
        "out", "resume", "workers", "dask", "progress", "chunk_rows"))
    if wrong is not None:  # as estimate says it, not Python's TypeError
        raise wrong
    from ..version import __version__, code_fingerprint

    resume = parse_flag(resume, "resume")
    if resume and out is None:  # it had answered in memory, as if nothing were to resume
        raise InputError("resume", resume, "resume=True with out, the directory of the "
                         "sweep to complete", "has no output directory to resume")

    check_output_given(out, "out", "a directory for the part files and the manifest (a new "
                       "or empty one), or None for the rows in memory")
    t0 = time.perf_counter()
    spec = load_spec(spec)
    # None: not given (one process here; a local Dask cluster's own default)
    workers = parse_int_count(workers, "--workers") if workers is not None else None
    ctx = _context(spec)
    check_values(spec, ctx)
    if chunk_rows is not None:
        chunk_rows = parse_int_count(chunk_rows, "chunk_rows")
    elif resume and out is not None and (Path(out) / MANIFEST).is_file():
        # a resume continues in the chunks the sweep began with (its manifest says which),
        # whatever size a call gives by default (it had been refused: "another chunk size")
        try:
            chunk_rows = Manifest.load(Path(out)).chunk_rows
        except OutputError:
            chunk_rows = spec.chunk_rows  # a damaged manifest: prepare() names it
    else:
        chunk_rows = spec.chunk_rows
    total = spec.scenarios
    n_parts = max(1, math.ceil(total / chunk_rows))
    if dask is not None and out is None:  # it had been ignored, the sweep run here
        raise SpecError("--dask", dask, "an output directory (out) with it: Dask workers "
                        "answer the chunks a sweep writes", "needs an output directory")
    if (workers or 1) > 1 and out is None:  # it had been ignored, the sweep run here
        raise SpecError("--workers", workers, "an output directory (out) with it: worker "
                        "processes answer the chunks a sweep writes", "needs an output "
                        "directory")
    if dask is not None and dask != "local" and workers is not None:  # it had been ignored
        raise SpecError("--workers", workers, "--workers with --dask local (the local "
                        "cluster's processes), or none beside a scheduler address (its own "
                        "workers answer)", "sizes nothing on a remote Dask cluster")
    with Progress(progress, total, "scenarios", "scenario") as bar:
        if out is None:
            tables = []
            began = _context_files(spec)[1]
            for k in range(n_parts):
                tables.append(chunk_table(spec, k, chunk_rows, began))
                bar.update(tables[-1].num_rows)
            return SweepResult(None, total, n_parts, n_parts, 0, time.perf_counter() - t0,
                               pa.concat_tables(tables))
        # a trailing separator says a directory is meant, whatever its name's suffix (Path
        # drops it: -o out.csv/ had been refused as a CSV file)
        named_dir = str(out).endswith(("/", os.sep))
        out = Path(out)
        manifest = Manifest(spec=spec.record(), spec_sha256=spec.sha256,
                            planner_version=__version__,
                            catalog_fingerprint=ctx.catalog.fingerprint(), scenarios=total,
                            chunk_rows=chunk_rows, code_fingerprint=code_fingerprint(),
                            catalog_dirs=[str(r) for r in ctx.catalog.roots[1:]],
                            workload_files=spec.workload_files())
        try:
            with locked(out, named_dir):
                return _write(spec, out, manifest, resume, n_parts, total, chunk_rows, workers,
                              dask, bar, t0)
        except OSError as exc:  # a full disk, a folder made read-only meanwhile
            raise OutputError(f"{out}: cannot write the sweep ({exc.strerror or exc}); free "
                              "space or choose another output directory, then --resume") from None


def _write(spec, out, manifest, resume, n_parts, total, chunk_rows, workers, dask, bar,
           t0) -> SweepResult:
    """Answer the chunks the output directory lacks and write them (sweep, with the lock);
    ``bar`` (planner/progress.py) counts the rows done."""
    manifest = prepare(out, manifest, resume)
    todo = [k for k in range(n_parts) if part_name(k) not in manifest.parts]
    kept = n_parts - len(todo)
    bar.update(sum(p["rows"] for p in manifest.parts.values()))

    def record(index: int, entry: dict) -> None:
        manifest.parts[part_name(index)] = entry
        manifest.save(out)
        bar.update(entry["rows"])

    try:
        if dask is not None:
            _run_dask(spec, todo, chunk_rows, out, manifest, dask, record, workers)
        elif (workers or 1) > 1 and len(todo) > 1:
            _run_processes(spec, todo, chunk_rows, out, manifest, workers, record)
        else:
            _run_here(spec, todo, chunk_rows, out, manifest, record)
    except SpecError:
        # no scheduler there, no worker processes: a fresh sweep leaves no unfinished
        # manifest (the same call, guarded, had been refused as "an unfinished sweep")
        if not resume and not manifest.parts:
            (out / MANIFEST).unlink(missing_ok=True)
        raise
    manifest.complete = len(manifest.parts) == n_parts
    manifest.save(out)
    # absolute, so the result still reads its rows after the caller changes directory
    return SweepResult(Path(out).resolve(), total, n_parts, len(todo), kept,
                       time.perf_counter() - t0)


def _run_here(spec, todo, chunk_rows, out, manifest, record) -> None:
    """Answer chunks in this process; a writer thread encodes and writes the previous part
    meanwhile (Parquet encoding releases the GIL), one part in flight at most."""
    import concurrent.futures as cf

    with cf.ThreadPoolExecutor(1, thread_name_prefix="planner-sweep-writer") as writer:
        pending = None
        for k in todo:
            table = chunk_table(spec, k, chunk_rows, _began_with(manifest))
            if pending is not None:
                record(*pending.result())
            pending = writer.submit(lambda k=k, t=table: (k, write_part(out, k, t, manifest)))
            del table
        if pending is not None:
            record(*pending.result())


def _run_processes(spec, todo, chunk_rows, out, manifest, workers, record) -> None:
    import concurrent.futures as cf
    import multiprocessing as mp

    ctx = mp.get_context("spawn")  # no fork of a process holding Arrow's thread pools
    pending = list(todo)
    done = 0
    try:
        with cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx,
                                    initializer=_die_with, initargs=(os.getpid(),)) as pool:
            running = set()
            while pending or running:
                while pending and len(running) < workers * SWEEP_INFLIGHT_PER_WORKER:
                    k = pending.pop(0)
                    running.add(pool.submit(_local_chunk, (spec, k, chunk_rows, str(out),
                                                           manifest)))
                finished, running = cf.wait(running, return_when=cf.FIRST_COMPLETED)
                for f in finished:
                    record(*f.result())
                    done += 1
    except cf.process.BrokenProcessPool:
        # a bare BrokenProcessPool had said neither why nor what to do
        if not done:  # spawn imports the caller's script in each worker: unguarded, it sweeps
            # (or a worker died on its first chunk: both are named, neither can be told apart)
            raise WorkersLostAtStart(
                "--workers", workers, 'a script that calls planner.sweep(..., workers=N) '
                'guards the call with if __name__ == "__main__": (Python\'s spawn start '
                "method imports the script again in each worker process); from the command "
                "line, or with the guard, fewer workers (each holds its chunks in memory)",
                "lost its worker processes before any chunk was done (an unguarded script, "
                "or a worker killed or out of memory)") from None
        # not the input's fault (it had been a SpecError: exit 2, "bad input")
        raise WorkersLost(f"--workers {workers}: lost a worker process part-way (killed, or "
                          f"out of memory) after {done:,} of {len(todo):,} parts; the parts "
                          "written are kept: fewer workers (each holds its chunks in memory), "
                          "then resume=True (--resume) completes the sweep") from None


# How often a worker process looks for its parent: a sweep killed (kill -9) takes its
# workers (and their ~200 MB each) with it within this many seconds.
ORPHAN_CHECK_S = 0.5


def _die_with(parent: int) -> None:
    """A worker's first act: a daemon thread that ends the worker once its parent is gone
    (a killed parent cannot shut its pool down)."""
    import threading

    def watch():
        while os.getppid() == parent:
            time.sleep(ORPHAN_CHECK_S)
        os._exit(1)

    threading.Thread(target=watch, name="planner-orphan-watch", daemon=True).start()


def _run_dask(spec, todo, chunk_rows, out, manifest, address, record, workers=None) -> None:
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise SpecError("--dask", address, "an installed Dask: pip install "
                        "'dask[distributed]', or uv sync --extra dask in the checkout",
                        "needs dask.distributed") from None
    cluster = None
    if address == "local":
        # --workers processes where given (it had been ignored), else up to four
        cluster = LocalCluster(n_workers=workers if workers is not None else
                               max(1, min(4, os.cpu_count() or 1)),
                               threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    else:
        try:
            client = Client(address)
        except (OSError, TimeoutError, ValueError) as exc:  # no scheduler there
            raise SpecError("--dask", address, "'local' or the address of a running Dask "
                            "scheduler (tcp://HOST:8786)",
                            f"cannot be reached ({exc})") from None
    try:
        limit = max(1, sum(w.get("nthreads", 1) for w in
                           client.scheduler_info()["workers"].values())
                    * SWEEP_INFLIGHT_PER_WORKER)
        pending = list(todo)
        futures = as_completed()
        index = {}

        def submit():
            k = pending.pop(0)
            f = client.submit(_dask_chunk, spec, k, chunk_rows, manifest.catalog_fingerprint,
                              manifest.code_fingerprint, pure=False)
            index[f.key] = k
            futures.add(f)

        for _ in range(min(limit, len(pending))):
            submit()
        for f in futures:
            k = index.pop(f.key)
            record(k, write_part(out, k, f.result(), manifest))
            f.release()
            if pending:
                submit()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


class _CallableModule(types.ModuleType):
    """``planner.sweep(spec, out)`` calls ``sweep`` even once ``planner.sweep`` (this module)
    has been imported and so shadows the function of the same name in the package."""

    def __call__(self, *args, **kwargs) -> SweepResult:
        return sweep(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
