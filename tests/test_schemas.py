"""The published JSON Schemas (planner/schemas/*.schema.json) are what the declarations in
planner/catalog.py, many/sweep.py, fleet/spec.py and planner/assumptions.py produce
(regenerate: `uv run python tests/test_schemas.py`), and they agree with the planner's own
check: every shipped file passes both, every broken one fails both."""

import datetime
import json
import math
import tomllib
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.assumptions import SCHEMA as ASSUMPTIONS
from planner.catalog_schema import ACCELERATOR, NETWORK, SITE, WORKLOAD
from planner.fleet import spec as fleet_spec
from planner.many import sweep as sweeping
from planner.schema import Number, SchemaError, check, document

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "planner" / "schemas"

DECLARATIONS = {
    "accelerator": (ACCELERATOR, "planner accelerator file",
                    "One accelerator of the catalog (hardware/accelerators/KEY.toml): every "
                    "figure { value, source, as_of } within its valid range (docs/catalog.md)."),
    "network": (NETWORK, "planner network file",
                "One network of the catalog (hardware/networks/KEY.toml), docs/catalog.md."),
    "site": (SITE, "planner site file",
             "One site of the catalog (hardware/sites/KEY.toml), docs/catalog.md."),
    "workload": (WORKLOAD, "planner workload file",
                 "One workload (workloads/KEY.toml): architecture, training and the published "
                 "runs it is checked against, docs/catalog.md."),
    "sweep": (sweeping.SCHEMA, "planner sweep spec",
              "planner sweep SPEC.toml: [fixed], [axes] and [zip] of estimate's (or, with "
              "mode = \"budget\", budget's) inputs by name."),
    "fleet": (fleet_spec.SCHEMA, "planner fleet file",
              "planner schedule FLEET.toml: sites over time and the runs to place on them "
              "(docs/scheduling.md)."),
    "assumptions": (ASSUMPTIONS, "planner assumptions",
                    "Overrides of planner's modelling assumptions by name, each within its "
                    "declared range (planner/assumptions.py; --assume NAME=VALUE)."),
}


def expected() -> dict[str, str]:
    return {f"{name}.schema.json": json.dumps(document(node, title, text), indent=2) + "\n"
            for name, (node, title, text) in DECLARATIONS.items()}


def test_published_schemas_are_current():
    want = expected()
    have = {p.name: p.read_text() for p in FOLDER.glob("*.schema.json")}
    assert have == want, "planner/schemas is stale: run uv run python tests/test_schemas.py"


def _json(value):
    """TOML as JSON sees it (dates become ISO text)."""
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json(v) for v in value]
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def validator(name: str):
    schema = json.loads((FOLDER / f"{name}.schema.json").read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())


FILES = ([("accelerator", p) for p in sorted((ROOT / "hardware/accelerators").glob("*.toml"))]
         + [("network", p) for p in sorted((ROOT / "hardware/networks").glob("*.toml"))]
         + [("site", p) for p in sorted((ROOT / "hardware/sites").glob("*.toml"))]
         + [("workload", p) for p in sorted((ROOT / "workloads").glob("*.toml"))]
         + [("fleet", p) for p in sorted((ROOT / "workloads/fleets").glob("*.toml"))])


@pytest.mark.parametrize("kind, path", FILES, ids=[p.name for _, p in FILES])
def test_every_shipped_file_meets_its_published_schema(kind, path):
    data = tomllib.loads(path.read_text())
    errors = [e.message for e in validator(kind).iter_errors(_json(data))]
    assert errors == [], (path, errors[:3])
    check(DECLARATIONS[kind][0], data)  # and the planner's own check


H100 = tomllib.loads((ROOT / "hardware/accelerators/h100-sxm.toml").read_text())


def _with(figure: str, **changes) -> dict:
    data = json.loads(json.dumps(H100))
    data[figure] = {**data[figure], **changes}
    return data


@pytest.mark.parametrize("data", [
    _with("scale_out_gb_per_s", value=-50),          # negative bandwidth (issue #17)
    _with("peak_bf16_tflops", value=-989.4),
    _with("matmul_bf16_fraction", value=5),          # a fraction above 1
    _with("devices_per_node", value=7.5),            # half a device
    _with("scale_up_domain", value=0),
    _with("hbm_gb", value="80"),                     # text for a number
    {**H100, "colour": "green"},                     # an unknown key
    {k: v for k, v in H100.items() if k != "hbm_gb"},  # a required figure missing
    _with("tdp_w", source=None),                     # a figure without its source
], ids=["negative", "negative-peak", "fraction", "half-device", "zero-domain", "text",
        "unknown-key", "missing", "no-source"])
def test_a_broken_file_fails_both_checks(data):
    clean = {k: v for k, v in data.items()}
    if "tdp_w" in clean and clean["tdp_w"].get("source", "") is None:
        clean["tdp_w"] = {k: v for k, v in clean["tdp_w"].items() if k != "source"}
    assert list(validator("accelerator").iter_errors(clean)), "the JSON Schema let it through"
    with pytest.raises(SchemaError):
        check(ACCELERATOR, clean)


def _numbers(node, found):
    """Every Number a declaration holds (the valid ranges)."""
    if isinstance(node, Number):
        found.append(node)
    for child in getattr(node, "keys", {}).values():
        _numbers(child.node, found)
    for attr in ("item", "extra"):
        if getattr(node, attr, None) is not None:
            _numbers(getattr(node, attr), found)
    for option in getattr(node, "options", ()):
        _numbers(option, found)
    return found


RANGES = sorted({n for node, _, _ in DECLARATIONS.values() for n in _numbers(node, [])},
                key=repr)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(RANGES), st.one_of(
    st.floats(allow_nan=False, allow_infinity=False), st.integers(-10**13, 10**13),
    st.sampled_from([0, 1, -1, 0.5, 1.0, 1e-300, 1e6, 1e12, 2**24, 1990, 2100, 7.5])))
def test_each_range_means_the_same_in_json_schema(node, value):
    """A number passes a declared range in the planner iff it passes it in the published
    JSON Schema (the editor's check and the planner's say the same)."""
    from planner.schema import json_schema

    ours = node.problem(value) is None
    theirs = jsonschema.Draft7Validator(json_schema(node)).is_valid(value)
    if node.unknown and isinstance(value, float) and math.isnan(value):
        return
    assert ours == theirs, (node, value)


if __name__ == "__main__":
    FOLDER.mkdir(exist_ok=True)
    for old in FOLDER.glob("*.schema.json"):
        old.unlink()
    for name, text in expected().items():
        (FOLDER / name).write_text(text)
        print(f"wrote {FOLDER / name}")
