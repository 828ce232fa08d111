"""Confirmed sale orders are revenue events: their changes mark the
customer figures to recompute (``crm.kpi.customer.stat``), without a query
per order or line; the figures are recomputed once for the whole
transaction."""

from odoo import api, models

# the fields of an order that its revenue event is made of
EVENT_FIELDS = {"state", "date_order", "partner_id", "company_id", "currency_rate"}


class SaleOrder(models.Model):
    _inherit = "sale.order"

    def _kpi_event_ids(self):
        """The orders of ``self`` that are revenue events of a company that
        counts its revenue from sale orders."""
        return [
            order.id
            for order in self
            if order.id
            and order.state == "sale"
            and order.company_id.sudo().kpi_revenue_source != "invoice"
        ]

    @api.model_create_multi
    def create(self, vals_list):
        orders = super().create(vals_list)
        self.env["crm.kpi.customer.stat"]._kpi_mark(orders=orders._kpi_event_ids())
        return orders

    def write(self, vals):
        if not EVENT_FIELDS.intersection(vals):
            return super().write(vals)
        # revenue events before the change (a cancelled, reset or moved order
        # leaves its customer's figures)
        before = self._kpi_event_ids()
        old_partners = []
        if "partner_id" in vals or "company_id" in vals:
            Stat = self.env["crm.kpi.customer.stat"]
            old_partners = Stat._kpi_involved(self, "orders").partner_id.ids
        result = super().write(vals)
        self.env["crm.kpi.customer.stat"]._kpi_mark(
            partners=old_partners, orders=before + self._kpi_event_ids()
        )
        return result

    def unlink(self):
        Stat = self.env["crm.kpi.customer.stat"]
        Stat._kpi_mark(partners=Stat._kpi_involved(self, "orders").partner_id.ids)
        return super().unlink()

    def _compute_amounts(self):
        # a line of a confirmed order changed: its untaxed amount changes
        result = super()._compute_amounts()
        self.env["crm.kpi.customer.stat"]._kpi_mark(orders=self._kpi_event_ids())
        return result
