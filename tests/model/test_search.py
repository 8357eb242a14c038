"""The layout search (planner/model/search.py): every enumerated layout is valid and every valid
one is enumerated (tp x pp x dp x cp = devices, tp inside the heads and the scale-up domain, ep
inside dp and the experts, interleaving only with m % pp == 0, fixed parts honoured, whole
sequences only); ``best_layouts`` gives ``search``'s best layout and figures whether a key is
scored alone, batched with keys of other architectures and hardware, or read back from a memo;
the states NO_FIT, NO_LAYOUT, NO_STEP and ERROR; Best.take/concat/layout; SearchKey's cached
hash."""

import dataclasses
import math
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import planner
from planner.assumptions import DEFAULT
from planner.errors import LayoutError
from planner.model import search as S
from planner.model.layouts import (
    LAYOUT_FIELDS,
    SEARCH_CP,
    SEARCH_MICROBATCH,
    SEARCH_VIRTUAL,
    SEARCH_ZERO,
    enumerate_layouts,
)
from planner.model.memory import RECOMPUTE_CODES
from planner.model.search import (
    ERROR,
    FIGURES,
    FITS,
    NO_FIT,
    NO_LAYOUT,
    NO_STEP,
    Best,
    SearchKey,
    best_layouts,
    search,
)
from planner.model.step import MEMORY_KEYS, TIME_KEYS
from planner.plan.cluster import hardware_for, networks
from planner.specs import RECOMPUTE, Architecture

CAT = planner.catalog()
ACCELERATORS = sorted(a.key for a in CAT.all("accelerators"))
# Small shapes: dense gated, dense plain with tied embeddings and odd heads, and a MoE.
DENSE = Architecture(4, 512, 8, 2, 1408, 32000)
PLAIN = Architecture(6, 768, 12, 4, 3072, 32000, "plain", True)
MOE = Architecture(4, 512, 8, 8, 1408, 32000, experts=8, top_k=2, expert_ffn=512,
                   shared_experts=1, dense_layers=1)
ARCHS = [DENSE, PLAIN, MOE]
HUGE = Architecture(80, 8192, 64, 8, 28672, 128256)  # ~70B: no layout of 1 device fits
RTOL = 1e-12


def _hardware(key: str):
    acc = CAT.accelerator(key)
    up, out = networks(CAT, acc, None)
    return hardware_for(acc, up, out, "bf16", DEFAULT, {})


HW = {k: _hardware(k) for k in ACCELERATORS}


def _divisors(n):
    return [d for d in range(1, n + 1) if n % d == 0]


def _rows(lay: dict) -> set:
    return set(zip(*(lay[k].tolist() for k in (*LAYOUT_FIELDS, "batch_seqs"))))


# --- enumerate_layouts --------------------------------------------------------------------------

