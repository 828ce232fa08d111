"""The customers of a period: who was active at its start and end, new,
lost, known before, and their amounts, per company, sales team and
salesperson, from each customer's rows of first purchases
(``crm.kpi.customer.first``) and the events kept on them; and the sets of
customers behind these counts, for the drill-downs.
"""

from dateutil.relativedelta import relativedelta

from odoo.tools import SQL

from .base import fetch_heavy, shared
from .events import SCOPE_COLUMNS, bound, comparison_period, scope_filter

# counts of customers per scope, from rows of flags per customer and scope:
# (column, condition counted, or None for the sum of the events)
_CUSTOMER_COUNT_DEFS = (
    ("s", "act_s"),
    ("e", "act_e"),
    ("n", "is_new AND act_e"),
    ("l", "act_s AND NOT act_e"),
    ("r", "NOT is_new AND NOT act_s AND act_e"),
    ("known_before", "known_before"),
    ("renewed", "act_s AND events > 0"),
    ("buyers", "events > 0"),
    ("repeaters", "events >= 2"),
    ("events", None),
    ("y_s", "y_act_s"),
    ("y_l", "y_act_s AND NOT act_e"),
)
_CUSTOMER_COUNT_COLUMNS = tuple(column for column, __ in _CUSTOMER_COUNT_DEFS)


def _customer_counts(rows="TRUE"):
    """The count columns over the flag rows for which ``rows`` (a constant
    SQL condition) holds."""
    return SQL(", ").join(
        SQL(
            f"COALESCE(SUM(events) FILTER (WHERE {rows}), 0) AS {column}"
            if condition is None
            else f"COUNT(*) FILTER (WHERE ({condition}) AND {rows}) AS {column}"
        )
        for column, condition in _CUSTOMER_COUNT_DEFS
    )


def period_summary(ctx):
    """Per scope key (company, sales team, salesperson), the figures of the
    period that the customer, revenue and cost families count from the
    revenue events, computed once per period computation
    (:func:`~.base.shared`) in one query over each customer's rows of first events
    per sales team and salesperson (``crm.kpi.customer.first``), whose kept
    events and running totals tell whether he bought in each activity
    window and his amounts in each period (no document is read):

    - customers (a customer is counted once per scope): ``s`` active at the
      start (an event in the window W before it), ``e`` active at the end,
      ``n`` new (first event ever in the period), ``l`` lost, ``r``
      reactivated, ``known_before``, ``renewed``, ``buyers``, ``repeaters``;
      ``y_s`` and ``y_l``: active at the start of the trailing 12 months
      ending with the period, and of them lost at its end (for the CLV);
    - amounts: ``events``, ``revenue`` and ``margin`` of the period,
      ``new_revenue`` and ``new_margin`` (of the new customers),
      ``rev_old`` (customers known before the period), ``rev_old_prev``
      (previous period, customers known before it), ``y_revenue`` and
      ``y_margin`` (trailing 12 months), ``rev_qoq``, ``gp_qoq``,
      ``rev_yoy``, ``gp_yoy`` (comparison periods of
      :func:`comparison_period`);
    - ``recent``: the scope has events since the earliest of the period and
      its comparison periods.

    The flags and amounts are those of a (customer, sales team,
    salesperson) row; a customer with one such row (one team and one
    salesperson: the usual case) has the flags of that row in its company,
    team and salesperson scopes; the flags of the others follow per scope
    from their rows (a flag of a customer in a scope is true when it is true
    on one of its rows).
    ``is_new`` compares the customer's first event, of every scope, with the
    start."""
    return shared(ctx, "period_summary", lambda: _period_summary(ctx))


