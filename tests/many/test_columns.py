"""Columns in and out of many-scenario calls (planner/many/columns.py): dictionary coding of
Python values (code_values) and Arrow columns (code_arrow: strings, ints, floats with NaN as
null, chunked arrays, per-row numbers), Coded.take/row, columns_of for a pyarrow Table, a pandas
DataFrame and a dict of lists, and the answer buffers (Answers: put, put_codes, clear, table)
with the kinds and units of planner.plan.fields."""

import math

import numpy as np
import pyarrow as pa
import pytest

import planner
from planner.errors import InputError
from planner.many.columns import (
    ARROW_TYPES,
    PER_ROW,
    Answers,
    Coded,
    code_arrow,
    code_values,
    columns_of,
    schema,
)
from planner.plan import fields

COST_KEYS = {"cloud": ("compute", "total"), "owned": ("accelerators", "energy", "total")}
FIELDS = fields.columns(COST_KEYS)
KIND = {name: kind for name, kind, _ in FIELDS}
UNIT = {name: unit for name, _, unit in FIELDS}


def _decoded(c: Coded) -> list:
    return [c.row(i) for i in range(len(c))]


# --- code_values --------------------------------------------------------------------------------

def test_code_values_first_appearance_order_and_none_as_null():
    c = code_values(["b", None, "a", "b", None, "c", "a"])
    assert c.codes.tolist() == [0, -1, 1, 0, -1, 2, 1]
    assert c.codes.dtype == np.int64
    assert c.values == ["b", "a", "c"]
    assert not c.per_row
    assert _decoded(c) == ["b", None, "a", "b", None, "c", "a"]
    assert len(c) == 7


def test_code_values_types_are_kept_apart_and_numpy_scalars_are_plain():
    c = code_values([1, 1.0, True, np.int64(1), np.float64(1.0), "1", float("nan"),
                     np.float64("nan")])
    # 1, 1.0 and True are equal in Python but different inputs; numpy scalars are their
    # Python values; NaN (pandas' missing number) is null
    assert c.codes.tolist() == [0, 1, 2, 0, 1, 3, -1, -1]
    assert c.values == [1, 1.0, True, "1"]
    assert [type(v) for v in c.values] == [int, float, bool, str]
    assert type(c.row(3)) is int


def test_code_values_codes_lists_and_dicts_by_repr():
    c = code_values([[1, 2], {"tp": 8}, [1, 2], [2, 1], {"tp": 8}, {"tp": 4}, []])
    assert c.codes.tolist() == [0, 1, 0, 2, 1, 3, 4]
    assert c.values == [[1, 2], {"tp": 8}, [2, 1], {"tp": 4}, []]
    assert c.value_list() == c.values


def test_code_values_of_nothing():
    c = code_values([])
    assert c.codes.tolist() == [] and c.values == []
    assert code_values([None, None]).codes.tolist() == [-1, -1]


# --- code_arrow -------------------------------------------------------------------------------

@pytest.mark.parametrize("chunks", [1, 2, 3])
def test_code_arrow_strings_plain_and_chunked(chunks):
    values = ["h100-sxm", None, "b200", "h100-sxm", "mi300x", None, "b200"]
    cuts = {1: [values], 2: [values[:3], values[3:]], 3: [values[:2], values[2:5], values[5:]]}
    col = pa.chunked_array(cuts[chunks], type=pa.string()) if chunks > 1 else pa.array(values)
    c = code_arrow(col)
    assert c.codes.tolist() == [0, -1, 1, 0, 2, -1, 1]
    assert c.values == ["h100-sxm", "b200", "mi300x"]
    assert _decoded(c) == values


def test_code_arrow_ints_chunked_keep_a_numeric_dictionary():
    col = pa.chunked_array([[64, 128], [None, 64, 4096]], type=pa.int64())
    c = code_arrow(col)
    assert c.codes.tolist() == [0, 1, -1, 0, 2]
    assert isinstance(c.values, np.ndarray) and c.values.tolist() == [64, 128, 4096]
    assert _decoded(c) == [64, 128, None, 64, 4096]
    assert type(c.row(0)) is int


