"""Harnesses shared by tests and benchmarks, never imported by the platform itself.

================  ===========================================================================
``m5_replay``     real M5 days turned into one POS file per day, and a known shift to replay
``sensor_loop``   a small in-process stand-in for the Dagster daemon (sensors -> runs)
``corpus``        runs the ingestion defect corpus of ``tests/ml/data/corpus``
``m5``            the shared M5 subset as ``sales_history``, and the last-h-days holdout
``selection``     the design documents' per-series model selection (compared in bench)
``toy``           toy panels and backtest frames with members of known noise (ensemble tests)
``registry``      a small fitted ensemble, a throw-away MLflow registry, the ensemble registered
``dagster_runs``  the metadata of one asset in a ``dg.materialize`` result
``processes``     Python in a fresh process that must succeed
================  ===========================================================================

``tests/conftest.py`` puts ``tests/support`` on ``sys.path``; ``bench/testkit`` is a symbolic
link to this folder, so the bench scripts import it as they import each other. (A ``tests``
package that some dependencies install would shadow ``tests.support``.)
"""
