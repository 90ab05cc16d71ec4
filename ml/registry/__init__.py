"""The MLflow side: one pyfunc, tracked runs, registered versions and the promotion gate.

================  ===========================================================================
``pyfunc``        ``DemandForecasterModel``, the pyfunc wrapper served by alias, and logging it
``tracking``      where runs go, one run per model materialisation
``gate``          the promotion rules: does a challenger beat the champion on one window?
``versions``      registering versions with their tags, aliases, promotion, rollback
``champion``      the current champion scored on a challenger's window (leaderboard and gate)
================  ===========================================================================
"""