def _period_summary(ctx):
    refresh_firsts(ctx.env)
    start, end = ctx.date_start, ctx.date_end
    prev = ctx.shifted(-1).date_start
    year_start = end - relativedelta(years=1)
    qoq, yoy = comparison_period(ctx, "qoq"), comparison_period(ctx, "yoy")
    earliest = min(c.date_start for c in (ctx, qoq, yoy) if c)
    # every day whose position among a row's events is needed, once each
    days = {
        start,
        end,
        prev,
        year_start,
        earliest,
        ctx.window_start(start),
        ctx.window_start(end),
        ctx.window_start(year_start),
    }
    for period in (qoq, yoy):
        if period:
            days |= {period.date_start, period.date_end}
    names = {day: SQL.identifier(f"p{i}") for i, day in enumerate(sorted(days))}

    def events(day_from, day_to):
        """Number of a row's events in ``[day_from, day_to)``."""
        return SQL("(x.%s - x.%s)", names[day_to], names[day_from])

    def total(column, day_from, day_to):
        """Sum of a row's amounts (running totals ``column``) in the days;
        NULL without an event in them (most rows, for a month: their sums
        skip it instead of adding a zero, and the numeric arrays are not
        walked to their ends)."""
        return SQL(
            "(CASE WHEN x.%(to)s > x.%(fr)s"
            " THEN x.%(c)s[x.%(to)s] - COALESCE(x.%(c)s[x.%(fr)s], 0) END)",
            c=SQL.identifier(column),
            to=names[day_to],
            fr=names[day_from],
        )

    def within(period, column):
        if not period:
            return SQL("0")
        return total(column, period.date_start, period.date_end)

    # the rows of the first events up to the period's end: the positions of
    # the days among their events (two binary searches for a window), in a
    # subquery that parallel workers compute, then their flags and amounts
    def flagged_rows(which):
        return SQL(
            """(SELECT x.partner_id, x.team_id, x.user_id, x.first_at,
                       %(act_s)s > 0 AS act_s,
                       %(act_e)s > 0 AS act_e,
                       x.first_at < %(start_at)s AS known_before,
                       %(y_act_s)s > 0 AS y_act_s,
                       %(events)s AS events,
                       %(revenue)s AS revenue,
                       %(margin)s AS margin,
                       %(revenue_prev)s AS revenue_prev,
                       %(y_revenue)s AS y_revenue,
                       %(y_margin)s AS y_margin,
                       %(rev_qoq)s AS rev_qoq,
                       %(gp_qoq)s AS gp_qoq,
                       %(rev_yoy)s AS rev_yoy,
                       %(gp_yoy)s AS gp_yoy,
                       %(recent)s > 0 AS recent
                  FROM (SELECT fs.partner_id, fs.team_id, fs.user_id, fs.first_at,
                               fs.event_revenue, fs.event_margin, %(positions)s
                          FROM %(firsts)s
                         WHERE fs.company_id = %(company)s
                           AND fs.first_at < %(end_at)s AND %(which)s
                        OFFSET 0) x) f""",
            act_s=events(ctx.window_start(start), start),
            act_e=events(ctx.window_start(end), end),
            y_act_s=events(ctx.window_start(year_start), year_start),
            events=events(start, end),
            revenue=total("event_revenue", start, end),
            margin=total("event_margin", start, end),
            revenue_prev=total("event_revenue", prev, start),
            y_revenue=total("event_revenue", year_start, end),
            y_margin=total("event_margin", year_start, end),
            rev_qoq=within(qoq, "event_revenue"),
            gp_qoq=within(qoq, "event_margin"),
            rev_yoy=within(yoy, "event_revenue"),
            gp_yoy=within(yoy, "event_margin"),
            recent=events(earliest, end),
            positions=SQL(", ").join(
                SQL("%s AS %s", events_before_sql("fs", bound(ctx, day)), name)
                for day, name in names.items()
            ),
            firsts=firsts_table(ctx.env, "fs"),
            company=ctx.company.id,
            start_at=bound(ctx, start),
            end_at=bound(ctx, end),
            which=which,
        )

    query = SQL(
        """
        -- every (customer, sales team, salesperson) with an event before
        -- the period's end, flagged from the events kept on its row; a
        -- customer with one row is new, or was known before the previous
        -- period, by his row, the others by their first row (the partial
        -- index of the customers with several rows)
        WITH several AS MATERIALIZED (
            SELECT f.*,
                   MIN(f.first_at) OVER p >= %(start)s AS is_new,
                   MIN(f.first_at) OVER p < %(prev)s AS known_before_prev
              FROM %(several)s
            WINDOW p AS (PARTITION BY f.partner_id)
        ),
        -- customers with several rows: their flags per scope, then counted
        multi AS (
            SELECT %(scope_cols)s,
                   BOOL_OR(act_s) AS act_s,
                   BOOL_OR(act_e) AS act_e,
                   BOOL_OR(known_before) AS known_before,
                   BOOL_OR(y_act_s) AS y_act_s,
                   BOOL_AND(is_new) AS is_new,
                   SUM(events) AS events
              FROM several
             GROUP BY GROUPING SETS ((partner_id), (partner_id, team_id),
                                     (partner_id, user_id))
        ),
        multi_counts AS (
            SELECT scope, scope_id, %(counts)s
              FROM multi
             GROUP BY scope, scope_id
        ),
        -- in one pass over every row: the amounts, which add up over the
        -- rows of a scope, and the counts of the customers with one row
        amounts AS (
            SELECT %(scope_cols)s,
                   COALESCE(SUM(revenue), 0) AS revenue,
                   COALESCE(SUM(margin), 0) AS margin,
                   COALESCE(SUM(revenue) FILTER (WHERE is_new), 0) AS new_revenue,
                   COALESCE(SUM(margin) FILTER (WHERE is_new), 0) AS new_margin,
                   COALESCE(SUM(revenue) FILTER (WHERE NOT is_new), 0) AS rev_old,
                   COALESCE(SUM(revenue_prev) FILTER (WHERE known_before_prev), 0)
                       AS rev_old_prev,
                   COALESCE(SUM(y_revenue), 0) AS y_revenue,
                   COALESCE(SUM(y_margin), 0) AS y_margin,
                   COALESCE(SUM(rev_qoq), 0) AS rev_qoq,
                   COALESCE(SUM(gp_qoq), 0) AS gp_qoq,
                   COALESCE(SUM(rev_yoy), 0) AS rev_yoy,
                   COALESCE(SUM(gp_yoy), 0) AS gp_yoy,
                   COALESCE(BOOL_OR(recent), FALSE) AS recent,
                   %(single_counts)s
              FROM (
                SELECT f.*,
                       f.first_at >= %(start)s AS is_new,
                       f.first_at < %(prev)s AS known_before_prev,
                       TRUE AS single
                  FROM %(single)s
                UNION ALL
                SELECT several.*, FALSE FROM several
              ) gp
             GROUP BY GROUPING SETS ((), (team_id), (user_id))
        )
        SELECT amounts.scope, amounts.scope_id, amounts.revenue, amounts.margin,
               amounts.new_revenue, amounts.new_margin, amounts.rev_old,
               amounts.rev_old_prev, amounts.y_revenue, amounts.y_margin,
               amounts.rev_qoq, amounts.gp_qoq, amounts.rev_yoy, amounts.gp_yoy,
               amounts.recent, %(count_columns)s
          FROM amounts
          LEFT JOIN multi_counts mc
            ON mc.scope = amounts.scope
           AND mc.scope_id IS NOT DISTINCT FROM amounts.scope_id
         WHERE amounts.scope = 'company' OR amounts.scope_id IS NOT NULL
        """,
        single=flagged_rows(SQL("fs.partner_rows = 1")),
        several=flagged_rows(SQL("fs.partner_rows > 1")),
        scope_cols=SCOPE_COLUMNS,
        counts=_customer_counts(),
        single_counts=_customer_counts("single"),
        count_columns=SQL(", ").join(
            SQL(
                "(amounts.%s + COALESCE(mc.%s, 0))::int AS %s",
                SQL.identifier(c),
                SQL.identifier(c),
                SQL.identifier(c),
            )
            for c in _CUSTOMER_COUNT_COLUMNS
        ),
        start=bound(ctx, start),
        prev=bound(ctx, prev),
    )
    return {(r["scope"], r["scope_id"]): r for r in fetch_heavy(ctx, query)}


