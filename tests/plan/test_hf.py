"""Hugging Face config.json as a workload (plan/hf.py): one config per family, written from the
published key layouts, each held to its model's published parameter count; errors for a
config the planner cannot read; the plan names the file the shape came from."""

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import cli
import planner
from planner.model.architecture import active_params, total_params
from planner.plan import hf
from planner.units import InputError

DATA = Path(__file__).resolve().parent.parent / "data" / "hf"

# file: (published total parameters, published active parameters or None, source). Tolerance
# 1%: the planner counts the matrices and two norms per layer, not biases or extra norms.
PUBLISHED = {
    "llama3.1-8b.json": (8.03e9, None, "meta-llama/Llama-3.1-8B model page: 8.03B params"),
    "mistral-7b.json": (7.24e9, None, "mistralai/Mistral-7B-v0.1 model page: 7.24B params"),
    "mixtral-8x7b.json": (46.7e9, 12.9e9, "Mistral AI, 'Mixtral of experts' (2023-12-11): "
                          "46.7B total, 12.9B per token"),
    "qwen2-7b.json": (7.62e9, None, "Qwen/Qwen2-7B model page: 7.62B params"),
    "qwen2-57b-a14b.json": (57.4e9, 14e9, "Qwen/Qwen2-57B-A14B model page: 57.4B; Qwen2 report "
                            "(arXiv 2407.10671) Table 1: 14B activated"),
    "qwen3-8b.json": (8.2e9, None, "Qwen/Qwen3-8B model card: 8.2B, 6.95B non-embedding"),
    "qwen3-30b-a3b.json": (30.5e9, 3.3e9, "Qwen/Qwen3-30B-A3B model card: 30.5B total, 3.3B "
                           "activated"),
    "deepseek-v2-lite.json": (15.7e9, None, "DeepSeek-V2 report (arXiv 2405.04434), "
                              "DeepSeek-V2-Lite: 15.7B total"),
    "deepseek-v3.json": (671e9, 37e9, "DeepSeek-V3 report (arXiv 2412.19437), abstract: 671B "
                         "total, 37B activated per token"),
    "gemma-7b.json": (786_825_216 + 7_751_248_896, None, "Gemma report (arXiv 2403.08295) "
                      "Table 2: 7B embedding and non-embedding parameters"),
    "gemma2-9b.json": (917_504_000 + 8_324_201_984, None, "Gemma 2 report (arXiv 2408.00118) "
                       "Table 2: 9B embedding and non-embedding parameters"),
    "pythia-1.4b.json": (1_414_647_808, None, "EleutherAI/pythia README, model table: "
                         "1,414,647,808 total"),
    "falcon-180b.json": (179.5e9, None, "Almazrouei et al. 2023 (arXiv 2311.16867) and the "
                         "falcon-180b workload's published count (179.5B)"),
    "gemma3-1b.json": (302e6 + 698e6, None, "Gemma 3 report (arXiv 2503.19786) Table 1: 1B, "
                       "302M embedding and 698M non-embedding parameters"),
    "olmoe-1b-7b.json": (6.9e9, 1.3e9, "Muennighoff et al. 2024, OLMoE (arXiv 2409.02060): "
                         "6.9B total, 1.3B active (the olmoe-1b-7b workload's figures)"),
    "granite3.0-8b.json": (8.1e9, None, "Granite 3.0 report (ibm-granite/granite-3.0-language-"
                           "models, paper.pdf) Table 1: 8.1B"),
    "gemma3-4b-multimodal.json": (675e6 + 3209e6, None, "Gemma 3 report (arXiv 2503.19786) "
                                  "Table 1: 4B, 675M embedding and 3,209M non-embedding "
                                  "parameters (its 417M vision encoder is not planned)"),
    "gpt-oss-120b.json": (116.8e9, None, "gpt-oss model card (arXiv 2508.10925) sec. 2: "
                          "116.8B total"),
    "gpt-oss-20b.json": (20.9e9, None, "gpt-oss model card (arXiv 2508.10925) sec. 2: 20.9B "
                         "total; active below"),
}


def arch(name):
    return hf.load(DATA / name)[0]


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_configs_give_the_published_parameter_count(name):
    total, active, _source = PUBLISHED[name]
    a = arch(name)
    assert float(total_params(a)) == pytest.approx(total, rel=0.01)
    if active is not None:
        assert float(active_params(a)) == pytest.approx(active, rel=0.02)


