"""Notebooks: compact reprs and HTML tables of Plan, BudgetAnswer, FleetSchedule and
SweepResult, plot() returning a matplotlib Figure, to_frame(), and the example notebook
(examples/finance-model.ipynb) run end to end by nbclient."""

import shutil
from pathlib import Path

import pytest

import planner

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
pd = pytest.importorskip("pandas")
matplotlib = pytest.importorskip("matplotlib")
from matplotlib.figure import Figure  # noqa: E402


@pytest.fixture(scope="module")
def plan():
    return planner.estimate(params="70B", tokens="15T", gpu="h100-sxm", gpus=4096)


@pytest.fixture(scope="module")
def fleet():
    return planner.schedule(ROOT / "workloads" / "fleets" / "lab-3-sites.toml")


@pytest.fixture(scope="module")
def answer():
    return planner.budget(usd="50M", deadline="90d", gpu="h100-sxm")


def test_plan_html_is_a_compact_table(plan):
    html = plan._repr_html_()
    assert html.startswith("<div><table>") and len(html) < 5000
    for text in ("feasible", "4,096 x h100-sxm", f"{plan.training_days:,.1f}", "cost component",
                 "compute"):
        assert text in html, text


def test_plan_html_of_a_run_that_never_ends_reads_n_a():
    # was: TypeError (None formatted with ",.1f") for a plan with a step time but no end, a
    # cluster failing faster than it restarts (goodput below 1%, training_days None)
    plan = planner.estimate(params="405B", tokens="15T", gpus=65536,
                            assumptions={"failure_rate_per_device_hour": 5e-3})
    assert plan.step_time_s is not None and plan.training_days is None
    html = plan._repr_html_()
    assert "<th style='text-align:left'>days</th><td style='text-align:left'>n/a " in html


def test_plan_html_says_what_the_text_table_says(plan):
    # was: "days 32.9 (goodput 99.7%)", no word that 32.9 is the expected run (x1.65 the
    # ideal) nor the ideal days, and "power 1.69 MW facility", not saying peak (the table:
    # "peak facility ..., ... average"); the rows now share the table's wording
    import re
    from html import unescape

    from planner import report
    from planner.report_html import plan_summary
    from planner.units import fmt_pct

    d = plan.to_dict()
    html = dict(plan_summary(d))
    rows = {m[0]: m[1] for m in re.findall(r"^(\S[^ ]*(?: [^ ]+)?)  +(.*)$",
                                           report.plan_table(d), flags=re.M)}
    assert html["days"] == f"{rows['days']}; goodput {fmt_pct(d['goodput'])}"
    assert re.fullmatch(r"[\d.]+ d expected \(ideal [\d.]+ d\); goodput [\d.]+%",
                        html["days"])
    assert html["power"] == rows["power"] and " peak facility " in html["power"]
    assert " average " in html["power"]
    assert html["GPU-hours"] == rows["GPU-hours"] and "(ideal " in html["GPU-hours"]
    assert "(ideal $" in html["cost"] and "(ideal " in html["energy"]
    assert f"<td style='text-align:left'>{html['days']}</td>" in unescape(plan._repr_html_())


def test_plan_to_frame_is_one_row_of_estimate_many_columns(plan):
    frame = plan.to_frame()
    assert len(frame) == 1
    assert frame.loc[0, "training_days"] == plan.training_days
    assert frame.loc[0, "cost_usd_total"] == plan.cost_usd["total"]
    assert frame.loc[0, "layout_tp"] == plan.layout["tp"]
    many = planner.estimate_many(pd.DataFrame({"params": ["70B"], "tokens": ["15T"],
                                               "gpu": ["h100-sxm"], "gpus": [4096]}))
    shared = [c for c in frame.columns if c in many.columns and c.startswith(
        ("training_days", "cost_usd_", "time_breakdown_s_", "layout_"))]
    assert len(shared) > 20
    for c in shared:
        assert frame.loc[0, c] == pytest.approx(many.loc[0, c], nan_ok=True), c
    asm = plan.assumptions_frame()
    assert asm.loc["gpus", "source"] == "given" and "source" in asm.columns


