"""A plan's inputs, parsed and checked once at the boundary: the workload (a catalog key or
file, a full shape, or a parameter count alone), the accelerators and the assumptions (the
layout parts given: layout_inputs.py; the limits and each quantity flag: plan/quantities.py).
Each default a plan falls back on is written into ``used`` (the plan's assumptions table) with
its source."""

from __future__ import annotations

import math
from dataclasses import asdict, replace
from pathlib import Path

from ..assumptions import DEFAULT, Assumptions, check_overrides
from ..catalog import DEFAULT_SITE, Catalog
from ..catalog_files import is_workload_file
from ..errors import InputError, UnknownKeyError
from ..frameworks import (
    FRAMEWORK_SOURCES,
    FRAMEWORKS,
    VENDOR_STACKS,
    for_framework,
    framework_for,
    known_vendor,
    runs_on,
)
from ..model.architecture import (
    RULE_VOCAB,
    active_params,
    published_params_problem,
    rule_source,
    shape_for_params,
    total_params,
    workload_shape,
)
from ..specs import (
    FFN_TYPES,
    MAX_SHAPE,
    MOE_RULE_FIELDS,
    PRECISIONS,
    TEAMS,
    Architecture,
    Site,
    Workload,
    shape_problem,
    team_of,
)
from ..units import (
    MAX_BATCH_TOKENS,
    MAX_PARAMS,
    MAX_SEQ_LEN,
    MIN_SHAPELESS_PARAMS,
    fmt_count,
    fmt_count_short,
    parse_count,
    parse_int_count,
    parse_word,
)
from . import hf
from .quantities import parse_objective, parse_ownership, parse_tokens

# The shape inputs of a workload, by their keyword (flags with "-" for "_").
SHAPE_INPUTS = ("layers", "hidden", "heads", "kv_heads", "ffn", "vocab", "experts", "top_k",
                "expert_ffn", "shared_experts", "dense_layers", "expert_groups", "group_top_k",
                "head_dim", "kv_lora_rank", "q_lora_rank", "rope_head_dim", "v_head_dim",
                "window", "window_layers")
# The sliding window's inputs: they change how a shape attends, not its weights, so they go
# with any shape, the shape rule's (--params) too.
WINDOW_INPUTS = ("window", "window_layers")
# Inputs named as Hugging Face configs and catalog files name them, where the Architecture
# field differs (the per-head width: "head_dim" in config.json and [architecture]).
SHAPE_FIELDS = {"head_dim": "head_size"}
INPUT_OF_FIELD = {v: k for k, v in SHAPE_FIELDS.items()}


def _fields(shape: dict) -> dict:
    """Shape inputs as Architecture fields."""
    return {SHAPE_FIELDS.get(k, k): v for k, v in shape.items()}


def _moe_rule_inputs(shape: dict, ffn_type: str | None) -> dict:
    """The MoE rule's keywords from the shape inputs given with --params (none: dense),
    checked: experts and top-k together, 1 <= top-k <= experts, gated experts."""
    if not shape:
        return {}
    for need in ("experts", "top_k"):
        if need not in shape:
            given = next(iter(shape))
            raise InputError(flag(need), None, "--experts and --top-k together (a mixture of "
                             "experts shaped from its parameter count by the MoE rule)",
                             f"is missing beside {flag(given)}")
    experts, top_k = shape["experts"], shape["top_k"]  # whole and positive (parse_int_count)
    if top_k > experts:
        raise InputError("--top-k", top_k, f"1 to --experts ({experts})")
    if ffn_type == "plain":
        raise InputError("--ffn-type", ffn_type, "gated with --experts: the MoE shape rule's "
                         "experts are gated (SwiGLU), as every published MoE's")
    return {"experts": experts, "top_k": top_k, "shared_experts": shape.get("shared_experts", 0)}


def _routing_error(field: str, reason: str, shape: dict) -> InputError:
    """The error of group-limited routing the shape cannot use (Architecture.routing_problem),
    naming the input the user gave that is at fault: --top-k beyond what a workload's groups
    reach, --group-top-k without --expert-groups (had read "--expert-groups: 8 experts do not
    split into 0 groups" and "--group-top-k: ... fewer than top_k (256)" for --top-k 256)."""
    accepted = ("--expert-groups dividing --experts, 1 <= --group-top-k <= --expert-groups, "
                "and --group-top-k x --experts / --expert-groups at least --top-k")
    groups = [k for k in ("expert_groups", "group_top_k") if k in shape]
    if field == "expert_groups" and "expert_groups" not in shape and groups:
        return InputError("--expert-groups", None, accepted,
                          f"is missing beside --group-top-k ({reason})")
    if field == "top_k" and groups:
        field = groups[-1]  # the groups given are what falls short of the top-k
    if field not in shape:  # the workload's own routing, met by another input the user gave
        given = [k for k in ("group_top_k", "expert_groups", "experts", "top_k") if k in shape]
        if given:
            field = given[0]
        else:
            return InputError("--workload", None, accepted, f"is not valid: {reason}")
    return InputError(flag(field), shape.get(field), accepted, f"is not valid: {reason}")


