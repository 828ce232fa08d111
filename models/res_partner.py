from odoo import api, fields, models
from odoo.fields import Domain
from odoo.tools import SQL
from odoo.tools.query import Query

from .survey_user_input import NPS_CATEGORIES, nps_category

STATUS = [
    ("prospect", "No purchase yet"),
    ("new", "New"),
    ("active", "Active"),
    ("at_risk", "At risk"),
    ("lost", "Lost"),
]
NEW_DAYS = 90

RFM_SEGMENTS = [
    ("champions", "Champions"),
    ("loyal", "Loyal"),
    ("potential_loyalist", "Potential loyalist"),
    ("new", "New"),
    ("promising", "Promising"),
    ("need_attention", "Need attention"),
    ("about_to_sleep", "About to sleep"),
    ("at_risk", "At risk"),
    ("cant_lose", "Can't lose them"),
    ("hibernating", "Hibernating"),
    ("lost", "Lost"),
]
RFM_HELP = (
    "Segment of the customer on the usual RFM grid, from its recency quintile R "
    "and FM = (F + M) / 2 rounded half up: "
    "champions R 5, FM 4-5; loyal R 3-4, FM 4-5; "
    "potential loyalist R 4-5, FM 2-3; new R 5, FM 1; promising R 4, FM 1; "
    "need attention R 3, FM 3; about to sleep R 3, FM 1-2; "
    "can't lose them R 1-2, FM 5; at risk R 1-2, FM 3-4; "
    "hibernating R 2, FM 1-2 and R 1, FM 2; lost R 1, FM 1. "
    "Empty for a partner without purchase."
)
QUINTILE_HELP = (
    " quintile among the customers (1 to 5, 5 = best): 1 + the integer part of "
    "5 × the number of customers with a strictly worse value / the number of "
    "customers, so that equal values share a quintile. 0 without purchase."
)

# fields read, searched, sorted and grouped through the customer figures
# (crm.kpi.customer.stat): the figures themselves, and the ranks over all
# the customers
KPI_STAT_FIELDS = (
    "kpi_lifetime_revenue",
    "kpi_order_count",
    "kpi_first_purchase_date",
    "kpi_last_purchase_date",
    "kpi_average_order_value",
    "kpi_purchase_frequency",
    "kpi_customer_status",
    "kpi_predicted_clv",
)
KPI_RANK_FIELDS = (
    "kpi_revenue_rank",
    "kpi_top_customer",
    "kpi_rfm_recency",
    "kpi_rfm_frequency",
    "kpi_rfm_monetary",
    "kpi_rfm_score",
    "kpi_rfm_segment",
)


def _kpi_searcher(fname):
    def search(self, operator, value):
        return self._kpi_search(fname, operator, value)

    search.__name__ = f"_search_{fname}"
    return search


