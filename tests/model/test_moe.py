"""Mixture-of-experts physics: the all-to-all under plain and node-limited routing, its overlap
with compute, the activations many experts keep, and DeepSeek-V3 planned before its run."""

from dataclasses import replace
from math import comb

import numpy as np
import pytest

import planner
from planner.assumptions import DEFAULT, parse_overrides
from planner.errors import InputError
from planner.frameworks import FRAMEWORKS, for_framework
from planner.model import collectives as coll
from planner.model.memory import activation_bytes_per_layer
from planner.model.step import evaluate
from planner.plan.cluster import hardware_for

CAT = planner.catalog()
H800 = CAT.accelerator("h800")
DSV3 = CAT.workload("deepseek-v3").architecture  # 256 experts, top-8, 8 groups of which 4
# DeepSeek-V3 report (arXiv 2412.19437) Table 1: 2,664K H800 GPU-hours of pre-training.
PUBLISHED_GPU_HOURS = 2.664e6


def _hw(precision):
    return hardware_for(H800, CAT.network("nvlink4"), CAT.network("ib-ndr"), precision, DEFAULT,
                        {})


# --- the expected fan-out of a token (hypergeometric occupancy) -------------------------------

def test_distinct_bins_hit_by_hand():
    # 8 of 256 experts over 8 nodes of 32: a node is missed with C(224, 8) / C(256, 8)
    miss = comb(224, 8) / comb(256, 8)
    assert coll.distinct_bins_hit(8, 256, 8) == pytest.approx(8 * (1 - miss), rel=1e-12)
    assert float(coll.distinct_bins_hit(8, 256, 8)) == pytest.approx(5.29, abs=0.01)
    assert coll.distinct_bins_hit(1, 256, 64) == pytest.approx(1.0)       # one expert, one rank
    assert coll.distinct_bins_hit(8, 256, 1) == pytest.approx(1.0)        # one bin holds all
    assert coll.distinct_bins_hit(0, 256, 8) == pytest.approx(0.0)        # a dense layer
    assert coll.distinct_bins_hit(2, 8, 8) == pytest.approx(2.0)          # one expert per bin
    k = np.array([0, 1, 2, 8])  # broadcasts over experts per token
    assert coll.distinct_bins_hit(k, 256, 64).shape == (4,)


def test_plain_all_to_all_sends_a_copy_per_expert():
    # 64 ranks, 8 per node: 56/64 of the 8 copies leave the node, 7/64 move inside it
    up, out = coll.expert_dispatch_copies(8, 256, 8, 8)
    assert (float(up), float(out)) == pytest.approx((8 * 7 / 64, 8 * 56 / 64))


def test_node_limited_dispatch_crosses_each_node_once():
    # DeepSeek-V3 sec. 3.2.2 / 4.2: 64 ranks on 8 nodes, each token to at most 4 nodes, sent
    # once per node over IB (its own node among them 1 time in 8), forwarded over NVLink once
    # per rank hosting its experts (4 experts a rank; the relay itself 1 time in 8)
    ranks = 64 * (1 - comb(252, 8) / comb(256, 8))
    up, out = coll.expert_dispatch_copies(8, 256, 8, 8, groups=8, group_top_k=4, dedup=True)
    assert float(out) == pytest.approx(4 * 7 / 8)
    assert float(up) == pytest.approx(ranks * 7 / 8)
    # without the node limit the token reaches 5.3 of the 8 nodes on average
    _, free = coll.expert_dispatch_copies(8, 256, 8, 8, dedup=True)
    assert float(free) == pytest.approx(float(coll.distinct_bins_hit(8, 256, 8)) * 7 / 8)
    # inside one scale-up domain (an NVL72 rack) nothing crosses the scale-out network
    up1, out1 = coll.expert_dispatch_copies(8, 256, 64, 1, groups=8, group_top_k=4, dedup=True)
    assert float(out1) == 0.0 and float(up1) == pytest.approx(ranks * 63 / 64)
    # fewer nodes than groups: 32 ranks on 4 nodes, two groups a node. The 4 chosen of 8
    # groups land on 4 x (1 - C(6,4)/C(8,4)) = 3.14 nodes on average, the most a token's 8
    # experts can reach (it had been capped at 4, leaving the unlimited 3.61 nodes)
    _, few = coll.expert_dispatch_copies(8, 256, 8, 4, groups=8, group_top_k=4, dedup=True)
    assert float(few) == pytest.approx(4 * (1 - comb(6, 4) / comb(8, 4)) * 3 / 4)
    assert float(few) < float(coll.distinct_bins_hit(8, 256, 4)) * 3 / 4


