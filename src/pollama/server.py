"""`pollama serve`: the store, the scheduler and the app, run by uvicorn at `OLLAMA_HOST`."""

from __future__ import annotations

import logging

import uvicorn

from pollama import config
from pollama.api import create_app
from pollama.engine.scheduler import Scheduler
from pollama.store import Store


def serve() -> None:
    """Run the server in the foreground until SIGINT or SIGTERM."""
    logging.basicConfig(
        level=logging.DEBUG if config.debug() else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    store = Store(config.models_dir())
    app = create_app(store, Scheduler())
    host = config.host()
    uvicorn.run(app, host=host.host, port=host.port, log_level="warning")
