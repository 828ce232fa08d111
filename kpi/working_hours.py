"""Working hours between two moments, in a ``resource.calendar``.

One helper for tickets and leads: the calendar's own work intervals
(``resource.calendar._work_intervals_batch``: its attendances in its
timezone, minus its leaves, which are the public holidays and the company's
global leaves), read once for the whole span of a batch; every pair is then
answered by bisection over the cumulated intervals.
"""

from bisect import bisect_right
from datetime import timedelta

import pytz


def _naive_utc(moment):
    return moment.astimezone(pytz.utc).replace(tzinfo=None)


def working_hours_batch(calendar, pairs):
    """Working hours of ``calendar`` between each ``(start, end)`` pair of
    naive UTC datetimes; 0 for a pair without both ends or reversed."""
    result = [0.0] * len(pairs)
    valid = [(i, s, e) for i, (s, e) in enumerate(pairs) if s and e and e > s]
    if not valid or not calendar:
        return result
    lo = pytz.utc.localize(min(s for _i, s, _e in valid) - timedelta(days=1))
    hi = pytz.utc.localize(max(e for _i, _s, e in valid) + timedelta(days=1))
    # global leaves of the calendar's company only (a leave without company
    # is everyone's)
    leaves = [
        ("time_type", "=", "leave"),
        ("company_id", "in", [False, calendar.company_id.id]),
    ]
    intervals = calendar.sudo()._work_intervals_batch(lo, hi, domain=leaves)[False]
    spans = sorted(
        (_naive_utc(begin), _naive_utc(stop)) for begin, stop, _m in intervals
    )
    starts = [begin for begin, _stop in spans]
    cumulative = [0.0]
    for begin, stop in spans:
        cumulative.append(cumulative[-1] + (stop - begin).total_seconds())

    def upto(moment):
        index = bisect_right(starts, moment)
        if not index:
            return 0.0
        begin, stop = spans[index - 1]
        return cumulative[index - 1] + (min(stop, moment) - begin).total_seconds()

    for i, start, end in valid:
        result[i] = (upto(end) - upto(start)) / 3600.0
    return result