def flag(name: str) -> str:
    """The flag of a keyword: 'kv_heads' -> '--kv-heads'."""
    return f"--{name.replace('_', '-')}"


# Inputs by a second name: the --model-config alias of --workload.
INPUT_ALIASES = {"model_config": "workload"}


def with_aliases(given: dict, where: str = "") -> dict:
    """``given`` (input name -> value, None: not given) with each alias under its input's
    name, in place: the one rule for a keyword of estimate, a column of estimate_many and a
    key of a sweep spec (a column or key model_config had been refused). An alias beside its
    input is a conflict, named ``where`` + the alias."""
    out = {}
    for key, value in given.items():
        name = INPUT_ALIASES.get(key, key)
        if name != key and value is not None and given.get(name) is not None:
            raise InputError(f"{where}{key}", value if isinstance(value, (str, int, float))
                             else None, f"{name} or {key} (its alias), not both",
                             f"conflicts with {name}")
        if name not in out or value is not None:
            out[name] = value
    return out


# Shape counts whose zero is a shape of its own (Mixtral: no shared expert, no dense layer), as
# a plan's workload reports them: the rest are positive
ZERO_COUNTS = ("shared_experts", "dense_layers")


def parse_shape_count(text, name: str, key: str | None = None) -> int:
    """One whole count of a shape (--layers, --hidden, ...): at most MAX_SHAPE; ``key`` (the
    input's keyword) one of ZERO_COUNTS: 0 too."""
    return parse_int_count(text, name, maximum=MAX_SHAPE, allow_zero=key in ZERO_COUNTS)


def parse_params(text, name: str = "--params") -> float:
    """A parameter count the shape rule reaches (docs/shape.md): 70M to 1000T."""
    n = parse_count(text, name)
    if not MIN_SHAPELESS_PARAMS <= n <= MAX_PARAMS:
        raise InputError(name, text, "a count between 70M and 1000T (e.g. 70B, 1T); a smaller "
                         "model needs its shape (--layers --hidden --heads --vocab --ffn)")
    return n


def parse_seq_len(text, name: str = "--seq-len") -> int:
    """A sequence length: a whole count of tokens, at most MAX_SEQ_LEN."""
    return parse_int_count(text, name, maximum=MAX_SEQ_LEN)


def parse_ffn_type(text, name: str = "--ffn-type") -> str:
    """gated (SwiGLU, three matrices) or plain (two), in any case ('Gated'), as the flag."""
    return parse_word(text, name, FFN_TYPES)


def parse_precision(text, name: str = "--precision") -> str:
    """bf16, fp16, fp8 or fp4, in any case ('FP8'), as the flag takes them."""
    return parse_word(text, name, PRECISIONS)


def parse_framework(text, name: str = "--framework") -> str:
    """A training stack of frameworks.FRAMEWORKS by its key, in any case ('Megatron-Core'),
    as the flag takes it."""
    return parse_word(text, name, tuple(FRAMEWORKS))


# The inputs that are one of an option's words, each read as estimate reads it, in any case
# ('FP8', 'Owned'): a table's and a spec's values are made the canonical word once, where
# they come in (estimate_many, many/spec.py, a config file's flags as a plan reports them),
# so every path past it reads one spelling (the columnar path had priced an 'OWNED' row by
# the method at index -1).
WORDS = {"precision": parse_precision, "ffn_type": parse_ffn_type,
         "framework": parse_framework, "objective": parse_objective,
         "ownership": parse_ownership}


def canonical_word(name: str, value):
    """``value`` of input ``name`` as its canonical word (WORDS) when it is one in any case,
    else as given: the input's own check refuses it later, naming it as given."""
    if name not in WORDS:
        return value
    try:
        return WORDS[name](value)
    except InputError:
        return value


def moe_rule_inputs(**given) -> dict:
    """The MoE rule's keywords (experts, top_k, shared_experts) from inputs given beside a
    parameter count (None: not given), parsed and checked as --params takes them; {} when none
    is given (a dense model)."""
    shape = {k: parse_shape_count(v, flag(k), k) for k, v in given.items() if v is not None}
    return _moe_rule_inputs(shape, None)


