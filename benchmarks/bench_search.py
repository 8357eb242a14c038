"""Layout search speed: 1T parameters on 100,000 GPUs must search in under 2 s (issue 3).

    uv run python benchmarks/bench_search.py

Prints the number of layouts evaluated, the wall time of the search and of a whole
`planner estimate` (cluster sizing included), and layouts per second.
"""

from __future__ import annotations

import time

import planner
from planner.assumptions import DEFAULT
from planner.model.architecture import shape_for_params
from planner.model.search import SearchKey, search
from planner.plan.cluster import hardware_for


def best_of(fn, repeat=3):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> None:
    cat = planner.catalog()
    acc = cat.accelerator("h100-sxm")
    hw = hardware_for(acc, cat.network(acc.scale_up_network), cat.network(acc.scale_out_network),
                      "bf16", DEFAULT, {})
    a = shape_for_params(1e12)
    for gpus in (16_384, 100_000, 131_072):
        key = SearchKey(a, 8192, 16 * 2**20, hw, gpus)
        t, found = best_of(lambda key=key: search(key, DEFAULT))
        print(f"search 1T on {gpus:>7,} H100: {found.count:>7,} layouts in {t:6.3f} s "
              f"({found.count / t:,.0f} layouts/s), best {found.layout(found.best)}")
    t, plan = best_of(lambda: planner.estimate(params="1T", tokens="15T"), repeat=2)
    print(f"planner.estimate(params='1T', tokens='15T'): {t:.3f} s (sizing + search), "
          f"{plan.cluster['gpus']:,} GPUs, {plan.training_days:.1f} days")
    t, plan = best_of(lambda: planner.estimate(params="1T", tokens="15T", gpus=100_000), repeat=2)
    print(f"planner.estimate(params='1T', tokens='15T', gpus=100000): {t:.3f} s")


if __name__ == "__main__":
    main()
