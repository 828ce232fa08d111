"""Posted customer invoices and refunds are revenue events when the company
counts its revenue from invoices (``crm.kpi.revenue.document``)."""

from odoo import models

EVENT_TYPES = ("out_invoice", "out_refund")


class AccountMove(models.Model):
    _name = "account.move"
    _inherit = ["account.move", "crm.kpi.revenue.document", "crm.kpi.drillable"]

    _kpi_mark_key = "moves"
    _kpi_event_fields = frozenset(
        {
            "state",
            "invoice_date",
            "partner_id",
            "commercial_partner_id",
            "move_type",
            "company_id",
            "team_id",
            "invoice_user_id",
        }
    )
    # the customer or company may change: the old customers too
    _kpi_customer_change_fields = _kpi_event_fields - {
        "state",
        "invoice_date",
        "team_id",
        "invoice_user_id",
    }
    _kpi_customer_field = "commercial_partner_id"

    def _kpi_event_ids(self):
        """The moves of ``self`` that are revenue events of a company that
        counts its revenue from invoices."""
        return [
            move.id
            for move in self
            if move.id
            and move.state == "posted"
            and move.move_type in EVENT_TYPES
            and move.company_id.sudo().kpi_revenue_source == "invoice"
        ]

    def _compute_amount(self):
        result = super()._compute_amount()
        self._kpi_mark_documents(self._kpi_event_ids())
        return result
