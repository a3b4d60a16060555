"""Drift checks: the pacts against what the providers declare.

* every HTTP interaction against its provider's *served* OpenAPI document: the path matches
  a declared path template, the method is declared there, the status is a declared response,
  the request body and the response body validate against the declared schemas (jsonschema,
  Draft 2020-12, the dialect of OpenAPI 3.1). Objects are validated *closed*
  (``additionalProperties: false`` added to every declared object): a field the consumer
  expects but the provider never declared is drift, even though the provider might send it;
* every message interaction against ``contracts/asyncapi.yaml``: its routing key is a
  channel, its example payload validates against that channel's message schema.

A finding is one line naming the pact, the interaction and what is wrong.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from chaos.topology import Topology
from contracts.pactkit import CONTRACTS_DIR, SERVICE_OF, pact_files

ASYNCAPI_PATH = CONTRACTS_DIR / "asyncapi.yaml"
_BASE = "urn:crashcart:doc"


@dataclass(frozen=True, slots=True)
class Finding:
    check: str
    """``openapi`` or ``asyncapi``."""
    pact: str
    description: str
    problems: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.problems

    def line(self) -> str:
        head = f"{'PASS' if self.passed else 'FAIL'} drift/{self.check} {self.pact}: " \
               f"{self.description}"
        return head + "".join(f"\n      {p}" for p in self.problems)


# ---- schema plumbing ----------------------------------------------------------------------
def closed(document: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """A copy where every object schema with declared properties rejects undeclared ones.

    ``partial``: also drop ``required`` — a consumer's expected response names only the
    fields it reads (Pact's rule), so a missing field is not drift; an undeclared one is.
    """
    doc = copy.deepcopy(dict(document))

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "properties" in node and "additionalProperties" not in node:
                node["additionalProperties"] = False
            if partial and isinstance(node.get("required"), list):
                del node["required"]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    return doc


def _pointer(*parts: str) -> str:
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


class SchemaValidator:
    """Validates instances against schemas at JSON pointers inside one document."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        resource = Resource.from_contents(dict(document), default_specification=DRAFT202012)
        self.registry: Registry[Any] = Registry().with_resource(_BASE, resource)

    def errors(self, pointer: str, instance: Any) -> list[str]:
        validator = Draft202012Validator({"$ref": f"{_BASE}#{pointer}"}, registry=self.registry)
        return [f"{'$' + ''.join(f'[{p!r}]' if isinstance(p, int) else f'.{p}' for p in e.absolute_path)}: "
                f"{e.message}" for e in validator.iter_errors(instance)]


# ---- OpenAPI --------------------------------------------------------------------------------
def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    body = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(f"^{body}$")


def _media(content: Mapping[str, Any], content_type: str | None) -> tuple[str, Any] | None:
    if not content:
        return None
    wanted = (content_type or "application/json").split(";")[0].strip()
    if wanted in content:
        return wanted, content[wanted]
    return None


def _headers(part: Mapping[str, Any]) -> dict[str, str]:
    return {k.lower(): (v[0] if isinstance(v, list) else v)
            for k, v in (part.get("headers") or {}).items()}


def check_http_interaction(document: Mapping[str, Any], requests: SchemaValidator,
                           responses: SchemaValidator, interaction: Mapping[str, Any]
                           ) -> list[str]:
    """Problems of one pact interaction against the (closed) OpenAPI document."""
    request, response = interaction["request"], interaction["response"]
    method, path = str(request["method"]).lower(), str(request["path"])
    matches = [t for t in document.get("paths", {}) if _template_regex(t).match(path)]
    if not matches:
        return [f"{request['method']} {path}: no such path in the provider's OpenAPI"]
    template = matches[0]
    operation = document["paths"][template].get(method)
    if operation is None:
        return [f"{request['method']} {template}: method not declared"]
    problems: list[str] = []
    declared_query = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}
    for name in (request.get("query") or {}):
        if name not in declared_query:
            problems.append(f"query parameter {name!r} not declared for "
                            f"{request['method']} {template}")
    body = (request.get("body") or {}).get("content")
    if body is not None:
        declared = (operation.get("requestBody") or {}).get("content", {})
        media = _media(declared, _headers(request).get("content-type"))
        if media is None:
            problems.append("request body not declared")
        else:
            pointer = _pointer("paths", template, method, "requestBody", "content", media[0],
                               "schema")
            problems += [f"request body {e}" for e in requests.errors(pointer, body)]
    status = str(response.get("status", 200))
    declared_statuses = operation.get("responses", {})
    if status not in declared_statuses:
        return problems + [f"status {status} not declared for {request['method']} {template} "
                           f"(declared: {', '.join(sorted(declared_statuses))})"]
    content = (response.get("body") or {}).get("content")
    if content is not None:
        media = _media(declared_statuses[status].get("content", {}),
                       _headers(response).get("content-type")
                       or (response.get("body") or {}).get("contentType"))
        if media is None:
            problems.append(f"response {status}: content type not declared")
        else:
            pointer = _pointer("paths", template, method, "responses", status, "content",
                               media[0], "schema")
            problems += [f"response {status} body {e}"
                         for e in responses.errors(pointer, content)]
    return problems


