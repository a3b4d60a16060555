"""Benchmark: a no-toxic proxy hop versus a direct connection to the same upstream.

Run ``python -m chaos.toxiproxy.benchmark`` (``--help`` for sizes). Not a test. Three
processes, so the proxy does not share a GIL with either end: the upstream (echo,
source and sink ports; ``--upstream`` mode of this module), the embedded server
(``python -m chaos.toxiproxy``), and this process as client. Direct and proxied runs
alternate (direct, proxied, direct, ...) so that load from other processes on a shared
machine hits both alike; each figure is the median of ``--repeat`` runs, and the bulk
ratio is the median of the per-pair ratios. Reported: bulk MB/s in both directions, the
proxy process's CPU seconds per GB forwarded (robust to noise: a busy machine slows the
transfer, not the proxy's work per byte) and the client's and upstream's CPU per GB with and
without the hop (on two cores the three share the CPU), small request/response round trips (p50/p99,
and the difference = latency added per hop), and N concurrent connections through one
proxy (all must echo; wall time).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from .runner import start_binary, start_subprocess
from .splice import ENV_DISABLE

MB = 1_000_000


# -- upstream process ---------------------------------------------------------
async def _upstream(source_bytes: int) -> None:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.close()

    async def source(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        block = b"s" * 65536
        for _ in range(source_bytes // len(block)):
            writer.write(block)
            await writer.drain()
        writer.close()

    async def sink(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        remaining = int.from_bytes(await reader.readexactly(8), "big")
        while remaining > 0:
            data = await reader.read(min(remaining, 262144))
            if not data:
                break
            remaining -= len(data)
        writer.write(b"k")
        await writer.drain()
        writer.close()

    servers = [await asyncio.start_server(h, "127.0.0.1", 0, backlog=4096) for h in (echo, source, sink)]
    ports = [s.sockets[0].getsockname()[1] for s in servers]
    print(json.dumps(ports), flush=True)
    await asyncio.Event().wait()


# -- client measurements --------------------------------------------------------
def bulk_down(port: int) -> float:
    with socket.create_connection(("127.0.0.1", port)) as conn:
        started, total = time.perf_counter(), 0
        buffer = bytearray(262144)
        while n := conn.recv_into(buffer):
            total += n
        return total / MB / (time.perf_counter() - started)


def bulk_up(port: int, size: int) -> float:
    block = b"u" * 262144
    size -= size % len(block)
    with socket.create_connection(("127.0.0.1", port)) as conn:
        started = time.perf_counter()
        conn.sendall(size.to_bytes(8, "big"))
        for _ in range(size // len(block)):
            conn.sendall(block)
        assert conn.recv(1) == b"k"
        return size / MB / (time.perf_counter() - started)


def round_trips(port: int, count: int) -> list[float]:
    """Round-trip times in ms of 64-byte messages on one connection."""
    message = b"r" * 64
    samples = []
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for _ in range(count + 50):
            started = time.perf_counter()
            conn.sendall(message)
            got = 0
            while got < len(message):
                got += len(conn.recv(4096))
            samples.append((time.perf_counter() - started) * 1000)
    return samples[50:]  # drop warm-up


def concurrent(port: int, connections: int) -> tuple[int, float]:
    return asyncio.run(_concurrent_all_open(port, connections))


async def _concurrent_all_open(port: int, connections: int) -> tuple[int, float]:
    """Open ``connections`` connections at once, echo 16 bytes on each, close all at the end."""
    started = time.perf_counter()
    echoed = 0
    writers: list[asyncio.StreamWriter] = []

    async def one(i: int) -> None:
        nonlocal echoed
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 30)
            writers.append(writer)
            message = f"{i:016d}".encode()
            writer.write(message)
            if await asyncio.wait_for(reader.readexactly(16), 30) == message:
                echoed += 1
        except (OSError, asyncio.IncompleteReadError, TimeoutError):
            pass

    await asyncio.gather(*(one(i) for i in range(connections)))
    elapsed = time.perf_counter() - started
    for writer in writers:
        writer.close()
    return echoed, elapsed


# -- orchestration ---------------------------------------------------------------
@dataclass
class Row:
    name: str
    direct: float
    proxied: float
    unit: str
    ratio: float | None = None
    """Median of per-pair proxied/direct ratios (bulk rows)."""


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux /proc), 0.0 elsewhere."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()  # noqa: SIM115
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def upstream_process(bulk_mb: int) -> Iterator[tuple[int, dict[str, int]]]:
    """The upstream (``--upstream`` mode) in its own process: its pid and its echo, source and
    sink ports; stopped on exit."""
    process = subprocess.Popen([sys.executable, "-m", "chaos.toxiproxy.benchmark", "--upstream",
                                "--bulk-mb", str(bulk_mb)], stdout=subprocess.PIPE)
    try:
        assert process.stdout is not None
        ports = json.loads(process.stdout.readline())
        yield process.pid, dict(zip(("echo", "source", "sink"), ports, strict=True))
    finally:
        process.terminate()
        process.wait(5)


def create_proxy(server_url: str, name: str, upstream_port: int) -> int:
    """A no-toxic proxy on an ephemeral loopback port to ``upstream_port``; its port."""
    body = json.dumps({"name": name, "listen": "127.0.0.1:0", "upstream": f"127.0.0.1:{upstream_port}"})
    request = urllib.request.Request(f"{server_url}/proxies", data=body.encode(), method="POST")
    with urllib.request.urlopen(request) as response:
        return int(json.loads(response.read())["listen"].rsplit(":", 1)[1])


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bulk-mb", type=int, default=1000,
                        help="MB per bulk transfer (smaller is too short to time reliably)")
    parser.add_argument("--round-trips", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--upstream", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--server-arg", action="append", default=[], help="extra flag for the server")
    parser.add_argument("--no-splice", action="store_true",
                        help=f"run the server with {ENV_DISABLE}=1 (plain asyncio path, for A/B runs)")
    parser.add_argument("--server-binary", metavar="PATH", default=None,
                        help="measure this Toxiproxy-compatible binary (e.g. a real "
                             "toxiproxy-server) instead of the embedded server")
    args = parser.parse_args(argv)
    if args.server_binary and not os.access(args.server_binary, os.X_OK):
        parser.error(f"--server-binary {args.server_binary}: not an executable file")
    if args.server_binary and args.no_splice:
        parser.error("--no-splice is a switch of the embedded server; not with --server-binary")
    bulk = args.bulk_mb * MB
    if args.upstream:
        asyncio.run(_upstream(bulk))
        return 0

    if args.no_splice:
        os.environ[ENV_DISABLE] = "1"  # inherited by the server subprocess only
    with upstream_process(args.bulk_mb) as (upstream_pid, direct):
        server_started = start_binary(args.server_binary, extra_args=args.server_arg) \
            if args.server_binary else start_subprocess(port=0, extra_args=args.server_arg)
        with server_started as server:
            proxied = {name: create_proxy(server.url, name, port) for name, port in direct.items()}
            assert server.pid is not None
            load_before = os.getloadavg()
            rows = run_all(args, bulk, direct, proxied, server.pid, upstream_pid)
            load_after = os.getloadavg()
    print_report(rows, args)
    print(f"load average (1/5/15 min) before: {' '.join(f'{x:.2f}' for x in load_before)}, "
          f"after: {' '.join(f'{x:.2f}' for x in load_after)}")
    return 0


def own_cpu_seconds() -> float:
    """User + system CPU time of this (client) process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_all(args: argparse.Namespace, bulk: int, direct: dict[str, int], proxied: dict[str, int],
            server_pid: int, upstream_pid: int) -> list[Row]:
    """Every measurement; CPU of all three processes is kept apart for direct and proxied runs:
    on two cores the hop's throughput is bounded by their sum, not by the proxy alone."""
    rows = []
    cpu_used = 0.0
    ends = {"direct": [0.0, 0.0], "proxied": [0.0, 0.0]}  # client, upstream CPU seconds in bulk runs

    def timed(kind: str, measure: Callable[[int], float], port: int) -> float:
        client, upstream = own_cpu_seconds(), cpu_seconds(upstream_pid)
        result = measure(port)
        ends[kind][0] += own_cpu_seconds() - client
        ends[kind][1] += cpu_seconds(upstream_pid) - upstream
        return result

    bulk_runs: list[tuple[str, Callable[[int], float], str]] = [
        ("bulk downstream (server→client)", bulk_down, "source"),
        ("bulk upstream (client→server)", lambda port: bulk_up(port, bulk), "sink"),
    ]
    for name, measure, key in bulk_runs:
        plain: list[float] = []
        via: list[float] = []
        for _ in range(args.repeat):
            plain.append(timed("direct", measure, direct[key]))
            before = cpu_seconds(server_pid)
            via.append(timed("proxied", measure, proxied[key]))
            cpu_used += cpu_seconds(server_pid) - before
        rows.append(Row(name, statistics.median(plain), statistics.median(via), "MB/s",
                        statistics.median(v / d for d, v in zip(plain, via, strict=True))))
    forwarded_gb = 2 * args.repeat * (bulk - bulk % 262144) / 1e9
    rows.append(Row("proxy CPU per GB forwarded (bulk runs)", 0.0, cpu_used / forwarded_gb, "s/GB"))
    rows.append(Row("client process CPU per GB (bulk runs)", ends["direct"][0] / forwarded_gb,
                    ends["proxied"][0] / forwarded_gb, "s/GB"))
    rows.append(Row("upstream process CPU per GB (bulk runs)", ends["direct"][1] / forwarded_gb,
                    ends["proxied"][1] / forwarded_gb, "s/GB"))
    direct_rtt: list[list[float]] = []
    proxied_rtt: list[list[float]] = []
    rtt_cpu = 0.0
    for _ in range(args.repeat):
        direct_rtt.append(round_trips(direct["echo"], args.round_trips))
        before = cpu_seconds(server_pid)
        proxied_rtt.append(round_trips(proxied["echo"], args.round_trips))
        rtt_cpu += cpu_seconds(server_pid) - before
    rows.append(Row("proxy CPU per 64 B round trip", 0.0,
                    rtt_cpu * 1e6 / (args.repeat * (args.round_trips + 50)), "µs"))
    for label, fraction in (("p50", 0.5), ("p99", 0.99)):
        rows.append(Row(f"64 B round trip {label}",
                        statistics.median(percentile(s, fraction) for s in direct_rtt),
                        statistics.median(percentile(s, fraction) for s in proxied_rtt), "ms"))
    conc = [(concurrent(direct["echo"], args.connections), concurrent(proxied["echo"], args.connections))
            for _ in range(args.repeat)]
    conc_direct, conc_proxied = [d for d, _ in conc], [p for _, p in conc]
    rows.append(Row(f"{args.connections} concurrent conns: echoed (min of runs)",
                    min(ok for ok, _ in conc_direct), min(ok for ok, _ in conc_proxied), "conns"))
    rows.append(Row(f"{args.connections} concurrent conns: wall time",
                    statistics.median(t for _, t in conc_direct),
                    statistics.median(t for _, t in conc_proxied), "s"))
    return rows


def print_report(rows: list[Row], args: argparse.Namespace) -> None:
    print(f"machine: {platform.machine()} {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, "
          f"Python {platform.python_version()}; medians of {args.repeat} runs; bulk {args.bulk_mb} MB; "
          f"server flags: {' '.join(args.server_arg) or '(none)'}; "
          + (f"server: {args.server_binary}" if args.server_binary else
             f"server: embedded; data path: "
             f"{'plain asyncio' if args.no_splice else 'splice(2) when available'}"))
    print(f"{'measurement':45} {'direct':>10} {'via proxy':>10} {'ratio/diff':>12}  unit")
    for row in rows:
        if row.unit == "ms":
            extra = f"+{row.proxied - row.direct:.3f}"
        elif row.unit == "conns":
            extra = "all ok" if row.proxied == args.connections else "FAILURES"
        elif row.ratio is not None:
            extra = f"{row.ratio:.2f}x"
        else:
            extra = f"{row.proxied / row.direct:.2f}x" if row.direct else "-"
        print(f"{row.name:45} {row.direct:10.3f} {row.proxied:10.3f} {extra:>12}  {row.unit}")


if __name__ == "__main__":
    sys.exit(main())