def rule_shape(n: float, params, ffn_type: str = "gated", experts: dict | None = None):
    """The shape rule's Architecture for ``n`` parameters (``params`` as the user gave it),
    a mixture of experts with ``experts`` (moe_rule_inputs' keywords); a count the MoE rule
    cannot reach with its experts is an InputError naming --params."""
    experts = experts or {}
    try:
        return shape_for_params(n, ffn_type, **experts)
    except ValueError:  # a mixture of experts too small for the rule's vocabulary
        if not experts:  # the dense rule reaches every count the check of --params lets in
            raise
        raise InputError("--params", params, "a larger count for these experts, or the whole "
                         "shape (--layers --hidden --heads --vocab --experts --top-k "
                         "--expert-ffn)", f"is below what the shape rule reaches with "
                         f"{experts['experts']} experts (its {RULE_VOCAB:,}-token vocabulary "
                         "takes most of a small count)") from None


# --- workload ---------------------------------------------------------------------------------

def _ignored_override(a: Architecture, changed: dict) -> tuple[str, str, str] | None:
    """(input, why, accepted) of a shape override that the overridden shape never reads: the
    dense FFN width of a mixture of experts without dense layers, the KV heads of Multi-head
    Latent Attention (its keys and values come from a latent); None when each one counts."""
    if "ffn" in changed and a.experts and not a.dense_layers:
        return ("ffn", "its every layer's FFN is its experts",
                "--expert-ffn for the experts' width, or --dense-layers with --ffn")
    if "kv_heads" in changed and a.kv_lora_rank:
        return ("kv_heads", "Multi-head Latent Attention draws its keys and values from a "
                "latent, not KV heads", "--kv-lora-rank for the latent's width")
    return None


def workload_file_relative(value, base: Path):
    """A workload file (FILE.toml, config.json) named relative to a sweep spec or a fleet
    file, read relative to that file, as its catalog is, so the file runs alike from any
    directory; any other value as given."""
    if isinstance(value, str) and not Path(value).is_absolute() \
            and (is_workload_file(value) or hf.is_config_path(value)):
        return str((base / value).resolve())
    return value


