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


def recompute_flops_per_token(a: Architecture, seq_len, recompute, full_fraction=1.0):
    """Extra forward FLOPs of activation recomputation (Korthikanti et al. 2022, sec. 5):
    full recompute repeats the whole forward (1/3 of the model FLOPs) of the ``full_fraction``
    of the blocks it checkpoints; selective repeats only the attention core QK^T, softmax, AV
    (1/3 of the attention FLOPs)."""
    import numpy as np

    full = model_flops_per_token(a, seq_len) / 3.0 * full_fraction
    selective = attention_flops_per_token(a, seq_len, causal=True) / 3.0
    return np.select([np.asarray(recompute) == "full", np.asarray(recompute) == "selective"],
                     [full, selective], 0.0)


def hardware_flops_per_token(a: Architecture, seq_len, recompute, full_fraction=1.0):
    """Model FLOPs plus recomputation (HFU numerator, PaLM appendix B)."""
    return model_flops_per_token(a, seq_len) + recompute_flops_per_token(a, seq_len, recompute,
                                                                          full_fraction)


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