# ---------------------------------------------------------------------------
# The customers behind a count, for drill-downs
# ---------------------------------------------------------------------------
def firsts_table(env, alias):
    """``crm_kpi_customer_first AS alias``: each customer's first revenue
    event per company, sales team and salesperson.  The SQL carries the
    table's fields to flush: a query of the ORM that reads it first
    recomputes the customers marked in the transaction (the engine flushes
    everything before its reads)."""
    Firsts = env["crm.kpi.customer.first"]
    return SQL(
        "%s AS %s",
        SQL.identifier(Firsts._table, to_flush=Firsts._fields["first_at"]),
        SQL.identifier(alias),
    )


def refresh_firsts(env):
    """Recompute the first events of the customers marked in the current
    transaction (documents created or changed since its last flush), before
    a query reads them with ``cr.execute`` (which flushes nothing).  A
    read-only cursor (a standby) reads what the primary committed."""
    if not env.cr.readonly:
        env["crm.kpi.customer.stat"]._kpi_refresh_pending()


def known_partners_sql(ctx, scope="company", scope_id=None):
    """``SELECT partner_id`` of every customer of a scope who bought before
    the period of ``ctx`` (the ``known_before`` customers of
    :func:`period_summary`), from the first events."""
    return SQL(
        """SELECT DISTINCT k.partner_id FROM %s
            WHERE k.company_id = %s AND k.first_at < %s AND %s""",
        firsts_table(ctx.env, "k"),
        ctx.company.id,
        bound(ctx, ctx.date_start),
        scope_filter(scope, scope_id, alias="k"),
    )


def new_partners_sql(ctx, scope="company", scope_id=None, date_from=None):
    """``SELECT partner_id`` of the customers of a scope acquired in the
    period of ``ctx`` (first revenue event of the company in the period, and
    one in the scope), read from the first events alone: the customers of
    :func:`partner_set_sql` with ``is_new AND buyer``, and with ``is_new AND
    act_e`` (the activity window is never shorter than the period: a new
    customer's events are all in it).  ``date_from``: acquired since that
    day instead of the period's start (the cohorts' range)."""
    start = date_from or ctx.date_start
    return SQL(
        """SELECT DISTINCT k.partner_id FROM %(firsts)s
            WHERE k.company_id = %(company)s
              AND k.first_at >= %(start)s AND k.first_at < %(end)s
              AND %(in_scope)s
              AND NOT EXISTS (
                  SELECT 1 FROM %(older)s
                   WHERE o.partner_id = k.partner_id
                     AND o.company_id = %(company)s
                     AND o.first_at < %(start)s)""",
        firsts=firsts_table(ctx.env, "k"),
        older=firsts_table(ctx.env, "o"),
        company=ctx.company.id,
        start=bound(ctx, start),
        end=bound(ctx, ctx.date_end),
        in_scope=scope_filter(scope, scope_id, alias="k"),
    )


