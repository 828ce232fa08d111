"""Sales family: pipeline, win rate, cycle, response and activity KPIs."""

from odoo import models
from odoo.fields import Domain
from odoo.tools import SQL

from ..kpi.base import COMPANY, _lt, count, ratio
from ..kpi.events import SCOPE_COLUMNS, lead_company_condition
from ..kpi.messages import (
    internal_author,
    lead_message_summary,
    lead_messages_sql,
    response_condition,
)
from .crm_kpi_drillable import ids_domain

NO_CALL = _lt("no sales call completed in the period")

# the company, sales team and salesperson columns of a GROUPING SETS query
SCOPES = SCOPE_COLUMNS


class CrmKpiFamilySales(models.AbstractModel):
    _name = "crm.kpi.family.sales"
    _inherit = "crm.kpi.family"
    _description = "CRM KPI family: sales"
    _kpi_area = "sales"
    # heavy reads (the period's leads and their first answers)
    _kpi_read_weight = 4

    def _kpi_codes(self):
        return (
            "prospects",
            "deals_won",
            "deals_lost",
            "win_rate",
            "win_rate_value",
            "lead_conversion_rate",
            "average_deal_size",
            "sales_cycle_days",
            "deal_duration_days",
            "sales_response_hours",
            "unanswered_leads",
            "sales_calls",
            "sales_calls_leaders_share",
            "outbound_emails",
            "inquiries_email",
            "inquiries_website",
            "campaign_responses",
        )

    def _ref(self, xmlid):
        return self.env["ir.model.data"]._xmlid_to_res_id(
            xmlid, raise_if_not_found=False
        )

    def _leads_sql(self):
        ctx = self.ctx
        return SQL(
            """
            SELECT l.id, l.team_id, l.user_id, l.create_date, l.date_closed,
                   l.date_conversion, l.won_status, l.expected_revenue,
                   l.campaign_id, l.medium_id,
                   (l.create_date >= %(a)s AND l.create_date < %(b)s) AS created,
                   -- deals are opportunities: a lead (type 'lead') lost or
                   -- archived before it was qualified is no lost deal
                   (l.type = 'opportunity' AND l.won_status = 'won'
                    AND l.date_closed >= %(a)s AND l.date_closed < %(b)s) AS won,
                   (l.type = 'opportunity' AND l.won_status = 'lost'
                    AND l.date_closed >= %(a)s AND l.date_closed < %(b)s) AS lost
              FROM crm_lead l
             WHERE %(company)s
               AND ((l.create_date >= %(a)s AND l.create_date < %(b)s)
                    OR (l.date_closed >= %(a)s AND l.date_closed < %(b)s))
            """,
            a=ctx.start_utc,
            b=ctx.end_utc,
            company=lead_company_condition(self.company.id),
        )

    def _rows_sql(self):
        """The leads created or closed in the period, with their first
        response and whether they came in by email.

        The messages of a created lead are read once, through the
        (model, res_id) index, for both (a join of all the leads' messages by
        hash read every email of every lead)."""
        return SQL(
            """
            WITH leads AS (%(leads)s)
            SELECT leads.*, msg.first_date,
                   EXTRACT(EPOCH FROM msg.first_date - leads.create_date)
                       / 3600.0 AS response_hours,
                   (COALESCE(msg.inbound, FALSE)
                    OR leads.medium_id = %(email_medium)s) AS by_email
              FROM leads
              LEFT JOIN LATERAL (
                  SELECT MIN(m.date) FILTER (WHERE %(response)s) AS first_date,
                         BOOL_OR(m.message_type = 'email'
                                 AND m.date <= leads.create_date
                                              + INTERVAL '5 minutes'
                                 AND NOT %(internal)s) AS inbound
                    FROM mail_message m
                   WHERE m.model = 'crm.lead' AND m.res_id = leads.id
                     AND leads.created
              ) msg ON TRUE
            """,
            leads=self._leads_sql(),
            response=response_condition(),
            internal=internal_author(),
            email_medium=self._ref("utm.utm_medium_email") or 0,
        )

    def _kpi_compute(self):
        rows = self._fetch_heavy(
            SQL(
                """
                WITH rows AS (%(rows)s)
                SELECT %(scopes)s,
                       COUNT(*) FILTER (WHERE created) AS prospects,
                       COUNT(*) FILTER (WHERE won) AS won,
                       COUNT(*) FILTER (WHERE lost) AS lost,
                       COALESCE(SUM(expected_revenue) FILTER (WHERE won), 0)
                           AS won_value,
                       COALESCE(SUM(expected_revenue) FILTER (WHERE lost), 0)
                           AS lost_value,
                       COALESCE(SUM(EXTRACT(EPOCH FROM date_closed - create_date))
                                FILTER (WHERE won), 0) / 86400.0 AS cycle_days,
                       COALESCE(SUM(EXTRACT(EPOCH FROM date_closed
                                    - COALESCE(date_conversion, create_date)))
                                FILTER (WHERE won), 0) / 86400.0 AS duration_days,
                       COUNT(*) FILTER (WHERE created AND first_date IS NOT NULL)
                           AS answered,
                       COALESCE(SUM(response_hours) FILTER (WHERE created), 0)
                           AS response_hours,
                       COUNT(*) FILTER (WHERE created AND first_date IS NULL)
                           AS unanswered,
                       COUNT(*) FILTER (WHERE created AND by_email) AS by_email,
                       COUNT(*) FILTER (WHERE created AND medium_id = %(website)s)
                           AS by_website,
                       COUNT(*) FILTER (WHERE created AND campaign_id IS NOT NULL)
                           AS campaign_responses
                  FROM rows
                 GROUP BY GROUPING SETS ((), (team_id), (user_id))
                """,
                rows=self._rows_sql(),
                website=self._ref("utm.utm_medium_website") or 0,
                scopes=SCOPES,
            )
        )
        messages = self._message_counts()
        results = {}
        for r in rows:
            key = (r["scope"], r["scope_id"])
            if key[0] != "company" and key[1] is None:
                continue
            decided = r["won"] + r["lost"]
            results[key] = {
                "prospects": count(r["prospects"]),
                "deals_won": count(r["won"]),
                "deals_lost": count(r["lost"]),
                "win_rate": ratio(r["won"], decided, note=_lt("no deal won or lost")),
                "win_rate_value": ratio(
                    r["won_value"],
                    r["won_value"] + r["lost_value"],
                    note=_lt("no expected revenue on deals won or lost"),
                ),
                "lead_conversion_rate": ratio(
                    r["won"], r["prospects"], note=_lt("no lead created")
                ),
                "average_deal_size": ratio(
                    r["won_value"], r["won"], note=_lt("no deal won")
                ),
                "sales_cycle_days": ratio(
                    r["cycle_days"], r["won"], note=_lt("no deal won")
                ),
                "deal_duration_days": ratio(
                    r["duration_days"], r["won"], note=_lt("no deal won")
                ),
                "sales_response_hours": ratio(
                    r["response_hours"],
                    r["answered"],
                    note=_lt("no lead of the period answered"),
                ),
                "unanswered_leads": count(r["unanswered"]),
                "inquiries_email": count(r["by_email"]),
                "inquiries_website": count(r["by_website"]),
                "campaign_responses": count(r["campaign_responses"]),
                "sales_calls": count(0),
                "sales_calls_leaders_share": ratio(0, 0, note=NO_CALL),
                "outbound_emails": count(0),
            }
        for key, m in messages.items():
            res = results.setdefault(key, {})
            res["sales_calls"] = count(m["calls"])
            res["sales_calls_leaders_share"] = ratio(
                m["leader_calls"], m["calls"], note=NO_CALL
            )
            res["outbound_emails"] = count(m["emails"])
        return results

    def _team_leader_ids(self):
        """The leaders of the company's sales teams (and of the teams shared
        by all companies), archived teams included: a past period keeps its
        leaders' calls."""
        teams = (
            self.env["crm.team"]
            .with_context(active_test=False)
            .search([("company_id", "in", [self.company.id, False])])
        )
        return set(teams.user_id.ids)

    def _messages_sql(self):
        return lead_messages_sql(self.ctx)

    def _message_counts(self):
        """Calls and emails per scope, from the period's lead messages read
        once with the adoption family."""
        counts = {}
        leaders = self._team_leader_ids()
        for r in lead_message_summary(self.ctx):
            keys = [COMPANY, ("user", r["user_id"])]
            if r["team_id"]:
                keys.append(("team", r["team_id"]))
            for key in keys:
                c = counts.setdefault(key, {"calls": 0, "leader_calls": 0, "emails": 0})
                c["calls"] += r["calls"]
                if r["user_id"] in leaders:
                    c["leader_calls"] += r["calls"]
                c["emails"] += r["emails"]
        return counts

    # -- drill-down ----------------------------------------------------------
    def _kpi_drill(self, code, scope, scope_id, part):
        if code in ("sales_calls", "outbound_emails", "sales_calls_leaders_share"):
            column = SQL("is_email" if code == "outbound_emails" else "is_call")
            if code == "sales_calls_leaders_share" and part == "numerator":
                column = SQL(
                    "is_call AND user_id = ANY(%s)", list(self._team_leader_ids())
                )
            return "mail.message", ids_domain(
                SQL(
                    "WITH msgs AS (%s) SELECT id FROM msgs WHERE %s AND %s",
                    self._messages_sql(),
                    column,
                    self._scope_sql(scope, scope_id),
                )
            )
        created = "created"
        decided = "(won OR lost)"
        sets = {
            "prospects": (created, None),
            "deals_won": ("won", None),
            "deals_lost": ("lost", None),
            "win_rate": ("won", decided),
            "win_rate_value": ("won", decided),
            "lead_conversion_rate": ("won", created),
            "average_deal_size": ("won", "won"),
            "sales_cycle_days": ("won", "won"),
            "deal_duration_days": ("won", "won"),
            "sales_response_hours": (
                "created AND first_date IS NOT NULL",
                "created AND first_date IS NOT NULL",
            ),
            "unanswered_leads": ("created AND first_date IS NULL", None),
            "inquiries_email": ("created AND by_email", None),
            "inquiries_website": (
                SQL(
                    "created AND medium_id = %s",
                    self._ref("utm.utm_medium_website") or 0,
                ),
                None,
            ),
            "campaign_responses": ("created AND campaign_id IS NOT NULL", None),
        }
        num, den = sets.get(code, (None, None))
        condition = num if part == "numerator" else den
        if not condition:
            return None
        rows = ids_domain(
            SQL(
                "WITH rows AS (%s) SELECT id FROM rows WHERE %s AND %s",
                self._rows_sql(),
                # constant expressions of this class only
                condition if isinstance(condition, SQL) else SQL(condition),
                self._scope_sql(scope, scope_id),
            )
        )
        # archived (lost) leads too
        return "crm.lead", rows & Domain(
            ["|", ("active", "=", True), ("active", "=", False)]
        )

    def _kpi_recount_rules(self):
        counted = ("count", None)
        both = ("count", "count")
        return {
            "prospects": counted,
            "deals_won": counted,
            "deals_lost": counted,
            "win_rate": both,
            "win_rate_value": ("expected_revenue", "expected_revenue"),
            "lead_conversion_rate": both,
            "average_deal_size": ("expected_revenue", "count"),
            "sales_cycle_days": (None, "count"),
            "deal_duration_days": (None, "count"),
            "sales_response_hours": (None, "count"),
            "unanswered_leads": counted,
            "sales_calls": counted,
            "sales_calls_leaders_share": both,
            "outbound_emails": counted,
            "inquiries_email": counted,
            "inquiries_website": counted,
            "campaign_responses": counted,
        }

    @staticmethod
    def _scope_sql(scope, scope_id):
        if scope == "team":
            return SQL("team_id = %s", scope_id)
        if scope == "user":
            return SQL("user_id = %s", scope_id)
        return SQL("TRUE")
