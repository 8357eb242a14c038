"""The step model and layout search: invariants (hypothesis) and hand-checked terms."""


import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import planner
from planner.assumptions import DEFAULT
from planner.errors import LayoutError
from planner.model.flops import model_flops_per_token
from planner.model.layouts import enumerate_layouts
from planner.model.memory import RECOMPUTE_CODES, activation_bytes_per_layer
from planner.model.search import SearchKey, search
from planner.model.step import TIME_KEYS, evaluate
from planner.plan.cluster import hardware_for
from planner.specs import Architecture, parse_layout

CAT = planner.catalog()
H100 = CAT.accelerator("h100-sxm")
HW = hardware_for(H100, CAT.network("nvlink4"), CAT.network("ib-ndr"), "bf16", DEFAULT, {})
LLAMA = CAT.workload("llama3.1-405b").architecture
SMALL = Architecture(32, 4096, 32, 8, 14336, 128256, "gated", False)
# a small MoE: the all-to-all repeats under recompute too
MOE_SMALL = Architecture(8, 2048, 16, 4, 5632, 32000, experts=8, top_k=2, expert_ffn=1408,
                         dense_layers=1)


def _eval(a, gpus_layout, gb=16 * 2**20, s=8192, **kw):
    tp, pp, dp, cp = gpus_layout
    return evaluate(a, s, gb, HW, tp, pp, dp, cp, kw.get("ep", 1), kw.get("mb", 1),
                    kw.get("vp", 1), kw.get("rc", 0), kw.get("zero", 1), DEFAULT)


def test_breakdown_sums_to_step_time():
    r = _eval(LLAMA, (8, 16, 64, 1), vp=4, rc=1)
    assert sum(float(r["time"][k]) for k in TIME_KEYS) == pytest.approx(float(r["step_time_s"]))
    assert sum(float(v) for v in r["memory"].values()) == pytest.approx(float(r["memory_bytes"]))


def test_llama3_405b_published_layout_within_10_percent_of_41_mfu():
    # Llama 3 report, Table 4: 16,384 H100, TP8 PP16 DP128, 41% BF16 MFU.
    plan = planner.estimate(workload="llama3.1-405b", gpus=16384, layout="tp=8,pp=16,dp=128,cp=1",
                            seq_len=8192, global_batch=16 * 2**20, tokens="15.6T")
    assert plan.feasible
    assert plan.mfu == pytest.approx(0.41, rel=0.10)


def test_pipeline_bubble_matches_narayanan():
    # bubble = (p - 1) / (m v) of the ideal pipeline time (Narayanan et al. 2021, sec. 2.2.2)
    r = _eval(SMALL, (1, 4, 8, 1), gb=256 * 8192, vp=2)
    m = 256 / 8
    ideal = float(r["time"]["compute"] + r["time"]["tp_comm"])
    assert float(r["time"]["pp_bubble"]) == pytest.approx(3 / (m * 2) * ideal, rel=1e-6)


def test_uneven_virtual_chunks_pay_for_the_largest():
    # 32 layers on 4 stages = 8 a stage; 3 virtual chunks of whole layers hold 3, 3 and 2, so
    # the fill and drain take (p - 1) chunks of 3 layers: 3/8 of a stage's microbatch time,
    # not the 1/3 of equal chunks. 4 chunks divide the 8 layers: 1/4, as Narayanan et al.
    m = 256 / 8
    for vp, share in ((3, 3 / 8), (4, 1 / 4)):
        r = _eval(SMALL, (1, 4, 8, 1), gb=256 * 8192, vp=vp)
        ideal = float(r["time"]["compute"] + r["time"]["tp_comm"])
        assert float(r["time"]["pp_bubble"]) == pytest.approx(3 * share / m * ideal, rel=1e-6)


def test_no_communication_on_one_device():
    r = _eval(SMALL, (1, 1, 1, 1), gb=8 * 8192, mb=1, rc=2)
    for k in ("tp_comm", "cp_comm", "ep_comm", "pp_bubble", "pp_comm", "dp_comm"):
        assert float(r["time"][k]) == 0.0


def test_fp8_uses_its_own_peak():
    hw8 = hardware_for(H100, CAT.network("nvlink4"), CAT.network("ib-ndr"), "fp8", DEFAULT, {})
    assert hw8.peak_flops == H100.peak("fp8") == pytest.approx(2 * HW.peak_flops, rel=1e-3)
    assert hw8.attention_flops == HW.attention_flops  # attention stays in bf16
    r16 = evaluate(LLAMA, 8192, 16 * 2**20, HW, 8, 16, 64, 1, 1, 1, 4, 1, 1, DEFAULT)
    r8 = evaluate(LLAMA, 8192, 16 * 2**20, hw8, 8, 16, 64, 1, 1, 1, 4, 1, 1, DEFAULT)
    assert float(r8["time"]["compute"]) < float(r16["time"]["compute"])


