"""The quantities of a plan and its limits, parsed and checked once at the boundary: each
flag's value with its unit (a duration, money, power, a count of devices or tokens, a price, a
seed, a flag), at most its MAX_* (planner/units.py) and, as a plain number, at least its
PLAIN_NUMBER_FLOORS; and the Limits a plan is sized under (deadline, budget, power cap, device
count, objective, ownership, inventory)."""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass, replace
from decimal import Decimal

from ..assumptions import Assumptions
from ..catalog import Catalog
from ..errors import InputError, UnknownKeyError, did_you_mean
from ..units import (
    MAX_DEVICES,
    MAX_DURATION_S,
    MAX_MONEY_USD,
    MAX_POWER_W,
    MAX_TOKENS,
    MAX_USD_PER_DEVICE_HOUR,
    MIN_DEADLINE_S,
    ascii_float,
    fmt_money,
    parse_count,
    parse_duration_s,
    parse_energy_usd_per_kwh,
    parse_int_count,
    parse_money_usd,
    parse_power_w,
    parse_pue,
    parse_word,
)

# A plain number is in SI units (docs/interface.md): below these, one written for days or
# megawatts (deadline = 90, power_cap = 150) is refused, not planned as 90 s or 150 W: by a
# sweep spec as a whole, by estimate_many row by row, by planner.estimate and budget's
# keywords (plain_number_problem, through parse_deadline and parse_power_cap).
PLAIN_NUMBER_FLOORS = {
    "deadline": (86400, "a duration with its unit (90d, 12w, 2160h), or seconds of at least "
                 "a day (86400)", "seconds"),
    "power_cap": (1e3, "a power with its unit (150MW, 500kW), or watts of at least 1,000",
                  "watts"),
}


def plain_number_problem(name: str, value, flag: str | None = None) -> InputError | None:
    """The error of a plain number below its input's floor (PLAIN_NUMBER_FLOORS), else None;
    named as ``flag`` (default: the input's flag, --power-cap, as every other row error is)."""
    plain = PLAIN_NUMBER_FLOORS.get(name)
    # numpy's numbers too (a DataFrame cell is np.int64), not its timedelta64 (a unit)
    if plain and isinstance(value, (numbers.Real, Decimal)) and not isinstance(value, bool) \
            and type(value).__name__ != "timedelta64" and 0 < value < plain[0]:
        return InputError(flag or f"--{name.replace('_', '-')}", value, plain[1],
                          f"is a plain number, read as {plain[2]}: far "
                          "below any training run's")
    return None


def parse_deadline(text, name: str = "--deadline") -> float:
    """A deadline in seconds: '90d' -> 7776000.0 (at least MIN_DEADLINE_S, at most
    MAX_DURATION_S: 1e-320s had underflowed the limits' arithmetic; a plain number under a
    day is refused: plain_number_problem)."""
    if (plain := plain_number_problem("deadline", text, name)) is not None:
        raise InputError(name, text, plain.accepted, plain.reason)
    seconds = parse_duration_s(text, name, maximum=MAX_DURATION_S)
    if seconds < MIN_DEADLINE_S:
        raise InputError(name, text, "a duration of at least one second (e.g. 90d, 2160h)",
                         "is shorter than a second")
    return seconds


def parse_budget(text, name: str = "--budget") -> float:
    """Money in USD: '$1.2B' -> 1.2e9 (above zero, as every limit is: a budget of nothing
    buys no run; at most MAX_MONEY_USD)."""
    # the ceiling named, as --tokens and --power-cap name theirs (1e30 had been refused
    # with no bound said)
    accepted = ("an amount of money greater than zero, e.g. $250M, at most "
                f"{fmt_money(MAX_MONEY_USD)}")
    try:
        value = parse_money_usd(text, name, maximum=MAX_MONEY_USD)
    except InputError as exc:  # one accepted form, whatever went wrong (it said non-negative)
        raise InputError(name, text, accepted, exc.reason) from None
    if value <= 0:
        raise InputError(name, text, accepted, "must be greater than zero")
    return value


def parse_power_cap(text, name: str = "--power-cap") -> float:
    """Facility power in watts: '150MW' -> 1.5e8 (at most MAX_POWER_W; a plain number under
    a kilowatt is refused: plain_number_problem)."""
    if (plain := plain_number_problem("power_cap", text, name)) is not None:
        raise InputError(name, text, plain.accepted, plain.reason)
    return parse_power_w(text, name, maximum=MAX_POWER_W)


def parse_tokens(text, name: str = "--tokens") -> float:
    """Training tokens: '15T' -> 1.5e13 (at least one, at most MAX_TOKENS)."""
    n = parse_count(text, name, maximum=MAX_TOKENS)
    if n < 1:
        raise InputError(name, text, "a count of at least one token (e.g. 15T)",
                         "is less than one token")
    return n


def parse_price(text, name: str = "--price-per-gpu-hour") -> float:
    """A price per device-hour in USD: '$2.5' -> 2.5 (at most MAX_USD_PER_DEVICE_HOUR)."""
    return parse_money_usd(text, name, maximum=MAX_USD_PER_DEVICE_HOUR)


