"""The layout a user gives (--layout, a spec's or a fleet's layout), parsed and checked at the
boundary, and what to say when a device count has no layout."""

from __future__ import annotations

from ..specs import LAYOUT_ALIASES, Workload


def layout_text(fixed: dict) -> str:
    """A fixed layout as --layout takes it (mb and vp by the names a user types)."""
    short = {v: k for k, v in LAYOUT_ALIASES.items()}
    return ",".join(f"{short.get(k, k)}={v}" for k, v in fixed.items())


def smooth_below(n: int, unit: int = 1) -> int | None:
    """The largest device count below ``n``, a whole number of ``unit``s, whose only prime
    factors are 2 and 3 and whose power of two is at least its power of three (98,304 = 2^15
    x 3 below 100,000 = 2^5 x 5^5; 18,432 = 2^11 x 9 below 20,000, not 19,683 = 3^9, which
    leaves tensor and pipeline parallelism nothing to split): the count whose layouts have
    the most choice of tensor, pipeline, context and data parallelism; None when there is
    none."""
    best, p2 = None, 1
    while p2 < n:
        q = p2
        while q < n and q // p2 <= p2:
            if q % unit == 0 and (best is None or q > best):
                best = q
            q *= 3
        p2 *= 2
    return best


def no_layout_hint(w: Workload, gpus: int, fixed: dict, unit: int = 1,
                   scale_up_domain: int | None = None) -> str:
    """What a device count must allow, and, when no layout part is given, the largest count
    below it that has the most layouts (smooth_below): 50,608 = 16 x 3,163 H100 lay out no
    405B, 49,152 of them do. With the ``scale_up_domain``, that count is offered only where a
    layout exists at it; where none does, the batch is what binds (a batch of one sequence
    leaves data parallelism nothing to split), and a larger --global-batch is the way out."""
    seqs = int(w.global_batch_tokens // w.seq_len)
    smooth = None if fixed else smooth_below(gpus, unit)
    batch_bound = False
    if smooth and scale_up_domain:
        from ..model.layouts import enumerate_layouts

        if not enumerate_layouts(w.architecture, smooth, w.seq_len, w.global_batch_tokens,
                                 scale_up_domain):
            smooth, batch_bound = None, True
    a = w.architecture
    experts = (f", ep dividing dp*cp and the {a.experts} experts" if a.experts else "")
    return (f"a layout with tp*pp*dp*cp = {gpus} devices, tp dividing the {a.heads} "
            f"heads within the scale-up domain, pp <= {a.layers} layers{experts} and dp*mb "
            f"dividing the batch of {seqs} sequences"
            + (f"; {smooth:,} of them (no prime factor above 3, the rest as spares) leave the "
               f"layouts the most choice: --gpus {smooth}" if smooth else "")
            + (f"; the batch binds: {seqs:,} sequences leave data parallelism too little to "
               "split at this size or the next smooth one below, so a larger --global-batch "
               "(or fewer devices) is the way out" if batch_bound else ""))
