import logging
from collections import namedtuple
from functools import partial

import psycopg2
from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, float_compare
from odoo.tools.sql import add_index, index_exists

from ..kpi import base as kpi_base
from ..kpi import period as P
from .crm_kpi_read_source import PRIMARY_SOURCE

_logger = logging.getLogger(__name__)

# what a concurrent computation of the same period may raise
CONCURRENCY_ERRORS = (
    psycopg2.errors.SerializationFailure,
    psycopg2.errors.DeadlockDetected,
)


def _family_results(name, ctx):
    """The results of the family model ``name`` for the period ``ctx``."""
    return ctx.env[name]._kpi_bind(ctx)._kpi_results()


class TaskRun(namedtuple("TaskRun", "done failed stopped")):
    """What a run of period computations did: periods done and failed,
    whether it stopped before the last one (time up or cancelled)."""

    __slots__ = ()


GRANULARITY = [
    ("week", "Week"),
    ("month", "Month"),
    ("quarter", "Quarter"),
    ("year", "Year"),
]
SCOPE = [
    ("company", "Company"),
    ("team", "Sales Team"),
    ("user", "Salesperson"),
    ("helpdesk_team", "Helpdesk Team"),
    ("agent", "Agent"),
]
# indexes on the core tables that the KPI queries read: by date for the
# periods (messages of the period of a model, leads created, closed or
# changed in the period, tickets created or changed in the period), and the
# tickets of a customer for the customer list's ticket figures; the
# invoices of a customer for his revenue figures (crm.kpi.customer.stat)
CORE_INDEXES = (
    ("crm_kpi_mail_message_model_date_idx", "mail_message", ("model", "date")),
    ("crm_kpi_crm_lead_date_closed_idx", "crm_lead", ("date_closed",)),
    ("crm_kpi_crm_lead_creations_idx", "crm_lead", ("create_date",)),
    ("crm_kpi_crm_lead_changes_idx", "crm_lead", ("write_date",)),
    ("crm_kpi_helpdesk_ticket_creations_idx", "helpdesk_ticket", ("create_date",)),
    ("crm_kpi_helpdesk_ticket_changes_idx", "helpdesk_ticket", ("write_date",)),
    (
        "crm_kpi_helpdesk_ticket_commercial_partner_idx",
        "helpdesk_ticket",
        ("commercial_partner_id",),
    ),
    ("crm_kpi_sale_order_events_idx", "sale_order", ("company_id", "date_order")),
    ("crm_kpi_sale_order_line_products_idx", "sale_order_line", ("order_id",)),
    (
        "crm_kpi_account_move_commercial_partner_idx",
        "account_move",
        ("commercial_partner_id",),
    ),
)
# what some of them hold besides their key, and which rows: the confirmed
# orders by company and date carry what the revenue events read (customer,
# team, salesperson, campaign, opportunity, amounts), and the product lines
# of an order their product, so that the period's reads of orders (trailing
# year, comparison periods, campaigns, products sold) scan the indexes only
# and not the tables (at a million orders: trailing year 0.6 s -> 0.35 s,
# product penetration 0.83 s -> 0.5 s)
# the creations and changes of leads and tickets carry who made them (the
# CRM adoption reads the month's creations and changes of each user: from
# the indexes only, 0.38 s -> 0.23 s for a month of a million leads)
CREATIONS = {"include": ("company_id", "create_uid")}
CHANGES = {"include": ("id", "company_id", "create_date", "write_uid")}
CORE_INDEX_OPTIONS = {
    "crm_kpi_crm_lead_creations_idx": CREATIONS,
    "crm_kpi_crm_lead_changes_idx": CHANGES,
    "crm_kpi_helpdesk_ticket_creations_idx": CREATIONS,
    "crm_kpi_helpdesk_ticket_changes_idx": CHANGES,
    "crm_kpi_sale_order_events_idx": {
        "include": (
            "id",
            "partner_id",
            "team_id",
            "user_id",
            "campaign_id",
            "opportunity_id",
            "amount_untaxed",
            "margin",
            "currency_rate",
        ),
        "where": "state = 'sale'",
    },
    "crm_kpi_sale_order_line_products_idx": {
        "include": ("product_id",),
        "where": "display_type IS NULL AND product_id IS NOT NULL",
    },
}
# indexes of earlier versions that one of CORE_INDEXES replaces
OBSOLETE_CORE_INDEXES = (
    "crm_kpi_crm_lead_write_date_idx",
    "crm_kpi_helpdesk_ticket_create_date_idx",
    "crm_kpi_helpdesk_ticket_write_date_idx",
)


