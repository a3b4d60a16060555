"""Two platform instances benchmarked alternately (A B, B A, ...): medians and ratios.

On a shared machine a before/after comparison is only fair when both sides run in the same
minutes, so this runs ``platform_bench`` (checkouts only by default) against instance A and
instance B in alternating order, keeps each run's full output, and prints the median of the
headline figures per side, B/A of the medians and the median of the per-round B/A (the
figure to quote when the machine's speed drifts during the run). Two instances can differ
by themselves (seen here: ~8 % in every component): for a claim, run again with the
instances swapped. Each instance is named by its environment (port offset, state dir,
database suffix, vhost), as ``crashcart up`` was started with:

    python -m load.benchmarks.side_by_side --a 6500:/tmp/cc-pb:_pb:crashcart_pb \\
        --b 6000:/tmp/cc-pf:_pf:crashcart_pf --rounds 3 -- --skip-reads --checkouts 300
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

FIGURES: dict[str, str] = {
    "checkouts/s": r"\*\*completed checkouts/s\*\* \| \*\*([\d.]+)\*\*",
    "POST p50 ms (client)": r"POST /orders \(accepted\) p50 / p99 ms \| ([\d.]+) /",
    "POST mean ms inside order-service": r"\| inside order-service \| ([\d.]+) \|",
    "saga p50 ms (server)": r"saga, created_at -> updated_at p50 / p99 ms \| ([\d.]+) /",
    "accept -> PAID p50 ms": r"accept -> PAID seen by the buyer p50 / p99 ms \| ([\d.]+) /",
    "platform CPU ms per checkout": r"\*\*platform total\*\* \| \*\*([\d.]+)\*\*",
    "RabbitMQ CPU ms per checkout": r"RabbitMQ \(shared\) ([\d.]+) ms",
    "machine CPU ms per checkout": r"machine \(everything\) ([\d.]+) ms",
}


def instance_env(spec: str) -> dict[str, str]:
    """``offset:state_dir:db_suffix:vhost`` -> the CRASHCART_* environment of an instance."""
    try:
        offset, state, suffix, vhost = spec.split(":")
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected offset:state_dir:db_suffix:vhost, got {spec!r}") from None
    return {"CRASHCART_PORT_OFFSET": offset, "CRASHCART_STATE_DIR": state,
            "CRASHCART_DATABASE_SUFFIX": suffix, "CRASHCART_RABBITMQ_VHOST": vhost}


READ_TABLE = re.compile(r"^\| target \(concurrency (\d+)\) \| req/s \| p50 ms \|", re.M)
READ_ROW = re.compile(r"^\| ([^|]+?) \| ([\d.]+) \| ([\d.]+) \|")


def figures(output: str) -> dict[str, float]:
    """The headline figures of one platform_bench output: the checkout's, then per read-path
    table (one per concurrency) each target's req/s and p50."""
    found = {}
    for name, pattern in FIGURES.items():
        match = re.search(pattern, output)
        if match:
            found[name] = float(match.group(1))
    for table in READ_TABLE.finditer(output):
        concurrency = table.group(1)
        for line in output[table.end():].splitlines()[1:]:
            if line.startswith("|---"):
                continue
            row = READ_ROW.match(line)
            if row is None:
                break
            target = row.group(1)
            found[f"reads c={concurrency} {target} req/s"] = float(row.group(2))
            found[f"reads c={concurrency} {target} p50 ms"] = float(row.group(3))
    return found


Round = dict[str, dict[str, float]]
"""One round's figures per side ("A", "B"); a side whose benchmark failed is missing."""


def summary(rounds: list[Round]) -> str:
    """Median of each figure per side, B/A of those medians, and the median (with its range)
    of the per-round B/A. Within a round A and B ran back to back, so a per-round ratio is
    not moved by a drift of the machine's speed across the rounds (seen here: the same
    commit went from 48 to 78 checkouts/s in ten minutes); the ratio of medians is."""
    lines = ["| figure | A (median) | B (median) | B/A of medians | B/A per round: median (range) |",
             "|---|---:|---:|---:|---:|"]
    names = dict.fromkeys(name for r in rounds for side in r.values() for name in side)
    for name in names:
        a = [r["A"][name] for r in rounds if name in r.get("A", {})]
        b = [r["B"][name] for r in rounds if name in r.get("B", {})]
        if not a or not b:
            continue
        ma, mb = statistics.median(a), statistics.median(b)
        pairs = [r["B"][name] / r["A"][name] for r in rounds
                 if name in r.get("A", {}) and name in r.get("B", {}) and r["A"][name]]
        of_medians = f"{mb / ma:.2f}" if ma else "-"
        per_round = (f"{statistics.median(pairs):.2f} ({min(pairs):.2f}-{max(pairs):.2f})"
                     if pairs else "-")
        lines.append(f"| {name} | {ma:g} | {mb:g} | {of_medians} | {per_round} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--a", type=instance_env, required=True, help="the 'before' instance")
    parser.add_argument("--b", type=instance_env, required=True, help="the 'after' instance")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("/tmp/side-by-side"),
                        help="directory for each run's full output")
    parser.add_argument("bench_args", nargs="*", default=["--skip-reads"],
                        help="arguments for platform_bench (after --)")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    args.out.mkdir(parents=True, exist_ok=True)
    rounds: list[Round] = []
    for index in range(args.rounds):
        rounds.append({})
        for side in ("A", "B") if index % 2 == 0 else ("B", "A"):
            env = {**os.environ, **(args.a if side == "A" else args.b)}
            load = os.getloadavg()[0]
            run = subprocess.run(
                [sys.executable, "-m", "load.benchmarks.platform_bench", *args.bench_args],
                env=env, capture_output=True, text=True, timeout=900, check=False)
            text = run.stdout + run.stderr
            saved = args.out / f"{side}-{index + 1}.txt"
            saved.write_text(text, encoding="utf-8")
            if run.returncode != 0:
                print(f"round {index + 1} {side}: platform_bench failed (exit "
                      f"{run.returncode}); its output is in {saved}", flush=True)
                continue
            found = figures(text)
            rounds[-1][side] = found
            print(f"round {index + 1} {side}: load {load:.1f}  "
                  + "  ".join(f"{k} {v:g}" for k, v in found.items()), flush=True)
    print("\n" + summary(rounds))
    print(f"(full outputs in {args.out}; loadavg at end {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
