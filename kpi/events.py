"""Revenue events: the rows every customer and revenue KPI is counted from.

A revenue event is a confirmed sale order (default) or a posted customer
invoice or refund (company setting).  Each event row carries the commercial
partner, sales team, salesperson, attributed campaign, the local date, and the
untaxed amount and margin in the company currency.
"""

from odoo.tools import SQL

from .base import shared_rows


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
    marketing and the cost families (:func:`~.base.shared`): the revenue
    events of the period with their campaign (:func:`campaign_events_sql`),
    the leads created in the period with a campaign (responses) and the cost
    entries of the period, summed per ``set``: ``company``, ``team``,
    ``user``, ``campaign`` and ``team_campaign`` (with ``team_id``,
    ``user_id``, ``campaign_id``).  Columns: ``revenue``, ``margin``,
    ``orders`` (events), ``campaign_orders`` (events with a campaign),
    ``responses``, ``cost``, ``cost_entries``, ``touches`` (events, leads
    and costs with a campaign) and ``campaigns`` (distinct campaigns)."""
    return shared_rows(
        ctx,
        "campaign_summary",
        lambda: SQL(
            """
            WITH %(rows)s
            SELECT (%(sets)s::text[])[GROUPING(team_id, user_id, campaign_id) + 1]
                       AS set,
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
            # the name of each grouping set, by its GROUPING() + 1
            sets=[CAMPAIGN_SETS.get(grouping) for grouping in range(8)],
        ),
    )


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
