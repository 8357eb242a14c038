"""Realisation: from the tuned steady state to the run as whole runs really go.

The steady state (step.py) with failures and checkpoints (reliability.py) is the ideal run.
Published whole runs take longer: evaluation, batch ramp-up, loss-spike rollbacks, stragglers,
data stalls, debugging, software less tuned than the best. The realised run is

    realised wall = ideal wall x (1 + evaluation + batch ramp-up + rollbacks) x residual

The named terms are fractions of the ideal wall time, each from a published run
(assumptions.py: evaluation_fraction, batch_ramp_fraction, rollback_fraction). The residual is
empirical: over the public whole runs (workloads/*.toml, kind whole_run, predicted with
planning-time inputs only), the point forecast of published device-hours / (ideal x named
terms) that minimises the percentage error (``centre``: a weighted median), over the runs
of the plan's group of teams when the fit keeps a grouping by team (GROUPINGS; all runs when
it keeps none or the team is not said), with its spread as the 10th and 90th percentiles of
the same ratios. The fitted constants live in realisation_fit.py, regenerated from the
repository's data by ``planner validate --refit`` (planner/whole_runs.py fit_realisation); a
test holds them to a fresh fit. A grouping is kept only if it lowers the leave-one-out error
(docs/validation.md).

Pure functions that broadcast over numpy arrays: one plan, a Monte Carlo and a sweep of
millions call ``realise``.
"""

from __future__ import annotations

import numpy as np

from ..assumptions import Assumptions
from ..specs import TEAMS
from ..units import known as _known
from .realisation_fit import FIT, GROUPING

__all__ = ["GROUPS", "REALISATION_KEYS", "Z90", "group_of", "named_fraction", "realise",
           "spread", "draw_residual", "fit", "leave_one_out"]

# The residual's groups, in the order realisation_fit.py lists them: every group a grouping
# names, each once ("company" is both a group of its own and a kind of team), and all runs
# together ("any").
GROUPS = tuple(dict.fromkeys(("frontier", "other", "company", "open") + TEAMS + ("any",)))
# The runs each group was fitted on, in words, {n} their count (a plan's realisation line).
GROUP_RUNS = {"frontier": "the {n} public whole runs of frontier labs",
              "other": "the {n} public whole runs of every kind of team but frontier labs",
              "company": "the {n} public whole runs of companies",
              "open": "the {n} public whole runs of open-model groups, academic and national "
                      "clusters",
              "any": "all {n} public whole runs",
              **{team: f"the {{n}} public whole runs of the {team} kind" for team in TEAMS}}
# What ``realise`` returns beside the wall time, in order (a plan's realisation_* columns).
REALISATION_KEYS = ("multiplier", "p10_multiplier", "p90_multiplier", "named_fraction",
                    "residual", "lost_hours_evaluation", "lost_hours_batch_ramp",
                    "lost_hours_rollback", "lost_hours_residual")
# A group of teams is fitted on its own with at least this many public runs (a 10-90% range of
# one or two runs is no range); fewer, and its plans take the fit of all runs.
MIN_GROUP_RUNS = 3
# The standard normal's 90th percentile: a 10-90% range is +-1.2816 standard deviations.
Z90 = 1.2815515655446004


# How the public whole runs may be grouped by the kind of team that ran them: the fit keeps
# the grouping with the lowest leave-one-out error (planner/whole_runs.py fit_realisation, which
# writes it to realisation_fit.py as GROUPING), "none" when no grouping lowers it.
GROUPINGS = {
    "none": lambda team: "any",
    "frontier lab / other": lambda team: "frontier" if team == "frontier lab" else "other",
    "frontier lab / company / open, academic, national":
        lambda team: {"frontier lab": "frontier", "company": "company"}.get(team, "open"),
    "each of the five kinds": lambda team: team,
}


def group_of(team: str | None, grouping: str | None = None) -> str:
    """The residual group of a kind of team under ``grouping`` (the shipped fit's GROUPING
    when None); "" or None: not said, all runs ("any")."""
    if not team or team == "any":
        return "any"
    if team not in TEAMS:
        raise KeyError(team)
    return GROUPINGS[grouping or GROUPING](team)