def test_every_family_has_a_test_config():
    seen = {json.loads(p.read_text())["model_type"] for p in DATA.glob("*.json")}
    assert seen == set(hf.MODEL_TYPES) | {"gemma3"}
    assert set(hf.MULTIMODAL.values()) <= set(hf.MODEL_TYPES)


def test_a_multimodal_config_plans_its_language_model(tmp_path):
    # a multimodal Gemma 3 names only what its text model changes from Gemma3TextConfig's
    # defaults (8 heads, 4 KV heads of 256, a vocabulary of 262,208): the report's 3,209M
    # non-embedding parameters, each key read from the text config or its default
    a = arch("gemma3-4b-multimodal.json")
    assert (a.layers, a.hidden, a.heads, a.kv_heads, a.head_size, a.ffn, a.vocab) == \
        (34, 2560, 8, 4, 256, 10240, 262_208)
    assert float(total_params(a)) - a.vocab * a.hidden == pytest.approx(3209e6, rel=0.001)
    plan = planner.estimate(workload=str(DATA / "gemma3-4b-multimodal.json"), tokens="4T",
                            gpus=512, alternatives=False)
    source = plan.assumptions["architecture"]["source"]
    assert "model_type gemma3: its text_config, gemma3_text; the vision encoder is not " \
        "counted" in source
    assert plan.assumptions["sliding_window"]["value"] == 1024
    bad = tmp_path / "config.json"
    bad.write_text(json.dumps({"model_type": "gemma3", "vision_config": {}}))
    with pytest.raises(InputError, match="a gemma3 config without a text_config object"):
        hf.load(bad)
    # Mistral 3 wraps a Mistral text model the same way
    inner = json.loads((DATA / "mistral-7b.json").read_text())
    bad.write_text(json.dumps({"model_type": "mistral3", "text_config": inner,
                               "vision_config": {"model_type": "pixtral"}}))
    assert hf.load(bad)[0] == arch("mistral-7b.json")
    # an explicit null takes the default too, as transformers' class would
    bad.write_text(json.dumps({"model_type": "gemma3_text", "num_attention_heads": None,
                               "hidden_size": 2560, "num_hidden_layers": 34,
                               "intermediate_size": 10240, "sliding_window": 1024}))
    assert hf.load(bad)[0] == a
    # the window too: 4,096 keys by default, in all but every 6th layer
    bad.write_text(json.dumps({"model_type": "gemma3_text", "hidden_size": 2560,
                               "num_hidden_layers": 34, "intermediate_size": 10240}))
    assert (hf.load(bad)[0].window, hf.load(bad)[0].window_layers) == (4096, 29)


def test_gpt_oss_active_count_and_the_newer_families_read():
    # the gpt-oss card's 3.6B active parameters leave out the input embedding (the
    # unembedding runs for every token): active - vocab x hidden
    a = arch("gpt-oss-20b.json")
    assert (a.experts, a.top_k, a.expert_ffn, a.ffn, a.head_size) == (32, 4, 2880, 0, 64)
    assert float(active_params(a)) - a.vocab * a.hidden == pytest.approx(3.6e9, rel=0.01)
    big = arch("gpt-oss-120b.json")  # the card's 5.1B active, the same way
    assert float(active_params(big)) - big.vocab * big.hidden == pytest.approx(5.1e9, rel=0.01)
    g = arch("gemma3-1b.json")  # tied by Gemma 3's default (configuration_gemma3.py)
    assert g.tie_embeddings and g.head_size == 256 and g.ffn_type == "gated"
    # OLMo 2 leaves tie_word_embeddings to its default, False (configuration_olmo2.py): the
    # count is the hand count of an untied Llama-style decoder
    o = arch("olmo2-7b.json")
    per_layer = 4 * 4096 * 4096 + 3 * 4096 * 11008 + 2 * 4096
    assert not o.tie_embeddings
    assert float(total_params(o)) == 32 * per_layer + 2 * 100352 * 4096 + 4096
    # Granite MoE reads as the Granite 3.0 1B-A400M workload, whose shape is the report's
    moe, cat = arch("granite3.0-1b-a400m.json"), planner.catalog()
    known = cat.workload("granite3.0-1b-a400m").architecture
    assert (moe.experts, moe.top_k, moe.expert_ffn, moe.shared_experts, moe.dense_layers) == \
        (32, 8, 512, 0, 0)
    assert float(total_params(moe)) == float(total_params(known))
    assert float(active_params(moe)) == float(active_params(known))


