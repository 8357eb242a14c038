"""Engineering defaults of many-scenario runs (planner/many/, model/search.py's batching).

These decide how fast answers come and how much memory they take, never what the answers are,
so they are not assumptions (assumptions.py): no plan reports them and ``--assume`` does not
take them. Each figure says what it trades, measured with benchmarks/bench_sweep.py.
"""


# The most scenarios a sweep spec may have unless it says otherwise (max_scenarios = N): a
# billion rows take hours at the rates benchmarks/bench_sweep.py measures and ~100 GB of
# Parquet; a spec of more is most likely an axis too many. Its own max_scenarios may raise
# it up to MAX_SWEEP_SCENARIOS_LIMIT, past which the list of chunks to answer alone would
# not fit in memory.
SWEEP_SCENARIOS = 10**9
MAX_SWEEP_SCENARIOS_LIMIT = 10**11
# What a row costs on one core where ``estimate`` answers it itself (a sized cluster, several
# accelerators, a Monte Carlo): ~3 ms where rows share their physics (docs/performance.md:
# 10,000 sized rows of 100 shapes in 28.5 s), against the columnar path's microseconds; and
# a budget question (mode = "budget": ~10 sized estimates bisected), ~0.5 s (planner budget
# --usd 1B --deadline 150d --year 2027 in 0.7-0.9 s, a process's start included). The
# refusal of a spec past the limits below says what its rows would take at these rates.
SWEEP_ESTIMATE_ROW_S = 3e-3
SWEEP_BUDGET_ROW_S = 0.5
# The most rows answered by ``estimate`` itself, and the most budget questions, a spec may
# have unless it says otherwise (max_scenarios = N): about as long as SWEEP_SCENARIOS rows on
# the columnar path (an hour or so on one core): a billion sized rows (a month) had passed
# the limit meant for microsecond rows.
SWEEP_ESTIMATE_SCENARIOS = 10**6
SWEEP_BUDGET_SCENARIOS = 10**4
# Scenarios answered together. 65,536 rows x ~140 answer columns x 8 bytes is ~75 MB per chunk,
# so a sweep of any length stays far under 1 GB per process; below ~16K rows a chunk spends
# most of its time in per-chunk Python work (measured with benchmarks/bench_sweep.py).
SWEEP_CHUNK_ROWS = 65_536
# Scenarios answered together when some rows are answered by ``estimate`` itself (a sized
# cluster, several accelerators, a Monte Carlo: ~2 ms a row, not ~2 us): 10,000 sized rows
# (benchmarks/bench_sized.py) took 22.3 s in one chunk of 65,536, 17.2 s in chunks of 2,048
# and 18.2 s against 20.1 s with the rows shuffled (the layout searches are shared beyond a
# chunk), and a chunk of 65,536 such rows peaked at 1.26 GB; 2,048 rows give ``--workers``
# a chunk each from 4,096 scenarios up and a resume loses seconds.
SWEEP_ESTIMATE_CHUNK_ROWS = 2_048
# A (workload, cluster, layout) key with at least this many candidate layouts is scored alone
# by search.search, on a scalar architecture (~1.6x faster per layout than arrays of
# architectures); keys with fewer are scored together in one step.evaluate call.
SEARCH_ALONE_LAYOUTS = 512
# Candidate layouts scored by one step.evaluate call (~80 arrays of 8 bytes each per layout:
# ~20 MB), however many keys a chunk brings: a sizing's rounds bring tens of thousands, and
# half of 65,536 keeps the step and memory models' temporaries nearer the cache (10,000 sized
# rows, benchmarks/bench_sized.py: ~9% less time at 32,768 than at 65,536, 16,384 no faster).
SCORE_BATCH_LAYOUTS = 32_768
# Scored keys kept between chunks (~0.3 KB each, ~60 MB at most); past it they are dropped and
# scored again when met.
SCORE_CACHE_KEYS = 200_000
# Assumption tables (one per workload, accelerator, network and site met) and the sets of
# them a chunk's rows read, kept between chunks with each one's columns (a few KB each).
ASSUMPTION_TABLES_KEPT = 4_096
# Layout searches and sizing probes shared between the scenarios answered by estimate itself
# (no device count given), kept from chunk to chunk (a few KB each, compacted).
SHARED_SEARCHES_KEPT = 20_000
# Chunks in flight per worker (local process or Dask worker): two keep a worker busy while the
# coordinator writes the previous part; more would only hold memory.
SWEEP_INFLIGHT_PER_WORKER = 2
