"""Parsing and formatting of quantities at the boundary (CLI flags, catalog overrides, tables).

Inside the library everything is SI base units: FLOP, bytes, seconds, watts, USD. The parsers
here turn user text such as "405B", "90d", "150 MW" or "$1.2B" into those units and reject
anything else with an InputError that names the input, the value given and the forms accepted.
Strings are parsed exactly with decimal arithmetic ("1.1K" is exactly 1100) and rounded to a
float once. Pure Python: no click, no printing.
"""

from __future__ import annotations

import decimal
import math
import numbers
import re
from decimal import Decimal

from .errors import InputError
from .schema import plain

__all__ = [
    "InputError", "parse_count", "parse_int_count", "parse_year", "parse_duration_s",
    "parse_power_w",
    "parse_money_usd", "parse_fraction", "parse_pue", "parse_energy_usd_per_kwh", "fmt_count",
    "fmt_count_short",
    "fmt_amount", "fmt_duration_days", "fmt_power", "fmt_power_mw", "fmt_money", "fmt_pct",
    "parse_word", "ascii_float",
]


# A plain decimal number, ASCII digits only: 8192, 1.5, .5, 1.5e12, -3 (the sign is matched so
# that "-5B" is reported as negative rather than as malformed). No commas, underscores, nan, inf.
_NUM = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_NUM_RE = re.compile(_NUM, re.ASCII)