# scope -> column holding the scope record
class Disagreement(tuple):
    """``(snapshot, kpi_code, stored, recounted)`` of
    :meth:`CrmKpiSnapshot.reconcile_period`, with the ``part`` ('numerator'
    or 'denominator') that disagrees."""

    def __new__(cls, snapshot, code, stored, recounted, part):
        item = super().__new__(cls, (snapshot, code, stored, recounted))
        item.part = part
        return item


SCOPE_COLUMN = {
    "company": None,
    "team": "team_id",
    "user": "user_id",
    "helpdesk_team": "helpdesk_team_id",
    "agent": "user_id",
}


class CrmKpiSnapshot(models.Model):
    _name = "crm.kpi.snapshot"
    _inherit = ["crm.kpi.period.mixin", "crm.kpi.read.source"]
    _description = "CRM KPI Snapshot"
    _order = "date_start desc, granularity, scope, id"
    _rec_name = "name"

    name = fields.Char(compute="_compute_name")
    granularity = fields.Selection(GRANULARITY, required=True, readonly=True)
    date_start = fields.Date(required=True, readonly=True, index=True)
    date_end = fields.Date(required=True, readonly=True, help="Exclusive end.")
    period_label = fields.Char(string="Period", readonly=True)
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True, ondelete="cascade"
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    scope = fields.Selection(SCOPE, required=True, readonly=True)
    scope_key = fields.Char(required=True, readonly=True)
    team_id = fields.Many2one(
        "crm.team", readonly=True, ondelete="cascade", index="btree_not_null"
    )
    user_id = fields.Many2one(
        "res.users", readonly=True, ondelete="cascade", index="btree_not_null"
    )
    helpdesk_team_id = fields.Many2one(
        "helpdesk.ticket.team",
        readonly=True,
        ondelete="cascade",
        index="btree_not_null",
    )
    computed_at = fields.Datetime(readonly=True)
    value_ids = fields.One2many("crm.kpi.value", "snapshot_id", string="Values")

    _period_scope_unique = models.Constraint(
        "UNIQUE(granularity, date_start, company_id, scope_key)",
        "There is one snapshot per period, company and scope.",
    )

    def init(self):
        res = super().init()
        cr = self.env.cr
        for name in OBSOLETE_CORE_INDEXES:
            cr.execute(SQL("DROP INDEX IF EXISTS %s", SQL.identifier(name)))
        for name, table, columns in CORE_INDEXES:
            if index_exists(cr, name):
                continue
            options = CORE_INDEX_OPTIONS.get(name, {})
            include = options.get("include")
            add_index(
                cr,
                name,
                table,
                SQL(
                    "USING btree (%s)%s%s",
                    SQL(", ").join(SQL.identifier(c) for c in columns),
                    SQL(
                        " INCLUDE (%s)",
                        SQL(", ").join(SQL.identifier(c) for c in include),
                    )
                    if include
                    else SQL(),
                    # constant conditions of this module only
                    SQL(" WHERE %s", SQL(options["where"]))
                    if options.get("where")
                    else SQL(),
                ),
                unique=False,
            )
        return res

    @api.depends("period_label", "scope", "team_id", "user_id", "helpdesk_team_id")
    def _compute_name(self):
        scopes = dict(SCOPE)
        for snap in self:
            snap.name = f"{snap.period_label} · {snap._kpi_scope_name(scopes)}"

    def _kpi_scope_name(self, scopes=None):
        """The scope and who it is (``Salesperson · Marc Demo``), as in the
        snapshot's name without its period."""
        self.ensure_one()
        scopes = scopes or dict(SCOPE)
        record = self.team_id or self.helpdesk_team_id or self.user_id
        who = record.display_name if record else self.company_id.name
        return f"{scopes.get(self.scope, '')} · {who}"

    # ------------------------------------------------------------------
    # The engine
    # ------------------------------------------------------------------
    @api.model
    def compute_period(self, granularity, date_start, companies=None):
        """Compute (or recompute, replacing) every snapshot of the period of
        ``granularity`` containing ``date_start`` for all scopes of
        ``companies`` (default: all companies), and return them."""
        if granularity not in P.GRANULARITIES:
            raise UserError(
                self.env._(
                    "Unknown period granularity %(value)r: use week, month, "
                    "quarter or year.",
                    value=granularity,
                )
            )
        if not (
            self.env.is_superuser()
            or self.env.user.has_group("crm_success_kpi.group_crm_kpi_manager")
        ):
            raise AccessError(
                self.env._("Only KPI managers can compute KPI snapshots.")
            )
        date_start = fields.Date.to_date(date_start)
        if companies is None:
            companies = (
                self.env["res.company"].sudo().search([("active", "=", True)])
                if self.env.is_superuser()
                else self.env.companies
            )
        elif not self.env.is_superuser() and companies - self.env.user.company_ids:
            raise AccessError(
                self.env._(
                    "You can only compute the KPIs of the companies you have access to."
                )
            )
        snapshots = self.browse()
        for company in companies:
            snapshots |= self._compute_company_period(company, granularity, date_start)
        return snapshots

    def _period_context(self, company, granularity, date_start):
        calendar = company.kpi_period_calendar or "gregorian"
        start = P.period_start(granularity, date_start, calendar)
        return kpi_base.PeriodContext(
            env=self.env(su=True),
            company=company.sudo(),
            granularity=granularity,
            date_start=start,
            date_end=P.period_end(granularity, start, calendar),
            calendar=calendar,
            tz=company.sudo()._kpi_tz(),
        )

    def _families(self):
        """The KPI family models of this database (``crm.kpi.family.*``),
        after checking that they and the catalogue agree on the codes."""
        Family = self.env["crm.kpi.family"]
        Family._kpi_check_catalogue()
        return [self.env[name] for name in Family._kpi_family_names()]

    def _compute_company_period(self, company, granularity, date_start):
        ctx = self._period_context(company, granularity, date_start)
        cr = self.env.cr
        # families read the tables with SQL: pending ORM writes go first,
        # and the customers' first events marked in this transaction
        self.env.flush_all()
        self.env["crm.kpi.customer.stat"]._kpi_refresh_pending()
        # one computation of a period at a time: concurrent runs queue here
        # instead of racing for the same rows
        cr.execute(
            SQL(
                "SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                company.id,
                f"crm_kpi:{granularity}:{ctx.date_start}",
            )
        )
        with (
            self._kpi_reading(ctx) as (read_ctx, source),
            self._kpi_lanes(read_ctx) as read_ctx,
        ):
            return self._kpi_compute_and_store(ctx, read_ctx, source)

    def _kpi_compute_and_store(self, ctx, read_ctx, source):
        """Run the families on ``read_ctx`` (``ctx`` whose environment reads
        on a standby, or ``ctx`` itself, or a context on other connections
        of the primary that read at the same time: :meth:`_kpi_lanes`) and
        store their results through
        ``ctx``, with ``source`` (where they were read, see
        :meth:`_kpi_reading`).  Extensions computing more from the same
        reads (cohorts) run their queries on ``read_ctx.env.cr``, or on
        one of its connections at the same time as the families
        (:meth:`_kpi_more_reads`)."""
        results = {}
        # the heaviest families first, then the extensions' reads
        families = sorted(self._families(), key=lambda f: -f._kpi_read_weight)
        computed = self._kpi_run_reads(
            read_ctx,
            [partial(_family_results, family._name) for family in families]
            + self._kpi_more_reads(ctx),
        )
        for family, family_results in zip(
            families, computed[: len(families)], strict=True
        ):
            codes = set(family._kpi_codes())
            for key, values in family_results.items():
                stray = set(values) - codes
                if stray:
                    raise UserError(
                        self.env._(
                            "Family %(family)s returned KPIs it does not declare: "
                            "%(codes)s.",
                            family=family._name,
                            codes=", ".join(sorted(stray)),
                        )
                    )
                results.setdefault(key, {}).update(values)
        return self._store(ctx, results, source)

    def _kpi_more_reads(self, ctx):
        """Functions of a period context (:meth:`_kpi_run_reads`) that read
        more for the period of ``ctx`` than the families, run on the
        period's connections once the families have all been taken, at the
        same time as the last ones; what they
        return is dropped: they keep what they read in ``ctx.extra``
        (:func:`~..kpi.base.shared`) for the extension that stores it."""
        return []

    def _store(self, ctx, results, source=None):
        """Upsert snapshots and values of one period and company; remove the
        ones of this period that the computation no longer produced.
        ``source``: where the results were read (:meth:`_kpi_reading`)."""
        cr = self.env.cr
        now = fields.Datetime.now()
        uid = self.env.uid
        label = P.period_label(ctx.granularity, ctx.date_start, ctx.calendar)
        # archived KPIs of the catalogue are not stored
        kpis = {k.code: k for k in self.env["crm.kpi.definition"].sudo().search([])}
        keys = sorted(results, key=lambda k: (k[0], k[1] or 0))
        stamp = {
            "create_uid": uid,
            "create_date": now,
            "write_uid": uid,
            "write_date": now,
            "computed_at": now,
        }
        # a value's time of computation is its snapshot's
        value_stamp = {k: v for k, v in stamp.items() if k != "computed_at"}
        source = source or dict(PRIMARY_SOURCE)
        period = {
            "granularity": ctx.granularity,
            "date_start": ctx.date_start,
            "date_end": ctx.date_end,
            "period_label": label,
            "company_id": ctx.company.id,
        }

        def scope_columns(scope, scope_id):
            column = SCOPE_COLUMN[scope]
            return {
                "scope": scope,
                "team_id": scope_id if column == "team_id" else None,
                "user_id": scope_id if column == "user_id" else None,
                "helpdesk_team_id": scope_id if column == "helpdesk_team_id" else None,
            }

        snapshot_ids = {}
        if keys:
            rows = [
                {
                    **period,
                    **scope_columns(scope, scope_id),
                    "scope_key": f"{scope}:{scope_id or 0}",
                    **stamp,
                    **source,
                }
                for scope, scope_id in keys
            ]
            snapshot_ids = {
                key: sid
                for sid, key in kpi_base.upsert(
                    cr,
                    "crm_kpi_snapshot",
                    rows,
                    ("granularity", "date_start", "company_id", "scope_key"),
                    returning=("id", "scope_key"),
                )
            }
        # snapshots of this period that no scope produced any more
        kpi_base.delete_stale(cr, "crm_kpi_snapshot", ctx, snapshot_ids.values())
        value_rows = []
        for scope, scope_id in keys:
            snapshot_id = snapshot_ids[f"{scope}:{scope_id or 0}"]
            for code, res in sorted(results[(scope, scope_id)].items()):
                kpi = kpis.get(code)
                if not kpi:
                    continue
                value = res.resolved(kpi.factor)
                value_rows.append(
                    {
                        "snapshot_id": snapshot_id,
                        "kpi_id": kpi.id,
                        "kpi_code": code,
                        "area": kpi.area,
                        "unit": kpi.unit,
                        "value": value,
                        "has_value": value is not None,
                        "numerator": res.numerator,
                        "denominator": res.denominator,
                        "factor": kpi.factor,
                        "note": res.note,
                        **period,
                        **scope_columns(scope, scope_id),
                        **value_stamp,
                    }
                )
        if value_rows:
            # a value the computation gives again unchanged is not written
            kpi_base.upsert(
                cr,
                "crm_kpi_value",
                value_rows,
                ("snapshot_id", "kpi_id"),
                only_changed=True,
            )
        # values of these snapshots that the computation no longer produced
        cr.execute(
            SQL(
                """DELETE FROM crm_kpi_value
                    WHERE snapshot_id = ANY(%s)
                      AND (snapshot_id, kpi_id) NOT IN (
                          SELECT * FROM unnest(%s::int[], %s::int[]))""",
                list(snapshot_ids.values()),
                [row["snapshot_id"] for row in value_rows],
                [row["kpi_id"] for row in value_rows],
            )
        )
        self.env["crm.kpi.value"].invalidate_model()
        self.invalidate_model()
        snapshots = self.browse(sorted(snapshot_ids.values()))
        snapshots._kpi_after_store()
        return snapshots

    def _kpi_after_store(self):
        """Hook for what follows a computation (target statuses...)."""
        return True

    # ------------------------------------------------------------------
    # Scheduling
    # ------------------------------------------------------------------
    @api.model
    def _cron_compute_recent(self):
        """Daily: the current and the previous period of every granularity,
        for every company, then the reconciliation of yesterday's periods.

        The work is planned as rows of ``crm.kpi.work`` (once a day), the
        worker actions are woken to share it, and this run works through it
        too.  A failing company or period is logged and the others go on.
        Each period is committed with its row; a run whose time is up stops
        (Odoo triggers it again at once) and resumes with the periods left,
        so no period is computed twice and none is skipped.  A worker
        killed mid-run leaves its period to the next one."""
        Work = self.env["crm.kpi.work"].sudo()
        day = Work._kpi_plan()
        Work._kpi_wake_workers()
        # the plan is seen by the other workers
        self.env["ir.cron"]._commit_progress(0)
        return Work._kpi_work(day)

    @api.model
    def _run_tasks(self, tasks, progress=None, commit=True, keep_going=None):
        """Compute ``tasks`` (company, granularity, start) one by one, each in
        a savepoint.

        With ``commit``, the work is committed after every period through
        ``_commit_progress``; the run stops when that says the cron's time is
        up, or when ``keep_going()`` (asked after each commit) returns False.
        ``progress(index, company, granularity, start, error)`` is called
        after each period, before the commit, with the error message of a
        failed period.  Returns a :class:`TaskRun` ``(done, failed,
        stopped)``: ``done`` and ``failed`` count the tasks processed (the
        first ``done + failed`` of ``tasks``), ``stopped`` whether the run
        ended before the last one."""
        cron = self.env["ir.cron"]
        done = failed = 0
        for index, (company, granularity, start) in enumerate(tasks):
            error = self._run_one(company, granularity, start, commit=commit)
            if error:
                failed += 1
            else:
                done += 1
            if progress:
                progress(index + 1, company, granularity, start, error)
            if not commit:
                continue
            left = cron._commit_progress(1, remaining=len(tasks) - index - 1)
            last = index + 1 == len(tasks)
            if not last and keep_going and not keep_going():
                return TaskRun(done, failed, True)
            if not last and left <= 0:
                _logger.info(
                    "CRM KPIs: time is up after %s of %s periods; the next run "
                    "resumes with the others",
                    index + 1,
                    len(tasks),
                )
                return TaskRun(done, failed, True)
        return TaskRun(done, failed, False)

    @api.model
    def _run_one(self, company, granularity, start, commit=True, relock=None):
        """:meth:`_compute_task`, logging a failure: the error message of a
        failed period, None when it was computed (False when ``relock``
        said another worker took it, see :meth:`_compute_task`)."""
        try:
            computed = self._compute_task(
                company, granularity, start, commit=commit, relock=relock
            )
        except CONCURRENCY_ERRORS:
            if not commit:
                # in a request: Odoo retries the whole request
                raise
            _logger.exception(
                "CRM KPIs: computing %s %s of %s failed twice on a concurrent update",
                granularity,
                start,
                company.name,
            )
            return "concurrent update"
        except Exception as exc:  # noqa: BLE001 - logged, the run goes on
            _logger.exception(
                "CRM KPIs: computing %s %s of %s failed",
                granularity,
                start,
                company.name,
            )
            return str(exc) or exc.__class__.__name__
        return False if computed is False else None

    @api.model
    def _compute_task(self, company, granularity, start, commit=True, relock=None):
        """One period of one company, in a savepoint.

        Two computations of the same period queue on its advisory lock, but
        the second one's transaction may have read the database before it
        waited: under REPEATABLE READ it then cannot update the rows the
        first one committed (a serialization failure).  With ``commit``,
        the period is then computed once more, in a new transaction whose
        snapshot sees the first run's rows.  ``relock()``, when given, is
        asked after that commit whether this run still owns the period (a
        worker's row, see ``crm.kpi.work``): when it returns False, the
        period is left to whoever took it and False is returned."""
        try:
            with self.env.cr.savepoint():
                return self._compute_company_period(company, granularity, start)
        except CONCURRENCY_ERRORS:
            if not commit:
                raise
            _logger.info(
                "CRM KPIs: %s %s of %s was computed concurrently; computing it "
                "again in a new transaction",
                granularity,
                start,
                company.name,
            )
        self.env["ir.cron"]._commit_progress(0)
        self.env.invalidate_all()
        if relock is not None and not relock():
            return False
        with self.env.cr.savepoint():
            return self._compute_company_period(company, granularity, start)

    @api.model
    def backfill(
        self, months=24, granularities=None, companies=None, date_to=None, commit=False
    ):
        """Compute every period of the last ``months`` months (all
        granularities by default), oldest first.  With ``commit`` (a script
        run outside a request), each period is committed as the scheduled
        action commits them, and so read on several connections
        (``_kpi_lanes``)."""
        date_to = fields.Date.to_date(date_to) or fields.Date.context_today(self)
        date_from = date_to - relativedelta(months=months)
        backfill = self.env["crm.kpi.backfill"].create(
            {
                "date_from": date_from,
                "date_to": date_to,
                "granularities": ",".join(granularities or P.GRANULARITIES),
                "company_ids": [
                    (
                        6,
                        0,
                        (
                            companies
                            or (
                                self.env["res.company"]
                                .sudo()
                                .search([("active", "=", True)])
                                if self.env.is_superuser()
                                else self.env.companies
                            )
                        ).ids,
                    )
                ],
            }
        )
        backfill._process(commit=commit)
        return backfill

    # ------------------------------------------------------------------
    # Drill-down and reconciliation
    # ------------------------------------------------------------------
    @property
    def _kpi_scope_id(self):
        column = SCOPE_COLUMN[self.scope]
        return self[column].id if column else None

    def _kpi_drill_target(self, code, part):
        """``(family, model, domain)``: the family computing ``code`` bound
        to this snapshot's period, and the records behind ``part`` of its
        value in this snapshot's scope; None when the value has no list."""
        self.ensure_one()
        family = self.env["crm.kpi.family"]._kpi_family_of(code)
        if family is None:
            return None
        ctx = self._period_context(self.company_id, self.granularity, self.date_start)
        family = family._kpi_bind(ctx)
        found = family._kpi_drill(code, self.scope, self._kpi_scope_id, part)
        if not found:
            return None
        return (family, *found)

    @api.model
    def reconcile_period(self, granularity, date_start, companies=None, scopes=None):
        """Recount every stored value of the period from its drill-down
        records: the numerator and the denominator of each value that has a
        recount rule (records counted, or their amounts summed for money
        KPIs).  Returns the disagreements ``[(snapshot, kpi_code, stored,
        recounted)]`` (each one also has ``part``), empty when every value
        agrees with its records.  ``scopes``: only the snapshots of these
        scopes ('company', 'team', ...; default all)."""
        if not (
            self.env.is_superuser()
            or self.env.user.has_group("crm_success_kpi.group_crm_kpi_manager")
        ):
            raise AccessError(
                self.env._("Only KPI managers can reconcile the stored KPIs.")
            )
        date_start = fields.Date.to_date(date_start)
        # the period holding date_start, in each company's own calendar
        domain = [
            ("granularity", "=", granularity),
            ("date_start", "<=", date_start),
            ("date_end", ">", date_start),
        ]
        if companies is not None:
            domain.append(("company_id", "in", companies.ids))
        if scopes is not None:
            domain.append(("scope", "in", list(scopes)))
        snapshots = self.sudo().search(domain)
        disagreements = []
        families = {}
        for snapshot in snapshots:
            for value in snapshot.value_ids:
                code = value.kpi_code
                if code not in families:
                    family = self.env["crm.kpi.family"]._kpi_family_of(code)
                    families[code] = (
                        family._kpi_recount_rules().get(code)
                        if family is not None
                        else None
                    )
                rules = families[code]
                if not rules:
                    continue
                for part, rule in zip(
                    ("numerator", "denominator"), rules, strict=False
                ):
                    if not rule:
                        continue
                    stored = value[part] or 0.0
                    target = snapshot._kpi_drill_target(code, part)
                    if target is None:
                        if not stored:
                            # no list and nothing counted (a comparison
                            # period this granularity does not have)
                            continue
                        recounted = None
                    else:
                        family, model, records_domain = target
                        recounted = family._kpi_recount(
                            code, part, model, records_domain
                        )
                        if recounted is None:
                            # these records cannot give the number back
                            # (margins of invoices): nothing to compare
                            continue
                    if recounted is None or float_compare(
                        stored, recounted, precision_digits=2
                    ):
                        disagreements.append(
                            Disagreement(snapshot, code, stored, recounted, part)
                        )
        return disagreements

    @api.model
    def _cron_reconcile_yesterday(self):
        """Daily: reconcile the company figures of yesterday's periods of
        every granularity and log what disagrees (a value whose records
        changed since it was computed and that the daily computation did not
        refresh, or a drill-down that no longer lists what its family
        counts)."""
        yesterday = fields.Date.context_today(self) - relativedelta(days=1)
        found = []
        # the company figures: every scope of every granularity would cost
        # a hundred times more drill-downs (Configuration › Reconcile Stored
        # KPIs checks every scope of a range)
        for granularity in P.GRANULARITIES:
            found += self.reconcile_period(granularity, yesterday, scopes=("company",))
        for item in found:
            _logger.warning(
                "CRM KPIs: %s %s of %s (%s): %s %s stored %s, its records give %s",
                item[0].granularity,
                item[0].date_start,
                item[0].company_id.name,
                item[0].name,
                item[1],
                item.part,
                item[2],
                item[3],
            )
        return found

    # ------------------------------------------------------------------
    # UI
    # ------------------------------------------------------------------
    def action_open_values(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_success_kpi.crm_kpi_value_action"
        )
        action["domain"] = [("snapshot_id", "=", self.id)]
        action["context"] = {}
        return action
