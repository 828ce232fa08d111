"""Revenue events: the rows every customer and revenue KPI is counted from.

A revenue event is a confirmed sale order (default) or a posted customer
invoice or refund (company setting).  Each event row carries the commercial
partner, sales team, salesperson, attributed campaign, the local date, and the
untaxed amount and margin in the company currency.
"""

from dateutil.relativedelta import relativedelta

from odoo.tools import SQL

from .base import heavy_query_settings


def uses_invoices(company):
    return company.kpi_revenue_source == "invoice"


def events_sql(ctx, date_to, date_from=None, campaign=True, partner=True):
    """``SELECT`` of revenue events of ``ctx.company`` with local dates in
    ``[date_from, date_to)`` (``date_from=None``: since the beginning).

    ``campaign=False``: the ``campaign_id`` column is NULL; a sale order then
    is not joined to its opportunity (one hash of all the leads less for the
    families that do not use the campaign).  ``campaign="lookup"``: the
    opportunity's campaign is looked up order by order (through the primary
    key of crm_lead) instead of a join with all the leads; for the events of
    a short period, that the families of campaigns read.  ``partner=False``:
    the ``partner_id`` column is NULL; a sale order is then not joined to its
    customer (its ``partner_id`` is required: the join drops no order).

    ``day`` is the local date of the event; ``at`` the moment it is dated by
    (UTC datetime of an order, date of an invoice), to compare with
    :func:`bound` of a day: the same test as on ``day``, without turning
    every event's moment into a local date (a third of the time of a pass
    over the whole history)."""
    if uses_invoices(ctx.company):
        lower = SQL("AND am.invoice_date >= %s", date_from) if date_from else SQL("")
        return SQL(
            """
            SELECT am.id AS res_id,
                   am.commercial_partner_id AS partner_id,
                   am.team_id AS team_id,
                   am.invoice_user_id AS user_id,
                   am.campaign_id AS campaign_id,
                   am.invoice_date AS day,
                   am.invoice_date AS at,
                   am.amount_untaxed_signed AS amount,
                   NULL::numeric AS margin
              FROM account_move am
             WHERE am.state = 'posted'
               AND am.move_type IN ('out_invoice', 'out_refund')
               AND am.company_id = %(company)s
               AND am.invoice_date < %(date_to)s
               %(lower)s
            """,
            company=ctx.company.id,
            date_to=date_to,
            lower=lower,
        )
    lower = SQL("AND so.date_order >= %s", ctx.utc(date_from)) if date_from else SQL("")
    if campaign == "lookup":
        campaign_col = SQL(
            "COALESCE(so.campaign_id, (SELECT opp.campaign_id FROM crm_lead opp"
            " WHERE opp.id = so.opportunity_id))"
        )
        opportunity = SQL("")
    elif campaign:
        campaign_col = SQL("COALESCE(so.campaign_id, opp.campaign_id)")
        opportunity = SQL("LEFT JOIN crm_lead opp ON opp.id = so.opportunity_id")
    else:
        campaign_col, opportunity = SQL("NULL::int"), SQL("")
    if partner:
        partner_col = SQL("rp.commercial_partner_id")
        customer = SQL("JOIN res_partner rp ON rp.id = so.partner_id")
    else:
        partner_col, customer = SQL("NULL::int"), SQL("")
    return SQL(
        """
        SELECT so.id AS res_id,
               %(partner)s AS partner_id,
               so.team_id AS team_id,
               so.user_id AS user_id,
               %(campaign)s AS campaign_id,
               %(day)s AS day,
               so.date_order AS at,
               so.amount_untaxed / COALESCE(NULLIF(so.currency_rate, 0), 1.0)
                   AS amount,
               so.margin / COALESCE(NULLIF(so.currency_rate, 0), 1.0) AS margin
          FROM sale_order so
          %(customer)s
          %(opportunity)s
         WHERE so.state = 'sale'
           AND so.company_id = %(company)s
           AND so.date_order < %(date_to)s
           %(lower)s
        """,
        partner=partner_col,
        customer=customer,
        campaign=campaign_col,
        opportunity=opportunity,
        day=ctx.local_date_sql(SQL("so.date_order")),
        company=ctx.company.id,
        date_to=ctx.utc(date_to),
        lower=lower,
    )


def bound(ctx, day):
    """The value of the events' ``at`` column where the local ``day``
    begins: ``at >= bound(ctx, d)`` exactly when the event's local date is
    ``d`` or later (the same bounds as the events' domains)."""
    return day if uses_invoices(ctx.company) else ctx.utc(day)


