"""What one load run shares between its users: the catalog it buys from.

Why: Locust users are created and stopped by the runner; the products a run buys must be the
same for all of them (and known to the business checks afterwards). The catalog is kept per
Environment, created once (the first user to need it, or the harness before the run starts).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from gevent.lock import Semaphore

from load.data import Catalog, prepare_catalog

if TYPE_CHECKING:
    from locust.env import Environment

_catalogs: WeakKeyDictionary[Environment, Catalog] = WeakKeyDictionary()
_lock = Semaphore()


def catalog_of(environment: Environment) -> Catalog:
    """This run's catalog, prepared through the gateway on first use."""
    with _lock:
        catalog = _catalogs.get(environment)
        if catalog is None:
            if not environment.host:
                raise RuntimeError("no host: run Locust with --host (the gateway URL)")
            catalog = _catalogs[environment] = prepare_catalog(environment.host)
        return catalog


def set_catalog(environment: Environment, catalog: Catalog) -> None:
    """Use a catalog prepared beforehand (the harness does it before users start)."""
    _catalogs[environment] = catalog
