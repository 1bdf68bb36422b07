"""`hearken serve --workers N`: uvicorn's supervisor, with each worker listening on a socket of its own.

uvicorn's workers share one listening socket, and whichever worker is awake when connections
arrive takes all that are waiting. Keep-alive connections (a reverse proxy's pool, or a load test)
stay where they landed: on two cores we saw 31 of 32 connections held by one worker while the other
idled, which set the latency of nearly every request. Here every worker binds its own socket with
`SO_REUSEPORT`, and the kernel spreads new connections over the listening sockets by a hash of each
connection's addresses, whoever is awake. A worker's socket closes with it; its replacement binds
a new one.
"""

from __future__ import annotations

import socket
from typing import Any

from uvicorn import Config
from uvicorn.supervisors import multiprocess


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to `host:port` that other workers' sockets may share (`SO_REUSEPORT`)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


class _WorkerWithOwnSocket(multiprocess.Process):
    """A worker process given a socket of its own; the supervisor's copy is closed once the worker
    has it, so the socket leaves the port's group when the worker ends."""

    def __init__(self, config: Config, sockets: Any) -> None:
        self._handed_over = listening_socket(config.host, config.port)
        super().__init__(config, [self._handed_over])

    def start(self) -> None:
        super().start()  # the socket is duplicated for the child as the process starts
        self._handed_over.close()


def run_workers(config: Config) -> None:
    """Runs `config.workers` workers under uvicorn's supervisor until it is told to stop."""
    # The supervisor makes every worker (at start, on a restart, on SIGHUP and SIGTTIN) through this
    # module attribute; this process does nothing else, so it is set for good.
    multiprocess.Process = _WorkerWithOwnSocket  # type: ignore[misc]
    multiprocess.Multiprocess(config, sockets=[]).run()
