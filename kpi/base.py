"""What the engine and the KPI families (``crm.kpi.family.*`` models)
exchange: the period context, the results and the helpers to store them.

A family computes all its KPIs for one period and one company, for every
scope at once, in a handful of grouped queries.  It returns, per scope key and
KPI code, a :class:`Result` (numerator, denominator, value or the reason why
there is no value).  The engine stores them; it never knows a formula.
"""

import json
import math
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from odoo.fields import Domain
from odoo.tools import SQL

from . import period as P
from .translate import _lt

COMPANY = ("company", None)


@dataclass
class Result:
    """``ratio``: the value is ``numerator / denominator`` times the KPI's
    factor of the catalogue, set by the engine (:func:`ratio`)."""

    value: float | None
    numerator: float | None = None
    denominator: float | None = None
    note: str | None = None
    ratio: bool = False

    def resolved(self, factor):
        """The value of this result for a KPI of ``factor``."""
        if self.ratio:
            return self.numerator / self.denominator * factor
        return self.value


def count(n):
    """A plain count or amount: numerator = value, no denominator."""
    return Result(float(n or 0), float(n or 0), None)


def ratio(num, den, note=None):
    """``num / den`` times the KPI's factor (the catalogue's, applied by the
    engine); no value (n/a) when the denominator is empty."""
    num = float(num or 0)
    if not den:
        return Result(None, num, float(den or 0), note or _lt("no data in the period"))
    return Result(None, num, float(den), ratio=True)


def na(note):
    return Result(None, None, None, note)


@dataclass
class PeriodContext:
    """One period of one company, and everything a family needs to know."""

    env: object
    company: object
    granularity: str
    date_start: object
    date_end: object
    calendar: str = "gregorian"
    tz: str = "UTC"
    extra: dict = field(default_factory=dict)
    # the contexts of the other connections reading the period at the same
    # time, on the same snapshot (crm.kpi.read.source._kpi_lanes)
    lanes: list = field(default_factory=list)

    @property
    def start_utc(self):
        return P.to_utc(self.date_start, self.tz)

    @property
    def end_utc(self):
        return P.to_utc(self.date_end, self.tz)

    def utc(self, day):
        return P.to_utc(day, self.tz)

    @property
    def days(self):
        return (self.date_end - self.date_start).days

    def shifted(self, count=-1, granularity=None):
        """The context of another period (previous one by default)."""
        granularity = granularity or self.granularity
        start = P.shift_period(granularity, self.date_start, count, self.calendar)
        return self.with_bounds(start, P.period_end(granularity, start, self.calendar))

    def cache_key(self, name):
        """Key of ``ctx.extra`` under which a figure ``name`` computed once
        per period and company is shared by the families."""
        return (name, self.company.id, self.granularity, self.date_start, self.date_end)

    def with_bounds(self, start, end):
        return PeriodContext(
            self.env,
            self.company,
            self.granularity,
            start,
            end,
            self.calendar,
            self.tz,
            self.extra,
        )

    @property
    def window_days(self):
        """The activity window W: the company setting, stretched to the
        period's length when the period is longer (a year of 366 days)."""
        return max(self.company.kpi_activity_window_days or 365, self.days)

    def window_start(self, day):
        return day - timedelta(days=self.window_days)

    def local_date_sql(self, column):
        """SQL turning a naive UTC datetime column into the company's local date."""
        return SQL("((%s AT TIME ZONE 'UTC') AT TIME ZONE %s)::date", column, self.tz)

    def period_domain(self, fname):
        return Domain(fname, ">=", self.start_utc) & Domain(fname, "<", self.end_utc)


# settings of the heavy grouped queries of the families: enough memory for
# their sorts and hash aggregates not to spill to disk, and no JIT compilation
# (on these one-shot analytical queries it cost from 0.2 to 5 s of
# compilation for nothing saved: the planner's cost estimates of grouped
# CTEs are far above the real work); a tenth of the default cost of passing
# a row from a parallel worker to the leader: the planner counts one group
# per event in the per-customer aggregates (it cannot know that a million
# events make 200,000 customers), so it priced passing their partial groups
# so high that it read the whole history in one process (2.9 s against 2.4 s)
HEAVY_QUERY = {"work_mem": "64MB", "jit": "off", "parallel_tuple_cost": "0.01"}


def set_local(cr, settings):
    """Give the transaction of ``cr`` the ``settings`` (``{name: value}``) as
    ``SET LOCAL`` does, until its end or the rollback of the savepoint it is
    in, in one query; returns the values they replace (``set_local`` of
    them puts them back)."""
    names = sorted(settings)
    cr.execute(
        SQL(
            "SELECT %s",
            SQL(", ").join(
                SQL(
                    "current_setting(%s), set_config(%s, %s, TRUE)",
                    name,
                    name,
                    settings[name],
                )
                for name in names
            ),
        )
    )
    return dict(zip(names, cr.fetchone()[::2], strict=True))


