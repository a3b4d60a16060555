"""One OpenAPI document for the whole storefront, with links across the services.

Each service documents itself, so Schemathesis' stateful phase can only chain calls within
one service. The checkout crosses them: register (user) → log in (user) → place an order
(order) → read it (order) → its payments (payment), and an order line names a product
(product). This module merges the four public documents (what the gateway routes; the
`internal` tag left out) and adds the links between them, so a stateful run through the
gateway walks the checkout. Identities come from the WFC file (tokens fetched at run time).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from suites.fuzz.targets import GATEWAY_HIDDEN_TAGS

#: operationId -> status -> {link name: link}. Runtime expressions per OpenAPI 3.1 §4.8.20.
CROSS_SERVICE_LINKS: dict[str, dict[str, dict[str, Any]]] = {
    # The credentials as one body, not merged field by field into a generated one
    # (Schemathesis' default, `merge_body`): each field would be taken with its own coin toss,
    # so a login rarely got both the email and the password of the account just registered.
    "registerUser": {"201": {
        "LogIn": {"operationId": "login",
                  "requestBody": {"email": "$request.body#/email",
                                  "password": "$request.body#/password"},
                  "x-schemathesis": {"merge_body": False},
                  "description": "log in with the credentials just registered"},
    }},
    "createOrder": {"202": {
        "PaymentsOfOrder": {"operationId": "listPayments",
                            "parameters": {"order_id": "$response.body#/id"}},
        "ProductOfFirstLine": {"operationId": "getProduct",
                               "parameters": {"product_id": "$response.body#/items/0/product_id"}},
    }},
    "getOrder": {"200": {
        "PaymentsOfOrder": {"operationId": "listPayments",
                            "parameters": {"order_id": "$response.body#/id"}},
    }},
}


def _public(operation: dict[str, Any]) -> bool:
    return not GATEWAY_HIDDEN_TAGS & set(operation.get("tags", []))


def merge_documents(documents: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The public operations of every service in one document, plus the cross-service links."""
    merged: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "Crashcart storefront (all services, through the gateway)",
                 "version": "1.0.0"},
        "paths": {}, "components": {"schemas": {}, "securitySchemes": {}},
    }
    schemas = merged["components"]["schemas"]
    for service, document in documents.items():
        for name, schema in document.get("components", {}).get("schemas", {}).items():
            if name in schemas and schemas[name] != schema:
                raise ValueError(f"schema {name!r} of {service} differs from another service's")
            schemas[name] = schema
        merged["components"]["securitySchemes"].update(
            document.get("components", {}).get("securitySchemes", {}))
        for path, item in document.get("paths", {}).items():
            public = {m: op for m, op in item.items() if isinstance(op, dict) and _public(op)}
            if public:
                merged["paths"].setdefault(path, {}).update(public)
    by_id = {op["operationId"]: op for item in merged["paths"].values()
             for op in item.values() if "operationId" in op}
    for operation_id, answers in CROSS_SERVICE_LINKS.items():
        for status, links in answers.items():
            response = by_id[operation_id]["responses"][status]
            response.setdefault("links", {}).update(links)
    return merged


def write_storefront_document(service_urls: dict[str, str], path: Path) -> Path:
    documents = {name: httpx.get(f"{url.rstrip('/')}/openapi.json", timeout=10.0)
                 .raise_for_status().json() for name, url in service_urls.items()}
    path.write_text(json.dumps(merge_documents(documents), indent=1), encoding="utf-8")
    return path
