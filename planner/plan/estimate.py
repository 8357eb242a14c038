"""One plan: inputs -> workload and accelerators -> options -> the choice -> Plan.

``estimate`` is the library's entry point for one answer. It resolves the workload and the
hardware (plan/inputs.py, plan/cluster.py), evaluates its options (plan/options.py: a given
size, or every candidate size of a sizing, each with its best layout and its run, assembled by
plan/assemble.py), chooses one (plan/limits.py when a deadline is the only limit, CP-SAT in
plan/sizing.py under other limits), lists what it passed over (plan/alternatives.py), and
returns it as a ``Plan``. Infeasible plans are answers: ``feasible`` is false, ``binding`` names
the limit and ``reason`` says by how much.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, replace

import numpy as np

from ..assumptions import Assumptions, check_overrides, parse_overrides
from ..catalog import Catalog
from ..catalog import catalog as load_catalog
from ..errors import InputError, LayoutError, UnknownKeyError, unknown_keyword
from ..frameworks import DATA_PARALLEL_ONLY, MODEL_PARALLEL_PARTS
from ..model.cost import METHODS
from ..model.layouts import devices_step, layout_problem, named_devices
from ..model.search import FITS
from ..progress import Progress
from ..specs import Site, Workload, parse_layout
from .choose import Choice, Setup, decide, instance_of, sizing_limits
from .chosen import plan_of
from .cluster import (
    facility_w_per_device,
    hardware_for,
    networks,
    note_user_files,
    peak_names,
    purchase_unit,
    run_inputs,
)
from .inputs import (
    SHAPE_INPUTS,
    assumed_used,
    assumption_given,
    assumptions_for,
    default_site,
    gpu_keys,
    parse_framework,
    resolve_workload,
    stack_for,
    with_aliases,
    without_site_storage,
    workload_precision_error,
)
from .layout_inputs import layout_text
from .limits import (
    breaking,
    violations,
)
from .options import (
    SIZE_RESOLUTION,
    Options,
    Side,
    aligned_between,
    aligned_mid,
    evaluate,
    evaluate_sizes,
    first_sizes,
    layout_primes,
    merge,
    priced_each,
    sized,
    smooth_between,
    take,
    walk,
    walls,
)
from .quantiles import with_uncertainty
from .quantities import (
    Limits,
    check_gpus,
    check_max_gpus,
    limits_for,
    parse_flag,
    parse_gpus,
    parse_inventory,
    parse_limits,
    seed_for,
)
from .result import Plan, checked


def estimate(params=None, tokens=None, workload=None, *, gpu=None, gpus=None, network=None,
             site=None, layout=None, deadline=None, budget=None, power_cap=None, max_gpus=None,
             objective=None, ownership=None, price_per_gpu_hour=None, pue=None,
             energy_usd_per_kwh=None, catalog=None,
             ffn_type=None, seq_len=None, global_batch=None, precision=None,
             allow_tp_beyond_domain=False, uncertainty=False, seed=None, framework=None,
             team=None, assumptions: dict | Assumptions | None = None, inventory=None,
             unit="auto", curve=False, progress=False, alternatives=True, **shape) -> Plan:
    """Plan one training run. Quantities accept numbers (SI units) or strings with suffixes
    ('1T', '90d', '150MW', '$2.5'); docs/interface.md lists every input. ``pue`` and
    ``energy_usd_per_kwh`` replace the site's figures. ``unit``: what the cluster is bought
    in ("auto": the system's node or rack; "device", "node", "rack", "scalable-unit"); a sizing
    grows by it; a given ``gpus`` runs as given, the plan counting the units it fills.
    ``curve``: a sizing evaluates every quarter-octave size (the curve the sizing chart draws),
    not only those its choice needs (its choice and alternatives are then those of the sizes
    it saw, which can differ: ``planner estimate --plot`` plans without it and draws a curve
    of its own);
    ``progress`` (planner/progress.py) counts the sizes a sizing evaluates;
    ``alternatives`` false leaves out the plan's alternatives (the next layouts, the other
    accelerators, for a given cluster half of it and, past the default deadline, the cluster
    that meets it): a row of a table, a fleet's option, a validation's figure."""
    workload, assumptions, shape = flag_keywords(workload, assumptions, shape)
    wrong = unknown_keyword("planner.estimate", shape, ESTIMATE_KEYWORDS)
    if wrong is not None:
        raise wrong
    uncertainty = parse_flag(uncertainty, "--uncertainty")
    seed_given = seed is not None
    seed = seed_for(seed, uncertainty)
    req = prepare(params, tokens, workload, gpu=gpu, gpus=gpus, network=network, site=site,
                  layout=layout, deadline=deadline, budget=budget, power_cap=power_cap,
                  max_gpus=max_gpus, objective=objective, ownership=ownership,
                  price_per_gpu_hour=price_per_gpu_hour, pue=pue,
                  energy_usd_per_kwh=energy_usd_per_kwh, catalog=catalog, ffn_type=ffn_type,
                  seq_len=seq_len, global_batch=global_batch, precision=precision,
                  allow_tp_beyond_domain=allow_tp_beyond_domain, framework=framework,
                  team=team, assumptions=assumptions, inventory=inventory, unit=unit, **shape)
    alternatives = parse_flag(alternatives, "alternatives", default=True)
    curve = parse_flag(curve, "curve")  # bool() had read curve="false" as true
    with Progress(progress, None, "sizes", "size") as bar:
        plan = plan_on(req, curve=curve, progress=bar, alternatives=alternatives)
    if alternatives and (req.n_gpus is not None or named_devices(req.fixed) is not None) \
            and req.limits.deadline_s is None and plan.feasible \
            and plan.training_days > req.asm.deadline_days:
        plan = _with_deadline_size(req, plan)
    if alternatives and req.n_gpus is not None and plan.binding == "memory" \
            and plan.training_days is None:
        plan = _with_fewest_that_fit(req, plan)
    if alternatives and plan.binding == "memory" and plan.training_days is None \
            and layout is not None:  # a way out, as the others: a table's row has none
        plan = _with_layout_searched(req, plan, parse_layout(layout))
    if alternatives and req.left_out:
        plan = _with_left_out(req, plan)
    plan = over_default_site(plan, req, site)
    # a plan with figures, feasible or not: a missed deadline's chance of being met is asked
    # most when the plan misses it (a plan without a step or an end has no figures to draw)
    if uncertainty and plan.tokens_per_s and plan.training_days is not None \
            and math.isfinite(plan.training_days):
        chosen = next(sd.asm for sd in req.sides if sd.acc.key == plan.cluster["accelerator"])
        plan = with_uncertainty(plan, req.w, req.cat, req.site, req.limits, chosen, seed,
                                seed_given)
    elif uncertainty:  # asked for and not drawn: said, not left out without a word
        why = ("the run never ends at its headline: failures and restarts outpace its "
               "checkpoints" if plan.tokens_per_s else
               "the plan has no step (no layout fits) to draw around")
        plan = replace(plan, assumptions={**plan.assumptions, "uncertainty": {
            "value": "none", "source": f"not drawn: {why}"}})
    return checked(plan)


def passes_default_cap(power_mw, cap_w, default_site, cap_given):
    """Whether a plan drawing ``power_mw`` passes the default site's cap ``cap_w`` (W) and so
    says it: on the default site (``default_site``: named by no one, it caps nothing), with no
    --power-cap replacing it (``cap_given``). Broadcasts (estimate_many's rows); an unknown
    power or cap (nan) passes nothing."""
    with np.errstate(invalid="ignore"):
        return (np.asarray(default_site) & ~np.asarray(cap_given)
                & (np.asarray(power_mw, dtype=float) * 1e6 > np.asarray(cap_w, dtype=float)))


def over_default_site(plan: Plan, req, site) -> Plan:
    """The default site (named by no one) lends its PUE, energy price and carbon but caps
    nothing; a plan drawing more than its cap says so (``site_power_cap_mw``), lest the site
    named in the plan read as one that holds it."""
    cap = req.site.power_cap_w if req.site is not None else None
    if not cap or plan.power_mw is None or not passes_default_cap(
            plan.power_mw, cap, site is None, req.limits.power_cap_w is not None):
        return plan
    used = {**plan.assumptions, "site_power_cap_mw": {
        "value": cap / 1e6, "source": f"the default site {req.site.key}'s cap, not applied: "
        f"the plan's {plan.power_mw:,.0f} MW peak is above it (--site {req.site.key} holds a "
        "plan to it, --power-cap sets another)"}}
    return replace(plan, assumptions=used)


# Every keyword estimate takes: its own and the shape's (the first unknown one is refused,
# naming the nearest: price_per_gpu_hr -> price_per_gpu_hour).
ESTIMATE_KEYWORDS = tuple(inspect.signature(estimate).parameters)[:-1] + SHAPE_INPUTS


@dataclass
class Request:
    """A plan's inputs, parsed and resolved: what ``plan_on`` plans."""

    w: Workload
    sides: list
    fixed: dict
    n_gpus: int | None
    limits: Limits
    asm: Assumptions
    used: dict
    allow_tp: bool
    cat: Catalog
    site: Site | None
    # (accelerator, why) of each --gpu left out: no peak at the run's precision (one of
    # several; estimate lists them among the alternatives)
    left_out: tuple = ()


def flag_keywords(workload, assumptions, shape: dict) -> tuple:
    """(workload, assumptions, the rest): the flags' own names as keywords, as the interface
    promises (the flag's name with underscores): ``model_config`` for ``workload`` (the
    --model-config alias) and ``assume`` (--assume's NAME=VALUE texts, or a dict) merged into
    ``assumptions``; None is not given, as for every keyword."""
    rest = with_aliases({"workload": workload, **shape})
    workload = rest.pop("workload")
    assume = rest.pop("assume", None)
    if assume is None:
        return workload, assumptions, rest
    if isinstance(assume, dict):
        given = check_overrides(assume, "assume")
    elif isinstance(assume, (str, list, tuple)):
        given = parse_overrides([assume] if isinstance(assume, str) else assume)
    else:
        raise InputError("assume", assume, "NAME=VALUE texts (as --assume takes them) or a "
                         "dict of assumptions by name")
    if isinstance(assumptions, Assumptions):
        return workload, assumptions.with_(**given), rest
    if isinstance(assumptions, dict):  # checked with the rest (a team's spellings) later
        both = [k for k in given if k in assumptions and assumptions[k] != given[k]]
        if both:
            raise InputError("assume", assume, f"assume= or assumptions= for {both[0]}, not "
                             "both with different values", f"conflicts with assumptions["
                             f"{both[0]!r}] = {assumptions[both[0]]!r}")
        return workload, {**assumptions, **given}, rest
    # none given, or no dict (assumptions_for names that error)
    return workload, given if assumptions is None else assumptions, rest


def prepare(params=None, tokens=None, workload=None, *, gpu=None, gpus=None, network=None,
            site=None, layout=None, deadline=None, budget=None, power_cap=None, max_gpus=None,
            objective=None, ownership=None, price_per_gpu_hour=None, pue=None,
            energy_usd_per_kwh=None, catalog=None, ffn_type=None, seq_len=None,
            global_batch=None, precision=None, allow_tp_beyond_domain=False, framework=None,
            team=None, assumptions: dict | Assumptions | None = None, inventory=None,
            unit="auto",
            **shape) -> Request:
    """Parse and resolve ``estimate``'s inputs (every error a user can cause is raised here or
    by the layout search of a given size)."""
    cat = catalog if isinstance(catalog, Catalog) else load_catalog(catalog)
    allow_tp = parse_flag(allow_tp_beyond_domain, "allow_tp_beyond_domain")
    for name, value in (("--network", network), ("--site", site)):
        if value is not None and not str(value).strip():
            raise InputError(name, value, "a key of the catalog (planner hardware list)",
                             "is empty")
    held = None
    if gpu is None and inventory not in (None, {}) \
            and assumption_given(assumptions, "accelerator") is None:
        # the devices on hand are the ones planned when no --gpu is given (the default
        # accelerator had been planned alone, the inventory's B200 "not used ... (--gpu)");
        # an accelerator assumed (--assume, a config's [assumptions]) is given, and wins
        held = parse_inventory(inventory, cat)
        gpu = [k for k, _ in held]
    if framework is not None:  # the canonical key for every use below ('FSDP2' is fsdp2)
        framework = parse_framework(framework)
    framework_given = framework
    framework, stack_source = stack_for(cat, framework, gpu, assumptions)
    asm = assumptions_for(assumptions, framework, team)
    used: dict = {"framework": {"value": framework, "source": stack_source},
                  "team": {"value": asm.team or "not said",
                           "source": "given (--team)" if team is not None else
                           asm.source("team")}}
    used.update(assumed_used(assumptions, asm))  # what the caller changed, as given
    if held is not None:
        used["accelerator"] = {"value": ", ".join(gpu), "source": "the types of --inventory "
                               "(devices on hand), no --gpu given"}
    w = resolve_workload(cat, used, params, tokens, workload, ffn_type, seq_len, global_batch,
                         precision, asm, **shape)
    # an assumption given for the PUE or the energy price is the user's figure, as the keyword
    # is: it replaces the site's (it had been taken only where no site gives one, and every
    # plan has a site, so it moved nothing: the tornado read 0 for both)
    assumed = {}
    for name in ("pue", "energy_usd_per_kwh"):
        value = assumption_given(assumptions, name)
        if value is not None and (pue if name == "pue" else energy_usd_per_kwh) is None:
            assumed[name] = value
    pue = assumed.get("pue", pue)
    energy_usd_per_kwh = assumed.get("energy_usd_per_kwh", energy_usd_per_kwh)
    limits = parse_limits(deadline, budget, power_cap, max_gpus, objective,
                          "cloud" if ownership is None else ownership,
                          price_per_gpu_hour, pue, energy_usd_per_kwh)
    used["ownership"] = {"value": limits.ownership, "source": (
        "given (--ownership)" if ownership is not None else "planner default: cloud, the "
        "devices rented at price_per_gpu_hour (--ownership owned: bought, with depreciation, "
        "cost of capital, energy and facility; docs/costs.md)")}
    try:
        keys = list(dict.fromkeys(  # each accelerator once, whether by key or alias
            cat.resolve("accelerators", k) for k in gpu_keys(gpu, asm, used)))
    except UnknownKeyError as exc:
        if gpu is not None:
            raise
        # the default accelerator is the assumption's (--assume accelerator=..., a config
        # file's [assumptions]): named as such, not as a --gpu the user never gave
        raise InputError("--assume", f"accelerator={asm.accelerator}",
                         "a key of 'planner hardware list': " + ", ".join(exc.known),
                         "names no accelerator in the catalog" + (
                             f" (did you mean {exc.suggestion}?)" if exc.suggestion else "")
                         ) from None
    limits = limits_for(limits, inventory, keys, cat)
    fixed = parse_layout(layout)
    if framework_given in DATA_PARALLEL_ONLY:  # the stack shards data parallelism alone
        for part in MODEL_PARALLEL_PARTS:
            if fixed.get(part, 1) != 1:
                raise InputError("--layout", f"{part}={fixed[part]}", f"{part}=1 with "
                                 f"--framework {framework} (FSDP data parallelism alone), or "
                                 "a stack that builds it (megatron-core, fsdp2, torchtitan, "
                                 "deepspeed)", f"is a parallelism {framework} does not build")
            fixed[part] = 1
        used["layout_stack"] = {"value": "tp=1, pp=1, cp=1", "source": (
            f"{framework} shards data parallelism alone (planner/frameworks.py "
            "DATA_PARALLEL_ONLY): the layout searches dp and ZeRO")}
    n_gpus = check_gpus(parse_gpus(gpus), asm, gpus) if gpus is not None else None
    check_max_gpus(limits.max_gpus, asm, max_gpus)
    seqs = int(w.global_batch_tokens // w.seq_len)
    if framework_given in DATA_PARALLEL_ONLY and n_gpus is not None and n_gpus > seqs:
        # data parallelism alone: each device holds at least one sequence of the batch
        raise InputError("--gpus", n_gpus, f"at most {seqs:,} devices with --framework "
                         f"{framework} (data parallelism alone: a sequence of the "
                         f"{seqs:,}-sequence batch each at least), a larger --global-batch, "
                         "or a stack with model parallelism (megatron-core, fsdp2, "
                         "torchtitan, deepspeed)", "is more devices than the batch has "
                         "sequences")
    if n_gpus is None and named_devices(fixed) is not None:
        check_gpus(named_devices(fixed), asm, layout, "--layout")
    site_obj = without_site_storage(cat.site(site) if site is not None else
                                    default_site(cat, used), assumptions)
    if site is not None and limits.power_cap_w is None and site_obj.power_cap_w:
        # a site named is a site's power: its cap holds unless --power-cap replaces it (the
        # default site, named by no one, caps nothing)
        limits = replace(limits, power_cap_w=site_obj.power_cap_w)
        used["power_cap_mw"] = {"value": site_obj.power_cap_w / 1e6, "source": (
            f"site {site_obj.key} power_cap_mw (--power-cap to replace it)")}
    unit = "auto" if unit is None else str(unit).strip().lower()
    sides, lacking = [], []
    for k in keys:
        # with no --framework, each accelerator runs its own vendor's best stack (a TPU
        # MaxText, an H100 Megatron-Core), whatever the order of --gpu
        own, own_used = asm, used
        if framework_given is None and len(keys) > 1:
            stack, source = stack_for(cat, None, k, assumptions)
            own = assumptions_for(assumptions, stack, team)
            own_used = {**used, "framework": {"value": stack, "source": source}}
        try:
            sides.append(side_for(cat, cat.accelerator(k), network, site_obj, w, limits, own,
                                  own_used, unit))
        except InputError as exc:
            if exc.name != "--precision" or len(keys) < 2:
                # the precision is the workload file's, not a flag: name the file
                raise workload_precision_error(exc, workload, precision, k,
                                               w.precision) from None
            lacking.append((k, exc))  # one of several: planned on those that have it
    if lacking and not sides:  # none of them has it: refused, naming them all
        both = InputError("--precision", w.precision, f"a precision one of {', '.join(keys)} "
                          f"has a peak for, or a --gpu with a {w.precision} peak",
                          f"has no peak on any of {', '.join(keys)} (--gpu)")
        raise workload_precision_error(both, workload, precision, " or ".join(keys),
                                       w.precision) from None
    left_out = tuple((k, f"the run's {w.precision} has no peak on {k} (it has "
                      f"{', '.join(peak_names(cat.accelerator(k)))}; --precision to plan "
                      "on it)") for k, _ in lacking)
    if left_out:
        for sd in sides:
            sd.used["accelerators_left_out"] = {
                "value": ", ".join(k for k, _ in left_out),
                "source": f"--gpu: no {w.precision} peak in their catalog files; planned on "
                          "the others"}
    sizing = n_gpus is None and named_devices(fixed) is None
    sides = stepped(sides, fixed, sized=sizing)
    ceiling = asm.max_gpus  # the sizing's ceiling (--max-gpus below it is a limit: an answer)
    if sizing and all(sd.unit > ceiling for sd in sides):
        # a sizing's least size is one step: a layout whose step passes the ceiling had been
        # planned on a cluster that --gpus of that size refuses (tp=8,pp=120,cp=2 on 1,920
        # devices under max_gpus 1,000)
        raise InputError("--layout", layout, f"parts whose devices (tp x pp x lcm(dp x cp, "
                         f"ep), and the purchase unit) fit within {ceiling:,} devices "
                         "(the sizing's ceiling, --assume max_gpus)", f"runs on multiples of "
                         f"{min(sd.unit for sd in sides):,} devices, above {ceiling:,}")
    for sd in sides:  # an assumed PUE or energy price: reported as assumed, not as --pue
        for name in assumed:
            sd.used[name] = {"value": sd.used[name]["value"], "source": "given (--assume)"}
    for sd in sides:  # parts given that this shape or this hardware cannot run
        problem = layout_problem(w.architecture, w.seq_len, sd.hw.scale_up_domain, fixed,
                                 allow_tp, n_gpus, bool(sd.asm.kv_heads_split))
        if problem:
            raise LayoutError(problem + (f" ({sd.acc.key})" if len(sides) > 1 else ""))
    return Request(w, sides, fixed, n_gpus, limits, asm, used, allow_tp, cat, site_obj,
                   left_out)


# estimate's keywords that only shape its answer (alternatives, the Monte Carlo, progress),
# not the request prepare resolves: dropped where the request alone is asked (sensitivity.py)
ANSWER_ONLY_KEYWORDS = tuple(k for k in ESTIMATE_KEYWORDS if k not in SHAPE_INPUTS
                             and k not in inspect.signature(prepare).parameters)


def side_for(cat: Catalog, acc, network, site, w, limits: Limits, asm: Assumptions,
             used: dict, unit: str = "auto") -> Side:
    """One accelerator's side of a plan (its networks, hardware, run inputs, purchase unit)."""
    mine = dict(used)
    devices, what = purchase_unit(acc, unit)
    mine["unit"] = {"value": f"{what} of {devices}", "source": (
        f"given (--unit {unit})" if unit != "auto" else
        "the system's unit: its scale-up domain when a rack holds it (HGX node, NVL72 rack), "
        "else a rack (TPU cube) or host; --unit device to rent by the device")}
    if cat.from_user("accelerators", acc.key):
        # a user's file with an alias another file has (catalog.resolve) is that file's
        # error, as hardware list and show say; a shipped part it clashes with still plans
        for name in acc.aliases:
            cat.resolve("accelerators", name)
    up, out = networks(cat, acc, network)
    if out is not None:
        mine["network"] = {"value": out.key, "source": "given (--network)" if network is not None
                           else f"{acc.key}'s own scale-out network (its catalog file's "
                           "scale_out_network; --network to change)"}
    note_user_files(cat, mine, (("accelerators", acc.key, "accelerator"),
                                ("networks", up.key if up else None, "scale_up_network"),
                                ("networks", out.key if out else None, "scale_out_network")))
    hw = hardware_for(acc, up, out, w.precision, asm, mine)
    inputs = run_inputs(w, acc, site, asm, mine, limits.price_per_gpu_hour, limits.pue,
                        limits.energy_usd_per_kwh)
    return Side(acc, up, out, hw, inputs, mine, site, asm, devices, unit)


def stepped(sides: list, fixed: dict, sized: bool = False) -> list:
    """The sides with the devices their sizings grow by: the least multiple of the purchase
    unit that a pinned layout's step divides (devices_step: tp=1,pp=16,ep=64 runs on
    multiples of 1,024 devices; a sizing in nodes of 8 had walked 2,560 and 1,280, where no
    such layout runs, and answered 3,072 B200 for DeepSeek-V3 where 1,024 meet the deadline
    for 5% less; tp=8,pp=9 had found no size at all). ``sized``: the plan reports the step."""
    step = devices_step(fixed)
    out = []
    for sd in sides:
        bought = purchase_unit(sd.acc, sd.unit_asked)[0]
        unit = math.lcm(bought, step)
        if unit != sd.unit:
            sd = replace(sd, unit=unit, used=dict(sd.used))
        if sized and unit != bought:
            sd.used["size_step"] = {"value": unit, "source": (
                f"the sizes tried are multiples of it: the purchase unit of {bought:,} and the "
                f"--layout's tp x pp x lcm(dp x cp, ep) = {step:,} devices")}
        out.append(sd)
    return out


def plan_on(req: Request, engine: str = "auto", curve: bool = False,
            size_hint: int | None = None, alternatives: bool = True,
            progress: Progress | None = None) -> Plan:
    """The plan among the options of the request's accelerators. ``engine`` answers the
    choice among sizes: "auto" (CP-SAT under limits beyond a deadline, several accelerators or
    the time objective; numpy otherwise), "cp-sat" or "numpy" (the same answers: the
    questions are limits.solve_with's, tests hold the two engines to each other).
    ``size_hint``: a device count near the answer, where a sizing's walk starts;
    ``alternatives`` false leaves them out (a probe of an inverse plan)."""
    setup = _setup(req, curve, size_hint)
    if setup.n_gpus is not None:
        opts = evaluate(req.w, req.sides, np.arange(len(req.sides)),
                        np.full(len(req.sides), setup.n_gpus), req.fixed, req.asm,
                        req.allow_tp, setup.method, METHODS)
    else:
        opts = sized(req.w, req.sides, req.fixed, req.asm, req.allow_tp, setup.deadline_days,
                     setup.caps, setup.method, METHODS, setup.dense, setup.hints,
                     progress.update if progress is not None else None)
    opts, choice = refine(req, setup, opts, decide(req, setup, opts, engine), engine)
    return plan_of(req.w, opts, choice, req.limits, alternatives,
                   given=setup.n_gpus is not None)


# Under a budget, the faster sizes whose cost is at most this multiple of it are searched
# below for a neighbour within it (refine), beside the nearest faster size: a few sizes more.
BUDGET_EDGE = 1.05


def refine(req: Request, st: Setup, opts: Options, choice: Choice, engine: str
           ) -> tuple[Options, Choice]:
    """A sizing's answer sought beyond the sizes its walk tried where a jagged cost or time in
    size (a size's factors set its layouts) most misleads it: under --objective time, and where
    the cheapest plan meeting the other limits breaks the budget. Around each accelerator's best
    option (the fastest within the limits; the cheapest meeting all but the budget) the smooth
    sizes (primes 2, 3, 5 and the layer count's: options.layout_primes) from a fifth below to
    half an octave above and the sixteenths of an octave above are tried; then, under a budget
    with the time objective (and, under either, where no size keeps both the budget and the
    deadline, the deadline set aside), the sizes between each accelerator's best and its next
    faster size that breaks the budget alone are bisected to the sizing's resolution
    (1/SIZE_RESOLUTION). Where no size keeps the deadline and another limit (a budget, a power
    cap, --max-gpus, an inventory), the sizes around the fastest within the others are tried
    as the time objective tries them, so the answer's "the fastest plan takes N days" is its
    plan. The walk tries sizes by their days alone (options.walk), so a budget,
    unlike a power cap or --max-gpus, is no size it tries: 70B on 15T tokens within $17M had
    taken 8,192 H100 in 34.6 days where 11,392 take 25.9 for $16.7M; 405B on B200 within $130M,
    65,536 in 21.2 days where 61,440 take 19.6 for $111M; 405B on H100 within 47 days and $114M
    read infeasible where 46,080 meet both."""
    if st.n_gpus is not None:
        return opts, choice
    short = (st.objective == "cost" and not choice.feasible and choice.binding == "budget")
    # a plan that can keep neither its deadline nor its budget (or, under the time objective,
    # not both at once) says how fast a cluster within the budget runs (the deadline's
    # relaxation): that fastest size is sought and bisected below, the deadline set aside (a
    # budget's 1T on 38T tokens had read 240 days at 49,152 B200 where 81,920 take 176 within
    # it; 405B on H100 within 47 days and $114M, under the time objective, had read
    # infeasible where 46,080 meet both, as the cost objective found)
    # The same holds of any limit beside the deadline (a power cap, --max-gpus, an inventory,
    # a site): the answer's "the fastest plan takes N days" is the deadline's relaxation, and
    # had been read off the cost walk's sizes alone, slower and larger than the fastest
    # --objective time finds under the same limits (1T on 15T tokens under 45 MW: 165.7 days
    # on 26,624 H100, where 25,600 take 158.6)
    both = not choice.feasible and st.slim.deadline_days is not None
    # Under the cost objective with every limit kept, the smooth sizes of the quarter octave
    # above the cheapest option: the walk bisects down to the smallest size meeting the
    # deadline and climbs by aligned sizes, so a cheaper smooth size just above it went
    # untried, and a looser deadline could give a dearer plan (405B on 15T tokens on H100: 47
    # days had read 44,544 for $116.0M where 46,080 meet 44 days for $113.4M)
    cheapest = st.objective != "time" and not short and not both
    units = [sd.unit for sd in req.sides]

    def tried(s: int) -> set:
        return set((opts.gpus[opts.side == s] // units[s]).tolist())

    def best(s: int, inst, ignore: tuple = (), key: str | None = None) -> int | None:
        """Side s's best option within the limits (``ignore``d aside) by ``key`` (default:
        the objective's), else None; ``inst`` the sizing instance of every option."""
        ok = np.flatnonzero((opts.side == s) & opts.fits & ~breaking(inst, ignore))
        if not ok.size:
            return None
        key = key or ("training_days" if st.objective == "time" else "cost_usd_total")
        return int(min(ok, key=lambda i: float(opts.cols[key][i])))

    def run(request: list) -> None:
        nonlocal opts, choice
        if request:
            opts = merge(opts, evaluate_sizes(req.w, req.sides, request, units, req.fixed,
                                              req.asm, req.allow_tp, st.method, METHODS))
            choice = decide(req, st, opts, engine)

    more = []
    primes = layout_primes(req.w.architecture)
    inst = instance_of(opts, np.arange(len(opts.gpus)), st.slim, st.objective)
    for s in range(len(req.sides)):
        # the cheapest meeting all but the budget; the fastest within the budget where no
        # size keeps both limits; else the objective's best within them
        i = (best(s, inst, ("budget",)) if short else
             best(s, inst, ("deadline",), "training_days") if both else best(s, inst))
        if i is None:
            continue
        k = int(opts.gpus[i]) // units[s]
        k_max = (st.slim.max_gpus or req.asm.max_gpus) // units[s]
        seen = tried(s)
        if cheapest:
            more += [(s, j) for j in smooth_between(k, min(k * 5 // 4, k_max) + 1, primes,
                                                    unit=units[s]) if j not in seen]
            continue
        top = min(k * 3 // 2, k_max)
        # where the cheapest plan meeting the other limits breaks the budget, the smooth
        # sizes of few twos too: their factors may lay the run out more cheaply than the
        # balanced ones (405B on H100 within 90 days and $100M had read infeasible, $100.6M on
        # 20,736, where 20,160 = 2^6 x 315 keep both: an audit of the sizing). Not where the
        # deadline alone is missed: the fastest size's neighbours tell which loss grows with
        # size (frontier), and a jagged one of few twos would tell it wrong
        balanced = not short
        more += [(s, j) for j in sorted(set(aligned_between(k, top + 1))
                                        | set(smooth_between(k * 4 // 5, top + 1, primes,
                                                             unit=units[s],
                                                             balanced=balanced)))
                 if j not in seen]
    run(more)
    if cheapest:
        return opts, choice
    timed = st.objective == "time"
    if st.slim.budget_usd is None or not (timed or both):
        return opts, choice
    ignore = ("deadline",) if both else ()
    budget = st.slim.budget_usd
    for s in range(len(req.sides)):
        closed: set = set()  # faster sizes whose stretch below is bisected to the resolution
        for _ in range(24):
            inst = instance_of(opts, np.arange(len(opts.gpus)), st.slim, st.objective)
            i = best(s, inst, ignore, "training_days")
            if i is None:
                break
            days = np.where(opts.fits, np.asarray(opts.cols["training_days"], dtype=float),
                            np.inf)
            faster = np.flatnonzero((opts.side == s) & (opts.gpus > opts.gpus[i])
                                    & (days < days[i]))
            if not faster.size:
                break
            nearest = int(faster[np.argmin(opts.gpus[faster])])
            # the faster sizes the budget alone stops (another limit's cap size was tried):
            # the nearest above the best first, then the fastest of those it misses by at most
            # BUDGET_EDGE: the cost is jagged in size, so a faster size above may have a
            # neighbour below within the budget (400B with 64 experts on TPU v5p within
            # $130.7M: 11,392 in 159 days, where 16,000 take 116 for $130.68M)
            # the cost test first: the validator only for the few sizes near the budget
            edge = [int(j) for j in faster
                    if (int(j) == nearest
                        or float(opts.cols["cost_usd_total"][j]) <= budget * BUDGET_EDGE)
                    and [b.limit for b in violations(inst, int(j), ignore=ignore)] == ["budget"]]
            edge.sort(key=lambda j: (j != nearest, float(days[j])))
            stretch = None
            k_i = int(opts.gpus[i]) // units[s]
            for j in edge:
                k_j = int(opts.gpus[j]) // units[s]
                if k_j in closed:
                    continue
                # the stretch just below it between sizes tried, from the best (the nearest:
                # the widest stretch between the two, as a slower one may sit between them)
                cuts = sorted({k_i, k_j} | {k for k in tried(s) if k_i < k < k_j})
                lo, hi = (max(zip(cuts, cuts[1:]), key=lambda ab: ab[1] - ab[0])
                          if j == nearest else cuts[-2:])
                mid = aligned_mid(lo, hi) if hi - lo > max(1, k_j // SIZE_RESOLUTION) else None
                if mid is None:
                    closed.add(k_j)
                    continue
                stretch = mid
                break
            if stretch is None:
                break
            run([(s, stretch)])
    return opts, choice


def plan_many(reqs: list[Request]) -> list[Plan]:
    """The plans of requests that differ only in limits and money (their workload, hardware,
    site, layout parts and assumptions alike), each the plan ``plan_on(req, "numpy")`` gives:
    their sizings walk in step, each size is scored and run once for all of them, the runs'
    money is worked out for every request at once (options.priced_each), and only the
    choice per request."""
    first = reqs[0]
    setups = [_setup(r, False, None) for r in reqs]

    def walk_of(st: Setup) -> tuple:  # walks alike (deadline, caps, density) are taken once
        return st.deadline_days, tuple(tuple(c) for c in st.caps.values()), st.dense

    walks: dict = {}
    for st in setups:
        if st.n_gpus is None:
            walks.setdefault(walk_of(st), st)
    units, shared, known = [], None, {}
    steps, pending, asked = {}, {}, {}
    for key, st in walks.items():
        units, firsts, tops = first_sizes(first.w, first.sides, first.asm, st.deadline_days,
                                          st.caps, st.dense, st.hints)
        steps[key] = walk(firsts, tops, st.deadline_days, st.dense, units,
                          jagged=bool(first.w.architecture.experts),
                          primes=layout_primes(first.w.architecture))
        pending[key] = next(steps[key])
        asked[key] = set(pending[key])
    while pending:
        new = sorted({sk for request in pending.values() for sk in request} - set(known))
        if new:
            got = evaluate_sizes(first.w, first.sides, new, units, first.fixed, first.asm,
                                 first.allow_tp, 0, METHODS)
            shared = got if shared is None else merge(shared, got)
            known.update(walls(got, units))
        for key in list(pending):
            try:  # each walk sees the sizes it asked for, as it would alone
                pending[key] = steps[key].send({sk: known[sk] for sk in asked[key]})
                asked[key] |= set(pending[key])
            except StopIteration:
                del pending[key]
    mine = {}  # each walk's options: the shared sizes it asked for
    for key in walks:
        mine[key] = take(shared, np.flatnonzero([
            (s, g // units[s]) in asked[key]
            for s, g in zip(shared.side.tolist(), shared.gpus.tolist())]))
    sized_ = [(req, st) for req, st in zip(reqs, setups) if st.n_gpus is None]
    priced_ = iter(priced_each([(mine[walk_of(st)], req.sides, st.method)
                                for req, st in sized_], first.w, first.asm, METHODS)
                   if sized_ else ())
    plans = []
    for req, st in zip(reqs, setups):
        if st.n_gpus is not None:
            plans.append(plan_on(req, "numpy", alternatives=False))
            continue
        opts = next(priced_)
        opts, choice = refine(req, st, opts, decide(req, st, opts, "numpy"), "numpy")
        plans.append(plan_of(req.w, opts, choice, req.limits, False))
    return plans


def _setup(req: Request, curve: bool, size_hint) -> Setup:
    limits, asm, sides, fixed = req.limits, req.asm, req.sides, req.fixed
    method = METHODS.index(limits.ownership)
    n_gpus = req.n_gpus
    source = "given"
    if n_gpus is None and named_devices(fixed) is not None:  # a layout names its cluster
        n_gpus = named_devices(fixed)
        source = "given (--layout: tp x pp x dp x cp)"
    if n_gpus is not None:
        for s in sides:
            s.used["gpus"] = {"value": n_gpus, "source": source}
        return Setup(n_gpus, method, sizing_limits(limits, asm, default_deadline=False),
                     limits.objective or "cost", False)
    objective = limits.objective or "cost"
    wants_solver = limits.caps_size or limits.objective is not None or len(sides) > 1 \
        or limits.deadline_s is not None
    slim = sizing_limits(limits, asm, default_deadline=objective == "cost")
    if slim.deadline_days is not None and limits.deadline_s is None:
        for s in sides:
            # an assumed one is given (--assume deadline_days=60 had read as the default)
            s.used["deadline_days"] = {"value": asm.deadline_days, "source": (
                s.used.get("deadline_days", {}).get("source", "given (assumptions)")
                if "deadline_days" in asm.given else asm.source("deadline_days"))}
    if wants_solver:
        for s in sides:
            s.used["objective"] = {"value": objective, "source": (
                "given (--objective)" if limits.objective else "planner default: the "
                "cheapest plan that meets the limits (--objective time for the fastest)")}
    return Setup(None, method, slim, objective, wants_solver, slim.deadline_days,
                 _caps(sides, limits, asm),
                 curve or objective == "time" or slim.deadline_days is None,
                 {s: size_hint for s in range(len(sides))} if size_hint else None)


def _caps(sides: list, limits: Limits, asm: Assumptions) -> dict:
    """Per side, the device counts its limits allow (the power cap over the facility watts of
    one device, --max-gpus, the inventory)."""
    caps = {}
    for s, sd in enumerate(sides):
        mine = [limits.max_gpus, dict(limits.inventory).get(sd.acc.key)]
        if limits.power_cap_w is not None:
            per_device_w = facility_w_per_device(sd.acc, sd.site, asm, limits.pue)
            if math.isfinite(per_device_w) and per_device_w > 0:
                mine.append(limits.power_cap_w / per_device_w)
        caps[s] = mine
    return caps


# How many doublings of a given cluster no layout fits are tried for the fewest devices one
# fits on (64 -> 131,072 at most), each accelerator at once.
FIT_DOUBLINGS = 11


def _with_fewest_that_fit(req: Request, plan: Plan) -> Plan:
    """A given cluster no layout fits in memory: the plan adds, as alternatives, the fewest
    devices one fits on among doublings of the count up to --max-gpus (1T on 64 H100 had said
    only that the leanest layout needs 288.7 GB; 256 fit it), the way out a buyer can take,
    on each accelerator asked (the cheapest first where the counts tie): four accelerators on
    16 devices had listed B200 on 128 alone, where MI300X fits the same 128 for less."""
    top = min(req.limits.max_gpus or req.asm.max_gpus, req.asm.max_gpus)
    sizes = [req.n_gpus << k for k in range(1, FIT_DOUBLINGS + 1) if req.n_gpus << k <= top]
    if not sizes:
        return plan
    side = np.repeat(np.arange(len(req.sides)), len(sizes))
    gpus = np.tile(np.array(sizes, dtype=np.int64), len(req.sides))
    more = evaluate(req.w, req.sides, side, gpus, req.fixed, req.asm, req.allow_tp,
                    METHODS.index(req.limits.ownership), METHODS)
    fit = more.best.state == FITS
    cost = np.asarray(more.cols["cost_usd_total"], dtype=float)
    firsts = [int(mine[np.argmin(gpus[mine])]) for s in range(len(req.sides))
              if (mine := np.flatnonzero(fit & (side == s))).size]
    firsts.sort(key=lambda i: (gpus[i], cost[i] if np.isfinite(cost[i]) else np.inf, side[i]))
    rows = []
    for i in firsts:
        acc = req.sides[int(side[i])].acc.key
        also = f" --gpu {acc}" if len(req.sides) > 1 else ""
        rows.append({
            "accelerator": acc, "gpus": int(gpus[i]), "layout": more.best.layout(i),
            "training_days": float(more.cols["training_days"][i]),
            "mfu": float(more.cols["mfu"][i]),
            "cost_usd_total": float(cost[i]) if np.isfinite(cost[i]) else None,
            "note": f"the fewest devices a layout fits on{' ' + acc if also else ''}, among "
                    f"the doublings of {req.n_gpus:,} tried (--gpus {int(gpus[i])}{also}, or "
                    "leave --gpus out to size the cluster)"})
    return replace(plan, alternatives=[*plan.alternatives, *rows])


def _with_left_out(req: Request, plan: Plan) -> Plan:
    """The accelerators of --gpu left out for want of a peak at the run's precision, listed
    after the other accelerators considered, each with why (one of three lacking fp8 had
    refused the whole comparison)."""
    rows = [{"accelerator": k, "gpus": None, "layout": None, "training_days": None,
             "cost_usd_total": None, "mfu": None,
             "note": f"another accelerator asked, not planned: {why}"} for k, why in req.left_out]
    alts = list(plan.alternatives)
    at = next((n for n, a in enumerate(alts)
               if not str(a.get("note", "")).startswith("another accelerator")), len(alts))
    return replace(plan, alternatives=alts[:at] + rows + alts[at:])


def _with_layout_searched(req: Request, plan: Plan, pinned: dict) -> Plan:
    """A --layout no plan fits in memory on its devices, where the layout searched fits: the
    reason names the pin, and the plan's first alternative is those devices with the layout
    searched (a pin of tp=2,pp=4,recompute=none on 256 H100 had read "no layout fits", its way
    out 64 times the devices)."""
    n = req.n_gpus if req.n_gpus is not None else named_devices(req.fixed)
    if not pinned or n is None:
        return plan
    free = {k: v for k, v in req.fixed.items() if k not in pinned}  # a stack's own parts kept
    searched = plan_on(replace(req, n_gpus=n, fixed=free), engine="numpy", alternatives=False)
    if searched.training_days is None or searched.binding == "memory":
        return plan
    reason = (f"{plan.reason}, with the --layout given ({layout_text(pinned)}); the layout "
              f"searched fits these {n:,} devices ({layout_text(searched.layout)}, "
              f"{searched.memory_gb_per_gpu:,.1f} GB per device): leave --layout out, or pin "
              "less of it")
    row = {"accelerator": searched.cluster["accelerator"], "gpus": n,
           "layout": searched.layout, "training_days": searched.training_days,
           "mfu": searched.mfu, "note": "the same devices with the layout searched (leave "
                                        "--layout out)"}
    return replace(plan, reason=reason, alternatives=[row, *plan.alternatives])


def _with_deadline_size(req: Request, plan: Plan) -> Plan:
    """A given cluster that runs past the default deadline (128 A100 for a 405B model: 109
    years): the plan adds, as an alternative, the cluster that meets that deadline, as a
    sizing with no --gpus would choose it; a cluster a full --layout names is sized with its
    dp left free (the rest of its layout kept), where it had had no such row. Where no size
    tried meets the deadline (10T parameters on 100T tokens: failures stop the cluster's growth
    at 4,500 days), the sizing's nearest plan, its ``meets_default_deadline`` false (the
    table's deadline row had been left out, the given cluster's 26,840 days read "feasible")."""
    named = req.n_gpus is None
    free = {k: v for k, v in req.fixed.items() if k != "dp"} if named else req.fixed
    sized = plan_on(replace(req, n_gpus=None, fixed=free, sides=stepped(req.sides, free)),
                    engine="numpy", alternatives=False)
    if sized.feasible and sized.cluster["gpus"] == plan.cluster["gpus"]:
        return plan
    days = req.asm.deadline_days
    how = ("(the --layout's dp left free; --deadline to set one)" if named else
           "(--deadline to set one)")
    note = (f"meets the default {days:g}-day deadline this cluster runs past {how}"
            if sized.feasible else
            f"no size tried meets the default {days:g}-day deadline this cluster runs past: "
            f"the sizing's nearest plan, binding {sized.binding} {how}")
    return replace(plan, alternatives=[*plan.alternatives, {
        "accelerator": sized.cluster.get("accelerator"), "gpus": sized.cluster.get("gpus"),
        "layout": sized.layout, "training_days": sized.training_days, "mfu": sized.mfu,
        "cost_usd_total": (sized.cost_usd or {}).get("total"), "note": note,
        "default_deadline_days": days, "meets_default_deadline": sized.feasible}])