def test_qwen3_non_embedding_count():
    # Qwen/Qwen3-8B model card: 6.95B non-embedding (both embedding matrices left out)
    a = arch("qwen3-8b.json")
    assert float(total_params(a)) - 2 * a.vocab * a.hidden == pytest.approx(6.95e9, rel=0.005)


def test_shapes_read_per_family():
    v3 = arch("deepseek-v3.json")
    assert (v3.experts, v3.top_k, v3.expert_ffn, v3.shared_experts, v3.dense_layers) == \
        (256, 8, 2048, 1, 3)
    assert (v3.kv_lora_rank, v3.q_lora_rank, v3.rope_head_dim, v3.v_head_dim, v3.head_size) == \
        (512, 1536, 64, 128, 128)
    # node-limited routing: n_group 8, topk_group 4 (DeepSeek-V3 report sec. 4.2: M = 4)
    assert (v3.expert_groups, v3.group_top_k) == (8, 4)
    lite = arch("deepseek-v2-lite.json")
    assert lite.q_lora_rank == 0 and lite.shared_experts == 2 and lite.dense_layers == 1
    assert (lite.expert_groups, lite.group_top_k) == (0, 0)       # n_group 1: unrestricted
    assert arch("qwen2-57b-a14b.json").shared_experts == 8      # 20480 / 2560
    assert arch("mixtral-8x7b.json").expert_ffn == 14336
    assert arch("gemma-7b.json").head_size == 256 and arch("gemma-7b.json").tie_embeddings
    assert arch("qwen3-8b.json").head_size == 0                   # 32 x 128 = 4096: no override
    assert arch("pythia-1.4b.json").ffn_type == "plain"
    assert arch("falcon-180b.json").kv_heads == 8                 # new decoder: num_kv_heads


def test_the_catalog_and_the_config_agree():
    cat = planner.catalog()
    for config, key in (("llama3.1-8b.json", "llama3.1-8b"), ("deepseek-v3.json", "deepseek-v3"),
                        ("pythia-1.4b.json", "pythia-1.4b"), ("falcon-180b.json", "falcon-180b"),
                        ("olmoe-1b-7b.json", "olmoe-1b-7b"),
                        ("gpt-oss-120b.json", "gpt-oss-120b")):
        assert arch(config) == cat.workload(key).architecture, config


