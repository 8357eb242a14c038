"""The layout a user gives (--layout, a spec's or a fleet's layout), parsed and checked at the
boundary, and what to say when a device count has no layout."""

from __future__ import annotations

import re

from ..errors import LayoutError
from ..model.layouts import LAYOUT_FIELDS
from ..model.memory import RECOMPUTE_CODES
from ..specs import Workload

# The layout parts a user may give, and their short names.
LAYOUT_ALIASES = {"mb": "microbatch", "vp": "virtual_stages"}


def parse_layout(text: str | dict | None) -> dict:
    """'tp=8,pp=16,recompute=full' -> {'tp': 8, 'pp': 16, 'recompute': 'full'} (strict: an
    unknown or repeated part is an error, and so is a text of no part: None is no layout)."""
    if text is None:
        return {}
    if isinstance(text, dict):
        items = list(text.items())
    else:
        items = []
        for part in str(text).split(","):
            if not part.strip():
                continue
            if "=" not in part:
                raise LayoutError(f"'{part.strip()}' is not NAME=VALUE")
            k, v = part.split("=", 1)
            items.append((k.strip().lower(), v.strip()))
        if not items:  # "" had read as no layout given, every layout searched
            raise LayoutError("the layout is empty: give the parts to fix (tp=8,pp=16), or "
                              "leave it out to search every layout")
    out: dict = {}
    for k, v in items:
        k = str(k).strip().lower()  # a table's keys as a text's ('TP' in {TP = 8})
        k = LAYOUT_ALIASES.get(k, k)
        if k not in LAYOUT_FIELDS:
            raise LayoutError(f"unknown layout part '{k}' (the parts: tp, pp, dp, cp, ep, mb, "
                              "vp, recompute, zero)")
        if k in out:
            raise LayoutError(f"{k} is given twice; give each part once")
        if k == "recompute":  # in any case, as the parts' names are ('recompute=FULL')
            word = str(v).strip().lower()
            if word not in RECOMPUTE_CODES:
                raise LayoutError("recompute must be none, selective, full or full on a share "
                                  "of the blocks (full:0.25, full:0.5, full:0.75), "
                                  f"got '{v}'")
            out[k] = word
            continue
        # ASCII digits alone: int() reads other scripts' digits ('８') and underscores too
        if isinstance(v, bool) or not re.fullmatch(r"[+-]?[0-9]+", str(v).strip(), re.ASCII):
            raise LayoutError(f"{k} must be a whole number, got '{v}'")
        iv = int(str(v))
        if k == "zero" and iv not in (0, 1, 2, 3):
            raise LayoutError(f"zero must be 0, 1, 2 or 3, got '{v}'")
        if k != "zero" and iv < 1:
            raise LayoutError(f"{k} must be at least 1, got '{v}'")
        out[k] = iv
    return out


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