def test_code_arrow_floats_nan_is_null():
    col = pa.array([1.5, float("nan"), None, 1.5, 2.5])
    c = code_arrow(col)
    assert c.codes.tolist() == [0, -1, -1, 0, 1]
    assert c.values.tolist() == [1.5, 2.5]
    assert _decoded(c) == [1.5, None, None, 1.5, 2.5]
    chunked = code_arrow(pa.chunked_array([[1.5, float("nan")], [None, 1.5, 2.5]]))
    assert chunked.codes.tolist() == c.codes.tolist()
    assert chunked.values.tolist() == [1.5, 2.5]


@pytest.mark.parametrize("col", [
    pa.array([1e12, float("nan"), None, 1e12, 3e12]),
    pa.chunked_array([[1e12, float("nan")], [None, 1e12, 3e12]]),
])
def test_code_arrow_per_row_numbers_keep_one_value_per_row(col):
    c = code_arrow(col, per_row=True)
    assert c.per_row
    assert c.codes.tolist() == [0, -1, -1, 3, 4]  # each row its own value; null: -1
    assert len(c.values) == 5
    assert c.values[[0, 3, 4]].tolist() == [1e12, 1e12, 3e12]
    assert _decoded(c) == [1e12, None, None, 1e12, 3e12]


def test_code_arrow_per_row_ints_and_text():
    c = code_arrow(pa.array([8, None, 8]), per_row=True)
    assert c.per_row and c.codes.tolist() == [0, -1, 2] and _decoded(c) == [8, None, 8]
    # per_row is for numbers: a text column is still coded by value
    t = code_arrow(pa.array(["1T", "2T", "1T"]), per_row=True)
    assert not t.per_row and t.codes.tolist() == [0, 1, 0] and t.values == ["1T", "2T"]


def test_code_arrow_null_bool_list_and_dictionary_columns():
    assert code_arrow(pa.nulls(3)).codes.tolist() == [-1, -1, -1]
    assert code_arrow(pa.nulls(3)).values == []
    b = code_arrow(pa.array([True, None, False, True]))
    assert b.codes.tolist() == [0, -1, 1, 0] and b.values == [True, False]
    lists = code_arrow(pa.array([[8, 1], None, [8, 1], [4]]))
    assert lists.codes.tolist() == [0, -1, 0, 1] and lists.values == [[8, 1], [4]]
    d = code_arrow(pa.array(["x", "y", None, "x"]).dictionary_encode())
    assert d.codes.tolist() == [0, 1, -1, 0] and d.values == ["x", "y"]


# --- Coded.take -------------------------------------------------------------------------------

def test_take_indices_and_slices_keep_the_values():
    c = code_values(["a", None, "b", "a", "c"])
    picked = c.take(np.array([4, 0, 1]))
    assert picked.codes.tolist() == [2, 0, -1] and picked.values is c.values
    assert _decoded(picked) == ["c", "a", None]
    view = c.take(slice(1, 4))
    assert _decoded(view) == [None, "b", "a"]
    assert np.shares_memory(view.codes, c.codes)  # a slice's codes are a view


def test_take_per_row_cuts_the_values_too():
    c = code_arrow(pa.array([10.0, None, 30.0, 40.0, 50.0]), per_row=True)
    picked = c.take(np.array([4, 1, 2]))
    assert picked.per_row
    assert picked.codes.tolist() == [0, -1, 2]
    assert len(picked.values) == 3
    assert _decoded(picked) == [50.0, None, 30.0]
    sl = c.take(slice(2, 5))
    assert sl.codes.tolist() == [0, 1, 2] and _decoded(sl) == [30.0, 40.0, 50.0]
    assert _decoded(c.take(slice(0, 2))) == [10.0, None]


# --- columns_of -------------------------------------------------------------------------------

def test_columns_of_an_arrow_table_codes_per_row_numbers_per_row():
    t = pa.table({"params": ["7B", "13B", "7B"], "tokens": [1e12, 2e12, 1e12],
                  "gpus": [64, 64, None], "price_per_gpu_hour": [2.0, None, 2.0]})
    cols, n = columns_of(t)
    assert n == 3 and list(cols) == ["params", "tokens", "gpus", "price_per_gpu_hour"]
    assert "tokens" in PER_ROW and "price_per_gpu_hour" in PER_ROW and "gpus" not in PER_ROW
    assert cols["tokens"].per_row and cols["tokens"].codes.tolist() == [0, 1, 2]
    assert cols["price_per_gpu_hour"].codes.tolist() == [0, -1, 2]
    assert not cols["gpus"].per_row and cols["gpus"].codes.tolist() == [0, 0, -1]
    assert cols["params"].values == ["7B", "13B"]
    assert {k: _decoded(c) for k, c in cols.items()} == {
        "params": ["7B", "13B", "7B"], "tokens": [1e12, 2e12, 1e12], "gpus": [64, 64, None],
        "price_per_gpu_hour": [2.0, None, 2.0]}


