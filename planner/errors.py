"""The errors a user can cause, and how they are worded.

Every error a user's input can raise is one of these (or a subclass): the CLI turns them into
exit status 2 with the message, the many-scenario paths into a row's ``error`` column. Each
names the input, the value given and the accepted form.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path
from typing import Iterable

__all__ = ["InputError", "LayoutError", "CatalogError", "UnknownKeyError", "USER_ERRORS",
           "FLAGS", "error_text", "did_you_mean", "unknown_keyword", "toml_problem"]


class InputError(ValueError):
    """Bad user input: names the input, the value given and the forms accepted."""

    def __init__(self, name: str, value, accepted: str, reason: str | None = None):
        self.name, self.value, self.accepted, self.reason = name, value, accepted, reason
        # a value not given reads "--tokens: not given", never "None is not valid"
        # a TOML date or time as the file writes it (2027-01-01, not datetime.date(...))
        shown = value.isoformat() if isinstance(value, (datetime.date, datetime.time)) \
            else repr(value)
        given = f"{name}: {reason or 'not given'}" if value is None else \
            f"{name}: {shown} {reason or 'is not valid'}"
        super().__init__(f"{given}; accepted: {accepted}")

    def __reduce__(self):  # travels between processes (sweep workers, budget searches)
        return type(self), (self.name, self.value, self.accepted, self.reason)


class PrecisionError(InputError, KeyError):
    """A precision an accelerator has no peak for: an InputError naming the peaks it has, and
    a KeyError as a lookup of its peaks is (``Accelerator.peak``)."""

    __str__ = Exception.__str__  # the message, not KeyError's quoted key


class LayoutError(InputError):
    """A layout that cannot run on the given cluster (names the part that is wrong): an
    InputError of --layout, whose text is the problem alone (error_text adds the flag)."""

    ACCEPTED = ("tp=8,pp=16,dp=128,cp=1,ep=1,mb=1,vp=1,recompute=none|selective|full|"
                "full:0.25|full:0.5|full:0.75,zero=0|1|2|3 (parts left out are searched)")

    def __init__(self, message: str):
        self.name, self.value, self.accepted, self.reason = \
            "--layout", None, self.ACCEPTED, message
        ValueError.__init__(self, message)

    def __reduce__(self):
        return type(self), (self.reason,)


class CatalogError(ValueError):
    """A catalog file that is missing, unreadable or breaks the schema; ``option`` names the
    file and key ("path/h100.toml: hbm_gb.value") and ``accepted`` the form, when known."""

    def __init__(self, message: str, option: str | None = None, accepted: str | None = None):
        super().__init__(message)
        self.option, self.accepted = option, accepted

    def __reduce__(self):  # travels between processes (sweep workers)
        return type(self), (str(self), self.option, self.accepted)


# Two settings joined on one line by ';' (a compact example's notation: start = "2027-01";
# end = "2028-12"), which TOML does not take.
_JOINED = re.compile(r"""^[^#\n]*["'\d\]}]\s*;\s*[A-Za-z_][\w-]*\s*=""", re.M)


def toml_problem(exc: Exception, source=None) -> str:
    """A TOML parse error in a user's words: 'is not valid TOML (what the parser says)', and
    where a line of ``source`` (the TOML text, or a path to it) joins two settings with ';',
    that TOML takes one a line."""
    text = source
    if source is not None and not isinstance(source, str):  # a path: its text, as it reads
        try:
            text = Path(source).read_text(errors="replace")
        except OSError:
            text = None
    hint = ("; TOML takes one key = value a line, and ';' does not separate them"
            if text is not None and _JOINED.search(text) else "")
    if text is not None and text.startswith("\ufeff"):
        # a byte-order mark, as some Windows editors save UTF-8: TOML's UTF-8 takes none
        hint += ("; the file starts with a byte-order mark (U+FEFF, 'UTF-8 with BOM'), which "
                 "TOML does not take: save it as UTF-8 without one")
    return f"is not valid TOML ({exc}){hint}"


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """The choice closest to a mistyped word (difflib's ratio of at least 0.6), or None:
    'h100-smx' -> 'h100-sxm', 'price_per_gpu_hr' -> 'price_per_gpu_hour'."""
    import difflib

    choices = [str(c) for c in choices]
    text = str(word).strip().lower()
    found = difflib.get_close_matches(text, choices, n=1, cutoff=0.6)
    if not found:  # a prefix or a part: 'h100' -> 'h100-sxm'
        found = [c for c in sorted(choices) if text and (c.startswith(text) or text in c)][:1]
    return found[0] if found else None


# Keywords a caller guesses from the command line or from habit, and what the library takes
# instead (the nearest spelling would mislead: num_gpus reads as max_gpus, quiet as unit).
_FORMS = "none: a plan's to_dict(), to_json(), to_frame() and assumptions_frame() give its forms"
KEYWORD_HINTS = {
    "num_gpus": "gpus", "n_gpus": "gpus", "gpu_count": "gpus", "devices": "gpus",
    "accelerator": "gpu", "accelerators": "gpu", "model_config": "workload",
    "format": _FORMS, "fmt": _FORMS,
    "plot": "none: plan.plot() draws a plan (docs/library.md)",
    "sensitivity": "none: planner.sensitivity.sensitivity(quantity, ...) gives the tornado "
                   "(docs/library.md)",
    "quiet": "none: the library shows no progress unless progress=True",
}


def unknown_keyword(function: str, given: dict, accepted: Iterable[str]) -> InputError | None:
    """The error for the first keyword of ``given`` that ``function`` does not take (None when
    every one is taken), naming the nearest one it takes: price_per_gpu_hr -> ..._hour (or
    the one KEYWORD_HINTS names)."""
    accepted = list(accepted)
    wrong = [k for k in given if k not in accepted]
    if not wrong:
        return None
    return InputError(wrong[0], given[wrong[0]], f"a keyword of {function}: "
                      + ", ".join(accepted), "is not an input" + input_hint(wrong[0], accepted))


def input_hint(name, accepted) -> str:
    """' (did you mean gpus?)' for a name no input has: the input it spells with the flag's
    hyphens, another case or stray spaces (a CSV header's ' gpus'), else KEYWORD_HINTS', else
    the nearest spelling; '' when none is near."""
    accepted = list(accepted)
    text = str(name).strip().lower()
    plain = text.replace("-", "_").lstrip("_")
    if plain in accepted:
        return f" (did you mean {plain}?)"
    hint = KEYWORD_HINTS.get(plain)
    if hint is not None and hint.startswith("none:"):
        return f" ({hint.removeprefix('none: ')})"
    near = hint if hint in accepted else did_you_mean(plain, accepted)
    return f" (did you mean {near}?)" if near else ""


class UnknownKeyError(CatalogError):
    """A key (accelerator, network, site, workload) that no catalog file has."""

    def __init__(self, kind: str, key: str, known: Iterable[str]):
        self.kind, self.key, self.known = kind, key, sorted(known)
        self.suggestion = did_you_mean(key, self.known)
        hint = f" (did you mean {self.suggestion}?)" if self.suggestion else ""
        super().__init__(f"unknown {kind[:-1]} '{key}'{hint}; known: {', '.join(self.known)}")

    def __reduce__(self):
        return type(self), (self.kind, self.key, self.known)


# Every error a user's input can raise (ValueError: a malformed number deep in a parser).
USER_ERRORS = (InputError, LayoutError, CatalogError, ValueError)

# The flag a user gives each kind of catalog key with (the CLI's and per-row errors' wording).
FLAGS = {"accelerators": "--gpu", "networks": "--network", "sites": "--site",
         "workloads": "--workload"}


def error_text(exc: Exception) -> str:
    """A user error as the CLI words it: the flag, the value and the accepted form."""
    if isinstance(exc, UnknownKeyError):
        return f"{FLAGS.get(exc.kind, exc.kind)}: {exc}"
    if isinstance(exc, LayoutError):
        return f"--layout: {exc}"
    return str(exc)
