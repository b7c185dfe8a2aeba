"""Load in the background on the web host, playbooks and Docker from the controller, per-host lookups."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from helpers import BackgroundLoad, LoadResult

APP = "fastapi-demo"
PORT = 8000


def name(host) -> str:
    """The host's inventory name (also its container's name)."""
    return host.backend.name


def address(host) -> str:
    """The host's address on the scenario's private network."""
    return host.check_output("hostname -I").split()[0]


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True, timeout=120).stdout


@dataclass
class Load:
    """The load run of a `load` block; `result` is set when the block ends."""

    result: LoadResult | None = field(default=None)


@contextmanager
def load(web, url: str = "http://localhost/", *, limit: int = 600) -> Iterator[Load]:
    """Run hey against the web host's own nginx for the block's duration (at most `limit` seconds).

    16 clients of 10 requests/s each: steady traffic over both app hosts that leaves the machine's CPU to
    the playbook running meanwhile. The report counts every non-200 status and transport error as failed.
    """
    background = BackgroundLoad(web, url=url, connections=16, rate=10)
    background.start(limit)
    run = Load()
    try:
        # Requests flow before the action starts ...
        time.sleep(2)
        yield run
    finally:
        # ... and after it ends.
        run.result = background.stop(tail=2)
