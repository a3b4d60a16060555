"""The fault matrix (every edge × fault × checkout phase, plus process faults), seeded
replay of a journal, and shrinking a failing fault schedule to a minimal one."""

from __future__ import annotations

from chaos.matrix.cells import Cell, covering_matrix, full_matrix, select
from chaos.matrix.report import CellResult, ranked, table, wilson_interval
from chaos.matrix.run import run_cell, run_matrix

__all__ = ["Cell", "CellResult", "covering_matrix", "full_matrix", "ranked", "run_cell",
           "run_matrix", "select", "table", "wilson_interval"]
