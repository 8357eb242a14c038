"""Per-formula tests with hand-worked numbers and published figures."""


import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.model.architecture import (
    active_params,
    matmul_params_per_token,
    shape_for_params,
    total_params,
)
from planner.model.flops import (
    flops_per_token,
    hardware_flops_per_token,
    megatron2021_flops_per_token,
    model_flops_per_token,
    palm_flops_per_token,
)
from planner.specs import Architecture

LLAMA3_405B = Architecture(126, 16384, 128, 8, 53248, 128256, "gated", False)
GPT3 = Architecture(96, 12288, 96, 96, 4 * 12288, 50257, "plain", True)
DEEPSEEK_V3 = Architecture(61, 7168, 128, 128, 18432, 129280, "gated", False, experts=256,
                           top_k=8, expert_ffn=2048, shared_experts=1, dense_layers=3,
                           head_size=128, kv_lora_rank=512, q_lora_rank=1536, rope_head_dim=64,
                           v_head_dim=128)


def test_llama3_405b_parameter_count():
    # Llama 3 report, Table 3: 405B parameters from this shape.
    assert total_params(LLAMA3_405B) == pytest.approx(405e9, rel=0.005)


def test_gpt3_parameter_count_hand_worked():
    # 12 h^2 per layer (Narayanan et al. 2021, sec. 3.2) + 4h norms + tied embedding V h.
    h, L, V = 12288, 96, 50257
    expected = L * (12 * h * h + 2 * h) + V * h + h
    assert total_params(GPT3) == expected
    assert expected == pytest.approx(175e9, rel=0.01)  # Brown et al. 2020, Table 2.1


def test_deepseek_v3_total_and_active():
    # DeepSeek-V3 report: 671B total, 37B active, with MLA attention modelled.
    assert total_params(DEEPSEEK_V3) == pytest.approx(671e9, rel=0.001)
    assert active_params(DEEPSEEK_V3) == pytest.approx(37e9, rel=0.02)


def test_mla_attention_params_hand_worked():
    # DeepSeek-V2 report eqs. 37-47 at DeepSeek-V3's dims (h 7168, 128 heads of 128 + 64 RoPE,
    # values 128, latents 1536 and 512): W_DQ, W_UQ, W_DKV + W_KR, W_UK + W_UV, W_O, two norms.
    from planner.model.architecture import layer_attention_params, mla_params

    h, n = 7168, 128
    expected = (h * 1536 + 1536 * n * 192 + 1536 + h * (512 + 64) + 512 * n * (128 + 128) + 512
                + n * 128 * h)
    assert expected == 187_107_328
    assert mla_params(h, n, 128, 1536, 512, 64, 128) == expected
    assert layer_attention_params(DEEPSEEK_V3) == expected
    # without a query latent the query is projected directly: h x heads x (128 + 64)
    direct = mla_params(h, n, 128, 0, 512, 64, 128)
    assert direct == expected - (h * 1536 + 1536 * n * 192 + 1536) + h * n * 192


def test_mla_attention_flops_use_the_mean_of_qk_and_v_widths():
    # QK^T at 192 dims per head, AV at 128: 12 L s heads (192 + 128) / 2 per token, non-causal
    assert DEEPSEEK_V3.attention_width == 128 * 160
    causal = model_flops_per_token(DEEPSEEK_V3, 4096) - 6 * matmul_params_per_token(DEEPSEEK_V3)
    assert causal == pytest.approx(0.5 * 12 * 61 * 4096 * 128 * 160)
    # a standard-attention model keeps heads x head_dim
    assert LLAMA3_405B.attention_width == 128 * 128


def test_matmul_params_drop_input_embedding_only():
    a = LLAMA3_405B
    per_layer_norms = a.layers * 2 * a.hidden + a.hidden
    assert matmul_params_per_token(a) == total_params(a) - a.vocab * a.hidden - per_layer_norms


@pytest.mark.parametrize("ffn_type", ["gated", "plain"])
@pytest.mark.parametrize("n", [2.7e8, 4.5e8, 1e9, 3e9, 8e9, 70e9, 405e9, 1e12, 5e12, 2e13, 1e14])
def test_shape_rule_within_3_percent(n, ffn_type):
    a = shape_for_params(n, ffn_type)
    assert total_params(a) == pytest.approx(n, rel=0.03)
    assert a.hidden % a.heads == 0 and a.hidden // a.heads == 128
    assert a.heads % 4 == 0
    assert a.heads % a.kv_heads == 0  # whole query groups, or the workload is refused
    assert a.ffn_type == ffn_type


@pytest.mark.parametrize("n", [2.7e8, 1e9, 3.2e9, 4.9e9])
def test_shape_rule_ties_small_models_so_flops_follow_params(n):
    # Llama 3.2 1B/3B and Qwen2.5 0.5B-3B share input and output embeddings; untied, a 270M
    # model with the 128,256 vocabulary would spend half its count on a lookup (no FLOPs) and
    # its plan would run at ~0.56 x 6ND. Tied, the matmul weights per token are N within 2%.
    a = shape_for_params(n)
    assert a.tie_embeddings
    assert matmul_params_per_token(a) == pytest.approx(n, rel=0.02)