def resolve_workload(cat: Catalog, used: dict, params=None, tokens=None, workload=None,
                     ffn_type=None, seq_len=None, global_batch=None, precision=None,
                     asm: Assumptions = DEFAULT, **shape) -> Workload:
    """Build the Workload from a catalog key/file, explicit shape flags, or a parameter count."""
    shape = {k: v for k, v in shape.items() if v is not None}
    unknown = set(shape) - set(SHAPE_INPUTS)
    if unknown:
        raise InputError(sorted(unknown)[0], shape[sorted(unknown)[0]],
                         "one of " + ", ".join(SHAPE_INPUTS))
    for k, v in shape.items():
        shape[k] = parse_shape_count(v, flag(k), k)
    if ffn_type is not None:  # the canonical word onwards ('Gated' is gated)
        ffn_type = parse_ffn_type(ffn_type)
    window = {k: shape.pop(k) for k in WINDOW_INPUTS if k in shape}
    own_shape = [k for k in shape if k not in MOE_RULE_FIELDS]  # beyond the MoE rule's
    if params is not None and (workload is not None or own_shape):
        other = "--workload" if workload is not None else flag(own_shape[0])
        raise InputError("--params", params, f"--params (a shape from the parameter count, "
                         f"with {', '.join(map(flag, MOE_RULE_FIELDS))} for a mixture of "
                         f"experts) or {other} (a shape of its own), not both",
                         f"conflicts with {other}")
    forms = "a workload key (planner workloads list), FILE.toml or config.json"
    if workload is not None and not isinstance(workload, (str, Path)):
        # a Workload object (or anything else) is not a name: its key with the catalog
        # holding it, or its file, is
        raise InputError("--workload", None, forms + " (a catalog Workload: its .key, with "
                         "catalog= the directory holding its file)",
                         f"is of type {type(workload).__name__}, not a key or a path")
    if workload is not None and not str(workload).strip():
        raise InputError("--workload", workload, forms, "is empty")
    try:
        is_dir = workload is not None and Path(str(workload)).is_dir()
    except OSError as exc:  # a name the file system refuses (too long, ...): no key either
        text = str(workload)
        raise InputError("--workload", text if len(text) <= 60 else text[:57] + "...", forms,
                         f"is no key and no usable path ({exc.strerror})") from None
    if is_dir:
        inside = Path(str(workload)) / "config.json"
        raise InputError("--workload", str(workload), "a workload key (planner workloads "
                         "list), FILE.toml or config.json", "is a directory"
                         + (f" (did you mean {inside}?)" if inside.is_file() else ""))
    from_config = workload is not None and hf.is_config_path(workload)
    if from_config:  # a Hugging Face config.json: its shape, the rest from flags or defaults
        base: Workload | None = hf.workload(workload, used, asm.seq_len)
    else:
        try:
            base = cat.workload(workload) if workload is not None else None
        except UnknownKeyError:
            if not Path(str(workload)).is_file():
                raise
            # a config.json is read by its name: a file named otherwise had read "unknown
            # workload", as if it did not exist
            suffix = Path(str(workload)).suffix
            raise InputError("--workload", str(workload), forms, (
                f"is a file named {suffix}: a catalog workload file ends in .toml, lower case"
                if suffix.lower() == ".toml" else
                "is a file whose name ends in neither .json (a Hugging Face config.json) nor "
                ".toml (a catalog workload file): name it so")) from None
    if base is not None:
        arch = base.architecture
        count = published_params_problem(base)
        if count:  # the file's own two counts disagree (checked before any override)
            where = ("" if from_config or str(workload).endswith(".toml")
                     else f" ({cat.path('workloads', base.key)})")  # a key: its file
            raise InputError(f"--workload {workload}{where}", None, count[1], count[0])
        if arch is None:  # a catalog workload known by its parameter count only
            try:
                arch = workload_shape(base)
            except ValueError:  # a mixture of experts below the rule's reach with its experts
                raise InputError(f"--workload {workload}", base.published_params,
                                 "a larger count in [training] params for its experts, or "
                                 "the whole published shape in [architecture]",
                                 f"is below what the shape rule reaches with "
                                 f"{base.published_experts[0]} experts") from None
            used["architecture"] = {"value": f"L={arch.layers} h={arch.hidden} "
                                    f"heads={arch.heads} kv={arch.kv_heads} ffn={arch.ffn} "
                                    f"V={arch.vocab}", "source": f"{base.key} publishes no "
                                    f"shape: {rule_source(arch)}"}
            if base.published_active_params and arch.experts:
                # the rule's active count is what plans; the file's own, within
                # PUBLISHED_PARAMS_SLACK of it, is said beside it, never dropped silently
                mine = float(active_params(arch))
                used["active_params"] = {"value": mine, "source": (
                    f"the shape rule's for {base.key}'s count and experts; the file's "
                    f"[training] active_params {fmt_count(base.published_active_params)} is "
                    f"{float(base.published_active_params) / mine:.3g}x it (give the shape in "
                    "[architecture] to plan at the published one)")}
        if shape or ffn_type:
            changed = {**shape, **({"ffn_type": ffn_type} if ffn_type else {})}
            if "layers" in changed and arch.window_layers and "window_layers" not in window:
                # the file's window keeps its pattern over the new depth (Mistral's every
                # layer: 40 of 40; Gemma 2's every second: 42 of 84), not its count (32 of
                # 40 had left 8 layers at full attention)
                # (halves up: alternating windows on 37 layers cover 19, as transformers'
                # every-other rule counts them; Python's round would give 18)
                changed["window_layers"] = max(1, min(changed["layers"], math.floor(
                    arch.window_layers * changed["layers"] / arch.layers + 0.5)))
            new = Architecture(**{**asdict(arch), **_fields(changed)})
            ignored = _ignored_override(new, changed)
            if ignored:  # an override the shape never reads is refused, not shown as applied
                raise InputError(flag(ignored[0]), changed[ignored[0]], ignored[2],
                                 f"changes nothing in workload {base.key}: {ignored[1]}")
            if "window_layers" in changed and "window_layers" not in shape \
                    and "sliding_window" in used:  # the file's window note, at the new depth
                used["sliding_window"] = {"value": new.window, "source": (
                    f"{used['sliding_window']['source']}; over --layers {new.layers}: "
                    f"{new.window_layers} of {new.layers} layers, the file's pattern")}
            arch = new
            typed = [k for k in changed if k in shape or k == "ffn_type"]  # not those derived
            used["architecture"] = {  # an override is applied and reported, never silent
                "value": " ".join(f"{k}={v}" for k, v in changed.items()),
                "source": f"given ({', '.join(flag(k) for k in typed)}) over the shape of "
                          f"workload {base.key}"}
        given = {**shape, "seq_len": seq_len, "global_batch_tokens": global_batch}
        for key, value, why in base.defaulted:
            # a batch or sequence the file leaves out is the assumption's (below), said there
            if given.get(key) is None and key not in ("seq_len", "global_batch_tokens"):
                used[f"workload_{key}"] = {"value": value, "source": f"{base.key}: {why}"}
        w = base.with_(architecture=arch)
    elif shape and params is None:
        need = [k for k in ("layers", "hidden", "heads", "vocab") if k not in shape]
        if need:
            raise InputError(f"--{need[0]}", None, "a full shape needs --layers, --hidden, "
                             "--heads and --vocab (plus --ffn, or --experts/--expert-ffn)")
        if "ffn" not in shape and "experts" not in shape:
            raise InputError("--ffn", None, "a dense shape needs --ffn")
        if ffn_type is None:
            ratio = shape.get("ffn", 0) / shape["hidden"]
            gqa = shape.get("kv_heads", shape["heads"]) < shape["heads"]
            ffn_type = ("plain" if abs(ratio - 4.0) < 0.05 and not gqa
                        and "experts" not in shape else "gated")
            used["ffn_type"] = {"value": ffn_type, "source": "inferred: ffn = 4 x hidden with "
                                "as many KV heads as heads is a plain GPT FFN (GPT-3, OPT, "
                                "BLOOM); any other ratio, grouped KV heads (Llama 3.2 1B's "
                                "ffn is 4 x hidden) or experts a gated (SwiGLU) FFN; "
                                "--ffn-type says which"}
        shape.setdefault("kv_heads", shape["heads"])
        shape.setdefault("ffn", 0)
        arch = Architecture(ffn_type=ffn_type, **_fields(shape))
        # the flags have no word for tied embeddings: said, so a tied model described by them
        # (Llama 3.2 1B: 1.50B where its config.json reads the published 1.24B) is not
        # miscounted silently
        used["tie_embeddings"] = {"value": False, "source": (
            "a shape given by flags: the input embedding and the output projection counted "
            "apart (untied, as Llama 3.1 8B and larger); a tied model (Llama 3.2 1B and 3B, "
            "Gemma) is read tied from its config.json (tie_word_embeddings) or a catalog file "
            "(tie_embeddings = true)")}
        w = Workload(key="custom", name="custom shape", architecture=arch, tokens=0.0)
    elif params is not None:
        n = parse_params(params)  # the shape rule's reach (docs/shape.md)
        arch = rule_shape(n, params, ffn_type or "gated", _moe_rule_inputs(shape, ffn_type))
        width = (f"experts={arch.experts} top_k={arch.top_k} expert_ffn={arch.expert_ffn}"
                 + (f" shared={arch.shared_experts}" if arch.shared_experts else "")
                 if arch.experts else f"ffn={arch.ffn}")
        used["architecture"] = {"value": f"L={arch.layers} h={arch.hidden} heads={arch.heads} "
                                f"kv={arch.kv_heads} {width} V={arch.vocab}"
                                + (f" ffn_type={arch.ffn_type}" if ffn_type else ""),
                                "source": rule_source(arch)}
        if ffn_type is None:  # the contract: an FFN kind not given is reported
            used["ffn_type"] = {"value": arch.ffn_type, "source": "default for --params: gated "
                                "(SwiGLU, three matrices: the FFN of Llama 2-3, Mistral, Qwen "
                                "and DeepSeek); --ffn-type plain for a GPT-style FFN"}
        # the parsed count, however it was spelt: "8B", 8e9 and "8000M" are all "dense 8B"
        # (the name had been the text as given, a number's "8.00B")
        w = Workload(key="custom",
                     name=f"{'MoE' if arch.experts else 'dense'} {fmt_count_short(n)}",
                     architecture=arch, tokens=0.0, published_params=n)
    else:
        raise InputError("--params", None, "give --params N, --workload NAME|FILE.toml|"
                         "config.json or a full shape (--layers --hidden --heads --vocab --ffn)")
    if window:  # over the shape's own window; every layer's when neither says which layers
        used.pop("sliding_window", None)  # a config's own window, replaced: said once below
        a0 = w.architecture
        window.setdefault("window", a0.window)
        window.setdefault("window_layers", a0.window_layers or a0.layers)
        w = w.with_(architecture=replace(a0, **window))
        used["window"] = {"value": f"{window['window']} keys in {window['window_layers']} of "
                          f"{w.architecture.layers} layers", "source": "given (--window, "
                          "--window-layers)"}
    problem = shape_problem(w.architecture) if base is not None or shape or window else None
    if problem:  # named by its flag, or by the workload it came from
        name, reason, accepted = problem
        name_in = INPUT_OF_FIELD.get(name, name)
        missing = reason.startswith("is missing")  # the flag not given is the one to name
        given = flag(name_in) if missing or name_in in shape or (
            name == "ffn_type" and ffn_type) else (
            f"--workload {workload}" if base is not None else flag(name_in))
        raise InputError(given, None if missing else getattr(w.architecture, name), accepted,
                         reason)
    if base is not None or shape:
        n = float(total_params(replace(w.architecture, **{
            k: float(v) for k, v in asdict(w.architecture).items()
            if isinstance(v, int) and not isinstance(v, bool)})))
        if not n <= MAX_PARAMS:
            raise InputError(flag(next(iter(shape))) if shape else "--workload",
                             workload or shape, "a shape of at most 1000T parameters",
                             f"has {n:.3g} parameters")
    problem = w.architecture.routing_problem() if w.architecture is not None else None
    if problem:
        raise _routing_error(*problem, shape)
    changes = {}
    if tokens is not None:
        changes["tokens"] = parse_tokens(tokens)
    elif not w.tokens:
        raise InputError("--tokens", None, "a token count such as 15T")
    assumed = {k for k, v in used.items() if v.get("source") == "given (--assume)"}
    for key, given_flag, value, parse in (
            ("seq_len", "--seq-len", seq_len, parse_seq_len),
            ("global_batch_tokens", "--global-batch", global_batch,
             lambda t: parse_count(t, "--global-batch", maximum=MAX_BATCH_TOKENS))):
        if value is not None:
            changes[key] = parse(value)
            if key in assumed and changes[key] != getattr(asm, key):  # two answers to one
                raise InputError(given_flag, value, f"one of {given_flag} and --assume {key}",
                                 f"conflicts with --assume {key}={getattr(asm, key):g}")
    if seq_len is None and from_config and base.seq_len < asm.seq_len:
        used["seq_len"] = {"value": base.seq_len, "source": f"{workload}: "
                           "max_position_embeddings, the model's context (shorter than the "
                           f"planner default of {asm.seq_len})"}
    elif seq_len is None and (base is None or from_config):
        changes["seq_len"] = asm.seq_len
        if "seq_len" not in assumed:  # --assume seq_len keeps its own source
            used["seq_len"] = {"value": asm.seq_len, "source": asm.source("seq_len")}
    if global_batch is None and (base is None or from_config):
        changes["global_batch_tokens"] = asm.global_batch_tokens
        if "global_batch_tokens" not in assumed:
            used["global_batch_tokens"] = {"value": asm.global_batch_tokens,
                                           "source": asm.source("global_batch_tokens")}
    left = {k for k, _, _ in base.defaulted} if base is not None and not from_config else set()
    for key, option in (("seq_len", "--seq-len"), ("global_batch_tokens", "--global-batch")):
        if key in left and key not in changes:
            # a file without its own figure takes the assumption's, as a plan without a
            # workload does: --assume seq_len=4096 (or a config's [assumptions]) had been
            # ignored for llama3.1-8b, whose file gives none, and 8,192 planned
            changes[key] = getattr(asm, key)
            used[key] = {"value": getattr(asm, key), "source": (
                f"{workload} gives no [training] {key}: "
                + ("given (--assume)" if key in assumed else asm.source(key)))}
        elif key in assumed and key not in changes and base is not None:
            # a catalog workload's own figure wins over the assumption, which serves plans
            # without one: the table had quoted --assume seq_len=4096 for a plan at 8,192
            used[key] = {"value": getattr(base, key), "source": (
                f"{workload}'s own; the assumption {key} = {getattr(asm, key):g} serves "
                f"plans without one ({option} to change this one)")}
    if precision is not None:
        changes["precision"] = parse_precision(precision)
    w = w.with_(**changes)
    # every default the answer used is reported: the precision a plan without a workload of
    # its own falls back on (a catalog workload's own figures are its, shown in `workload`)
    if precision is None and base is None:
        used["precision"] = {"value": w.precision, "source": "planner default: BF16 mixed "
                             "precision, the training norm (--precision to change)"}
    seqs = w.global_batch_tokens / w.seq_len
    if seqs < 1:  # named by where each came from: a flag, an assumption or the workload
        def origin(key: str, flag: str, given) -> str:
            # an assumed figure by its --assume, a default by the flags that set it (a
            # workload file without its own had been blamed for an --assume's batch)
            if given is not None:
                return flag
            if base is not None and not from_config and key not in left:
                return f"--workload {workload} (training.{key})"
            return f"--assume {key}" if key in assumed else \
                f"the default {key}: {flag} or --assume {key} sets it"

        batch = origin("global_batch_tokens", "--global-batch", global_batch)
        seq = origin("seq_len", "--seq-len", seq_len)
        if seq_len is not None and global_batch is None:  # the flag given is the one named
            raise InputError(seq, seq_len, f"a sequence of at most the global batch "
                             f"({w.global_batch_tokens:,.0f} tokens), or a --global-batch of "
                             "at least one sequence",
                             f"is longer than the global batch of "
                             f"{w.global_batch_tokens:,.0f} tokens ({batch})")
        tokens = w.global_batch_tokens
        raise InputError(batch if batch.startswith("--") else "--global-batch",
                         global_batch if global_batch is not None
                         else int(tokens) if float(tokens).is_integer() else tokens,
                         f"a global batch of at least one sequence ({w.seq_len:,} tokens)",
                         f"leaves a global batch of {w.global_batch_tokens:,.0f} tokens, "
                         f"less than one {w.seq_len:,}-token sequence"
                         + (f" ({seq})" if seq != batch else ""))
    if abs(seqs - round(seqs)) > 1e-6:
        fixed = whole_batch(seqs) * w.seq_len
        used["global_batch_tokens"] = {"value": fixed, "source": "rounded to whole sequences "
                                       f"of {w.seq_len} tokens from "
                                       f"{w.global_batch_tokens:,.0f} as given"}
        w = w.with_(global_batch_tokens=float(fixed))
    if w.tokens < w.global_batch_tokens:  # named where the tokens came from (a workload's own)
        raise short_run_error(tokens if tokens is not None else w.tokens, w.global_batch_tokens,
                              "--tokens" if tokens is not None or base is None
                              else f"--workload {workload} (training.tokens)")
    return w