def _ep_comm(precision, **asm):
    # DeepSeek-V3's published layout on 2,048 H800: pp16 ep64 (8 nodes), no TP; 120
    # microbatches of one 4,096-token sequence; selective recompute
    a = DEFAULT.with_(**asm)
    r = evaluate(DSV3, 4096, 15360 * 4096, _hw(precision), 1, 16, 128, 1, 64, 1, 1, 1, 1, a)
    return r, float(r["time"]["ep_comm"])


def test_all_to_all_time_of_deepseek_v3_by_hand():
    hw = _hw("fp8")
    token = 4096 * 7168                           # one microbatch's tokens x hidden
    ranks = 64 * (1 - comb(252, 8) / comb(256, 8))
    alpha_ib = hw.scale_out_latency_s             # 8 nodes on one rail leaf: one switch tier

    def one(element_bytes):
        ib = 3.5 * token * element_bytes / hw.scale_out_bytes_per_s + 7 * alpha_ib
        nvl = ranks * 7 / 8 * token * element_bytes / hw.scale_up_bytes_per_s \
            + 7 * hw.scale_up_latency_s
        return max(ib, nvl)

    # FP8 dispatch, BF16 combine (DeepSeek-V3 sec. 3.3.3), forward and backward, on the slowest
    # stage's 4 layers, every one MoE (the 3 dense layers of 61 lead the first stage: it had
    # been charged the model's mean, 4 x 58/61), 120 microbatches
    per_layer = 2 * (one(1.0) + one(2.0))
    expected = 120 * 4 * per_layer
    _, t = _ep_comm("fp8", ep_hierarchical_dispatch=True, ep_comm_overlap=0.0)
    assert t == pytest.approx(expected, rel=1e-9)
    assert one(1.0) > 0 and 3.5 * token / hw.scale_out_bytes_per_s > ranks * 7 / 8 * token \
        / hw.scale_up_bytes_per_s  # IB, not NVLink, sets the time (the report's design)
    # a plain all-to-all moves 7 BF16 copies per token across nodes: 2x-4x more
    _, plain = _ep_comm("fp8", ep_hierarchical_dispatch=False, ep_comm_overlap=0.0)
    assert 2.5 * t < plain < 4.0 * t


def test_expert_tensor_parallel_dispatches_a_share_and_gathers_it_in_the_node():
    # tp8 (a node), pp16, dp16, ep16: the 16 ranks of an expert-parallel group sit 8 apart, one
    # per node. Under sequence parallelism each rank dispatches its 1/8 of a microbatch's tokens
    # (7.5 of 8 copies leave the node on a plain all-to-all), and the expert-TP group of the
    # node all-gathers the 8 copies of all 4,096 tokens (reduce-scatters the outputs) over
    # NVLink (Megatron-Core MoEAlltoAllTokenDispatcher, expert TP = TP) in place of the dense
    # MLP's pair; the attention's pair and the shared expert's stay
    hw = _hw("bf16")
    a = DEFAULT.with_(ep_hierarchical_dispatch=False, ep_comm_overlap=0.0, tp_comm_overlap=0.0)
    r = evaluate(DSV3, 4096, 15360 * 4096, hw, 8, 16, 16, 1, 16, 1, 1, 1, 1, a)
    token = 4096 * 7168 * 2.0                     # one microbatch's tokens x hidden, BF16
    a2a = 7.5 * token / 8 / hw.scale_out_bytes_per_s + 15 * hw.scale_out_latency_s
    nvl = 7 / 8 / hw.scale_up_bytes_per_s         # a ring collective's share over NVLink
    lat = 7 * hw.scale_up_latency_s
    etp = nvl * 8 * token + lat                   # gather (or scatter) of the 8 copies
    pair = 2 * (nvl * token + lat)                # a dense AG + RS pair of the microbatch
    # dispatch and combine (gather and scatter), forward and backward, on 4 MoE layers, 960
    # microbatches
    assert float(r["time"]["ep_comm"]) == pytest.approx(960 * 4 * 2 * 2 * a2a, rel=1e-9)
    assert float(r["time"]["tp_comm"]) == pytest.approx(960 * 4 * 2 * (2 * pair + 2 * etp),
                                                        rel=1e-9)
    # without sequence parallelism every rank sends the whole microbatch
    r_nosp = evaluate(DSV3, 4096, 15360 * 4096, hw, 8, 16, 16, 1, 16, 1, 1, 1, 1,
                      a.with_(sequence_parallel=False))
    a2a_whole = 7.5 * token / hw.scale_out_bytes_per_s + 15 * hw.scale_out_latency_s
    assert float(r_nosp["time"]["ep_comm"]) == pytest.approx(960 * 4 * 2 * 2 * a2a_whole,
                                                             rel=1e-9)


