"""planner/model/published_mfu.py, the highest MFU published per accelerator and precision
that a plan's table compares its MFU with, is the catalog's: held to a fresh computation from
the throughput rows (planner/validate.py published_mfu). Run this file to regenerate it."""

from pathlib import Path

import pytest

import planner
from planner import report, validate
from planner.model.published_mfu import FAMILY_OF, PUBLISHED_MFU

TARGET = Path(__file__).resolve().parent.parent / "planner" / "model" / "published_mfu.py"


@pytest.fixture(scope="module")
def fresh():
    return validate.published_mfu(planner.catalog())


def test_the_shipped_table_is_the_catalogs(fresh):
    families = validate.accelerator_families(planner.catalog())
    assert fresh == PUBLISHED_MFU, "run: uv run python tests/test_published_mfu.py"
    assert families == FAMILY_OF, "run: uv run python tests/test_published_mfu.py"
    assert TARGET.read_text() == validate.render_published_mfu(fresh, families)


def test_the_table_holds_published_figures(fresh):
    # MaxText's v5p README: 32B at 71.47% MFU (its best row), the planner's count of the same
    # FLOPs within a point; Megatron-Core's 2024 weak scaling: 16B at 489.1 TFLOP/s of the
    # H100's 989 (49.5% in its convention, 47.1% as the planner counts causal attention)
    assert fresh["tpu-v5p"]["rows"] == 8 and fresh["tpu-v5p"]["bf16"][1] == \
        "maxtext-v5p-32b-1x-v5p128"
    assert fresh["tpu-v5p"]["bf16"][0] == pytest.approx(0.7147, abs=0.01)
    assert fresh["h100-sxm"]["bf16"][1] == "mcore24-weak-16b-192g"
    assert all(0 < v[0] < 1 for e in fresh.values() for k, v in e.items() if k != "rows")


def test_a_plans_table_compares_its_mfu_with_the_published():
    # TPU v5p at 1,024 chips plans 70B at ~75% MFU, above MaxText's best published 71.5%;
    # TPU v3 has no published throughput row; a 1T plan on H100 (44%) is below the best
    above = planner.estimate(params="70B", tokens="2T", gpu="tpu-v5p", gpus=1024).to_dict()
    assert above["mfu"] > PUBLISHED_MFU["tpu-v5p"]["bf16"][0]
    text = report.plan_table(above)
    assert "above the best published on tpu-v5p at bf16, 71.5% (maxtext-v5p-32b-1x-v5p128)" \
        in text
    none = planner.estimate(params="70B", tokens="2T", gpu="tpu-v3", gpus=1024).to_dict()
    assert "tpu-v3" not in PUBLISHED_MFU
    assert "no scored throughput row on tpu-v3 to check it against" in report.plan_table(none)
    # no row on H200, whose family (Hopper) has the H100's: compared with that one (an
    # auditor's 53% on H200 had read "no row", the same plan on H100 "above the best"); fp16
    # runs at bf16's peak and is compared with it
    h200 = planner.estimate(params="70B", tokens="15T", gpu="h200").to_dict()
    assert "bf16" not in PUBLISHED_MFU.get("h200", {})
    assert FAMILY_OF["h200"] == FAMILY_OF["h100-sxm"]
    best = PUBLISHED_MFU["h100-sxm"]["bf16"]
    assert h200["mfu"] > best[0]
    assert (f"above the best published on its family ({FAMILY_OF['h200']}) at bf16, "
            f"{best[0]:.1%} ({best[1]}, h100-sxm)") in report.plan_table(h200)
    assert "bf16" in PUBLISHED_MFU["a100-40gb"] and "fp16" not in PUBLISHED_MFU["a100-80gb"]
    below = planner.estimate(params="1T", tokens="15T").to_dict()
    line = next(ln for ln in report.plan_table(below).splitlines()
                if ln.startswith("utilisation"))
    assert "published" not in line


if __name__ == "__main__":
    cat = planner.catalog()
    TARGET.write_text(validate.render_published_mfu(validate.published_mfu(cat),
                                                    validate.accelerator_families(cat)))
    print(f"wrote {TARGET}")
