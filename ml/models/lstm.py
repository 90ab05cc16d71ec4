"""LSTM: one global sequence-to-sequence network over windows of all series (PyTorch, CPU).

An encoder LSTM reads the last ``input_size`` days of a series (scaled units, an observed-day
mask and the day's covariates); a decoder LSTM starts from the encoder's state and reads the
covariates of the forecast days (calendar, price, SNAP, events -- all known in advance), and a
small head turns each decoder step into a non-negative rate. All ``h`` days come out at once
(direct multi-output), so errors do not compound as in a recursive model. Store, department
and category embeddings and the log of the series' scale let one network serve every series.

* **Scaling**: each window is divided by ``1 + mean(y)`` over its observed input days (as in
  DeepAR), so fast and slow movers share one network; the loss is Poisson NLL on the scaled
  values (``loss="mse"`` is the alternative).
* **Short series**: windows reaching before a series' first day are left-padded with zeros and
  a mask channel marks the padding; windows whose targets run past the training range keep
  the days inside it (the rest is masked out of the loss), so a series with a few weeks of
  history trains the network too, not only the long ones.
* **Budget**: ``epochs`` x ``samples_per_epoch`` random windows (default 4 x 40,000, a few
  minutes on one core for either M5 shape). ``max_train_seconds`` is a safety stop checked
  between epochs -- when it triggers, the number of epochs (and so the result) depends on the
  machine's speed; it is logged.
* **Determinism**: training runs under ``torch.manual_seed(seed)``, deterministic algorithms,
  a fixed thread count (``n_threads``, one by default) and PyTorch's native kernels (oneDNN
  off), all restored afterwards; window sampling uses a seeded NumPy generator.
* **Intervals**: the network is trained on targets that end ``calibration_horizon`` days before
  the end of the history, forecasts those days, and its scaled errors calibrate split-conformal
  intervals (``ml.models.intervals``). One catch-up epoch at a tenth of the learning rate then
  covers those days too (for a new item they are most of its history) before the forecast.

The covariates are the feature store's target-day features (``ml.models.sequence_inputs``): of the
history from the offline table, of the forecast days from the rows ``build_forecast_set`` builds
with ``X_df`` (without it the last known price is held flat, no SNAP, no event).
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from feature_store.calendar import DEFAULT_COUNTRY
from feature_store.definitions import FEATURE_SET_VERSION
from feature_store.joins import build_forecast_set
from ml.models.base import check_choice
from ml.models.global_model import GlobalForecaster, forecast_origin, sort_series
from ml.models.intervals import SCALE_DAYS, ConformalCalibrator, series_scale
from ml.models.sequence_inputs import (
    INPUT_FEATURES,
    covariate_matrix,
    embedding_indices,
    rows_of,
    static_vocabulary,
)
from ml.schema import UNIQUE_ID, Y

logger = logging.getLogger(__name__)


def _require_torch():
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - torch is a pinned dependency
        raise ImportError("LSTMForecaster needs PyTorch: pip install torch (CPU build)") from exc
    return torch


@dataclass
class _Panel:
    """Right-aligned arrays of all series: position ``-1`` is each series' last day."""

    y: np.ndarray  # (n, L) float32, 0 on padding
    mask: np.ndarray  # (n, L) float32, 1 on observed days
    cov: np.ndarray  # (n, L, C) float32 covariates
    start: np.ndarray  # (n,) first observed position of each series


