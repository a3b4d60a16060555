"""Served OpenAPI documents against the committed, reviewed copies (contracts/openapi/).

The public API is a product decision: any difference between what a service serves and its
reviewed copy fails until the copy is updated on purpose (``crashcart contracts openapi
--update``). Each difference is classified for the reviewer: *breaking* (an existing client
can fail: an operation, response or field removed, a type changed, a new required input, a
tighter input rule) or *non-breaking* (additions, looser inputs, documentation).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from contracts.pactkit import CONTRACTS_DIR, SERVICE_OF

REVIEWED_DIR = CONTRACTS_DIR / "openapi"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
CONSTRAINTS = ("pattern", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
               "minLength", "maxLength", "minItems", "maxItems", "format")
Direction = Literal["request", "response"]


@dataclass(frozen=True, slots=True)
class Change:
    breaking: bool
    where: str
    what: str

    def line(self) -> str:
        return f"{'BREAKING' if self.breaking else 'non-breaking'}: {self.where}: {self.what}"


def reviewed_path(provider: str, folder: Path = REVIEWED_DIR) -> Path:
    return folder / f"{SERVICE_OF[provider]}-service.json"


def load_reviewed(provider: str, folder: Path = REVIEWED_DIR) -> dict[str, Any] | None:
    path = reviewed_path(provider, folder)
    return json.loads(path.read_text()) if path.is_file() else None


def write_reviewed(provider: str, document: Mapping[str, Any], folder: Path = REVIEWED_DIR
                   ) -> Path:
    path = reviewed_path(provider, folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    return path


def _resolve(doc: Mapping[str, Any], node: Any) -> Any:
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 20:
        target: Any = doc
        for part in str(node["$ref"]).lstrip("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node, seen = target, seen + 1
    return node


def _operations(doc: Mapping[str, Any]) -> dict[tuple[str, str], Any]:
    return {(path, method): op for path, item in doc.get("paths", {}).items()
            for method, op in item.items() if method in METHODS}


def _types(schema: Mapping[str, Any]) -> set[str]:
    declared = schema.get("type")
    found = set(declared if isinstance(declared, list) else [declared] if declared else [])
    for key in ("anyOf", "oneOf"):
        for option in schema.get(key, []):
            found |= _types(option) if isinstance(option, dict) else set()
    return found


def _schema_changes(old_doc: Mapping[str, Any], new_doc: Mapping[str, Any], old: Any, new: Any,
                    where: str, direction: Direction, depth: int = 0) -> Iterator[Change]:
    old, new = _resolve(old_doc, old), _resolve(new_doc, new)
    if not isinstance(old, dict) or not isinstance(new, dict) or depth > 12:
        return
    old_types, new_types = _types(old), _types(new)
    if old_types != new_types:
        yield Change(True, where, f"type {sorted(old_types)} -> {sorted(new_types)}")
        return
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    old_req, new_req = set(old.get("required", [])), set(new.get("required", []))
    for name in sorted(set(old_props) - set(new_props)):
        yield Change(True, f"{where}.{name}", "field removed")
    for name in sorted(set(new_props) - set(old_props)):
        newly_required = direction == "request" and name in new_req
        yield Change(newly_required, f"{where}.{name}",
                     "required field added" if newly_required else "field added")
    for name in sorted(set(old_props) & set(new_props)):
        yield from _schema_changes(old_doc, new_doc, old_props[name], new_props[name],
                                   f"{where}.{name}", direction, depth + 1)
    for name in sorted((new_req - old_req) & set(old_props)):
        yield Change(direction == "request", f"{where}.{name}", "now required")
    for name in sorted((old_req - new_req) & set(new_props)):
        yield Change(direction == "response", f"{where}.{name}", "no longer required")
    old_enum, new_enum = set(map(str, old.get("enum", []))), set(map(str, new.get("enum", [])))
    if old_enum != new_enum:
        removed, added = old_enum - new_enum, new_enum - old_enum
        breaking = bool(removed) if direction == "request" else bool(added)
        yield Change(breaking, where, f"enum -{sorted(removed)} +{sorted(added)}")
    for key in CONSTRAINTS:
        if old.get(key) != new.get(key):
            yield Change(direction == "request", where,
                         f"{key} {old.get(key)!r} -> {new.get(key)!r}")
    if "items" in old or "items" in new:
        yield from _schema_changes(old_doc, new_doc, old.get("items"), new.get("items"),
                                   f"{where}[]", direction, depth + 1)


def _media_schemas(container: Mapping[str, Any]) -> dict[str, Any]:
    return {media: body.get("schema") for media, body in container.get("content", {}).items()}


def compare(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """Every difference between a reviewed document ``old`` and a served one ``new``."""
    changes: list[Change] = []
    old_ops, new_ops = _operations(old), _operations(new)
    for path, method in sorted(set(old_ops) - set(new_ops)):
        changes.append(Change(True, f"{method.upper()} {path}", "operation removed"))
    for path, method in sorted(set(new_ops) - set(old_ops)):
        changes.append(Change(False, f"{method.upper()} {path}", "operation added"))
    for key in sorted(set(old_ops) & set(new_ops)):
        where = f"{key[1].upper()} {key[0]}"
        old_op, new_op = old_ops[key], new_ops[key]
        old_params = {(p["in"], p["name"]): p for p in map(lambda x: _resolve(old, x),
                                                             old_op.get("parameters", []))}
        new_params = {(p["in"], p["name"]): p for p in map(lambda x: _resolve(new, x),
                                                             new_op.get("parameters", []))}
        for loc, name in sorted(set(old_params) - set(new_params)):
            changes.append(Change(True, f"{where} {loc} {name}", "parameter removed"))
        for loc, name in sorted(set(new_params) - set(old_params)):
            required = bool(new_params[(loc, name)].get("required"))
            changes.append(Change(required, f"{where} {loc} {name}",
                                  "required parameter added" if required else "parameter added"))
        for pkey in sorted(set(old_params) & set(new_params)):
            changes += _schema_changes(old, new, old_params[pkey].get("schema"),
                                       new_params[pkey].get("schema"),
                                       f"{where} {pkey[0]} {pkey[1]}", "request")
        old_body = _media_schemas(_resolve(old, old_op.get("requestBody") or {}))
        new_body = _media_schemas(_resolve(new, new_op.get("requestBody") or {}))
        for media in sorted(set(old_body) & set(new_body)):
            changes += _schema_changes(old, new, old_body[media], new_body[media],
                                       f"{where} request", "request")
        for media in sorted(set(old_body) ^ set(new_body)):
            changes.append(Change(True, f"{where} request {media}", "request media type changed"))
        old_resp, new_resp = old_op.get("responses", {}), new_op.get("responses", {})
        for status in sorted(set(old_resp) - set(new_resp)):
            changes.append(Change(True, f"{where} {status}", "response removed"))
        for status in sorted(set(new_resp) - set(old_resp)):
            changes.append(Change(False, f"{where} {status}", "response added"))
        for status in sorted(set(old_resp) & set(new_resp)):
            old_media = _media_schemas(_resolve(old, old_resp[status]))
            new_media = _media_schemas(_resolve(new, new_resp[status]))
            for media in sorted(set(old_media) - set(new_media)):
                changes.append(Change(True, f"{where} {status} {media}", "media type removed"))
            for media in sorted(set(old_media) & set(new_media)):
                changes += _schema_changes(old, new, old_media[media], new_media[media],
                                           f"{where} {status}", "response")
    if not changes and _canonical(old) != _canonical(new):
        changes.append(Change(False, "document", "descriptions, titles or other "
                                                 f"documentation changed (first at "
                                                 f"{_first_difference(old, new)})"))
    return changes


def _first_difference(old: Any, new: Any, where: str = "$") -> str:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            if key not in old or key not in new or old[key] != new[key]:
                return _first_difference(old.get(key), new.get(key), f"{where}.{key}")
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for index, (a, b) in enumerate(zip(old, new, strict=True)):
            if a != b:
                return _first_difference(a, b, f"{where}[{index}]")
    return where


def _canonical(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, sort_keys=True)


def review(provider: str, served: Mapping[str, Any], folder: Path = REVIEWED_DIR
           ) -> list[Change]:
    """Differences of ``provider``'s served document from its reviewed copy (none: equal)."""
    reviewed = load_reviewed(provider, folder)
    if reviewed is None:
        return [Change(True, str(reviewed_path(provider, folder)),
                       "no reviewed copy committed (run crashcart contracts openapi --update)")]
    return compare(reviewed, served)
