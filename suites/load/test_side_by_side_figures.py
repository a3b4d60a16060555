"""The side-by-side tool reads every headline figure of a benchmark output: the checkout's
and, per read-path table, each target's req/s and p50 (a read-only comparison used to end
in an empty table)."""
from __future__ import annotations

from load.benchmarks.side_by_side import figures, summary

OUTPUT = """machine: nproc=2
read path: GET /api/v1/products/1, 5 interleaved rounds x 2000 requests per target, concurrency 1

| target (concurrency 1) | req/s | p50 ms | p99 ms | errors | client CPU % |
|---|---:|---:|---:|---:|---:|
| gateway + mesh | 890 | 1.03 | 1.87 | 0 | 27 |
| direct | 1119 | 0.80 | 1.66 | 0 | 30 |

inside the services during this phase (all targets together):
| service | request | status | requests | mean ms inside the service |
| product | GET /api/v1/products/{product_id} | 200 | 20000 | 0.61 |

| target (concurrency 16) | req/s | p50 ms | p99 ms | errors | client CPU % |
|---|---:|---:|---:|---:|---:|
| gateway + mesh | 2676 | 5.25 | 11.87 | 0 | 43 |

| checkout | value |
|---|---:|
| **completed checkouts/s** | **96.1** |
| POST /orders (accepted) p50 / p99 ms | 18 / 49 |
| **platform total** | **15.7** |
outside the platform's own processes, per checkout: RabbitMQ (shared) 1.9 ms, machine (everything) 19.8 ms
"""


def test_checkout_and_read_path_figures_are_all_read() -> None:
    assert figures(OUTPUT) == {
        "checkouts/s": 96.1,
        "POST p50 ms (client)": 18.0,
        "platform CPU ms per checkout": 15.7,
        "RabbitMQ CPU ms per checkout": 1.9,
        "machine CPU ms per checkout": 19.8,
        "reads c=1 gateway + mesh req/s": 890.0,
        "reads c=1 gateway + mesh p50 ms": 1.03,
        "reads c=1 direct req/s": 1119.0,
        "reads c=1 direct p50 ms": 0.80,
        "reads c=16 gateway + mesh req/s": 2676.0,
        "reads c=16 gateway + mesh p50 ms": 5.25,
    }


def test_an_output_without_figures_gives_none() -> None:
    assert figures("platform_bench: error: the gateway is not reachable\n") == {}


def test_the_per_round_ratio_is_not_moved_by_a_drift_across_rounds() -> None:
    # The machine speeds up round by round; B is 10 % faster than A within every round.
    rounds = [{"A": {"checkouts/s": a}, "B": {"checkouts/s": a * 1.1}} for a in (40, 60, 80)]
    rounds[1]["B"]["checkouts/s"] = 30.0 * 1.1  # a slow moment for B alone in round 2
    rounds.append({"B": {"checkouts/s": 200.0}})  # A failed in round 4: no pair
    row = next(line for line in summary(rounds).splitlines() if line.startswith("| checkouts/s"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[1] == "60"  # median of A
    assert cells[4] == "1.10 (0.55-1.10)"  # pairs: 1.1, 0.55, 1.1


def test_a_figure_only_one_side_reported_is_left_out() -> None:
    table = summary([{"A": {"checkouts/s": 50.0, "only A": 1.0}, "B": {"checkouts/s": 55.0}}])
    assert "only A" not in table
    assert "| checkouts/s | 50 | 55 | 1.10 | 1.10 (1.10-1.10) |" in table
