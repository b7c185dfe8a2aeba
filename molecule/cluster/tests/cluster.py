"""Load in the background on the web host, playbooks and Docker from the controller, per-host lookups."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from helpers import LoadResult, hey_result, wait_for

PLAYBOOKS = Path(__file__).resolve().parents[3] / "playbooks"
APP = "fastapi-demo"
PORT = 8000


def name(host) -> str:
    """The host's inventory name (also its container's name)."""
    return host.backend.host


def address(host) -> str:
    """The host's address on the scenario's private network."""
    return host.check_output("hostname -I").split()[0]


def run_playbook(playbook: str, *args: str) -> subprocess.CompletedProcess[str]:
    """ansible-playbook against Molecule's inventory; never raises on a failed play."""
    inventory = os.environ["MOLECULE_INVENTORY_FILE"]
    return subprocess.run(
        ["ansible-playbook", "--inventory", inventory, str(PLAYBOOKS / playbook), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
        env={**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"},
    )


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True, timeout=120).stdout


@dataclass
class Load:
    """A running hey on the web host; `result` is set when the block ends."""

    pid: int
    result: LoadResult | None = field(default=None)


@contextmanager
def load(web, url: str = "http://localhost/", *, limit: int = 600) -> Iterator[Load]:
    """Run hey against the web host's own nginx for the block's duration (at most `limit` seconds).

    16 clients of 10 requests/s each: steady traffic over both app hosts that leaves the machine's CPU to
    the playbook running meanwhile. hey is interrupted (SIGINT: it stops and prints its report) when the
    block ends; the report counts every non-200 status and transport error as failed.
    """
    # Detached with setsid, not the shell's `&`: a background job of a shell ignores SIGINT.
    hey = f"hey -z {limit}s -c 16 -q 10 -host localhost {url} > /tmp/hey.out 2>&1"
    detached = f"setsid -f sh -c 'echo $$ > /tmp/hey.pid; exec {hey}' < /dev/null"
    started = web.run(f"rm -f /tmp/hey.out /tmp/hey.pid; {detached}")
    assert started.rc == 0, started.stderr
    pid = wait_for(lambda: web.run("cat /tmp/hey.pid").stdout.strip(), timeout=10)
    assert pid, "hey did not start"
    run = Load(pid=int(pid))
    try:
        # Requests flow before the action starts.
        web.run("sleep 2")
        yield run
        # ... and after it ends.
        web.run("sleep 2")
    finally:
        stopped = web.run(
            f"kill -INT {run.pid}; while kill -0 {run.pid} 2>/dev/null; do sleep 0.2; done; cat /tmp/hey.out"
        )
        assert "Summary:" in stopped.stdout, f"hey printed no report: {stopped.stdout} {stopped.stderr}"
        run.result = hey_result(stopped.stdout)