def events_domain(ctx, date_from, date_to, scope=None, scope_id=None):
    """``(model, domain)`` of the revenue events in ``[date_from, date_to)``."""
    if uses_invoices(ctx.company):
        model = "account.move"
        domain = [
            ("state", "=", "posted"),
            ("move_type", "in", ("out_invoice", "out_refund")),
            ("company_id", "=", ctx.company.id),
            ("invoice_date", ">=", date_from),
            ("invoice_date", "<", date_to),
        ]
        user_field = "invoice_user_id"
    else:
        model = "sale.order"
        domain = [
            ("state", "=", "sale"),
            ("company_id", "=", ctx.company.id),
            ("date_order", ">=", ctx.utc(date_from)),
            ("date_order", "<", ctx.utc(date_to)),
        ]
        user_field = "user_id"
    if scope == "team":
        domain.append(("team_id", "=", scope_id))
    elif scope == "user":
        domain.append((user_field, "=", scope_id))
    return model, domain


def lead_company_fallback(company_id, alias="l"):
    """SQL condition: the lead ``alias`` has no company and counts for
    ``company_id`` through its sales team, else its salesperson (the second
    branch of :func:`lead_company_condition`, for queries that read the
    leads of the company from an index and the others apart)."""
    lead = SQL.identifier(alias)
    return SQL(
        """(%(l)s.company_id IS NULL
            AND COALESCE((SELECT t.company_id FROM crm_team t
                           WHERE t.id = %(l)s.team_id),
                         (SELECT u.company_id FROM res_users u
                           WHERE u.id = %(l)s.user_id)) = %(c)s)""",
        l=lead,
        c=company_id,
    )


def lead_company_condition(company_id, alias="l"):
    """SQL condition: the lead ``alias`` counts for the company
    ``company_id``: its own company, else (Odoo leaves it empty in some
    flows) its sales team's, else its salesperson's."""
    return SQL(
        "(%s = %s OR %s)",
        SQL.identifier(alias, "company_id"),
        company_id,
        lead_company_fallback(company_id, alias),
    )


def revenue_events_total(env, model, query, what="amount"):
    """Sum of the untaxed amounts (``what='amount'``) or margins
    (``'margin'``) of the revenue events selected by the ORM ``query`` of
    ``model``, converted to the company currency as :func:`events_sql`
    converts them."""
    if model == "account.move":
        if what != "amount":
            return None
        expr = SQL("am.amount_untaxed_signed")
        table = SQL("account_move am")
    else:
        column = "amount_untaxed" if what == "amount" else "margin"
        expr = SQL(
            "so.%s / COALESCE(NULLIF(so.currency_rate, 0), 1.0)",
            SQL.identifier(column),
        )
        table = SQL("sale_order so")
    alias = SQL("am.id") if model == "account.move" else SQL("so.id")
    env.cr.execute(
        SQL(
            "SELECT COALESCE(SUM(%s), 0) FROM %s WHERE %s IN %s",
            expr,
            table,
            alias,
            query.subselect(),
        )
    )
    return float(env.cr.fetchone()[0])


def campaign_events_sql(ctx):
    """``SELECT`` of the revenue events of the period of ``ctx`` with their
    campaign, for the campaign families: no customer (not joined to the
    partners), the campaign of an order's opportunity looked up order by
    order.  :func:`campaign_events_domain` selects them for drill-downs."""
    return events_sql(
        ctx, ctx.date_end, ctx.date_start, campaign="lookup", partner=False
    )


# GROUPING(team_id, user_id, campaign_id) of the sets of campaign_summary
CAMPAIGN_SETS = {
    7: "company",
    3: "team",
    5: "user",
    6: "campaign",
    2: "team_campaign",
}


