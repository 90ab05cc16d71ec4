"""``retailiq-serve`` (and ``python -m serving``): the API under uvicorn, one worker.

Settings come from ``RETAILIQ_SERVING_*`` variables; ``--host`` and ``--port`` override them.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import uvicorn

from serving.app import create_app
from serving.logging import configure_logging
from serving.settings import ServingSettings


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="retailiq-serve", description=__doc__)
    parser.add_argument("--host", help="bind address (default RETAILIQ_SERVING_HOST)")
    parser.add_argument("--port", type=int, help="port (default RETAILIQ_SERVING_PORT)")
    args = parser.parse_args(argv)
    settings = ServingSettings()
    configure_logging(settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=args.host or settings.host,
        port=args.port or settings.port,
        log_config=None,
        access_log=False,
        workers=1,
    )


if __name__ == "__main__":
    main()
