"""The ensemble: how the families' forecasts are combined, calibrated and judged.

================  ===========================================================================
``weights``       inverse-error and NNLS weights (pooled, per segment, per series), combining
``intervals``     the ensemble's own split-conformal intervals from its backtest residuals
``forecaster``    ``EnsembleForecaster``: fitted members + weights, re-anchored on new data
``evaluation``    the leaderboard and the scheme comparison behind ``ensemble_evaluation``
================  ===========================================================================
"""

# Pickled model versions name these as ml.ensemble.<class> (this package was a module then).
from ml.ensemble.weights import Ensemble, EnsembleWeights

__all__ = ["Ensemble", "EnsembleWeights"]