def parse_gpus(text, name: str = "--gpus") -> int:
    """A device count: '16K' -> 16000 (at most MAX_DEVICES; the plan's own ceiling is the
    assumption max_gpus, checked by check_gpus)."""
    return parse_int_count(text, name, maximum=MAX_DEVICES)


# --gpus auto: no device count, the cluster sized to the limits as when --gpus is left out
# (the word --unit auto uses for the system's own unit); the way a command line, or a later
# config file, sets aside a config file's gpus.
GPUS_SIZED = "auto"


def parse_gpus_flag(text, name: str = "--gpus") -> int | None:
    """--gpus as the commands read it: a device count (parse_gpus), or the word auto (any
    case): None, the cluster sized."""
    if isinstance(text, str) and text.strip().lower() == GPUS_SIZED:
        return None
    try:
        return parse_gpus(text, name)
    except InputError as exc:
        raise InputError(exc.name, exc.value, f"{exc.accepted}, or {GPUS_SIZED} (sized to "
                         "the limits)", exc.reason) from None


# The largest value of each: the plain numbers many.scenarios.numbers takes without calling
# the parser must obey it too.
parse_deadline.maximum = MAX_DURATION_S
# a plain number below its floor goes to the parser, which refuses it (plain_number_problem)
parse_deadline.minimum = max(MIN_DEADLINE_S, PLAIN_NUMBER_FLOORS["deadline"][0])
parse_budget.maximum = MAX_MONEY_USD
parse_power_cap.maximum = MAX_POWER_W
parse_power_cap.minimum = PLAIN_NUMBER_FLOORS["power_cap"][0]
parse_tokens.maximum = MAX_TOKENS
parse_tokens.minimum = 1.0
parse_price.maximum = MAX_USD_PER_DEVICE_HOUR
parse_gpus.maximum = MAX_DEVICES


def check_gpus(n: int, asm: Assumptions, given, name: str = "--gpus",
               raise_with: str = "--assume max_gpus=N") -> int:
    """A device count the planner plans: at most the assumption max_gpus, which --assume
    max_gpus=N raises (up to MAX_DEVICES); ``raise_with``: how the caller's input raises it
    (a fleet file's schedule has no --assume)."""
    if n > asm.max_gpus:
        raise InputError(name, given, f"at most max_gpus = {asm.max_gpus:,} devices (raise it "
                         f"with {raise_with}, up to {MAX_DEVICES:,})",
                         "is above the largest cluster the planner plans")
    return n


def check_max_gpus(n: float | None, asm: Assumptions, given) -> None:
    """--max-gpus no higher than the sizing's own ceiling, the assumption max_gpus: the sizing
    never reaches a limit above it (an infeasible plan had named neither: --max-gpus 8000 with
    --assume max_gpus=1000)."""
    if n is not None and n > asm.max_gpus:
        raise InputError("--max-gpus", given, f"at most max_gpus = {asm.max_gpus:,} devices, "
                         "the largest cluster the planner searches (raise it with --assume "
                         f"max_gpus=N, up to {MAX_DEVICES:,})", "is above the sizing's ceiling")


def parse_seed(seed, name: str = "--seed") -> int:
    """The Monte Carlo's seed: a whole number >= 0 (numpy's generators take no negative
    seed)."""
    value = seed
    if isinstance(seed, str) and re.fullmatch(r"[0-9]+", seed.strip(), re.ASCII):
        value = int(seed)
    elif isinstance(seed, str):  # a whole number written as a float (a config file's 7.0)
        try:  # ASCII alone ('１' had read as 1)
            as_float = ascii_float(seed)
        except ValueError:
            as_float = math.nan
        if math.isfinite(as_float) and as_float.is_integer() and 0 <= as_float < 2**53:
            value = int(as_float)
    elif isinstance(seed, numbers.Real) and not isinstance(seed, bool) \
            and float(seed).is_integer() and 0 <= float(seed) < 2**53:
        value = int(seed)  # a whole number as a float (a pandas column with a blank: 7.0)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) \
            or not 0 <= value < 2**63:
        raise InputError(name, seed, "a whole number from 0 to 2^63 - 1")
    return int(value)


def seed_for(seed, uncertainty: bool) -> int:
    """The Monte Carlo's seed (0 when none is given); a seed given without ``uncertainty`` is
    refused: it seeds the Monte Carlo, which only --uncertainty runs (estimate, estimate_many
    and the sweeps alike: the bulk paths had dropped it in silence)."""
    if seed is None:
        return 0
    value = parse_seed(seed)
    if not uncertainty:
        raise InputError("--seed", value, "--seed N with --uncertainty (it seeds the Monte "
                         "Carlo of P10/P50/P90)", "seeds nothing without --uncertainty")
    return value


# Flags whose text the commands read with a parser of their own, by flag name (underscores):
# what ``planner config show`` checks a config file's values with (config.Config.check_values)
# and what a command checks a config file's values with when it starts (cli._setting_checked).
FLAG_PARSERS = {"deadline": parse_deadline, "usd": parse_budget, "budget": parse_budget,
                "power_cap": parse_power_cap, "tokens": parse_tokens,
                "price_per_gpu_hour": parse_price, "gpus": parse_gpus_flag, "max_gpus": parse_gpus,
                "pue": parse_pue, "energy_usd_per_kwh": parse_energy_usd_per_kwh,
                "seed": parse_seed}


