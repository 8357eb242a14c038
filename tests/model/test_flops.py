"""Attention FLOPs under a sliding window (planner/model/flops.py, Architecture.attended_keys):
hand-derived counts of the keys a causal query attends."""

import pytest

from planner.model.flops import attention_flops_per_token


def test_a_sliding_window_counts_the_band_it_leaves():
    # keys a causal query attends, summed over the queries and divided by them: a window w
    # gives sum_i min(i, w) / s = (w(w+1)/2 + (s - w) w) / s, to within w/(2s) of w - w^2/(2s)
    from dataclasses import replace

    from planner.specs import Architecture

    a = Architecture(layers=34, hidden=2560, heads=8, kv_heads=4, ffn=10240, vocab=262208,
                     head_size=256)
    s, w = 32768, 1024
    windowed = replace(a, window=w, window_layers=29)
    exact = (w * (w + 1) / 2 + (s - w) * w) / s
    assert float(windowed.attended_keys(s)) == pytest.approx(
        (5 * s / 2 + 29 * exact) / 34, rel=1e-3)
    assert float(a.attended_keys(s)) == s / 2
    # the attention FLOPs scale by that share; a window past the sequence changes nothing
    share = float(windowed.attended_keys(s)) / (s / 2)
    # the full causal count by hand: 2 matmuls (scores, values) x 2 FLOPs x 3 (forward,
    # backward) = 12 x layers x the heads' width (8 x 256) x the s/2 keys a query attends
    assert float(attention_flops_per_token(a, s)) == pytest.approx(12 * 34 * (8 * 256) * s / 2,
                                                                   rel=1e-12)
    assert float(attention_flops_per_token(windowed, s)) == pytest.approx(
        share * float(attention_flops_per_token(a, s)), rel=1e-12)
    wide = replace(a, window=65536, window_layers=34)
    assert float(attention_flops_per_token(wide, s)) == float(attention_flops_per_token(a, s))
    # non-causal counts twice the causal keys
    assert float(attention_flops_per_token(windowed, s, causal=False)) == pytest.approx(
        2 * float(attention_flops_per_token(windowed, s)))