def test_columns_of_a_pandas_frame_with_mixed_text_and_numbers():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"tokens": ["1T", 1e12, None, "1T"], "gpus": [8, 16, 8, 8],
                       "gpu": ["h100-sxm", None, "b200", "h100-sxm"],
                       "deadline": [np.nan, 86400.0, 86400.0, np.nan]})
    cols, n = columns_of(df)
    assert n == 4
    # '1T' and 1e12 in one column: Arrow refuses it, so it is coded value by value
    assert not cols["tokens"].per_row
    assert cols["tokens"].codes.tolist() == [0, 1, -1, 0]
    assert cols["tokens"].values == ["1T", 1e12]
    assert _decoded(cols["gpus"]) == [8, 16, 8, 8] and cols["gpus"].values.tolist() == [8, 16]
    assert _decoded(cols["gpu"]) == ["h100-sxm", None, "b200", "h100-sxm"]
    assert cols["deadline"].per_row and _decoded(cols["deadline"]) == [None, 86400.0, 86400.0,
                                                                       None]


def test_columns_of_a_dict_of_lists():
    cols, n = columns_of({"params": ["7B", None, "7B"], "gpus": [8, 8, 16]})
    assert n == 3
    assert cols["params"].codes.tolist() == [0, -1, 0]
    assert cols["gpus"].values == [8, 16] and cols["gpus"].codes.tolist() == [0, 0, 1]
    assert columns_of({}) == ({}, 0)
    with pytest.raises(InputError, match="columns of one length each"):
        columns_of({"params": ["7B", "13B"], "gpus": [8]})
    with pytest.raises(InputError, match="pyarrow Table"):
        columns_of([{"params": "7B"}])


def test_columns_of_a_dict_of_arrow_columns_reads_their_values():
    # was: list() of an Arrow column gave pyarrow scalars, and every row failed with
    # "--params: <pyarrow.StringScalar: '8B'> is not a count"
    from planner.many.estimate_many import estimate_many

    table = pa.table({"tokens": [1e12, 2e12]})
    cols, n = columns_of({"params": pa.array(["8B", None]), "tokens": table.column("tokens"),
                          "gpus": pa.chunked_array([[64], [128]])})
    assert n == 2
    assert _decoded(cols["params"]) == ["8B", None]
    assert _decoded(cols["tokens"]) == [1e12, 2e12] and cols["tokens"].per_row
    assert _decoded(cols["gpus"]) == [64, 128]
    rows = estimate_many({"params": pa.array(["8B"]), "tokens": table.column("tokens")[:1],
                          "gpus": pa.array([64])})
    assert rows.column("error").to_pylist() == [None]
    assert rows.column("training_days")[0].as_py() == pytest.approx(
        planner.estimate(params="8B", tokens="1T", gpus=64).training_days)


# --- Answers ------------------------------------------------------------------------------------

def _answers(n):
    return Answers(n, FIELDS)


def test_table_has_every_field_with_its_kind_and_unit_and_nulls_where_unwritten():
    t = _answers(3).table()
    assert t.num_rows == 3 and t.column_names == [name for name, _, _ in FIELDS]
    for f in t.schema:
        assert f.type == ARROW_TYPES[KIND[f.name]], f.name
        assert f.metadata == {b"unit": UNIT[f.name].encode()}, f.name
        assert t.column(f.name).null_count == 3
    assert t.schema.field("training_days").metadata[b"unit"] == b"days"
    assert t.schema.field("cluster_gpus").metadata[b"unit"] == b"devices"
    assert t.schema.field("cost_usd_by_method_owned").metadata[b"unit"] == b"USD"
    assert t.schema == schema(FIELDS)
    assert {KIND["feasible"], KIND["cluster_gpus"], KIND["mfu"], KIND["binding"]} == \
        {"bool", "i8", "f8", "str"}


