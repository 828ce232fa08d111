"""Solar Hijri (Jalali) periods, with the ``jdatetime`` library."""

from datetime import timedelta

from .translate import _lt

_QUARTER_NAMES = ("Q1", "Q2", "Q3", "Q4")
# Solar Hijri month names as Iranian calendars print them (in Latin script;
# the Persian translation gives the Persian names).
MONTH_NAMES = (
    _lt("Farvardin"),
    _lt("Ordibehesht"),
    _lt("Khordad"),
    _lt("Tir"),
    _lt("Mordad"),
    _lt("Shahrivar"),
    _lt("Mehr"),
    _lt("Aban"),
    _lt("Azar"),
    _lt("Dey"),
    _lt("Bahman"),
    _lt("Esfand"),
)


def _jdate():
    try:
        import jdatetime
    except ImportError as exc:  # pragma: no cover - dependency declared in manifest
        raise ImportError(
            "The Solar Hijri calendar needs the Python package 'jdatetime'."
        ) from exc
    return jdatetime.date


def jalali_period_start(granularity, day):
    jdate = _jdate()
    if granularity == "week":
        # Iranian weeks start on Saturday.
        return day - timedelta(days=(day.weekday() + 2) % 7)
    j = jdate.fromgregorian(date=day)
    if granularity == "month":
        return jdate(j.year, j.month, 1).togregorian()
    if granularity == "quarter":
        return jdate(j.year, 3 * ((j.month - 1) // 3) + 1, 1).togregorian()
    if granularity == "year":
        return jdate(j.year, 1, 1).togregorian()
    raise ValueError(granularity)


def jalali_shift(granularity, start, count):
    jdate = _jdate()
    if granularity == "week":
        return start + timedelta(weeks=count)
    months = {"month": 1, "quarter": 3, "year": 12}[granularity] * count
    j = jdate.fromgregorian(date=start)
    index = j.year * 12 + (j.month - 1) + months
    return jdate(index // 12, index % 12 + 1, 1).togregorian()


def jalali_label(granularity, start, translate=None):
    """``Mehr 1405``, ``1405 Q3``, ``1405``; a week by its first day
    (``1405/07/05``). ``translate`` turns the month name into the reader's
    language (stored labels keep the Latin name)."""
    j = _jdate().fromgregorian(date=start)
    if granularity == "week":
        return f"{j.year}/{j.month:02d}/{j.day:02d}"
    if granularity == "month":
        name = MONTH_NAMES[j.month - 1]
        return f"{translate(name) if translate else name} {j.year}"
    if granularity == "quarter":
        return f"{j.year} {_QUARTER_NAMES[(j.month - 1) // 3]}"
    return str(j.year)
