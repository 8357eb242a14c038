"""A workload from a Hugging Face ``config.json``: the shape a user already has, read from a
local file (no network), so nobody retypes layers, widths and experts.

Each supported ``model_type`` names how its family lays out its keys (the config classes of
huggingface/transformers, ``models/<family>/configuration_<family>.py``):

- decoders with a gated FFN (SwiGLU or GeGLU: gate, up and down matrices) and grouped-query
  attention, keys ``num_hidden_layers``, ``hidden_size``, ``num_attention_heads``,
  ``num_key_value_heads``, ``intermediate_size``, ``vocab_size``, optional ``head_dim``;
- the same keys in Gemma 3 (``gemma3_text``, GeGLU; the keys it leaves out take
  Gemma3TextConfig's defaults, as transformers reads them, and so do Gemma 2's, Mistral's,
  Mixtral's and Qwen3's: Family.defaults), OLMo 2 and Granite; a multimodal
  Gemma 3 or Mistral 3 config is read by its ``text_config`` (the language model: its vision
  encoder is not counted);
- mixtures of experts: ``num_local_experts`` (Mixtral, Granite MoE, gpt-oss: every layer's
  FFN is its experts, ``intermediate_size`` wide each), ``num_experts`` with
  ``intermediate_size`` the same way (OLMoE), or with
  ``moe_intermediate_size`` and ``shared_expert_intermediate_size`` (Qwen MoE),
  ``n_routed_experts``, ``n_shared_experts`` and ``first_k_dense_replace`` (DeepSeek), each
  with ``num_experts_per_tok``;
- Multi-head Latent Attention (DeepSeek-V2 report sec. 2.1): ``kv_lora_rank``,
  ``q_lora_rank``, ``qk_nope_head_dim``, ``qk_rope_head_dim``, ``v_head_dim``;
- decoders with a plain two-matrix GELU FFN: GPT-NeoX (``intermediate_size``) and Falcon
  (4 x hidden unless
  ``ffn_hidden_size``; key/value heads from ``num_kv_heads`` with
  ``new_decoder_architecture``, else one with ``multi_query``).

``tie_word_embeddings`` falls back on its family's default when the file leaves it out, as
transformers does. Biases and extra norms are not counted (planner/model/architecture.py counts
weights of the matrices and two norms per layer): a few parts in ten thousand of the total.
What the file does not say (tokens, sequence length of training, batch, precision) comes from
the flags or the planner's defaults, each reported in the plan's assumptions.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..specs import MAX_SHAPE, Architecture, Workload


@dataclass(frozen=True)
class Family:
    """How one ``model_type`` writes its shape."""

    ffn_type: str            # "gated" (three FFN matrices) or "plain" (two)
    tie_embeddings: bool     # transformers' default for tie_word_embeddings
    moe: str = ""            # "", "mixtral", "olmoe", "qwen" or "deepseek": where its experts are
    kv: str = "gqa"          # "gqa" (num_key_value_heads) or "falcon"
    # the config class's defaults of the shape keys, for files that leave them out, as
    # transformers reads them (a multimodal Gemma 3's text_config names only what differs)
    defaults: tuple = ()
    # whether a key written null takes its default too (Gemma 3, as this planner has read it);
    # else null keeps transformers' own meaning of null (Mistral's num_key_value_heads: null
    # is one key/value head per query head; sliding_window: null is no window)
    null_takes_default: bool = False


FAMILIES = {
    "llama": Family("gated", False),
    # transformers models/mistral/configuration_mistral.py, MistralConfig's defaults: eight
    # key/value heads and a 4,096-key window where the file leaves them out (a Mistral config
    # without num_key_value_heads had been planned with 32, full multi-head attention)
    "mistral": Family("gated", False, defaults=(
        ("num_key_value_heads", 8), ("sliding_window", 4096))),
    # transformers models/mixtral/configuration_mixtral.py, MixtralConfig's defaults (no
    # window)
    "mixtral": Family("gated", False, moe="mixtral", defaults=(
        ("num_key_value_heads", 8), ("num_local_experts", 8), ("num_experts_per_tok", 2))),
    "qwen2": Family("gated", False),
    "qwen2_moe": Family("gated", False, moe="qwen"),
    # transformers models/qwen3/configuration_qwen3.py, Qwen3Config's head_dim: 128, not
    # hidden / heads (Qwen3-30B-A3B without it had counted 13% fewer active parameters)
    "qwen3": Family("gated", False, defaults=(("head_dim", 128),)),
    "qwen3_moe": Family("gated", False, moe="qwen"),  # its class's head_dim default varies
    "deepseek_v2": Family("gated", False, moe="deepseek"),
    "deepseek_v3": Family("gated", False, moe="deepseek"),
    "gemma": Family("gated", True),
    # transformers models/gemma2/configuration_gemma2.py, Gemma2Config's defaults
    "gemma2": Family("gated", True, defaults=(
        ("vocab_size", 256_000), ("hidden_size", 2304), ("intermediate_size", 9216),
        ("num_hidden_layers", 26), ("num_attention_heads", 8), ("num_key_value_heads", 4),
        ("head_dim", 256), ("sliding_window", 4096))),
    # transformers models/gemma3/configuration_gemma3.py, Gemma3TextConfig's defaults
    "gemma3_text": Family("gated", True, defaults=(
        ("vocab_size", 262_208), ("hidden_size", 2304), ("intermediate_size", 9216),
        ("num_hidden_layers", 26), ("num_attention_heads", 8), ("num_key_value_heads", 4),
        ("head_dim", 256), ("sliding_window", 4096)), null_takes_default=True),
    "olmo2": Family("gated", False),
    "olmoe": Family("gated", False, moe="olmoe"),
    "granite": Family("gated", False),
    "granitemoe": Family("gated", False, moe="mixtral"),
    "gpt_oss": Family("gated", False, moe="mixtral"),
    "falcon": Family("plain", True, kv="falcon"),
    "gpt_neox": Family("plain", False),
}
MODEL_TYPES = tuple(FAMILIES)
# Multimodal configs whose language model sits in ``text_config`` (its vision encoder is not
# a decoder the planner plans): the text model's type when the text config leaves it out.
MULTIMODAL = {"gemma3": "gemma3_text", "mistral3": "mistral"}
ACCEPTED = ("a Hugging Face config.json (a local file) whose model_type is one of "
            + ", ".join(MODEL_TYPES) + ", or a multimodal " + ", ".join(MULTIMODAL)
            + " (its text_config)")


def is_config_path(workload) -> bool:
    """Whether a workload input names a config.json (by its suffix) rather than a catalog key."""
    return isinstance(workload, (str, Path)) and str(workload).lower().endswith(".json")


def read_config(path: str | Path, name: str = "--workload") -> dict:
    """The config's keys (a JSON object)."""
    p = Path(path)
    if not p.is_file():
        raise InputError(name, str(path), ACCEPTED, "is not a file")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InputError(name, str(path), ACCEPTED, "is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise InputError(name, str(path), ACCEPTED,
                         f"is not valid JSON (line {exc.lineno}: {exc.msg})") from None
    except RecursionError:
        raise InputError(name, str(path), ACCEPTED, "is nested too deep to read") from None
    except ValueError as exc:  # a number of more digits than Python converts
        raise InputError(name, str(path), ACCEPTED, f"is not readable JSON ({exc})") from None
    if not isinstance(data, dict):
        raise InputError(name, str(path), ACCEPTED, "holds no JSON object")
    return data


