"""Alpha-beta times of collectives (Hockney 1994; Thakur, Rabenseifner & Gropp 2005, Table 1).

``nbytes`` is the whole buffer each device holds (all-reduce, reduce-scatter input, all-gather
output) or sends (all-to-all, point-to-point); ``bw`` is the bandwidth a device gets in that
group (bytes/s, after the achievable fraction of line rate); ``alpha`` the per-step latency (s).
A group of one costs nothing. Everything broadcasts over numpy arrays.
"""

from __future__ import annotations

import numpy as np


def _steps(n):
    return np.maximum(np.asarray(n, dtype=float) - 1.0, 0.0)


def reduce_scatter_s(nbytes, n, bw, alpha):
    """Ring reduce-scatter: (n-1) steps of nbytes/n each (Thakur et al. 2005, sec. 4)."""
    n = np.maximum(np.asarray(n, dtype=float), 1.0)
    with np.errstate(invalid="ignore"):  # a group of one costs nothing, even on a link of
        t = _steps(n) / n * nbytes / bw + _steps(n) * alpha  # unknown bandwidth (nan)
    return np.where(n > 1, t, 0.0)


def all_gather_s(nbytes, n, bw, alpha):
    """Ring all-gather: the mirror of reduce-scatter (Thakur et al. 2005, sec. 4)."""
    return reduce_scatter_s(nbytes, n, bw, alpha)


def ring_all_reduce_s(nbytes, n, bw, alpha):
    """Ring all-reduce = reduce-scatter + all-gather: 2(n-1)/n x bytes/bw + 2(n-1) alpha
    (Patarasuk & Yuan 2009; the NCCL busbw convention, nccl-tests PERFORMANCE.md)."""
    return 2.0 * reduce_scatter_s(nbytes, n, bw, alpha)


def tree_all_reduce_s(nbytes, n, bw, alpha):
    """Pipelined double binary tree all-reduce: ~2 bytes/bw, 2 log2(n) latency steps
    (Sanders, Speck & Traeff 2009; NCCL 2.4 double binary trees)."""
    n = np.maximum(np.asarray(n, dtype=float), 1.0)
    return np.where(n > 1, 2.0 * nbytes / bw + 2.0 * np.log2(n) * alpha, 0.0)


def all_reduce_s(nbytes, n, bw, alpha):
    """The faster of ring and tree, as NCCL's tuner picks (NCCL docs, NCCL_ALGO)."""
    return np.minimum(ring_all_reduce_s(nbytes, n, bw, alpha),
                      tree_all_reduce_s(nbytes, n, bw, alpha))


def all_to_all_s(nbytes, n, bw, alpha):
    """Pairwise all-to-all: each device sends (n-1)/n of its buffer (Thakur et al. 2005)."""
    return reduce_scatter_s(nbytes, n, bw, alpha)


def p2p_s(nbytes, bw, alpha):
    """One point-to-point transfer."""
    return nbytes / bw + alpha


def hierarchical_all_reduce_s(nbytes, n_inner, n_outer, bw_inner, bw_outer, alpha_inner,
                              alpha_outer):
    """Reduce-scatter inside the scale-up domain, all-reduce of the 1/n_inner shard across
    domains (each device on its own NIC, rail-optimised), all-gather inside (Jia et al. 2018,
    hierarchical all-reduce; NCCL's NVLS-tree / CollNet pattern)."""
    inner = reduce_scatter_s(nbytes, n_inner, bw_inner, alpha_inner)
    outer = all_reduce_s(nbytes / np.maximum(n_inner, 1), n_outer, bw_outer, alpha_outer)
    return 2.0 * inner + outer


def hierarchical_reduce_scatter_s(nbytes, n_inner, n_outer, bw_inner, bw_outer, alpha_inner,
                                  alpha_outer, messages=1.0):
    """Reduce-scatter (or all-gather) of ``nbytes`` over n_inner x n_outer ranks, sent as
    ``messages`` collectives. Bandwidth: inside the domain, then across domains on the
    1/n_inner shard each device's own NIC carries (one ring per rail: NCCL channels, one per
    NIC). Latency: NCCL runs reduce-scatter and all-gather as one flat ring through all n
    ranks (NCCL docs, NCCL_ALGO: Ring for ReduceScatter/AllGather), so each message takes
    n - 1 steps, each paced by its slowest hop: the inter-domain one once the ring leaves the
    domain (Thakur et al. 2005, sec. 4: (p-1) alpha per ring collective)."""
    n_inner = np.maximum(np.asarray(n_inner, dtype=float), 1.0)
    n_outer = np.maximum(np.asarray(n_outer, dtype=float), 1.0)
    inner = reduce_scatter_s(nbytes, n_inner, bw_inner, 0.0)
    outer = reduce_scatter_s(nbytes / n_inner, n_outer, bw_outer, 0.0)
    steps = _steps(n_inner * n_outer)
    with np.errstate(invalid="ignore"):
        latency = messages * steps * np.where(n_outer > 1, alpha_outer, alpha_inner)
    return inner + outer + np.where(steps > 0, latency, 0.0)
