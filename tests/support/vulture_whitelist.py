# ruff: noqa: B018 -- a vulture whitelist is attribute expressions by design
"""Names vulture cannot see used, each because a framework calls it (tests/test_no_dead_code.py).

Everything else in the production packages that nothing calls is dead code: delete it, or move
it to bench/ or tests/support/. The pydantic schema modules of serving are not scanned at all:
every field there is read by FastAPI's serialiser. vulture matches names, so each line names
one attribute; this file is parsed, never run.
"""

from vulture.whitelist_utils import Whitelist

_ = Whitelist()

# importlib calls a meta path finder's and loader's hooks (ml/__init__: old module paths).
_.find_spec
_.create_module
_.exec_module
_.module
# MLflow calls load_context when it loads the pyfunc.
_.load_context
# Dagster: dagster.yaml names the storage class (orchestration/instance.py), which Dagster
# builds with config_type/from_config_value; run workers reconstruct jobs by resolve_job; an IO
# manager's dump_to_path/load_from_path and a factory's create_io_manager are Dagster's hooks.
_.RetailIQStorage
_.config_type
_.from_config_value
_.inst_data
_.config_value
_.resolve_job
_.dump_to_path
_.load_from_path
_.create_io_manager
# FastAPI calls route handlers registered by decorator, pydantic its validators.
_.reload
_.ready
_.accept
_.reject
_._levels_in_range
# Fields of records written to storage and read back whole (the offline table manifest as
# JSON, the ledger row, the pickled scheme comparison).
_.ds_min
_.ds_max
_.written_at
_.rejected_path
_.n_learn_windows
# Great Expectations reads its context variables.
_.progress_bars
# The feature store's training/inference API: issue 15 trains the global models on it (until
# then tests and bench/bench_features.py use it).
_.MODEL_FEATURES
_.read_one
_.check_version