def campaign_summary(ctx):
    """The campaign figures of the period of ``ctx``, read once for the
    marketing and the cost families (cached in ``ctx.extra``): the revenue
    events of the period with their campaign (:func:`campaign_events_sql`),
    the leads created in the period with a campaign (responses) and the cost
    entries of the period, summed per ``set``: ``company``, ``team``,
    ``user``, ``campaign`` and ``team_campaign`` (with ``team_id``,
    ``user_id``, ``campaign_id``).  Columns: ``revenue``, ``margin``,
    ``orders`` (events), ``campaign_orders`` (events with a campaign),
    ``responses``, ``cost``, ``cost_entries``, ``touches`` (events, leads
    and costs with a campaign) and ``campaigns`` (distinct campaigns)."""
    key = ctx.cache_key("campaign_summary")
    if key in ctx.extra:
        return ctx.extra[key]
    cr = ctx.env.cr
    heavy_query_settings(ctx)
    cr.execute(
        SQL(
            """
            WITH %(rows)s
            SELECT GROUPING(team_id, user_id, campaign_id) AS grouping,
                   team_id, user_id, campaign_id,
                   COALESCE(SUM(revenue), 0) AS revenue,
                   COALESCE(SUM(margin), 0) AS margin,
                   COALESCE(SUM(is_order), 0) AS orders,
                   COUNT(*) FILTER (WHERE is_order = 1 AND campaign_id IS NOT NULL)
                       AS campaign_orders,
                   COALESCE(SUM(is_response), 0) AS responses,
                   COALESCE(SUM(cost), 0) AS cost,
                   COALESCE(SUM(is_cost), 0) AS cost_entries,
                   COUNT(campaign_id) AS touches,
                   COUNT(DISTINCT campaign_id) AS campaigns
              FROM rows
             GROUP BY GROUPING SETS ((), (team_id), (user_id), (campaign_id),
                                     (team_id, campaign_id))
            """,
            rows=campaign_rows_sql(ctx),
        )
    )
    rows = cr.dictfetchall()
    for row in rows:
        row["set"] = CAMPAIGN_SETS[row.pop("grouping")]
    ctx.extra[key] = rows
    return rows


def campaign_rows_sql(ctx):
    """The CTEs ``ev`` and ``rows`` of :func:`campaign_summary`: one row per
    revenue event of the period (with its campaign), per lead created in the
    period with a campaign and per cost entry of the period, with
    ``team_id``, ``user_id`` and ``campaign_id``."""
    return SQL(
        """
        ev AS (%(events)s),
        rows AS (
            SELECT team_id, user_id, campaign_id,
                   amount AS revenue, margin, 1 AS is_order, 0 AS is_response,
                   NULL::numeric AS cost, 0 AS is_cost
              FROM ev
            UNION ALL
            SELECT l.team_id, l.user_id, l.campaign_id, NULL, NULL, 0, 1, NULL, 0
              FROM crm_lead l
             WHERE %(lead_company)s AND l.campaign_id IS NOT NULL
               AND l.create_date >= %(a)s AND l.create_date < %(b)s
            UNION ALL
            SELECT team_id, NULL, campaign_id, NULL, NULL, 0, 0,
                   amount_company, 1
              FROM crm_kpi_cost
             WHERE company_id = %(company)s
               AND date >= %(day_a)s AND date < %(day_b)s
        )""",
        events=campaign_events_sql(ctx),
        company=ctx.company.id,
        lead_company=lead_company_condition(ctx.company.id),
        a=ctx.start_utc,
        b=ctx.end_utc,
        day_a=ctx.date_start,
        day_b=ctx.date_end,
    )


def campaign_ids(ctx, scope=None, scope_id=None):
    """The campaigns that :func:`campaign_summary` counts for a scope: those
    of the period's revenue events (the order's campaign, else its
    opportunity's), of the leads created in the period and of its cost
    entries."""
    ctx.env.cr.execute(
        SQL(
            """WITH %s
               SELECT DISTINCT campaign_id FROM rows
                WHERE campaign_id IS NOT NULL AND %s""",
            campaign_rows_sql(ctx),
            scope_filter(scope, scope_id) if scope else SQL("TRUE"),
        )
    )
    return [row[0] for row in ctx.env.cr.fetchall()]


def campaign_events_domain(ctx, operator, value, scope=None, scope_id=None):
    """``(model, domain)`` of the revenue events of the period whose campaign
    satisfies ``(operator, value)``: the order's campaign, else that of its
    opportunity (invoices: their own campaign)."""
    model, domain = events_domain(ctx, ctx.date_start, ctx.date_end, scope, scope_id)
    if model == "sale.order":
        domain += [
            "|",
            ("campaign_id", operator, value),
            "&",
            ("campaign_id", "=", False),
            ("opportunity_id.campaign_id", operator, value),
        ]
    else:
        domain.append(("campaign_id", operator, value))
    return model, domain


SCOPE_COLUMNS = SQL(
    """CASE GROUPING(team_id, user_id) WHEN 3 THEN 'company'
                                       WHEN 1 THEN 'team'
                                       ELSE 'user' END AS scope,
       CASE GROUPING(team_id, user_id) WHEN 3 THEN NULL
                                       WHEN 1 THEN team_id
                                       ELSE user_id END AS scope_id"""
)


