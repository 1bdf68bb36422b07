"""`hearken serve --workers N`: each worker listens on a socket of its own, and the kernel spreads
connections over them (portal/serving.py)."""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from portal.serving import listening_socket
from tests.conftest import TEST_SECRET, _free_port


def test_workers_sockets_share_a_port_and_connections_spread_over_them() -> None:
    first = listening_socket("127.0.0.1", 0)
    port = first.getsockname()[1]
    second = listening_socket("127.0.0.1", port)
    clients: list[socket.socket] = []
    accepted = {first: 0, second: 0}
    try:
        for sock in (first, second):
            sock.listen(128)
            sock.setblocking(False)
        for _ in range(64):
            clients.append(socket.create_connection(("127.0.0.1", port)))
        deadline = time.monotonic() + 5
        while sum(accepted.values()) < 64 and time.monotonic() < deadline:
            ready, _, _ = select.select([first, second], [], [], 0.1)
            for sock in ready:
                conn, _ = sock.accept()
                conn.close()
                accepted[sock] += 1
    finally:
        for sock in [*clients, first, second]:
            sock.close()
    assert sum(accepted.values()) == 64
    # Spread by a hash of each connection's addresses: all 64 on one socket has odds of 2 in 2**64.
    assert min(accepted.values()) > 0


def _listeners(port: int) -> dict[int, int]:
    """Listening sockets on `port`, counted by the process holding them (from /proc)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "0A" and int(fields[1].split(":")[1], 16) == port:  # 0A: LISTEN
            inodes.add(f"socket:[{fields[9]}]")
    held: dict[int, int] = {}
    for fds in Path("/proc").glob("[0-9]*/fd"):
        try:
            links = [os.readlink(fd) for fd in fds.iterdir()]
        except OSError:  # gone, or not ours to read
            continue
        if count := sum(1 for link in links if link in inodes):
            held[int(fds.parent.name)] = count
    return held


def _two_listeners(port: int, *, without: int = 0, timeout: float = 30) -> dict[int, int]:
    """Waits until two processes (neither `without`) listen on `port`; returns `_listeners`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        held = _listeners(port)
        if len(held) == 2 and without not in held:
            return held
        time.sleep(0.1)
    raise AssertionError(f"no two listeners on {port} in {timeout} s: {_listeners(port)}")


def test_two_workers_listen_on_sockets_of_their_own_and_a_dead_one_is_replaced(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "HEARKEN_DATABASE_URL": f"sqlite://{tmp_path / 'serve.sqlite3'}",
        "HEARKEN_SECRET_KEY": TEST_SECRET,
        "HEARKEN_BASE_URL": f"http://127.0.0.1:{port}",
        "HEARKEN_MEDIA_DIR": str(tmp_path / "media"),
        "HEARKEN_SERVE_WORKER": "0",
    }
    command = "import sys; from portal.cli import main; sys.exit(main(sys.argv[1:]))"
    serve = ["serve", "--port", str(port), "--workers", "2", "--no-access-log"]
    with (tmp_path / "serve.log").open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-c", command, *serve],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            workers = _two_listeners(port)
            assert set(workers.values()) == {1}  # one socket each
            assert server.pid not in workers  # the supervisor keeps no copy: it would take a share
            assert all(httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200 for _ in range(10))

            dead = next(iter(workers))
            os.kill(dead, signal.SIGKILL)
            replaced = _two_listeners(port, without=dead)
            assert set(replaced.values()) == {1} and server.pid not in replaced
            assert all(httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200 for _ in range(10))
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    assert server.returncode == 0, (tmp_path / "serve.log").read_text()[-2000:]
