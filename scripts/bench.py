#!/usr/bin/env python3
"""`make bench`: serving throughput and deploy speed, measured side by side.

Without --container it first measures deploying (a fresh sandbox container
reached both over docker exec and over SSH as a sudo user: first provisioning,
idempotent re-runs and the floor play, a code-only release; then the fleet
growth on containers of its own), then the serving benchmark on that host
(--deploy-only: not). With --container it only runs the serving benchmark against an already
deployed container (the Molecule smoke test uses this with --seconds 1).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from benchlib import decompose, deploying, fleet, report, shipping
from benchlib.sandbox import Sandbox
from benchlib.serving import Run, ServingBench


def csv(kind: type) -> object:
    return lambda text: [kind(item) for item in text.split(",") if item]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--container", help="benchmark this deployed container; skip the deploy timing")
    parser.add_argument(
        "--bench-container",
        default=os.environ.get("SANDBOX_NAME", "fastapi-bench"),
        help="container the full run (re)creates (default $SANDBOX_NAME, else fastapi-bench)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("SANDBOX_PORT", "18080")),
        help="port the full run's container publishes for HTTP (default $SANDBOX_PORT or 18080)",
    )
    parser.add_argument(
        "--https-port",
        type=int,
        default=int(os.environ["SANDBOX_HTTPS_PORT"]) if os.environ.get("SANDBOX_HTTPS_PORT") else None,
        help="port it publishes for HTTPS (default $SANDBOX_HTTPS_PORT or --port + 363)",
    )
    parser.add_argument("--app", default="fastapi-demo", help="app_name of the deployment")
    parser.add_argument("--module", default="fastapi_demo.main:app", help="ASGI app for raw uvicorn")
    parser.add_argument(
        "--seconds", type=float, default=4, help="duration of each load run (4: make bench's time budget)"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="interleaved rounds; each figure is the median round"
    )
    parser.add_argument(
        "--decompose-rounds",
        type=int,
        default=1,
        help="rounds of nginx's decomposition (default 1: its CPU µs per request is steady)",
    )
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (keep-alive)")
    parser.add_argument("--paths", type=csv(str), default=["/items/1", "/health"])
    parser.add_argument("--sweep", type=csv(int), default=[1, 2, 3, 5, 7], help="worker counts to sweep")
    parser.add_argument("--deploy-only", action="store_true", help="measure deploying only, no serving")
    parser.add_argument(
        "--shipping-only",
        action="store_true",
        help="with --container: only the central log's CPU per request (benchlib/shipping.py)",
    )
    parser.add_argument(
        "--deploy-repeats",
        type=int,
        default=1,
        help="re-runs on each transport, interleaved with the floor (at least 3 of it); the median counts",
    )
    parser.add_argument(
        "--docker-first", action="store_true", help="also time a first provisioning over docker exec"
    )
    parser.add_argument(
        "--fleet",
        type=csv(int),
        default=[1, 2, 4],
        help="app host counts of the fleet (default 1,2,4; empty: none)",
    )
    parser.add_argument("--fleet-transport", choices=("ssh", "docker"), default="ssh")
    parser.add_argument(
        "--fleet-prefix",
        help="fleet container names: <prefix>-web, <prefix>-app1... (default the container's)",
    )
    parser.add_argument("--out", type=Path, default=Path("build/bench"), help="where results go")
    parser.add_argument("--no-chart", action="store_true", help="skip the PNG (no matplotlib needed)")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    deploys: list[deploying.DeployRun] = []
    growth: list[fleet.FleetRun] = []
    runs: list[Run] = []
    container = args.container
    if container is None:
        print("Deploying:", flush=True)
        https_port = args.https_port or args.port + 363
        deploys = deploying.measure(
            args.bench_container,
            args.port,
            https_port,
            repeats=args.deploy_repeats,
            docker_first=args.docker_first,
        )
        container = args.bench_container
        if args.fleet:
            print(f"Fleet ({args.fleet_transport}):", flush=True)
            growth = fleet.measure(args.fleet, args.fleet_prefix or container, args.fleet_transport)
    if args.shipping_only:
        runs = ship(args, container)
    elif not args.deploy_only:
        runs = serve(args, container)
    settings = {
        "seconds": args.seconds,
        "rounds": args.rounds,
        "decompose_rounds": args.decompose_rounds,
        "connections": args.connections,
        "paths": args.paths,
    }
    data = report.record(runs, deploys, settings, growth)
    report.write(data, args.out, with_chart=not args.no_chart)
    print(report.markdown(data))
    print(f"results in {args.out}/")
    return 0


def serve(args: argparse.Namespace, container: str) -> list[Run]:
    print(f"Serving ({container}):", flush=True)
    box = Sandbox(container, args.app, args.module)
    bench = ServingBench(box, args.seconds, args.connections, args.sweep)
    try:
        bench.setup(args.paths[0])
        runs = bench.compare(args.paths, args.rounds)
        runs += bench.http2(args.paths[0], args.rounds)
        runs += bench.decompose(args.paths[0], args.decompose_rounds)
        runs += bench.sweep(args.paths[0], args.rounds)
        runs += shipping.measure(
            box,
            bench.parts.access_log,
            bench.body,
            seconds=args.seconds,
            connections=args.connections,
            rounds=args.decompose_rounds,
        )
    finally:
        bench.teardown()
    return runs


def ship(args: argparse.Namespace, container: str) -> list[Run]:
    """The central log's rows alone, against a deployed container."""
    box = Sandbox(container, args.app, args.module)
    site = box.sh(f"cat /etc/nginx/sites-enabled/{args.app}.conf")
    box.sh("command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)", timeout=600)
    access_log = decompose.site_parts(site, "").access_log
    return shipping.measure(
        box,
        access_log,
        '{"ok":true}',
        seconds=args.seconds,
        connections=args.connections,
        rounds=args.rounds,
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
