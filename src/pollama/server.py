"""`pollama serve`: the store, the scheduler and the app, run by uvicorn at `OLLAMA_HOST`.

Shutdown on SIGTERM or SIGINT, kinder than Ollama's (which cuts every stream at once):

1. stop accepting connections; idle keep-alive connections close;
2. give requests in flight `grace` seconds to finish;
3. stop every runner: a stream still going ends with a final `{"error": ...}` line rather
   than a cut connection, and a request still queued gets a 503;
4. exit with status 0 (a second Ctrl-C quits at once).

Runner processes also die with the server if it is killed outright: each one asks the kernel
for SIGKILL when its parent goes (`PR_SET_PDEATHSIG`, in `pollama.engine.runner.process`).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from pollama import config
from pollama.api import create_app
from pollama.engine.scheduler import Scheduler
from pollama.store import Store

log = logging.getLogger(__name__)

# How long requests in flight may run on after SIGTERM before their runners are stopped.
SHUTDOWN_GRACE_S = 5.0
# After the runners stop, how long the streams they served get to write their error line.
_FLUSH_S = 2.0


class _Server(uvicorn.Server):
    """uvicorn's server with pollama's shutdown order and exit status (see the module doc)."""

    def __init__(self, cfg: uvicorn.Config, scheduler: Scheduler, grace: float) -> None:
        super().__init__(cfg)
        self._scheduler = scheduler
        self._grace = grace

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Handle SIGINT/SIGTERM without re-raising them afterwards.

        uvicorn re-raises the signal once it has shut down, so the process would end "killed
        by SIGTERM"; Ollama exits 0 after a clean shutdown, and so does pollama.
        """
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        handled = (signal.SIGINT, signal.SIGTERM)
        original = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        log.info("shutting down: %.0fs for requests in flight", self._grace)
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()  # idle ones close now, busy ones after their response
        if not await self._drained(self._grace):
            log.warning("stopping runners under %d request(s)", len(self.server_state.tasks))
        await self._scheduler.shutdown()
        if not await self._drained(_FLUSH_S):
            for task in self.server_state.tasks:
                task.cancel()
        if not self.force_exit:
            await self.lifespan.shutdown()

    async def _drained(self, timeout: float) -> bool:
        """Wait until no request is in flight (True), or `timeout` / a forced exit (False)."""
        deadline = time.monotonic() + timeout
        while self.server_state.connections and not self.force_exit:
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.05)
        return not self.force_exit


def serve(grace: float = SHUTDOWN_GRACE_S) -> None:
    """Run the server in the foreground until SIGINT or SIGTERM, then shut down in order."""
    logging.basicConfig(
        level=logging.DEBUG if config.debug() else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    store = Store(config.models_dir())
    # As `ollama serve`: unreferenced blobs and stale partial downloads go at start-up.
    store.prune()
    scheduler = Scheduler()
    host = config.host()
    app = create_app(store, scheduler, listen_host=host.host)
    cfg = uvicorn.Config(app, host=host.host, port=host.port, log_level="warning")
    _Server(cfg, scheduler, grace).run()