def test_recompute_costs_time_and_saves_memory():
    r = evaluate(SMALL, 8192, 64 * 8192, HW, 2, 1, 8, 1, 1, 1, 1, np.array([0, 1, 2]), 1,
                 DEFAULT)
    t, mem = r["step_time_s"], r["memory"]["activations"]
    assert t[0] <= t[1] < t[2]
    assert mem[0] > mem[1] > mem[2]
    assert r["hfu"][2] > r["mfu"][2]


def test_full_recompute_of_a_share_of_the_blocks():
    # torchtitan's selective layer AC checkpoints every 2nd block: recompute=full at
    # full_recompute_fraction 0.5 redoes half the forward and keeps half the blocks whole.
    half = dataclasses.replace(DEFAULT, full_recompute_fraction=0.5)
    rc = np.array([0, 2])
    r1 = evaluate(SMALL, 8192, 64 * 8192, HW, 1, 1, 8, 1, 1, 1, 1, rc, 3, DEFAULT)
    r5 = evaluate(SMALL, 8192, 64 * 8192, HW, 1, 1, 8, 1, 1, 1, 1, rc, 3, half)
    # without recompute the fraction changes nothing
    assert float(r5["step_time_s"][0]) == float(r1["step_time_s"][0])
    # compute: half the extra forward of every-block recompute
    extra1 = float(r1["time"]["compute"][1] - r1["time"]["compute"][0])
    extra5 = float(r5["time"]["compute"][1] - r5["time"]["compute"][0])
    assert extra5 == pytest.approx(extra1 / 2, rel=1e-9)
    # HFU counts half the recomputed forward: model FLOPs x (1 + x/2) where every block gives x
    assert float(r5["hfu"][1] / r5["mfu"][1]) == pytest.approx(
        1 + (float(r1["hfu"][1] / r1["mfu"][1]) - 1) / 2, rel=1e-9)
    # stored activations: half the blocks keep their input only (2sbh, Korthikanti sec. 5),
    # half keep everything
    stored, full_layer = activation_bytes_per_layer(SMALL, 8192, 1, 1, 1, rc, half)
    s_bh = 2 * 8192 * SMALL.hidden
    assert float(stored[1]) == pytest.approx(0.5 * s_bh + 0.5 * float(full_layer), rel=1e-9)
    assert float(stored[0]) == pytest.approx(float(full_layer), rel=1e-9)


def test_a_named_share_is_the_same_as_full_recompute_at_that_fraction():
    # "full:s" (the block method's share, searched) runs and stores exactly what recompute=full
    # at full_recompute_fraction s does; more share, more time and less memory
    codes = np.array([RECOMPUTE_CODES[n] for n in ("full:0.25", "full:0.5", "full:0.75")])
    r = evaluate(MOE_SMALL, 4096, 64 * 4096, HW, 2, 1, 4, 1, 2, 1, 1, codes, 1, DEFAULT)
    for j, share in enumerate((0.25, 0.5, 0.75)):
        pinned = dataclasses.replace(DEFAULT, full_recompute_fraction=share)
        want = evaluate(MOE_SMALL, 4096, 64 * 4096, HW, 2, 1, 4, 1, 2, 1, 1, 2, 1, pinned)
        for k in ("step_time_s", "hfu", "memory_bytes"):
            assert float(r[k][j]) == pytest.approx(float(want[k]), rel=1e-12), k
    assert np.all(np.diff(r["step_time_s"]) > 0)
    assert np.all(np.diff(r["memory_bytes"]) < 0)


@settings(max_examples=30, deadline=None)
@given(st.sampled_from([256, 512, 1024, 2048, 4096]), st.sampled_from(["h100-sxm", "a100-80gb",
                                                                         "b200", "mi300x"]))
