"""Public payment API (`/api/v1/payments`): the caller's payments only."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from svckit.auth import CallerDep
from svckit.problems import problem_responses
from svckit.types import MAX_ID, Amount, text_int

router = APIRouter(tags=["payments"])


class Payment(BaseModel):
    id: int
    order_id: int
    amount: Amount
    currency: str
    status: Literal["APPROVED", "DECLINED"]
    created_at: datetime


class PaymentList(BaseModel):
    items: list[Payment]


@router.get(
    "/api/v1/payments", response_model=PaymentList, operation_id="listPayments",
    summary="The caller's payments, optionally for one order",
    responses=problem_responses(401, 422, 503),
)
async def list_payments(
    caller: CallerDep,
    request: Request,
    order_id: Annotated[text_int(1, MAX_ID) | None, Query()] = None,
) -> PaymentList:
    sql = ("SELECT id, order_id, amount, currency, status, created_at FROM payments"
           " WHERE user_id = $1")
    args: list[int] = [caller.user_id]
    if order_id is not None:
        sql += " AND order_id = $2"
        args.append(order_id)
    rows = await request.app.state.pool.fetch(sql + " ORDER BY id LIMIT 1000", *args)
    return PaymentList(items=[
        Payment(id=r["id"], order_id=r["order_id"], amount=f"{r['amount']:.2f}",
                currency=r["currency"], status=r["status"], created_at=r["created_at"])
        for r in rows])
