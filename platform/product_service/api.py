"""Public catalog API (`/api/v1/products...`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator
from svckit.auth import AdminDep
from svckit.problems import Problem, problem_responses
from svckit.types import MAX_ID, Money, json_int, text, text_int

from product_service import repository

router = APIRouter(tags=["products"])

SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
MAX_STOCK = 1_000_000_000
Stock = json_int(0, MAX_STOCK)
StockDelta = json_int(-MAX_STOCK, MAX_STOCK)
ProductId = Annotated[text_int(1, MAX_ID), Path()]


class Product(BaseModel):
    id: int
    sku: str
    name: str
    description: str
    price: Money
    currency: str
    stock: int


class ProductPage(BaseModel):
    items: list[Product]
    total: int
    limit: int
    offset: int


class ProductCreate(BaseModel):
    sku: text(1, 64, SKU_PATTERN)
    name: text(1, 200)
    description: text(0, 2000) = ""
    price: Money
    stock: Stock


class ProductPatch(BaseModel):
    """Any subset of the fields; absent fields stay as they are (null is not allowed).

    `stock` sets the available units (absolute); `stock_delta` adds to them (relative, the
    safe way while orders reserve units) and may not leave less than 0 available (409).
    At most one of the two (declared in the schema too, so a generator sends only one)."""

    model_config = ConfigDict(json_schema_extra={"not": {"required": ["stock", "stock_delta"]}})

    name: text(1, 200) = Field(default=None)
    description: text(0, 2000) = Field(default=None)
    price: Money = Field(default=None)  # type: ignore[assignment]
    stock: Stock = Field(default=None)
    stock_delta: StockDelta = Field(
        default=None, description="Units to add to (or, negative, take from) the available "
        "stock; a result below 0 is refused with 409.")

    @model_validator(mode="after")
    def _one_stock_change(self) -> ProductPatch:
        if "stock" in self.model_fields_set and "stock_delta" in self.model_fields_set:
            raise ValueError("give either stock or stock_delta, not both")
        return self


def product_out(row: Any) -> Product:
    return Product(id=row["id"], sku=row["sku"], name=row["name"],
                   description=row["description"], price=f"{row['price']:.2f}",
                   currency=row["currency"], stock=row["stock"])


GET_PRODUCT_LINK = {"GetProduct": {"operationId": "getProduct",
                                   "parameters": {"product_id": "$response.body#/id"}}}


@router.get(
    "/api/v1/products", response_model=ProductPage, operation_id="listProducts",
    summary="List or search the catalog", responses=problem_responses(422, 503),
)
async def list_products(
    request: Request,
    limit: Annotated[text_int(1, 100), Query()] = 20,
    offset: Annotated[text_int(0, MAX_ID), Query()] = 0,
    q: Annotated[str | None, Query(max_length=100, pattern=r"^[^\x00]*$")] = None,
) -> ProductPage:
    rows, total = await repository.list_products(request.app.state.pool, limit, offset, q)
    return ProductPage(items=[product_out(r) for r in rows], total=total, limit=limit,
                       offset=offset)


@router.get(
    "/api/v1/products/{product_id}", response_model=Product, operation_id="getProduct",
    summary="One product", responses=problem_responses(404, 422, 503),
)
async def get_product(product_id: ProductId, request: Request) -> Product:
    row = await repository.get_product(request.app.state.pool, product_id)
    if row is None:
        raise Problem(404, "No such product")
    return product_out(row)


@router.post(
    "/api/v1/products", status_code=201, response_model=Product, operation_id="createProduct",
    summary="Add a product (admin)",
    responses={201: {"links": GET_PRODUCT_LINK}, **problem_responses(400, 401, 403, 409, 422, 503)},
)
async def create_product(body: ProductCreate, _: AdminDep, request: Request) -> Product:
    try:
        row = await repository.create_product(
            request.app.state.pool, body.sku, body.name, body.description,
            Decimal(body.price), body.stock,
        )
    except repository.DuplicateSku:
        raise Problem(409, f"SKU {body.sku} already exists") from None
    return product_out(row)


@router.patch(
    "/api/v1/products/{product_id}", response_model=Product, operation_id="updateProduct",
    summary="Change a product (admin)",
    description="Every stock change is applied under the product's row lock and recorded "
    "as an adjustment; `stock_delta` below the available stock is a 409.",
    responses=problem_responses(400, 401, 403, 404, 409, 422, 503),
)
async def update_product(product_id: ProductId, body: ProductPatch, _: AdminDep,
                         request: Request) -> Product:
    changes = body.model_dump(exclude_unset=True)
    if "price" in changes:
        changes["price"] = Decimal(changes["price"])
    try:
        row = await repository.update_product(request.app.state.pool, product_id, changes)
    except repository.StockBelowZero as short:
        raise Problem(409, f"Only {short.available} available: cannot take "
                           f"{-short.delta}") from None
    if row is None:
        raise Problem(404, "No such product")
    return product_out(row)
