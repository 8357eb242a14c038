"""The many-plans floor: tables of scenarios answered as columns (estimate_many), sweeps of
every combination streamed to a Parquet dataset, and budget sweeps."""
