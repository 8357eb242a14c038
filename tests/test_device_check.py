"""The kernel check (benchmarks/device_check.py, docs/validation.md): its comparison runs on
the committed H200 measurements without a GPU, its model column is the step model's own
formula, and the tables in docs/validation.md are the ones it renders today."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import numpy as np
import pytest

from planner.assumptions import DEFAULT

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted((ROOT / "benchmarks" / "device").glob("h200-*.json"))


def _module():
    spec = importlib.util.spec_from_file_location("device_check",
                                                  ROOT / "benchmarks" / "device_check.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def dc():
    return _module()


@pytest.fixture(scope="module")
def report():
    out = {}
    for f in FILES:
        out.update(json.loads(f.read_text()))
    return out


def test_measurements_are_committed(report):
    assert report["device"] == "NVIDIA H200"
    assert len(report["gemms"]) == 440
    assert {r["backend"] for r in report["attention"]} == {"flash", "cudnn"}
    assert report["layers"] and report["experts"]


def test_gemm_model_column_is_the_hand_derived_roofline(dc, report):
    # H200 (hardware/accelerators/h200.toml): 989.4 TFLOP/s dense bf16, MAMF fraction 0.803,
    # 4.8 TB/s HBM; gemm_s adds FLOPs at peak x fraction x gemm_efficiency x K/(K + k0) to
    # the operands' traffic at HBM x hbm_efficiency.
    t = dc.gemm_table(report, "h200")
    i = int(np.flatnonzero((t["m"] == 16384) & (t["k"] == 4096) & (t["n"] == 14336 * 2))[0])
    m, k, n = 16384.0, 4096.0, 28672.0
    rate = 989.4e12 * 0.803 * DEFAULT.gemm_efficiency * k / (k + DEFAULT.gemm_k_overhead)
    traffic = 2.0 * (m * k + k * n + m * n) / (4.8e12 * DEFAULT.hbm_efficiency)
    assert t["model_s"][i] == pytest.approx(2 * m * k * n / rate + traffic, rel=1e-9)
    no_k = 2 * m * k * n / (989.4e12 * 0.803 * DEFAULT.gemm_efficiency) + traffic
    assert t["model_no_k_s"][i] == pytest.approx(no_k, rel=1e-9)


def test_attention_rates_are_the_plans(dc, report):
    # tuned kernel: attention_efficiency x the in-step GEMM rate x s / (s + s0) at the call's
    # sequence s; FlashAttention-2 on Hopper x fa2_hopper_ratio (plan/cluster.py)
    gemm = 989.4e12 * 0.803 * DEFAULT.gemm_efficiency
    rows = dc.attention_table(report, "h200")
    tuned = [r["model_tflops"] for r in rows if r["backend"] == "cudnn"]
    fa2 = [r["model_tflops"] for r in rows if r["backend"] == "flash"]
    seqs = [r["seq"] for r in rows if r["backend"] == "cudnn"]
    assert seqs == [512, 1024, 2048, 4096, 8192, 16384, 32768]
    fill = [s / (s + DEFAULT.attention_fill_tokens) for s in seqs]
    assert tuned == pytest.approx([gemm * DEFAULT.attention_efficiency * f / 1e12
                                   for f in fill])
    assert fa2 == pytest.approx([gemm * DEFAULT.attention_efficiency
                                 * DEFAULT.fa2_hopper_ratio * f / 1e12 for f in fill])
    # fwd + bwd rate: 3.5 units of forward FLOPs over their two times
    r = rows[0]
    assert r["fwd_bwd_tflops"] == pytest.approx(
        3.5 / (1 / r["fwd_tflops"] + 2.5 / r["bwd_tflops"]))


def test_layer_model_is_the_step_models_compute_term(dc, report):
    from planner.frameworks import for_framework
    from planner.model.step import evaluate
    from planner.specs import Architecture
    row = next(r for r in dc.layer_table(report, "h200")
               if r["model"] == "llama3-70b" and r["variant"] == "eager"
               and r["attention"] == "cudnn")
    asm = for_framework(DEFAULT, "fsdp2").with_(flash_attention_2=False)
    hw, _ = dc.planner_hardware("h200", asm)
    arch = Architecture(layers=2, hidden=8192, heads=64, kv_heads=8, ffn=28672, vocab=8)
    out = evaluate(arch, 8192, 8192, hw, 1, 1, 1, 1, 1, 1, 1, 0, 0, asm)
    assert row["model_s"] == pytest.approx(float(out["time"]["compute"]), rel=1e-12)
    assert row["measured_over_model"] == pytest.approx(row["fwd_bwd_s"] / row["model_s"])


def test_validation_doc_carries_the_current_comparison(dc, report):
    doc = (ROOT / "docs" / "validation.md").read_text()
    block = re.search(r"<!-- kernel-check:begin -->\n```\n(.*?)```\n<!-- kernel-check:end -->",
                      doc, re.S)
    assert block, "docs/validation.md lost its kernel-check block"
    assert block.group(1).strip() == dc.render(report, "h200").strip(), (
        "docs/validation.md's kernel check is stale: paste the output of "
        "`uv run python benchmarks/device_check.py compare benchmarks/device/h200-*.json`")


def test_calibrated_constants_table_matches_the_shipped_values():
    doc = (ROOT / "docs" / "validation.md").read_text()
    section = doc.split("## Calibrated constants", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \| ([0-9.]+) \|", section, re.M)
    from planner.calibrate import CALIBRATED
    assert {name for name, _ in rows} == set(CALIBRATED)
    for name, value in rows:
        assert float(value) == pytest.approx(getattr(DEFAULT, name)), name

