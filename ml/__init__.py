"""RetailIQ's machine learning, in plain Python (no Dagster, no FastAPI), by domain.

=================  ==========================================================================
``ml.schema``      column names and frame contracts shared by every stage
``ml.data``        landing zones, parsing and row checks, the Parquet lake, ``sales_history``
``ml.models``      the forecasting families behind one contract, their registry
                   (``ml.models.families``), covariates, intervals, the per-series runner
``ml.evaluation``  rolling-origin backtest, metrics, plots, training a family
``ml.ensemble``    weights, ensemble intervals, the ensemble forecaster, its evaluation
``ml.registry``    the MLflow pyfunc, tracking, versions and the promotion gate
``ml.monitoring``  drift (Evidently), accuracy of served forecasts, retrain triggers, alerts,
                   the forecasts table
``ml.pricing``     elasticities, the price optimiser, reorder points, the pricing store
``ml.synthetic``   the seeded synthetic retailer with known ground truth
=================  ==========================================================================

Imports go one way: ``data`` and ``models`` know only ``schema``; ``evaluation`` uses
``models``; ``ensemble`` uses both; ``registry`` wraps ``ensemble``; ``monitoring`` and
``pricing`` read what ``registry`` serves. See ARCHITECTURE.md.

Old module paths (``ml.pyfunc``, ``ml.ensemble_intervals``, ``ml.models._conformal``, ...) stay
importable under their new homes, because registered model versions were pickled with them
(a champion or a rollback target must keep loading): :class:`_MovedModules` maps them.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys

MOVED = {  # module path a pickle may name -> where that code lives now
    "ml.alerts": "ml.monitoring.alerts",
    "ml.drift": "ml.monitoring.drift",
    "ml.forecast_table": "ml.monitoring.forecast_table",
    "ml.backtest": "ml.evaluation.backtest",
    "ml.metrics": "ml.evaluation.metrics",
    "ml.plots": "ml.evaluation.plots",
    "ml.training": "ml.evaluation.training",
    "ml.ensemble_intervals": "ml.ensemble.intervals",
    "ml.ensemble_evaluation": "ml.ensemble.evaluation",
    "ml.champion": "ml.registry.champion",
    "ml.pyfunc": "ml.registry.pyfunc",
    "ml.tracking": "ml.registry.tracking",
    "ml.intervals": "ml.models.intervals",
    "ml.parallel": "ml.models.parallel",
    "ml.models._exogenous": "ml.models.covariates",
    "ml.models._conformal": "ml.models.intervals",
}
# ``ml.ensemble``, ``ml.registry`` and ``ml.monitoring`` were modules and are packages now; the
# classes a pickle names there (ml.ensemble.Ensemble, ...) are re-exported by the package.


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Resolves an old module path to the module that now holds its code (the same object,
    so classes keep their identity)."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec):
        return importlib.import_module(MOVED[spec.name])

    def exec_module(self, module) -> None:
        """Nothing to run: the module was executed under its new name."""


if not any(isinstance(finder, _MovedModules) for finder in sys.meta_path):
    sys.meta_path.insert(0, _MovedModules())
