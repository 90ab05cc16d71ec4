"""A small in-process stand-in for the Dagster daemon, to replay days in tests and benchmarks.

:class:`SensorLoop` evaluates the code location's sensors in order, keeps their cursors,
drops run requests whose run key the sensor already used (as the daemon does), and executes
each requested job in-process on the given instance with the request's tags, until no sensor
asks for anything. Production runs the real daemon; this only makes the chain observable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import dagster as dg
from dagster._core.utils import make_new_run_id

CHAIN = (
    "landing_zone_sensor",
    "new_data_sensor",
    "accuracy_retrain_sensor",
    "drift_retrain_sensor",
)


@dataclass
class Launched:
    sensor: str
    job: str
    run_key: str | None
    tags: dict
    success: bool
    run_id: str


@dataclass
class SensorLoop:
    defs: dg.Definitions
    instance: dg.DagsterInstance
    resources: dict
    job_resources: dict = field(default_factory=dict)
    sensors: Sequence[str] = CHAIN
    record_only: Sequence[str] = ()  # jobs whose requests are recorded as runs, not executed
    cursors: dict = field(default_factory=dict)
    used_keys: dict = field(default_factory=dict)
    launched: list[Launched] = field(default_factory=list)

    def tick(self) -> list[Launched]:
        """One pass over the sensors; each request runs to completion before the next sensor."""
        done = []
        for name in self.sensors:
            sensor = self.defs.resolve_sensor_def(name)
            with dg.build_sensor_context(
                instance=self.instance, cursor=self.cursors.get(name), resources=self.resources
            ) as context:
                result = sensor(context)
                self.cursors[name] = context.cursor
            for request in _requests(result):
                if request.run_key and request.run_key in self.used_keys.setdefault(name, set()):
                    continue
                self.used_keys[name].add(request.run_key)
                done.append(self._run(name, sensor.job_name, request))
        self.launched += done
        return done

    def run_until_quiet(self, max_ticks: int = 8) -> list[Launched]:
        """Tick until a pass launches nothing."""
        out = []
        for _ in range(max_ticks):
            launched = self.tick()
            if not launched:
                break
            out += launched
        return out

    def _run(self, sensor: str, job_name: str, request: dg.RunRequest) -> Launched:
        tags = dict(request.tags)
        if request.run_key:
            tags["dagster/run_key"] = request.run_key
        if job_name in self.record_only:
            run = dg.DagsterRun(
                job_name=job_name,
                run_id=make_new_run_id(),
                tags=tags,
                status=dg.DagsterRunStatus.SUCCESS,
            )
            self.instance.add_run(run)
            return Launched(sensor, job_name, request.run_key, tags, True, run.run_id)
        job = self.defs.resolve_job_def(job_name)
        result = job.execute_in_process(
            instance=self.instance, resources=self.job_resources, tags=tags, raise_on_error=False
        )
        return Launched(sensor, job_name, request.run_key, tags, result.success, result.run_id)


def _requests(result) -> list[dg.RunRequest]:
    if result is None or isinstance(result, dg.SkipReason):
        return []
    if isinstance(result, dg.RunRequest):
        return [result]
    if isinstance(result, dg.SensorResult):
        return list(result.run_requests or [])
    return [r for r in result if isinstance(r, dg.RunRequest)]
