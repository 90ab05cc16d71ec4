"""The MLflow side: one pyfunc, tracked runs, registered versions and the promotion gate.

================  ===========================================================================
``pyfunc``        ``DemandForecasterModel``, the pyfunc wrapper served by alias, and logging it
``tracking``      where runs go, one run per model materialisation
``versions``      registering versions with their tags, aliases, the promotion gate, rollback
``champion``      the current champion scored on a challenger's window (leaderboard and gate)
================  ===========================================================================
"""
