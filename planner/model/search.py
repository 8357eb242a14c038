"""Every valid layout for a cluster size, evaluated at once, and the fastest that fits.

A layout is valid when tp * pp * dp * cp = devices; tp divides the attention heads and stays
inside the scale-up domain (unless allowed to cross it); pp is at most the layer count (uneven
stages pay through ceil(L/pp) in the step model); the microbatch divides the per-replica batch;
virtual stages divide the layers of a stage and need m % pp == 0 (Megatron-LM interleaved
schedule); ep divides dp and the expert count; cp divides the sequence. Recompute and ZeRO stage
are searched too. The enumeration is built with numpy, then one call of ``step.evaluate``
scores every layout.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..assumptions import Assumptions
from .memory import RECOMPUTE_CODES
from .step import Hardware, evaluate

LAYOUT_FIELDS = ("tp", "pp", "dp", "cp", "ep", "microbatch", "virtual_stages", "recompute",
                 "zero")
SEARCH_MICROBATCH = (1, 2, 4, 8, 16)
SEARCH_VIRTUAL = (1, 2, 4, 8)
SEARCH_CP = (1, 2, 4, 8, 16, 32)
SEARCH_ZERO = (1, 2, 3)


class LayoutError(ValueError):
    """A layout that cannot run on the given cluster (names the part that is wrong)."""


def _divisors(n: int, limit: int | None = None) -> list[int]:
    n = int(n)
    small = [d for d in range(1, int(n ** 0.5) + 1) if n % d == 0]
    found = sorted(set(small + [n // d for d in small]))
    return [d for d in found if limit is None or d <= limit]


def parse_layout(text: str | dict | None) -> dict:
    """'tp=8,pp=16,recompute=full' -> {'tp': 8, 'pp': 16, 'recompute': 'full'} (strict)."""
    if text is None or text == "":
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
    aliases = {"mb": "microbatch", "vp": "virtual_stages", "microbatch": "microbatch",
               "virtual_stages": "virtual_stages"}
    out = {}
    for k, v in items:
        k = aliases.get(k, k)
        if k not in LAYOUT_FIELDS:
            raise LayoutError(f"unknown layout part '{k}'; accepted: tp, pp, dp, cp, ep, mb, vp, "
                              "recompute, zero")
        if k == "recompute":
            if str(v) not in RECOMPUTE_CODES:
                raise LayoutError(f"recompute must be none, selective or full, got '{v}'")
            out[k] = str(v)
            continue
        try:
            iv = int(str(v))
        except ValueError:
            raise LayoutError(f"{k} must be a whole number, got '{v}'") from None
        if k == "zero" and iv not in (0, 1, 2, 3):
            raise LayoutError(f"zero must be 0, 1, 2 or 3, got '{v}'")
        if k != "zero" and iv < 1:
            raise LayoutError(f"{k} must be at least 1, got '{v}'")
        out[k] = iv
    return out


def enumerate_layouts(a, devices: int, seq_len: int, global_batch_tokens: float,
                      scale_up_domain: int, fixed: dict | None = None,
                      allow_tp_beyond_domain: bool = False, batch_tolerance: float = 0.0) -> dict:
    """All valid layouts as a dict of equal-length int arrays (recompute as 0/1/2).

    ``batch_seqs`` is each layout's global batch in sequences: the requested one when dp x mb
    divides it, else the nearest multiple of dp x mb within ``batch_tolerance`` (relative)."""
    fixed = dict(fixed or {})
    seqs = global_batch_tokens / seq_len
    if abs(seqs - round(seqs)) > 1e-9 or seqs < 1:
        raise LayoutError(f"the global batch ({global_batch_tokens:.0f} tokens) must be a whole "
                          f"number of {seq_len}-token sequences")
    if not 0.0 <= batch_tolerance < 1.0:
        raise LayoutError(f"batch tolerance must be in [0, 1), got {batch_tolerance}")
    seqs = int(round(seqs))
    # tp divides the heads and tiles the scale-up domain (so no group straddles two domains).
    if "tp" in fixed:
        tps = [fixed["tp"]]
    elif allow_tp_beyond_domain:
        tps = _divisors(a.heads)
    else:
        tps = [t for t in _divisors(a.heads, scale_up_domain) if scale_up_domain % t == 0]
    cps = [fixed["cp"]] if "cp" in fixed else [c for c in SEARCH_CP if seq_len % c == 0
                                               and seq_len // c >= 1024]
    mbs = [fixed["microbatch"]] if "microbatch" in fixed else list(SEARCH_MICROBATCH)
    vps = [fixed["virtual_stages"]] if "virtual_stages" in fixed else list(SEARCH_VIRTUAL)
    rcs = ([RECOMPUTE_CODES[fixed["recompute"]]] if "recompute" in fixed else [0, 1, 2])
    zeros = [fixed["zero"]] if "zero" in fixed else list(SEARCH_ZERO)
    rows = []
    for tp in tps:
        for cp in cps:
            if devices % (tp * cp):
                continue
            rest = devices // (tp * cp)
            pps = [fixed["pp"]] if "pp" in fixed else _divisors(rest, a.layers)
            for pp in pps:
                if rest % pp:
                    continue
                dp = rest // pp
                if "dp" in fixed and fixed["dp"] != dp:
                    continue
                eps = ([fixed["ep"]] if "ep" in fixed else
                       [e for e in _divisors(dp) if a.experts % e == 0] if a.experts else [1])
                for ep in eps:
                    if dp % ep or (a.experts and a.experts % ep) or (not a.experts and ep != 1):
                        continue
                    for mb in mbs:
                        m = max(1, round(seqs / (dp * mb)))
                        if abs(m * dp * mb - seqs) > batch_tolerance * seqs:
                            continue
                        for vp in vps:
                            # interleaving needs m % pp == 0 (Narayanan et al. 2021,
                                            # sec. 2.2); uneven stages round up (ceil(L/pp)).
                            if vp > 1 and (pp == 1 or m % pp or -(-a.layers // pp) < vp):
                                continue
                            rows.append((tp, pp, dp, cp, ep, mb, vp, m * dp * mb))
    if not rows:
        return {}
    base = np.array(rows, dtype=np.int64)
    n, k = len(base), len(rcs) * len(zeros)
    grid = np.repeat(base, k, axis=0)
    rc = np.tile(np.repeat(np.array(rcs), len(zeros)), n)
    zero = np.tile(np.array(zeros), n * len(rcs))
    out = {name: grid[:, i] for i, name in enumerate(LAYOUT_FIELDS[:7])}
    out["recompute"] = rc
    out["zero"] = zero
    out["batch_seqs"] = grid[:, 7]
    return out


@dataclass(frozen=True)
class SearchResult:
    """The evaluated layouts, the index of the best that fits (or None) and why."""

    layouts: dict
    result: dict
    best: int | None
    count: int

    def layout(self, i: int) -> dict:
        names = {0: "none", 1: "selective", 2: "full"}
        d = {k: int(self.layouts[k][i]) for k in LAYOUT_FIELDS}
        d["recompute"] = names[d["recompute"]]
        return d

    def ranked(self, limit: int = 5) -> list[int]:
        """Indices of the fastest layouts that fit, best first."""
        fits = np.flatnonzero(self.result["fits"])
        order = fits[np.argsort(self.result["step_time_s"][fits], kind="stable")]
        return [int(i) for i in order[:limit]]


def search(a, devices: int, seq_len: int, global_batch_tokens: float, hw: Hardware,
           asm: Assumptions, fixed: dict | None = None,
           allow_tp_beyond_domain: bool = False, batch_tolerance: float = 0.0) -> SearchResult:
    """Evaluate every valid layout for ``devices`` and keep the fastest that fits in memory."""
    layouts = enumerate_layouts(a, devices, seq_len, global_batch_tokens, hw.scale_up_domain,
                                fixed, allow_tp_beyond_domain, batch_tolerance)
    if not layouts:
        return SearchResult({}, {}, None, 0)
    r = evaluate(a, seq_len, layouts["batch_seqs"] * float(seq_len), hw, layouts["tp"],
                 layouts["pp"],
                 layouts["dp"], layouts["cp"], layouts["ep"], layouts["microbatch"],
                 layouts["virtual_stages"], layouts["recompute"], layouts["zero"], asm)
    fits = r["fits"]
    best = None
    if fits.any():
        t = np.where(fits, r["step_time_s"], np.inf)
        best = int(np.argmin(t))
    return SearchResult(layouts, r, best, len(layouts["tp"]))
