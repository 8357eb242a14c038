"""Tests for planner.units: hand-checked parses, strict rejections, round-trips, formatting."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from planner.units import (
    InputError,
    fmt_amount,
    fmt_count,
    fmt_days,
    fmt_days_column,
    fmt_duration_days,
    fmt_money,
    fmt_pct,
    fmt_power,
    parse_count,
    parse_duration_s,
    parse_fraction,
    parse_int_count,
    parse_money_usd,
    parse_power_w,
)

DAY = 86400.0


# ---------------------------------------------------------------- hand-checked values

@pytest.mark.parametrize("text, expected", [
    ("1T", 1e12), ("405B", 4.05e11), ("70b", 7e10), ("1.5e12", 1.5e12), ("16M", 1.6e7),
    ("8192", 8192.0), ("1.5K", 1500.0), ("1.5k", 1500.0), ("2G", 2e9), ("3P", 3e15),
    ("  405B ", 4.05e11), ("405 B", 4.05e11), ("1.1K", 1100.0), (".5M", 5e5), ("+2K", 2000.0),
    (405e9, 4.05e11), (8192, 8192.0),
])
def test_parse_count(text, expected):
    assert parse_count(text) == expected  # exact: decimal parse, one rounding to float


@pytest.mark.parametrize("text, expected", [
    ("16K", 16000), ("8192", 8192), ("1.5K", 1500), ("2M", 2_000_000), ("1e3", 1000),
    (4096, 4096), (4096.0, 4096),
])
def test_parse_int_count(text, expected):
    got = parse_int_count(text)
    assert got == expected and type(got) is int


@pytest.mark.parametrize("text, expected", [
    ("90d", 90 * DAY), ("12w", 12 * 7 * DAY), ("2160h", 2160 * 3600.0), ("30min", 1800.0),
    ("45s", 45.0), ("1y", 365 * DAY), ("1.5 D", 1.5 * DAY), (3600, 3600.0), (1.5, 1.5),
])
def test_parse_duration(text, expected):
    assert parse_duration_s(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("700W", 700.0), ("1.2kW", 1200.0), ("150MW", 1.5e8), ("150 MW", 1.5e8), ("1.2GW", 1.2e9),
    ("150mw", 1.5e8), ("1.2KW", 1200.0), (700, 700.0), (1.2e9, 1.2e9),
])
def test_parse_power(text, expected):
    assert parse_power_w(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("500M", 5e8), ("$2.5", 2.5), ("1.2B", 1.2e9), ("40K", 4e4), ("$500M", 5e8),
    ("$ 500M", 5e8), ("2.5", 2.5), ("1T", 1e12), ("0", 0.0), ("$0", 0.0), (0, 0.0), (12.5, 12.5),
])
def test_parse_money(text, expected):
    assert parse_money_usd(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("0.4", 0.4), ("40%", 0.4), ("40 %", 0.4), ("100%", 1.0), ("1", 1.0), (0.4, 0.4), (1, 1.0),
])
def test_parse_fraction(text, expected):
    assert parse_fraction(text, "--mfu") == expected


# ---------------------------------------------------------------- strict rejections

COMMON_BAD = ["", "   ", "abc", "1Q", "-5B", "nan", "inf", "1e400", "5BB", "B", "1.2.3",
              None, True, False, "1,000", "1e9999999999999999999999", "1e-400", float("nan"),
              float("inf"), -3, "0x10", "1_000", "٣"]

CASES = [
    (parse_count, "a positive number with an optional suffix K, M, B, G, T, P",
     COMMON_BAD + ["0", 0, "5W", "5d"]),
    (parse_int_count, "a positive whole number with an optional suffix",
     COMMON_BAD + ["0", "1.5", 1.5, "1.0005K"]),
    (parse_duration_s, "a positive number with a unit s, min, h, d, w or y",
     COMMON_BAD + ["0d", 0, "90", "30m", "5B", "d", "5 dd", "-1h"]),
    (parse_power_w, "a positive number with a unit W, kW, MW or GW",
     COMMON_BAD + ["0W", 0, "700", "5TW", "W", "-1MW"]),
    (parse_money_usd, "a non-negative USD amount with an optional $",
     [x for x in COMMON_BAD if x != "1,000"] + ["$1,200", "$", "5P", "5G", "-$5", "$-5", -1.0]),
    (parse_fraction, "a number in (0, 1] or a percentage",
     COMMON_BAD + ["0", "0%", 0, "1.5", "150%", 1.01, "40%%"]),
]


@pytest.mark.parametrize("parse, accepted, bad",
                         [(p, a, b) for p, a, bads in CASES for b in bads],
                         ids=lambda v: getattr(v, "__name__", None) or repr(v)[:20])
def test_bad_input_raises_input_error(parse, accepted, bad):
    with pytest.raises(InputError) as info:
        parse(bad, "--the-flag")
    err = info.value
    msg = str(err)
    assert isinstance(err, ValueError)
    assert msg.startswith("--the-flag: ") and accepted in msg and "accepted: " in msg
    assert repr(bad) in msg if bad is not None else msg.startswith("--the-flag: not given;")
    assert err.name == "--the-flag" and err.value is bad and accepted in err.accepted


def test_input_error_message_format():
    with pytest.raises(InputError) as info:
        parse_count("1Q", "--params")
    assert str(info.value) == (
        "--params: '1Q' is not a count; accepted: a positive number with an optional suffix "
        "K, M, B, G, T, P (e.g. 405B, 1.5e12, 16M)")
    assert info.value.reason == "is not a count"
    e = InputError("params", 3, "a thing")
    assert str(e) == "params: 3 is not valid; accepted: a thing" and e.reason is None


def test_default_names():
    for parse, name in [(parse_count, "count"), (parse_int_count, "count"),
                        (parse_duration_s, "duration"), (parse_power_w, "power"),
                        (parse_money_usd, "money")]:
        with pytest.raises(InputError, match=f"^{name}: "):
            parse("abc")


# ---------------------------------------------------------------- round-trips

SCALES = {"": 1, "K": 1e3, "k": 1e3, "M": 1e6, "m": 1e6, "B": 1e9, "b": 1e9, "G": 1e9,
          "T": 1e12, "t": 1e12, "P": 1e15}
sane = st.floats(min_value=1e-6, max_value=1e9, allow_nan=False, allow_infinity=False)


@given(sane, st.sampled_from(sorted(SCALES)), st.sampled_from(["", " "]))
def test_count_round_trip(x, suffix, space):
    assert parse_count(f"{x}{space}{suffix}") == pytest.approx(x * SCALES[suffix], rel=1e-12)


@given(sane, st.sampled_from(["", "K", "M", "B", "T"]), st.booleans())
def test_money_round_trip(x, suffix, dollar):
    scale = {"": 1, "K": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}[suffix]
    text = f"{'$' if dollar else ''}{x}{suffix}"
    assert parse_money_usd(text) == pytest.approx(x * scale, rel=1e-12)


@given(sane, st.sampled_from([("s", 1), ("min", 60), ("h", 3600), ("d", 86400),
                              ("w", 604800), ("y", 31536000)]))
def test_duration_round_trip(x, unit):
    assert parse_duration_s(f"{x}{unit[0]}") == pytest.approx(x * unit[1], rel=1e-12)


@given(sane, st.sampled_from([("W", 1), ("kW", 1e3), ("MW", 1e6), ("GW", 1e9)]))
def test_power_round_trip(x, unit):
    assert parse_power_w(f"{x} {unit[0]}") == pytest.approx(x * unit[1], rel=1e-12)


@given(st.integers(min_value=1, max_value=2**53))
def test_count_of_str_int_is_the_int(n):
    assert parse_count(str(n)) == n


@given(st.integers(min_value=1, max_value=10**300))
def test_int_count_of_str_int_is_exact(n):
    assert parse_int_count(str(n)) == n


@given(st.integers(min_value=1, max_value=10**6), st.sampled_from(["K", "M", "B", "T", "P"]))
def test_int_count_with_suffix_is_exact(n, suffix):
    assert parse_int_count(f"{n}{suffix}") == n * int(SCALES[suffix])


@given(st.floats(min_value=1e3, max_value=1e17, allow_nan=False))
def test_fmt_count_parses_back_within_3_sig_figs(x):
    assert parse_count(fmt_count(x).replace(",", "")) == pytest.approx(x, rel=5e-3)


# ---------------------------------------------------------------- formatting

@pytest.mark.parametrize("x, text", [
    (1e12, "1.00T"), (405e9, "405B"), (16.4e6, "16.4M"), (16_384_000, "16.4M"), (8192, "8,192"),
    (9999, "9,999"), (1e4, "10.0K"), (999_700, "1.00M"), (999_499, "999K"), (1.5e15, "1.50P"),
    (16, "16"), (0, "0"), (0.5, "0.500"), (12.34, "12.3"), (-405e9, "-405B"),
])
def test_fmt_count(x, text):
    assert fmt_count(x) == text


def test_fmt_others():
    assert fmt_duration_days(73.4 * DAY) == "73.4 d"
    assert fmt_duration_days(90 * DAY) == "90.0 d"
    assert fmt_duration_days(1234.5 * DAY) == "1,234 d"
    assert fmt_power(12.3e6) == "12.3 MW"
    assert fmt_power(850e3) == "850 kW"
    assert fmt_power(999.9e3) == "1.00 MW"
    assert fmt_power(700) == "700 W"
    assert fmt_power(1.2e9) == "1.20 GW"
    assert fmt_money(1.23e9) == "$1.23B"
    assert fmt_money(45.6e6) == "$45.6M"
    assert fmt_money(12.3e3) == "$12.3K"
    assert fmt_money(2.5) == "$2.50"
    assert fmt_money(0) == "$0.00"
    assert fmt_money(-2.5e6) == "-$2.50M"
    assert fmt_pct(0.4123) == "41.2%"
    assert fmt_pct(1) == "100.0%"
    # days to one decimal; below one day, where that reads 0.0, hours
    assert fmt_days(131.0) == "131.0 days"
    assert fmt_days(1.0) == "1.0 days"
    assert fmt_days(1 / 24) == "1.00 hours"
    assert fmt_days(0.138) == "3.31 hours"
    # a table's column of days: 3 significant figures and at least one decimal (a 17-minute
    # run had read "0.0 d", a headline 1.35 d "1.3 d")
    assert fmt_days_column(0.0118) == "0.0118 d"
    assert fmt_days_column(1.349) == "1.35 d"
    assert fmt_days_column(90.44) == "90.4 d"
    assert fmt_days_column(115.94) == "115.9 d"
    assert fmt_days_column(1234.5) == "1,234.5 d"
    assert fmt_days_column(99.97) == "100.0 d" and fmt_days_column(math.inf) == "n/a"


@pytest.mark.parametrize("fmt", [fmt_count, fmt_days, fmt_days_column, fmt_duration_days,
                                 fmt_power, fmt_money, fmt_pct])
@pytest.mark.parametrize("missing", [None, float("nan"), math.nan])
def test_fmt_missing(fmt, missing):
    assert fmt(missing) == "n/a"


@pytest.mark.parametrize("x,text", [(1121.3, "1,121"), (825.4, "825"), (45.67, "45.7"),
                                    (0.00303, "0.00303"), (0.0, "0"), (None, "n/a"),
                                    (float("nan"), "n/a")])
def test_an_amount_keeps_three_significant_figures(x, text):
    # a 125M model's run reads "0.00303 MWh", not "0 MWh"
    assert fmt_amount(x) == text


def test_binary_suffixes_write_a_power_of_two():
    # was: "128K" was the only way to write a context length, and it reads 128,000: a
    # practitioner's 131,072 ("128K" context of Llama 3.1) had no spelling
    from planner.units import parse_count, parse_int_count

    assert parse_int_count("128Ki") == 131072 and parse_int_count("32ki") == 32768
    assert parse_int_count("16Mi") == 16777216 and parse_count("1Gi") == 2**30
    assert parse_int_count("128K") == 128000  # decimal stays decimal


def test_money_as_a_decimal_is_taken_exactly():
    from decimal import Decimal

    assert parse_money_usd(Decimal("2.10"), "--price-per-gpu-hour") == 2.1
    for bad in (Decimal("NaN"), Decimal("-1"), Decimal("Infinity")):
        with pytest.raises(InputError, match="--price-per-gpu-hour"):
            parse_money_usd(bad, "--price-per-gpu-hour")


def test_a_negative_zero_is_zero():
    # an auditor: --price-per-gpu-hour -0 printed "$-0.00/device-h" and a JSON total of -0.0
    from planner.units import parse_energy_usd_per_kwh, parse_rate

    for parse, text in ((parse_money_usd, "-0"), (parse_money_usd, "$-0.0K"),
                        (parse_money_usd, -0.0), (parse_energy_usd_per_kwh, "-0"),
                        (parse_energy_usd_per_kwh, -0.0), (lambda x: parse_rate(x, "r"), "-0")):
        value = parse(text)
        assert value == 0 and math.copysign(1, value) == 1, text
    with pytest.raises(InputError, match="must be greater than zero"):
        parse_count("-0")


def test_other_scripts_digits_are_no_number():
    # an auditor: --seed １ (a full-width digit) was read as 1, as int() and float() read it;
    # a year, a layout part and an --assume value alike
    from planner.assumptions import parse_overrides
    from planner.errors import LayoutError
    from planner.plan.quantities import parse_seed
    from planner.specs import parse_layout
    from planner.units import parse_year

    for bad in ("１", "٣", "1_0"):
        with pytest.raises(InputError, match="--seed"):
            parse_seed(bad)
        with pytest.raises(LayoutError, match="tp must be a whole number"):
            parse_layout(f"tp={bad}")
        with pytest.raises(InputError, match="gemm_efficiency"):
            parse_overrides([f"gemm_efficiency={bad}"])
    with pytest.raises(InputError, match="--year"):
        parse_year("２０２７")
    assert parse_seed(" 7 ") == parse_seed("7.0") == 7 and parse_year(" 2027 ") == 2027
    assert parse_layout("tp=+8") == {"tp": 8}
    assert math.isnan(parse_overrides(["grid_kg_co2_per_mwh=nan"])["grid_kg_co2_per_mwh"])


def test_an_option_word_in_any_case_is_its_lower_case_word():
    from planner.units import parse_word

    assert parse_word(" FP8 ", "--precision", ("bf16", "fp8")) == "fp8"
    for bad in ("fp9", 8, None, ["fp8"]):
        with pytest.raises(InputError, match="--precision: .*accepted: bf16 or fp8"):
            parse_word(bad, "--precision", ("bf16", "fp8"))


def test_a_count_named_in_short_keeps_six_figures_and_drops_trailing_zeros():
    # a review: at fmt_count's three figures 1.234B and 1.2349B were one name, and 999.5B
    # read 1T
    from planner.units import fmt_count_short

    assert [fmt_count_short(v) for v in (8e9, 8.0e9, 1.5e12, 70e9, 125e6, 8192)] == \
        ["8B", "8B", "1.5T", "70B", "125M", "8,192"]
    assert fmt_count_short(1.234e9) != fmt_count_short(1.2349e9) == "1.2349B"
    assert fmt_count_short(999.5e9) == "999.5B"