class LSTMForecaster(GlobalForecaster):
    """Global encoder-decoder LSTM with calendar and price covariates."""

    alias = "LSTM"

    def __init__(
        self,
        input_size: int = 56,
        horizon: int = 28,
        hidden_size: int = 64,
        num_layers: int = 1,
        embedding_dim: int = 4,
        dropout: float = 0.0,
        loss: str = "poisson",
        learning_rate: float = 3e-3,
        batch_size: int = 256,
        epochs: int = 4,
        samples_per_epoch: int = 40_000,
        max_train_seconds: float | None = None,
        min_observed: int = 7,
        calibration_horizon: int = 28,
        holiday_country: str = DEFAULT_COUNTRY,
        seed: int = 0,
        n_threads: int = 1,
        alias: str = "LSTM",
    ) -> None:
        self.input_size = input_size
        self.horizon = horizon
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.embedding_dim = embedding_dim
        self.dropout = dropout
        self.loss = loss
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.epochs = epochs
        self.samples_per_epoch = samples_per_epoch
        self.max_train_seconds = max_train_seconds
        self.min_observed = min_observed
        self.calibration_horizon = calibration_horizon
        self.holiday_country = holiday_country
        self.seed = seed
        self.n_threads = n_threads
        self.alias = alias

    # -- fit ------------------------------------------------------------------------------
    def _fit_sorted(self, df: pd.DataFrame) -> None:
        check_choice("loss", self.loss, ("poisson", "mse"))
        self.static_vocab_ = None
        self.feature_names_ = list(INPUT_FEATURES)
        self.feature_set_version_ = FEATURE_SET_VERSION
        self._anchor(df)
        with _torch_settings(self.seed, self.n_threads):
            cal = self._calibration_days()
            self.net_ = self._train(self.panel_.y.shape[1] - cal)
            self.calibrator_ = self._calibrate(cal) if cal else None
            if cal:
                self._catch_up()

    def _anchor(self, df: pd.DataFrame) -> None:
        """Series, codes, panel and interval scale of the (sorted) history to forecast from."""
        features = rows_of(df, self.feature_table(df))
        if self.static_vocab_ is None:  # at fit; a re-anchor keeps the fitted embeddings
            self.static_vocab_ = static_vocabulary(features)
        self.codes_ = embedding_indices(features, self.static_vocab_)
        self.series_ = np.sort(df[UNIQUE_ID].unique())
        self.panel_ = self._panel(df, covariate_matrix(features))
        self.history_ = forecast_origin(df)
        self.scale_ = series_scale(_tail(self.panel_.y, self.panel_.mask, SCALE_DAYS))

    def _calibration_days(self) -> int:
        """Days held out for calibration (0 when the series are too short to spare them)."""
        cal = self.calibration_horizon
        spare = self.panel_.y.shape[1] - cal - self.horizon - self.min_observed
        if cal < 1:
            return 0
        if spare < 0 or not self._origins(self.panel_.y.shape[1] - cal)[0].size:
            logger.warning("%s: history too short to calibrate intervals", self.alias)
            return 0
        return cal

    def _panel(self, frame: pd.DataFrame, cov_rows: np.ndarray) -> _Panel:
        """Right-aligned y, mask and covariates (one row per ``frame`` row) of the history."""
        lengths = frame.groupby(UNIQUE_ID, sort=True).size().to_numpy()
        n, width = lengths.size, int(lengths.max())
        start = width - lengths
        cols = np.arange(len(frame)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        rows, cols = np.repeat(np.arange(n), lengths), np.repeat(start, lengths) + cols
        y = np.zeros((n, width), dtype="float32")
        mask = np.zeros((n, width), dtype="float32")
        cov = np.zeros((n, width, cov_rows.shape[1]), dtype="float32")
        y[rows, cols] = frame[Y].to_numpy(dtype="float32")
        mask[rows, cols] = 1.0
        cov[rows, cols] = cov_rows
        return _Panel(y=y, mask=mask, cov=cov, start=start)

    def _origins(self, end: int) -> tuple[np.ndarray, np.ndarray]:
        """Series with training windows before position ``end``, and how many origins each has:
        from ``min_observed`` days into the series up to the day before ``end``.

        A window's targets may run past ``end`` (or past the data): those days are masked out
        of the loss. So a series with fewer than ``horizon`` days after its first window still
        trains the network -- without that, the new items of a store that mixes long and short
        histories would be forecast by a network that never saw a short history.
        """
        first = self.panel_.start + self.min_observed - 1
        counts = np.maximum(end - 1 - first, 0)
        return np.flatnonzero(counts), counts

    def _sample(self, rng: np.random.Generator, end: int) -> tuple[np.ndarray, np.ndarray]:
        """``samples_per_epoch`` random (series, origin) pairs: a series at random, then one of
        its origins. Uniform over series, not over windows: in a store mixing a few five-year
        items with many new ones, the long series would otherwise fill most batches."""
        series, counts = self._origins(end)
        chosen = rng.choice(series, size=self.samples_per_epoch)
        first = self.panel_.start[chosen] + self.min_observed - 1
        return chosen, first + (rng.random(chosen.size) * counts[chosen]).astype("int64")

    def _train(self, end: int):
        """A network trained on the windows whose targets end before position ``end``."""
        torch = _require_torch()
        if not self._origins(end)[0].size:
            raise ValueError(
                f"{self.alias}: no series has {self.min_observed + 1} days of history to train "
                "on; lower min_observed"
            )
        net = _network(torch, self._network_shape())
        steps = self.epochs * math.ceil(self.samples_per_epoch / self.batch_size)
        optimiser = torch.optim.Adam(net.parameters(), lr=self.learning_rate)
        schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, self.learning_rate, steps)
        rng, started = np.random.default_rng(self.seed), time.monotonic()
        for epoch in range(self.epochs):
            loss = self._epoch(torch, net, optimiser, schedule, end, *self._sample(rng, end))
            logger.info("%s epoch %d: loss %.4f", self.alias, epoch + 1, loss)
            if self.max_train_seconds and time.monotonic() - started > self.max_train_seconds:
                logger.warning("%s: stopped after %d epochs (time budget)", self.alias, epoch + 1)
                break
        return net.eval()

    def _catch_up(self) -> None:
        """One more epoch over all the history, the held-out days included, at a tenth of the
        learning rate: the calibration days are most of a new item's history, and the
        forecast starts right after them."""
        torch = _require_torch()
        width = self.panel_.y.shape[1]
        optimiser = torch.optim.Adam(self.net_.parameters(), lr=self.learning_rate / 10)
        schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda _: 1.0)
        rng = np.random.default_rng(self.seed + 1)
        loss = self._epoch(torch, self.net_, optimiser, schedule, width, *self._sample(rng, width))
        logger.info("%s catch-up epoch: loss %.4f", self.alias, loss)
        self.net_.eval()

    def _epoch(self, torch, net, optimiser, schedule, end, series, origins) -> float:
        net.train()
        total = 0.0
        for rows in _batches(series.size, self.batch_size):
            past, future, codes, scale = self._window(torch, series[rows], origins[rows])
            values, known = self._targets(series[rows], origins[rows], end)
            target = torch.from_numpy(values) / scale[:, None]
            rate = net(past, future, codes, torch.log(scale))
            loss = _loss(torch, self.loss, rate, target, torch.from_numpy(known))
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            total += loss.item() * rows.size
        return total / series.size

    def _targets(self, series: np.ndarray, origins: np.ndarray, end: int):
        """Targets of the windows and which of them count: days before ``end`` only."""
        ahead = origins[:, None] + np.arange(1, self.horizon + 1)
        known = ahead < end
        values = self.panel_.y[series[:, None], np.minimum(ahead, end - 1)] * known
        return values.astype("float32"), known.astype("float32")

    def _window(self, torch, series, origins, future_cov: np.ndarray | None = None):
        """Encoder input, decoder covariates, static codes and scale of each window."""
        offsets = origins[:, None] + np.arange(1 - self.input_size, 1)
        valid = offsets >= 0
        idx = np.where(valid, offsets, 0)
        mask = self.panel_.mask[series[:, None], idx] * valid
        y = self.panel_.y[series[:, None], idx] * mask
        scale = 1.0 + y.sum(1) / np.maximum(mask.sum(1), 1.0)
        cov = self.panel_.cov[series[:, None], idx] * valid[..., None]
        past = np.concatenate([(y / scale[:, None])[..., None], mask[..., None], cov], axis=2)
        if future_cov is None:  # past the data (a window near the end): the last day's
            last = self.panel_.y.shape[1] - 1  # covariates; those targets are masked anyway
            ahead = np.minimum(origins[:, None] + np.arange(1, self.horizon + 1), last)
            future_cov = self.panel_.cov[series[:, None], ahead]
        return (
            torch.from_numpy(past.astype("float32")),
            torch.from_numpy(future_cov.astype("float32")),
            torch.from_numpy(self.codes_[series]),
            torch.from_numpy(scale.astype("float32")),
        )

    def _network_shape(self) -> dict:
        cardinalities = [len(v) + 1 for v in self.static_vocab_.values()]
        return {
            "n_cov": self.panel_.cov.shape[2],
            "cardinalities": cardinalities,
            "embedding_dim": self.embedding_dim,
            "hidden_size": self.hidden_size,
            "num_layers": self.num_layers,
            "dropout": self.dropout,
        }

    def _calibrate(self, cal: int) -> ConformalCalibrator:
        """Scaled errors of the forecast of the last ``cal`` days from the day before them."""
        width = self.panel_.y.shape[1]
        series = np.arange(self.panel_.y.shape[0])
        origins = np.full(series.size, width - 1 - cal)
        future = self.panel_.cov[:, width - cal :]
        forecast = self._forecast(series, origins, future)
        y, mask = self.panel_.y, self.panel_.mask
        y_tail = _tail(y[:, : width - cal], mask[:, : width - cal], SCALE_DAYS)
        actual = np.where(mask[:, width - cal :] > 0, y[:, width - cal :], np.nan)
        return ConformalCalibrator.from_errors(actual, forecast, series_scale(y_tail))

    def _forecast(self, series: np.ndarray, origins: np.ndarray, future: np.ndarray) -> np.ndarray:
        """(series, steps) forecasts in units from the given origins and future covariates."""
        torch = _require_torch()
        chunks = []
        with _torch_settings(self.seed, self.n_threads), torch.no_grad():
            for rows in _batches(series.size, 1024):
                past, fut, codes, scale = self._window(
                    torch, series[rows], origins[rows], future[rows]
                )
                rate = self.net_(past, fut, codes, torch.log(scale))
                chunks.append((rate * scale[:, None]).numpy())
        return np.concatenate(chunks).astype("float64")

    # -- predict --------------------------------------------------------------------------
    def _predict(self, h: int, X_df: pd.DataFrame | None, level: list[int]) -> pd.DataFrame:
        future = sort_series(build_forecast_set(self.history_, h, X_df, self.holiday_country))
        series = np.arange(self.series_.size)
        cov = covariate_matrix(future).reshape(series.size, h, -1)
        origins = np.full(series.size, self.panel_.y.shape[1] - 1)
        point = np.maximum(self._forecast(series, origins, cov), 0.0)
        return self._forecast_frame(future, point, self.scale_, level)


