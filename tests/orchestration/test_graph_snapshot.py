"""The asset graph as a snapshot: asset keys with their groups and upstream keys, checks
(blocking or not), jobs with the assets they select, schedules and sensors. An accidental change
to the graph shows here; an intended one is recorded by rerunning with
``RETAILIQ_UPDATE_SNAPSHOT=1`` and committing the new ``snapshots/asset_graph.json``."""

import json
import os
from pathlib import Path

from orchestration.definitions import build_definitions

SNAPSHOT = Path(__file__).parent / "snapshots" / "asset_graph.json"


def graph_of(defs) -> dict:
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "upstream": sorted(k.to_user_string() for k in node.parent_keys),
        }
    checks = {
        f"{c.asset_key.to_user_string()}:{c.name}": graph.get(c).blocking
        for c in sorted(
            graph.asset_check_keys, key=lambda c: (c.asset_key.to_user_string(), c.name)
        )
    }
    jobs = {}
    for job in sorted(defs.resolve_all_job_defs(), key=lambda j: j.name):
        if job.name.startswith("__"):
            continue
        selected = job.asset_layer.selected_asset_keys if job.asset_layer else set()
        jobs[job.name] = sorted(k.to_user_string() for k in selected)
    return {
        "assets": assets,
        "checks": checks,
        "jobs": jobs,
        "schedules": sorted(
            [s.name, s.cron_schedule, defs.resolve_schedule_def(s.name).job_name]
            for s in defs.schedules
        ),
        "sensors": sorted(s.name for s in defs.sensors),
    }


def test_the_asset_graph_equals_its_snapshot(settings):
    graph = json.loads(json.dumps(graph_of(build_definitions(settings))))
    if os.environ.get("RETAILIQ_UPDATE_SNAPSHOT"):
        SNAPSHOT.write_text(json.dumps(graph, indent=1, sort_keys=True) + "\n")
    assert graph == json.loads(SNAPSHOT.read_text())
