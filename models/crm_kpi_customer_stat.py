"""Revenue figures of a customer per company, kept in step with the documents.

One row per (commercial partner, company) with a revenue event in that
company: the number of events, their untaxed amount in the company currency
(each document converted at its own date, as the KPI engine does), and the
dates of the first and last event (local dates in the company's KPI
timezone).  The revenue events of a company are those of its own setting
(confirmed sale orders, or posted customer invoices and refunds).

The customer fields of ``res.partner`` (lifetime revenue, order count, first
and last purchase, average order value, frequency, status, predicted CLV,
RFM) are read, searched, sorted and grouped through these rows in SQL; what
depends on today (status, frequency, CLV) is computed at query time, so it
never goes stale as days pass.

Keeping the rows in step: the documents' hooks (sale orders, invoices,
partners, companies, the partner merge) only *mark* what changed
(:meth:`_kpi_mark`, no query); the marked customers are recomputed together
in one grouped statement (:meth:`_kpi_refresh`) before the transaction
commits, or earlier when a query reads the rows (the fields of the rows
carry ``to_flush``: flushing them runs the pending recomputation, as the ORM
does for its own stored computed fields).
"""

import logging

from odoo import api, fields, models, tools
from odoo.fields import Domain
from odoo.tools import SQL
from odoo.tools.safe_eval import safe_eval
from odoo.tools.sql import column_exists, create_column, table_exists

_logger = logging.getLogger(__name__)

PENDING = "crm_success_kpi.customer_stats"
RUNNING = "crm_success_kpi.customer_stats.running"

# the revenue events of each source, as the ORM domains of their documents
EVENT_DOMAINS = {
    "sale.order": [("state", "=", "sale")],
    "account.move": [
        ("state", "=", "posted"),
        ("move_type", "in", ("out_invoice", "out_refund")),
    ],
}
SOURCE_MODELS = {"order": "sale.order", "invoice": "account.move"}
# the columns of crm_kpi_customer_first that the ORM has no field for: the
# events of each row, in the order of their moments (``at``, then document)
FIRST_EVENT_COLUMNS = (
    ("event_ats", "timestamp[]", "Moments of the revenue events of this scope"),
    (
        "event_revenue",
        "numeric[]",
        "Running total of the untaxed amounts of these events",
    ),
    ("event_margin", "numeric[]", "Running total of the margins of these events"),
)


