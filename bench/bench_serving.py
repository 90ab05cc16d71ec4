"""Serving benchmark: this service vs ``mlflow models serve`` on the same registered version.

    .venv/bin/python bench/bench_serving.py [--m5-dir ../shared/data/m5] [--retrain]
        [--single 3000] [--batch 150] [--seconds 20] [--clients 1 4]

Registers one real version of ``demand_forecaster`` trained on the M5 ``short`` shape (all
3,049 CA_1 items x 116 days: seasonal naive, moving average and a small price-aware XGBoost;
fixed weights 0.2 / 0.2 / 0.6, intervals calibrated on a 2-window backtest of the baselines) in
a local registry under ``data/bench/serving`` (reused on later runs unless ``--retrain``), then
starts both servers on loopback, one uvicorn worker each, on ``champion``:

* this service (``python -m serving``, API keys on, JSON access log to a file), asked through
  ``POST /v1/forecasts``;
* ``mlflow models serve -m models:/demand_forecaster@champion --env-manager local -w 1``, asked
  through ``POST /invocations`` with the same series, horizon (28) and levels (80, 95).

The load generator is bounded by count and time: for each server, workload (one random series;
1,000 random series) and number of concurrent clients (threads with keep-alive connections,
stdlib ``http.client``), it sends up to ``--single`` / ``--batch`` requests or stops after
``--seconds``, after 20 (batch: 4) unmeasured warm-up requests. Every answer must be a 200.
It records the 1-minute load average at start and end and writes
``bench/results/serving.md``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "serving.md"
WORK = ROOT / "data" / "bench" / "serving"
KEY = "bench-reader"
H, LEVELS = 28, [80, 95]
WEIGHTS = {"SeasonalNaive": 0.2, "MovingAverage": 0.2, "XGBoost": 0.6}
log = logging.getLogger("bench_serving")


# -- the registered version -------------------------------------------------------------------
def register_version(m5_dir: Path, uri: str) -> dict:
    """Train on M5 short, log the pyfunc, register it and make it champion."""
    from testkit.m5 import load_m5_sales_history
    from testkit.registry import ensemble_parts, register_ensemble

    from ml.ensemble.weights import Ensemble, EnsembleWeights
    from ml.registry.tracking import TrackingConfig
    from ml.schema import DS, UNIQUE_ID

    started = time.perf_counter()
    history = load_m5_sales_history(m5_dir, "short")
    xgboost = dict(
        n_estimators=60,
        learning_rate=0.1,
        max_depth=6,
        n_jobs=1,
    )
    members, calibration = ensemble_parts(history, H, xgboost)
    ensemble = Ensemble(EnsembleWeights("bench", pd.Series(WEIGHTS)), calibration)
    config = TrackingConfig(uri, "bench-serving", str(WORK / "artifacts"))
    _, version = register_ensemble(
        config,
        members,
        ensemble,
        history,
        {"code_version": "bench"},
        run_name="bench-serving-ensemble",
        champion=True,
        max_horizon=H,
    )
    return {
        "version": version.version,
        "series": history[UNIQUE_ID].nunique(),
        "days": history[DS].nunique(),
        "train_s": time.perf_counter() - started,
    }


def champion(uri: str):
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    try:
        return MlflowClient(uri).get_model_version_by_alias("demand_forecaster", "champion")
    except MlflowException:
        return None


# -- servers ----------------------------------------------------------------------------------
def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_servers(uri: str) -> dict[str, dict]:
    bin_dir = str(Path(sys.executable).parent)  # mlflow serve execs `uvicorn` from PATH
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": uri,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    ours, theirs = free_port(), free_port()
    ours_env = {
        **env,
        "RETAILIQ_SERVING_TRACKING_URI": uri,
        "RETAILIQ_SERVING_PORT": str(ours),
        "RETAILIQ_SERVING_API_KEYS": json.dumps({KEY: "reader"}),
        "RETAILIQ_SERVING_POLL_INTERVAL_S": "30",
        "RETAILIQ_SERVING_MAX_BATCH_SERIES": "5000",
    }  # the id list of the store, below
    logs = WORK / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    mlflow_serve = [str(Path(sys.executable).with_name("mlflow")), "models", "serve",
                    "-m", "models:/demand_forecaster@champion", "--env-manager", "local",
                    "-h", "127.0.0.1", "-p", str(theirs), "-w", "1"]  # fmt: skip
    commands = {"retailiq": ([sys.executable, "-m", "serving"], ours_env, ours, "/ready"),
                "mlflow": (mlflow_serve, env, theirs, "/ping")}  # fmt: skip
    servers = {}
    for name, (command, command_env, port, ready) in commands.items():
        with open(logs / f"{name}.log", "w") as log_file:  # the child keeps its own handle
            process = subprocess.Popen(
                command, env=command_env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log_file
            )
        servers[name] = {"port": port, "ready": ready, "process": process}
    try:
        for name, server in servers.items():
            wait_ready(name, server)
    except BaseException:
        stop_servers(servers)
        raise
    return servers


def stop_servers(servers: dict[str, dict]) -> None:
    for server in servers.values():
        server["process"].terminate()
        server["process"].wait(timeout=30)


def wait_ready(name: str, server: dict, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server["process"].poll() is not None:
            raise RuntimeError(f"{name} exited; see {WORK / 'logs'}")
        try:
            status, _ = request(server["port"], "GET", server["ready"], None)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{name} not ready after {timeout} s")


def request(
    port: int,
    method: str,
    path: str,
    body: bytes | None,
    connection: http.client.HTTPConnection | None = None,
) -> tuple[int, bytes]:
    conn = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Content-Type": "application/json", "X-API-Key": KEY}
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    if connection is None:
        conn.close()
    return response.status, data


# -- payloads ---------------------------------------------------------------------------------
def payload(server: str, ids: list[str]) -> tuple[str, bytes]:
    if server == "retailiq":
        body = {"series_ids": ids, "horizon": H, "levels": LEVELS}
        return "/v1/forecasts", json.dumps(body).encode()
    body = {
        "dataframe_split": {"columns": ["unique_id"], "data": [[i] for i in ids]},
        "params": {"h": H, "level": LEVELS},
    }
    return "/invocations", json.dumps(body).encode()


def same_numbers(servers: dict, series: list[str]) -> bool:
    """Both servers give the same point forecasts for the same ids (same version)."""
    ids = series[:3]
    path, body = payload("retailiq", ids)
    ours = json.loads(request(servers["retailiq"]["port"], "POST", path, body)[1])
    path, body = payload("mlflow", ids)
    theirs = json.loads(request(servers["mlflow"]["port"], "POST", path, body)[1])
    a = [row["quantity"] for f in ours["forecasts"] for row in f["rows"]]
    b = [row["Ensemble"] for row in theirs["predictions"]]
    return len(a) == len(b) == 3 * H and bool(np.allclose(a, b, rtol=1e-12, atol=0))


# -- load ---------------------------------------------------------------------------------------
def drive(
    port: int,
    server: str,
    series: list[str],
    size: int,
    count: int,
    seconds: float,
    clients: int,
    warmup: int,
    seed: int = 0,
) -> dict:
    """``count`` requests (or ``seconds``) from ``clients`` threads; latencies in ms."""
    rng = random.Random(seed)
    bodies = [payload(server, rng.sample(series, size)) for _ in range(min(count, 200))]
    latencies: list[float] = []
    failures: list[int] = []
    lock = threading.Lock()
    sent = [0]

    def client(offset: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        for i in range(warmup // clients + 1):  # not measured
            request(port, "POST", *bodies[(offset + i) % len(bodies)], connection=conn)
        ready.wait()  # every client warmed up
        start.wait()
        while time.perf_counter() < stop_at:
            with lock:
                if sent[0] >= count:
                    break
                sent[0] += 1
                index = sent[0]
            path, body = bodies[index % len(bodies)]
            began = time.perf_counter()
            status, _ = request(port, "POST", path, body, connection=conn)
            elapsed = (time.perf_counter() - began) * 1000
            with lock:
                latencies.append(elapsed)
                if status != 200:
                    failures.append(status)
        conn.close()

    start, ready = threading.Event(), threading.Barrier(clients + 1)
    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    for thread in threads:
        thread.start()
    ready.wait()
    began = time.perf_counter()
    stop_at = began + seconds
    start.set()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    if failures:
        raise RuntimeError(f"{server}: {len(failures)} failed requests, e.g. {failures[:3]}")
    q = np.percentile(latencies, [50, 95, 99])
    return {
        "requests": len(latencies),
        "p50": q[0],
        "p95": q[1],
        "p99": q[2],
        "rps": len(latencies) / wall,
        "mean": statistics.fmean(latencies),
    }


# -- report -------------------------------------------------------------------------------------
def report(rows: list[dict], info: dict, loads: tuple[float, float], args, equal: bool) -> str:
    table = pd.DataFrame(rows)
    lines = [
        "## Serving",
        "",
        f"`{' '.join(['.venv/bin/python', 'bench/bench_serving.py', *sys.argv[1:]])}` -- "
        f"1-minute load average {loads[0]:.2f} at start, {loads[1]:.2f} at end "
        f"({os.cpu_count()} cores, shared with other work; servers and client at niceness "
        f"{os.nice(0)}).",
        "",
        f"Both servers on loopback, one uvicorn worker each, serving the same registered "
        f"version {info['version']} of `demand_forecaster` (M5 short: {info['series']:,} series "
        f"x {info['days']} days; seasonal naive, moving average and XGBoost members, fixed "
        "weights): this "
        "service's `POST /v1/forecasts` (API key checked, JSON access log on) and "
        "`mlflow models serve -m models:/demand_forecaster@champion --env-manager local -w 1` "
        f"`POST /invocations`, horizon {H}, levels 80/95, random series. Up to "
        f"{args.single} single-series / {args.batch} batch requests or {args.seconds:g} s per "
        "row after 20 (batch: 4) warm-up requests; client threads with keep-alive "
        f"connections on the same machine. Same numbers from both: **{'yes' if equal else 'NO'}**.",
        "",
        "| workload | clients | server | requests | p50 ms | p95 ms | p99 ms | req/s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['workload']} | {r['clients']} | {r['server']} | {r['requests']:,} | "
            f"{r['p50']:.2f} | {r['p95']:.2f} | {r['p99']:.2f} | {r['rps']:.1f} |"
        )
    lines += [
        "",
        "Throughput ratio (this service / mlflow serve) and latency ratio (mlflow p50 / this p50):",
        "",
    ]
    for (workload, clients), group in table.groupby(["workload", "clients"], sort=False):
        ours = group[group["server"] == "retailiq"].iloc[0]
        theirs = group[group["server"] == "mlflow serve"].iloc[0]
        lines.append(
            f"- {workload}, {clients} client(s): **{ours['rps'] / theirs['rps']:.1f}x** "
            f"the requests/s, p50 {theirs['p50'] / ours['p50']:.1f}x lower"
        )
    single = table[(table["workload"] == "single series") & (table["server"] == "retailiq")]
    one = single[single["clients"] == single["clients"].min()].iloc[0]
    verdict = one["p50"] < 5 and one["p99"] < 20
    lines += [
        "",
        f"Target single-series p50 < 5 ms and p99 < 20 ms ({int(one['clients'])} "
        f"client): **{'met' if verdict else 'not met'}** (p50 {one['p50']:.2f} ms, p99 "
        f"{one['p99']:.2f} ms).",
    ]
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--m5-dir", type=Path, default=ROOT.parent / "shared" / "data" / "m5")
    parser.add_argument("--retrain", action="store_true", help="register a new version")
    parser.add_argument("--single", type=int, default=3000, help="single-series requests")
    parser.add_argument("--batch", type=int, default=150, help="1,000-series requests")
    parser.add_argument("--seconds", type=float, default=20.0, help="time cap per row")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4])
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    WORK.mkdir(parents=True, exist_ok=True)
    uri = f"sqlite:///{WORK / 'mlflow.db'}"
    loads = [os.getloadavg()[0]]
    if args.retrain or champion(uri) is None:
        info = register_version(args.m5_dir, uri)
        log.info("registered version %s in %.0f s", info["version"], info["train_s"])
    found = champion(uri)
    info = {
        "version": str(found.version),
        "series": int(found.tags.get("series", 0)) or 3049,
        "days": 116,
    }
    servers = start_servers(uri)
    try:
        status, body = request(servers["retailiq"]["port"], "GET", "/ready", None)
        assert json.loads(body)["model_version"] == str(found.version), body
        series = sorted(
            json.loads(
                request(
                    servers["retailiq"]["port"],
                    "POST",
                    "/v1/forecasts",
                    json.dumps({"store_id": "CA_1", "horizon": 1}).encode(),
                )[1]
            )["forecasts"],
            key=lambda f: f["series_id"],
        )
        series = [f["series_id"] for f in series]
        equal = same_numbers(servers, series)
        rows = []
        for workload, size, count, warmup in (
            ("single series", 1, args.single, 20),
            ("1,000-series batch", 1000, args.batch, 4),
        ):
            for clients in args.clients:
                for name, label in (("retailiq", "retailiq"), ("mlflow", "mlflow serve")):
                    result = drive(
                        servers[name]["port"],
                        name,
                        series,
                        size,
                        count,
                        args.seconds,
                        clients,
                        warmup,
                    )
                    rows.append(
                        {"workload": workload, "clients": clients, "server": label, **result}
                    )
                    log.info("%s", rows[-1])
    finally:
        stop_servers(servers)
    loads.append(os.getloadavg()[0])
    text = report(rows, info | {"series": len(series)}, tuple(loads), args, equal)
    RESULTS.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