def test_experts_sync_over_their_own_data_parallel_group():
    # DeepSeek-V3 at tp1 pp16 dp128 ep64, ZeRO-2: each microbatch reduce-scatters the dense
    # gradients over the 128 data-parallel ranks (16 nodes of 8) but the experts' over their
    # 2 expert-data-parallel ranks, 64 apart: across nodes, not shared 8 ways over NVLink
    hw = _hw("bf16")
    a = DEFAULT.with_(ep_comm_overlap=0.0)
    z2 = evaluate(DSV3, 4096, 15360 * 4096, hw, 1, 16, 128, 1, 64, 1, 1, 1, 2, a)
    z1 = evaluate(DSV3, 4096, 15360 * 4096, hw, 1, 16, 128, 1, 64, 1, 1, 1, 1, a)
    # the experts' 2-rank reduce-scatter: half the stage's expert gradients over IB
    from planner.model.memory import stage_params
    _, expert_p = stage_params(DSV3, 1, 16, 64)
    per_mb = float(expert_p) * 2.0 / 2 / hw.scale_out_bytes_per_s
    assert float(z2["time"]["dp_comm"]) > 120 * per_mb * (1 - DEFAULT.overlap_contention)
    assert float(z2["time"]["dp_comm"]) > float(z1["time"]["dp_comm"])


def test_fp8_halves_only_a_quantising_dispatch():
    _, fp8 = _ep_comm("fp8", ep_hierarchical_dispatch=True, ep_comm_overlap=0.0)
    _, bf16 = _ep_comm("bf16", ep_hierarchical_dispatch=True, ep_comm_overlap=0.0)
    assert 0.74 < fp8 / bf16 < 0.76    # dispatch 1 byte, combine 2 (latency aside: 3/4)
    _, plain8 = _ep_comm("fp8", ep_hierarchical_dispatch=False, ep_comm_overlap=0.0)
    _, plain16 = _ep_comm("bf16", ep_hierarchical_dispatch=False, ep_comm_overlap=0.0)
    assert plain8 == pytest.approx(plain16)


def test_overlapped_all_to_all_costs_its_contention_share():
    # hidden under the paired microbatch's compute (DualPipe; Megatron-Core EP A2A overlap),
    # the all-to-all costs overlap_contention of itself while it fits under that compute
    r0, exposed = _ep_comm("fp8", ep_hierarchical_dispatch=True, ep_comm_overlap=0.0)
    r1, hidden = _ep_comm("fp8", ep_hierarchical_dispatch=True, ep_comm_overlap=1.0)
    assert exposed < float(r0["time"]["compute"])
    assert hidden == pytest.approx(DEFAULT.overlap_contention * exposed, rel=1e-9)
    assert float(r1["step_time_s"]) < float(r0["step_time_s"])
    # beyond the compute it can hide under, the rest stays exposed
    slow = DEFAULT.with_(ep_hierarchical_dispatch=False, ep_comm_overlap=1.0)
    hw = _hw("fp8")
    tiny = replace(hw, scale_out_bytes_per_s=hw.scale_out_bytes_per_s / 100)
    r = evaluate(DSV3, 4096, 15360 * 4096, tiny, 1, 16, 128, 1, 64, 1, 1, 1, 1, slow)
    assert float(r["time"]["ep_comm"]) > float(r["time"]["compute"])


def test_megatron_core_profile_has_the_moe_path_it_publishes():
    for stack in ("megatron-core", "nemo"):
        a = for_framework(DEFAULT, stack)
        assert a.ep_comm_overlap == 1.0 and a.ep_hierarchical_dispatch is True
    for stack in FRAMEWORKS:  # no other stack is given an overlap it does not publish
        if stack not in ("megatron-core", "nemo"):
            a = for_framework(DEFAULT, stack)
            assert a.ep_comm_overlap == 0.0 and a.ep_hierarchical_dispatch is False
    assert parse_overrides(["ep_hierarchical_dispatch=false", "ep_comm_overlap=0.5"]) == {
        "ep_hierarchical_dispatch": False, "ep_comm_overlap": 0.5}
    for bad in ("ep_hierarchical_dispatch=maybe", "ep_comm_overlap=-1", "ep_comm_overlap=x"):
        with pytest.raises(InputError):
            parse_overrides([bad])


