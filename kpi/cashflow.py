"""Cash-flow arithmetic of the CRM investment KPIs (pure Python)."""

import calendar
import math

from dateutil.relativedelta import relativedelta

from .translate import _lt

# ---------------------------------------------------------------------------
# Cash-flow arithmetic (pure Python)
# ---------------------------------------------------------------------------


def npv(rate, flows):
    """Net present value of ``flows`` (flow t discounted by (1 + rate)^t)."""
    return math.fsum(f / (1.0 + rate) ** t for t, f in enumerate(flows))


# monthly rates scanned to bracket a root: from −95 % to +1000 % a month
_GRID = (
    -0.95,
    -0.9,
    -0.8,
    -0.7,
    -0.6,
    -0.5,
    -0.4,
    -0.3,
    -0.2,
    -0.15,
    -0.1,
    -0.07,
    -0.05,
    -0.03,
    -0.02,
    -0.01,
    -0.005,
    0.0,
    0.005,
    0.01,
    0.02,
    0.03,
    0.05,
    0.07,
    0.1,
    0.15,
    0.2,
    0.3,
    0.5,
    0.75,
    1.0,
    1.5,
    2.0,
    3.0,
    5.0,
    10.0,
)


def irr(flows, tol=1e-13, max_iter=500):
    """The periodic rate r > −1 with ``npv(r, flows) == 0``, or None.

    Returns ``(rate, reason)``: the rate, or None and why.  The NPV is
    evaluated on a grid of rates; among the brackets where it changes sign,
    the one nearest to 0 is refined by bisection (robust: it converges
    whatever the shape of the curve inside the bracket)."""
    if not (any(f > 0 for f in flows) and any(f < 0 for f in flows)):
        return None, _lt("the cash flows never change sign: no rate makes the NPV zero")
    values = []
    for rate in _GRID:
        try:
            values.append((rate, npv(rate, flows)))
        except (OverflowError, ZeroDivisionError):
            continue
    brackets = []
    for (a, fa), (b, fb) in zip(values, values[1:], strict=False):
        if fa == 0:
            return a, None
        if fa * fb < 0:
            brackets.append((min(abs(a), abs(b)), a, fa, b, fb))
    if values and values[-1][1] == 0:
        return values[-1][0], None
    if not brackets:
        return None, _lt("no rate between −95 % and +1000 % a month makes the NPV zero")
    _dist, a, fa, b, fb = min(brackets)
    for _i in range(max_iter):
        mid = (a + b) / 2.0
        fm = npv(mid, flows)
        if fm == 0 or (b - a) / 2.0 < tol:
            return mid, None
        if fa * fm < 0:
            b, fb = mid, fm
        else:
            a, fa = mid, fm
    return (a + b) / 2.0, None


def payback_months(benefits, costs):
    """Months until the cumulative benefit covers the cumulative cost, costs
    paid at the start of their month and benefits accruing evenly through
    it; None when not reached."""
    if not any(costs):
        return None
    cum_benefit = cum_cost = 0.0
    for t, (b, c) in enumerate(zip(benefits, costs, strict=False)):
        cum_cost += c
        deficit = cum_cost - cum_benefit
        if deficit <= 0:
            return float(t)
        if b > 0 and b >= deficit:
            return t + deficit / b
        cum_benefit += b
    return None


def annual_rate(monthly):
    return (1.0 + monthly) ** 12 - 1.0


def month_fraction(month_start, end):
    """Share of the month starting at ``month_start`` before ``end``."""
    days = calendar.monthrange(month_start.year, month_start.month)[1]
    next_month = month_start + relativedelta(months=1)
    if end >= next_month:
        return 1.0
    return (end - month_start).days / days


def period_months(start, end):
    """Length of ``[start, end)`` in months, partial months pro rata."""
    months = 0.0
    month = start.replace(day=1)
    while month < end:
        next_month = month + relativedelta(months=1)
        days = calendar.monthrange(month.year, month.month)[1]
        months += (min(end, next_month) - max(start, month)).days / days
        month = next_month
    return months