def scope_filter(scope, scope_id, team_col="team_id", user_col="user_id", alias=None):
    """SQL condition: the row is of the scope (its sales team or salesperson
    column, of the table ``alias`` when given)."""

    def column(name):
        return SQL.identifier(alias, name) if alias else SQL.identifier(name)

    if scope == "team":
        return SQL("%s = %s", column(team_col), scope_id)
    if scope == "user":
        return SQL("%s = %s", column(user_col), scope_id)
    return SQL("TRUE")


# ---------------------------------------------------------------------------
# One pass over the events for the customer, revenue and cost families
# ---------------------------------------------------------------------------
def comparison_period(ctx, kind):
    """The context of the comparison period of ``kind`` ('qoq' or 'yoy') of
    the revenue growth KPIs, or None when not defined for the granularity."""
    if kind == "qoq":
        shifts = {
            "week": ("week", -13),
            "month": ("month", -3),
            "quarter": ("quarter", -1),
        }
    else:
        shifts = {
            "week": ("week", -52),
            "month": ("month", -12),
            "quarter": ("quarter", -4),
            "year": ("year", -1),
        }
    if ctx.granularity not in shifts:
        return None
    granularity, n = shifts[ctx.granularity]
    return ctx.shifted(n, granularity)


# counts of customers per scope, from rows of flags per customer and scope
_CUSTOMER_COUNTS = SQL(
    """COUNT(*) FILTER (WHERE act_s) AS s,
       COUNT(*) FILTER (WHERE act_e) AS e,
       COUNT(*) FILTER (WHERE is_new AND act_e) AS n,
       COUNT(*) FILTER (WHERE act_s AND NOT act_e) AS l,
       COUNT(*) FILTER (WHERE NOT is_new AND NOT act_s AND act_e) AS r,
       COUNT(*) FILTER (WHERE known_before) AS known_before,
       COUNT(*) FILTER (WHERE act_s AND events > 0) AS renewed,
       COUNT(*) FILTER (WHERE events > 0) AS buyers,
       COUNT(*) FILTER (WHERE events >= 2) AS repeaters,
       COALESCE(SUM(events), 0) AS events,
       COUNT(*) FILTER (WHERE y_act_s) AS y_s,
       COUNT(*) FILTER (WHERE y_act_s AND NOT act_e) AS y_l"""
)
_CUSTOMER_COUNT_COLUMNS = (
    "s",
    "e",
    "n",
    "l",
    "r",
    "known_before",
    "renewed",
    "buyers",
    "repeaters",
    "events",
    "y_s",
    "y_l",
)