def short_run_error(given, global_batch_tokens: float, name: str = "--tokens") -> InputError:
    """Fewer tokens than one global batch: a run is whole optimizer steps, each of a global
    batch (the estimate and estimate_many check it; ``given``: the tokens as given, ``name``
    where they came from)."""
    return InputError(name, given, f"at least one global batch "
                      f"({global_batch_tokens:,.0f} tokens), or a smaller global batch "
                      "(--assume global_batch_tokens=N, or estimate's --global-batch)",
                      f"is less than one training step's {global_batch_tokens:,.0f} tokens")


def whole_batch(seqs: float) -> int:
    """A batch of ``seqs`` sequences (not whole) rounded to the nearest whole number of them,
    at least one: '16M' tokens of 8192 is 1953.1 sequences -> 1953. The layout search then
    moves it by up to batch_tolerance of that so dp x microbatch divides it; a rounding here to
    a power-of-two multiple (2048, +4.9%) had let the two moves add to ~10% of the batch
    given, and moved it even at batch_tolerance 0."""
    return max(1, round(seqs))


# --- assumptions, accelerators, site ---------------------------------------------------------

def assumption_given(assumptions: dict | Assumptions | None, name: str):
    """The value the caller gave for assumption ``name``, else None: a key of a dict of
    overrides, or a field of an Assumptions object that its with_ set (Assumptions.given) or
    that differs from the default (an object built otherwise carries no record). planner
    schedule's config-file [assumptions] reach its plans as an object: a checkpoint bandwidth
    equal to the default's had lost to a site's slower storage there."""
    if isinstance(assumptions, dict):
        return assumptions.get(name)
    if isinstance(assumptions, Assumptions) and (
            name in assumptions.given or getattr(assumptions, name) != getattr(DEFAULT, name)):
        return getattr(assumptions, name)
    return None