def test_floats_are_null_where_not_finite():
    ans = _answers(5)
    days = np.array([1.5, np.nan, np.inf, -np.inf, 2.0])
    ans.put("training_days", slice(0, 5), days)
    assert ans.f["training_days"] is days  # a whole column written once is adopted, no copy
    ans.put("mfu", np.array([1, 3]), np.array([0.4, 0.5]))
    ans.put("power_mw", np.array([0, 1, 2, 3, 4]), 7.0)
    t = ans.table()
    assert t.column("training_days").to_pylist() == [1.5, None, None, None, 2.0]
    assert t.column("mfu").to_pylist() == [None, 0.4, None, 0.5, None]
    assert t.column("power_mw").to_pylist() == [7.0] * 5


def test_an_array_is_adopted_once_then_copied():
    ans = _answers(3)
    x = np.array([1.0, 2.0, 3.0])
    ans.put("training_days", slice(0, 3), x)
    ans.put("gpu_hours", slice(0, 3), x)
    assert ans.f["training_days"] is x and ans.f["gpu_hours"] is not x
    ans.put("gpu_hours", np.array([0]), 9.0)
    assert x.tolist() == [1.0, 2.0, 3.0]  # the copy, not x, changed
    view = np.arange(6.0)[::2]  # not owning its data: copied
    ans.put("power_mw", slice(0, 3), view)
    assert ans.f["power_mw"] is not view
    assert ans.table().column("gpu_hours").to_pylist() == [9.0, 2.0, 3.0]


def test_whole_numbers_with_nan_none_or_a_validity_mask():
    ans = _answers(4)
    ans.put("cluster_gpus", slice(0, 4), np.array([8.0, np.nan, 64.0, np.inf]))
    ans.put("layout_tp", slice(0, 4), np.array([8, None, 2, 1], dtype=object))
    ans.put("layout_pp", slice(0, 4), np.array([4, 4, 2, 1]), valid=np.array([1, 0, 1, 0],
                                                                              dtype=bool))
    ans.put("layout_dp", np.array([1, 2]), np.array([16, 32]))
    ans.put("workload_layers", np.array([0, 2]), 32)
    t = ans.table()
    assert t.column("cluster_gpus").type == pa.int64()
    assert t.column("cluster_gpus").to_pylist() == [8, None, 64, None]
    assert t.column("layout_tp").to_pylist() == [8, None, 2, 1]
    assert t.column("layout_pp").to_pylist() == [4, None, 2, None]
    assert t.column("layout_dp").to_pylist() == [None, 16, 32, None]
    assert t.column("workload_layers").to_pylist() == [32, None, 32, None]


def test_one_value_for_every_row_is_kept_as_the_value_and_shared():
    # put_same: a sweep's assumption columns, alike in every row, are not rebuilt per chunk
    a, b = _answers(4), _answers(4)
    for ans in (a, b):
        ans.put_same("power_mw", slice(0, 4), 7.5)
        ans.put_same("layout_tp", np.arange(4), 8)
        ans.put_same("feasible", slice(0, 4), True)
        ans.put_same("binding", slice(0, 4), "memory")
        ans.put_same("mfu", slice(0, 4), float("nan"))
        ans.put_same("gpu_hours", slice(0, 4), None)
    ta, tb = a.table(), b.table()
    assert ta.column("power_mw").to_pylist() == [7.5] * 4
    assert ta.column("layout_tp").to_pylist() == [8] * 4
    assert ta.column("feasible").to_pylist() == [True] * 4
    assert ta.column("binding").to_pylist() == ["memory"] * 4
    assert ta.column("mfu").to_pylist() == [None] * 4  # NaN is unknown, as put's
    assert ta.column("gpu_hours").to_pylist() == [None] * 4
    assert ta.equals(tb) and ta.schema == tb.schema
    data = [t.column("power_mw").chunk(0).buffers()[1].address for t in (ta, tb)]
    assert data[0] == data[1]  # one array, shared
    # a part written after, or a row cleared, turns it into a column of its own
    a.put("power_mw", np.array([1]), 9.0)
    a.put_codes("binding", np.array([2]), np.array([0]), ["deadline"])
    a.clear(np.array([3]))
    t = a.table()
    assert t.column("power_mw").to_pylist() == [7.5, 9.0, 7.5, None]
    assert t.column("binding").to_pylist() == ["memory", "memory", "deadline", None]
    assert t.column("layout_tp").to_pylist() == [8, 8, 8, None]
    assert t.column("feasible").to_pylist() == [True, True, True, None]
    assert tb.column("power_mw").to_pylist() == [7.5] * 4  # the other chunk's unchanged
    # rows that are not every row: put's way
    c = _answers(4)
    c.put_same("power_mw", np.array([0, 2]), 3.0)
    assert "power_mw" not in c.same
    assert c.table().column("power_mw").to_pylist() == [3.0, None, 3.0, None]