def period_summary(ctx):
    """Per scope key (company, sales team, salesperson), the figures of the
    period that the customer, revenue and cost families count from the
    revenue events, computed once per period context (cached in
    ``ctx.extra``) in one query: each customer's rows of first events per
    sales team and salesperson (``crm.kpi.customer.first``), whose kept
    events tell whether he bought in each activity window (no document is
    read for it), joined to his amounts of the period and of the previous
    period (one read of these periods' events), and one read of the recent
    events (trailing year and comparison periods) for the amounts that do
    not depend on the customer:

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
    key = ctx.cache_key("period_summary")
    if key in ctx.extra:
        return ctx.extra[key]
    refresh_firsts(ctx.env)
    start, end = ctx.date_start, ctx.date_end
    prev = ctx.shifted(-1).date_start
    year_start = end - relativedelta(years=1)
    qoq, yoy = comparison_period(ctx, "qoq"), comparison_period(ctx, "yoy")
    earliest = min(c.date_start for c in (ctx, qoq, yoy) if c)

    def within(period):
        if not period:
            return SQL("FALSE")
        return SQL(
            "at >= %s AND at < %s",
            bound(ctx, period.date_start),
            bound(ctx, period.date_end),
        )

    # the rows of the first events up to the period's end, flagged from
    # their events (counted in their ``event_ats``): in a subquery of their
    # own, which parallel workers compute, then joined to the amounts
    def flagged(rows):
        return SQL(
            """(SELECT fs.partner_id, fs.team_id, fs.user_id, fs.first_at,
                       %(act_s)s > 0 AS act_s,
                       %(act_e)s > 0 AS act_e,
                       fs.first_at < %(start)s AS known_before,
                       %(y_act_s)s > 0 AS y_act_s
                  FROM %(firsts)s
                 WHERE fs.company_id = %(company)s AND fs.first_at < %(end)s
                   AND %(rows)s
                OFFSET 0) f
              LEFT JOIN w
                ON w.partner_id = f.partner_id
               AND COALESCE(w.team_id, 0) = COALESCE(f.team_id, 0)
               AND COALESCE(w.user_id, 0) = COALESCE(f.user_id, 0)""",
            act_s=events_between_sql(
                "fs", bound(ctx, ctx.window_start(start)), bound(ctx, start)
            ),
            act_e=events_between_sql(
                "fs", bound(ctx, ctx.window_start(end)), bound(ctx, end)
            ),
            y_act_s=events_between_sql(
                "fs", bound(ctx, ctx.window_start(year_start)), bound(ctx, year_start)
            ),
            start=bound(ctx, start),
            end=bound(ctx, end),
            firsts=firsts_table(ctx.env, "fs"),
            company=ctx.company.id,
            rows=rows,
        )

    row_columns = SQL(
        """f.*, COALESCE(w.events, 0) AS events,
           w.revenue, w.margin, w.revenue_prev"""
    )
    query = SQL(
        """
        WITH ev AS (%(events)s),
        -- the amounts of the period and of the previous one per (customer,
        -- sales team, salesperson)
        w AS (
            SELECT partner_id, team_id, user_id,
                   COUNT(*) FILTER (WHERE at >= %(start)s)::int AS events,
                   SUM(amount) FILTER (WHERE at >= %(start)s) AS revenue,
                   SUM(margin) FILTER (WHERE at >= %(start)s) AS margin,
                   SUM(amount) FILTER (WHERE at < %(start)s) AS revenue_prev
              FROM ev
             GROUP BY partner_id, team_id, user_id
        ),
        -- every (customer, sales team, salesperson) with an event before
        -- the period's end, flagged from the events kept on its row; a
        -- customer with one row is new, or was known before the previous
        -- period, by his row, the others by their first row (the partial
        -- index of the customers with several rows)
        gp AS MATERIALIZED (
            SELECT %(row_columns)s,
                   f.first_at >= %(start)s AS is_new,
                   f.first_at < %(prev)s AS known_before_prev,
                   1 AS partner_rows
              FROM %(single)s
            UNION ALL
            SELECT %(row_columns)s,
                   MIN(f.first_at) OVER p >= %(start)s AS is_new,
                   MIN(f.first_at) OVER p < %(prev)s AS known_before_prev,
                   2 AS partner_rows
              FROM %(several)s
            WINDOW p AS (PARTITION BY f.partner_id)
        ),
        -- the amounts of the last months that do not depend on the customer
        -- (trailing year, comparison periods): summed directly from a second
        -- read of these months' events only (summing them per customer first
        -- cost more than this read), per (sales team, salesperson) first: a
        -- plain GROUP BY runs in parallel workers, grouping sets do not
        recent_pairs AS (
            SELECT team_id, user_id,
                   SUM(amount) FILTER (WHERE at >= %(y_start)s) AS y_revenue,
                   SUM(margin) FILTER (WHERE at >= %(y_start)s) AS y_margin,
                   SUM(amount) FILTER (WHERE %(qoq)s) AS rev_qoq,
                   SUM(margin) FILTER (WHERE %(qoq)s) AS gp_qoq,
                   SUM(amount) FILTER (WHERE %(yoy)s) AS rev_yoy,
                   SUM(margin) FILTER (WHERE %(yoy)s) AS gp_yoy,
                   BOOL_OR(at >= %(earliest)s) AS recent
              FROM (%(recent_events)s) rev
             GROUP BY team_id, user_id
        ),
        recent AS (
            SELECT %(scope_cols)s,
                   COALESCE(SUM(y_revenue), 0) AS y_revenue,
                   COALESCE(SUM(y_margin), 0) AS y_margin,
                   COALESCE(SUM(rev_qoq), 0) AS rev_qoq,
                   COALESCE(SUM(gp_qoq), 0) AS gp_qoq,
                   COALESCE(SUM(rev_yoy), 0) AS rev_yoy,
                   COALESCE(SUM(gp_yoy), 0) AS gp_yoy,
                   COALESCE(BOOL_OR(recent), FALSE) AS recent
              FROM recent_pairs
             GROUP BY GROUPING SETS ((), (team_id), (user_id))
        ),
        -- customers with several rows: their flags per scope
        multi AS (
            SELECT %(scope_cols)s,
                   BOOL_OR(act_s) AS act_s,
                   BOOL_OR(act_e) AS act_e,
                   BOOL_OR(known_before) AS known_before,
                   BOOL_OR(y_act_s) AS y_act_s,
                   BOOL_AND(is_new) AS is_new,
                   SUM(events) AS events
              FROM gp
             WHERE partner_rows > 1
             GROUP BY GROUPING SETS ((partner_id), (partner_id, team_id),
                                     (partner_id, user_id))
        ),
        counts AS (
            SELECT %(scope_cols)s, %(counts)s
              FROM gp
             WHERE partner_rows = 1
             GROUP BY GROUPING SETS ((), (team_id), (user_id))
            UNION ALL
            SELECT scope, scope_id, %(counts)s
              FROM multi
             GROUP BY scope, scope_id
        ),
        -- amounts add up over the rows of a scope
        amounts AS (
            SELECT %(scope_cols)s,
                   COALESCE(SUM(revenue), 0) AS revenue,
                   COALESCE(SUM(margin), 0) AS margin,
                   COALESCE(SUM(revenue) FILTER (WHERE is_new), 0) AS new_revenue,
                   COALESCE(SUM(margin) FILTER (WHERE is_new), 0) AS new_margin,
                   COALESCE(SUM(revenue) FILTER (WHERE NOT is_new), 0) AS rev_old,
                   COALESCE(SUM(revenue_prev) FILTER (WHERE known_before_prev), 0)
                       AS rev_old_prev
              FROM gp
             GROUP BY GROUPING SETS ((), (team_id), (user_id))
        ),
        scope_counts AS (
            SELECT scope, scope_id, %(sums)s
              FROM counts
             GROUP BY scope, scope_id
        )
        SELECT amounts.*, %(count_columns)s,
               COALESCE(recent.y_revenue, 0) AS y_revenue,
               COALESCE(recent.y_margin, 0) AS y_margin,
               COALESCE(recent.rev_qoq, 0) AS rev_qoq,
               COALESCE(recent.gp_qoq, 0) AS gp_qoq,
               COALESCE(recent.rev_yoy, 0) AS rev_yoy,
               COALESCE(recent.gp_yoy, 0) AS gp_yoy,
               COALESCE(recent.recent, FALSE) AS recent
          FROM amounts
          JOIN scope_counts
            ON scope_counts.scope = amounts.scope
           AND scope_counts.scope_id IS NOT DISTINCT FROM amounts.scope_id
          LEFT JOIN recent
            ON recent.scope = amounts.scope
           AND recent.scope_id IS NOT DISTINCT FROM amounts.scope_id
         WHERE amounts.scope = 'company' OR amounts.scope_id IS NOT NULL
        """,
        events=events_sql(ctx, end, prev, campaign=False),
        row_columns=row_columns,
        single=flagged(SQL("fs.partner_rows = 1")),
        several=flagged(SQL("fs.partner_rows > 1")),
        scope_cols=SCOPE_COLUMNS,
        counts=_CUSTOMER_COUNTS,
        sums=SQL(", ").join(
            SQL("SUM(%s)::int AS %s", SQL.identifier(c), SQL.identifier(c))
            for c in _CUSTOMER_COUNT_COLUMNS
        ),
        count_columns=SQL(", ").join(
            SQL("scope_counts.%s", SQL.identifier(c)) for c in _CUSTOMER_COUNT_COLUMNS
        ),
        recent_events=events_sql(
            ctx, end, min(year_start, earliest), campaign=False, partner=False
        ),
        start=bound(ctx, start),
        prev=bound(ctx, prev),
        y_start=bound(ctx, year_start),
        qoq=within(qoq),
        yoy=within(yoy),
        earliest=bound(ctx, earliest),
    )
    cr = ctx.env.cr
    heavy_query_settings(ctx)
    cr.execute(query)
    rows = cr.dictfetchall()
    ctx.extra[key] = summary = {(r["scope"], r["scope_id"]): r for r in rows}
    return summary


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


def events_between_sql(alias, date_from, date_to):
    """The number of events of the first-events row ``alias`` whose ``at`` is
    in ``[date_from, date_to)`` (two :func:`bound` values): its sorted
    ``event_ats`` searched twice (``width_bucket`` gives the number of
    elements up to a value; ``at`` is a timestamp, to the microsecond)."""
    ats = SQL.identifier(alias, "event_ats")

    def before(moment):
        return SQL(
            "width_bucket(%s::timestamp - INTERVAL '1 microsecond', %s)", moment, ats
        )

    return SQL("(%s - %s)", before(date_to), before(date_from))


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
