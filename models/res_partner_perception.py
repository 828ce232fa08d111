from odoo import api, fields, models
from odoo.tools import SQL

from .survey_user_input import NPS_CATEGORIES, nps_category


class ResPartner(models.Model):
    _inherit = "res.partner"

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