def assumed_used(assumptions: dict | Assumptions | None, asm: Assumptions) -> dict:
    """The used-table entries of the assumptions a caller changed by name (a dict of
    overrides), each as the plan holds it (a team spelt frontier_lab reads "frontier lab"),
    reported as given: what resolve_workload checks a --seq-len or --global-batch against."""
    if not isinstance(assumptions, dict):
        return {}
    return {k: {"value": getattr(asm, k, v), "source": "given (--team)" if k == "team" else
                "given (--assume)"} for k, v in assumptions.items()}


def workload_precision_error(exc: InputError, workload, precision, acc_key: str,
                             w_precision: str) -> InputError:
    """An accelerator's --precision error, named as the workload's when the precision is the
    workload file's, not a flag's."""
    if exc.name != "--precision" or precision is not None or workload is None:
        return exc
    return InputError(f"--workload {workload}", w_precision, f"a workload whose precision "
                      f"{acc_key} has a peak for, or --precision to replace it", exc.reason)


def without_site_storage(site, assumptions: dict | Assumptions | None):
    """The site a plan uses: its storage figure dropped when the caller assumes a checkpoint
    bandwidth (checkpoint_write_gb_per_s), which replaces it as a given PUE replaces the
    site's (it had been ignored wherever a site had one, the default site included)."""
    if site is not None and site.storage_write_bytes_per_s and \
            assumption_given(assumptions, "checkpoint_write_gb_per_s") is not None:
        return replace(site, storage_write_bytes_per_s=None)
    return site


