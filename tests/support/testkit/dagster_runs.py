"""What a ``dg.materialize`` result reports about one asset (asset tests)."""

from __future__ import annotations

import dagster as dg


def asset_metadata(result: dg.ExecuteInProcessResult, asset_name: str) -> dict:
    """The plain metadata values of the materialisation of ``asset_name`` in ``result``."""
    event = next(
        e
        for e in result.get_asset_materialization_events()
        if e.materialization.asset_key.to_user_string() == asset_name
    )
    return {k: v.value for k, v in event.materialization.metadata.items()}