def _whole(value, least: int, most: float = math.inf) -> bool:
    """Whether a config's value is a whole number from ``least`` to ``most`` (4096 or 4096.0;
    not a string, a boolean, NaN or infinity)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if isinstance(value, int):
        return least <= value <= most
    return math.isfinite(value) and value == int(value) and least <= value <= most


def text_config(data: dict, where: str = "config.json", name: str = "--workload") -> dict:
    """The keys of the language model a config describes: the config itself, or a multimodal
    one's ``text_config`` (its type filled in when left out), with its family's defaults for
    the shape keys it leaves out."""
    model_type = data.get("model_type")
    if isinstance(model_type, str) and model_type in MULTIMODAL:
        inner = data.get("text_config")
        if not isinstance(inner, dict):
            raise InputError(name, where, ACCEPTED, f"is a {model_type} config without a "
                             "text_config object (its language model)")
        data = {"model_type": MULTIMODAL[model_type], **inner}
        model_type = data["model_type"]
    if not isinstance(model_type, str) or model_type not in FAMILIES:
        raise InputError(name, where, ACCEPTED, f"has model_type {model_type!r}, which the "
                         "planner does not read")
    family = FAMILIES[model_type]
    defaults = dict(family.defaults)
    return {**defaults, **{k: v for k, v in data.items()
                           if v is not None or k not in defaults or not family.null_takes_default}}


def architecture_from_config(data: dict, where: str = "config.json",
                             name: str = "--workload") -> Architecture:
    """The planner's Architecture from a config's keys (see the module docstring)."""
    return _architecture_of(text_config(data, where, name), where, name)


def _architecture_of(data: dict, where: str, name: str) -> Architecture:
    """The Architecture of a language model's keys (text_config's answer)."""
    model_type = data["model_type"]
    fam = FAMILIES[model_type]

    def fail(reason: str):
        raise InputError(name, where, ACCEPTED, reason)

    def need(*keys, default=None, allow_zero=False):
        for key in keys:
            if data.get(key) is not None:
                value = data[key]
                least = 0 if allow_zero else 1
                if not _whole(value, least, MAX_SHAPE):
                    text = repr(value)  # a 400-digit number shortened, not printed whole
                    if len(text) > 24:
                        text = f"{value:.3g}" if isinstance(value, float) else text[:21] + "..."
                    fail(f"has {key} = {text}; a whole number from {least} to "
                         f"{MAX_SHAPE:,} was expected")
                return int(value)
        if default is not None:
            return default
        fail(f"has no '{keys[0]}' (a {model_type} config names it)")

    layers = need("num_hidden_layers", "n_layer")
    hidden = need("hidden_size", "n_embed")
    heads = need("num_attention_heads", "n_head")
    vocab = need("vocab_size")
    if fam.kv == "falcon":
        if data.get("new_decoder_architecture"):
            kv_heads = need("num_kv_heads", default=heads)
        else:
            kv_heads = 1 if data.get("multi_query", True) else heads
        ffn = need("ffn_hidden_size", default=4 * hidden)
    else:
        kv_heads = need("num_key_value_heads", default=heads)
        ffn = need("intermediate_size", default=4 * hidden if fam.ffn_type == "plain" else None)
    if heads % kv_heads:
        fail(f"has {heads} attention heads, not a multiple of its {kv_heads} key/value heads")
    head_dim = need("head_dim", default=0, allow_zero=True)
    tied = data.get("tie_word_embeddings")
    tied = fam.tie_embeddings if tied is None else tied  # absent or null: the family's
    if not isinstance(tied, bool):  # "false" as a string would read as true
        fail(f"has tie_word_embeddings = {tied!r}; true or false was expected")
    shape = dict(layers=layers, hidden=hidden, heads=heads, kv_heads=kv_heads, ffn=ffn,
                 vocab=vocab, ffn_type=fam.ffn_type, tie_embeddings=tied,
                 head_size=head_dim if head_dim * heads != hidden else 0)
    if fam.moe:
        shape.update(_experts(data, fam.moe, layers, need, fail))
        if shape.get("experts") and shape["top_k"] > shape["experts"]:  # every family's key
            fail(f"has num_experts_per_tok = {shape['top_k']}, more than its "
                 f"{shape['experts']} experts")
    mla_keys = [k for k in ("qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim")
                if data.get(k) is not None]
    if mla_keys and not data.get("kv_lora_rank"):
        fail(f"has {', '.join(mla_keys)} (Multi-head Latent Attention) but no kv_lora_rank, "
             "the latent they belong to")
    if data.get("kv_lora_rank"):  # Multi-head Latent Attention
        shape.update(kv_lora_rank=need("kv_lora_rank"),
                     q_lora_rank=need("q_lora_rank", default=0, allow_zero=True),
                     rope_head_dim=need("qk_rope_head_dim"),
                     v_head_dim=need("v_head_dim"), head_size=need("qk_nope_head_dim"))
    window, window_layers, _ = _window(data, model_type, layers, fail)
    shape.update(window=window, window_layers=window_layers)
    arch = Architecture(**shape)
    if arch.routing_error():
        fail(f"has n_group/topk_group the planner cannot use: {arch.routing_error()}")
    return arch


# Which layers a family's sliding window covers when the file lists no layer_types (the
# modelling code of transformers): every layer (Mistral, Mixtral), every 2nd from the first
# (Gemma 2, gpt-oss), or all but every sliding_window_pattern-th (Gemma 3, 6 by default: 5 of
# every 6). Other families' windows are not read (Qwen's depend on max_window_layers).
WINDOW_RULES = {"mistral": "all", "mixtral": "all", "gemma2": "alternate",
                "gpt_oss": "alternate", "gemma3_text": "pattern"}


def _window(data: dict, model_type: str, layers: int, fail) -> tuple[int, int, str]:
    """(window, layers with it, how they were read) of a config's sliding-window attention;
    (0, 0, why not) when it has none or the planner does not read its family's."""
    window = data.get("sliding_window")
    if not window or data.get("use_sliding_window", True) is False:
        return 0, 0, "no window"
    if not _whole(window, 1):
        fail(f"has sliding_window = {window!r}; a whole number >= 1 was expected")
    rule = WINDOW_RULES.get(model_type)
    kinds = data.get("layer_types")
    if kinds is not None:  # the layers listed one by one: any family's, read as listed
        if not isinstance(kinds, list) or len(kinds) != layers:
            fail(f"has layer_types of {len(kinds) if isinstance(kinds, list) else 'no'} "
                 f"entries for its {layers} layers; one per layer was expected")
        sliding = sum(k == "sliding_attention" for k in kinds)
        return (int(window), sliding, "layer_types") if sliding else (
            0, 0, "layer_types: no sliding-attention layer")
    if rule is None:
        return 0, 0, f"a {model_type} window is not read"
    if rule == "all":
        return int(window), layers, "every layer"
    if rule == "alternate":
        return int(window), (layers + 1) // 2, "every 2nd layer"
    pattern = data.get("sliding_window_pattern", 6)
    if not _whole(pattern, 1):
        fail(f"has sliding_window_pattern = {pattern!r}; a whole number >= 1 was expected")
    return int(window), layers - layers // int(pattern), \
        f"all but every {int(pattern)}th layer (sliding_window_pattern)"