def test_every_searched_layout_multiplies_to_devices(gpus, gpu):
    acc = CAT.accelerator(gpu)
    hw = hardware_for(acc, CAT.network(acc.scale_up_network), CAT.network(acc.scale_out_network),
                      "bf16", DEFAULT, {})
    found = search(SearchKey(SMALL, 8192, 16 * 2**20, hw, gpus), DEFAULT)
    lay = found.layouts
    assert found.count > 0
    assert np.all(lay["tp"] * lay["pp"] * lay["dp"] * lay["cp"] == gpus)
    assert np.all(SMALL.heads % lay["tp"] == 0)
    r = found.result
    # the step is worked out for the layouts that fit in memory; the others cannot run
    ran = r["memory_bytes"] <= hw.hbm_bytes
    assert np.all(np.isnan(r["step_time_s"][~ran])) and not r["fits"][~ran].any()
    assert np.all((0 < r["mfu"][ran]) & (r["mfu"][ran] <= r["hfu"][ran])
                  & (r["hfu"][ran] <= 1))
    total = sum(r["time"][k] for k in TIME_KEYS)
    assert np.allclose(total[ran], r["step_time_s"][ran])


@settings(max_examples=20, deadline=None)
@given(st.sampled_from([64, 128, 256, 512]), st.sampled_from([1, 2, 3]))
def test_more_devices_never_change_total_flops(gpus, factor):
    a = planner.estimate(params="7B", tokens="1T", gpus=gpus)
    b = planner.estimate(params="7B", tokens="1T", gpus=gpus * 2 * factor)
    assert a.model_flops == b.model_flops
    assert b.training_days <= a.training_days * 1.01


def test_model_flops_per_run():
    plan = planner.estimate(params="70B", tokens="2T", gpus=512)
    a = Architecture(plan.workload["layers"], plan.workload["hidden"], plan.workload["heads"],
                     plan.workload["kv_heads"], plan.workload["ffn"], plan.workload["vocab"])
    assert plan.model_flops == pytest.approx(float(model_flops_per_token(a, 8192)) * 2e12)
    # and by hand, from the shape the plan reports (gated FFN: three matrices; causal attention
    # 6 x layers x hidden x seq a token), not through the function under test
    L, h, kv, f, v = (plan.workload[k] for k in ("layers", "hidden", "kv_heads", "ffn", "vocab"))
    kv_width = kv * h // plan.workload["heads"]
    weights = L * (2 * h * h + 2 * h * kv_width + 3 * h * f) + v * h
    assert plan.model_flops == pytest.approx((6 * weights + 6 * L * h * 8192) * 2e12, rel=1e-12)


def test_partial_layout_is_respected_and_rest_searched():
    plan = planner.estimate(workload="llama3.1-405b", gpus=16384, layout="tp=8,pp=16",
                            tokens="15T")
    assert plan.layout["tp"] == 8 and plan.layout["pp"] == 16
    assert plan.layout["dp"] * plan.layout["cp"] == 128


def test_parse_layout_strict():
    assert parse_layout("tp=8,pp=16,mb=2,vp=4,recompute=full,zero=3") == {
        "tp": 8, "pp": 16, "microbatch": 2, "virtual_stages": 4, "recompute": "full", "zero": 3}
    for bad in ("tp", "tp=x", "tp=0", "zero=5", "foo=1", "recompute=most"):
        with pytest.raises(LayoutError):
            parse_layout(bad)


def test_memory_infeasible_says_by_how_much():
    plan = planner.estimate(params="1T", tokens="1T", gpu="a100-40gb", gpus=8)
    assert not plan.feasible and plan.binding == "memory"
    assert "GB per device" in plan.reason and "40 GB" in plan.reason


def test_moe_layouts_use_expert_parallelism():
    plan = planner.estimate(workload="deepseek-v3", gpus=2048, gpu="h800", precision="fp8",
                            tokens="14.8T")
    assert plan.feasible
    lay = plan.layout
    assert lay["ep"] > 1 and lay["dp"] % lay["ep"] == 0 and 256 % lay["ep"] == 0
    assert plan.time_breakdown_s["ep_comm"] > 0
    assert plan.workload["active_params"] < plan.workload["params"] / 10


def test_enumeration_respects_batch():
    lay = enumerate_layouts(SMALL, 64, 8192, 32 * 8192, 8)
    seqs = 32
    assert np.all(seqs % (lay["dp"] * lay["microbatch"]) == 0)


def test_batch_in_round_tokens_becomes_whole_sequences():
    plan = planner.estimate(workload="llama3.1-405b", gpus=16384, layout="tp=8,pp=16",
                            global_batch="16M", tokens="15T")
    seqs = plan.workload["global_batch_tokens"] / 8192
    lay = plan.layout
    assert seqs == int(seqs) and seqs % (lay["dp"] * lay["microbatch"]) == 0
    assert abs(seqs / (16e6 / 8192) - 1) <= 0.05  # the 5% of batch_tolerance, of the batch given
    assert "rounded to whole sequences of 8192 tokens from 16,000,000" in \
        plan.assumptions["global_batch_tokens"]["source"]


