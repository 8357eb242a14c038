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
    n - 1 steps (Thakur et al. 2005, sec. 4: (p-1) alpha per ring collective), of which the
    n_outer - 1 between domains pay the inter-domain latency and the rest the domain's own
    (NCCL's tuner, src/graph/tuning.cc: (nsteps - nInterSteps) x intraLat + nInterSteps x
    interLat, nInterSteps = nNodes - 1)."""
    n_inner = np.maximum(np.asarray(n_inner, dtype=float), 1.0)
    n_outer = np.maximum(np.asarray(n_outer, dtype=float), 1.0)
    inner = reduce_scatter_s(nbytes, n_inner, bw_inner, 0.0)
    outer = reduce_scatter_s(nbytes / n_inner, n_outer, bw_outer, 0.0)
    steps = _steps(n_inner * n_outer)
    with np.errstate(invalid="ignore"):
        inter = np.minimum(n_outer - 1.0, steps)  # the ring's steps between domains
        latency = messages * (inter * alpha_outer + (steps - inter) * alpha_inner)
    return inner + outer + np.where(steps > 0, latency, 0.0)


def distinct_bins_hit(k, items, bins):
    """Expected number of ``bins`` (each holding items/bins of the ``items``) that ``k`` draws
    without replacement hit: bins x (1 - C(items - items/bins, k) / C(items, k)), the
    occupancy of the hypergeometric distribution (Feller 1968, vol. I, sec. II.6). A token's
    top-k experts under balanced routing are such draws, the ranks or domains hosting them
    the bins."""
    k = np.asarray(k, dtype=float)
    items = np.maximum(np.asarray(items, dtype=float), 1.0)
    bins = np.clip(np.asarray(bins, dtype=float), 1.0, items)
    outside = items - items / bins                     # items not in a given bin
    miss = np.ones(np.broadcast(k, items, bins).shape)  # P(a given bin is not hit)
    for i in range(int(np.max(k, initial=0.0))):
        factor = np.clip((outside - i) / np.maximum(items - i, 1.0), 0.0, 1.0)
        miss = miss * np.where(i < k, factor, 1.0)
    return bins * (1.0 - miss)


def expert_dispatch_copies(top_k, experts, inner, outer, groups=0, group_top_k=0,
                           dedup=False):
    """(copies over the scale-up fabric, copies over the scale-out fabric) a device sends per
    token when an expert-parallel group of ``inner`` ranks per scale-up domain x ``outer``
    domains dispatches each token to ``top_k`` of ``experts`` (balanced routing, experts
    spread evenly over the ranks).

    Plain all-to-all (NCCL, Megatron-Core's alltoall dispatcher) sends one copy per
    (token, expert): (n - inner)/n of the top_k copies leave the domain, (inner - 1)/n stay in
    it (n = inner x outer). A hierarchical dispatcher (DeepSeek-V3 report sec. 3.2.2; DeepEP,
    whose internode kernels Megatron-Core's flex dispatcher uses: "removes redundant tokens
    during cross-node communication", Megatron-Core MoE README) sends a token once to each
    domain hosting one of its experts, to the GPU of the same in-domain index, which forwards
    it over the scale-up fabric once to each rank hosting its experts: D (outer - 1)/outer
    copies cross domains and R (inner - 1)/inner stay inside, D and R the distinct domains and
    ranks hit (distinct_bins_hit). Group-limited routing (DeepSeek-V3 sec. 2.1.2, node-limited
    routing, M = 4 of 8 nodes; DeepSeek-V2 sec. 2.2.2, device-limited routing) picks
    ``group_top_k`` of ``groups`` expert groups first, so D is at most the domains those
    groups span: group_top_k x the domains a group spans where a group spans one or more,
    else the domains the chosen groups land in, several to a domain (distinct_bins_hit of
    group_top_k draws of the groups: 4 of 8 groups, two to each of 4 domains, span 3.14)."""
    n = inner * outer
    plain_out = top_k * (n - inner) / n
    plain_in = top_k * (inner - 1) / n
    domains = distinct_bins_hit(top_k, experts, outer)
    groups, group_top_k = np.asarray(groups, dtype=float), np.asarray(group_top_k, dtype=float)
    spanned = np.where(groups > 0, np.where(
        groups >= outer, distinct_bins_hit(group_top_k, np.maximum(groups, 1.0), outer),
        group_top_k * outer / np.maximum(groups, 1.0)), outer)
    domains = np.minimum(domains, np.minimum(spanned, outer))
    ranks = distinct_bins_hit(top_k, experts, n)
    dedup_out = domains * (outer - 1) / outer
    dedup_in = ranks * (inner - 1) / inner
    return (np.where(dedup, dedup_in, plain_in), np.where(dedup, dedup_out, plain_out))
