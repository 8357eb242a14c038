"""Training FLOPs: model FLOPs (what the model needs) and hardware FLOPs (what runs, recompute
included), and the conventions published runs use, so predictions can be compared like for like.

Broadcasts over numpy arrays.
"""

from __future__ import annotations

from ..specs import Architecture
from .architecture import matmul_params_per_token

CONVENTIONS = ("causal", "noncausal", "palm", "megatron2021", "6n")


def matmul_flops_per_token(a: Architecture):
    """6 FLOPs per weight per token: 2 forward, 4 backward (Kaplan et al. 2020, sec. 2.1)."""
    return 6.0 * matmul_params_per_token(a)


def attention_flops_per_token(a: Architecture, seq_len, causal=True):
    """QK^T and AV: 2 x 2 x s x (heads x head_dim) per layer forward, x3 with backward
    (PaLM, appendix B: 12 L H Q T); a causal mask skips half (FlashAttention-2, sec. 3.1), a
    sliding window all but its band (Architecture.attended_keys: the keys a query attends,
    s/2 in a full causal layer); non-causal counts twice the causal keys (the whole s where
    there is no window). MLA's QK^T is wider than its AV (RoPE dims): their mean width
    (Architecture.attention_width)."""
    causal_flops = 12.0 * a.layers * a.attention_width * a.attended_keys(seq_len)
    return causal_flops * (1.0 if causal else 2.0)


def model_flops_per_token(a: Architecture, seq_len):
    """Model FLOPs per token: 6 x active matmul weights + causal attention (planner's MFU)."""
    return matmul_flops_per_token(a) + attention_flops_per_token(a, seq_len, causal=True)


def recompute_flops_per_token(a: Architecture, seq_len, recompute, full_fraction=1.0,
                              flash_attention=True):
    """Extra forward FLOPs of activation recomputation, as the step model redoes it (step.py).
    Full recompute repeats the forward of the ``full_fraction`` of the blocks it checkpoints,
    the logits outside them not (Narayanan et al. 2021, eq. 3: 8 FLOPs a weight of the
    blocks, forward, its recompute and a backward of two forwards at 2 each; 6 of the logits).
    Selective with materialised scores repeats the attention core QK^T, softmax, AV, 1/3 of
    its FLOPs (Korthikanti et al. 2022, sec. 5); with FlashAttention
    it redoes the norms and the MLP activation, elementwise work of no FLOPs, and MLA's
    up-projections from the cached latents (DeepSeek-V3 report sec. 3.2.3)."""
    import numpy as np

    logits = 6.0 * a.vocab * a.hidden  # the output projection's forward and backward
    full = (model_flops_per_token(a, seq_len) - logits) / 3.0 * full_fraction
    q_up = np.where(np.asarray(a.q_lora_rank) > 0, a.q_lora_rank * a.heads * a.qk_head_dim, 0)
    mla_up = np.where(np.asarray(a.kv_lora_rank) > 0, 2.0 * a.layers * (
        q_up + a.kv_lora_rank * a.heads * (a.head_dim + a.v_dim)), 0.0)
    selective = mla_up + (0.0 if flash_attention
                          else attention_flops_per_token(a, seq_len, causal=True) / 3.0)
    return np.select([np.asarray(recompute) == "full", np.asarray(recompute) == "selective"],
                     [full, selective], 0.0)


def hardware_flops_per_token(a: Architecture, seq_len, recompute, full_fraction=1.0,
                             flash_attention=True):
    """Model FLOPs plus recomputation (HFU numerator, PaLM appendix B)."""
    return model_flops_per_token(a, seq_len) + recompute_flops_per_token(
        a, seq_len, recompute, full_fraction, flash_attention)


def megatron2021_flops_per_token(a: Architecture, seq_len):
    """Narayanan et al. 2021 eq. 3 divided by tokens (B*s):
    96 l h^2 (1 + s/(6h) + V/(16 l h)): full recompute counted, non-causal attention, FFN 4h."""
    h, layers = a.hidden, a.layers
    return 96.0 * layers * h * h * (1.0 + seq_len / (6.0 * h) + a.vocab / (16.0 * layers * h))


def palm_flops_per_token(n_params, a: Architecture, seq_len):
    """PaLM (Chowdhery et al. 2022) appendix B: 6N + 12 L H Q T, all parameters N."""
    return 6.0 * n_params + 12.0 * a.layers * a.attention_width * seq_len


def flops_per_token(a: Architecture, seq_len, convention: str, n_params=None, recompute="none"):
    """FLOPs per token under a published convention (see docs/validation.md)."""
    if convention == "causal":
        return model_flops_per_token(a, seq_len)
    if convention == "noncausal":
        return matmul_flops_per_token(a) + attention_flops_per_token(a, seq_len, causal=False)
    if convention == "palm":
        return palm_flops_per_token(n_params, a, seq_len)
    if convention == "megatron2021":
        return megatron2021_flops_per_token(a, seq_len)
    if convention == "6n":
        return 6.0 * n_params
    raise ValueError(f"flop convention must be one of {CONVENTIONS}, got {convention!r}")
