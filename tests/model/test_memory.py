"""Memory per device (model/memory.py): Korthikanti et al. 2022 Table 2 reproduced, ZeRO stages
and pipeline schedules worked by hand, invariants over layouts."""

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.assumptions import DEFAULT
from planner.model.memory import (
    activation_bytes_per_layer,
    in_flight_microbatches,
    memory_breakdown,
    state_bytes,
)
from planner.specs import Architecture

# Korthikanti et al. 2022 conditions: materialised attention scores, dropout on.
KORTHIKANTI = replace(DEFAULT, flash_attention=False, dropout=True)
GPT_SHAPES = {  # Korthikanti et al. 2022, Table 3 (model configurations)
    "175B": Architecture(96, 12288, 96, 96, 4 * 12288, 51200, "plain", True),
    "530B": Architecture(105, 20480, 128, 128, 4 * 20480, 51200, "plain", True),
    "1T": Architecture(128, 25600, 160, 160, 4 * 25600, 51200, "plain", True),
}


@pytest.mark.parametrize("name", ["175B", "530B", "1T"])
def test_korthikanti_table2_per_layer(name):
    a, s, b, t = GPT_SHAPES[name], 2048, 1, 8
    sbh = s * b * a.hidden
    stored, _ = activation_bytes_per_layer(a, s, b, t, 1, 0, KORTHIKANTI)
    # Table 2, "tensor + sequence parallel": sbh/t (34 + 5as/h)
    assert stored == pytest.approx(sbh / t * (34 + 5 * a.heads * s / a.hidden))
    stored, _ = activation_bytes_per_layer(a, s, b, t, 1, 1, KORTHIKANTI)
    # Table 2, "... + selective activation recomputation": 34 sbh/t
    assert stored == pytest.approx(34 * sbh / t)
    stored, _ = activation_bytes_per_layer(a, s, b, t, 1, 2, KORTHIKANTI)
    # Full recomputation keeps each layer's input only: 2 sbh (split by t with SP)
    assert stored == pytest.approx(2 * sbh / t)


def test_korthikanti_175b_hand_worked_bytes():
    # 175B, s=2048, t=8: 2048*12288/8*(34+80) = 358.6 MB per layer; selective 107.0 MB.
    a = GPT_SHAPES["175B"]
    none, _ = activation_bytes_per_layer(a, 2048, 1, 8, 1, 0, KORTHIKANTI)
    sel, _ = activation_bytes_per_layer(a, 2048, 1, 8, 1, 1, KORTHIKANTI)
    assert none / 1e6 == pytest.approx(358.6, abs=0.1)
    assert sel / 1e6 == pytest.approx(106.95, abs=0.1)


def test_flash_attention_matches_selective_recompute_memory():
    a = GPT_SHAPES["175B"]
    flash = replace(KORTHIKANTI, flash_attention=True)
    none_flash, _ = activation_bytes_per_layer(a, 2048, 1, 8, 1, 0, flash)
    sel, _ = activation_bytes_per_layer(a, 2048, 1, 8, 1, 1, KORTHIKANTI)
    # only the fp32 log-sum-exp (4 a s b / t) is kept beyond the 34 sbh/t
    assert none_flash - sel == pytest.approx(4 * a.heads * 2048 / 8)


def test_zero_stages_hand_worked():
    # 1e9 params over 8 ranks, bf16 weights, fp32 grads, 12-byte Adam (Megatron docs).
    p, d = 1e9, 8
    assert [x / 1e9 for x in state_bytes(p, d, 0, DEFAULT)] == [2, 4, 12]
    assert [x / 1e9 for x in state_bytes(p, d, 1, DEFAULT)] == [2, 4, 1.5]
    assert [x / 1e9 for x in state_bytes(p, d, 2, DEFAULT)] == [2, 0.5, 1.5]
    assert [x / 1e9 for x in state_bytes(p, d, 3, DEFAULT)] == [0.25, 0.5, 1.5]


def test_interleaved_in_flight_factor():
    # Korthikanti sec. 4.2.3: 1 + (p-1)/(p m) for m virtual stages; 1F1B holds p microbatches.
    assert in_flight_microbatches(16, 64, 1, 8) == 16
    assert in_flight_microbatches(16, 64, 4, 8) == pytest.approx(16 * (1 + 15 / 64))
    assert in_flight_microbatches(16, 4, 1, 8) == 4


def test_uneven_virtual_chunks_hold_the_largest():
    # Interleaved 1F1B warms the first stage up with 2(p-1) + (v-1)p chunk forwards (Megatron-LM
    # schedules.py), so at the peak it holds p microbatches of every chunk plus p-1 more of the
    # first. 9 layers in 4 chunks (3, 2, 2, 2): the extra p-1 hold 3 layers, not 9/4.
    p, layers = 8, 9
    held_layers = p * layers + (p - 1) * 3
    assert in_flight_microbatches(p, 64, 4, layers) * layers == pytest.approx(held_layers)
    # never less than the equal-chunk formula, equal to it when v divides the layers
    assert in_flight_microbatches(p, 64, 3, layers) == pytest.approx(p * (1 + (p - 1) / (p * 3)))