def served_openapi(url: str) -> dict[str, Any]:
    answer = httpx.get(f"{url}/openapi.json", timeout=10)
    answer.raise_for_status()
    document: dict[str, Any] = answer.json()
    return document


def check_pacts_against_openapi(pacts: Path, documents: Mapping[str, Mapping[str, Any]]
                                ) -> list[Finding]:
    """``documents``: provider name -> its served OpenAPI document."""
    findings: list[Finding] = []
    for provider, document in documents.items():
        strict = closed(document)
        requests = SchemaValidator(strict)
        responses = SchemaValidator(closed(document, partial=True))
        for path in pact_files(pacts, provider):
            for interaction in _interactions(path, "Synchronous/HTTP"):
                problems = check_http_interaction(strict, requests, responses, interaction)
                findings.append(Finding("openapi", path.name, interaction["description"],
                                        tuple(problems)))
    return findings


# ---- AsyncAPI -------------------------------------------------------------------------------
def load_asyncapi(path: Path = ASYNCAPI_PATH) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text())
    return document


def channel_of(document: Mapping[str, Any], routing_key: str) -> str | None:
    """The channel key whose address is ``routing_key`` (AsyncAPI 3: channels.<id>.address)."""
    for key, channel in document.get("channels", {}).items():
        if channel.get("address") == routing_key:
            return str(key)
    return None


def payload_errors(document: Mapping[str, Any], validator: SchemaValidator, routing_key: str,
                   payload: Any) -> list[str]:
    channel = channel_of(document, routing_key)
    if channel is None:
        return [f"routing key {routing_key!r} is not a channel of contracts/asyncapi.yaml"]
    messages = document["channels"][channel].get("messages", {})
    if not messages:
        return [f"channel {channel} declares no message"]
    name = next(iter(messages))
    return [f"payload {e}" for e in validator.errors(
        _pointer("channels", channel, "messages", name, "payload"), payload)]


def check_pacts_against_asyncapi(pacts: Path, document: Mapping[str, Any] | None = None
                                 ) -> list[Finding]:
    strict = closed(document if document is not None else load_asyncapi(), partial=True)
    validator = SchemaValidator(strict)
    findings: list[Finding] = []
    for path in pact_files(pacts):
        for interaction in _interactions(path, "Asynchronous/Messages"):
            contents = interaction.get("contents") or {}
            payload = contents.get("content")
            if isinstance(payload, str):
                payload = json.loads(payload)
            routing_key = str((interaction.get("metadata") or {}).get("routing_key", ""))
            findings.append(Finding("asyncapi", path.name, interaction["description"], tuple(
                payload_errors(strict, validator, routing_key, payload))))
    return findings


def _interactions(path: Path, kind: str) -> Iterable[dict[str, Any]]:
    for interaction in json.loads(path.read_text()).get("interactions", []):
        if interaction.get("type") == kind:
            yield interaction


def run_drift_checks(pacts: Path, topology: Topology, urls: Mapping[str, str] | None = None
                     ) -> list[Finding]:
    """Both checks; ``urls`` (provider -> base URL) are where the OpenAPI documents are served
    (default: the topology's direct service URLs, i.e. a running platform)."""
    where = urls or {p: topology.service(s).url for p, s in SERVICE_OF.items()}
    documents = {provider: served_openapi(url) for provider, url in where.items()}
    return check_pacts_against_openapi(pacts, documents) + check_pacts_against_asyncapi(pacts)
