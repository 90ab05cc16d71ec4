"""Watching the champion in production: drift, accuracy, and when to retrain.

==================  =========================================================================
``drift``           the only Evidently import: per-column drift tests and KL divergence
``triggers``        accuracy of the forecasts actually served, retrain triggers and cooldown
``alerts``          one structured event per occurrence, logged and optionally posted
``forecast_table``  the forecasts table: what ``demand_forecasts`` writes and accuracy scores
==================  =========================================================================
"""