def parse_flag(value, name: str, default: bool = False) -> bool:
    """A switch (uncertainty, allow_tp_beyond_domain): true or false, never any other value
    read as true; None is not given, as for every keyword: ``default``, the keyword's own
    (estimate's alternatives=True passes True)."""
    if value is None:  # it had been refused ("--uncertainty: not given")
        return default
    if value in (True, False, 0, 1) and not isinstance(value, float):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"  # a table read from CSV holds the words
    raise InputError(name, value, "true or false")


@dataclass(frozen=True)
class Limits:
    deadline_s: float | None = None
    budget_usd: float | None = None
    power_cap_w: float | None = None
    max_gpus: int | None = None
    objective: str | None = None  # None: the cheapest cluster meeting the (default) deadline
    ownership: str = "cloud"
    price_per_gpu_hour: float | None = None
    inventory: tuple = ()  # ((accelerator, devices on hand), ...)
    pue: float | None = None                 # given: replaces the site's PUE
    energy_usd_per_kwh: float | None = None  # given: replaces the site's energy price

    @property
    def caps_size(self) -> bool:
        """A limit beyond the deadline: the choice among sizes goes to CP-SAT."""
        return any(v is not None for v in (self.budget_usd, self.power_cap_w, self.max_gpus)) \
            or bool(self.inventory)


OBJECTIVES = ("cost", "time")
OWNERSHIPS = ("cloud", "owned")


def parse_objective(text, name: str = "--objective") -> str:
    """What a sizing minimises: cost or time, in any case ('Time'), as the flag takes it."""
    return parse_word(text, name, OBJECTIVES)


def parse_ownership(text, name: str = "--ownership") -> str:
    """How the devices are paid for: cloud (rented) or owned, in any case ('OWNED'), as the
    flag takes it."""
    return parse_word(text, name, OWNERSHIPS)


def parse_limits(deadline=None, budget=None, power_cap=None, max_gpus=None, objective=None,
                 ownership="cloud", price_per_gpu_hour=None, pue=None,
                 energy_usd_per_kwh=None) -> Limits:
    objective = parse_objective(objective) if objective is not None else None
    ownership = parse_ownership(ownership)
    return Limits(
        deadline_s=parse_deadline(deadline) if deadline is not None else None,
        budget_usd=parse_budget(budget) if budget is not None else None,
        power_cap_w=parse_power_cap(power_cap) if power_cap is not None else None,
        max_gpus=parse_gpus(max_gpus, "--max-gpus") if max_gpus is not None else None,
        objective=objective, ownership=ownership,
        price_per_gpu_hour=(parse_price(price_per_gpu_hour)
                            if price_per_gpu_hour is not None else None),
        pue=parse_pue(pue, "--pue") if pue is not None else None,
        energy_usd_per_kwh=(parse_energy_usd_per_kwh(energy_usd_per_kwh, "--energy-usd-per-kwh")
                            if energy_usd_per_kwh is not None else None))


def parse_inventory(inventory, cat: Catalog) -> tuple:
    """{accelerator: devices} or 'h100-sxm=20000,b200=8000' -> ((key, devices), ...), with
    catalog keys (aliases resolved)."""
    if inventory is None or inventory == {}:
        return ()
    accepted = "ACCELERATOR=DEVICES[,...] with catalog keys (e.g. h100-sxm=20000,b200=8000)"
    if isinstance(inventory, str) and not inventory.strip():  # it had read as no inventory
        raise InputError("--inventory", inventory, accepted, "is empty")
    if isinstance(inventory, dict):
        items = list(inventory.items())
    else:
        items = []
        for part in str(inventory).split(","):
            if "=" not in part:
                raise InputError("--inventory", inventory, accepted)
            k, v = part.split("=", 1)
            items.append((k.strip(), v.strip()))
    out = {}
    for k, v in items:
        if not str(k).strip():  # the catalog's own refusal of an empty key names --gpu
            raise InputError("--inventory", inventory, accepted,
                             "gives devices without an accelerator")
        try:
            key = cat.resolve("accelerators", str(k))
        except UnknownKeyError:
            near = did_you_mean(str(k), cat.keys("accelerators"))
            raise InputError("--inventory", inventory, accepted,
                             f"names an unknown accelerator '{k}'"
                             + (f" (did you mean {near}?)" if near else "")) from None
        if key in out:  # as a layout part given twice
            raise InputError("--inventory", inventory, accepted,
                             f"gives {key} twice; give each accelerator once")
        out[key] = parse_gpus(v, "--inventory")
    return tuple(sorted(out.items()))


def limits_for(limits: Limits, inventory, gpu_keys: list[str], cat: Catalog) -> Limits:
    """The limits with the inventory parsed (no objective given stays None: the cost one
    by default, several accelerators compared by it too, reported as the default)."""
    return replace(limits, inventory=parse_inventory(inventory, cat))