def _group_fit(asm: Assumptions, fitted: dict | None = None) -> dict:
    """The fitted residual of the plan's group of teams; all runs' when the fit has none for
    it (a kind of team with fewer than MIN_GROUP_RUNS public runs has no spread of its own)."""
    fit_ = fitted or FIT
    return fit_.get(group_of(asm.team), fit_["any"])


def named_fraction(asm: Assumptions) -> float:
    """The named terms' share of the ideal wall time (0 when realisation is off)."""
    if not asm.realisation:
        return 0.0
    # evaluation (BLOOM chronicles) + batch ramp-up (BLOOM) + rollbacks (PaLM sec. 5.1)
    return asm.evaluation_fraction + asm.batch_ramp_fraction + asm.rollback_fraction


def realise(ideal_wall_s, devices, asm: Assumptions, residual_log=None,
            fitted: dict | None = None) -> dict:
    """The realised wall time of runs whose ideal (steady state, failures, checkpoints) wall
    time is ``ideal_wall_s`` on ``devices`` devices, and where it went, as arrays.

    ``residual_log``: a draw of the residual's log about its centre (uncertainty.py), else the
    centre itself. ``fitted``: residual constants in place of the shipped FIT (the validation's
    leave-one-out)."""
    ideal = _known(ideal_wall_s)
    n = np.asarray(devices, dtype=float)
    group = _group_fit(asm, fitted)
    named = named_fraction(asm)
    centre = group["log_centre"] if asm.realisation else 0.0
    # a Monte Carlo's draw about the plan's wall time; with realisation off, the efficiency
    # and failure draws alone (draw_residual)
    offset = 0.0 if residual_log is None else _known(residual_log)
    # the empirical residual: the centre of published / (ideal x named) for the team's group
    residual = np.exp(centre + offset)
    named_wall = ideal * (1.0 + named)
    wall = named_wall * residual
    to_hours = n / 3600.0
    low, high = spread(asm, fitted)
    # the same multiplier for a run that never ends (ideal wall inf: no progress)
    multiplier = (1.0 + named) * residual * np.ones_like(ideal)
    return {"wall_s": wall, "multiplier": multiplier,
            # the fitted 10th and 90th percentiles of the residual (about the draw, if any)
            "p10_multiplier": multiplier * np.exp(low), "p90_multiplier": multiplier * np.exp(high),
            "named_fraction": np.full_like(ideal, named),
            "residual": np.broadcast_to(residual, ideal.shape).astype(float),
            "lost_hours_evaluation": ideal * (asm.evaluation_fraction if asm.realisation
                                              else 0.0) * to_hours,
            "lost_hours_batch_ramp": ideal * (asm.batch_ramp_fraction if asm.realisation
                                              else 0.0) * to_hours,
            "lost_hours_rollback": ideal * (asm.rollback_fraction if asm.realisation
                                            else 0.0) * to_hours,
            "lost_hours_residual": named_wall * (residual - 1.0) * to_hours}


def spread(asm: Assumptions, fitted: dict | None = None) -> tuple[float, float]:
    """(low, high): the 10th and 90th percentiles of the team group's residual, as log offsets
    from its centre (low <= 0 <= high); (0, 0) when realisation is off."""
    if not asm.realisation:
        return 0.0, 0.0
    g = _group_fit(asm, fitted)
    return (min(g["log_q10"] - g["log_centre"], 0.0),
            max(g["log_q90"] - g["log_centre"], 0.0))