def assumptions_for(assumptions: dict | Assumptions | None, framework: str | None,
                    team: str | None = None) -> Assumptions:
    """The assumptions of a plan: the object given (else the defaults), then the framework's
    overrides, then a dict of overrides by name (each checked against its declared range),
    then the kind of team (--team)."""
    if assumptions is not None and not isinstance(assumptions, (dict, Assumptions)):
        check_overrides(assumptions, "assumptions")  # words the error
    asm = assumptions if isinstance(assumptions, Assumptions) else DEFAULT
    if framework is not None:
        framework = parse_framework(framework)
    asm = for_framework(asm, framework)
    if isinstance(assumptions, dict):
        given = assumptions.get("team")
        if isinstance(given, str) and given.strip() and team_of(given) is not None:
            # spelt as --team takes it (frontier_lab, Frontier-Lab)
            assumptions = {**assumptions, "team": team_of(given)}
        asm = asm.with_(**check_overrides(assumptions))
    if team is not None:
        team = team_given(team, assumptions)
        asm = asm.with_(team=team)
    return asm


def team_given(team, assumptions=None) -> str:
    """A kind of team as --team takes it (its spelling: frontier-lab, Frontier_Lab), checked
    against a team the assumptions name."""
    said = str(team).strip()
    team = team_of(said)
    if team is None:  # an empty text too, as --team "" is (it had read "not said", given)
        raise InputError("--team", said, "one of: " + ", ".join(TEAMS)
                         + " (hyphens or underscores may stand for the spaces)")
    if isinstance(assumptions, dict) and "team" in assumptions \
            and (team_of(str(assumptions["team"])) or assumptions["team"]) != team:
        # two kinds of team: the plan had used one and labelled it as the other
        raise InputError("--team", said, "--team or --assume team=..., not both with "
                         "different kinds", f"conflicts with --assume team="
                         f"{assumptions['team']!r}")
    return team