def test_made_up_multi_query_parallel_decoder():
    # A parallel attention+MLP decoder with one key/value head and a plain 4h GELU FFN, tied
    # embeddings (the family's default): counted by hand.
    a = arch("multi-query-parallel-decoder.json")
    h, L, V, heads = 2048, 16, 50000, 32
    attn = 2 * h * h + 2 * h * (h // heads)           # Q, O; one K and one V head
    expected = L * (attn + 2 * h * 4 * h + 2 * h) + V * h + h
    assert (a.kv_heads, a.ffn, a.tie_embeddings) == (1, 4 * h, True)
    assert float(total_params(a)) == expected


def test_a_plan_names_the_file_and_the_defaults():
    path = DATA / "pythia-1.4b.json"
    plan = planner.estimate(workload=str(path), tokens="300B", gpus=64)
    assert plan.feasible
    asm = plan.assumptions
    assert str(path) in asm["architecture"]["source"]
    assert "model_type gpt_neox" in asm["architecture"]["source"]
    # the model's context (2,048) is shorter than the planner's default sequence (8,192)
    assert plan.workload["seq_len"] == 2048
    assert "max_position_embeddings" in asm["seq_len"]["source"]
    assert plan.workload["params"] == pytest.approx(1_414_647_808, rel=0.001)
    given = planner.estimate(workload=str(path), tokens="300B", gpus=64, seq_len=1024)
    assert given.workload["seq_len"] == 1024 and "seq_len" not in given.assumptions


def test_the_same_plan_as_the_catalog_workload():
    kw = dict(tokens="15T", gpus=1024, seq_len=8192, global_batch="16M")
    a = planner.estimate(workload=str(DATA / "llama3.1-8b.json"), **kw)
    b = planner.estimate(workload="llama3.1-8b", **kw)
    assert a.training_days == b.training_days and a.layout == b.layout


def test_estimate_many_reads_configs_per_row():
    import pyarrow as pa

    table = pa.table({"workload": [str(DATA / "mistral-7b.json"), str(DATA / "qwen2-7b.json")],
                      "tokens": ["2T", "2T"], "gpus": [256, 256]})
    out = planner.estimate_many(table).to_pydict()
    assert out["error"] == [None, None]
    assert out["workload_params"][0] == pytest.approx(7.24e9, rel=0.01)
    assert out["workload_params"][1] == pytest.approx(7.62e9, rel=0.01)


@pytest.mark.parametrize("text, words", [
    ("{not json", ["not valid JSON", "line 1"]),
    ("[1, 2]", ["no JSON object"]),
    ('{"model_type": "t5", "num_hidden_layers": 2}', ["model_type 't5'", "llama", "gpt_neox"]),
    ('{"model_type": "llama", "hidden_size": 4096}', ["no 'num_hidden_layers'"]),
    ('{"model_type": "llama", "num_hidden_layers": 2, "hidden_size": 64.5, '
     '"num_attention_heads": 2, "vocab_size": 10, "intermediate_size": 8}', ["hidden_size"]),
    ('{"model_type": "llama", "num_hidden_layers": 2, "hidden_size": 64, '
     '"num_attention_heads": 3, "num_key_value_heads": 2, "vocab_size": 10, '
     '"intermediate_size": 8}', ["not a multiple"]),
    # the key is named (it said "8 is not between 1 and the 4 experts")
    ('{"model_type": "mixtral", "num_hidden_layers": 2, "hidden_size": 64, '
     '"num_attention_heads": 2, "num_key_value_heads": 2, "vocab_size": 10, '
     '"intermediate_size": 8, "num_local_experts": 4, "num_experts_per_tok": 8}',
     ["num_experts_per_tok = 8, more than its 4 experts"]),
])
def test_bad_configs_are_input_errors(tmp_path, text, words):
    path = tmp_path / "config.json"
    path.write_text(text)
    with pytest.raises(InputError) as exc:
        planner.estimate(workload=str(path), tokens="1T")
    assert exc.value.name == "--workload"
    for w in words:
        assert w in str(exc.value), (w, str(exc.value))


def test_a_missing_file_is_an_input_error():
    with pytest.raises(InputError, match="is not a file"):
        planner.estimate(workload="no/such/config.json", tokens="1T")


def test_cli_model_config_and_its_errors(tmp_path):
    runner = CliRunner()
    r = runner.invoke(cli.app, ["estimate", "--model-config", str(DATA / "gemma2-9b.json"),
                                "--tokens", "8T", "--gpus", "512"])
    assert r.exit_code == 0, r.output
    assert "gemma2-9b.json" in r.output and "9.24B parameters" in r.output
    bad = tmp_path / "config.json"
    bad.write_text('{"model_type": "whisper"}')
    r = runner.invoke(cli.app, ["estimate", "--model-config", str(bad), "--tokens", "1T"])
    assert r.exit_code == 2 and "model_type 'whisper'" in r.output
    assert "Traceback" not in r.output


@pytest.mark.parametrize("change, says", [
    ({"hidden_size": float("nan")}, "hidden_size = nan; a whole number from 1 to 16,777,216"),
    ({"head_dim": float("inf")}, "head_dim = inf; a whole number from 0 to 16,777,216"),
    ({"tie_word_embeddings": "false"}, "tie_word_embeddings = 'false'; true or false"),
    ({"max_position_embeddings": "2048"}, "max_position_embeddings = '2048'; a whole number"),
    ({"model_type": ["llama"]}, "has model_type ['llama'], which the planner does not read"),
])
def test_a_config_value_of_the_wrong_kind_is_named(tmp_path, change, says):
    # was: internal errors (NaN, inf, a list as model_type) or a silent misreading ("false"
    # read as true, a string context ignored)
    path = tmp_path / "config.json"
    base = json.loads((DATA / "llama3.1-8b.json").read_text())
    path.write_text(json.dumps({**base, **change}))
    with pytest.raises(InputError, match=re.escape(says)):
        planner.estimate(workload=str(path), tokens="1T", gpus=64)


def test_a_config_with_a_sliding_window_plans_it_where_its_layers_are_known(tmp_path):
    # Mistral 7B v0.1: a 4,096-key window in every layer (its modelling code); at 32K tokens
    # the band is a fraction of the causal prefix, so the model FLOPs and the days fall
    path = tmp_path / "config.json"
    base = json.loads((DATA / "mistral-7b.json").read_text())
    path.write_text(json.dumps({**base, "sliding_window": 4096}))
    kw = dict(tokens="1T", gpus=64, seq_len=32768, alternatives=False)
    plan = planner.estimate(workload=str(path), **kw)
    assert (plan.workload["window"], plan.workload["window_layers"]) == (4096, 32)
    assert plan.assumptions["sliding_window"]["value"] == 4096
    assert "4096 keys in 32 of 32 layers (every layer)" in \
        plan.assumptions["sliding_window"]["source"]
    path.write_text(json.dumps({**base, "sliding_window": 4096, "use_sliding_window": False}))
    full = planner.estimate(workload=str(path), **kw)
    assert "sliding_window" not in full.assumptions and full.workload["window"] == 0
    assert plan.model_flops < full.model_flops and plan.training_days < full.training_days
    # the layers each family's window covers, where the file lists no layer_types
    assert (arch("gpt-oss-20b.json").window, arch("gpt-oss-20b.json").window_layers) == (128, 12)
    assert (arch("gemma2-9b.json").window, arch("gemma2-9b.json").window_layers) == (4096, 21)
    assert (arch("gemma3-1b.json").window, arch("gemma3-1b.json").window_layers) == (512, 22)
    # layer_types, where given, say it; a Qwen window (set by max_window_layers) is not read
    oss = json.loads((DATA / "gpt-oss-20b.json").read_text())
    path.write_text(json.dumps({**oss, "layer_types": ["sliding_attention"] * 20
                                + ["full_attention"] * 4}))
    assert hf.load(path)[0].window_layers == 20
    # every layer listed as full attention: no window, whatever sliding_window says (a valid
    # file had been refused); a list that does not hold one entry a layer is refused
    path.write_text(json.dumps({**oss, "layer_types": ["full_attention"] * 24}))
    assert hf.load(path)[0].window == 0
    path.write_text(json.dumps({**oss, "layer_types": ["sliding_attention"] * 10}))
    with pytest.raises(InputError, match="layer_types of 10 entries for its 24 layers"):
        hf.load(path)
    qwen = json.loads((DATA / "qwen2-7b.json").read_text())
    path.write_text(json.dumps({**qwen, "use_sliding_window": True}))
    plan = planner.estimate(workload=str(path), tokens="1T", gpus=64, alternatives=False)
    assert plan.workload["window"] == 0
    assert "not modelled (a qwen2 window is not read)" in \
        plan.assumptions["sliding_window"]["source"]


def test_a_folder_holding_a_config_is_named_with_the_file_to_pass(tmp_path):
    (tmp_path / "config.json").write_text((DATA / "mistral-7b.json").read_text())
    with pytest.raises(InputError, match=r"is a directory \(did you mean .*config.json\?\)"):
        planner.estimate(workload=str(tmp_path), tokens="1T", gpus=64)


def test_mla_keys_without_their_latent_are_refused(tmp_path):
    # was: DeepSeek's MLA keys with kv_lora_rank 0 fell back to plain attention of width 56
    path = tmp_path / "config.json"
    base = json.loads((DATA / "deepseek-v2-lite.json").read_text())
    path.write_text(json.dumps({**base, "kv_lora_rank": 0}))
    with pytest.raises(InputError, match="but no kv_lora_rank"):
        planner.estimate(workload=str(path), tokens="1T", gpus=64)


def test_a_deepseek_config_without_its_routed_experts_is_refused(tmp_path):
    # it had planned DeepSeek-V3's shape as a dense 37B model
    data = json.loads((DATA / "deepseek-v2-lite.json").read_text())
    del data["n_routed_experts"]
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError, match="has no 'n_routed_experts'"):
        hf.load(path)


