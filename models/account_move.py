"""Posted customer invoices and refunds are revenue events (company
setting): their changes mark the customer figures to recompute
(``crm.kpi.customer.stat``), without a query per move or line; the figures
are recomputed once for the whole transaction."""

from odoo import api, models

EVENT_FIELDS = {
    "state",
    "invoice_date",
    "partner_id",
    "commercial_partner_id",
    "move_type",
    "company_id",
}
EVENT_TYPES = ("out_invoice", "out_refund")


class AccountMove(models.Model):
    _inherit = "account.move"

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

    @api.model_create_multi
    def create(self, vals_list):
        moves = super().create(vals_list)
        self.env["crm.kpi.customer.stat"]._kpi_mark(moves=moves._kpi_event_ids())
        return moves

    def write(self, vals):
        if not EVENT_FIELDS.intersection(vals):
            return super().write(vals)
        before = self._kpi_event_ids()
        old_partners = []
        if EVENT_FIELDS.intersection(vals) - {"state", "invoice_date"}:
            # the customer or company may change: the old customers too
            Stat = self.env["crm.kpi.customer.stat"]
            old_partners = Stat._kpi_involved(self, "moves").commercial_partner_id.ids
        result = super().write(vals)
        self.env["crm.kpi.customer.stat"]._kpi_mark(
            partners=old_partners, moves=before + self._kpi_event_ids()
        )
        return result

    def unlink(self):
        Stat = self.env["crm.kpi.customer.stat"]
        Stat._kpi_mark(
            partners=Stat._kpi_involved(self, "moves").commercial_partner_id.ids
        )
        return super().unlink()

    def _compute_amount(self):
        result = super()._compute_amount()
        self.env["crm.kpi.customer.stat"]._kpi_mark(moves=self._kpi_event_ids())
        return result