# Decimal (SI) multipliers; B (billion) and G (giga) are both 1e9.
_COUNT_SCALES = {"": 1, "k": 10**3, "m": 10**6, "b": 10**9, "g": 10**9, "t": 10**12, "p": 10**15,
                 # binary, as context lengths and batches are written (128Ki = 131,072: the
                 # "128K" context of Llama 3.1; 16Mi = Llama 3's 16,777,216-token batch)
                 "ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40}
_MONEY_SCALES = {"": 1, "k": 10**3, "m": 10**6, "b": 10**9, "t": 10**12}
# Seconds in a day and in a (365-day) year: the one declaration of each.
SECONDS_PER_DAY = 86400.0
SECONDS_PER_YEAR = 365 * 86400
# Seconds per unit; a year is 365 days. "m" is deliberately absent (minute or month?): use "min".
_DURATION_SCALES = {"s": 1, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400,
                    "y": SECONDS_PER_YEAR}
# Watts per unit, matched case-insensitively, so "mw" means megawatts (never milliwatts).
_POWER_SCALES = {"w": 1, "kw": 10**3, "mw": 10**6, "gw": 10**9}
_PCT_SCALES = {"": 1, "%": Decimal("0.01")}
_PLAIN_SCALES = {"": 1}


def ascii_float(text) -> float:
    """float(text) for a text in ASCII without underscores, else ValueError: float() alone
    reads other scripts' digits ('１' as 1.0) and '1_000' as numbers."""
    if isinstance(text, str) and (not text.isascii() or "_" in text):
        raise ValueError(f"not an ASCII number: {text!r}")
    return float(text)


def _pattern(prefix: str, units: dict) -> re.Pattern:
    alts = "|".join(re.escape(u) for u in sorted(units, key=len, reverse=True) if u)
    opt = "?" if "" in units else ""
    return re.compile(rf"{prefix}({_NUM})\s*((?:{alts}){opt})", re.IGNORECASE | re.ASCII)


_COUNT_RE = _pattern("", _COUNT_SCALES)
_MONEY_RE = _pattern(r"\$?\s*", _MONEY_SCALES)
_DURATION_RE = _pattern("", _DURATION_SCALES)
_POWER_RE = _pattern("", _POWER_SCALES)
_PCT_RE = _pattern("", _PCT_SCALES)
_PLAIN_RE = _pattern("", _PLAIN_SCALES)
_PRICE_RE = _pattern(r"\$?\s*", _PLAIN_SCALES)

_ACCEPT_COUNT = ("a positive number with an optional suffix K, M, B, G, T, P "
                 "(e.g. 405B, 1.5e12, 16M)")
_ACCEPT_INT = ("a positive whole number with an optional suffix K, M, B, G, T, P "
               "(e.g. 8192, 16K, 2M)")
_ACCEPT_INT_OR_ZERO = "0 or " + _ACCEPT_INT
_ACCEPT_DURATION = ("a positive number with a unit s, min, h, d, w or y (365 days) "
                    "(e.g. 90d, 12w, 2160h, 30min)")
_ACCEPT_POWER = "a positive number with a unit W, kW, MW or GW (e.g. 700W, 1.2kW, 150 MW)"
_ACCEPT_MONEY = ("a non-negative USD amount with an optional $ and suffix K, M, B, T "
                 "(e.g. $2.5, 40K, 500M, $1.2B)")
_ACCEPT_FRACTION = "a number in (0, 1] or a percentage in (0%, 100%] (e.g. 0.4, 40%)"
_ACCEPT_PUE = ("a number >= 1, facility power over IT power (e.g. 1.1 for a hyperscale "
               "campus, 1.2, 1.5)")
_ACCEPT_ENERGY = ("a non-negative price in USD per kWh, with an optional $ (e.g. 0.08, $0.06); "
                  "a price per MWh divided by 1000")
# --- the largest inputs the planner takes -------------------------------------------------------
# Beyond these an answer would overflow the sizing's integer resolutions (plan/limits.py) or
# take hours to lay out; each is far past any real training run, so a larger value is a typo.
# Devices in one plan: a million times the largest clusters announced (xAI Colossus, 2025:
# ~200,000 GPUs, planned 1M); the layouts of a count come from its divisors, found in
# ~sqrt(N) = 1e6 steps (under a second). A plan's own ceiling is the assumption max_gpus
# (1M by default), which --assume max_gpus=N raises up to this.
MAX_DEVICES = 10**12
# A century: no deadline, run or fleet horizon is longer.
MAX_DURATION_S = 100 * SECONDS_PER_YEAR
# The shortest deadline: a second (1e-320 s had underflowed the limits' resolution arithmetic).
MIN_DEADLINE_S = 1.0
# Ten times world GDP (~$110T in 2024, IMF World Economic Outlook): no budget is larger.
MAX_MONEY_USD = 1e15
# 10 TW: three times the world's average electricity generation (29,900 TWh in 2023, ~3.4 TW;
# Ember Global Electricity Review 2024).
MAX_POWER_W = 1e13
# ~800x the highest on-demand price per device-hour in the catalog ($12/h).
MAX_USD_PER_DEVICE_HOUR = 1e4
# Tokens: ~25,000x the largest pre-training sets (Qwen3: 36T tokens, 2025); parameters: the
# largest model planner.estimate plans (1,000T, plan/inputs.py).
MAX_TOKENS = 1e18
MAX_PARAMS = 1e15
# The smallest model known by its parameter count alone: the shape rule's tied 128,256-token
# embedding at its narrowest width (512) is ~66M by itself (model/architecture.py, docs/shape.md).
MIN_SHAPELESS_PARAMS = 70e6
# A sequence: 1,024x the 128K-token context Llama 3 trained to (Llama 3 report, sec. 3.4.2).
MAX_SEQ_LEN = 2**27
# A global batch: ~16,000x the largest published (DeepSeek-V3: 15,360 x 4K = 63M tokens).
MAX_BATCH_TOKENS = 1e12

# PUE: the worst data centres measured run near 3 (Uptime Institute 2023 survey: average
# 1.58, a long tail to ~3); a value of 10 or more is a typo.
MAX_PUE = 10.0

# Above this a price per kWh is taken for a price per MWh (80 for $80/MWh): no grid price has
# come near it (the highest European day-ahead prices of August 2022 were ~EUR 0.7/kWh).
MAX_ENERGY_USD_PER_KWH = 5.0


def _parse(text, name, regex, scales, accepted, what, *, numeric=True, allow_zero=False,
           maximum: float | None = None) -> Decimal:
    """Exact value of `text` in base units, validated finite, representable, (non-)positive
    and at most ``maximum`` (base units) when one is given.

    Real numbers (not bools) are taken as already in base units when `numeric` is true.
    """
    def bad(reason=f"is not {what}"):
        return InputError(name, text, accepted, reason)

    if text is None:  # "--tokens: not given"
        raise InputError(name, None, accepted)

    if isinstance(text, Decimal):  # finance code holds money as Decimal: taken exactly
        if not numeric:
            raise bad(f"is not {what} (a unit is required)")
        value = text
    elif isinstance(text, numbers.Real) and not isinstance(text, bool):
        if not numeric:
            raise bad(f"is not {what} (a unit is required)")
        try:
            value = (Decimal(int(text)) if isinstance(text, numbers.Integral)
                     else Decimal(float(text)))
        except (OverflowError, ValueError):
            raise bad("is out of range") from None
    elif isinstance(text, str):
        m = regex.fullmatch(text.strip())
        if m is None:
            if "," in text:
                raise bad("contains a comma (write 1000 or 1K)")
            raise bad("has no unit" if _NUM_RE.fullmatch(text.strip()) else f"is not {what}")
        try:
            num, scale = Decimal(m[1]), Decimal(scales[m[2].lower()])
            with decimal.localcontext() as ctx:  # exact product: enough digits, no exponent limits
                ctx.prec = len(num.as_tuple().digits) + len(scale.as_tuple().digits) + 2
                ctx.Emax, ctx.Emin = decimal.MAX_EMAX, decimal.MIN_EMIN
                value = num * scale
        except decimal.DecimalException:  # exponent beyond even decimal's range
            raise bad("is out of range") from None
    else:
        raise bad()
    if not value.is_finite():
        raise bad("is not finite")
    if value < 0:
        raise bad("is negative")
    if value == 0 and not allow_zero:
        raise bad("must be greater than zero")
    if value == 0:  # -0 (or -0.0) reads as 0: no negative zero leaves here ($-0.00 had shown)
        value = Decimal(0)
    as_float = float(value)
    if math.isinf(as_float):
        raise bad("is too large (overflows a float)")
    if as_float == 0 and value != 0:
        raise bad("is too small (underflows a float)")
    if maximum is not None and as_float > maximum:
        raise InputError(name, text, f"{accepted}, at most {_limit_text(maximum, scales)}",
                         "is too large")
    return value


def _limit_text(maximum: float, scales: dict) -> str:
    """A maximum in the largest suffix of its kind: 1e15 -> '1000T' (money), '100y'."""
    if scales is _DURATION_SCALES:
        shown = {k: k for k in scales}
    elif scales is _POWER_SCALES:
        shown = {"w": "W", "kw": "kW", "mw": "MW", "gw": "GW"}
    else:
        # binary suffixes as written, Ki Mi Gi Ti (upper case had read 128MI)
        shown = {k: k[:1].upper() + k[1:] for k in scales}
    for suffix, scale in sorted(scales.items(), key=lambda kv: -kv[1]):
        if suffix and maximum >= scale:
            return f"{maximum / scale:g}{shown[suffix]}"
    return f"{maximum:g}"


def parse_count(text, name="count", maximum: float | None = None) -> float:
    """A positive count (FLOP, params, tokens): '405B' -> 4.05e11."""
    return float(_parse(text, name, _COUNT_RE, _COUNT_SCALES, _ACCEPT_COUNT, "a count",
                        maximum=maximum))


def parse_int_count(text, name="count", maximum: float | None = None,
                    allow_zero: bool = False) -> int:
    """A positive whole count (GPUs, sequence length): '16K' -> 16000; '1.5' is an error.
    ``allow_zero``: 0 too (a count whose zero is a shape's own: no shared expert)."""
    accepted = _ACCEPT_INT_OR_ZERO if allow_zero else _ACCEPT_INT
    value = _parse(text, name, _COUNT_RE, _COUNT_SCALES, accepted, "a whole count",
                   maximum=maximum, allow_zero=allow_zero)
    if value != value.to_integral_value():
        raise InputError(name, text, accepted, "is not a whole number")
    return int(value)


# A calendar year the planner reads (--year, a catalog figure's year): the one declaration.
MIN_YEAR, MAX_YEAR = 1990, 2100


def parse_year(text, name="--year") -> int:
    """A calendar year, MIN_YEAR-MAX_YEAR: 2027 or '2027' (not a count: '2.027K' is no year)."""
    accepted = f"a calendar year YYYY from {MIN_YEAR} to {MAX_YEAR} (e.g. 2027)"
    text = plain(text)  # np.int64(2027), as a DataFrame holds it
    value = text
    if isinstance(text, str) and re.fullmatch(r"\s*[0-9]{4}\s*", text):  # ASCII digits
        value = int(text)
    elif isinstance(text, float) and text.is_integer():
        value = int(text)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(name, text, accepted, "is not a year")
    if not MIN_YEAR <= value <= MAX_YEAR:
        raise InputError(name, text, accepted, f"is outside {MIN_YEAR}-{MAX_YEAR}")
    return value


def parse_duration_s(text, name="duration", maximum: float | None = None) -> float:
    """A positive duration in seconds: '90d' -> 7776000.0.

    Strings need a unit; numbers are seconds; a datetime.timedelta (pandas' Timedelta is
    one) or a numpy timedelta64 is its seconds."""
    import datetime

    if isinstance(text, datetime.timedelta) or type(text).__name__ == "timedelta64":
        import numpy as np

        seconds = (text.total_seconds() if isinstance(text, datetime.timedelta)
                   else float(text / np.timedelta64(1, "s")))
        if seconds == seconds:  # NaT: not a duration, said below
            text = seconds
    return float(_parse(text, name, _DURATION_RE, _DURATION_SCALES, _ACCEPT_DURATION,
                        "a duration", maximum=maximum))


def parse_power_w(text, name="power", maximum: float | None = None) -> float:
    """A positive power in watts: '150MW' -> 1.5e8. Strings need a unit; numbers are watts."""
    return float(_parse(text, name, _POWER_RE, _POWER_SCALES, _ACCEPT_POWER, "a power",
                        maximum=maximum))


def parse_money_usd(text, name="money", maximum: float | None = None) -> float:
    """A non-negative amount in USD: '$1.2B' -> 1.2e9; a bare number is dollars; zero is allowed."""
    return float(_parse(text, name, _MONEY_RE, _MONEY_SCALES, _ACCEPT_MONEY, "an amount of money",
                        allow_zero=True, maximum=maximum))


def parse_fraction(text, name) -> float:
    """A fraction in (0, 1] (MFU, utilisation): '0.4' or '40%' -> 0.4."""
    value = _parse(text, name, _PCT_RE, _PCT_SCALES, _ACCEPT_FRACTION, "a fraction")
    if value > 1:
        raise InputError(name, text, _ACCEPT_FRACTION, "is greater than 1 (100%)")
    return float(value)


def parse_rate(text, name, example: str = "0.14", accepted: str | None = None,
               allow_zero: bool = True) -> float:
    """A non-negative plain number (a trend per year, a multiplier): '0.14' -> 0.14;
    ``example`` is the form the error shows (the input's own default), ``accepted`` the whole
    form in its place; ``allow_zero`` false refuses 0 too (a growth factor)."""
    return float(_parse(text, name, _PLAIN_RE, _PLAIN_SCALES,
                        accepted or f"a non-negative number, e.g. {example}",
                        "a non-negative number" if allow_zero else "a positive number",
                        allow_zero=allow_zero))


def parse_pue(text, name="--pue") -> float:
    """Power usage effectiveness (facility power / IT power, The Green Grid 2007): '1.2' ->
    1.2; below 1 is impossible (a facility cannot draw less than its IT load)."""
    value = _parse(text, name, _PLAIN_RE, _PLAIN_SCALES, _ACCEPT_PUE, "a PUE",
                   allow_zero=True)
    if value < 1:
        raise InputError(name, text, _ACCEPT_PUE, "is below 1 (a facility cannot draw less "
                         "than its IT load)")
    if value > MAX_PUE:
        raise InputError(name, text, f"{_ACCEPT_PUE}, at most {MAX_PUE:g}", "is too large")
    return float(value)


parse_pue.maximum = MAX_PUE  # (many.scenarios.numbers reads a parser's bounds)


def parse_energy_usd_per_kwh(text, name="--energy-usd-per-kwh") -> float:
    """An energy price in USD per kWh: '$0.08' -> 0.08; zero is allowed, a figure above
    MAX_ENERGY_USD_PER_KWH is refused as a likely price per MWh."""
    value = _parse(text, name, _PRICE_RE, _PLAIN_SCALES, _ACCEPT_ENERGY, "a price per kWh",
                   allow_zero=True)
    if value > MAX_ENERGY_USD_PER_KWH:
        raise InputError(name, text, _ACCEPT_ENERGY, f"is above ${MAX_ENERGY_USD_PER_KWH:g} "
                         "per kWh (a price per MWh?)")
    return float(value)


def parse_word(text, name: str, words) -> str:
    """One of an option's ``words`` (each lower case), in any case and with spaces around it,
    as the CLI takes them: 'FP8' -> 'fp8' for --precision (the library had refused what the
    command line took). Anything else, a word not among them or a value not text, is refused
    naming the words."""
    word = text.strip().lower() if isinstance(text, str) else None
    if word not in words:
        raise InputError(name, text, " or ".join(words))
    return word


# ---------------------------------------------------------------- formatting (for tables)

def _missing(x) -> bool:
    try:
        return x is None or math.isnan(x)
    except TypeError:
        return False


def _sig3(v: float) -> str:
    """v rounded to 3 significant figures, never dropping integer digits: 1.234 -> '1.23',
    45.67 -> '45.7', 850 -> '850', 1234.5 -> '1,234' (thousands separators), 0 -> '0'."""
    if v == 0 or not math.isfinite(v):
        return f"{v:g}"
    r = float(f"{v:.3g}")  # round first so 9.996 -> 10.0 gets the decimals of 10
    decimals = max(0, 2 - math.floor(math.log10(abs(r))))
    return f"{r if abs(r) < 1000 else v:,.{decimals}f}"


def _scaled(x: float, units: list[tuple[float, str]], sep: str = "") -> str:
    """x with the largest unit whose 3-significant-figure value is >= 1 (units ascending)."""
    sign, a = ("-" if x < 0 else ""), abs(x)
    scale, unit = units[0]
    for s, u in units:
        if float(f"{a / s:.3g}") >= 1:  # compare after rounding: 999.7K shows as 1.00M
            scale, unit = s, u
    return f"{sign}{_sig3(a / scale)}{sep}{unit}"


def fmt_count(x) -> str:
    """'1.00T', '405B', '16.4M' for |x| >= 1e4; '8,192' below (3 significant figures if
    fractional)."""
    if _missing(x):
        return "n/a"
    x = float(x)
    if abs(x) < 1e4 or not math.isfinite(x):
        return f"{int(x):,}" if math.isfinite(x) and x == int(x) else _sig3(x)
    return _scaled(x, [(1e3, "K"), (1e6, "M"), (1e9, "B"), (1e12, "T"), (1e15, "P")])


def fmt_count_short(x) -> str:
    """A count in its largest unit to six significant figures, no trailing zeros: '8B',
    '1.5T', '1.2349B', '999.5B', '8,192' (a name made of a count: the same however the count
    was spelt, two counts one name only where they agree to six figures; fmt_count's three
    had named 1.234B and 1.2349B alike)."""
    if _missing(x):
        return "n/a"
    x = float(x)
    if abs(x) < 1e4 or not math.isfinite(x):
        return fmt_count(x)
    units = [(1e3, "K"), (1e6, "M"), (1e9, "B"), (1e12, "T"), (1e15, "P")]
    scale, unit = max(((s, u) for s, u in units if abs(x) >= s), default=units[0])
    return f"{x / scale:.6g}{unit}"


def fmt_amount(x) -> str:
    """A quantity in the unit its name carries (MWh, t CO2) to 3 significant figures, whole
    numbers with thousands separators ('1,121', '850') and small ones with their decimals
    ('0.0123', where a whole number would read '0')."""
    return "n/a" if _missing(x) else _sig3(float(x))


def fmt_duration_days(seconds) -> str:
    """Seconds shown in days (86400 s) to 3 significant figures: '73.4 d'."""
    return "n/a" if _missing(seconds) else f"{_sig3(float(seconds) / SECONDS_PER_DAY)} d"


def fmt_days_column(days) -> str:
    """Days in a table's column: to 3 significant figures, as the days line shows them, and
    to at least one decimal, so that a bar's ends 115.9 and 116.2 d stay apart: '0.0118 d',
    '1.35 d', '115.9 d' (one decimal had read '0.0 d' for a run of 17 minutes)."""
    if _missing(days) or not math.isfinite(float(days)):
        return "n/a"
    x = float(days)
    # from 99.95 up, 3 significant figures would round to a bare "100"
    return f"{x:,.1f} d" if abs(x) >= 99.95 else f"{_sig3(x)} d"


def fmt_days(days) -> str:
    """Days to one decimal, '131.0 days'; below one day, where that would read '0.0 days',
    hours to 3 significant figures: '1.00 hours'."""
    if _missing(days):
        return "n/a"
    x = float(days)
    return f"{x:,.1f} days" if not abs(x) < 1 else f"{_sig3(x * 24)} hours"


def fmt_minutes(seconds) -> str:
    """Seconds in minutes to one decimal, '12.5 minutes'; below a minute, where that would
    read '0.0 minutes', seconds to 3 significant figures: '0.439 seconds'."""
    if _missing(seconds):
        return "n/a"
    x = float(seconds)
    return f"{x / 60:,.1f} minutes" if not abs(x) < 60 else f"{_sig3(x)} seconds"


def fmt_power(w) -> str:
    """Watts with a W/kW/MW/GW unit to 3 significant figures: '12.3 MW', '850 kW'."""
    if _missing(w):
        return "n/a"
    return _scaled(float(w), [(1.0, "W"), (1e3, "kW"), (1e6, "MW"), (1e9, "GW")], sep=" ")


def fmt_power_mw(mw) -> str:
    """A figure in MW (a plan's power_mw) as fmt_power shows it; 'n/a' when unknown."""
    return fmt_power(None if _missing(mw) else float(mw) * 1e6)


def fmt_mw(mw) -> str:
    """Facility power as limits and diagnoses say it: '12.3 MW' to a tenth, and below 1 MW
    in the unit that shows it ('850 kW', not '0.0 MW')."""
    return f"{mw:,.1f} MW" if not abs(mw) < 1 else fmt_power(mw * 1e6)


# --- a bound at the precision shown: a need rounded up, a cap down --------------------------

def sig3_step(x: float) -> float:
    """The last digit of x at 3 significant figures (fmt_power, fmt_money, fmt_count in their
    scaled units): 0.01 for 1.23, 10 for 4,560."""
    return 10.0 ** (math.floor(math.log10(abs(x))) - 2)


def rounded_at(x: float, step: float, up: bool) -> float:
    """x rounded up (a need: given, it is enough) or down (a cap: never overstated) to a
    multiple of ``step``, the last digit its text shows; float noise is no digit (7.3 / 0.1 =
    72.99999999999999 steps is 73)."""
    units = round(x / step, 9)
    return (math.ceil(units) if up else math.floor(units)) * step


def fmt_mw_bound(mw, up: bool) -> str:
    """fmt_mw's text of ``mw`` rounded up or down at the precision it shows (a tenth of a MW;
    3 significant figures below 1 MW): a need said so that giving it is enough (1.8331 MW
    had read "1.8 MW", and a cap of 1.8 MW is still short)."""
    if _missing(mw) or not (math.isfinite(mw) and mw > 0):
        return fmt_mw(mw)
    return fmt_mw(rounded_at(mw, 0.1 if mw >= 1 else sig3_step(mw), up))


def fmt_days_bound(days, up: bool) -> str:
    """fmt_days's text of ``days`` rounded up or down at the precision it shows (a tenth of a
    day; 3 significant figures of hours below a day): a run of 138.0386 days had read "138.0
    days", and a deadline of 138 days refused it."""
    if _missing(days) or not (math.isfinite(days) and days > 0):
        return fmt_days(days)
    if days >= 1:
        return fmt_days(rounded_at(days, 0.1, up))
    hours = days * 24
    return fmt_days(rounded_at(hours, sig3_step(hours), up) / 24)


def fmt_money(usd) -> str:
    """'$1.23B', '$45.6M', '$12.3K' (3 significant figures) or cents below $1,000: '$2.50'."""
    if _missing(usd):
        return "n/a"
    x = float(usd)
    if abs(x) < 1e3 or not math.isfinite(x):
        return f"{'-' if x < 0 else ''}${abs(x):,.2f}"
    scaled = _scaled(abs(x), [(1e3, "K"), (1e6, "M"), (1e9, "B"), (1e12, "T")])
    return f"{'-' if x < 0 else ''}${scaled}"


def fmt_fixed(x, fmt: str = "{:,.1f}") -> str:
    """x through a format string ('{:,.0f}'), or 'n/a' when unknown (None, nan, inf)."""
    return "n/a" if x is None or (isinstance(x, float) and not math.isfinite(x)) else fmt.format(x)


def fmt_pct(frac) -> str:
    """A fraction as a percentage with one decimal: 0.4123 -> '41.2%'; a share short of the
    whole that would round to it reads '>99.9%' (a goodput beside hours lost), one just above
    nothing '<0.1%'."""
    if _missing(frac):
        return "n/a"
    x = float(frac)
    if 0.9995 <= x < 1.0:
        return ">99.9%"
    if 0.0 < x < 0.0005:
        return "<0.1%"
    return f"{x * 100:.1f}%"


def known(x):
    """None (unknown) -> nan; numbers and arrays -> float arrays (unknown stays unknown)."""
    import numpy as np

    return np.asarray(np.nan if x is None else x, dtype=float)


def one_shape(values: dict) -> dict:
    """``values`` (name -> number or array) as arrays of their common broadcast shape, each
    its own array: one already of that shape, owning its data and not seen under another
    name, is kept as it is; a scalar or a smaller array is copied out to the shape (a view of
    a broadcast would be read-only and share its memory)."""
    import numpy as np

    shape = np.broadcast_shapes(*(np.shape(v) for v in values.values()))
    out, seen = {}, set()
    for k, v in values.items():
        if isinstance(v, np.ndarray) and v.shape == shape and v.flags.owndata \
                and v.flags.writeable and id(v) not in seen:
            out[k] = v
        else:
            out[k] = np.broadcast_to(v, shape).copy()
        seen.add(id(out[k]))
    return out
