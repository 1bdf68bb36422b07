"""The README's commands: `make run` serves where it is asked to, and says so in its links."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed (the README asks for it)")
def test_make_run_on_another_port_gives_mails_and_feeds_that_port() -> None:
    # -n prints the commands without running them; the installed marker makes it skip the install.
    printed = subprocess.run(
        ["make", "-n", "-o", ".venv/.installed", "run", "PORT=8131"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    [serve] = [line for line in printed.splitlines() if " serve " in line]
    assert "--port 8131" in serve
    assert 'HEARKEN_BASE_URL="${HEARKEN_BASE_URL:-http://127.0.0.1:8131}"' in serve
    shell = subprocess.run(
        ["bash", "-c", serve.split(" .venv/bin/hearken")[0] + ' && echo "$HEARKEN_BASE_URL"'],
        capture_output=True, text=True, check=True, env={"PATH": "/usr/bin:/bin"},
    ).stdout  # fmt: skip
    assert shell.strip() == "http://127.0.0.1:8131"
