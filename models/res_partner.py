from odoo import api, fields, models
from odoo.fields import Domain
from odoo.tools import SQL

from .survey_user_input import NPS_CATEGORIES, nps_category

STATUS = [
    ("prospect", "No purchase yet"),
    ("new", "New"),
    ("active", "Active"),
    ("at_risk", "At risk"),
    ("lost", "Lost"),
]
NEW_DAYS = 90


class ResPartner(models.Model):
    _inherit = "res.partner"

    kpi_currency_id = fields.Many2one(
        "res.currency", compute="_compute_kpi_customer", string="KPI Currency"
    )
    kpi_lifetime_revenue = fields.Monetary(
        "Lifetime Revenue",
        compute="_compute_kpi_customer",
        currency_field="kpi_currency_id",
    )
    kpi_order_count = fields.Integer("Revenue Events", compute="_compute_kpi_customer")
    kpi_first_purchase_date = fields.Date(
        "First Purchase", compute="_compute_kpi_customer"
    )
    kpi_last_purchase_date = fields.Date(
        "Last Purchase", compute="_compute_kpi_customer"
    )
    kpi_average_order_value = fields.Monetary(
        "Average Order Value",
        compute="_compute_kpi_customer",
        currency_field="kpi_currency_id",
    )
    kpi_purchase_frequency = fields.Float(
        "Purchases per Year",
        compute="_compute_kpi_customer",
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
        currency_field="kpi_currency_id",
        help="Average order value × purchases per year × expected lifetime in years "
        "(1 / the company's annual churn rate).",
    )

    # ------------------------------------------------------------------
    def _kpi_events_query(self, partner_ids=None):
        """The revenue events the current user may read, as a SQL query of
        (commercial partner, company, date, amount in company currency).
        Record rules apply: a user never sees amounts of companies or orders
        he cannot read."""
        company = self.env.company
        source = (
            "account.move" if company.kpi_revenue_source == "invoice" else "sale.order"
        )
        if not self.env[source].has_access("read"):
            # no right on the documents (a helpdesk-only user): no events
            return SQL(
                "SELECT NULL::int AS partner_id, NULL::int AS company_id,"
                " NULL::date AS day, NULL::numeric AS amount WHERE FALSE"
            )
        if source == "account.move":
            Move = self.env["account.move"]
            domain = [
                ("state", "=", "posted"),
                ("move_type", "in", ("out_invoice", "out_refund")),
            ]
            if partner_ids is not None:
                domain.append(("commercial_partner_id", "in", partner_ids))
            query = Move._search(domain)
            return SQL(
                """SELECT am.commercial_partner_id AS partner_id, am.company_id,
                          am.invoice_date AS day,
                          am.amount_untaxed_signed AS amount
                     FROM account_move am WHERE am.id IN %s""",
                query.subselect(),
            )
        Order = self.env["sale.order"]
        domain = [("state", "=", "sale")]
        if partner_ids is not None:
            domain.append(("partner_id.commercial_partner_id", "in", partner_ids))
        query = Order._search(domain)
        return SQL(
            """SELECT rp.commercial_partner_id AS partner_id, so.company_id,
                      ((so.date_order AT TIME ZONE 'UTC') AT TIME ZONE %s)::date
                          AS day,
                      so.amount_untaxed / COALESCE(NULLIF(so.currency_rate, 0), 1.0)
                          AS amount
                 FROM sale_order so JOIN res_partner rp ON rp.id = so.partner_id
                WHERE so.id IN %s""",
            company._kpi_tz(),
            query.subselect(),
        )

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

    @api.depends_context("company", "uid", "allowed_company_ids")
    def _compute_kpi_customer(self):
        currency = self.env.company.currency_id
        commercial = {p.id: p.commercial_partner_id.id for p in self}
        ids = sorted({c for c in commercial.values() if c})
        stats = {}
        if ids:
            self.env.flush_all()
            self.env.cr.execute(
                SQL(
                    """WITH ev AS (%s)
                       SELECT partner_id, company_id, COUNT(*) AS n,
                              SUM(amount) AS amount,
                              MIN(day) AS first_day, MAX(day) AS last_day
                         FROM ev GROUP BY partner_id, company_id""",
                    self._kpi_events_query(ids),
                )
            )
            # fetch before anything else may query on the same cursor
            rows = self.env.cr.fetchall()
            companies = self.env["res.company"].sudo()
            today = fields.Date.context_today(self)
            for pid, cid, n, amount, first, last in rows:
                company = companies.browse(cid)
                if company.currency_id != currency:
                    amount = company.currency_id._convert(
                        amount or 0.0, currency, self.env.company, today
                    )
                s = stats.setdefault(
                    pid, {"n": 0, "amount": 0.0, "first": first, "last": last}
                )
                s["n"] += n
                s["amount"] += amount or 0.0
                s["first"] = min(s["first"], first)
                s["last"] = max(s["last"], last)
        window = self.env.company.kpi_activity_window_days or 365
        churn = self._kpi_annual_churn() if stats else 0.0
        today = fields.Date.context_today(self)
        for partner in self:
            s = stats.get(commercial.get(partner.id))
            partner.kpi_currency_id = currency
            if not s:
                partner.update(
                    {
                        "kpi_lifetime_revenue": 0.0,
                        "kpi_order_count": 0,
                        "kpi_first_purchase_date": False,
                        "kpi_last_purchase_date": False,
                        "kpi_average_order_value": 0.0,
                        "kpi_purchase_frequency": 0.0,
                        "kpi_customer_status": "prospect",
                        "kpi_predicted_clv": 0.0,
                    }
                )
                continue
            aov = s["amount"] / s["n"]
            years = max((today - s["first"]).days, 1) / 365.0
            frequency = s["n"] / max(years, 1.0)
            partner.update(
                {
                    "kpi_lifetime_revenue": s["amount"],
                    "kpi_order_count": s["n"],
                    "kpi_first_purchase_date": s["first"],
                    "kpi_last_purchase_date": s["last"],
                    "kpi_average_order_value": aov,
                    "kpi_purchase_frequency": frequency,
                    "kpi_customer_status": self._kpi_status(s, today, window),
                    "kpi_predicted_clv": aov * frequency / churn if churn else 0.0,
                }
            )

    @staticmethod
    def _kpi_status(stats, today, window):
        idle = (today - stats["last"]).days
        if idle >= window:
            return "lost"
        if idle >= window / 2:
            return "at_risk"
        if (today - stats["first"]).days < NEW_DAYS:
            return "new"
        return "active"

    def _search_kpi_customer_status(self, operator, value):
        if operator not in ("=", "!=", "in", "not in"):
            return NotImplemented
        wanted = {value} if isinstance(value, str) else set(value or ())
        today = fields.Date.context_today(self)
        window = self.env.company.kpi_activity_window_days or 365
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """WITH ev AS (%s)
                   SELECT partner_id, MIN(day), MAX(day) FROM ev GROUP BY partner_id""",
                self._kpi_events_query(),
            )
        )
        buyers = {}
        for pid, first, last in self.env.cr.fetchall():
            buyers[pid] = self._kpi_status(
                {"first": first, "last": last}, today, window
            )
        matching = [pid for pid, status in buyers.items() if status in wanted]
        if "prospect" in wanted:
            domain = Domain("commercial_partner_id", "in", matching) | Domain(
                "commercial_partner_id", "not in", list(buyers)
            )
        else:
            domain = Domain("commercial_partner_id", "in", matching)
        return ~domain if operator in ("!=", "not in") else domain

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