def _reference(a, devices, seq_len, seqs, domain):
    """Every valid layout by brute force over the rules of the module docstring (tolerance 0)."""
    out = set()
    for tp in _divisors(devices):
        if a.heads % tp or a.kv_heads % tp or tp > domain or domain % tp:
            continue  # tp splits the heads and, in Megatron-Core, the KV heads
        if (a.ffn and (not a.experts or a.dense_layers) and a.ffn % tp) or (
                a.experts and a.expert_ffn % tp):
            continue  # ... and the FFN widths (column-parallel outputs)
        for cp in SEARCH_CP:
            if (cp > 1 and seq_len % (2 * cp)) or seq_len // cp < 1024 or devices % (tp * cp):
                continue  # load-balanced causal CP cuts the sequence in 2 x cp chunks
            for pp in _divisors(devices // (tp * cp)):
                if pp > a.layers:
                    continue
                dp = devices // (tp * cp * pp)
                for ep in _divisors(dp * cp):  # experts shard over data x context ranks
                    if (a.experts and a.experts % ep) or (not a.experts and ep != 1):
                        continue
                    for mb in SEARCH_MICROBATCH:
                        if seqs % (dp * mb):
                            continue
                        m = seqs // (dp * mb)
                        for vp in SEARCH_VIRTUAL:
                            # interleaving: at least pp microbatches (Llama 3 sec. 3.3.2)
                            # and no virtual stage empty beyond embedding and loss
                            if vp > 1 and (pp == 1 or m < pp or math.ceil(a.layers / pp) < vp
                                           or pp * vp > a.layers + 2):
                                continue
                            for rc in range(3):
                                for zero in SEARCH_ZERO:
                                    out.add((tp, pp, dp, cp, ep, mb, vp, rc, zero, seqs))
    return out


@settings(max_examples=25, deadline=None)
@given(a=st.sampled_from(ARCHS), devices=st.sampled_from([1, 2, 4, 6, 8, 12, 16, 24, 32, 64]),
       seq_len=st.sampled_from([1024, 2048, 4096, 8192]), seqs=st.sampled_from([8, 24, 64, 96]),
       domain=st.sampled_from([1, 2, 4, 8, 72]))
def test_enumerated_layouts_are_exactly_the_valid_ones(a, devices, seq_len, seqs, domain):
    lay = enumerate_layouts(a, devices, seq_len, seqs * seq_len, domain)
    expected = _reference(a, devices, seq_len, seqs, domain)
    assert _rows(lay) == expected if lay else not expected
    if not lay:
        return
    n = len(lay["tp"])
    assert len(_rows(lay)) == n  # no layout twice
    assert set(lay) == {*LAYOUT_FIELDS, "batch_seqs", "base"}
    # each recompute x ZeRO variant names the layout it is a variant of
    assert np.array_equal(lay["base"], np.repeat(np.arange(len(lay["tp"]) // 9), 9)) or \
        len(set(lay["recompute"].tolist())) * len(set(lay["zero"].tolist())) != 9
    assert all(len(v) == n and v.dtype == np.int64 for v in lay.values())
    assert np.all(lay["tp"] * lay["pp"] * lay["dp"] * lay["cp"] == devices)
    assert np.all((a.heads % lay["tp"] == 0) & (domain % lay["tp"] == 0))
    assert np.all(lay["pp"] <= a.layers)
    assert np.all((lay["dp"] * lay["cp"]) % lay["ep"] == 0)
    assert np.all(lay["ep"] == 1) if not a.experts else np.all(a.experts % lay["ep"] == 0)
    m = lay["batch_seqs"] // (lay["dp"] * lay["microbatch"])
    assert np.all(m * lay["dp"] * lay["microbatch"] == seqs)
    inter = lay["virtual_stages"] > 1
    assert np.all(m[inter] >= lay["pp"][inter]) and np.all(lay["pp"][inter] > 1)


def test_tp_beyond_the_domain_only_when_allowed():
    full = Architecture(6, 768, 12, 12, 3072, 32000, "plain", True)  # 12 KV heads
    inside = enumerate_layouts(full, 24, 2048, 48 * 2048, 4)
    beyond = enumerate_layouts(full, 24, 2048, 48 * 2048, 4, allow_tp_beyond_domain=True)
    assert sorted(set(inside["tp"].tolist())) == [1, 2, 4]
    assert sorted(set(beyond["tp"].tolist())) == [1, 2, 3, 4, 6, 12]  # divisors of 12 heads
    assert _rows(inside) < _rows(beyond)
    # 4 KV heads: a stack that splits them across tensor ranks takes tp 1, 2 or 4 only; one
    # that replicates them (MaxText, NeuronX) any divisor of the heads
    split = enumerate_layouts(PLAIN, 24, 2048, 48 * 2048, 4, allow_tp_beyond_domain=True)
    kept = enumerate_layouts(PLAIN, 24, 2048, 48 * 2048, 4, allow_tp_beyond_domain=True,
                             split_kv=False)
    assert sorted(set(split["tp"].tolist())) == [1, 2, 4]
    assert sorted(set(kept["tp"].tolist())) == [1, 2, 3, 4, 6, 12]


def test_moe_expert_parallelism_divides_dp_x_cp_and_the_experts():
    lay = enumerate_layouts(MOE, 64, 2048, 256 * 2048, 8)
    assert set(lay["ep"].tolist()) == {1, 2, 4, 8}  # divisors of 8 experts that fit some dp
    assert np.all((lay["dp"] * lay["cp"]) % lay["ep"] == 0) and np.all(8 % lay["ep"] == 0)
    # with dp = 2 only ep 1 and 2 remain
    two = enumerate_layouts(MOE, 16, 2048, 256 * 2048, 8, fixed={"tp": 8, "pp": 1, "cp": 1})
    assert set(two["dp"].tolist()) == {2} and set(two["ep"].tolist()) == {1, 2}
    # the context ranks fold into the expert groups (Megatron-Core): dp 2 x cp 2 takes ep 4
    four = enumerate_layouts(MOE, 32, 8192, 256 * 8192, 8, fixed={"tp": 8, "pp": 1, "cp": 2})
    assert set(four["dp"].tolist()) == {2} and set(four["ep"].tolist()) == {1, 2, 4}


def test_interleaving_needs_at_least_a_microbatch_per_stage():
    # 4 stages, dp 1, mb 1: m = 3 microbatches cannot fill 4 stages, so no vp > 1; m = 6 can
    # (the Llama 3 schedule "allows setting N flexibly", Llama 3 report sec. 3.3.2: 6 need not
    # be a multiple of 4 as Megatron-LM 2021 asked), up to ceil(8 layers / 4 stages) = 2
    a = Architecture(8, 512, 8, 2, 1408, 32000)
    three = enumerate_layouts(a, 4, 2048, 3 * 2048, 1, fixed={"pp": 4, "microbatch": 1})
    assert set(three["virtual_stages"].tolist()) == {1}
    six = enumerate_layouts(a, 4, 2048, 6 * 2048, 1, fixed={"pp": 4, "microbatch": 1})
    assert set(six["virtual_stages"].tolist()) == {1, 2}
    eight = enumerate_layouts(a, 4, 2048, 8 * 2048, 1, fixed={"pp": 4, "microbatch": 1})
    assert set(eight["virtual_stages"].tolist()) == {1, 2}  # ceil(8 / 4) = 2 layers per stage
    assert np.all(eight["batch_seqs"] == 8)
    # the virtual stages never exceed a stage's layers
    lay = enumerate_layouts(a, 8, 2048, 64 * 2048, 8)
    inter = lay["virtual_stages"] > 1
    assert inter.any()
    assert np.all(-(-8 // lay["pp"][inter]) >= lay["virtual_stages"][inter])


def test_fixed_parts_are_honoured_and_the_rest_searched():
    fixed = {"tp": 2, "pp": 2, "microbatch": 2, "recompute": "full", "zero": 3}
    lay = enumerate_layouts(DENSE, 16, 2048, 64 * 2048, 8, fixed=fixed)
    assert len(lay["tp"]) > 1
    for k, v in fixed.items():
        want = RECOMPUTE_CODES[v] if k == "recompute" else v
        assert set(lay[k].tolist()) == {want}, k
    assert set(lay["cp"].tolist()) == {1, 2}  # searched: 2048 / cp >= 1024
    assert np.all(lay["dp"] * lay["cp"] == 4)
    # a fixed part that leaves no room (dp 3 of 16 devices) is no layout at all
    assert enumerate_layouts(DENSE, 16, 2048, 64 * 2048, 8, fixed={"dp": 3}) == {}
    # a fixed dp that fits is kept, and cp and pp fill the rest
    dp4 = enumerate_layouts(DENSE, 16, 2048, 64 * 2048, 8, fixed={"dp": 4, "tp": 1})
    assert set(dp4["dp"].tolist()) == {4}
    assert set(zip(dp4["pp"].tolist(), dp4["cp"].tolist())) == {(4, 1), (2, 2)}


def test_batch_tolerance_moves_the_batch_to_a_multiple_of_dp_mb():
    # 100 sequences on dp 8: 8 x mb never divides 100; the nearest multiple of dp x mb is
    # taken when it is within 5%: 96 for mb 1, 2, 4 (12, 6, 3 microbatches); 128 for mb 8 and
    # 16 is 28% away, so those are left out
    lay = enumerate_layouts(DENSE, 8, 2048, 100 * 2048, 1, fixed={"pp": 1, "cp": 1},
                            batch_tolerance=0.05)
    assert set(lay["microbatch"].tolist()) == {1, 2, 4}
    assert set(lay["batch_seqs"].tolist()) == {96}
    # 102 sequences: 12.75 microbatches of 8 round to 13 (104, 2% away); 6.4 of 16 to 6 (96,
    # 5.9% away: out)
    lay = enumerate_layouts(DENSE, 8, 2048, 102 * 2048, 1, fixed={"pp": 1, "cp": 1},
                            batch_tolerance=0.05)
    assert set(lay["microbatch"].tolist()) == {1} and set(lay["batch_seqs"].tolist()) == {104}
    assert enumerate_layouts(DENSE, 8, 2048, 100 * 2048, 1, fixed={"pp": 1, "cp": 1}) == {}


@pytest.mark.parametrize("tokens, seq_len, tolerance, says", [
    (2048 * 8 + 1, 2048, 0.0, "whole number of 2048-token sequences"),
    (1000.5 * 4096, 4096, 0.0, "whole number"),
    (1024, 2048, 0.0, "whole number"),  # half a sequence
    (2048 * 8, 2048, 1.0, "batch tolerance"),
    (2048 * 8, 2048, -0.1, "batch tolerance"),
])
def test_bad_batches_raise_layout_error(tokens, seq_len, tolerance, says):
    with pytest.raises(LayoutError, match=says):
        enumerate_layouts(DENSE, 8, seq_len, tokens, 8, batch_tolerance=tolerance)


# --- best_layouts against search ----------------------------------------------------------------

keys = st.builds(
    SearchKey,
    architecture=st.sampled_from([*ARCHS, HUGE]),
    seq_len=st.sampled_from([2048, 4096]),
    global_batch_tokens=st.sampled_from([16, 48, 64, 256, 16.5]),  # sequences (16.5: ERROR)
    hardware=st.sampled_from(ACCELERATORS).map(HW.get),
    devices=st.sampled_from([1, 2, 4, 7, 8, 12, 16, 32, 64]),
    fixed=st.sampled_from([(), (("tp", 2),), (("recompute", "full"), ("zero", 1))]),
).map(lambda k: dataclasses.replace(k, global_batch_tokens=k.global_batch_tokens * k.seq_len))


def _check_against_search(best: Best, i: int, key: SearchKey, asm=DEFAULT):
    if key.global_batch_tokens % key.seq_len:
        assert best.state[i] == ERROR and best.count[i] == 0
        assert "whole number" in best.errors[i]
        with pytest.raises(LayoutError, match="whole number"):
            search(key, asm)
        return
    assert i not in best.errors
    found = search(key, asm)
    assert best.count[i] == found.count
    if found.count == 0:
        assert best.state[i] == NO_LAYOUT
        assert np.all(np.isnan(best.figures[i]))
        return
    r = found.result
    if found.best is None:
        assert best.state[i] in (NO_FIT, NO_STEP)
        mem = np.broadcast_to(r["memory_bytes"], (found.count,))
        assert best.lean_bytes[i] == pytest.approx(float(mem.min()), rel=RTOL)
        in_memory = bool(np.any(mem <= key.hardware.hbm_bytes))
        assert best.state[i] == (NO_STEP if in_memory else NO_FIT)
        assert np.all(np.isnan(best.figures[i]))
        return
    j = found.best
    assert best.state[i] == FITS
    assert best.layout(i) == found.layout(j)  # exact
    want = {"step_time_s": r["step_time_s"][j], "tokens_per_s": r["tokens_per_s"][j],
            "mfu": r["mfu"][j], "hfu": r["hfu"][j], "memory_bytes": r["memory_bytes"][j],
            "batch_seqs": found.layouts["batch_seqs"][j]}
    want.update({f"time_{k}": np.broadcast_to(r["time"][k], (found.count,))[j]
                 for k in TIME_KEYS})
    want.update({f"memory_{k}": np.broadcast_to(r["memory"][k], (found.count,))[j]
                 for k in MEMORY_KEYS})
    for name, value in want.items():
        assert best.figure(name)[i] == pytest.approx(float(value), rel=RTOL, abs=0.0), name
    assert best.figure("batch_seqs")[i] * key.seq_len <= key.global_batch_tokens * 1.05
    assert best.lean_bytes[i] <= best.figure("memory_bytes")[i]


@settings(max_examples=20, deadline=None)
@given(st.lists(keys, min_size=1, max_size=6))
def test_best_layouts_agree_with_search_alone_batched_and_from_the_memo(ks):
    # keys scored one at a time
    alone = Best.concat([best_layouts([k], DEFAULT) for k in ks])
    for i, k in enumerate(ks):
        _check_against_search(alone, i, k)
    # all at once (different architectures and hardware in one evaluate call), with a repeat
    together = best_layouts(ks + ks[:1], DEFAULT)
    memo: dict = {}
    first = best_layouts(ks, DEFAULT, memo)
    assert {("best", k, DEFAULT) for k in ks} == set(memo)
    with mock.patch.object(S, "_score", side_effect=AssertionError("scored again")):
        again = best_layouts(ks, DEFAULT, memo)
    for other in (together.take(range(len(ks))), first, again):
        np.testing.assert_array_equal(other.state, alone.state)
        np.testing.assert_array_equal(other.layouts, alone.layouts)
        np.testing.assert_array_equal(other.count, alone.count)
        np.testing.assert_allclose(other.figures, alone.figures, rtol=RTOL, atol=0)
        np.testing.assert_allclose(other.lean_bytes, alone.lean_bytes, rtol=RTOL, atol=0)
        assert other.errors == alone.errors
    np.testing.assert_array_equal(together.layouts[-1], together.layouts[0])
    assert together.state[-1] == together.state[0]


# A stack that recomputes a share of the blocks (Megatron-Core's block method): the search
# tries full:0.25/0.5/0.75 beside none, selective and full
BLOCK = dataclasses.replace(DEFAULT, block_recompute=True)


@settings(max_examples=20, deadline=None)
@given(st.lists(keys, min_size=1, max_size=4))
def test_with_block_recompute_the_best_is_still_the_fastest_that_fits(ks):
    # scoring only the first fitting variant of each recompute chain finds what scoring
    # every layout finds
    alone = Best.concat([best_layouts([k], BLOCK) for k in ks])
    for i, k in enumerate(ks):
        _check_against_search(alone, i, k, BLOCK)
    together = best_layouts(ks, BLOCK)
    np.testing.assert_array_equal(together.layouts, alone.layouts)


def test_a_share_of_the_blocks_is_searched_only_where_the_stack_can_and_none_is_pinned():
    key = dict(a=DENSE, devices=8, seq_len=2048, global_batch_tokens=64 * 2048,
               scale_up_domain=8)
    codes = lambda **kw: set(enumerate_layouts(*key.values(), **kw)["recompute"].tolist())  # noqa: E731
    assert codes() == {0, 1, 2}
    assert codes(block_recompute=True) == set(range(len(RECOMPUTE)))
    assert codes(block_recompute=True, fixed={"recompute": "full"}) == {2}
    assert S.searches_shares(BLOCK)
    assert not S.searches_shares(dataclasses.replace(BLOCK, full_recompute_fraction=0.5))
    assert not S.searches_shares(DEFAULT)


def test_equal_steps_keep_search_order_when_a_share_is_scored_beside_selective():
    # OLMoE on one MI300X at 32K tokens: ZeRO 1, 2 and 3 step alike on one device; ZeRO 1
    # fits with selective (its half share is scored beside it, slower: selective under
    # FlashAttention redoes only the norms and the activation), ZeRO 3 does not (its full gives
    # way to the half share in place); the leaner ZeRO 1 comes first, as search() has it
    acc = CAT.accelerator("mi300x")
    hw = hardware_for(acc, *networks(CAT, acc, None), "bf16", DEFAULT, {})
    k = SearchKey(CAT.workload("olmoe-1b-7b").architecture, 32768, 8 * 32768, hw, 1)
    best, found = best_layouts([k], BLOCK), search(k, BLOCK)
    assert best.layout(0) == found.layout(found.best)
    assert best.layout(0)["recompute"] == "selective" and best.layout(0)["zero"] == 1


def test_memory_tight_layout_recomputes_the_share_that_fits_and_runs_faster_than_full():
    # Llama 3.1 70B on 64 GB200, FSDP, two 8K sequences a microbatch: every block's
    # activations do not fit, all blocks recomputed do, and three quarters of them fit too
    a = CAT.workload("llama3.1-70b").architecture
    hw = hardware_for(CAT.accelerator("gb200"), *networks(CAT, CAT.accelerator("gb200"), None),
                      "fp8", DEFAULT, {})
    fixed = tuple(sorted({"tp": 1, "pp": 1, "cp": 1, "microbatch": 2, "zero": 3}.items()))
    k = SearchKey(a, 8192, 256 * 8192, hw, 64, fixed)
    plain, block = best_layouts([k], DEFAULT), best_layouts([k], BLOCK)
    assert plain.layout(0)["recompute"] == "full"
    assert block.layout(0)["recompute"] == "full:0.75"
    assert block.figure("step_time_s")[0] < plain.figure("step_time_s")[0]
    assert block.figure("memory_bytes")[0] > plain.figure("memory_bytes")[0]
    assert block.figure("memory_bytes")[0] <= hw.hbm_bytes
    # a quarter of the blocks redone: HFU counts a quarter of full recompute's extra forward
    model, hard = block.figure("model_flops_per_token")[0], block.figure(
        "hardware_flops_per_token")[0]
    full_hard = plain.figure("hardware_flops_per_token")[0]
    assert hard - model == pytest.approx(0.75 * (full_hard - model), rel=1e-12)


def test_scalar_and_array_scoring_give_search_answers():
    """A sizing (one workload on one hardware at many sizes) is scored with a scalar
    architecture and hardware, odd keys with arrays of them: both give search's answer."""
    sizing = [SearchKey(DENSE, 2048, 64 * 2048, HW["h100-sxm"], d) for d in (1, 2, 4, 8, 16, 32)]
    odd = [SearchKey(PLAIN, 4096, 16 * 4096, HW["b200"], 2),
           SearchKey(MOE, 2048, 64 * 2048, HW["mi300x"], 1)]
    assert sum(search(k, DEFAULT).count for k in sizing) >= S.SEARCH_ALONE_LAYOUTS
    assert sum(search(k, DEFAULT).count for k in odd) < S.SEARCH_ALONE_LAYOUTS
    scalar = []
    real = S._score

    def spy(a, seq, lay, hw, asm):
        scalar.append(np.ndim(a.layers) == 0)
        return real(a, seq, lay, hw, asm)

    ks = [odd[0], *sizing, odd[1]]
    with mock.patch.object(S, "_score", side_effect=spy):
        best = best_layouts(ks, DEFAULT)
    assert set(scalar) == {True, False}  # both ways were taken
    assert set(best.state.tolist()) == {FITS}
    for i, k in enumerate(ks):
        _check_against_search(best, i, k)


@pytest.mark.parametrize("limit", [100, 1000])
def test_groups_split_at_the_batch_limit_give_the_same_answer(limit):
    ks = [SearchKey(a, 2048, 64 * 2048, HW[g], d) for a in ARCHS for g in ("h100-sxm", "b200")
          for d in (1, 2, 8)]
    whole = best_layouts(ks, DEFAULT)
    calls = []
    real = S._score
    with mock.patch.object(S, "SCORE_BATCH_LAYOUTS", limit), \
            mock.patch.object(S, "_score", side_effect=lambda *x: calls.append(1) or real(*x)):
        split = best_layouts(ks, DEFAULT)
    assert len(calls) > 2  # cut into several evaluate calls
    np.testing.assert_array_equal(split.state, whole.state)
    np.testing.assert_array_equal(split.layouts, whole.layouts)
    np.testing.assert_allclose(split.figures, whole.figures, rtol=RTOL, atol=0)
    assert set(whole.state.tolist()) == {FITS}
    for i, k in enumerate(ks):
        _check_against_search(split, i, k)


# --- states ---------------------------------------------------------------------------------

def test_no_fit_when_the_model_is_too_large_for_memory():
    key = SearchKey(HUGE, 4096, 32 * 4096, HW["a100-40gb"], 1)
    best = best_layouts([key], DEFAULT)
    assert best.state[0] == NO_FIT and best.count[0] > 0
    assert best.lean_bytes[0] > HW["a100-40gb"].hbm_bytes * 10  # 70B params on one device
    assert np.all(np.isnan(best.figures[0])) and best.errors == {}
    assert search(key, DEFAULT).best is None


def test_no_layout_when_seven_devices_cannot_share_the_batch():
    # 7 devices: tp must divide 8 heads, pp <= 4 layers, cp in 1..32 powers of 2, so dp = 7,
    # and 7 x mb is no multiple of 8 sequences, nor within 5% of it
    key = SearchKey(DENSE, 2048, 8 * 2048, HW["h100-sxm"], 7)
    assert enumerate_layouts(DENSE, 7, 2048, 8 * 2048, 8, batch_tolerance=0.05) == {}
    best = best_layouts([key], DEFAULT)
    assert best.state[0] == NO_LAYOUT and best.count[0] == 0
    assert math.isnan(best.lean_bytes[0]) and best.errors == {}
    found = search(key, DEFAULT)
    assert found.count == 0 and found.best is None


def test_no_step_when_a_needed_bandwidth_is_unknown():
    # no scale-out bandwidth: any 16-device layout on 8-device nodes crosses nodes
    hw = dataclasses.replace(HW["h100-sxm"], scale_out_bytes_per_s=math.nan)
    key = SearchKey(DENSE, 2048, 64 * 2048, hw, 16)
    best = best_layouts([key], DEFAULT)
    assert best.state[0] == NO_STEP and best.count[0] > 0
    assert best.lean_bytes[0] <= hw.hbm_bytes
    assert search(key, DEFAULT).best is None


@pytest.mark.parametrize("devices", [1, 8])
def test_one_node_runs_without_a_scale_out_figure(devices):
    hw = dataclasses.replace(HW["h100-sxm"], scale_out_bytes_per_s=math.nan)
    best = best_layouts([SearchKey(DENSE, 2048, 64 * 2048, hw, devices)], DEFAULT)
    assert best.state[0] == FITS


def test_error_when_the_batch_is_not_whole_sequences():
    bad = SearchKey(DENSE, 2048, 2048 * 8 + 1, HW["h100-sxm"], 8)
    good = SearchKey(DENSE, 2048, 2048 * 8, HW["h100-sxm"], 8)
    memo: dict = {}
    best = best_layouts([good, bad, bad], DEFAULT, memo)
    assert best.state.tolist() == [FITS, ERROR, ERROR]
    assert set(best.errors) == {1, 2}
    assert "whole number of 2048-token sequences" in best.errors[1]
    assert best.errors[1] == best.errors[2]
    assert best.count[1] == 0 and np.all(np.isnan(best.figures[1]))
    # the error is remembered too
    again = best_layouts([bad], DEFAULT, memo)
    assert again.state[0] == ERROR and again.errors == {0: best.errors[1]}
    with pytest.raises(LayoutError):
        search(bad, DEFAULT)


def test_memo_is_per_assumptions():
    key = SearchKey(DENSE, 2048, 64 * 2048, HW["h100-sxm"], 8)
    other = DEFAULT.with_(comm_sm_fraction=20 / 132)  # compute runs on 112 of 132 SMs
    memo: dict = {}
    fast = best_layouts([key], DEFAULT, memo)
    slow = best_layouts([key], other, memo)
    assert len(memo) == 2
    assert slow.figure("step_time_s")[0] > fast.figure("step_time_s")[0]
    _check_against_search(fast, 0, key)


# --- Best -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def four():
    ks = [SearchKey(DENSE, 2048, 64 * 2048, HW["h100-sxm"], 8),
          SearchKey(DENSE, 2048, 2048 * 8 + 1, HW["h100-sxm"], 8),
          SearchKey(DENSE, 2048, 8 * 2048, HW["h100-sxm"], 7),
          SearchKey(MOE, 4096, 64 * 4096, HW["mi300x"], 16, (("recompute", "selective"),))]
    return ks, best_layouts(ks, DEFAULT)


def test_best_layout_is_a_dict_of_ints_and_the_recompute_name(four):
    _, best = four
    lay = best.layout(3)
    assert list(lay) == list(LAYOUT_FIELDS)
    assert lay["recompute"] == "selective"
    assert all(type(v) is int for k, v in lay.items() if k != "recompute")
    assert lay["tp"] * lay["pp"] * lay["dp"] * lay["cp"] == 16
    assert lay["recompute"] in RECOMPUTE
    for k in LAYOUT_FIELDS:
        want = RECOMPUTE[best.layout_part(k)[3]] if k == "recompute" else best.layout_part(k)[3]
        assert lay[k] == want
    assert best.figures.shape == (4, len(FIGURES))


def test_take_reorders_every_part_and_renumbers_errors(four):
    _, best = four
    sub = best.take([3, 1, 1])
    assert sub.state.tolist() == [FITS, ERROR, ERROR]
    np.testing.assert_array_equal(sub.layouts[0], best.layouts[3])
    np.testing.assert_array_equal(sub.figures[0], best.figures[3])
    assert sub.count.tolist() == [best.count[3], 0, 0]
    assert sub.lean_bytes[0] == best.lean_bytes[3]
    assert sub.errors == {2: best.errors[1]}  # the last position of a repeated index
    assert best.take([0, 2]).errors == {}
    assert best.take(np.array([], dtype=np.int64)).state.shape == (0,)


def test_concat_offsets_the_errors_and_keeps_the_order(four):
    _, best = four
    parts = [best.take([1]), best.take([0, 2]), best.take([3, 1])]
    whole = Best.concat(parts)
    assert whole.state.tolist() == [ERROR, FITS, NO_LAYOUT, FITS, ERROR]
    assert whole.errors == {0: best.errors[1], 4: best.errors[1]}
    np.testing.assert_array_equal(whole.layouts[[1, 3]], best.layouts[[0, 3]])
    np.testing.assert_array_equal(whole.count, best.count[[1, 0, 2, 3, 1]])
    back = whole.take([1, 0, 2, 3])
    np.testing.assert_array_equal(back.state, best.state)
    np.testing.assert_array_equal(back.figures, best.figures)
    assert back.errors == best.errors


# --- SearchKey -------------------------------------------------------------------------------

def test_search_key_hash_is_cached_and_equal_to_a_fresh_keys():
    key = SearchKey(MOE, 2048, 64.0 * 2048, _hardware("h100-sxm"), 16, (("tp", 2),), True)
    assert "_hash" not in key.__dict__
    h = hash(key)
    assert key.__dict__["_hash"] == h and hash(key) == h
    fresh = SearchKey(dataclasses.replace(MOE), 2048, 64.0 * 2048, _hardware("h100-sxm"), 16,
                      (("tp", 2),), True)
    assert fresh is not key and fresh.hardware is not key.hardware
    assert fresh == key and hash(fresh) == h
    assert {key: 1}[fresh] == 1
    assert key != dataclasses.replace(key, devices=32)
    assert key != dataclasses.replace(key, allow_tp=False)
    assert key != dataclasses.replace(key, fixed=())
    assert hash(dataclasses.replace(key, devices=32)) != h


def test_a_stack_without_interleaving_searches_one_virtual_stage():
    # DeepSpeed's pipeline engine runs plain 1F1B (frameworks.FRAMEWORKS["deepspeed"])
    a = Architecture(8, 512, 8, 2, 1408, 32000)
    lay = enumerate_layouts(a, 4, 2048, 8 * 2048, 1, fixed={"pp": 4, "microbatch": 1},
                            interleaved=False)
    assert set(lay["virtual_stages"].tolist()) == {1}
    with pytest.raises(LayoutError, match="plain 1F1B"):
        enumerate_layouts(a, 4, 2048, 8 * 2048, 1, fixed={"pp": 4, "virtual_stages": 2},
                          interleaved=False)


def test_a_pipeline_that_refuses_zero_2_and_3_is_searched_without_them():
    # was: --framework deepspeed --layout pp=4,zero=2 planned (MFU 43%), though DeepSpeed's
    # pipeline engine asserts ZeRO < 2 (deepspeed/runtime/pipe/engine.py)
    a = Architecture(8, 512, 8, 2, 1408, 32000)
    lay = enumerate_layouts(a, 8, 2048, 16 * 2048, 8, pipeline_zero_max=1)
    assert not ((lay["pp"] > 1) & (lay["zero"] > 1)).any()
    assert (lay["zero"][lay["pp"] == 1] == 3).any()  # ZeRO-3 without a pipeline stays
    with pytest.raises(LayoutError, match="zero=2 with pp=4: this stack runs ZeRO at most 1"):
        enumerate_layouts(a, 8, 2048, 16 * 2048, 8, fixed={"pp": 4, "zero": 2},
                          pipeline_zero_max=1)
    with pytest.raises(planner.InputError, match="DeepSpeed's pipeline engine refuses"):
        planner.estimate(params="7B", tokens="100B", gpus=64, framework="deepspeed",
                         layout="pp=4,zero=3")


def test_short_sequences_keep_context_parallelism_one():
    a = Architecture(8, 512, 8, 2, 1408, 32000)
    lay = enumerate_layouts(a, 8, 512, 64 * 512, 8)
    assert set(lay["cp"].tolist()) == {1}


def test_tensor_parallelism_splits_the_ffn_width_evenly():
    # was: tp=14 on TPU v5p for 1T (FFN 81,408 = 2^9 x 3 x 53): 5,814.86 columns a rank
    from planner.model.layouts import layout_problem

    a = Architecture(layers=4, hidden=1024, heads=16, kv_heads=16, ffn=2744, vocab=1000)
    assert "FFN width of 2744" in layout_problem(a, 2048, 16, {"tp": 16})
    assert layout_problem(a, 2048, 16, {"tp": 8}) is None  # 2744 = 8 x 343
    lay = enumerate_layouts(a, 64, 2048, 64 * 2048, 16)
    assert set(lay["tp"].tolist()) == {1, 2, 4, 8}
    plan = planner.estimate(params="1T", tokens="15T", gpu="tpu-v5p")
    arch = plan.to_dict()["workload"]
    assert arch["ffn"] % plan.layout["tp"] == 0


def test_layouts_rank_by_time_per_token_when_the_batch_moves():
    # 100 sequences on 8 devices: dp 4, 2, 1 keep 100, dp 8 moves to 96 (batch_tolerance 5%);
    # a step of 96 sequences is shorter without training faster, so the ranking (and the
    # best layout) go by tokens per second, not step time (they had gone by step time)
    key = SearchKey(DENSE, 2048, 100 * 2048, HW["h100-sxm"], 8, (), False)
    found = search(key, DEFAULT)
    r, seqs = found.result, found.layouts["batch_seqs"]
    fits = np.flatnonzero(r["fits"])
    assert {96, 100} <= set(seqs[fits].tolist())
    order = found.ranked(len(fits))
    assert np.all(np.diff(r["tokens_per_s"][order]) <= 0)
    assert r["tokens_per_s"][found.best] == pytest.approx(float(r["tokens_per_s"][fits].max()))
    best = best_layouts([key], DEFAULT)
    assert best.figure("tokens_per_s")[0] == pytest.approx(float(r["tokens_per_s"][found.best]))