def test_bools_and_text():
    ans = _answers(4)
    ans.put("feasible", slice(0, 4), np.array([True, False, True, True]))
    ans.put("binding", slice(0, 4), ["memory", None, "deadline", "memory"])
    ans.put("cluster_accelerator", np.array([0, 2]), "h100-sxm")
    ans.put("reason", np.array([3]), "too slow")
    t = ans.table()
    assert t.column("feasible").type == pa.bool_()
    assert t.column("feasible").to_pylist() == [True, False, True, True]
    binding = t.column("binding")
    assert pa.types.is_dictionary(binding.type)
    assert binding.to_pylist() == ["memory", None, "deadline", "memory"]
    assert binding.chunk(0).dictionary.to_pylist() == ["memory", "deadline"]
    assert t.column("cluster_accelerator").to_pylist() == ["h100-sxm", None, "h100-sxm", None]
    assert t.column("reason").to_pylist() == [None, None, None, "too slow"]


def test_put_codes_maps_through_the_words_and_gathers_with_at():
    ans = _answers(5)
    ans.put_codes("bottleneck", slice(0, 5), np.array([1, 0, -1, 1, 2]),
                  ["compute", "dp_comm", None])
    assert ans.table().column("bottleneck").to_pylist() == ["dp_comm", "compute", None,
                                                            "dp_comm", None]
    # per key codes (3 keys), each row takes its key's: one gather
    ans.put_codes("cost_method", np.array([0, 1, 3, 4]), np.array([1, 0, 1]),
                  ["owned", "cloud"], at=np.array([0, 0, 1, 2]))
    ans.put_codes("cost_method", np.array([2]), np.array([0]), ["owned"])
    t = ans.table()
    assert t.column("cost_method").to_pylist() == ["cloud", "cloud", "owned", "owned",
                                                   "cloud"]
    # the words of a column are shared by later puts: no duplicates in the dictionary
    assert sorted(t.column("cost_method").chunk(0).dictionary.to_pylist()) == ["cloud", "owned"]


def test_clear_nulls_every_column_but_the_error():
    ans = _answers(3)
    ans.put("training_days", slice(0, 3), np.array([1.0, 2.0, 3.0]))
    ans.put("cluster_gpus", slice(0, 3), np.array([8, 16, 32]))
    ans.put("feasible", slice(0, 3), np.array([True, True, False]))
    ans.put("binding", slice(0, 3), ["memory", "deadline", "gpus"])
    ans.put("error", np.array([1]), "--gpus: bad")
    ans.clear(np.array([1]))
    t = ans.table()
    assert t.column("training_days").to_pylist() == [1.0, None, 3.0]
    assert t.column("cluster_gpus").to_pylist() == [8, None, 32]
    assert t.column("feasible").to_pylist() == [True, None, False]
    assert t.column("binding").to_pylist() == ["memory", None, "gpus"]
    assert t.column("error").to_pylist() == [None, "--gpus: bad", None]
    # a float written after a clear is valid again where finite
    ans.put("training_days", np.array([1]), 5.0)
    assert ans.table().column("training_days").to_pylist() == [1.0, 5.0, 3.0]


def test_answers_table_round_trips_through_pandas_with_units():
    pd = pytest.importorskip("pandas")
    ans = _answers(2)
    ans.put("training_days", slice(0, 2), np.array([1.25, math.nan]))
    ans.put("binding", slice(0, 2), ["memory", "deadline"])
    df = ans.table().to_pandas()
    assert df["training_days"].iloc[0] == 1.25 and pd.isna(df["training_days"].iloc[1])
    assert list(df["binding"].astype(str)) == ["memory", "deadline"]