def test_the_optimizer_reads_expert_states_sharded_over_the_expert_data_group():
    # an audit: the optimizer's pass over its states divided the experts' by dp x cp, where
    # memory.py (and Megatron-Core's expert data parallelism) shard them over dp x cp / ep
    from planner.model.memory import stage_params

    plan = planner.estimate(workload="mixtral-8x7b", tokens="100B", gpus=64, gpu="h100-sxm",
                            layout="tp=2,pp=1,dp=32,cp=1,ep=8,zero=1", alternatives=False)
    a = planner.catalog().workload("mixtral-8x7b").architecture
    dense, expert = stage_params(a, 2, 1, 8)
    acc = planner.catalog().accelerator("h100-sxm")
    per_param = 2 * DEFAULT.weight_bytes + DEFAULT.grad_bytes + 2 * DEFAULT.optimizer_bytes
    hand = (dense / 32 + expert / 4) * per_param / (acc.hbm_bytes_per_s * DEFAULT.hbm_efficiency)
    assert plan.time_breakdown_s["optimizer"] == pytest.approx(hand, rel=1e-9)


def test_sm_share_held_by_communication_slows_compute_in_proportion():
    # DeepSeek-V3 report sec. 3.2.1: 20 of 132 SMs run the all-to-all, so compute runs on 112:
    # every compute term (and the bubble, which is made of compute) grows by 132/112.
    def run(asm):
        return evaluate(LLAMA, 8192, 16 * 2**20, HW, 8, 16, 8, 1, 1, 1, 1, 1, 1, asm)

    base, held = run(DEFAULT), run(DEFAULT.with_(comm_sm_fraction=20 / 132))
    assert float(held["time"]["compute"]) == pytest.approx(
        float(base["time"]["compute"]) * 132 / 112, rel=1e-12)
    assert float(held["time"]["tp_comm"]) == pytest.approx(float(base["time"]["tp_comm"]))
    assert float(held["step_time_s"]) > float(base["step_time_s"])


def test_gpt_neox_profile_is_eager_kernels_and_flash_attention_1():
    from planner.frameworks import FRAMEWORK_SOURCES, FRAMEWORKS, for_framework

    neox = for_framework(DEFAULT, "gpt-neox")
    # the eager-PyTorch calibration (llm-foundry rows), not a new fit
    assert neox.elementwise_passes == for_framework(DEFAULT, "pytorch-fsdp").elementwise_passes
    assert FRAMEWORKS["gpt-neox"]["elementwise_passes"] == "eager_elementwise_passes"
    # FlashAttention-2 is ~2x FlashAttention 1 (Dao 2023)
    assert neox.attention_efficiency == pytest.approx(DEFAULT.attention_efficiency / 2)
    assert set(FRAMEWORK_SOURCES) == set(FRAMEWORKS)
    def run(asm):
        return evaluate(SMALL, 2048, 2**20, HW, 1, 1, 8, 1, 1, 1, 1, 2, 1, asm)

    small, slow = run(DEFAULT), run(neox)
    assert float(slow["step_time_s"]) > float(small["step_time_s"])


def test_a_network_built_with_its_own_device_bandwidth_overrides_the_accelerator():
    # AWS p4d: 400 Gb/s EFA per 8 A100 (AWS Compute Blog 2020) = 6.25 GB/s per GPU, a quarter
    # of DGX A100's 8 x 200 Gb/s HDR (the a100-40gb default, 25 GB/s)
    a100 = CAT.accelerator("a100-40gb")
    up = CAT.network("nvlink3")
    efa, hdr = CAT.network("aws-efa-p4d"), CAT.network("ib-hdr")
    assert efa.device_bytes_per_s == 6.25e9 and hdr.device_bytes_per_s is None
    on_efa = hardware_for(a100, up, efa, "bf16", DEFAULT, {})
    on_hdr = hardware_for(a100, up, hdr, "bf16", DEFAULT, {})
    assert on_efa.scale_out_bytes_per_s == pytest.approx(6.25e9 * DEFAULT.link_fraction_default)
    assert on_hdr.scale_out_bytes_per_s == pytest.approx(25e9 * hdr.achievable_fraction)
    # the same data-parallel layout then spends longer in gradient reduction
    a = CAT.workload("pythia-12b").architecture
    slow = evaluate(a, 2048, 2**21, on_efa, 4, 1, 64, 1, 1, 8, 1, 2, 1, DEFAULT)
    fast = evaluate(a, 2048, 2**21, on_hdr, 4, 1, 64, 1, 1, 8, 1, 2, 1, DEFAULT)
    assert float(slow["time"]["dp_comm"]) > float(fast["time"]["dp_comm"])
    assert float(slow["time"]["compute"]) == pytest.approx(float(fast["time"]["compute"]))