class CrmKpiCustomerStat(models.Model):
    _name = "crm.kpi.customer.stat"
    _description = "CRM KPI customer revenue per company"
    _log_access = False
    _order = "company_id, revenue desc, partner_id"
    _rec_name = "partner_id"

    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        readonly=True,
        ondelete="cascade",
        help="The commercial partner (the company, or the individual without a "
        "company) whose revenue events these are.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, ondelete="cascade", index=True
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    order_count = fields.Integer(
        "Revenue Events", readonly=True, help="Revenue events of the customer."
    )
    revenue = fields.Monetary(
        readonly=True,
        help="Untaxed amount of the revenue events in the company currency, each "
        "converted at its own date (refunds count negative).",
    )
    first_date = fields.Date("First Purchase", readonly=True)
    last_date = fields.Date("Last Purchase", readonly=True)

    # a table constraint (not only a unique index): the partner merge wizard
    # then moves the rows of the merged partners in a savepoint and drops the
    # ones that collide, instead of failing
    _partner_company_uniq = models.Constraint(
        "UNIQUE(partner_id, company_id)",
        "One row of revenue figures per customer and company.",
    )

    def init(self):
        self._kpi_fill()

    @api.model
    def _kpi_fill(self):
        """Fill the customer figures and first events set-wise at install
        (and on an upgrade that creates one of their tables or leaves rows
        without their events): one grouped
        statement over all the documents, once both tables exist (each
        model's ``init`` asks)."""
        cr = self.env.cr
        tables = ("crm_kpi_customer_stat", "crm_kpi_customer_first")
        if not all(table_exists(cr, table) for table in tables):
            return
        if not column_exists(cr, "crm_kpi_customer_first", "first_document_id"):
            # an upgrade: the table gets its new fields after this one
            return
        # the events of a scope: arrays, which the ORM has no field for
        # (crm.kpi.customer.first)
        for column, kind, comment in FIRST_EVENT_COLUMNS:
            if not column_exists(cr, "crm_kpi_customer_first", column):
                create_column(cr, "crm_kpi_customer_first", column, kind, comment)
        cr.execute(
            SQL(
                "SELECT EXISTS (SELECT 1 FROM crm_kpi_customer_stat),"
                " EXISTS (SELECT 1 FROM crm_kpi_customer_first),"
                # rows of a version without their events (an upgrade)
                " EXISTS (SELECT 1 FROM crm_kpi_customer_first"
                "          WHERE event_ats IS NULL OR event_revenue IS NULL"
                "             OR partner_rows IS NULL OR first_day IS NULL)"
            )
        )
        stats, firsts, incomplete = cr.fetchone()
        if not (stats and firsts) or incomplete:
            self._kpi_refresh()

    # -- marking ---------------------------------------------------------------
    @api.model
    def _kpi_mark(self, partners=(), orders=(), moves=(), companies=()):
        """Remember what changed in this transaction: ``partners`` (ids of
        partners whose commercial entity's figures change: the partner and
        its commercial partner are recomputed), ``orders`` and ``moves`` (ids
        of documents, resolved to their customers at recomputation), and
        ``companies`` (every customer of them is recomputed).  No query."""
        if not (partners or orders or moves or companies):
            return
        data = self.env.cr.precommit.data
        pending = data.get(PENDING)
        if pending is None:
            pending = data[PENDING] = {
                "partners": set(),
                "orders": set(),
                "moves": set(),
                "companies": set(),
            }
            self.env.cr.precommit.add(self.sudo()._kpi_refresh_pending)
        pending["partners"].update(p for p in partners if p)
        pending["orders"].update(o for o in orders if o)
        pending["moves"].update(m for m in moves if m)
        pending["companies"].update(c for c in companies if c)
        # what was read of the customer fields in this transaction is stale
        self.env["res.partner"].invalidate_model(
            self.env["res.partner"]._kpi_sql_fields(), flush=False
        )

    @api.model
    def _kpi_involved(self, records, key):
        """The documents of ``records`` whose customers' figures depend on
        them: the revenue events, and the documents marked earlier in the
        transaction (``key``: ``orders`` or ``moves``), e.g. an order just
        cancelled.  Marks are resolved to customers at recomputation: before
        a document is deleted or changes customer, its customers must be
        marked as such."""
        pending = self.env.cr.precommit.data.get(PENDING) or {}
        ids = set(records._kpi_event_ids()) | (
            set(records.ids) & pending.get(key, set())
        )
        return records.browse(sorted(ids))

    def flush_model(self, fnames=None):
        # a query that reads the rows (their fields are in its ``to_flush``)
        # first recomputes the customers marked in this transaction
        self._kpi_refresh_pending()
        return super().flush_model(fnames)

    def _kpi_refresh_pending(self):
        """Recompute, in one grouped statement, the customers marked in this
        transaction (:meth:`_kpi_mark`)."""
        data = self.env.cr.precommit.data
        if data.get(RUNNING):
            return
        # the amounts of the documents whose lines changed are recomputed
        # (which marks their customers); nothing to do, no query
        self.env["sale.order"].flush_model(["amount_untaxed", "margin"])
        self.env["account.move"].flush_model(["amount_untaxed_signed"])
        if not data.get(PENDING):
            return
        data[RUNNING] = True
        try:
            # the documents' pending changes are written first (their
            # computed amounts may mark more documents)
            self.env.flush_all()
            pending = data.pop(PENDING, None) or {}
            companies = sorted(pending.get("companies", ()))
            partners = self._kpi_resolve(
                pending.get("partners", ()),
                pending.get("orders", ()),
                pending.get("moves", ()),
            )
            if companies:
                self._kpi_refresh(company_ids=companies)
            if partners:
                self._kpi_refresh(partner_ids=partners)
        finally:
            data.pop(RUNNING, None)

    def _kpi_resolve(self, partners, orders, moves):
        """The commercial partners whose figures the marks change: the marked
        partners, their commercial partners, and the customers of the marked
        documents (in one query)."""
        partners, orders, moves = list(partners), list(orders), list(moves)
        if not (partners or orders or moves):
            return []
        self.env.cr.execute(
            SQL(
                """SELECT rp.commercial_partner_id
                     FROM sale_order so JOIN res_partner rp ON rp.id = so.partner_id
                    WHERE so.id = ANY(%(orders)s)
                   UNION
                   SELECT am.commercial_partner_id FROM account_move am
                    WHERE am.id = ANY(%(moves)s)
                   UNION
                   SELECT p.commercial_partner_id FROM res_partner p
                    WHERE p.id = ANY(%(partners)s)""",
                orders=orders,
                moves=moves,
                partners=partners,
            )
        )
        found = {row[0] for row in self.env.cr.fetchall() if row[0]}
        # a marked partner that is no longer a commercial entity loses its rows
        return sorted(found | set(partners))

    # -- recomputation -----------------------------------------------------------
    @api.model
    def _kpi_company_settings_sql(self):
        """``SELECT company_id, tz, source`` of every company: the timezone of
        its KPI dates and its revenue source (``order`` or ``invoice``)."""
        Company = self.env["res.company"]
        cr = self.env.cr
        if column_exists(cr, "res_company", "kpi_revenue_source"):
            source = SQL(
                "COALESCE(%s, 'order')",
                SQL.identifier(
                    "c",
                    "kpi_revenue_source",
                    to_flush=Company._fields["kpi_revenue_source"],
                ),
            )
        else:  # being installed: every company has the default
            source = SQL("'order'")
        if column_exists(cr, "res_company", "kpi_timezone"):
            tz = SQL(
                "NULLIF(%s, '')",
                SQL.identifier(
                    "c", "kpi_timezone", to_flush=Company._fields["kpi_timezone"]
                ),
            )
        else:
            tz = SQL("NULL")
        return SQL(
            """SELECT c.id AS company_id,
                      COALESCE(%(tz)s, NULLIF(cp.tz, ''), 'UTC') AS tz,
                      %(source)s AS source
                 FROM res_company c LEFT JOIN res_partner cp ON cp.id = c.partner_id""",
            tz=tz,
            source=source,
        )

    @api.model
    def _kpi_refresh(self, partner_ids=None, company_ids=None):
        """Recompute the rows of the commercial partners ``partner_ids`` (all
        when None) in the companies ``company_ids`` (all when None), from the
        documents, with every company's own revenue source: one grouped
        statement that deletes the rows without events any more and upserts
        the others (a row whose figures did not change is not rewritten),
        and does the same with the customers' first events per sales team
        and salesperson (``crm.kpi.customer.first``)."""

        def scope(partner_col, company_col):
            terms = []
            if partner_ids is not None:
                terms.append(SQL("%s = ANY(%s)", SQL(partner_col), list(partner_ids)))
            if company_ids is not None:
                terms.append(SQL("%s = ANY(%s)", SQL(company_col), list(company_ids)))
            return SQL(" AND ").join(terms) if terms else SQL("TRUE")

        self.env.cr.execute(
            SQL(
                """
                WITH settings AS (%(settings)s),
                ev AS (
                    SELECT rp.commercial_partner_id AS partner_id, so.company_id,
                           ((so.date_order AT TIME ZONE 'UTC') AT TIME ZONE st.tz)::date
                               AS day,
                           so.amount_untaxed
                               / COALESCE(NULLIF(so.currency_rate, 0), 1.0) AS amount,
                           so.margin
                               / COALESCE(NULLIF(so.currency_rate, 0), 1.0) AS margin,
                           so.team_id, so.user_id, so.date_order AS at, so.id AS res_id
                      FROM sale_order so
                      JOIN settings st
                        ON st.company_id = so.company_id AND st.source = 'order'
                      JOIN res_partner rp ON rp.id = so.partner_id
                     WHERE so.state = 'sale' AND %(so_scope)s
                    UNION ALL
                    SELECT am.commercial_partner_id, am.company_id, am.invoice_date,
                           am.amount_untaxed_signed, NULL::numeric, am.team_id,
                           am.invoice_user_id, am.invoice_date::timestamp, am.id
                      FROM account_move am
                      JOIN settings st
                        ON st.company_id = am.company_id AND st.source = 'invoice'
                     WHERE am.state = 'posted'
                       AND am.move_type IN ('out_invoice', 'out_refund')
                       AND am.commercial_partner_id IS NOT NULL
                       AND %(am_scope)s
                ),
                agg AS (
                    SELECT partner_id, company_id, COUNT(*) AS n,
                           COALESCE(SUM(amount), 0) AS revenue,
                           MIN(day) AS first_day, MAX(day) AS last_day
                      FROM ev
                     GROUP BY partner_id, company_id
                ),
                -- the events of each scope in order, with the running
                -- totals of their amounts and margins
                ev_run AS (
                    SELECT partner_id, company_id, team_id, user_id, at, res_id, day,
                           SUM(amount) OVER k AS run_amount,
                           SUM(margin) OVER k AS run_margin,
                           MIN(day) OVER (PARTITION BY partner_id, company_id,
                                                       team_id, user_id)
                               AS scope_first_day
                      FROM ev
                    WINDOW k AS (PARTITION BY partner_id, company_id, team_id, user_id
                                 ORDER BY at, res_id ROWS UNBOUNDED PRECEDING)
                ),
                -- the first events per scope: the rows of these customers
                -- without events any more go, the others are upserted (two
                -- transactions recomputing one customer leave one row)
                firsts_new AS (
                    SELECT partner_id, company_id, team_id, user_id,
                           MIN(at) AS first_at,
                           MIN(day) AS first_day,
                           MIN(res_id) FILTER (WHERE day = scope_first_day)
                               AS first_document_id,
                           ARRAY_AGG(at ORDER BY at, res_id) AS event_ats,
                           ARRAY_AGG(run_amount ORDER BY at, res_id) AS event_revenue,
                           ARRAY_AGG(run_margin ORDER BY at, res_id) AS event_margin,
                           (COUNT(*) OVER (PARTITION BY partner_id, company_id))::int
                               AS partner_rows
                      FROM ev_run
                     GROUP BY partner_id, company_id, team_id, user_id
                ),
                firsts_gone AS (
                    DELETE FROM crm_kpi_customer_first f
                     WHERE %(first_scope)s
                       AND NOT EXISTS (
                           SELECT 1 FROM firsts_new n
                            WHERE n.partner_id = f.partner_id
                              AND n.company_id = f.company_id
                              AND n.team_id IS NOT DISTINCT FROM f.team_id
                              AND n.user_id IS NOT DISTINCT FROM f.user_id)
                ),
                firsts AS (
                    INSERT INTO crm_kpi_customer_first AS f
                           (partner_id, company_id, team_id, user_id, first_at,
                            first_day, first_document_id, event_ats, event_revenue,
                            event_margin, partner_rows)
                    SELECT partner_id, company_id, team_id, user_id, first_at,
                           first_day, first_document_id, event_ats, event_revenue,
                           event_margin, partner_rows
                      FROM firsts_new
                        ON CONFLICT (partner_id, company_id, team_id, user_id)
                        DO UPDATE SET first_at = EXCLUDED.first_at,
                                      first_day = EXCLUDED.first_day,
                                      first_document_id = EXCLUDED.first_document_id,
                                      event_ats = EXCLUDED.event_ats,
                                      event_revenue = EXCLUDED.event_revenue,
                                      event_margin = EXCLUDED.event_margin,
                                      partner_rows = EXCLUDED.partner_rows
                     WHERE (f.first_at, f.first_day, f.first_document_id,
                            f.event_ats, f.event_revenue, f.event_margin,
                            f.partner_rows)
                           IS DISTINCT FROM (EXCLUDED.first_at, EXCLUDED.first_day,
                                             EXCLUDED.first_document_id,
                                             EXCLUDED.event_ats,
                                             EXCLUDED.event_revenue,
                                             EXCLUDED.event_margin,
                                             EXCLUDED.partner_rows)
                ),
                gone AS (
                    DELETE FROM crm_kpi_customer_stat s
                     WHERE %(stat_scope)s
                       AND NOT EXISTS (
                           SELECT 1 FROM agg
                            WHERE agg.partner_id = s.partner_id
                              AND agg.company_id = s.company_id)
                )
                INSERT INTO crm_kpi_customer_stat AS s
                       (partner_id, company_id, order_count, revenue,
                        first_date, last_date)
                SELECT partner_id, company_id, n, revenue, first_day, last_day
                  FROM agg
                    ON CONFLICT (partner_id, company_id) DO UPDATE
                   SET order_count = EXCLUDED.order_count,
                       revenue = EXCLUDED.revenue,
                       first_date = EXCLUDED.first_date,
                       last_date = EXCLUDED.last_date
                 WHERE (s.order_count, s.revenue, s.first_date, s.last_date)
                       IS DISTINCT FROM (EXCLUDED.order_count, EXCLUDED.revenue,
                                         EXCLUDED.first_date, EXCLUDED.last_date)
                """,
                settings=self._kpi_company_settings_sql(),
                so_scope=scope("rp.commercial_partner_id", "so.company_id"),
                am_scope=scope("am.commercial_partner_id", "am.company_id"),
                stat_scope=scope("s.partner_id", "s.company_id"),
                first_scope=scope("f.partner_id", "f.company_id"),
            )
        )
        self.invalidate_model()
        self.env["crm.kpi.customer.first"].invalidate_model()
        self.env["res.partner"].invalidate_model(
            self.env["res.partner"]._kpi_sql_fields(), flush=False
        )

    # -- reading -------------------------------------------------------------------
    @api.model
    @tools.ormcache("self.env.uid", "self.env.su", "model_name")
    def _kpi_reads_all_events(self, model_name):
        """Whether the current user's record rules on ``model_name`` let him
        read every revenue event of the companies he works in: the global
        rules are company walls only, and his group rules leave out no
        revenue event (a salesperson who sees his own orders only does not
        read them all)."""
        if self.env.su:
            return True
        Model = self.env[model_name]
        Rule = self.env["ir.rule"]
        rules = Rule._get_rules(model_name, mode="read").sudo()
        eval_context = Rule._eval_context()
        group_domains = []
        for rule in rules:
            domain = (
                Domain(safe_eval(rule.domain_force, eval_context))
                if rule.domain_force
                else Domain.TRUE
            )
            if rule.groups:
                group_domains.append(domain)
            elif any(
                cond.field_expr != "company_id" for cond in domain.iter_conditions()
            ):
                return False
        if not group_domains:
            return True
        hidden = Domain(EVENT_DOMAINS[model_name]) & ~Domain.OR(group_domains)
        return hidden.optimize_full(Model).is_false()

    @api.model
    def _kpi_sources(self):
        """``{model name: companies}`` of the revenue sources of the current
        user's companies."""
        sources = {}
        for company in self.env.companies:
            model = SOURCE_MODELS[company.sudo().kpi_revenue_source or "order"]
            sources.setdefault(model, self.env["res.company"])
            sources[model] |= company
        return sources

    @api.model
    def _kpi_rates(self):
        """``{company id: rate}`` converting each of the user's companies'
        currency to the current company's, at today's rate (``None`` when
        every rate is 1)."""
        target = self.env.company.currency_id
        today = fields.Date.context_today(self)
        rates = {}
        for company in self.env.companies:
            currency = company.sudo().currency_id
            rates[company.id] = (
                1.0
                if currency == target
                else self.env["res.currency"]._get_conversion_rate(
                    currency, target, self.env.company, today
                )
            )
        if all(rate == 1.0 for rate in rates.values()):
            return None
        return rates

    @api.model
    def _kpi_stats_sql(self, partner_ids=None):
        """``SELECT partner_id, n, amount, first_day, last_day``: the figures
        of every customer (commercial partner with a revenue event) that the
        current user may read, summed over his companies (``allowed company
        ids``) in the current company's currency, restricted to the
        commercial partners ``partner_ids`` when given.

        A user who reads every revenue event of his companies reads the
        stored rows; a user whose record rules hide some (a salesperson who
        sees his own orders only) gets the figures of the events he reads,
        from the documents through his record rules, as before; a user who
        cannot read the documents gets no figures."""
        sources = self._kpi_sources()
        full = all(
            self.env[model].has_access("read") and self._kpi_reads_all_events(model)
            for model in sources
        )
        rates = self._kpi_rates()
        if full:
            return self._kpi_stored_stats_sql(partner_ids, rates)
        return self._kpi_live_stats_sql(sources, partner_ids, rates)

    def _kpi_fx(self, rates, company_col):
        """The join to the conversion rate of each company (``fx.rate``)."""
        values = SQL(", ").join(
            SQL("(%s, %s::numeric)", cid, rate) for cid, rate in sorted(rates.items())
        )
        return SQL(
            "JOIN (VALUES %s) AS fx(company_id, rate) ON fx.company_id = %s",
            values,
            SQL(company_col),
        )

    def _kpi_stored_stats_sql(self, partner_ids, rates):
        fld = self._fields

        def col(name):
            return SQL.identifier("s", name, to_flush=fld[name])

        where = SQL("%s IN %s", col("company_id"), tuple(self.env.companies.ids))
        if partner_ids is not None:
            where = SQL("%s AND %s IN %s", where, col("partner_id"), tuple(partner_ids))
        if len(self.env.companies) == 1 and rates is None:
            # one company: its rows are the figures (no grouping)
            return SQL(
                """SELECT %(partner)s AS partner_id, %(n)s AS n, %(revenue)s AS amount,
                          %(first)s AS first_day, %(last)s AS last_day
                     FROM crm_kpi_customer_stat s WHERE %(where)s""",
                partner=col("partner_id"),
                n=col("order_count"),
                revenue=col("revenue"),
                first=col("first_date"),
                last=col("last_date"),
                where=where,
            )
        amount = (
            SQL("%s * fx.rate", col("revenue")) if rates is not None else col("revenue")
        )
        return SQL(
            """SELECT %(partner)s AS partner_id, SUM(%(n)s) AS n,
                      COALESCE(SUM(%(amount)s), 0) AS amount,
                      MIN(%(first)s) AS first_day, MAX(%(last)s) AS last_day
                 FROM crm_kpi_customer_stat s %(fx)s
                WHERE %(where)s
                GROUP BY %(partner)s""",
            partner=col("partner_id"),
            n=col("order_count"),
            amount=amount,
            first=col("first_date"),
            last=col("last_date"),
            fx=self._kpi_fx(rates, "s.company_id") if rates is not None else SQL(),
            where=where,
        )

    def _kpi_live_stats_sql(self, sources, partner_ids, rates):
        parts = []
        for model, companies in sources.items():
            Model = self.env[model]
            if not Model.has_access("read"):
                # no right on the documents (a helpdesk-only user): no events
                continue
            domain = Domain(EVENT_DOMAINS[model]) & Domain(
                "company_id", "in", companies.ids
            )
            if model == "account.move":
                if partner_ids is not None:
                    domain &= Domain("commercial_partner_id", "in", partner_ids)
                parts.append(
                    SQL(
                        """SELECT am.commercial_partner_id AS partner_id, am.company_id,
                                  am.invoice_date AS day,
                                  am.amount_untaxed_signed AS amount
                             FROM account_move am
                            WHERE am.id IN %s
                              AND am.commercial_partner_id IS NOT NULL""",
                        Model._search(domain).subselect(),
                        to_flush=[
                            Model._fields[f]
                            for f in (
                                "commercial_partner_id",
                                "invoice_date",
                                "amount_untaxed_signed",
                            )
                        ],
                    )
                )
            else:
                if partner_ids is not None:
                    domain &= Domain(
                        "partner_id.commercial_partner_id", "in", partner_ids
                    )
                parts.append(
                    SQL(
                        """SELECT rp.commercial_partner_id AS partner_id, so.company_id,
                                  ((so.date_order AT TIME ZONE 'UTC')
                                      AT TIME ZONE st.tz)::date AS day,
                                  so.amount_untaxed
                                      / COALESCE(NULLIF(so.currency_rate, 0), 1.0)
                                      AS amount
                             FROM sale_order so
                             JOIN res_partner rp ON rp.id = so.partner_id
                             JOIN (%s) st ON st.company_id = so.company_id
                            WHERE so.id IN %s""",
                        self._kpi_company_settings_sql(),
                        Model._search(domain).subselect(),
                        to_flush=[
                            Model._fields[f]
                            for f in ("date_order", "amount_untaxed", "currency_rate")
                        ]
                        + [self.env["res.partner"]._fields["commercial_partner_id"]],
                    )
                )
        if not parts:
            return SQL(
                "SELECT NULL::int AS partner_id, NULL::bigint AS n,"
                " NULL::numeric AS amount, NULL::date AS first_day,"
                " NULL::date AS last_day WHERE FALSE"
            )
        amount = SQL("ev.amount * fx.rate") if rates is not None else SQL("ev.amount")
        return SQL(
            """SELECT ev.partner_id, COUNT(*) AS n,
                      COALESCE(SUM(%(amount)s), 0) AS amount,
                      MIN(ev.day) AS first_day, MAX(ev.day) AS last_day
                 FROM (%(events)s) ev %(fx)s
                GROUP BY ev.partner_id""",
            amount=amount,
            events=SQL(" UNION ALL ").join(parts),
            fx=self._kpi_fx(rates, "ev.company_id") if rates is not None else SQL(),
        )

    @api.model
    def _kpi_ranked_sql(self, partner_ids=None):
        """The customers of :meth:`_kpi_stats_sql` with their ranks over all
        of them: ``r``, ``f``, ``m`` the RFM quintiles (1 + ⌊5 × customers with
        a strictly worse value / customers⌋: equal values share a quintile),
        ``revenue_rank`` (1 = highest lifetime revenue, equal revenues by
        partner id) and ``customers``.

        With ``partner_ids`` (the commercial partners of the records being
        read), only those customers' rows, ranked over all of them without
        sorting them (:meth:`_kpi_ranked_page_sql`); without, every
        customer's row, for searching, sorting and grouping by a rank."""
        if partner_ids is not None:
            return self._kpi_ranked_page_sql(partner_ids)
        return SQL(
            """SELECT st.partner_id,
                      1 + 5 * (RANK() OVER (ORDER BY st.last_day) - 1)
                          / COUNT(*) OVER () AS r,
                      1 + 5 * (RANK() OVER (ORDER BY st.n) - 1)
                          / COUNT(*) OVER () AS f,
                      1 + 5 * (RANK() OVER (ORDER BY st.amount) - 1)
                          / COUNT(*) OVER () AS m,
                      ROW_NUMBER() OVER (ORDER BY st.amount DESC, st.partner_id)
                          AS revenue_rank,
                      COUNT(*) OVER () AS customers
                 FROM (%s) st""",
            self._kpi_stats_sql(),
        )

    def _kpi_ranked_page_sql(self, partner_ids):
        """The ranks of :meth:`_kpi_ranked_sql` of the customers
        ``partner_ids`` only, with the same values, in one pass over all the
        customers and no sort of them (a list's page of 80 records costs a
        fraction of the four window sorts over every customer).

        The distinct values of the page's customers are the thresholds of
        buckets: ``width_bucket(x, thresholds)`` is the number of thresholds
        ≤ x, so for the page's value at position ``i``, the customers with a
        strictly smaller value are those of the buckets before ``i``, and
        those with a larger one those after ``i``, plus those of bucket ``i``
        that are not equal to it.  Equal revenues are ordered by partner id:
        the ids of the customers whose revenue equals one of the page's are
        kept.  The figures are never NULL (a count, a coalesced sum, the day
        of a required date), as the window ranks assume too."""
        return SQL(
            """WITH page AS MATERIALIZED (%(page)s),
                    t AS MATERIALIZED (
                        SELECT ARRAY_AGG(DISTINCT last_day ORDER BY last_day)
                                   FILTER (WHERE last_day IS NOT NULL) AS l,
                               ARRAY_AGG(DISTINCT n ORDER BY n)
                                   FILTER (WHERE n IS NOT NULL) AS f,
                               ARRAY_AGG(DISTINCT amount ORDER BY amount)
                                   FILTER (WHERE amount IS NOT NULL) AS m
                          FROM page),
                    -- customers per bucket of each figure: GROUPING() is 3
                    -- for the recency's, 5 for the frequency's, 6 for the
                    -- revenue's
                    b AS MATERIALIZED (
                        SELECT GROUPING(bl, bf, bm) AS g,
                               CASE GROUPING(bl, bf, bm) WHEN 3 THEN bl
                                                         WHEN 5 THEN bf
                                                         ELSE bm END AS b,
                               COUNT(*) AS c,
                               ARRAY_AGG(partner_id)
                                   FILTER (WHERE amount = ((SELECT m FROM t))[bm])
                                   AS ties
                          FROM (SELECT width_bucket(st.last_day, (SELECT l FROM t))
                                           AS bl,
                                       width_bucket(st.n, (SELECT f FROM t)) AS bf,
                                       width_bucket(st.amount, (SELECT m FROM t))
                                           AS bm,
                                       st.partner_id, st.amount
                                  FROM (%(stats)s) st
                                -- the buckets' estimate: not the figures'
                                -- distinct values (a hash of a few groups)
                                OFFSET 0) x
                         GROUP BY GROUPING SETS ((bl), (bf), (bm))),
                    tot AS (SELECT SUM(c)::bigint AS customers FROM b WHERE g = 3)
               SELECT page.partner_id,
                      1 + 5 * (SELECT COALESCE(SUM(c), 0)::bigint FROM b
                                WHERE g = 3 AND b < width_bucket(page.last_day, t.l))
                          / tot.customers AS r,
                      1 + 5 * (SELECT COALESCE(SUM(c), 0)::bigint FROM b
                                WHERE g = 5 AND b < width_bucket(page.n, t.f))
                          / tot.customers AS f,
                      1 + 5 * (SELECT COALESCE(SUM(c), 0)::bigint FROM b
                                WHERE g = 6 AND b < width_bucket(page.amount, t.m))
                          / tot.customers AS m,
                      (SELECT COALESCE(SUM(c), 0)::bigint FROM b
                        WHERE g = 6 AND b > width_bucket(page.amount, t.m))
                      + (SELECT c - cardinality(ties)
                                + (SELECT COUNT(*) FROM unnest(ties) AS tie(id)
                                    WHERE tie.id <= page.partner_id)
                           FROM b
                          WHERE g = 6 AND b = width_bucket(page.amount, t.m))
                          AS revenue_rank,
                      tot.customers
                 FROM page, t, tot""",
            page=self._kpi_stats_sql(partner_ids),
            stats=self._kpi_stats_sql(),
        )
