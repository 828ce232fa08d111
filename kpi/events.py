"""Revenue events: the rows every customer and revenue KPI is counted from.

A revenue event is a confirmed sale order (default) or a posted customer
invoice or refund (company setting).  Each event row carries the commercial
partner, sales team, salesperson, attributed campaign, the local date, and the
untaxed amount and margin in the company currency.
"""

from odoo.tools import SQL


def uses_invoices(company):
    return company.kpi_revenue_source == "invoice"


def events_sql(ctx, date_to, date_from=None):
    """``SELECT`` of revenue events of ``ctx.company`` with local dates in
    ``[date_from, date_to)`` (``date_from=None``: since the beginning)."""
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
    return SQL(
        """
        SELECT so.id AS res_id,
               rp.commercial_partner_id AS partner_id,
               so.team_id AS team_id,
               so.user_id AS user_id,
               COALESCE(so.campaign_id, opp.campaign_id) AS campaign_id,
               %(day)s AS day,
               so.amount_untaxed / COALESCE(NULLIF(so.currency_rate, 0), 1.0)
                   AS amount,
               so.margin / COALESCE(NULLIF(so.currency_rate, 0), 1.0) AS margin
          FROM sale_order so
          JOIN res_partner rp ON rp.id = so.partner_id
          LEFT JOIN crm_lead opp ON opp.id = so.opportunity_id
         WHERE so.state = 'sale'
           AND so.company_id = %(company)s
           AND so.date_order < %(date_to)s
           %(lower)s
        """,
        day=ctx.local_date_sql(SQL("so.date_order")),
        company=ctx.company.id,
        date_to=ctx.utc(date_to),
        lower=lower,
    )


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


SCOPE_COLUMNS = SQL(
    """CASE GROUPING(team_id, user_id) WHEN 3 THEN 'company'
                                       WHEN 1 THEN 'team'
                                       ELSE 'user' END AS scope,
       CASE GROUPING(team_id, user_id) WHEN 3 THEN NULL
                                       WHEN 1 THEN team_id
                                       ELSE user_id END AS scope_id"""
)


def scope_filter(scope, scope_id, team_col="team_id", user_col="user_id"):
    if scope == "team":
        return SQL("%s = %s", SQL.identifier(team_col), scope_id)
    if scope == "user":
        return SQL("%s = %s", SQL.identifier(user_col), scope_id)
    return SQL("TRUE")