def test_estimate_takes_the_network_by_key():
    plan = planner.estimate(workload="pythia-12b", gpu="a100-40gb", gpus=256,
                            network="aws-efa-p4d", layout="tp=4,pp=1,dp=64,mb=8,recompute=full")
    assert plan.cluster["network"] == "aws-efa-p4d"


def test_zero3_gathers_pay_a_latency_per_layer_message_and_hybrid_sharding_groups():
    from planner.frameworks import for_framework
    from planner.model.memory import memory_breakdown

    def z3(asm, dp=512):
        return evaluate(SMALL, 4096, dp * 4096, HW, 1, 1, dp, 1, 1, 1, 1, 2, 3, asm)

    fsdp, ds = z3(DEFAULT), z3(for_framework(DEFAULT, "deepspeed"))
    # four messages per layer instead of one: more latency, the same bytes
    assert float(ds["time"]["dp_comm"]) > float(fsdp["time"]["dp_comm"])
    assert float(ds["time"]["compute"]) == pytest.approx(float(fsdp["time"]["compute"]))
    # the latency grows with the ranks of the flat ring
    assert float(z3(DEFAULT, 2048)["time"]["dp_comm"]) > float(fsdp["time"]["dp_comm"])
    # hybrid sharding over groups of 8: weights sharded 8 ways, not 512
    hsdp = DEFAULT.with_(zero3_shard_group=8)
    mem = lambda asm: memory_breakdown(SMALL, 4096, 1, 1, 1, 1, 512, 1, 1, 1, 2, 3, asm)  # noqa
    assert float(mem(hsdp)["weights"]) == pytest.approx(float(mem(DEFAULT)["weights"]) * 64)


def test_stack_profiles_take_their_calibrated_constants_by_name():
    from planner.frameworks import FRAMEWORK_SOURCES, FRAMEWORKS, for_framework

    assert set(FRAMEWORK_SOURCES) == set(FRAMEWORKS)
    asm = DEFAULT.with_(tp_overlap_fraction=0.42, eager_elementwise_passes=2.5)
    assert for_framework(asm, "megatron-core").tp_comm_overlap == 0.42
    assert for_framework(asm, "megatron").tp_comm_overlap == 0.0
    assert for_framework(asm, "llm-foundry").elementwise_passes == 2.5
    assert not for_framework(asm, "deepspeed").interleaved_pipeline
    # FSDP's fp32 sharded parameters: 2 + 4 + 10 = 16 bytes a parameter
    fsdp = for_framework(asm, "pytorch-fsdp")
    assert fsdp.weight_bytes + fsdp.grad_bytes + fsdp.optimizer_bytes == 16


def test_flash_attention_2_on_hopper_runs_at_its_published_ratio():
    from planner.frameworks import for_framework

    fa2 = for_framework(DEFAULT, "pytorch-fsdp")
    ours = hardware_for(H100, None, None, "bf16", DEFAULT, {})
    theirs = hardware_for(H100, None, None, "bf16", fa2, {})
    assert theirs.attention_flops == pytest.approx(ours.attention_flops * 0.47)
    a100 = CAT.accelerator("a100-80gb")  # FlashAttention-2 was written for Ampere
    assert hardware_for(a100, None, None, "bf16", fa2, {}).attention_flops == pytest.approx(
        hardware_for(a100, None, None, "bf16", DEFAULT, {}).attention_flops)


