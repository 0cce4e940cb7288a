"""Parsing and rounding money: ``Decimal`` only, at the currency's minor unit."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any

from community.defaults import defaults_ensure
from community.models import Currency
from portal.api.errors import DomainError

MAX_AMOUNT = Decimal("1e15")


def minor_unit(currency: Currency) -> Decimal:
    return Decimal(1).scaleb(-currency.exponent)


def money_quantize(amount: Decimal, *, currency: Currency) -> Decimal:
    """Round towards zero to the currency's minor unit (used for display and sums)."""
    return amount.quantize(minor_unit(currency), rounding=ROUND_DOWN)


def money_parse(
    value: Any, *, currency: Currency, field: str = "amount", allow_zero: bool = False
) -> Decimal:
    """Turn user input into an exact positive amount, or raise a specific ``DomainError``."""
    if isinstance(value, float):
        raise DomainError(
            f"{field}: send amounts as strings, not floating-point numbers",
            code="invalid_amount",
            fields={field: ['send the amount as a string, e.g. "12.50"']},
        )
    if isinstance(value, bool) or value is None or (isinstance(value, str) and not value.strip()):
        raise DomainError(
            f"{field}: an amount is required",
            code="invalid_amount",
            fields={field: ["an amount is required"]},
        )
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise DomainError(
            f"{field}: {value!r} is not a number",
            code="invalid_amount",
            fields={field: ["not a number"]},
        ) from None
    if not amount.is_finite():
        raise DomainError(
            f"{field}: {value!r} is not a finite number",
            code="invalid_amount",
            fields={field: ["not a finite number"]},
        )
    if amount < 0:
        raise DomainError(
            f"{field}: amounts cannot be negative",
            code="negative_amount",
            fields={field: ["must not be negative"]},
        )
    if amount == 0 and not allow_zero:
        raise DomainError(
            f"{field}: the amount must be greater than zero",
            code="invalid_amount",
            fields={field: ["must be greater than zero"]},
        )
    exponent = amount.as_tuple().exponent
    assert isinstance(exponent, int)
    if -exponent > currency.exponent and amount != amount.quantize(minor_unit(currency)):
        raise DomainError(
            f"{field}: {currency.code} allows at most {currency.exponent} decimal places",
            code="too_many_decimals",
            fields={field: [f"at most {currency.exponent} decimal places for {currency.code}"]},
        )
    if amount >= MAX_AMOUNT:
        raise DomainError(
            f"{field}: amount too large",
            code="invalid_amount",
            fields={field: ["amount too large"]},
        )
    return amount.quantize(minor_unit(currency))


def currency_get(code: Any) -> Currency:
    """The currency with this code, or a 400 naming the known ones."""
    defaults_ensure()
    currency = Currency.objects.filter(code=str(code or "").upper()).first()
    if currency is None:
        known = ", ".join(Currency.objects.values_list("code", flat=True))
        raise DomainError(
            f"unknown currency {code!r} (known: {known})",
            code="unknown_currency",
            fields={"currency": ["unknown currency"]},
        )
    return currency
