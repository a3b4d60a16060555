"""Crashcart's locustfile: ``locust -f load/locustfile.py --host http://127.0.0.1:8080``.

Opens the web UI with the storefront journeys (``load.journeys.Shopper``). Options added
here (also in the UI's custom parameters where it makes sense):

* ``--shape ramp|step|spike|soak|capacity``: run that load shape (``load.shapes``); without
  it, a plain run with ``-u``/``-r``. In the UI, ``--class-picker`` lists the shapes too.
* ``--slo-file PATH``: the SLO gates (default ``load/slo.toml``), judged when the run ends;
  in a headless run the exit code is 0 (gates held), 1 (a gate breached) or 3 (invalid: the
  generator passed 90 % CPU). ``--no-gates`` keeps Locust's own exit code.
* ``--step-users N``, ``--step-seconds S``: the capacity shape's plateaus.
"""

from __future__ import annotations

import logging
from typing import Any

from locust import events
from locust.env import Environment
from locust.runners import WorkerRunner

from load.gates import evaluate, generator_saturated, load_gates
from load.journeys import Shopper
from load.samples import whole_run
from load.shapes import SHAPES, CapacityShape, RampShape, SoakShape, SpikeShape, StepShape

__all__ = ["CapacityShape", "RampShape", "Shopper", "SoakShape", "SpikeShape", "StepShape"]
logger = logging.getLogger("crashcart.load")


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    parser.add_argument("--shape", choices=sorted(SHAPES), default=None,
                       help="load shape to run (default: none, plain -u/-r)")
    parser.add_argument("--slo-file", default="", include_in_web_ui=True,
                       help="SLO gates TOML (default load/slo.toml)")
    parser.add_argument("--no-gates", action="store_true", default=False,
                       help="do not judge the run with the SLO gates")
    parser.add_argument("--step-users", type=int, default=4, include_in_web_ui=True,
                       help="capacity shape: users added per plateau")
    parser.add_argument("--step-seconds", type=float, default=15.0, include_in_web_ui=True,
                       help="capacity shape: length of a plateau")


@events.init.add_listener
def _select_shape(environment: Environment, **_: Any) -> None:
    """Locust runs the first shape class it finds; here ``--shape`` decides (or none)."""
    options = environment.parsed_options
    if options is None or isinstance(environment.runner, WorkerRunner):
        return
    wanted = SHAPES[options.shape] if options.shape else None
    available = environment.available_shape_classes or {}
    environment.shape_class = next(
        (shape for shape in available.values() if type(shape) is wanted), None)
    if environment.shape_class is not None:
        environment.shape_class.runner = environment.runner


@events.quitting.add_listener
def _judge(environment: Environment, **_: Any) -> None:
    """Judge the run with the gates; the verdict becomes the exit code (master or local)."""
    options = environment.parsed_options
    runner = environment.runner
    if runner is None or isinstance(runner, WorkerRunner) or getattr(options, "no_gates", False):
        return
    if isinstance(environment.shape_class, CapacityShape):
        logger.info("capacity search:\n%s", environment.shape_class.summary())
    gates = load_gates(getattr(options, "slo_file", "") or None)
    report = evaluate(gates, whole_run(runner.stats), cpu_saturated=generator_saturated(runner))
    logger.info("\n%s", report.table())
    environment.process_exit_code = report.exit_code
