"""planner: capacity planning for frontier-scale model training.

    import planner
    plan = planner.estimate(params="1T", tokens="15T")
    plan.training_days, plan.cost_usd["total"], plan.to_dict()
    table = planner.estimate_many(df)          # a pandas DataFrame or pyarrow Table of scenarios
    planner.sweep("what-if.toml", "out/")      # every combination, streamed to Parquet
    planner.budget(usd="1B", year=2027)        # the largest run a budget allows
    fleet = planner.schedule("workloads/fleets/lab-3-sites.toml")   # runs on sites over time
    fleet.to_dict(), fleet.table(), fleet.write_parquet("fleet.parquet")
"""

from .assumptions import Assumptions
from .catalog import Catalog, CatalogError, UnknownKeyError, catalog
from .errors import LayoutError
from .specs import Accelerator, Architecture, Layout, Network, Site, Workload
from .units import InputError
from .version import __version__

__all__ = [
    "Accelerator", "Architecture", "Assumptions", "Catalog", "CatalogError", "ChartError",
    "InputError", "Layout", "LayoutError", "Network", "OutputError", "Plan", "Site",
    "UnknownKeyError", "Workload",
    "__version__", "budget", "catalog", "catalog_show", "catalog_table", "estimate",
    "estimate_many", "schedule", "sweep",
]

_LAZY = {"Plan": "plan.estimate", "estimate": "plan.estimate", "catalog_show": "catalog_view",
         "catalog_table": "catalog_view", "schedule": "fleet.schedule",
         "estimate_many": "many.estimate_many", "budget": "inverse",
         "OutputError": "many.dataset", "ChartError": "charts"}


def __getattr__(name):
    """Load the planning modules on first use, so `import planner` stays light (PEP 562)."""
    # modules: planner.sweep(spec, out) is callable, and planner.inverse.sensitivity works
    # before any budget call has imported it
    if name in ("sweep", "inverse"):
        import importlib

        return importlib.import_module(".many.sweep" if name == "sweep" else ".inverse",
                                       __name__)
    if name in _LAZY:
        import importlib

        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module 'planner' has no attribute {name!r}")
