"""Harnesses shared by tests and benchmarks, never imported by the platform itself.

================  ===========================================================================
``m5_replay``     real M5 days turned into one POS file per day, and a known shift to replay
``sensor_loop``   a small in-process stand-in for the Dagster daemon (sensors -> runs)
``corpus``        runs the ingestion defect corpus of ``tests/ml/data/corpus``
================  ===========================================================================

``tests/conftest.py`` and the ``bench/`` scripts put ``tests/support`` on ``sys.path`` (a
``tests`` package that some dependencies install would shadow ``tests.support``).
"""
