"""The admin API's operations on proxies and toxics, with Toxiproxy's rules and messages.

HTTP-free on purpose: ``app.py`` maps requests to these methods and :class:`ApiError`
to error responses. All methods run on the server's event loop; a lock serialises
mutations like Go's collection mutex.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from . import addresses
from .gojson import Field, GoDecodeError, Struct, first_value, is_object, kind_of
from .metrics import Metrics
from .proxy import STREAMS, Proxy, ToxicEntry
from .toxics import REGISTRY

log = logging.getLogger("chaos.toxiproxy")

PROXY_FIELDS = Struct(
    "Proxy",
    (Field("name", "string"), Field("listen", "string"), Field("upstream", "string"), Field("enabled", "bool")),
)
TOXIC_FIELDS = Struct(
    "ToxicWrapper",
    (
        Field("name", "string"),
        Field("type", "string"),
        Field("stream", "string"),
        Field("toxicity", "float32"),
        Field("attributes", "into"),
    ),
)
TOXIC_UPDATE_FIELDS = Struct("ToxicWrapper", (Field("attributes", "into"), Field("toxicity", "float32")))


class ApiError(Exception):
    """An API failure: Go's message and HTTP status (``extra`` adds body fields, e.g. ``proxies``)."""

    def __init__(self, message: str, status: int, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.extra = extra or {}


def bad_body(error: Exception) -> ApiError:
    return ApiError(f"bad request body: {error}", 400)


def _decode(struct: Struct, body: bytes) -> dict[str, Any]:
    try:
        return struct.decode(first_value(body))
    except GoDecodeError as exc:
        raise bad_body(exc) from None


class ProxyCollection:
    def __init__(self, *, seed: int, metrics: Metrics | None = None) -> None:
        self.seed = seed
        self.metrics = metrics
        self.proxies: dict[str, Proxy] = {}
        self.lock = asyncio.Lock()

    # -- proxies ---------------------------------------------------------
    def get(self, name: str) -> Proxy:
        proxy = self.proxies.get(name)
        if proxy is None:
            raise ApiError("proxy not found", 404)
        return proxy

    def list_json(self) -> dict[str, Any]:
        return {name: self.proxies[name].to_json() for name in sorted(self.proxies)}

    async def create(self, body: bytes) -> Proxy:
        fields = _decode(PROXY_FIELDS, body)
        _require(fields, "")
        async with self.lock:
            if fields["name"] in self.proxies:
                raise ApiError("proxy already exists", 409)
            proxy = await self._new_proxy(fields)
            self.proxies[proxy.name] = proxy
            return proxy

    async def _new_proxy(self, fields: dict[str, Any]) -> Proxy:
        proxy = Proxy(
            name=fields["name"], listen=fields.get("listen", ""), upstream=fields["upstream"],
            seed=self.seed, metrics=self.metrics,
        )
        if fields.get("enabled", True):
            await _start(proxy)
        return proxy

    async def update(self, name: str, body: bytes) -> Proxy:
        proxy = self.get(name)
        fields = _decode(PROXY_FIELDS, body)
        async with self.lock:
            listen = fields.get("listen", proxy.listen)
            upstream = fields.get("upstream", proxy.upstream)
            enabled = fields.get("enabled", proxy.enabled)
            if await _differs(listen, proxy.listen, strict=True) or upstream != proxy.upstream:
                if enabled:
                    await _restart(proxy, listen, upstream)
                    return proxy
                proxy.stop()
                proxy.listen, proxy.upstream = listen, upstream
            if enabled and not proxy.enabled:
                await _start(proxy)
            elif not enabled and proxy.enabled:
                proxy.stop()
            return proxy

    async def delete(self, name: str) -> None:
        async with self.lock:
            proxy = self.get(name)
            proxy.stop()
            del self.proxies[name]

    async def populate(self, body: bytes) -> list[Proxy] | None:
        try:
            value = first_value(body)
            if value is not None and (not isinstance(value, list) or is_object(value)):
                raise GoDecodeError(
                    f"json: cannot unmarshal {kind_of(value)} into Go value of type []toxiproxy.Proxy"
                )
            entries = [PROXY_FIELDS.decode(item) for item in value or []]
        except GoDecodeError as exc:
            raise ApiError(f"bad request body: {exc}", 400, {"proxies": None}) from None
        for index, fields in enumerate(entries, start=1):
            _require(fields, f" at proxy {index}", extra={"proxies": None})
        done: list[Proxy] = []
        async with self.lock:
            for fields in entries:
                try:
                    done.append(await self._add_or_replace(fields))
                except ApiError as exc:
                    exc.extra = {"proxies": [p.to_json() for p in done] or None}
                    raise
        return done or None

    async def _add_or_replace(self, fields: dict[str, Any]) -> Proxy:
        existing = self.proxies.get(fields["name"])
        if existing is not None:
            if fields["upstream"] == existing.upstream and not await _differs(
                fields.get("listen", ""), existing.listen
            ):
                return existing
            existing.stop()
            del self.proxies[existing.name]
        proxy = await self._new_proxy(fields)
        self.proxies[proxy.name] = proxy
        return proxy

    async def reset(self) -> None:
        async with self.lock:
            for proxy in list(self.proxies.values()):
                if not proxy.enabled:
                    await _start(proxy)
                proxy.remove_all_toxics()

    async def reseed(self, seed: int) -> None:
        """Embedded-only: decisions from now on use ``seed``, connections numbered afresh.

        A decision's RNG is ``Random("<seed>/<proxy>/<toxic>/<connection ordinal>/<stream>")``;
        the live connections of each proxy are renumbered 0..k-1 in the order they were
        accepted and the next one gets k, so a run that replays the same traffic after a
        reseed meets the same decisions whatever came before it.
        """
        async with self.lock:
            self.seed = seed
            for proxy in self.proxies.values():
                proxy.seed = seed
                live = sorted(proxy.connections, key=lambda connection: connection.index)
                for ordinal, connection in enumerate(live):
                    connection.index = ordinal
                proxy._accepted = len(live)  # the ordinal the next connection gets

    def stop_all(self) -> None:
        for proxy in self.proxies.values():
            proxy.stop()

    # -- toxics ----------------------------------------------------------
    def get_toxic(self, proxy_name: str, toxic_name: str) -> ToxicEntry:
        entry = self.get(proxy_name).find_toxic(toxic_name)
        if entry is None:
            raise ApiError("toxic not found", 404)
        return entry

    async def add_toxic(self, proxy_name: str, body: bytes) -> ToxicEntry:
        proxy = self.get(proxy_name)
        fields = _decode(TOXIC_FIELDS, body)
        stream = fields.get("stream", "downstream")
        direction = stream.lower()
        if direction not in STREAMS:
            raise ApiError("stream was invalid, can be either upstream or downstream", 400)
        toxic_type = fields.get("type", "")
        name = fields.get("name") or f"{toxic_type}_{stream}"
        toxic_class = REGISTRY.get(toxic_type)
        if toxic_class is None:
            raise ApiError("invalid toxic type", 400)
        async with self.lock:
            if proxy.find_toxic(name) is not None:
                raise ApiError("toxic already exists", 409)
            toxic = toxic_class()
            _apply_attributes(toxic, fields.get("attributes"))
            entry = ToxicEntry(
                name=name, type=toxic_type, stream=stream, direction=direction,
                toxicity=fields.get("toxicity", 1.0), toxic=toxic,
            )
            proxy.add_toxic(entry)
            return entry

    async def update_toxic(self, proxy_name: str, toxic_name: str, body: bytes) -> ToxicEntry:
        entry = self.get_toxic(proxy_name, toxic_name)
        fields = _decode(TOXIC_UPDATE_FIELDS, body)
        async with self.lock:
            merged = type(entry.toxic)(**entry.toxic.attributes())
            _apply_attributes(merged, fields.get("attributes"))
            entry.toxic.update(merged.attributes())
            entry.toxicity = fields.get("toxicity", entry.toxicity)
            self.get(proxy_name).update_toxic(entry)
            return entry

    async def remove_toxic(self, proxy_name: str, toxic_name: str) -> None:
        async with self.lock:
            entry = self.get_toxic(proxy_name, toxic_name)
            self.get(proxy_name).remove_toxic(entry)


def _require(fields: dict[str, Any], where: str, extra: dict[str, Any] | None = None) -> None:
    for name in ("name", "upstream"):
        if not fields.get(name):
            raise ApiError(f"missing required field: {name}{where}", 400, extra)


def _apply_attributes(toxic: Any, occurrences: list[Any] | None) -> None:
    """Decode every ``attributes`` occurrence into ``toxic`` in order, as Go does."""
    for raw in occurrences or []:
        if raw is None:
            break  # Go: null sets the interface{} to nil; later objects fill a throwaway map
        try:
            values = toxic.schema().decode(raw)
        except GoDecodeError as exc:
            raise bad_body(exc) from None
        toxic.update(values)
    problem = toxic.problem()
    if problem is not None:
        raise ApiError(f"bad request body: {problem}", 400)


async def _start(proxy: Proxy) -> None:
    try:
        await proxy.start()
    except addresses.ListenError as exc:
        raise ApiError(str(exc), 500) from None
    except OSError as exc:
        raise ApiError(str(exc), 500) from None


async def _restart(proxy: Proxy, listen: str, upstream: str) -> None:
    """Move an update's proxy to a new listen address/upstream, or leave it exactly as it was.

    Go stops the proxy first and leaves it stopped when the new address cannot be bound;
    here a failed update changes nothing (old listener, toxics and connections stay).
    """
    try:
        await proxy.restart(listen, upstream)
    except (addresses.ListenError, OSError) as exc:
        raise ApiError(str(exc), 500) from None


async def _differs(new_listen: str, current: str, *, strict: bool = False) -> bool:
    """Go 2.12 compares listen addresses after resolving hostnames.

    With ``strict`` (proxy update), an unresolvable new address is an error with the
    message of Go's ``net.ResolveTCPAddr`` (no ``listen tcp:`` prefix), as Go's
    ``Proxy.Differs`` fails before anything is stopped.
    """
    if new_listen == current:
        return False
    try:
        new_text = await addresses.resolved_text(new_listen)
    except addresses.ListenError as exc:
        if strict:
            raise ApiError(str(exc).removeprefix("listen tcp: "), 500) from None
        return True
    try:
        return new_text != await addresses.resolved_text(current)
    except addresses.ListenError:
        return True