def _mem(dp, pp=8, tp=8, zero=1, rc=1):
    a = GPT_SHAPES["175B"]
    seqs = 1536
    m = seqs / dp
    return sum(memory_breakdown(a, 2048, 1, m, tp, pp, dp, 1, 1, 1, rc, zero, DEFAULT).values())


@settings(max_examples=40, deadline=None)
@given(st.sampled_from([1, 2, 4, 8, 16]), st.sampled_from([0, 1, 2, 3]),
       st.sampled_from([0, 1, 2]), st.sampled_from([1, 2, 4, 8]))
def test_more_devices_never_raise_memory(dp, zero, rc, pp):
    # More data-parallel replicas at a fixed tp/pp never raise per-device memory.
    assert _mem(2 * dp, pp=pp, zero=zero, rc=rc) <= _mem(dp, pp=pp, zero=zero, rc=rc) + 1e-6


def test_mla_selective_recompute_drops_q_k_v_and_redoes_the_up_projections():
    # DeepSeek-V3 report sec. 3.2.3: RMSNorm and the MLA up-projections are recomputed in
    # backward, so selective recomputation keeps the latents but not Q, K, V.
    import planner
    from planner.assumptions import DEFAULT
    from planner.model.memory import activation_bytes_per_layer
    from planner.model.step import evaluate
    from planner.plan.cluster import hardware_for

    cat = planner.catalog()
    a = cat.workload("deepseek-v3").architecture
    sel, full_layer = activation_bytes_per_layer(a, 4096, 1, 1, 1, 1, DEFAULT)
    mha = replace(a, kv_lora_rank=0, q_lora_rank=0, rope_head_dim=0, v_head_dim=0)
    sel_mha, full_mha = activation_bytes_per_layer(mha, 4096, 1, 1, 1, 1, DEFAULT)
    sb, qk_w, v_w = 4096, 128 * 192, 128 * 128
    dropped = 2 * 2 * sb * qk_w + 2 * sb * v_w
    assert float(full_layer - sel) == pytest.approx(float(full_mha - sel_mha) + dropped)
    h800 = cat.accelerator("h800")
    hw = hardware_for(h800, cat.network("nvlink4"), cat.network("ib-ndr"), "fp8", DEFAULT, {})
    args = (4096, 62914560, hw, 1, 16, 128, 1, 64, 1, 1)
    none = evaluate(a, *args, 0, 1, DEFAULT)
    selective = evaluate(a, *args, 1, 1, DEFAULT)
    assert float(selective["time"]["compute"]) > float(none["time"]["compute"])
    assert float(selective["memory"]["activations"]) < float(none["memory"]["activations"])


@pytest.mark.parametrize("name", ["175B", "530B", "1T"])
def test_korthikanti_table2_without_sequence_parallelism(name):
    # Table 2, "tensor parallel (baseline)": sbh (10 + 24/t + 5as/ht); the norms' inputs and
    # outputs and the dropout masks (10 sbh) are whole on every rank
    a, s, b, t = GPT_SHAPES[name], 2048, 1, 8
    sbh = s * b * a.hidden
    no_sp = KORTHIKANTI.with_(sequence_parallel=False)
    stored, _ = activation_bytes_per_layer(a, s, b, t, 1, 0, no_sp)
    assert stored == pytest.approx(sbh * (10 + 24 / t + 5 * a.heads * s / (a.hidden * t)))
    # full recompute keeps each layer's input, whole on every rank: 2 sbh
    stored, _ = activation_bytes_per_layer(a, s, b, t, 1, 2, no_sp)
    assert stored == pytest.approx(2 * sbh)
    # on one rank there is nothing to split: the same either way
    assert activation_bytes_per_layer(a, s, b, 1, 1, 0, no_sp)[0] == pytest.approx(
        activation_bytes_per_layer(a, s, b, 1, 1, 0, KORTHIKANTI)[0])