def stack_for(cat: Catalog, framework: str | None, gpu, assumptions) -> tuple[str, str]:
    """(framework, source) of a plan: the one given (--framework), else the best public stack
    of the accelerator's vendor (frameworks.VENDOR_STACKS); of several accelerators, the
    first's (a plan over several gives each its own: plan/estimate.py prepare)."""
    if framework is not None:  # the canonical key onwards ('Megatron-Core' is megatron-core)
        framework = parse_framework(framework)
    base = assumptions if isinstance(assumptions, Assumptions) else DEFAULT
    if isinstance(assumptions, dict) and isinstance(assumptions.get("accelerator"), str):
        base = base.with_(accelerator=assumptions["accelerator"])
    keys = gpu_keys(gpu, base, {})
    if framework is not None:
        for key in keys:  # a stack its hardware cannot run (neuronx on an H100)
            try:
                vendor = cat.accelerator(key).vendor
            except (KeyError, UnknownKeyError):
                continue  # the accelerator's own error comes later, naming --gpu
            if not runs_on(framework, vendor):
                fits = [f for f in FRAMEWORKS if runs_on(f, vendor)]
                raise InputError("--framework", framework, ", ".join(fits),
                                 f"does not run on {key} ({vendor})")
        return framework, "given (--framework): " + FRAMEWORK_SOURCES[framework]
    try:
        acc = cat.accelerator(keys[0])
    except (KeyError, UnknownKeyError):
        return framework_for(None)
    stack, source = framework_for(acc.vendor)
    flash = (assumptions.get("flash_attention") if isinstance(assumptions, dict)
             else base.flash_attention)
    if stack == "megatron-core" and flash is False:
        # a run without FlashAttention (2022) runs a stack from before it, so from before
        # Megatron-Core's tensor-parallel overlap (Transformer Engine userbuffers, 2023)
        return "megatron", ("flash_attention = false says the run's stack predates "
                            "FlashAttention (Dao et al. 2022) and with it Megatron-Core's "
                            "tensor-parallel overlap: " + FRAMEWORK_SOURCES["megatron"])
    if known_vendor(acc.vendor) not in VENDOR_STACKS:  # a user's own part: no public stack
        return stack, (f"no public stack known for {acc.vendor or 'its vendor'}'s accelerators "
                       f"({acc.key}): {source} (--framework names the one it runs)")
    return stack, f"the best public stack of {acc.vendor} accelerators ({acc.key}): {source}"


def gpu_keys(gpu, asm: Assumptions, used: dict) -> list[str]:
    if gpu is None:
        used["accelerator"] = {"value": asm.accelerator, "source": asm.source("accelerator")}
        return [asm.accelerator]
    keys = [str(g).strip() for g in (gpu if isinstance(gpu, (list, tuple))
                                     else str(gpu).split(","))]
    if not keys or not all(keys):
        raise InputError("--gpu", gpu, "NAME[,NAME...] of accelerators in the catalog",
                         "is empty" if not str(gpu).strip(", ") else "has an empty name")
    return keys


def default_site(cat: Catalog, used: dict) -> Site | None:
    if DEFAULT_SITE in cat.keys("sites"):
        path = cat.path("sites", DEFAULT_SITE)  # a user catalog's file of that key wins
        shipped = cat.roots[0] / "hardware" / "sites" / f"{DEFAULT_SITE}.toml"
        used["site"] = {"value": DEFAULT_SITE, "source": "planner default site profile "
                        + (f"(hardware/sites/{DEFAULT_SITE}.toml)" if path == shipped else
                           f"({path}, a user catalog's file in place of the shipped one)")}
        return cat.site(DEFAULT_SITE)
    return None
