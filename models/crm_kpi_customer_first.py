"""The first revenue event of each customer, per company, sales team and
salesperson, kept in step with the documents.

One row per (commercial partner, company, sales team, salesperson) with a
revenue event in that company (the company's own revenue source: confirmed
sale orders, or posted customer invoices and refunds): the moment of the
first such event (``first_at``: the UTC order date, or the invoice date),
the ``at`` column of the revenue events (``kpi/events.py``).

Whether a customer is new in a period, or was known before it, in a scope,
is read here instead of from every event since the beginning: the period's
computation, the cohorts and the drill-downs read the events of the recent
months only, whatever the length of the history.

Each row also keeps all its events (their moments, and the running totals
of their amounts and margins, sorted) and how many rows its customer has in
the company (``partner_rows``): the period's customers (active at its start
and end, new, lost, their amounts of the period, the previous period, the
trailing year and the comparison periods) and the drill-downs behind them
count a row's events in each window with two binary searches of its array,
and classify a customer with one row without grouping, instead of reading
the documents of the activity windows.  A change of a document's amount or
margin (a line of a confirmed order) marks its customer too.

The rows are recomputed with the customer figures (``crm.kpi.customer.stat``:
the same marks, the same grouped statement), for the customers whose
documents changed in the transaction.  A team or salesperson deleted sets
the documents' column to empty: their rows go first, and their customers
are recomputed.
"""

from odoo import api, fields, models
from odoo.tools import SQL

STAT = "crm.kpi.customer.stat"


class CrmKpiCustomerFirst(models.Model):
    _name = "crm.kpi.customer.first"
    _description = "CRM KPI first revenue event of a customer per scope"
    _log_access = False
    _order = "company_id, first_at, partner_id"
    _rec_name = "partner_id"

    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        readonly=True,
        ondelete="cascade",
        index=True,
        help="The commercial partner whose first revenue event this is.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, ondelete="cascade"
    )
    team_id = fields.Many2one(
        "crm.team", string="Sales Team", readonly=True, ondelete="set null"
    )
    user_id = fields.Many2one(
        "res.users", string="Salesperson", readonly=True, ondelete="set null"
    )
    first_at = fields.Datetime(
        "First Purchase",
        required=True,
        readonly=True,
        help="When the customer's first revenue event of this company, sales "
        "team and salesperson happened.",
    )
    first_day = fields.Date(
        "First Purchase Day",
        readonly=True,
        help="The local date (in the company's KPI timezone) of the first "
        "revenue event of this company, sales team and salesperson.",
    )
    first_document_id = fields.Integer(
        readonly=True,
        help="The lowest id of the documents of the first purchase day: the "
        "cohorts give a customer the sales team of his first event, the "
        "first by number of his first day.",
    )
    partner_rows = fields.Integer(
        "Scopes of the Customer",
        readonly=True,
        help="How many rows the customer has in this company (one per sales "
        "team and salesperson he bought from).",
    )
    # Columns created with the table's fill (the ORM has no array field:
    # crm.kpi.customer.stat, FIRST_EVENT_COLUMNS), one element per revenue
    # event of the row, in the order of their moments: ``event_ats``
    # (``timestamp[]``, as ``first_at``), ``event_revenue`` and
    # ``event_margin`` (``numeric[]``, running totals of the untaxed amounts
    # and margins in the company currency).  How many events of a row fall
    # in a window, and their amounts, take two binary searches and two
    # subtractions (``kpi/customers.py``) instead of reading the documents.

    # a period reads the rows of its company up to its end
    _company_first_idx = models.Index("(company_id, first_at)")
    # the customers with several rows, grouped apart (kpi/customers.py)
    _company_several_idx = models.Index("(company_id, first_at) WHERE partner_rows > 1")
    # one row per scope, also without team or salesperson; a table
    # constraint: the partner merge wizard then moves the rows of the merged
    # partners in a savepoint and drops the ones that collide, instead of
    # failing (their customers are recomputed after the merge)
    _scope_uniq = models.Constraint(
        "UNIQUE NULLS NOT DISTINCT (partner_id, company_id, team_id, user_id)",
        "One first purchase per customer, company, sales team and salesperson.",
    )

    def init(self):
        self.env[STAT]._kpi_fill()

    def flush_model(self, fnames=None):
        # a query that reads the rows first recomputes the customers marked
        # in this transaction
        self.env[STAT]._kpi_refresh_pending()
        return super().flush_model(fnames)

    @api.model
    def _kpi_mark_scopes(self, field, ids):
        """Before the sales teams or users ``ids`` are deleted (the documents
        then lose them): their rows go (emptied by the foreign key, two of
        them could fall on one scope), and their customers are recomputed."""
        if not ids:
            return
        self.env[STAT]._kpi_refresh_pending()
        self.env.cr.execute(
            SQL(
                "DELETE FROM crm_kpi_customer_first WHERE %s = ANY(%s)"
                " RETURNING partner_id",
                SQL.identifier(field),
                list(ids),
            )
        )
        partners = {row[0] for row in self.env.cr.fetchall()}
        self.invalidate_model()
        self.env[STAT]._kpi_mark(partners=partners)


class CrmTeam(models.Model):
    _inherit = "crm.team"

    def unlink(self):
        self.env["crm.kpi.customer.first"]._kpi_mark_scopes("team_id", self.ids)
        return super().unlink()


class ResUsers(models.Model):
    _inherit = "res.users"

    def unlink(self):
        self.env["crm.kpi.customer.first"]._kpi_mark_scopes("user_id", self.ids)
        return super().unlink()