# --- activations of many experts ----------------------------------------------------------------

def test_expert_inputs_and_fp8_linear_inputs_by_hand():
    # no recompute, one 4,096-token sequence, tp 1: the routed experts keep 8 copies of each
    # token (their first GEMM's input); FP8 keeps linear inputs in one byte, the rest in two
    sb, h = 4096, 7168
    bf16, _ = activation_bytes_per_layer(DSV3, 4096, 1, 1, 1, 0, DEFAULT, 2.0)
    fp8, _ = activation_bytes_per_layer(DSV3, 4096, 1, 1, 1, 0, DEFAULT, 1.0)
    ffn_width = (8 + 1) * 2048
    linear_inputs = (2 * sb * h                      # norm outputs: QKV and FC1 inputs
                     + sb * (1536 + 512)             # MLA latents: up-projection inputs
                     + sb * 128 * 128                # attention output: the projection's input
                     + sb * 8 * h                    # the routed experts' inputs
                     + sb * ffn_width)               # activation output: FC2 input
    assert float(bf16) - float(fp8) == pytest.approx(linear_inputs)
    # the 8 routed experts' share in BF16: their input copies, FC1 outputs (gate and up) and
    # activation outputs
    unrouted = replace(DSV3, top_k=0)
    shared_only, _ = activation_bytes_per_layer(unrouted, 4096, 1, 1, 1, 0, DEFAULT, 2.0)
    routed = 2 * sb * 8 * h + 2 * 2 * sb * 8 * 2048 + 2 * sb * 8 * 2048
    assert float(bf16) - float(shared_only) == pytest.approx(routed)


def test_expert_inputs_are_whole_on_every_expert_tensor_parallel_rank():
    # tp 4 with sequence parallelism: every activation of the layer divides by 4 except the
    # routed experts' input copies, which the expert-TP group all-gathers (Megatron-Core
    # MoEAlltoAllTokenDispatcher): 8 copies of each of the 4,096 tokens, whole on each rank
    sb, h = 4096, 7168
    tp1, _ = activation_bytes_per_layer(DSV3, 4096, 1, 1, 1, 0, DEFAULT, 2.0)
    tp4, _ = activation_bytes_per_layer(DSV3, 4096, 1, 4, 1, 0, DEFAULT, 2.0)
    expert_in = 2 * sb * 8 * h
    assert float(tp4) == pytest.approx((float(tp1) - expert_in) / 4 + expert_in)


# --- DeepSeek-V3 planned before its run -------------------------------------------------------

SHAPE = dict(layers=61, hidden=7168, heads=128, ffn=18432, vocab=129280, experts=256, top_k=8,
             expert_ffn=2048, shared_experts=1, dense_layers=3, ffn_type="gated")
RUN = dict(gpu="h800", gpus=2048, tokens="14800B", seq_len=4096, global_batch=62914560,
           precision="fp8")


@pytest.fixture(scope="module")
def shape_plan():
    return planner.estimate(**SHAPE, **RUN)


@pytest.fixture(scope="module")
def catalog_plan():
    return planner.estimate(workload="deepseek-v3", **{k: v for k, v in RUN.items()
                                                       if k not in ("seq_len", "global_batch")})


def test_deepseek_v3_ideal_run_lands_below_and_near_the_published_hours(shape_plan,
                                                                        catalog_plan):
    # The tuned steady state with failures (ideal) must not exceed the published 2.664M
    # H800-hours (a realised run takes longer than its ideal) nor fall below 65% of it:
    # DeepSeek realised ~0.9x its ideal, frontier labs 1.1-1.6x (docs/validation.md).
    for plan in (shape_plan, catalog_plan):
        assert plan.feasible
        assert 0.65 <= plan.ideal_gpu_hours / PUBLISHED_GPU_HOURS <= 1.0
    # DeepSeek realised x1.13 its ideal, less than the expected run of a frontier lab (the
    # residual fitted on the public runs, x1.2-x1.6): published between ideal and expected
    lab = planner.estimate(workload="deepseek-v3", team="frontier lab",
                           **{k: v for k, v in RUN.items() if k not in ("seq_len",
                                                                         "global_batch")})
    assert lab.ideal_gpu_hours < PUBLISHED_GPU_HOURS < lab.gpu_hours < 1.5 * PUBLISHED_GPU_HOURS