def test_without_sequence_parallelism_every_rank_runs_the_norms_and_residuals():
    # Korthikanti et al. 2022 sec. 4.2.2: without sequence parallelism the norms, residual
    # adds (and dropout) run on the whole sequence on each tensor-parallel rank. The step
    # model's elementwise traffic per layer and token is 20h bytes for those and 6 ffn for
    # the gated FFN's activation (split by tp either way), at HBM x hbm_efficiency, once
    # forward and twice backward; L layers, m microbatches.
    tp, mb, s, gb = 8, 1, 8192, 16 * 2**20
    a = SMALL

    def run(asm):
        return evaluate(a, s, gb, HW, tp, 1, 1, 1, 1, mb, 1, 0, 0, asm)

    base, no_sp = run(DEFAULT), run(DEFAULT.with_(sequence_parallel=False))
    tokens, m = mb * s, gb / (s * mb)
    extra_fwd = tokens * 20.0 * a.hidden * (1 - 1 / tp) * DEFAULT.elementwise_passes \
        / (HW.hbm_bytes_per_s * DEFAULT.hbm_efficiency)
    assert float(no_sp["time"]["compute"] - base["time"]["compute"]) == pytest.approx(
        m * a.layers * 3 * extra_fwd, rel=1e-9)
    assert float(no_sp["memory_bytes"]) > float(base["memory_bytes"])
    # one rank: nothing to split
    one = [evaluate(a, s, gb, HW, 1, 1, 1, 1, 1, mb, 1, 0, 0, x)["step_time_s"]
           for x in (DEFAULT, DEFAULT.with_(sequence_parallel=False))]
    assert float(one[0]) == pytest.approx(float(one[1]))


def test_megatron_2021_profile_runs_without_sequence_parallelism():
    from planner.frameworks import for_framework
    assert for_framework(DEFAULT, "megatron-2021").sequence_parallel is False
    assert for_framework(DEFAULT, "megatron").sequence_parallel is True
    assert DEFAULT.sequence_parallel is True


def test_attention_fill_reproduces_flashattention_2_published_curves():
    # Dao 2023 (FlashAttention-2), fig. 4d (A100) and 7d (H100): causal, head dim 128, forward
    # + backward TFLOP/s at 512, 1K, 2K, 4K, 8K and 16K tokens. s / (s + 550), scaled to the
    # 16K bar, gives every bar within 6%.
    from planner.model.step import attention_fill

    seqs = np.array([512, 1024, 2048, 4096, 8192, 16384])
    s0 = DEFAULT.attention_fill_tokens
    assert s0 == 550
    for bars in (np.array([99, 131, 155, 182, 189, 189]),     # A100
                 np.array([163, 221, 265, 294, 308, 328])):   # H100
        model = attention_fill(seqs, s0) / attention_fill(16384, s0) * bars[-1]
        assert np.all(np.abs(model / bars - 1) < 0.06), model / bars
    # hand-derived: half the long-sequence rate at s = s0; s0 = 0 takes every length at it;
    # a longer sequence never runs slower
    assert float(attention_fill(550, 550)) == 0.5
    assert np.all(attention_fill(seqs, 0.0) == 1.0)
    assert np.all(np.diff(attention_fill(np.arange(1, 200_000, 97), s0)) > 0)


def test_attention_time_follows_the_fill_at_each_context_parallel_chunk():
    # The attention core: 4 s h' FLOPs per token forward (h' = heads x head dim), half of it
    # under the causal mask, backward 2.5x forward (Dao 2023), at attention_flops x
    # attention_efficiency x s_k / (s_k + s0), s_k = s / cp the chunk each rank's kernel
    # sees. Against s0 = 0 the step's compute grows by the attention time x (1/fill - 1).
    a, s, gb, cp, mb = SMALL, 8192, 2**20, 2, 1
    flat = DEFAULT.with_(attention_fill_tokens=0.0)

    def run(asm):
        return evaluate(a, s, gb, HW, 1, 1, 1, cp, 1, mb, 1, 0, 0, asm)

    tokens, m = mb * s / cp, gb / (s * mb)
    rate = HW.attention_flops * DEFAULT.attention_efficiency
    attn = 3.5 * 0.5 * 4.0 * tokens * s * a.heads * a.head_dim / rate   # fwd + bwd, a layer
    fill = (s / cp) / (s / cp + DEFAULT.attention_fill_tokens)
    grown = float(run(DEFAULT)["time"]["compute"] - run(flat)["time"]["compute"])
    assert grown == pytest.approx(m * a.layers * attn * (1 / fill - 1), rel=1e-9)


def test_maxtext_keeps_one_attention_rate_at_every_length():
    # the fill is FlashAttention's on NVIDIA GPUs; MaxText's TPU kernels publish no curve
    from planner.frameworks import for_framework
    assert for_framework(DEFAULT, "maxtext").attention_fill_tokens == 0.0
    assert for_framework(DEFAULT, "megatron-core").attention_fill_tokens == 550.0