def test_plot_returns_a_figure_and_leaves_pyplot_alone(plan):
    import matplotlib.pyplot as plt

    backend, open_figures = matplotlib.get_backend(), plt.get_fignums()
    fig = plan.plot()    # a fixed size: the breakdown by component
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    sized = planner.estimate(params="8B", tokens="1T", gpu="h100-sxm,b200", deadline="30d")
    fig = sized.plot()   # a sizing: days and cost against size
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    # its title names the chooser the sizing used (it had said CP-SAT when numpy ranked the
    # options) and the days axis the expected run its star marks
    assert sized.sizing["solver"] == "CP-SAT" and "CP-SAT OPTIMAL" in fig.get_suptitle()
    assert fig.axes[0].get_ylabel().startswith("expected training days")
    # a price of zero: the cost axis is drawn linear, with no warning (its log scale had left
    # the panel empty and a matplotlib UserWarning on standard error)
    import warnings

    free = planner.estimate(params="8B", tokens="1T", deadline="30d", price_per_gpu_hour=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = free.plot()
    assert [ax.get_yscale() for ax in fig.axes] == ["log", "linear"]
    ranked = planner.estimate(params="8B", tokens="1T", deadline="30d")
    fig = ranked.plot()
    assert ranked.sizing["solver"].startswith("none")
    assert "CP-SAT" not in fig.get_suptitle() and "ranked OPTIMAL" in fig.get_suptitle()
    assert matplotlib.get_backend() == backend and plt.get_fignums() == open_figures


def test_fleet_schedule_repr_html_frame_and_plot(fleet):
    text = repr(fleet)
    assert len(text) < 200 and text.startswith("FleetSchedule(OPTIMAL, 5 of 5 runs on 2 of 3 sites")
    html = fleet._repr_html_()
    assert len(html) < 10_000
    for r in fleet.runs():  # as the text table: the training's end and the deadline
        for key in ("name", "start", "finish", "deadline"):
            assert r[key] in html, key
    frame = fleet.to_frame()
    assert list(frame["name"]) == [r["name"] for r in fleet.runs()]
    assert {"layout_tp", "start", "cost_usd", "on_time"} <= set(frame.columns)
    assert isinstance(fleet.plot(), Figure)


def test_budget_answer_repr_html_and_frame(answer):
    assert repr(answer).startswith("BudgetAnswer(") and len(repr(answer)) < 200
    html = answer._repr_html_()
    assert "largest run" in html and "h100-sxm" in html and "the plan that trains it" in html
    frame = answer.to_frame()
    assert len(frame) == 1 and frame.loc[0, "inverse_params"] == answer.params
    assert frame.loc[0, "cost_usd_total"] == answer.plan.cost_usd["total"]
    assert isinstance(answer.plot(), Figure)


def test_sweep_result_repr_html_and_frame(tmp_path):
    result = planner.sweep(EXAMPLES / "what-if.toml", tmp_path / "out")
    assert repr(result).startswith("SweepResult(54 scenarios")
    html = result._repr_html_()
    assert "first 5 rows" in html and "scenario" in html
    frame = result.to_frame()
    assert len(frame) == 54
    assert frame["cost_usd_total"].tolist() == pd.read_parquet(tmp_path / "out")[
        "cost_usd_total"].tolist()


def test_the_finance_notebook_runs(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    work = tmp_path / "examples"
    shutil.copytree(EXAMPLES, work)
    nb = nbformat.read(work / "finance-model.ipynb", as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), \
        "ship the notebook without outputs"
    client = nbclient.NotebookClient(nb, timeout=180, kernel_name="python3",
                                     resources={"metadata": {"path": str(work)}})
    client.execute()
    shown = {}  # the first cell that calls each of these -> what it displayed
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        assert not [o for o in cell.outputs if o.output_type == "error"], cell.source
        kinds = {k for o in cell.outputs for k in o.get("data", {})}
        for call in ("planner.estimate(", "planner.estimate_many(", "planner.sweep(",
                     "pd.read_parquet(", ".plot()", "planner.budget("):
            if call in cell.source:
                shown.setdefault(call, kinds)
    assert shown["planner.estimate("] >= {"text/html"}        # the Plan's table
    assert shown["planner.estimate_many("] >= {"text/html"}   # a DataFrame
    assert shown["planner.sweep("] >= {"text/html"}           # the SweepResult
    assert shown["pd.read_parquet("] >= {"text/html"}
    assert shown[".plot()"] >= {"image/png"}
    assert shown["planner.budget("] >= {"text/html"}          # the BudgetAnswer
    assert (work / "what-if-sweep" / "_manifest.json").exists()


def test_infeasible_answers_show_why():
    from planner.charts import ChartError

    plan = planner.estimate(params="70B", tokens="1T", gpus=8)      # does not fit in memory
    html = plan._repr_html_()
    assert "INFEASIBLE" in html and "memory" in html and "cost component" not in html
    assert plan.to_frame().loc[0, "binding"] == "memory"
    with pytest.raises(ChartError, match="no figures"):
        plan.plot()
    late = planner.estimate(params="1T", tokens="15T", gpus=16384, deadline="30d")
    assert "INFEASIBLE" in late._repr_html_() and isinstance(late.plot(), Figure)
    broke = planner.budget(usd="1", gpu="h100-sxm")
    assert repr(broke).startswith("BudgetAnswer(no run fits")
    assert "no run fits" in broke._repr_html_()
    with pytest.raises(ChartError):
        broke.plot()


def test_the_sizing_chart_says_its_limits_as_the_table_does():
    # was: "budget $2M" for a $1.5M budget (the infeasible $1.88M plan seemed under it), and
    # "power cap 0 MW", "deadline 2 days", "0B parameters, 0.0T tokens" for a small run
    sized = planner.estimate(params="70B", tokens="2T", gpu="h100-sxm", budget="1.5M")
    labels = sized.plot().axes[1].get_legend_handles_labels()[1]
    assert "budget $1.50M" in labels
    small = planner.estimate(params="125M", tokens="20B", gpu="h100-sxm", deadline="36h",
                             budget=400, power_cap="40kW")
    fig = small.plot()
    labels = [t for ax in fig.axes for t in ax.get_legend_handles_labels()[1]]
    assert "deadline 1.5 days" in labels and "budget $400.00" in labels
    assert any(t.startswith("power cap 40.0 kW") for t in labels)
    assert fig.get_suptitle().startswith("dense 125M: 127M parameters, 20.0B tokens")


def test_names_with_dollar_signs_are_drawn_as_written():
    # was: names parsed as mathtext: "Acme $10M run, tier $2 (R&D)" drew "10Mrun,tier2" in
    # italics, and "cost $\frac{1}$ model" raised ParseSyntaxException when drawn (--plot,
    # --gantt: an internal error, exit 1), in the sizing chart's title and the gantt's run
    # texts, tick labels and legends
    import io

    from matplotlib.text import Text

    from planner.charts import gantt_figure, sizing_figure

    odd, money = r"cost $\frac{1}$ model", "Acme $10M run, tier $2 (R&D)"

    def drawn(fig, *names):
        fig.savefig(io.BytesIO(), format="png")  # drawing is where mathtext parses
        texts = [t for t in fig.findobj(Text) if any(n in t.get_text() for n in names)]
        assert texts and all(not t.get_parse_math() for t in texts)
        return texts

    plan = planner.estimate(params="7B", tokens="200B", gpu="h100-sxm").to_dict()
    for name in (odd, money):
        fig = sizing_figure({**plan, "workload": {**plan["workload"], "name": name}})
        assert fig.get_suptitle().startswith(name + ": ")
        drawn(fig, name)
    day = {"step_starts": ["2027-01-01", "2027-03-01"], "power_used_mw": [1.0, 0.0],
           "power_cap_mw": [2.0, 2.0]}
    schedule = {"status": "OPTIMAL", "objective": {"weighted_lateness_days": 0.0,
                                                   "cost_usd": 1e6},
                "unplaced": [odd], "binding": "horizon",
                "sites": [{"name": "$site$", **day}],
                "runs": [{"name": money, "site": "$site$", "accelerator": "h100-sxm",
                          "gpus": 8, "start": "2027-01-01", "end": "2027-02-01",
                          "deadline": "2027-02-10", "on_time": True}]}
    texts = drawn(gantt_figure(schedule), odd, money, "$site$")
    shown = {t.get_text() for t in texts}
    assert f"{money} ($site$)" in shown and f"{money}: 8 x h100-sxm" in shown
    assert {"$site$", "$site$ used", "$site$ cap"} <= shown


def test_the_breakdown_chart_of_a_plan_without_a_price(tmp_path):
    # a review: Plan.plot() on a fixed size whose accelerator has no price raised TypeError
    # (None / 1e6); its totals now read as the table's
    from pathlib import Path

    h100 = (Path(__file__).resolve().parent.parent / "hardware/accelerators/h100-sxm.toml")
    text = "\n".join(ln for ln in h100.read_text().splitlines() if not ln.startswith(
        ("cloud_", "purchase_usd", "server_usd", "aliases")))
    folder = tmp_path / "hardware/accelerators"
    folder.mkdir(parents=True)
    (folder / "h100-noprice.toml").write_text(text + "\n")
    plan = planner.estimate(params="7B", tokens="100B", gpus=64, gpu="h100-noprice",
                            catalog=tmp_path)
    fig = plan.plot()
    assert fig.axes[2].get_title() == "total n/a"
    assert "days" in fig.get_suptitle() and "MFU" in fig.get_suptitle()