class ResPartner(models.Model):
    _name = "res.partner"
    _inherit = ["res.partner", "crm.kpi.drillable"]

    kpi_currency_id = fields.Many2one(
        "res.currency", compute="_compute_kpi_currency", string="KPI Currency"
    )
    kpi_lifetime_revenue = fields.Monetary(
        "Lifetime Revenue",
        compute="_compute_kpi_customer",
        search="_search_kpi_lifetime_revenue",
        currency_field="kpi_currency_id",
        help="Untaxed amount of the revenue events of the customer (refunds "
        "count negative), in the current company's currency.",
    )
    kpi_order_count = fields.Integer(
        "Revenue Events",
        compute="_compute_kpi_customer",
        search="_search_kpi_order_count",
    )
    kpi_first_purchase_date = fields.Date(
        "First Purchase",
        compute="_compute_kpi_customer",
        search="_search_kpi_first_purchase_date",
    )
    kpi_last_purchase_date = fields.Date(
        "Last Purchase",
        compute="_compute_kpi_customer",
        search="_search_kpi_last_purchase_date",
    )
    kpi_average_order_value = fields.Monetary(
        "Average Order Value",
        compute="_compute_kpi_customer",
        search="_search_kpi_average_order_value",
        currency_field="kpi_currency_id",
        aggregator="avg",
    )
    kpi_purchase_frequency = fields.Float(
        "Purchases per Year",
        compute="_compute_kpi_customer",
        search="_search_kpi_purchase_frequency",
        aggregator="avg",
        help="Revenue events per year since the first purchase, counted over "
        "at least one year: two orders in a customer's first 73 days are 2 a "
        "year, not 10.",
    )
    kpi_customer_status = fields.Selection(
        STATUS,
        string="Customer Status",
        compute="_compute_kpi_customer",
        search="_search_kpi_customer_status",
        help="New: first purchase in the last 90 days. Active: a purchase in the "
        "activity window. At risk: no purchase in the last half window. Lost: no "
        "purchase in the whole window.",
    )
    kpi_predicted_clv = fields.Monetary(
        "Predicted CLV",
        compute="_compute_kpi_customer",
        search="_search_kpi_predicted_clv",
        currency_field="kpi_currency_id",
        help="Average order value × purchases per year × expected lifetime in years "
        "(1 / the company's annual churn rate).",
    )
    kpi_revenue_rank = fields.Integer(
        "Revenue Rank",
        compute="_compute_kpi_rank",
        search="_search_kpi_revenue_rank",
        aggregator=False,
        help="Rank of the customer by lifetime revenue among the customers (1 = "
        "highest; equal revenues: the older partner first). 0 without purchase.",
    )
    kpi_top_customer = fields.Boolean(
        "Top 20 % by Revenue",
        compute="_compute_kpi_rank",
        search="_search_kpi_top_customer",
        help="The customer is among the first ceil(20 % × customers) customers "
        "ranked by lifetime revenue (see Revenue Rank): of 10 customers, the 2 "
        "with the highest revenue; of 11, 3.",
    )
    kpi_rfm_recency = fields.Integer(
        "RFM Recency",
        compute="_compute_kpi_rank",
        search="_search_kpi_rfm_recency",
        aggregator="avg",
        help="Recency (date of the last purchase; the most recent is best)"
        + QUINTILE_HELP,
    )
    kpi_rfm_frequency = fields.Integer(
        "RFM Frequency",
        compute="_compute_kpi_rank",
        search="_search_kpi_rfm_frequency",
        aggregator="avg",
        help="Frequency (number of revenue events; the most is best)" + QUINTILE_HELP,
    )
    kpi_rfm_monetary = fields.Integer(
        "RFM Monetary",
        compute="_compute_kpi_rank",
        search="_search_kpi_rfm_monetary",
        aggregator="avg",
        help="Monetary (lifetime revenue; the highest is best)" + QUINTILE_HELP,
    )
    kpi_rfm_score = fields.Char(
        "RFM Score",
        compute="_compute_kpi_rank",
        search="_search_kpi_rfm_score",
        help="The recency, frequency and monetary quintiles as three digits: 543 "
        "is R 5, F 4, M 3.",
    )
    kpi_rfm_segment = fields.Selection(
        RFM_SEGMENTS,
        string="RFM Segment",
        compute="_compute_kpi_rank",
        search="_search_kpi_rfm_segment",
        help=RFM_HELP,
    )

    _search_kpi_lifetime_revenue = _kpi_searcher("kpi_lifetime_revenue")
    _search_kpi_order_count = _kpi_searcher("kpi_order_count")
    _search_kpi_first_purchase_date = _kpi_searcher("kpi_first_purchase_date")
    _search_kpi_last_purchase_date = _kpi_searcher("kpi_last_purchase_date")
    _search_kpi_average_order_value = _kpi_searcher("kpi_average_order_value")
    _search_kpi_purchase_frequency = _kpi_searcher("kpi_purchase_frequency")
    _search_kpi_customer_status = _kpi_searcher("kpi_customer_status")
    _search_kpi_predicted_clv = _kpi_searcher("kpi_predicted_clv")
    _search_kpi_revenue_rank = _kpi_searcher("kpi_revenue_rank")
    _search_kpi_top_customer = _kpi_searcher("kpi_top_customer")
    _search_kpi_rfm_recency = _kpi_searcher("kpi_rfm_recency")
    _search_kpi_rfm_frequency = _kpi_searcher("kpi_rfm_frequency")
    _search_kpi_rfm_monetary = _kpi_searcher("kpi_rfm_monetary")
    _search_kpi_rfm_score = _kpi_searcher("kpi_rfm_score")
    _search_kpi_rfm_segment = _kpi_searcher("kpi_rfm_segment")

    # ------------------------------------------------------------------
    @api.model
    def _kpi_sql_fields(self):
        return (*KPI_STAT_FIELDS, *KPI_RANK_FIELDS)

    def _kpi_annual_churn(self):
        """Trailing 12-month churn of the current company, from its latest
        monthly snapshot (stored as the CLV value's denominator)."""
        value = (
            self.env["crm.kpi.value"]
            .sudo()
            .search(
                [
                    ("company_id", "=", self.env.company.id),
                    ("scope", "=", "company"),
                    ("granularity", "=", "month"),
                    ("kpi_code", "=", "clv"),
                    ("denominator", ">", 0),
                ],
                order="date_start desc",
                limit=1,
            )
        )
        return value.denominator

    def _kpi_join(self, alias, query, ranked=False, partner_ids=None):
        """Join the customer figures (``ranked``: their ranks) of the
        commercial partner of ``alias`` to ``query``; return the join's
        alias.  The figures are those the current user may read
        (``crm.kpi.customer.stat._kpi_stats_sql``); with ``partner_ids``
        (reading records: their commercial partners), those customers' only,
        still ranked over all the customers."""
        Stat = self.env["crm.kpi.customer.stat"]
        name = query.make_alias(alias, "kpi_rank" if ranked else "kpi_stats")
        source = (
            Stat._kpi_ranked_sql(partner_ids)
            if ranked
            else Stat._kpi_stats_sql(partner_ids)
        )
        query.add_join(
            "LEFT JOIN",
            name,
            SQL("(%s)", source),
            SQL(
                "%s = %s",
                SQL.identifier(name, "partner_id"),
                self._field_to_sql(alias, "commercial_partner_id", query),
            ),
        )
        return name

    def _kpi_field_sql(self, fname, name):
        """The SQL value of the customer field ``fname`` from the joined
        figures ``name`` (:meth:`_kpi_join`).  What depends on today (status,
        frequency, CLV) is computed at query time."""

        def c(column):
            return SQL.identifier(name, column)

        if fname in KPI_RANK_FIELDS:
            r, f, m = c("r"), c("f"), c("m")
            fm = SQL("((%s + %s + 1) / 2)", f, m)
            return {
                "kpi_revenue_rank": c("revenue_rank"),
                "kpi_top_customer": SQL(
                    "COALESCE(%s <= (%s + 4) / 5, FALSE)",
                    c("revenue_rank"),
                    c("customers"),
                ),
                "kpi_rfm_recency": SQL("COALESCE(%s, 0)", r),
                "kpi_rfm_frequency": SQL("COALESCE(%s, 0)", f),
                "kpi_rfm_monetary": SQL("COALESCE(%s, 0)", m),
                "kpi_rfm_score": SQL("(%s::text || %s::text || %s::text)", r, f, m),
                "kpi_rfm_segment": SQL(
                    """(CASE WHEN %(r)s IS NULL THEN NULL
                             WHEN %(r)s = 5 AND %(fm)s >= 4 THEN 'champions'
                             WHEN %(r)s >= 3 AND %(fm)s >= 4 THEN 'loyal'
                             WHEN %(r)s >= 4 AND %(fm)s >= 2 THEN 'potential_loyalist'
                             WHEN %(r)s = 5 THEN 'new'
                             WHEN %(r)s = 4 THEN 'promising'
                             WHEN %(r)s = 3 AND %(fm)s = 3 THEN 'need_attention'
                             WHEN %(r)s = 3 THEN 'about_to_sleep'
                             WHEN %(fm)s = 5 THEN 'cant_lose'
                             WHEN %(fm)s >= 3 THEN 'at_risk'
                             WHEN %(r)s = 1 AND %(fm)s = 1 THEN 'lost'
                             ELSE 'hibernating' END)""",
                    r=r,
                    fm=fm,
                ),
            }[fname]
        n, amount = c("n"), c("amount")
        first, last = c("first_day"), c("last_day")
        today = fields.Date.context_today(self)
        if fname in ("kpi_purchase_frequency", "kpi_predicted_clv"):
            years = SQL("GREATEST((%s::date - %s) / 365.0, 1.0)", today, first)
            if fname == "kpi_purchase_frequency":
                return SQL("COALESCE(%s / %s, 0)", n, years)
            churn = self._kpi_annual_churn()
            if not churn:
                return SQL("0.0")
            # average order value × frequency / churn
            return SQL("COALESCE(%s / %s / %s, 0)", amount, years, churn)
        if fname == "kpi_customer_status":
            window = self.env.company.kpi_activity_window_days or 365
            return SQL(
                """(CASE WHEN %(n)s IS NULL THEN 'prospect'
                         WHEN %(today)s::date - %(last)s >= %(w)s THEN 'lost'
                         WHEN %(today)s::date - %(last)s >= %(w)s / 2.0 THEN 'at_risk'
                         WHEN %(today)s::date - %(first)s < %(new)s THEN 'new'
                         ELSE 'active' END)""",
                n=n,
                today=today,
                last=last,
                first=first,
                w=window,
                new=NEW_DAYS,
            )
        return {
            "kpi_lifetime_revenue": SQL("COALESCE(%s, 0)", amount),
            "kpi_order_count": SQL("COALESCE(%s, 0)", n),
            "kpi_first_purchase_date": first,
            "kpi_last_purchase_date": last,
            "kpi_average_order_value": SQL(
                "COALESCE(%s / NULLIF(%s, 0), 0)", amount, n
            ),
        }[fname]

    def _field_to_sql(self, alias, field_expr, query=None):
        # the customer fields are sortable and groupable through SQL
        if field_expr in KPI_STAT_FIELDS or field_expr in KPI_RANK_FIELDS:
            if query is None:
                raise ValueError(f"{field_expr} needs a query to join its figures")
            self._check_field_access(self._fields[field_expr], "read")
            name = self._kpi_join(alias, query, ranked=field_expr in KPI_RANK_FIELDS)
            return self._kpi_field_sql(field_expr, name)
        if field_expr == "kpi_currency_id":
            # the currency of the aggregated amounts of a grouped list
            return SQL("%s", self.env.company.currency_id.id)
        return super()._field_to_sql(alias, field_expr, query)

    def _kpi_search(self, fname, operator, value):
        if operator == "=":
            operator, value = "in", [value]
        elif operator == "!=":
            operator, value = "not in", [value]
        field = self._fields[fname]

        def to_sql(model, alias, query):
            return field.condition_to_sql(fname, operator, value, model, alias, query)

        return Domain.custom(to_sql=to_sql)

    @api.depends_context("company")
    def _compute_kpi_currency(self):
        self.kpi_currency_id = self.env.company.currency_id

    @api.depends_context("company", "uid", "allowed_company_ids")
    def _compute_kpi_customer(self):
        self._kpi_read_sql(KPI_STAT_FIELDS, ranked=False)

    @api.depends_context("company", "uid", "allowed_company_ids")
    def _compute_kpi_rank(self):
        self._kpi_read_sql(KPI_RANK_FIELDS, ranked=True)

    def _kpi_read_sql(self, fnames, ranked):
        """Compute ``fnames`` of the partners in one query, with the very
        expressions their searches and sorts use."""
        ids = {p._origin.id for p in self if p._origin.id}
        values = {}
        if ids:
            Stat = self.env["crm.kpi.customer.stat"]
            Stat._kpi_refresh_pending()
            commercial = sorted(set(self.browse(ids).commercial_partner_id.ids)) or [0]
            query = Query(self.env, self._table, SQL.identifier(self._table))
            query.add_where(
                SQL("%s IN %s", SQL.identifier(self._table, "id"), tuple(ids))
            )
            name = self._kpi_join(self._table, query, ranked, commercial)
            rows = self.env.execute_query(
                query.select(
                    SQL.identifier(self._table, "id"),
                    *(self._kpi_field_sql(f, name) for f in fnames),
                )
            )
            values = {row[0]: row[1:] for row in rows}
        for partner in self:
            row = values.get(partner._origin.id)
            for index, fname in enumerate(fnames):
                value = row[index] if row else None
                field = self._fields[fname]
                if value is None:
                    value = False if field.type in ("date", "selection", "char") else 0
                    if field.type == "boolean":
                        value = False
                elif field.type in ("float", "monetary"):
                    value = float(value)
                partner[fname] = value

    # -- keeping the figures in step --------------------------------------------
    def write(self, vals):
        moved = "parent_id" in vals or "is_company" in vals
        if moved:
            # the commercial entity changes: the old one and the new one
            old = set(self.commercial_partner_id.ids) | set(self.ids)
        result = super().write(vals)
        if moved:
            self.env["crm.kpi.customer.stat"]._kpi_mark(partners=old)
        return result

    def action_open_kpi_orders(self):
        self.ensure_one()
        partner = self.commercial_partner_id
        if self.env.company.kpi_revenue_source == "invoice":
            return {
                "type": "ir.actions.act_window",
                "name": self.env._("Revenue events"),
                "res_model": "account.move",
                "views": [(False, "list"), (False, "form")],
                "domain": [
                    ("commercial_partner_id", "=", partner.id),
                    ("state", "=", "posted"),
                    ("move_type", "in", ("out_invoice", "out_refund")),
                ],
            }
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Revenue events"),
            "res_model": "sale.order",
            "views": [(False, "list"), (False, "form")],
            "domain": [
                ("partner_id", "child_of", partner.id),
                ("state", "=", "sale"),
            ],
        }

    # -- perception (surveys) --------------------------------------------------
    kpi_nps_score = fields.Integer(
        "Latest NPS Score",
        compute="_compute_kpi_perception",
        help="Score of the customer's latest valid NPS response (0–10).",
    )
    kpi_nps_category = fields.Selection(
        NPS_CATEGORIES,
        string="NPS Category",
        compute="_compute_kpi_perception",
        help="Promoter (9–10), passive (7–8) or detractor (0–6), from the latest "
        "NPS response.",
    )
    kpi_nps_date = fields.Datetime(
        "Latest NPS Response", compute="_compute_kpi_perception"
    )
    kpi_open_ticket_count = fields.Integer(
        "Open Tickets",
        compute="_compute_kpi_perception",
        help="Helpdesk tickets of the customer (and its contacts) not in a "
        "closed stage.",
    )
    kpi_ticket_count = fields.Integer(
        "Total Tickets",
        compute="_compute_kpi_perception",
        help="All helpdesk tickets of the customer and its contacts.",
    )

    @api.depends_context("uid", "company", "allowed_company_ids")
    def _compute_kpi_perception(self):
        """One grouped query per source for all partners on screen, on the
        commercial entity, through the current user's record rules."""
        commercial = {p.id: p.commercial_partner_id.id for p in self}
        ids = sorted({c for c in commercial.values() if c})
        nps, tickets = {}, {}
        if ids:
            Input = self.env["survey.user_input"]
            if Input.has_access("read"):
                Input.flush_model()
                query = Input._search(
                    [
                        ("kpi_partner_id", "in", ids),
                        # survey responses have no company rule: keep the
                        # scores of the user's companies only
                        ("kpi_company_id", "in", self.env.companies.ids),
                        ("kpi_survey_type", "=", "nps"),
                        ("kpi_valid", "=", True),
                        ("state", "=", "done"),
                    ]
                )
                self.env.cr.execute(
                    SQL(
                        """SELECT DISTINCT ON (ui.kpi_partner_id)
                                  ui.kpi_partner_id, ui.kpi_score, ui.end_datetime
                             FROM survey_user_input ui
                            WHERE ui.id IN %s
                            ORDER BY ui.kpi_partner_id, ui.end_datetime DESC NULLS LAST,
                                     ui.id DESC""",
                        query.subselect(),
                    )
                )
                nps = {pid: (score, day) for pid, score, day in self.env.cr.fetchall()}
            Ticket = self.env["helpdesk.ticket"]
            if Ticket.has_access("read"):
                Ticket.flush_model()
                self.env["helpdesk.ticket.stage"].flush_model(["closed"])
                query = Ticket._search([("commercial_partner_id", "in", ids)])
                self.env.cr.execute(
                    SQL(
                        """SELECT t.commercial_partner_id, COUNT(*),
                                  COUNT(*) FILTER (WHERE NOT COALESCE(st.closed, FALSE))
                             FROM helpdesk_ticket t
                             LEFT JOIN helpdesk_ticket_stage st ON st.id = t.stage_id
                            WHERE t.id IN %s
                            GROUP BY t.commercial_partner_id""",
                        query.subselect(),
                    )
                )
                tickets = {
                    pid: (n, n_open) for pid, n, n_open in self.env.cr.fetchall()
                }
        for partner in self:
            pid = commercial.get(partner.id)
            score, day = nps.get(pid, (None, False))
            total, n_open = tickets.get(pid, (0, 0))
            partner.kpi_nps_score = int(score) if score is not None else 0
            partner.kpi_nps_category = (
                nps_category(score) if score is not None else False
            )
            partner.kpi_nps_date = day
            partner.kpi_ticket_count = total
            partner.kpi_open_ticket_count = n_open

    def action_open_kpi_tickets(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Tickets"),
            "res_model": "helpdesk.ticket",
            "views": [(False, "list"), (False, "form")],
            "domain": [("commercial_partner_id", "=", self.commercial_partner_id.id)],
        }