def test_a_sliding_window_shortens_the_attention_core_alone():
    # the same shape with a window: the GEMMs, communication and memory are unchanged; the
    # attention core's forward falls by the band's share of the causal prefix, its rate filled
    # as a sequence of the band's width would be (at most the chunk's). Without FlashAttention
    # selective recompute redoes that core, so its time shows the core's fall; with it,
    # selective redoes the norms and the MLP activation, which no window touches
    from planner.model.step import attention_fill

    s, w = 32768, 4096
    windowed = dataclasses.replace(SMALL, window=w, window_layers=32)
    full, narrow = (_eval(a, (8, 1, 8, 1), gb=64 * s, s=s, rc=1) for a in (SMALL, windowed))
    band = 2 * (w - w * w / (2 * s))
    fill = attention_fill(band, DEFAULT.attention_fill_tokens) / attention_fill(
        s, DEFAULT.attention_fill_tokens)
    assert DEFAULT.flash_attention
    assert float(narrow["recompute_layer_s"]) == pytest.approx(
        float(full["recompute_layer_s"]), rel=1e-12)
    assert float(narrow["attention_fwd_s"]) == pytest.approx(
        float(full["attention_fwd_s"]) * band / s / fill, rel=1e-9)
    assert float(narrow["memory_bytes"]) == float(full["memory_bytes"])
    assert float(narrow["time"]["tp_comm"]) == float(full["time"]["tp_comm"])
    assert float(narrow["step_time_s"]) < float(full["step_time_s"])


def _deepseek_on_h800(comm_sm_fraction: float) -> dict:
    """DeepSeek-V3's step at its published layout (pp16 x dp128, ep64, microbatch 1) on H800
    in FP8, the all-to-all overlapped (DualPipe) on ``comm_sm_fraction`` of the SMs."""
    h800 = CAT.accelerator("h800")
    hw = hardware_for(h800, CAT.network(h800.scale_up_network),
                      CAT.network(h800.scale_out_network), "fp8", DEFAULT, {})
    asm = DEFAULT.with_(ep_comm_overlap=1.0, ep_hierarchical_dispatch=True,
                        comm_sm_fraction=comm_sm_fraction)
    return evaluate(CAT.workload("deepseek-v3").architecture, 4096, 15360 * 4096, hw, 1, 16,
                    128, 1, 64, 1, 1, 0, 1, asm)


def test_an_all_to_all_on_held_sms_takes_nothing_more_from_the_compute_it_hides_under():
    # DeepSeek-V3 report sec. 3.2.1: DualPipe hides the all-to-all under another microbatch's
    # compute, on 20 of the 132 SMs held for it. The held SMs slow the compute (132/112); the
    # hidden all-to-all had also paid overlap_contention on top, counting the cost twice
    shared, held = _deepseek_on_h800(0.0), _deepseek_on_h800(20 / 132)
    assert float(shared["time"]["ep_comm"]) > 0  # the contention of the hidden share
    assert float(held["time"]["ep_comm"]) == 0.0  # wholly hidden, on its own SMs
    assert float(held["time"]["compute"]) == pytest.approx(
        float(shared["time"]["compute"]) * 132 / 112, rel=1e-12)


def test_held_sms_take_the_contention_away_in_proportion_not_at_a_gate():
    # A review found the contention gated at comm_sm_fraction > 0: holding 0.01% of the SMs
    # made DeepSeek-V3's step 13% shorter than holding none. The contention falls linearly
    # to 0 at the share that saturates the links (20 of 132 SMs, DeepSeek-V3 sec. 3.2.1)
    def ep(share):
        r = _deepseek_on_h800(share)
        return float(r["time"]["ep_comm"]), float(r["step_time_s"])

    none, tiny, half, full, more = (ep(s) for s in (0.0, 1e-4, 10 / 132, 20 / 132, 0.3))
    assert none[0] > 0
    assert tiny[0] == pytest.approx(none[0] * (1 - 1e-4 * 132 / 20), rel=1e-9)
    assert half[0] == pytest.approx(none[0] / 2, rel=1e-9)
    assert full[0] == 0.0 and more[0] == 0.0
    assert tiny[1] == pytest.approx(none[1], rel=1e-3)  # no jump at the first SM held


