"""Sized scenarios in bulk (issue 15): 10,000 rows that need a cluster size (100 workload
shapes x 100 variants of price, deadline and power cap) through estimate_many, beside the same
rows at a fixed device count.

    uv run python benchmarks/bench_sized.py [--shapes 100] [--variants 100] [--check 20]

Target: within 50x the fixed rows' time. ``--check N`` compares N random rows with one
``planner.estimate`` each (they must agree to 1e-9).
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import pyarrow as pa

import planner
from planner.many.estimate_many import estimate_many


def scenarios(shapes: int, variants: int, seed: int = 0) -> pa.Table:
    """Dense models from 1B to 400B parameters on 20 tokens per parameter; per variant a
    price per device-hour ($1-4), a deadline (30-180 days) and a power cap (none, 5, 20 or
    100 MW)."""
    rng = np.random.default_rng(seed)
    params = np.repeat(np.geomspace(1e9, 4e11, shapes), variants)
    n = len(params)
    return pa.table({
        "params": params, "tokens": 20 * params,
        "price_per_gpu_hour": rng.uniform(1.0, 4.0, n),
        "deadline": rng.choice(["30d", "60d", "90d", "120d", "180d"], n),
        "power_cap": rng.choice(np.array([None, "5MW", "20MW", "100MW"], dtype=object), n)})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shapes", type=int, default=100)
    ap.add_argument("--variants", type=int, default=100)
    ap.add_argument("--check", type=int, default=20)
    args = ap.parse_args()
    table = scenarios(args.shapes, args.variants)
    t0 = time.perf_counter()
    sized = estimate_many(table, progress=False)
    t_sized = time.perf_counter() - t0
    fixed_table = table.append_column("gpus", pa.array([1024] * table.num_rows))
    t0 = time.perf_counter()
    estimate_many(fixed_table, progress=False)
    t_fixed = time.perf_counter() - t0
    ratio = t_sized / t_fixed
    print(f"{table.num_rows:,} sized rows ({args.shapes} shapes x {args.variants} variants): "
          f"{t_sized:.2f} s; the same rows at 1,024 devices: {t_fixed:.3f} s; {ratio:.1f}x "
          f"(target <= 50x: {'met' if ratio <= 50 else 'NOT met'})")
    rows = sized.to_pylist()
    pick = np.random.default_rng(1).choice(len(rows), min(args.check, len(rows)),
                                          replace=False)
    for i in pick:
        inputs = {k: v for k, v in table.slice(int(i), 1).to_pylist()[0].items()
                  if v is not None}
        plan = planner.estimate(**inputs)
        for key, want in (("training_days", plan.training_days),
                          ("cost_usd_total", (plan.cost_usd or {}).get("total")),
                          ("cluster_gpus", plan.cluster["gpus"])):
            got = rows[i][key]
            same = (got is None and want is None) or (
                got is not None and want is not None and math.isclose(got, want, rel_tol=1e-9))
            assert same, (i, key, got, want)
    print(f"{len(pick)} rows checked against planner.estimate: identical")


if __name__ == "__main__":
    main()