def _tail(y: np.ndarray, mask: np.ndarray, days: int) -> np.ndarray:
    """Last ``days`` observed positions of each row, NaN where padded."""
    return np.where(mask[:, -days:] > 0, y[:, -days:], np.nan)


def _batches(n: int, size: int) -> Iterator[np.ndarray]:
    for first in range(0, n, size):
        yield np.arange(first, min(first + size, n))


def _loss(torch, kind: str, rate, target, known):
    """Mean loss over the target days that count (``known`` = 1)."""
    if kind == "mse":
        each = (rate - target) ** 2
    else:
        each = torch.nn.functional.poisson_nll_loss(
            rate, target, log_input=False, eps=1e-6, reduction="none"
        )
    return (each * known).sum() / known.sum().clamp(min=1.0)


@contextlib.contextmanager
def _torch_settings(seed: int, n_threads: int):
    """Seeded, deterministic, fixed-thread torch inside the block; global state restored.

    One thread by default: on a shared machine a two-thread OpenMP team waits on its barrier
    far longer than it computes (the networks here are small).
    """
    torch = _require_torch()
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    mkldnn = torch.backends.mkldnn.enabled
    torch.set_num_threads(max(1, n_threads))
    torch.use_deterministic_algorithms(True)
    # PyTorch's native LSTM kernels beat oneDNN's at these sizes, and oneDNN's OpenMP team
    # stalls badly when the cores are shared (measured 3x-8x slower under load)
    torch.backends.mkldnn.enabled = False
    torch.manual_seed(seed)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)
        torch.backends.mkldnn.enabled = mkldnn