def draw_residual(rng: np.random.Generator, n: int, asm: Assumptions,
                  other_log=None) -> np.ndarray:
    """n draws of the realised wall time's log about the plan's (the residual about its
    centre): a two-piece normal whose 10th, 50th and 90th percentiles are the fitted ones
    (spread; median 0).

    ``other_log``: the log of what the Monte Carlo's other draws do to the ideal wall time
    about their median (the step model's efficiency, the failure rate). The residual fitted on
    published runs already holds them, so they are not added to it: each percentile of the
    result is the fitted one, or theirs where they alone spread wider (an efficiency_log_sd
    raised past the fit; failures at a scale where goodput falls steeply), the two paired by
    rank. A draw that never ends (+inf) stays one."""
    low, high = spread(asm)
    z = rng.standard_normal(n)
    # two-piece normal: the low side's scale below the centre, the high side's above; with
    # other_log, the sample's own 10th, 50th and 90th percentiles are put on the fitted ones
    # (no sampling error in the three figures a plan reports)
    if not asm.realisation and other_log is not None:
        # no residual to hold the other draws: theirs alone, about the headline (their own
        # median, not re-centred: docs/uncertainty.md)
        return np.broadcast_to(np.asarray(other_log, dtype=float), (n,)).copy()
    if other_log is None or not asm.realisation or n < 3:
        return np.where(z < 0, z * (-low / Z90), z * (high / Z90))
    z10, z50, z90 = np.percentile(z, (10, 50, 90))
    fitted = np.where(z < z50, (z - z50) * (-low / (z50 - z10)),
                      (z - z50) * (high / (z90 - z50)))
    other = np.broadcast_to(np.asarray(other_log, dtype=float), (n,))
    mid = np.percentile(other, 50, method="inverted_cdf")
    if not np.isfinite(mid):  # most draws never end: theirs is the answer
        return np.where(np.isfinite(other), fitted, np.inf)
    by_rank = np.argsort(z, kind="stable")
    theirs = np.sort(other) - mid  # +inf sorts last
    mine = fitted[by_rank]
    out = np.empty(n)
    # per rank, the wider of the two on its side of the median
    out[by_rank] = np.where(mine < 0, np.minimum(mine, theirs), np.maximum(mine, theirs))
    return out - np.median(out)  # finite: at least half the draws end (mid above)


def centre(log_ratio) -> float:
    """The residual's point forecast: the c minimising the mean absolute percentage error
    sum |exp(c - x) - 1| of the runs' log ratios x, the median of their distribution
    reweighted by 1/ratio (Gneiting 2011, 'Making and evaluating point forecasts', JASA 106:
    the optimal point forecast under MAPE is the beta-median with beta = -1)."""
    x = np.sort(np.asarray(log_ratio, dtype=float))
    w = np.cumsum(np.exp(-x))
    return float(x[np.searchsorted(w, w[-1] / 2.0)])


def fit(log_ratio, groups) -> dict:
    """The residual constants from log(published / (ideal x named)) of whole runs and their
    groups ("frontier" or "other", or any other labels): per group and for all runs ("any"),
    the centre (``centre``: the forecast that minimises the percentage error), the 10th and
    90th percentiles as a prediction interval for one more run, and the number of runs.

    A new run exchangeable with n others falls below the k-th smallest of them with
    probability k/(n+1), so the p-quantile for predicting it is the order statistic at position
    p(n+1) (Hyndman & Fan 1996, 'Sample quantiles in statistical packages', type 6; numpy's
    "weibull"); numpy's default, p(n-1)+1, is narrower and, left one out, held 71% of the
    public runs inside a 10-90% range."""
    x = np.asarray(log_ratio, dtype=float)
    g = np.asarray(groups)
    names = [n for n in GROUPS if n == "any" or n in set(g.tolist())]
    names += sorted(set(g.tolist()) - set(names))
    out = {}
    for name in names:
        sel = x if name == "any" else x[g == name]
        if name != "any" and sel.size < MIN_GROUP_RUNS:
            continue  # too few runs for a 10-90% range: the plan takes all runs' fit
        out[name] = {"log_centre": centre(sel),
                     "log_q10": float(np.percentile(sel, 10, method="weibull")),
                     "log_q90": float(np.percentile(sel, 90, method="weibull")),
                     "runs": int(sel.size)}
    return out


def leave_one_out(log_ratio, groups) -> dict:
    """For each run, the residual fitted on all the others (its group's centre, 10th and 90th
    percentiles, as ``fit``): arrays log_centre, log_q10, log_q90."""
    x = np.asarray(log_ratio, dtype=float)
    g = np.asarray(groups)
    out = {k: np.empty(x.size) for k in ("log_centre", "log_q10", "log_q90")}
    for i in range(x.size):
        keep = np.arange(x.size) != i
        fitted = fit(x[keep], g[keep])
        f = fitted.get(g[i], fitted["any"])  # a group of too few runs: all runs' fit
        for k in out:
            out[k][i] = f[k]
    return out
