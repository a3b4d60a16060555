"""Benchmark: the embedded server's bulk hop beside the cheapest hop there is.

``python -m chaos.toxiproxy.splice_floor`` compiles ``splice_floor.c`` (a blocking
``splice(2)`` forwarder in C: no API, no toxics, two kernel-side copies' worth of work and
nothing else) and measures bulk downstream and upstream three ways, alternated on the same
upstream process as ``chaos.toxiproxy.benchmark``: direct, through the C forwarder, and
through the embedded server. On a machine where the C forwarder itself stays well below
direct, the gap is the hop's kernel work and the third process competing for the cores,
not the server's code. Not a test; needs a C compiler (``cc``) and Linux.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .benchmark import MB, bulk_down, bulk_up, cpu_seconds, create_proxy, upstream_process
from .runner import start_subprocess

SOURCE = Path(__file__).with_suffix(".c")
HOPS = ("direct", "C splice forwarder", "embedded server")


def compile_forwarder(out_dir: Path) -> Path:
    """Build the C forwarder; a missing compiler is a clear error, not a traceback."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise SystemExit("splice_floor: no C compiler (cc or gcc) on PATH")
    binary = out_dir / "splice_floor"
    subprocess.run([compiler, "-O2", "-pthread", "-o", str(binary), str(SOURCE)], check=True)
    return binary


@contextmanager
def forwarder(binary: Path, upstream_port: int) -> Iterator[tuple[int, int]]:
    """A running forwarder to ``upstream_port``: (its listen port, its pid); stopped on exit."""
    process = subprocess.Popen([str(binary), str(upstream_port)], stdout=subprocess.PIPE)
    try:
        assert process.stdout is not None
        yield int(process.stdout.readline()), process.pid
    finally:
        process.terminate()
        process.wait(5)


def measure(repeat: int, bulk: int, ports: dict[str, dict[str, int]],
            pids: dict[str, dict[str, int]]) -> dict[str, dict[str, list[float]]]:
    """MB/s per direction and hop, and the hop process's CPU s per GB; direct runs between."""
    transfers: dict[str, tuple[str, Callable[[int], float]]] = {
        "downstream": ("source", bulk_down),
        "upstream": ("sink", lambda port: bulk_up(port, bulk)),
    }
    results: dict[str, dict[str, list[float]]] = {
        f"{direction} {kind}": {hop: [] for hop in HOPS}
        for direction in transfers for kind in ("MB/s", "CPU s/GB")}
    for direction, (upstream, transfer) in transfers.items():
        for _ in range(repeat):
            for hop in (HOPS[0], HOPS[1], HOPS[0], HOPS[2]):
                pid = pids[hop].get(upstream)
                before = cpu_seconds(pid) if pid else 0.0
                results[f"{direction} MB/s"][hop].append(transfer(ports[hop][upstream]))
                if pid:
                    used = cpu_seconds(pid) - before
                    results[f"{direction} CPU s/GB"][hop].append(used / (bulk / 1e9))
    return results


def report(results: dict[str, dict[str, list[float]]]) -> None:
    print(f"{'measurement':26} " + " ".join(f"{hop:>20}" for hop in HOPS))
    for name, by_hop in results.items():
        medians = [statistics.median(v) if v else None for v in by_hop.values()]
        cells = [f"{m:20.3f}" if m is not None else f"{'-':>20}" for m in medians]
        print(f"{name:26} " + " ".join(cells))
        if name.endswith("MB/s") and medians[0]:
            ratios = [f"{(m or 0) / medians[0]:19.2f}x" for m in medians]
            print(f"{'  ratio to direct':26} " + " ".join(ratios))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bulk-mb", type=int, default=1000, help="MB per transfer")
    parser.add_argument("--repeat", type=int, default=5, help="rounds per direction")
    args = parser.parse_args(argv)
    if args.bulk_mb < 1 or args.repeat < 1:
        parser.error("--bulk-mb and --repeat must be at least 1")
    if not sys.platform.startswith("linux"):
        parser.error("splice(2) is Linux only")
    bulk = args.bulk_mb * MB
    with upstream_process(args.bulk_mb) as (_pid, direct), \
            tempfile.TemporaryDirectory() as build_dir, \
            forwarder(binary := compile_forwarder(Path(build_dir)), direct["source"]) as c_source, \
            forwarder(binary, direct["sink"]) as c_sink, start_subprocess(port=0) as server:
        assert server.pid is not None
        ports = {HOPS[0]: {"source": direct["source"], "sink": direct["sink"]},
                 HOPS[1]: {"source": c_source[0], "sink": c_sink[0]},
                 HOPS[2]: {name: create_proxy(server.url, name, direct[name])
                           for name in ("source", "sink")}}
        pids = {HOPS[0]: {}, HOPS[1]: {"source": c_source[1], "sink": c_sink[1]},
                HOPS[2]: {"source": server.pid, "sink": server.pid}}
        load_before = os.getloadavg()
        results = measure(args.repeat, bulk, ports, pids)
    print(f"medians of {args.repeat} rounds, {args.bulk_mb} MB per transfer, "
          f"{os.cpu_count()} CPUs; load average before {load_before[0]:.2f}, "
          f"after {os.getloadavg()[0]:.2f}")
    report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