def events_before_sql(alias, moment):
    """The number of events of the first-events row ``alias`` whose ``at`` is
    before ``moment`` (a :func:`bound` value, or an SQL expression of one):
    one binary search of its sorted ``event_ats`` (``width_bucket`` gives the
    number of elements up to a value; ``at`` is a timestamp, to the
    microsecond).  Also the position of the last of them, whose running
    totals (``event_revenue``, ``event_margin``) sum them."""
    return SQL(
        "width_bucket((%s)::timestamp - INTERVAL '1 microsecond', %s)",
        moment,
        SQL.identifier(alias, "event_ats"),
    )


def events_between_sql(alias, date_from, date_to):
    """The number of events of the first-events row ``alias`` whose ``at`` is
    in ``[date_from, date_to)`` (two :func:`bound` values)."""
    return SQL(
        "(%s - %s)",
        events_before_sql(alias, date_to),
        events_before_sql(alias, date_from),
    )


def partner_set_sql(ctx, condition, scope="company", scope_id=None):
    """``SELECT partner_id`` of the customers of a scope who bought in the
    activity window before the period of ``ctx`` or in the period, and
    whose flags meet ``condition`` (an ``SQL`` expression of ``act_s``,
    ``act_e``, ``buyer``, ``events``, ``is_new`` and ``known_before``),
    classified as :func:`period_summary` counts them.

    Read from the first events alone (:func:`firsts_table`): each row's
    events in a window are counted in its sorted ``event_ats``
    (:func:`events_between_sql`), so no document is read.  A customer with
    one row in the company (one sales team and salesperson: the usual case)
    has the flags of that row; the flags of the others are grouped over
    their rows (true when true on one row of the scope; ``is_new`` from
    every row of the company)."""
    start, end = ctx.date_start, ctx.date_end
    lower, e_from = (
        bound(ctx, ctx.window_start(start)),
        bound(ctx, ctx.window_start(end)),
    )
    start, end = bound(ctx, start), bound(ctx, end)
    # the rows of the company's customers up to the period's end: those of
    # the customers with one row, then those of the others (a partial
    # index), each read once, in parallel workers for the first
    rows = SQL(
        "%s WHERE k.company_id = %s AND k.first_at < %s",
        firsts_table(ctx.env, "k"),
        ctx.company.id,
        end,
    )
    return SQL(
        """
        WITH flags AS (
            SELECT k.partner_id,
                   %(act_s)s > 0 AS act_s,
                   %(act_e)s > 0 AS act_e,
                   %(events)s > 0 AS buyer,
                   %(events)s AS events,
                   k.first_at < %(start)s AS known_before,
                   k.first_at >= %(start)s AS is_new
              FROM %(rows)s AND k.partner_rows = 1 AND %(in_scope)s
               AND %(present)s > 0
            UNION ALL
            SELECT partner_id,
                   COALESCE(BOOL_OR(act_s) FILTER (WHERE in_scope), FALSE),
                   COALESCE(BOOL_OR(act_e) FILTER (WHERE in_scope), FALSE),
                   COALESCE(SUM(events) FILTER (WHERE in_scope), 0) > 0,
                   COALESCE(SUM(events) FILTER (WHERE in_scope), 0),
                   COALESCE(BOOL_OR(first_at < %(start)s) FILTER (WHERE in_scope),
                            FALSE),
                   MIN(first_at) >= %(start)s
              FROM (
                SELECT k.partner_id, k.first_at,
                       %(in_scope)s AS in_scope,
                       %(present)s > 0 AS present,
                       %(act_s)s > 0 AS act_s,
                       %(act_e)s > 0 AS act_e,
                       %(events)s AS events
                  FROM %(rows)s AND k.partner_rows > 1
              ) r
             GROUP BY partner_id
            HAVING BOOL_OR(present AND in_scope)
        )
        SELECT partner_id FROM flags WHERE %(condition)s
        """,
        rows=rows,
        in_scope=scope_filter(scope, scope_id, alias="k"),
        present=events_between_sql("k", lower, end),
        act_s=events_between_sql("k", lower, start),
        act_e=events_between_sql("k", e_from, end),
        events=events_between_sql("k", start, end),
        start=start,
        condition=condition,
    )