def test_copied_kv_heads_cost_a_whole_head_on_each_rank():
    # 8 KV heads on tp 16: each rank holds one whole head of K and V (neuronx-distributed
    # kv_size_multiplier 2), not half a head: 2 h d (1 - 8/16) more weights a layer, and a
    # QKV GEMM of 4096/16 + 2 x 128 columns where splitting would give (4096 + 2 x 1024) / 16
    from planner.model.memory import stage_params

    dense16, _ = stage_params(SMALL, 16, 1, 1)
    dense8, _ = stage_params(SMALL, 8, 1, 1)
    share16 = dense8 * 8 / 16  # what splitting every weight 16 ways would leave
    assert float(dense16 - share16) == pytest.approx(32 * 2 * 4096 * 128 * 0.5)
    r16, r8 = _eval(SMALL, (16, 1, 1, 1), gb=8192), _eval(SMALL, (8, 1, 1, 1), gb=8192)
    assert float(r16["memory"]["weights"]) == pytest.approx(
        (float(share16) + 32 * 2 * 4096 * 128 * 0.5) * DEFAULT.weight_bytes)
    assert float(r8["memory"]["weights"]) == pytest.approx(float(dense8) * DEFAULT.weight_bytes)


def test_full_recompute_repeats_the_context_parallel_ring():
    # the ring passes the K, V blocks 3 (cp - 1) times a layer (forward, and K, V with their
    # gradients in backward); a block full recompute redoes passes them once more: 4/3 the
    # exposed exchange where no attention hides it
    bare = DEFAULT.with_(cp_comm_overlap=0.0)

    def cp_time(rc):
        return float(evaluate(SMALL, 8192, 16 * 8192, HW, 1, 1, 2, 8, 1, 1, 1, rc, 1,
                              bare)["time"]["cp_comm"])

    assert cp_time(RECOMPUTE_CODES["full"]) == pytest.approx(4 / 3 * cp_time(0))
    assert cp_time(RECOMPUTE_CODES["selective"]) == pytest.approx(cp_time(0))


def test_router_scores_each_ranks_sequence_share():
    # under sequence parallelism the router runs on each rank's s/tp tokens (forward, and its
    # two backward GEMMs): twice the experts, one a device either way (ep = experts), differ
    # by the router's GEMMs alone, at s/tp rows, in every MoE layer of every microbatch
    from planner.model.step import gemm_s

    assert DEFAULT.sequence_parallel
    tp, dp, gb, s = 8, 16, 64 * 8192, 8192
    m = gb / s / dp
    moe_layers = MOE_SMALL.layers - MOE_SMALL.dense_layers

    def compute(experts):
        a = dataclasses.replace(MOE_SMALL, experts=experts)
        return float(_eval(a, (tp, 1, dp, 1), gb=gb, s=s, ep=experts)["time"]["compute"])

    router = [gemm_s(s / tp, MOE_SMALL.hidden, e, HW, DEFAULT) for e in (8, 16)]
    assert compute(16) - compute(8) == pytest.approx(
        m * moe_layers * 3 * (router[1] - router[0]) / (1 - DEFAULT.comm_sm_fraction),
        rel=1e-9)


def test_the_output_head_runs_bf16_under_an_fp8_recipe():
    # DeepSeek-V3 report sec. 3.3.1, Megatron-Core (a plain ColumnParallelLinear) and
    # torchtitan (float8 filters fqn "output") keep the output head in BF16: an FP8 plan's
    # logits GEMMs (3 of them, 2 t h V FLOPs each) run at the BF16 ceiling, the rest at FP8's
    fp8 = hardware_for(H100, CAT.network("nvlink4"), CAT.network("ib-ndr"), "fp8", DEFAULT, {})
    bf16_rate = float(HW.peak_flops * HW.matmul_fraction)
    fp8_rate = float(fp8.peak_flops * fp8.matmul_fraction)
    assert fp8.output_flops == pytest.approx(bf16_rate) and HW.output_flops == 0.0
    assert fp8_rate > 1.5 * bf16_rate
    gb, s, dp = 16 * 8192, 8192, 16  # one sequence a device: one microbatch, pp = tp = 1
    args = (SMALL, s, gb, None, 1, 1, dp, 1, 1, 1, 1, 0, 1, DEFAULT)

    def compute_s(hw):
        a = list(args)
        a[3] = hw
        return float(evaluate(*a)["time"]["compute"])

    head = compute_s(fp8) - compute_s(dataclasses.replace(fp8, output_flops=0.0))
    h, vocab = SMALL.hidden, SMALL.vocab
    k_eff = h / (h + DEFAULT.gemm_k_overhead)
    flops = 3 * 2.0 * s * h * vocab
    want = flops / k_eff * (1 / bf16_rate - 1 / fp8_rate) / (1 - DEFAULT.comm_sm_fraction)
    assert head == pytest.approx(want, rel=1e-9)
