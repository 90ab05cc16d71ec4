"""The model behind the API: loaded from the registry by alias, swapped atomically on change.

A request takes ``service.model()`` once and uses that object to the end, so a swap in the
middle of it cannot mix two versions. A new version is loaded completely (pyfunc, forecast
table) before the single reference is replaced; if the registry cannot be reached, the loaded
version keeps serving and the service reports itself degraded with the reason.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import mlflow.pyfunc
import numpy as np
import pandas as pd
from mlflow.tracking import MlflowClient

from ml.registry.pyfunc import ALL_SERIES
from ml.registry.versions import metrics_from_tags
from ml.schema import DS, SELL_PRICE, UNIQUE_ID
from serving.errors import ServingError
from serving.metrics import ServingMetrics
from serving.schemas import ForecastRequest, ScenarioRequest
from serving.settings import ServingSettings
from serving.table import ForecastTable, split_series_id

log = logging.getLogger(__name__)
shadow_log = logging.getLogger("serving.shadow")


@dataclass(frozen=True)
class LoadedModel:
    """One registry version, ready to answer."""

    name: str
    alias: str
    version: str
    run_id: str | None
    pyfunc: mlflow.pyfunc.PyFuncModel
    table: ForecastTable
    column: str  # the forecast column of the model's output (its alias, e.g. Ensemble)
    base_prices: pd.Series | None  # last known price per series (None: no price response)
    loaded_at: datetime

    @property
    def max_horizon(self) -> int:
        return self.table.horizon


class Registry:
    """The few registry calls the service makes (one MLflow client)."""

    def __init__(self, uri: str, name: str) -> None:
        self.uri, self.name = uri, name
        self.client = MlflowClient(tracking_uri=uri, registry_uri=uri)

    def alias_version(self, alias: str):
        return self.client.get_model_version_by_alias(self.name, alias)

    def load(
        self, version, alias: str, levels: Sequence[int], warm_levels: Sequence[int] = ()
    ) -> LoadedModel:
        """The pyfunc of ``version`` and its forecast table (the slow part: seconds)."""
        uri = self.client.get_model_version_download_uri(self.name, version.version)
        pyfunc = mlflow.pyfunc.load_model(uri, model_config={"model_version": version.version})
        python_model = pyfunc.unwrap_python_model()  # ml.registry.pyfunc.DemandForecasterModel
        frame = pyfunc.predict(
            pd.DataFrame({UNIQUE_ID: [ALL_SERIES]}),
            params={"h": int(python_model.max_horizon), "level": list(levels)},
        )
        table = ForecastTable.from_frame(frame, python_model.alias, levels)
        if warm_levels and set(warm_levels) <= set(levels):
            table.warm(table.horizon, sorted(set(warm_levels)))  # the default request
        return LoadedModel(
            self.name,
            alias,
            str(version.version),
            version.run_id,
            pyfunc,
            table,
            python_model.alias,
            python_model.base_prices(),
            datetime.now(UTC),
        )

    def versions(self, limit: int) -> tuple[dict[str, str], list]:
        aliases = dict(self.client.get_registered_model(self.name).aliases)
        found = self.client.search_model_versions(
            f"name = '{self.name}'", max_results=limit, order_by=["version_number DESC"]
        )
        return aliases, list(found)


class ModelService:
    """Holds the served (and optional shadow) model; reloads it when the alias moves."""

    def __init__(
        self, settings: ServingSettings, metrics: ServingMetrics, registry: Registry | None = None
    ) -> None:
        self.settings, self.metrics = settings, metrics
        self.registry = registry or Registry(settings.registry_uri, settings.model_name)
        self.current: LoadedModel | None = None
        self.shadow: LoadedModel | None = None
        self.problem: str | None = "no model loaded yet"
        self.last_check: datetime | None = None
        self._reload_lock = threading.Lock()

    def model(self) -> LoadedModel:
        """The served model (one reference: hold it for the whole request)."""
        model = self.current
        if model is None:
            raise ServingError(503, "not_ready", f"no model is loaded: {self.problem}")
        return model

    def refresh(self, force: bool = False) -> tuple[bool, str | None]:
        """Check the alias; load and swap when it moved (or ``force``). Blocking: run it in a
        worker thread. Returns (changed, previous version)."""
        with self._reload_lock:
            previous = self.current.version if self.current else None
            changed = self._refresh_served(force)
            if self.settings.shadow_alias:
                self._refresh_shadow(force)
            return changed, previous

    def _refresh_served(self, force: bool) -> bool:
        settings, self.last_check = self.settings, datetime.now(UTC)
        try:
            target = self.registry.alias_version(settings.alias)
        except Exception as error:  # any failure to reach the registry: keep serving
            self._degrade(f"registry unreachable: {_short(error)}")
            return False
        self.metrics.registry_up.set(1)
        unchanged = self.current is not None and self.current.version == str(target.version)
        if unchanged and not force:
            self.problem = None
            return False
        try:
            started = time.perf_counter()
            loaded = self.registry.load(
                target, settings.alias, settings.precomputed_levels, settings.default_levels
            )
        except Exception as error:
            log.exception("loading %s version %s failed", settings.model_name, target.version)
            self.metrics.reloads.labels("failed").inc()
            self.problem = f"loading version {target.version} failed: {_short(error)}"
            return False
        self.current, self.problem = loaded, None  # the atomic swap
        self.metrics.reloads.labels("loaded").inc()
        self.metrics.model_loaded(
            loaded.name, loaded.alias, loaded.version, "served", loaded.loaded_at.timestamp()
        )
        log.info(
            "serving %s version %s (%s) loaded in %.1f s",
            loaded.name,
            loaded.version,
            loaded.alias,
            time.perf_counter() - started,
            extra={"model_version": loaded.version, "series": len(loaded.table.series)},
        )
        return True

    def _refresh_shadow(self, force: bool) -> None:
        alias = self.settings.shadow_alias
        try:
            target = self.registry.alias_version(alias)
            if force or self.shadow is None or self.shadow.version != str(target.version):
                self.shadow = self.registry.load(target, alias, self.settings.precomputed_levels)
                self.metrics.model_loaded(self.shadow.name, alias, self.shadow.version, "shadow")
        except Exception as error:
            log.warning("shadow %s not refreshed: %s", alias, _short(error))

    def _degrade(self, reason: str) -> None:
        self.metrics.registry_up.set(0)
        self.problem = reason
        log.warning(
            "%s; still serving version %s", reason, self.current.version if self.current else None
        )

    # -- answering ------------------------------------------------------------------------
    def resolve(self, model: LoadedModel, request: ForecastRequest) -> tuple[list[str], list[str]]:
        """Known and unknown ids of a request (order kept, duplicates dropped)."""
        if request.series_ids is not None:
            asked = request.series_ids
        elif request.item_ids is not None:
            asked = [f"{request.store_id}__{item}" for item in request.item_ids]
        else:
            asked = model.table.by_store.get(request.store_id, [])
            if not asked:
                raise ServingError(404, "unknown_store", f"no series in store {request.store_id!r}")
        asked = list(dict.fromkeys(asked))
        limit = self.settings.max_batch_series
        if len(asked) > limit:
            raise ServingError(
                422, "too_many_series", f"at most {limit} series per request, got {len(asked)}"
            )
        index = model.table.index
        return [s for s in asked if s in index], [s for s in asked if s not in index]

    def horizon_and_levels(
        self, model: LoadedModel, horizon: int | None, levels: list[int] | None
    ) -> tuple[int, list[int]]:
        h = horizon or model.max_horizon
        if h > model.max_horizon:
            raise ServingError(
                422,
                "horizon_too_long",
                f"horizon {h} exceeds the model's maximum of {model.max_horizon} "
                f"days (version {model.version})",
            )
        chosen = self.settings.default_levels if levels is None else levels
        return h, sorted(set(chosen))

    def forecast(
        self, model: LoadedModel, known: list[str], h: int, levels: list[int]
    ) -> list[str]:
        """Each series' answer as JSON: from the precomputed table (kept encoded), or for
        other levels through the model (blocking: run it in a worker thread)."""
        table = model.table
        if not set(levels) <= set(table.levels) and known:
            frame = model.pyfunc.predict(
                pd.DataFrame({UNIQUE_ID: known}), params={"h": h, "level": levels}
            )
            table = ForecastTable.from_frame(frame, model.column, levels)
        return [table.series_json(sid, h, levels) for sid in known]

    def scenarios(
        self, model: LoadedModel, request: ScenarioRequest, h: int, levels: list[int]
    ) -> tuple[list[dict], list[str]]:
        """What-if prices through the model's price response (blocking: about a second)."""
        limit = self.settings.max_scenario_series
        if len(request.scenarios) > limit:
            raise ServingError(
                422,
                "too_many_series",
                f"at most {limit} scenarios per request, got {len(request.scenarios)}",
            )
        if model.base_prices is None:
            raise ServingError(
                422,
                "no_price_response",
                f"version {model.version} has no price-sensitive member; a price "
                "scenario would not change its forecast",
            )
        index = model.table.index
        chosen = [s for s in request.scenarios if s.series_id in index]
        unknown = [s.series_id for s in request.scenarios if s.series_id not in index]
        if not chosen:
            return [], unknown
        prices = {s.series_id: _scenario_price(s, model.base_prices) for s in chosen}
        frame = model.pyfunc.predict(
            _whatif_frame(model.table, prices, h), params={"h": h, "level": levels}
        )
        table = ForecastTable.from_frame(frame, model.column, levels)
        answers = []
        for sid, price in prices.items():
            base = model.table.point[model.table.index[sid]]
            rows = table.rows(table.index[sid], h, levels, {"baseline_quantity": base})
            store, item = split_series_id(sid)
            base_price = model.base_prices.get(sid)
            answers.append(
                {
                    "series_id": sid,
                    "store_id": store,
                    "item_id": item,
                    "price": round(price, 6),
                    "rows": rows,
                    "base_price": None if pd.isna(base_price) else float(base_price),
                }
            )
        return answers, unknown

    def log_shadow(self, model: LoadedModel, known: list[str], h: int) -> None:
        """One JSON log line: the shadow's point forecasts next to the served ones."""
        shadow = self.shadow
        if shadow is None:
            return
        served, other = model.table, shadow.table
        pairs = {
            sid: {
                "served": _rounded(served.point[served.index[sid], :h]),
                "shadow": _rounded(other.point[other.index[sid], :h])
                if sid in other.index
                else None,
            }
            for sid in known
        }
        shadow_log.info(
            "shadow forecast",
            extra={
                "served_version": model.version,
                "shadow_alias": shadow.alias,
                "shadow_version": shadow.version,
                "horizon": h,
                "series": pairs,
            },
        )


