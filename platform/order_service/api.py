"""Public order API (`/api/v1/orders...`) with Idempotency-Key on creation."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Header, Path, Query, Request, Response
from pydantic import BaseModel, Field
from svckit.auth import CallerDep
from svckit.outbox import collecting
from svckit.problems import Problem, problem_responses
from svckit.types import MAX_ID, Amount, Money, json_int, text_int

from order_service import repository
from order_service.dependencies import validate_and_price

router = APIRouter(tags=["orders"])

PaymentToken = Literal["tok_visa", "tok_chargeDeclined"]
OrderStatus = Literal["PENDING", "PAID", "PAYMENT_FAILED", "REJECTED"]
OrderId = Annotated[text_int(1, MAX_ID), Path()]


class OrderItemIn(BaseModel):
    product_id: json_int(1, MAX_ID)
    quantity: json_int(1, 100)


class OrderCreate(BaseModel):
    items: Annotated[list[OrderItemIn], Field(
        min_length=1, max_length=50, description="1 to 50 order lines")]
    payment_token: PaymentToken


class OrderItem(BaseModel):
    product_id: int
    quantity: int
    unit_price: Money


class Order(BaseModel):
    id: int
    user_id: int
    status: OrderStatus = Field(description=(
        "PENDING until the saga decides; then PAID, PAYMENT_FAILED (declined, or past the "
        "order deadline while holding stock: nothing charged, stock released) or REJECTED "
        "(not enough stock, or past the deadline before stock was reserved: nobody charged). "
        "Terminal states never change."))
    items: list[OrderItem]
    total: Amount
    currency: str
    created_at: datetime
    updated_at: datetime


class OrderPage(BaseModel):
    items: list[Order]
    total: int
    limit: int
    offset: int


def order_out(order: dict[str, Any]) -> Order:
    return Order(
        id=order["id"], user_id=order["user_id"], status=order["status"],
        items=[OrderItem(product_id=i["product_id"], quantity=i["quantity"],
                         unit_price=f"{i['unit_price']:.2f}") for i in order["items"]],
        total=f"{order['total']:.2f}", currency=order["currency"],
        created_at=order["created_at"], updated_at=order["updated_at"],
    )


def request_hash(body: OrderCreate) -> str:
    return hashlib.sha256(orjson.dumps(body.model_dump(), option=orjson.OPT_SORT_KEYS)).hexdigest()


def _replay(existing: dict[str, Any], digest: str, response: Response) -> Order:
    if existing["request_hash"] != digest:
        raise Problem(409, "This Idempotency-Key was already used with a different request body")
    response.status_code = 200
    return order_out(existing)


ORDER_SCHEMA = {"$ref": "#/components/schemas/Order"}
GET_ORDER_LINK = {"GetOrder": {"operationId": "getOrder",
                               "parameters": {"order_id": "$response.body#/id"}}}


@router.post(
    "/api/v1/orders", status_code=202, response_model=Order, operation_id="createOrder",
    summary="Place an order (the saga decides PAID, PAYMENT_FAILED or REJECTED)",
    description=(
        "Limits of an order: 1 to 50 lines (`items`), each a `product_id` of an existing"
        " product and a `quantity` of 1 to 100 (JSON integers; 1.0 is read as 1)."
        " `Idempotency-Key` is 1 to 64 characters. Prices and the"
        " total come from product-service, never from the request; fields the schema does not"
        " name (a price, a total, a status, a user id) are ignored. An order not decided"
        " within the order deadline (ORDER_DEADLINE_S, 60 s by default) ends REJECTED if no"
        " stock was reserved for it yet, PAYMENT_FAILED if stock was held but not charged (the"
        " stock is released), and PAID if the card had already been charged; nobody is ever"
        " charged for an order that does not end PAID."),
    responses={
        202: {"description": "Accepted: the order is PENDING", "links": GET_ORDER_LINK},
        200: {"description": "Repeat of an earlier request with the same Idempotency-Key",
              "content": {"application/json": {"schema": ORDER_SCHEMA}}},
        **problem_responses(400, 401, 404, 409, 422, 503, 504),
    },
)
async def create_order(
    body: OrderCreate,
    caller: CallerDep,
    request: Request,
    response: Response,
    idempotency_key: Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=64)],
) -> Order:
    pool = request.app.state.pool
    digest = request_hash(body)
    existing = await repository.order_by_key(pool, caller.user_id, idempotency_key)
    if existing is not None:
        return _replay(existing, digest, response)
    clients = request.app.state.clients
    prices = await validate_and_price(clients["user"], clients["product"], caller.user_id,
                                      [item.product_id for item in body.items])
    unknown = sorted({item.product_id for item in body.items if prices[item.product_id] is None})
    if unknown:
        # 404 (a referenced resource is missing), not 422: the request itself is valid.
        raise Problem(404, f"Unknown product(s): {', '.join(map(str, unknown))}")
    currencies = {prices[item.product_id][1] for item in body.items}  # type: ignore[index]
    if len(currencies) != 1:
        raise Problem(422, "Products are priced in different currencies",
                      errors=[{"loc": ["body", "items"], "msg": "mixed currencies"}])
    lines = [repository.PricedLine(item.product_id, item.quantity,
                                   prices[item.product_id][0])  # type: ignore[index]
             for item in body.items]
    try:
        with collecting() as fresh:
            order = await repository.create_order(
                pool, user_id=caller.user_id, key=idempotency_key, request_hash=digest,
                lines=lines, currency=currencies.pop(), payment_token=body.payment_token)
    except repository.KeyTaken:
        existing = await repository.order_by_key(pool, caller.user_id, idempotency_key)
        if existing is None:  # pragma: no cover - the row that collided cannot vanish
            raise Problem(409, "Concurrent request with this Idempotency-Key") from None
        return _replay(existing, digest, response)
    request.app.state.relay.hand_over(fresh)  # committed: published without a read-back
    return order_out(order)


@router.get(
    "/api/v1/orders/{order_id}", response_model=Order, operation_id="getOrder",
    summary="One of the caller's orders", responses=problem_responses(401, 404, 422, 503),
)
async def get_order(order_id: OrderId, caller: CallerDep, request: Request) -> Order:
    order = await repository.order_for_user(request.app.state.pool, order_id, caller.user_id)
    if order is None:
        raise Problem(404, "No such order")
    return order_out(order)


@router.get(
    "/api/v1/orders", response_model=OrderPage, operation_id="listOrders",
    summary="The caller's orders, newest first", responses=problem_responses(401, 422, 503),
)
async def list_orders(
    caller: CallerDep,
    request: Request,
    limit: Annotated[text_int(1, 100), Query()] = 20,
    offset: Annotated[text_int(0, MAX_ID), Query()] = 0,
) -> OrderPage:
    orders, total = await repository.orders_for_user(request.app.state.pool, caller.user_id,
                                                     limit, offset)
    return OrderPage(items=[order_out(o) for o in orders], total=total, limit=limit, offset=offset)