def _experts(data: dict, moe: str, layers: int, need, fail) -> dict:
    """experts, top_k, expert_ffn, shared_experts and dense_layers (the count of layers with a
    dense FFN: the planner's counts and FLOPs depend on how many, not where)."""
    if moe == "mixtral":
        return dict(experts=need("num_local_experts"), top_k=need("num_experts_per_tok"),
                    expert_ffn=need("intermediate_size"), ffn=0)
    if moe == "olmoe":  # every layer's FFN is its experts, intermediate_size wide each
        return dict(experts=need("num_experts"), top_k=need("num_experts_per_tok"),
                    expert_ffn=need("intermediate_size"), ffn=0)
    if moe == "qwen":
        expert_ffn = need("moe_intermediate_size")
        shared_width = need("shared_expert_intermediate_size", default=0, allow_zero=True)
        if shared_width % expert_ffn:
            fail(f"has a shared expert {shared_width} wide, not a whole number of experts of "
                 f"{expert_ffn}")
        step = need("decoder_sparse_step", default=1)
        listed = data.get("mlp_only_layers") or []
        if not isinstance(listed, list) or any(isinstance(i, bool) or not isinstance(i, int)
                                               for i in listed):
            fail(f"has mlp_only_layers = {listed!r}; a list of layer indices was expected")
        dense_only = set(listed)
        moe_layers = [i for i in range(layers) if i not in dense_only and (i + 1) % step == 0]
        dense = layers - len(moe_layers)
        return dict(experts=need("num_experts"), top_k=need("num_experts_per_tok"),
                    expert_ffn=expert_ffn, shared_experts=shared_width // expert_ffn,
                    dense_layers=dense, ffn=need("intermediate_size") if dense else 0)
    # deepseek: layers from first_k_dense_replace on, every moe_layer_freq-th, are MoE; a
    # config without its routed experts would read as a dense model of a third the size
    if data.get("n_routed_experts") is None:
        fail("has no 'n_routed_experts' (a DeepSeek-V2/V3 config names its routed experts)")
    first = need("first_k_dense_replace", default=0, allow_zero=True)
    freq = need("moe_layer_freq", default=1)
    dense = layers - sum(1 for i in range(first, layers) if i % freq == 0)
    # group-limited routing (DeepSeek-V2 sec. 2.2.2, DeepSeek-V3 sec. 2.1.2): n_group groups,
    # each token's experts from topk_group of them; one group is no restriction
    groups = need("n_group", default=1)
    return dict(experts=need("n_routed_experts"), top_k=need("num_experts_per_tok"),
                expert_ffn=need("moe_intermediate_size"),
                shared_experts=need("n_shared_experts", default=0, allow_zero=True),
                dense_layers=dense, ffn=need("intermediate_size") if dense else 0,
                **({"expert_groups": groups, "group_top_k": need("topk_group")}
                   if groups > 1 else {}))