def test_a_multi_token_prediction_module_is_said_to_be_left_out(tmp_path):
    data = json.loads((DATA / "deepseek-v2-lite.json").read_text())
    path = tmp_path / "config.json"
    path.write_text(json.dumps({**data, "num_nextn_predict_layers": 1}))
    plan = planner.estimate(workload=str(path), tokens="1T", gpus=64, alternatives=False)
    said = plan.assumptions["multi_token_prediction"]
    assert said["value"] == 1 and "not modelled" in said["source"]


@pytest.mark.parametrize("name, leave_out", [
    # an audit: a key the file leaves out took the planner's fallback, not its family's
    # default in transformers (MistralConfig and MixtralConfig: 8 key/value heads; Qwen3Config
    # and Gemma2Config: head_dim 128 and 256), so the published counts moved 2-13%
    ("mistral-7b.json", ("num_key_value_heads",)),
    ("mixtral-8x7b.json", ("num_key_value_heads",)),
    ("qwen3-8b.json", ("head_dim",)),
    ("gemma2-9b.json", ("head_dim",)),
])
def test_a_key_left_out_takes_its_familys_default(tmp_path, name, leave_out):
    data = json.loads((DATA / name).read_text())
    whole = hf.architecture_from_config(data)
    cut = tmp_path / name
    cut.write_text(json.dumps({k: v for k, v in data.items() if k not in leave_out}))
    short = hf.architecture_from_config(json.loads(cut.read_text()))
    assert total_params(short) == total_params(whole)
    assert active_params(short) == active_params(whole)


