"""Parse wrk's `--latency` report into numbers."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    socket_errors: int
    non_2xx: int

    @property
    def errors(self) -> int:
        return self.socket_errors + self.non_2xx

    def as_dict(self) -> dict[str, float | int]:
        return {**asdict(self), "errors": self.errors}


def _ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value.strip())
    if not match:
        raise ValueError(f"not a wrk duration: {value!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def _search(pattern: str, text: str) -> re.Match[str]:
    match = re.search(pattern, text, re.M)
    if not match:
        raise ValueError(f"wrk output lacks {pattern!r}:\n{text}")
    return match


def parse(text: str) -> WrkResult:
    """Numbers from `wrk --latency` output; raises ValueError on anything else."""
    total = _search(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m),", text)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return WrkResult(
        requests=int(total.group(1)),
        seconds=_ms(total.group(2) + total.group(3)) / 1000.0,
        rps=float(_search(r"^Requests/sec:\s+([\d.]+)", text).group(1)),
        p50_ms=_ms(_search(r"^\s+50%\s+(\S+)", text).group(1)),
        p99_ms=_ms(_search(r"^\s+99%\s+(\S+)", text).group(1)),
        socket_errors=sum(int(n) for n in socket.groups()) if socket else 0,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
    )