def _network(torch, shape: dict):
    """The encoder-decoder module (built lazily so that importing this file needs no torch)."""
    nn = torch.nn

    class Seq2Seq(nn.Module):
        def __init__(self, n_cov, cardinalities, embedding_dim, hidden_size, num_layers, dropout):
            super().__init__()
            self.embeddings = nn.ModuleList(nn.Embedding(c, embedding_dim) for c in cardinalities)
            static = embedding_dim * len(cardinalities) + 1
            drop = dropout if num_layers > 1 else 0.0
            self.encoder = nn.LSTM(
                2 + n_cov + static, hidden_size, num_layers, batch_first=True, dropout=drop
            )
            self.decoder = nn.LSTM(
                n_cov + static, hidden_size, num_layers, batch_first=True, dropout=drop
            )
            self.head = nn.Sequential(
                nn.Linear(hidden_size, hidden_size), nn.ReLU(), nn.Linear(hidden_size, 1)
            )

        def forward(self, past, future, codes, log_scale):
            parts = [emb(codes[:, k]) for k, emb in enumerate(self.embeddings)]
            static = torch.cat([*parts, log_scale[:, None]], dim=1)
            past = torch.cat([past, static[:, None].expand(-1, past.shape[1], -1)], dim=2)
            future = torch.cat([future, static[:, None].expand(-1, future.shape[1], -1)], dim=2)
            _, state = self.encoder(past)
            out, _ = self.decoder(future, state)
            return nn.functional.softplus(self.head(out).squeeze(-1))

    return Seq2Seq(**shape)