def test_a_mistral_window_left_out_is_its_default_and_null_is_none():
    data = json.loads((DATA / "mistral-7b.json").read_text())
    absent = {k: v for k, v in data.items() if k != "sliding_window"}
    assert hf.architecture_from_config(absent).window == 4096  # MistralConfig's default
    # null is transformers' "no window" (Mistral 7B v0.2 and later write it), and a null
    # num_key_value_heads is one per query head (MistralConfig's backward compatibility)
    nulled = {**data, "sliding_window": None, "num_key_value_heads": None}
    arch = hf.architecture_from_config(nulled)
    assert arch.window == 0 and arch.kv_heads == arch.heads


def test_a_shape_by_flags_says_its_embeddings_are_untied():
    # an audit: Llama 3.2 1B by flags counted 1.50B (its config.json, tied, the published
    # 1.24B) without a word; the flags have no tie, so the plan says it counts both matrices
    plan = planner.estimate(layers=16, hidden=2048, heads=32, kv_heads=8, ffn=8192,
                            vocab=128256, tokens="1T", gpus=64, alternatives=False)
    said = plan.assumptions["tie_embeddings"]
    assert said["value"] is False and "config.json" in said["source"]
    assert plan.workload["params"] == pytest.approx(1_235_814_400 + 128256 * 2048)


@pytest.mark.parametrize("name, layers, windowed", [
    # an audit: --layers over a config kept the file's count of windowed layers (Mistral's
    # 32 of 40, Gemma 2's 21 of 84) where the file's pattern is every layer, every second
    ("mistral-7b.json", 40, 40),
    ("gemma2-9b.json", 84, 42),
])
def test_layers_over_a_config_keep_its_window_pattern(name, layers, windowed):
    plan = planner.estimate(workload=str(DATA / name), layers=layers, tokens="1T", gpus=64,
                            alternatives=False)
    assert plan.workload["layers"] == layers and plan.workload["window_layers"] == windowed
    assert f"{windowed} of {layers} layers" in plan.assumptions["sliding_window"]["source"]
    assert plan.assumptions["architecture"]["source"].startswith("given (--layers) over")


def test_a_window_given_over_a_configs_is_said_once():
    plan = planner.estimate(workload=str(DATA / "gemma2-9b.json"), window=8192, tokens="1T",
                            gpus=64, alternatives=False)
    assert plan.workload["window"] == 8192
    assert "sliding_window" not in plan.assumptions and "window" in plan.assumptions


def test_a_config_file_without_the_json_name_says_so(tmp_path):
    # an audit: it read "unknown workload" with the catalog's ~100 keys, as if it did not exist
    path = tmp_path / "noext"
    path.write_text((DATA / "llama3.1-8b.json").read_text())
    with pytest.raises(InputError) as exc:
        planner.estimate(workload=str(path), tokens="1T")
    assert exc.value.name == "--workload" and "neither .json" in str(exc.value)


def test_an_alternating_window_over_an_odd_depth_counts_as_transformers_does():
    # a review: gpt-oss's 18 of 36 over --layers 37 gave 18 (Python's round(18.5)); the
    # every-other rule covers 19
    plan = planner.estimate(workload=str(DATA / "gpt-oss-120b.json"), layers=37, tokens="1T",
                            gpus=64, alternatives=False)
    assert plan.workload["window_layers"] == 19
