"""Confirmed sale orders are revenue events (``crm.kpi.revenue.document``)."""

from odoo import models


class SaleOrder(models.Model):
    _name = "sale.order"
    _inherit = ["sale.order", "crm.kpi.revenue.document", "crm.kpi.drillable"]

    _kpi_mark_key = "orders"
    _kpi_event_fields = frozenset(
        {
            "state",
            "date_order",
            "partner_id",
            "company_id",
            "currency_rate",
            "team_id",
            "user_id",
        }
    )
    _kpi_customer_change_fields = frozenset({"partner_id", "company_id"})

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

    def _compute_amounts(self):
        # a line of a confirmed order changed: its untaxed amount changes
        result = super()._compute_amounts()
        self._kpi_mark_documents(self._kpi_event_ids())
        return result

    def _compute_margin(self):
        # the margin of a confirmed order changed (a line's cost edited): the
        # running margins kept on its customer's first-purchase rows change
        result = super()._compute_margin()
        self._kpi_mark_documents(self._kpi_event_ids())
        return result