def test_shape_rule_unties_from_5b_like_llama31_8b():
    a = shape_for_params(8e9)
    assert not a.tie_embeddings
    assert (a.layers, a.hidden, a.ffn) == (32, 4096, 14336)  # Llama 3.1 8B's own shape


def test_plain_shape_rule_is_the_gpt3_layout():
    # Brown et al. 2020 Table 2.1: GPT-3 175B is 96 layers of 12288 with d_ff = 4 d_model and
    # full multi-head attention; the plain rule lands within 10% of its width and depth.
    a = shape_for_params(175e9, "plain")
    assert a.kv_heads == a.heads
    assert a.ffn == pytest.approx(4 * a.hidden, rel=0.1)
    assert a.hidden == pytest.approx(12288, rel=0.1)
    assert a.layers == pytest.approx(96, rel=0.1)
    with pytest.raises(ValueError, match="gated or plain"):
        shape_for_params(175e9, "moe")


def test_shape_rule_reproduces_published_shapes_roughly():
    # Fitted on Llama 3.1: the rule's 405B shape is within 10% of the real width and depth.
    a = shape_for_params(405e9)
    assert a.hidden == pytest.approx(16384, rel=0.1)
    assert a.layers == pytest.approx(126, rel=0.1)


@settings(max_examples=50, deadline=None)
@given(st.floats(min_value=7e7, max_value=1e14), st.sampled_from(["gated", "plain"]))
def test_shape_rule_property(n, ffn_type):
    a = shape_for_params(n, ffn_type)
    assert total_params(a) == pytest.approx(n, rel=0.03)
    assert a.heads % a.kv_heads == 0


@pytest.mark.parametrize("n", [1e6, 1e7, 6e7])
def test_shape_rule_refuses_counts_below_its_reach(n):
    # the tied 128,256-token vocabulary at width 512 is ~66M: no rounding comes within 3%
    with pytest.raises(ValueError, match="give the shape"):
        shape_for_params(n)


def test_shape_rule_takes_the_neighbouring_width_when_rounding_misses():
    # plain, 142M: the nearest group (1024 wide) leaves room for 2 layers at 104% of N; the
    # 512-wide neighbour lands within 1%
    a = shape_for_params(1.42e8, "plain")
    assert a.hidden == 512 and total_params(a) == pytest.approx(1.42e8, rel=0.01)


def test_megatron_eq3_reproduces_published_1t_figure():
    # Narayanan et al. 2021 Table 1: 1T model, 3072 GPUs, batch 3072, 163 TFLOP/s per GPU,
    # 502 PFLOP/s aggregate. Eq. 3: F = 96 B s l h^2 (1 + s/6h + V/16lh).
    a = Architecture(128, 25600, 160, 160, 102400, 51200, "plain", True)
    B, s = 3072, 2048
    per_iter = megatron2021_flops_per_token(a, s) * B * s
    assert per_iter == pytest.approx(96 * B * s * 128 * 25600**2 *
                                     (1 + s / (6 * 25600) + 51200 / (16 * 128 * 25600)))
    # 163 TFLOP/s x 3072 GPUs = 500.7 PFLOP/s: the paper's 502 rounds the same iteration time.
    iteration_s = per_iter / (163e12 * 3072)
    assert per_iter / iteration_s / 1e15 == pytest.approx(502, rel=0.01)


def test_palm_appendix_b_reproduces_palm_mfu():
    # PaLM appendix B: 540B on 6144 TPU v4, 238.3K tokens/s -> 46.2% MFU with 6N + 12LHQT.
    palm = Architecture(118, 18432, 48, 1, 73728, 256000, "gated", True, head_size=256)
    assert total_params(palm) == pytest.approx(540.35e9, rel=0.001)  # PaLM Table 1
    per_token = palm_flops_per_token(540.35e9, palm, 2048)
    mfu = 238.3e3 * per_token / (6144 * 275e12)
    assert mfu == pytest.approx(0.462, abs=0.001)


def test_model_and_hardware_flops_conventions():
    a, s = LLAMA3_405B, 8192
    attn_causal = 6 * a.layers * a.hidden * s
    assert model_flops_per_token(a, s) == pytest.approx(
        6 * matmul_params_per_token(a) + attn_causal)
    assert flops_per_token(a, s, "noncausal") - flops_per_token(a, s, "causal") == \
        pytest.approx(attn_causal)
    full = hardware_flops_per_token(a, s, "full")
    assert full == pytest.approx(model_flops_per_token(a, s) * 4 / 3)
    sel = hardware_flops_per_token(a, s, "selective")
    assert model_flops_per_token(a, s) < sel < full
    with pytest.raises(ValueError):
        flops_per_token(a, s, "nonsense")


def test_six_n_d_hand_worked():
    # 6 N D for Llama 3 405B on 15.6T tokens ~ 3.8e25 FLOP (Llama 3 report, sec. 3.2.1).
    total = 6 * 405e9 * 15.6e12
    assert total == pytest.approx(3.8e25, rel=0.01)
    assert model_flops_per_token(LLAMA3_405B, 8192) * 15.6e12 == pytest.approx(3.8e25, rel=0.1)
