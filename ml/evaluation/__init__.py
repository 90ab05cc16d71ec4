"""Judging forecasts honestly: temporal cross-validation only.

================  ===========================================================================
``backtest``      rolling-origin cross-validation of any forecaster (statsforecast's windows)
``metrics``       RMSSE, MASE, WAPE, bias, coverage (utilsforecast), per series/segment/window
``plots``         forecast-vs-actual and leaderboard figures for MLflow
``training``      training one family: backtest, final fit, metrics, an MLflow run
================  ===========================================================================
"""
