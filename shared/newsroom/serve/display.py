"""How numbers and dates read on the page: prices, 24h changes, dates and reading times.

Rules (the reference page is the spec: "$68,420 +2.8%", "$142.80 -0.6%", "May 31, 2026",
"4 min read"):

- Prices are US dollars with thousands separators. From $1,000 up they show whole dollars; from
  $0.01 up to $1,000 two decimals; below $0.01 four significant digits, so a sub-cent coin never
  reads as "$0.00". The tier is chosen *after* rounding, so $999.999 reads "$1,000", not
  "$1,000.00", and $0.0099999 reads "$0.01".
- Rounding is half away from zero on the decimal the float was written as (`repr`), never on its
  binary expansion: 142.805 shows as "$142.81" even though the float is 142.80499999...
- A 24h change is signed with one decimal; anything that rounds to zero is "+0.0%" (never
  "-0.0%"), and an unknown or non-finite change renders as nothing.
- Dates are the UTC calendar date in English ("May 31, 2026") whatever the process locale.
- Reading time never reads "0 min read": the shortest piece is a one-minute read.
"""

from __future__ import annotations

import math
from datetime import datetime
from decimal import ROUND_HALF_UP, Context, Decimal

from newsroom.core.models import Price, utc

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

_WHOLE_DOLLARS_FROM = Decimal(1000)
_CENTS_FROM = Decimal("0.01")
_SMALL_PRICE_SIGNIFICANT_DIGITS = 4


def _decimal(value: float) -> Decimal:
    # str() of a float is the shortest text that reads back as the same float: the number the
    # provider sent, which is what a reader expects to see rounded.
    return Decimal(str(value))


def _round(value: Decimal, exponent: int) -> Decimal:
    # Enough precision for every digit kept, so an absurd provider value (1e40) still formats
    # instead of raising decimal.InvalidOperation under the default 28-digit context.
    precision = max(28, value.adjusted() - exponent + 2)
    return value.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_UP, context=Context(prec=precision))


def _round_significant(value: Decimal, digits: int) -> Decimal:
    return _round(value, value.adjusted() - (digits - 1))


def format_usd(price: float) -> str:
    """A dollar amount as the ticker shows it: "$68,420", "$142.80", "$0.0001234".

    Raises ValueError for NaN or infinity: a price we cannot show must be dropped upstream, not
    rendered as nonsense.
    """
    if not math.isfinite(price):
        raise ValueError(f"not a displayable price: {price!r}")
    amount = abs(_decimal(price))
    sign = "-" if price < 0 else ""

    # The tier comes from the unrounded amount; rounding may then carry it into the next tier up
    # (999.999 -> 1000.00 -> "$1,000"), never down.
    if amount >= _WHOLE_DOLLARS_FROM:
        return f"{sign}${_round(amount, 0):,.0f}"
    if amount >= _CENTS_FROM or amount == 0:
        cents = _round(amount, -2)
        if cents >= _WHOLE_DOLLARS_FROM:
            return f"{sign}${cents:,.0f}"
        return f"{sign}${cents:.2f}"
    small = _round_significant(amount, _SMALL_PRICE_SIGNIFICANT_DIGITS)
    if small >= _CENTS_FROM:
        return f"{sign}${small:.2f}"
    return f"{sign}${small:f}"


def format_change(pct: float | None) -> str:
    """A 24h change as "+2.8%" / "-0.6%" / "+0.0%"; "" when unknown."""
    if pct is None or not math.isfinite(pct):
        return ""
    rounded = _round(_decimal(pct), -1)
    if rounded == 0:
        return "+0.0%"
    sign = "+" if rounded > 0 else "-"
    return f"{sign}{abs(rounded):.1f}%"


def price_display(p: Price) -> str:
    """Price and change as one ticker cell: "$68,420 +2.8%" (just "$68,420" without a change)."""
    change = format_change(p.change_24h_pct)
    price = format_usd(p.price)
    return f"{price} {change}" if change else price


def format_date(d: datetime) -> str:
    """ "May 31, 2026": the UTC date, English month names regardless of locale."""
    moment = utc(d)
    return f"{_MONTHS[moment.month - 1]} {moment.day}, {moment.year}"


def format_reading_time(minutes: int) -> str:
    """ "4 min read"; anything under a minute still reads "1 min read"."""
    return f"{max(1, minutes)} min read"
