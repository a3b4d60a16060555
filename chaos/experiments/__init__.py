"""Declarative chaos experiments: the model (dataclasses + YAML/JSON), the checkout
workload, the runner (rollbacks always run) and the JSON journal."""

from __future__ import annotations

from chaos.experiments.journal import Journal
from chaos.experiments.model import (
    Experiment,
    ExperimentError,
    Phase,
    Rollback,
    SteadyState,
    Workload,
    load_experiment,
)
from chaos.experiments.runner import RunResult, run_experiment

__all__ = ["Experiment", "ExperimentError", "Journal", "Phase", "Rollback", "RunResult",
           "SteadyState", "Workload", "load_experiment", "run_experiment"]