def heavy_query_settings(ctx):
    """Give the heavy queries of the period ``ctx`` the settings
    :data:`HEAVY_QUERY`, once per period computation and connection (one
    query): as with ``SET LOCAL``, they last until the end of the
    transaction or the rollback of the savepoint the period is computed in
    (the cron and the backfill commit every period).  Not put back after
    each query: that would cost two more queries per heavy query."""
    key = ("heavy_query_settings", ctx.env.cr)
    if ctx.extra.get(key):
        return
    set_local(ctx.env.cr, HEAVY_QUERY)
    ctx.extra[key] = True


def shared(ctx, name, compute):
    """``compute()``: a figure of the period of ``ctx`` that several
    families read, computed once per period computation and kept in
    ``ctx.extra``.  The families of a period may run at the same time on
    several connections that see the same snapshot
    (``crm.kpi.read.source._kpi_lanes``): the first one to ask computes it,
    the others wait for it."""
    key = ctx.cache_key(name)
    if key in ctx.extra:
        return ctx.extra[key]
    # dict.setdefault is atomic: one lock per figure, whoever asks first
    lock = ctx.extra.setdefault(("lock", key), threading.Lock())
    with lock:
        if key not in ctx.extra:
            ctx.extra[key] = compute()
    return ctx.extra[key]


def fetch_heavy(ctx, query):
    """The rows, as dicts, of the heavy grouped ``SQL`` ``query`` run on the
    connection of ``ctx`` with the settings of :func:`heavy_query_settings`."""
    heavy_query_settings(ctx)
    ctx.env.cr.execute(query)
    return ctx.env.cr.dictfetchall()


def shared_rows(ctx, name, query):
    """:func:`shared` rows of a heavy grouped query: ``query()`` (an
    ``SQL``) run once per period computation (:func:`fetch_heavy`)."""
    return shared(ctx, name, lambda: fetch_heavy(ctx, query()))


def _json_value(value):
    """``value`` as JSON that PostgreSQL reads back into the column's type:
    dates and datetimes in ISO form, infinite and NaN floats as their
    PostgreSQL spelling (JSON has no such numbers)."""
    if isinstance(value, float) and not math.isfinite(value):
        if math.isnan(value):
            return "NaN"
        return "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return value


def upsert(
    cr,
    table,
    rows,
    conflict,
    keep=("create_uid", "create_date"),
    returning=("id",),
    only_changed=False,
):
    """Insert ``rows`` (dicts with the same keys) into ``table``; a row that
    conflicts on the ``conflict`` columns updates every other column but
    ``keep``.  Returns the ``returning`` columns of every row, in one query.

    ``only_changed``: a conflicting row is updated only when one of its
    columns other than ``write_uid`` and ``write_date`` changes (a period
    computed again mostly gives the same values: they are not written
    again), and only the rows inserted or updated are returned.

    The rows travel as one JSON parameter read back with the table's own row
    type (``jsonb_populate_recordset``): one placeholder per value made the
    driver quote 62,000 values for the 2,500 values of a month (0.2 s)."""
    columns = list(rows[0])
    updated = [c for c in columns if c not in conflict and c not in keep]
    data = json.dumps(
        [{c: _json_value(row[c]) for c in columns} for row in rows],
        separators=(",", ":"),
    )
    names = SQL(", ").join(SQL.identifier(c) for c in columns)
    compared = [c for c in updated if c not in ("write_uid", "write_date")]
    where = SQL()
    if only_changed and compared:
        where = SQL(
            " WHERE (%s) IS DISTINCT FROM (%s)",
            SQL(", ").join(
                SQL("%s.%s", SQL.identifier(table), SQL.identifier(c)) for c in compared
            ),
            SQL(", ").join(SQL("EXCLUDED.%s", SQL.identifier(c)) for c in compared),
        )
    cr.execute(
        SQL(
            "INSERT INTO %(table)s (%(names)s)"
            " SELECT %(names)s FROM jsonb_populate_recordset(NULL::%(table)s, %(data)s)"
            " ON CONFLICT (%(conflict)s) DO UPDATE SET %(updates)s%(where)s"
            " RETURNING %(returning)s",
            table=SQL.identifier(table),
            names=names,
            data=data,
            where=where,
            conflict=SQL(", ").join(SQL.identifier(c) for c in conflict),
            updates=SQL(", ").join(
                SQL("%s = EXCLUDED.%s", SQL.identifier(c), SQL.identifier(c))
                for c in updated
            ),
            returning=SQL(", ").join(SQL.identifier(c) for c in returning),
        )
    )
    return cr.fetchall()


def delete_stale(cr, table, ctx, kept_ids):
    """Delete the rows of ``table`` of the period and company of ``ctx``
    (columns granularity, date_start, company_id) that are not ``kept_ids``:
    what a recomputation of the period no longer produces."""
    cr.execute(
        SQL(
            """DELETE FROM %s
                WHERE granularity = %s AND date_start = %s AND company_id = %s
                  AND NOT (id = ANY(%s))""",
            SQL.identifier(table),
            ctx.granularity,
            ctx.date_start,
            ctx.company.id,
            list(kept_ids),
        )
    )