def model_name(data: dict, path: Path) -> str:
    """The model's name: the config's own, else its folder (a snapshot's config.json), else
    the file's stem."""
    own = data.get("_name_or_path")
    if isinstance(own, str) and own.strip():
        return own.strip()
    return path.parent.name if path.name == "config.json" and path.parent.name else path.stem


def load(path: str | Path, name: str = "--workload") -> tuple[Architecture, dict]:
    """(Architecture, the language model's keys: text_config) of a config.json, with errors
    naming ``name``."""
    data = text_config(read_config(path, name), str(path), name)
    return _architecture_of(data, str(path), name), data


def workload(path: str | Path, used: dict, seq_len_default: int,
             name: str = "--workload") -> Workload:
    """A Workload of a config.json's shape, its tokens left to the caller (0). The training
    sequence is the planner's default, or the model's context (``max_position_embeddings``)
    when that is shorter; ``used`` gets the shape with the file it came from."""
    p = Path(path)
    raw = read_config(p, name)
    data = text_config(raw, str(p), name)
    arch = _architecture_of(data, str(p), name)
    kind = data["model_type"]
    if raw.get("model_type") != kind:  # a multimodal config's language model
        kind = (f"{raw.get('model_type')}: its text_config, {kind}; the vision encoder is not "
                "counted")
    context = data.get("max_position_embeddings")
    if context is not None and not _whole(context, 1):
        raise InputError(name, str(p), ACCEPTED, f"has max_position_embeddings = {context!r}; a "
                         "whole number >= 1 was expected")
    seq = seq_len_default
    if context is not None and int(context) < seq:
        seq = int(context)
    _, _, how = _window(data, data["model_type"], arch.layers, lambda reason: None)
    if arch.window:
        used["sliding_window"] = {"value": arch.window, "source": (
            f"{p} sliding_window: {arch.window} keys in {arch.window_layers} of {arch.layers} "
            f"layers ({how}); attention costed over the window there")}
    elif how != "no window":
        used["sliding_window"] = {"value": data.get("sliding_window"), "source": (
            f"{p} sliding_window: not modelled ({how}), attention is costed over the whole "
            "sequence (an upper bound past the window)")}
    mtp = data.get("num_nextn_predict_layers")
    if mtp:  # trained beside the model, not part of it: said, not silently dropped
        used["multi_token_prediction"] = {"value": mtp, "source": (
            f"{p} num_nextn_predict_layers: not modelled; the multi-token-prediction module "
            "(DeepSeek-V3 report sec. 2.2: a transformer block and projection per depth, "
            "sharing the embedding and output head) adds its layer's weights and FLOPs to "
            "training, which the plan leaves out")}
    moe = (f" experts={arch.experts} top_k={arch.top_k} expert_ffn={arch.expert_ffn} "
           f"shared={arch.shared_experts} dense_layers={arch.dense_layers}"
           + (f" groups={arch.group_top_k}/{arch.expert_groups}" if arch.expert_groups else "")
           if arch.experts else "")
    mla = (f" mla kv_lora={arch.kv_lora_rank} q_lora={arch.q_lora_rank}"
           if arch.kv_lora_rank else "")
    used["architecture"] = {
        "value": f"L={arch.layers} h={arch.hidden} heads={arch.heads} kv={arch.kv_heads} "
                 f"ffn={arch.ffn} ({arch.ffn_type}) V={arch.vocab}{moe}{mla}",
        "source": f"{p} (Hugging Face config.json, model_type {kind})"}
    return Workload(key=str(p), name=model_name(raw, p), architecture=arch, tokens=0.0,
                    seq_len=seq, family=str(data["model_type"]))