def test_deepseek_v3_search_lands_on_expert_parallelism_across_nodes(catalog_plan):
    # published: pp16, ep64 across 8 nodes, no TP, ZeRO-1 (report sec. 3.2). The search keeps
    # no TP and spreads the experts over nodes; the all-to-all no longer dominates the step.
    lay = catalog_plan.layout
    assert lay["tp"] == 1 and lay["ep"] >= 32 and lay["recompute"] != "full"
    t = catalog_plan.time_breakdown_s
    assert t["ep_comm"] < 0.2 * catalog_plan.step_time_s
    published = planner.estimate(workload="deepseek-v3", layout="tp=1,pp=16,ep=64,cp=1",
                                 **{k: v for k, v in RUN.items()
                                    if k not in ("seq_len", "global_batch")})
    assert published.feasible
    assert published.time_breakdown_s["ep_comm"] < 0.15 * published.step_time_s


# --- group-limited routing as an input ----------------------------------------------------------

def test_routing_groups_are_checked_where_they_are_given():
    with pytest.raises(InputError, match="--expert-groups"):
        planner.estimate(**SHAPE, expert_groups=7, group_top_k=4, **RUN)
    with pytest.raises(InputError, match="--group-top-k"):
        planner.estimate(**SHAPE, expert_groups=8, group_top_k=9, **RUN)
    plan = planner.estimate(**SHAPE, expert_groups=8, group_top_k=4, **RUN, layout="ep=64,tp=1")
    free = planner.estimate(**SHAPE, **RUN, layout="ep=64,tp=1")
    assert plan.time_breakdown_s["ep_comm"] <= free.time_breakdown_s["ep_comm"]


def test_the_heaviest_stage_holds_moe_layers_alone_when_the_dense_ones_lead():
    # DeepSeek-V3: 61 layers, the first 3 dense; on pp4 a stage holds 16 layers. The step's
    # slowest stage is all MoE (it had been charged the model's mean, 16 x 58/61 MoE layers: 5%
    # light); at ep64 the stage with the most parameters a device holds is the first (3 dense
    # FFNs outweigh 3 MoE layers' shared experts and routed shares), 13 MoE layers
    from planner.model.memory import stage_params

    a = planner.catalog().workload("deepseek-v3").architecture
    per_layer = a.experts * 3.0 * a.hidden * a.expert_ffn
    _, routed = stage_params(a, 1, 4, 64)
    assert routed == pytest.approx(13 * per_layer / 64)
    _, routed_ep8 = stage_params(a, 1, 4, 8)  # at ep8 the routed experts weigh more: the last
    assert routed_ep8 == pytest.approx(16 * per_layer / 8)
    _, whole = stage_params(a, 1, 1, 64)  # no pipeline: every MoE layer, as before
    assert whole == pytest.approx(58 * per_layer / 64)


def test_the_first_stage_is_the_heaviest_when_its_dense_layers_and_embedding_outweigh():
    # DeepSeek-V3 at its published pp16 ep64: a stage holds 4 layers. The first holds the 3
    # dense layers, 1 MoE layer and the embedding; the last 4 MoE layers and the output
    # projection. Per device (tp1): MLA attention ~187M a layer, a dense FFN 3 x 7168 x 18432,
    # an MoE layer's shared expert and router 3 x 7168 x 2048 + 7168 x 256, its 256 routed
    # experts over 64 ranks, the 129,280 x 7168 embedding
    from planner.model.architecture import layer_attention_params, norm_params
    from planner.model.memory import stage_params

    a = planner.catalog().workload("deepseek-v3").architecture
    attn = float(layer_attention_params(a) + norm_params(a.hidden))
    dense_ffn = 3 * 7168 * 18432
    shared = 3 * 7168 * 2048 + 7168 * 256
    routed = 256 * 3 * 7168 * 2048 / 64
    emb = 129280 * 7168
    first = 4 * attn + 3 * dense_ffn + shared + emb
    dense, experts = stage_params(a, 1, 16, 64)
    assert float(dense) == pytest.approx(first) and float(experts) == pytest.approx(routed)
    assert float(dense + experts) == pytest.approx(3.086e9, rel=1e-3)
    last = 4 * (attn + shared + routed) + emb
    assert float(dense + experts) > last  # 20% above the all-MoE stage it had been charged