def test_a_mixtures_dense_layers_keep_no_dispatched_tokens_and_the_heavier_stage_counts():
    # an audit: DeepSeek-V3's first three layers are dense, but every layer had been charged
    # the routed experts' inputs and FFN width; at pp 16 the first stage (3 dense + 1 MoE, 16
    # microbatches in flight) is then lighter than the second (4 MoE, 15 in flight), which
    # had not been looked at
    from planner.catalog import catalog
    from planner.model.memory import (
        RECOMPUTE_CODES,
        activation_bytes_per_layer,
        in_flight_microbatches,
        memory_breakdown,
    )

    a = catalog().workload("deepseek-v3").architecture
    sel = RECOMPUTE_CODES["selective"]
    args = (a, 4096, 1, 1, 1, sel, DEFAULT, 1.0)
    moe = activation_bytes_per_layer(*args)[0]
    dense = activation_bytes_per_layer(*args, moe_layer=False)[0]
    assert dense < moe  # no expert inputs, the dense FFN
    first = (3 * dense + moe) * in_flight_microbatches(16, 32, 1, 4)
    second = 4 * moe * in_flight_microbatches(16, 32, 1, 4, stage=1)
    assert second > first and in_flight_microbatches(16, 32, 1, 4, stage=1) == 15
    acts = memory_breakdown(a, 4096, 1, 32, 1, 16, 128, 1, 64, 1, sel, 1, DEFAULT,
                            1.0)["activations"]
    assert acts == pytest.approx(second, rel=1e-12)
    # at pp 32 (2 layers a stage) the first all-MoE stage is the third, 30 in flight (a
    # review: the second stage, 1 dense + 1 MoE, had been the last looked at)
    third = 2 * moe * in_flight_microbatches(32, 64, 1, 2, stage=2)
    assert third > (dense + moe) * in_flight_microbatches(32, 64, 1, 2, stage=1)
    assert memory_breakdown(a, 4096, 1, 64, 1, 32, 64, 1, 64, 1, sel, 1, DEFAULT,
                            1.0)["activations"] == pytest.approx(third, rel=1e-12)
    # a dense model's stages are as before: the first, with the most in flight
    d = catalog().workload("llama3.1-70b").architecture
    d_args = (d, 8192, 1, 8, 1, sel, DEFAULT)
    per = activation_bytes_per_layer(*d_args)[0]
    assert memory_breakdown(d, 8192, 1, 16, 8, 4, 2, 1, 1, 1, sel, 1, DEFAULT)[
        "activations"] == pytest.approx(per * 20 * in_flight_microbatches(4, 16, 1, 20),
                                        rel=1e-12)


def test_a_mixtures_heaviest_stage_is_its_own_states_with_its_own_activations():
    # was: the heaviest stage's states (the first: the embedding and three dense layers) were
    # added to another stage's activations (the second: four MoE layers, more microbatches of
    # dispatched tokens), DeepSeek-V3 on H800 at tp1 pp16 dp128 ep64 selective ZeRO-1 in FP8
    # reading 66.8 GB where no stage keeps more than ~61 (an audit of the memory model)
    from planner.catalog import catalog
    from planner.model.memory import memory_breakdown, stage_params

    a = catalog().workload("deepseek-v3").architecture
    args = (a, 4096, 1, 15360 // 128, 1, 16, 128, 1, 64, 1, 1, 1, DEFAULT)
    mem = memory_breakdown(*args, quantized_bytes=1.0)
    total = sum(float(v) for v in mem.values())
    # each candidate stage's own total, by hand from its parts
    per_stage = []
    for i in (0, 1, 15):
        d, e = stage_params(a, 1, 16, 64, i)
        states = (d * (DEFAULT.weight_bytes + DEFAULT.grad_bytes + DEFAULT.optimizer_bytes / 128)
                  + e * (DEFAULT.weight_bytes + DEFAULT.grad_bytes
                         + DEFAULT.optimizer_bytes / 2))
        per_stage.append(float(states))
    # the first stage holds the most parameters, the second is the heaviest overall
    assert per_stage[0] > per_stage[1]
    states = float(mem["weights"] + mem["grads"] + mem["optimizer"])
    assert states == pytest.approx(per_stage[1], rel=1e-12)  # stage 1's own states
    first_and_second = per_stage[0] + float(mem["activations"])
    assert total < first_and_second  # not stage 0's states beside stage 1's activations


def test_an_interleaved_last_stage_holds_its_warm_up_chunks_beside_the_logits():
    # Megatron-LM's interleaved schedule warms rank i up with 2(pp - i - 1) + (v - 1) pp
    # chunks: the last of 4 stages at v = 8 holds (7 x 4 + 1) / 8 = 3.625 stages' worth, the
    # first 4.375 (Korthikanti et al. 2022, sec. 4.2.3: pp (1 + (pp - 1)/(pp v))). was: the
    # last stage counted one microbatch beside its logits, so Llama 3.1 8B at tp1 pp4 vp8 with
    # full recompute read 5.88 GB of activations at vp 1 and vp 8 alike (an audit: 7.29)
    from planner.catalog import catalog
    from planner.model.memory import in_flight_microbatches, memory_breakdown

    assert in_flight_microbatches(4, 16, 8, 8, 3) == pytest.approx(29 / 8)
    assert in_flight_microbatches(4, 16, 8, 8, 0) == pytest.approx(4 * (1 + 3 / 32))
    assert in_flight_microbatches(4, 16, 1, 8, 3) == 1.0  # 1F1B: one on the last stage
    a = catalog().workload("llama3.1-8b").architecture
    plain, inter = (memory_breakdown(a, 8192, 1, 16, 1, 4, 1, 1, 1, vp, 2, 1, DEFAULT)
                    for vp in (1, 8))
    # by hand: a checkpointed block keeps its input, 2 x 8192 x 4096 bytes, 8 a stage; the
    # fp32 logits 4 x 8192 x 128,256; the layer being redone is the same in both
    block = 2 * 8192 * 4096
    logits = 4 * 8192 * 128_256
    redo = float(plain["activations"]) - (8 * block + logits)
    assert float(inter["activations"]) == pytest.approx(29 / 8 * 8 * block + logits + redo)
    assert float(inter["activations"]) / 1e9 == pytest.approx(7.29, abs=0.01)
