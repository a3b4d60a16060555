"""Remove whatever any run left: recorded faults, stray toxics and disabled proxies, paused
or dead components. Used by ``crashcart heal`` and experiments' rollbacks."""

from __future__ import annotations

from dataclasses import dataclass, field

from chaos.faults.base import FaultContext
from chaos.faults.ledger import Ledger, undo_record


@dataclass(slots=True)
class HealReport:
    undone: list[str] = field(default_factory=list)
    mesh_reset: bool = False
    components: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.errors


def heal_everything(ctx: FaultContext, *, mesh: bool = True, processes: bool = True) -> HealReport:
    """Undo every ledger record (any owner), reset the mesh, resume/start components."""
    report = HealReport()
    with Ledger(ctx.state_dir).locked() as records:
        for record in list(records):
            try:
                undo_record(record)
                report.undone.append(record.description)
            except Exception as exc:
                report.errors.append(f"{record.description}: {exc!r}")
            records.remove(record)
    if mesh:
        try:
            ctx.admin.reset()
            report.mesh_reset = True
        except Exception as exc:
            report.errors.append(f"mesh reset at {ctx.toxiproxy_url}: {exc!r}")
    if processes and ctx.backend.state.load() is not None:
        try:
            report.components = ctx.backend.heal()
        except Exception as exc:
            report.errors.append(f"process heal: {exc!r}")
    return report