def _rounded(values: np.ndarray) -> list[float]:
    return [round(v, 4) for v in values.tolist()]


def _scenario_price(scenario, base_prices: pd.Series) -> float:
    if scenario.price is not None:
        return float(scenario.price)
    base = base_prices.get(scenario.series_id)
    if base is None or pd.isna(base):
        raise ServingError(
            422,
            "no_base_price",
            f"series {scenario.series_id} has no known price to discount; give an absolute price",
        )
    return float(base) * (1 - scenario.discount_pct / 100)


def _whatif_frame(table: ForecastTable, prices: dict[str, float], h: int) -> pd.DataFrame:
    """``unique_id, ds, sell_price`` rows: the scenario price on every day of the horizon."""
    ids, days, values = [], [], []
    for sid, price in prices.items():
        dates = table.dates[table.index[sid]][:h]
        ids += [sid] * len(dates)
        days += dates
        values += [price] * len(dates)
    return pd.DataFrame(
        {UNIQUE_ID: ids, DS: pd.to_datetime(days), SELL_PRICE: np.asarray(values, dtype="float64")}
    )


def version_info(version, aliases: dict[str, str]) -> dict:
    """A registry version as the /v1/models entry (``aliases``: alias -> version)."""
    tags = dict(version.tags or {})
    created = version.creation_timestamp
    named = sorted(a for a, v in aliases.items() if str(v) == str(version.version))
    return {
        "version": str(version.version),
        "aliases": named,
        "status": version.status,
        "run_id": version.run_id,
        "created_at": datetime.fromtimestamp(created / 1000, UTC) if created else None,
        "description": version.description or None,
        "metrics": metrics_from_tags(tags),
        "tags": tags,
    }


def _short(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0][:300] if text else ''}"
