"""Period arithmetic: boundaries of weeks, months, quarters and years.

Boundaries are local dates of the company's timezone; the engine turns them
into naive UTC datetimes to compare with Odoo's datetime columns.  The
Gregorian calendar is the default; the Solar Hijri one is plugged in by
:mod:`calendars`.
"""

from datetime import date, datetime, time, timedelta

import pytz
from dateutil.relativedelta import relativedelta

GRANULARITIES = ("week", "month", "quarter", "year")
_MONTHS = {"month": 1, "quarter": 3, "year": 12}


def period_start(granularity, day, calendar="gregorian"):
    """First day of the period of ``granularity`` that contains ``day``."""
    if calendar == "jalali":
        from .calendars import jalali_period_start

        return jalali_period_start(granularity, day)
    if granularity == "week":
        return day - timedelta(days=day.weekday())
    if granularity == "month":
        return day.replace(day=1)
    if granularity == "quarter":
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    if granularity == "year":
        return date(day.year, 1, 1)
    raise ValueError(granularity)


def shift_period(granularity, start, count=1, calendar="gregorian"):
    """Start of the period ``count`` periods after the one starting at ``start``
    (negative ``count`` goes back)."""
    if calendar == "jalali":
        from .calendars import jalali_shift

        return jalali_shift(granularity, start, count)
    if granularity == "week":
        return start + timedelta(weeks=count)
    return start + relativedelta(months=_MONTHS[granularity] * count)


def period_end(granularity, start, calendar="gregorian"):
    """Exclusive end of the period starting at ``start``."""
    return shift_period(granularity, start, 1, calendar)


def period_label(granularity, start, calendar="gregorian", translate=None):
    """Label of a period; ``translate`` (e.g. ``env._``) gives Solar Hijri
    month names in the reader's language."""
    if calendar == "jalali":
        from .calendars import jalali_label

        return jalali_label(granularity, start, translate)
    if granularity == "week":
        iso = start.isocalendar()
        return f"{iso[0]}-W{iso[1]:02d}"
    if granularity == "month":
        return f"{start.year}-{start.month:02d}"
    if granularity == "quarter":
        return f"{start.year} Q{(start.month - 1) // 3 + 1}"
    return str(start.year)


def periods_between(granularity, first, last, calendar="gregorian"):
    """Starts of every period of ``granularity`` touching [first, last]."""
    start = period_start(granularity, first, calendar)
    result = []
    while start <= last:
        result.append(start)
        start = shift_period(granularity, start, 1, calendar)
    return result


def to_utc(day, tz_name):
    """Local midnight of ``day`` in ``tz_name`` as a naive UTC datetime."""
    tz = pytz.timezone(tz_name or "UTC")
    local = tz.localize(datetime.combine(day, time.min))
    return local.astimezone(pytz.utc).replace(tzinfo=None)
