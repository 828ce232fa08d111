"""The daily computation's work, shared by several cron workers.

The daily scheduled action plans the day's work -- one row per company and
period (the current and the previous period of every granularity), and one
row for the reconciliation of yesterday's periods -- then works through it,
and wakes the worker actions (*CRM Success KPIs: computation worker*), which
work through the same rows.  Several Odoo cron threads, on one or several
Odoo servers of the same database, so compute companies and periods side by
side.

A worker takes the next row with ``FOR UPDATE SKIP LOCKED`` (as Odoo's own
cron takes its jobs): no two workers take the same row and none waits for
another.  The row stays locked while its period is computed, is marked done
(or failed, with the error) in the same transaction, and is committed with
the period; a worker killed midway leaves its row to do, and the next worker
takes it.  The period's advisory lock (``crm.kpi.snapshot``) remains the
guarantee that one period is never computed by two transactions at once.

The reconciliation of yesterday's periods runs once, after the last period
of the day: taken by the worker that finds no period left to do.
"""

import logging
import os
import socket
import threading

from odoo import api, fields, models
from odoo.tools import SQL

from ..kpi import period as P
from .crm_kpi_snapshot import CONCURRENCY_ERRORS, GRANULARITY, TaskRun

_logger = logging.getLogger(__name__)

# days of rows kept, to see what the last runs did
KEEP_DAYS = 30


class CrmKpiWork(models.Model):
    _name = "crm.kpi.work"
    _description = "CRM KPI Scheduled Computation"
    _order = "day desc, sequence, id"
    _rec_name = "day"

    day = fields.Date(required=True, readonly=True, index=True)
    kind = fields.Selection(
        [("compute", "Compute a period"), ("reconcile", "Reconcile yesterday")],
        required=True,
        readonly=True,
        default="compute",
    )
    sequence = fields.Integer(readonly=True)
    company_id = fields.Many2one("res.company", readonly=True, ondelete="cascade")
    granularity = fields.Selection(GRANULARITY, readonly=True)
    date_start = fields.Date(string="Period Start", readonly=True)
    state = fields.Selection(
        [
            ("pending", "To Do"),
            ("done", "Done"),
            ("failed", "Failed"),
            ("skipped", "Skipped"),
        ],
        required=True,
        readonly=True,
        default="pending",
    )
    error = fields.Text(readonly=True)
    worker = fields.Char(
        readonly=True, help="The Odoo server process and thread that did it."
    )
    done_at = fields.Datetime(readonly=True)

    _period_unique = models.UniqueIndex(
        "(day, company_id, granularity, date_start) WHERE kind = 'compute'",
        "A period is planned once a day.",
    )
    _reconcile_unique = models.UniqueIndex(
        "(day) WHERE kind = 'reconcile'",
        "The reconciliation is planned once a day.",
    )
    _todo_idx = models.Index("(day, sequence, id) WHERE state = 'pending'")

    # ------------------------------------------------------------------
    # Planning
    # ------------------------------------------------------------------
    @api.model
    def _kpi_plan(self, today=None):
        """Plan ``today``'s work (once a day; a run resumed the same day
        finds it planned) and return the day.  Rows of earlier days left to
        do are skipped: their "current" periods are no longer today's."""
        today = today or fields.Date.context_today(self)
        if self.search_count([("day", "=", today)], limit=1):
            return today
        self.search([("day", "<", today), ("state", "=", "pending")]).write(
            {"state": "skipped", "error": self.env._("Not done on its day.")}
        )
        self.search(
            [("day", "<", fields.Date.subtract(today, days=KEEP_DAYS))]
        ).unlink()
        vals = []
        companies = (
            self.env["res.company"].sudo().search([("active", "=", True)], order="id")
        )
        for company in companies:
            calendar = company.kpi_period_calendar or "gregorian"
            for granularity in P.GRANULARITIES:
                current = P.period_start(granularity, today, calendar)
                previous = P.shift_period(granularity, current, -1, calendar)
                for start in (previous, current):
                    vals.append(
                        {
                            "day": today,
                            "company_id": company.id,
                            "granularity": granularity,
                            "date_start": start,
                        }
                    )
        vals.append({"day": today, "kind": "reconcile"})
        for sequence, row in enumerate(vals):
            row["sequence"] = sequence
        self.create(vals)
        return today

    @api.model
    def _kpi_wake_workers(self):
        """Trigger the worker actions: each takes a share of the work."""
        crons = (
            self.env["ir.cron"]
            .sudo()
            .search([("model_id.model", "=", self._name), ("active", "=", True)])
        )
        for cron in crons:
            cron._trigger()
        return crons

    # ------------------------------------------------------------------
    # Working
    # ------------------------------------------------------------------
    @api.model
    def _cron_work(self):
        """A worker action: work through today's rows (rows of an earlier
        day are left: their "current" periods are no longer today's, and
        the next plan skips them)."""
        return self._kpi_work(fields.Date.context_today(self))

    def _kpi_worker_name(self):
        return (
            f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"
        )[:120]

    def _kpi_claim(self, day, kind="compute"):
        """The next row of ``day`` to do, locked for this transaction, or an
        empty recordset when none is left that another worker has not
        taken.  Called at the start of a transaction: when another worker
        has done a row since this transaction's snapshot was taken, the lock
        fails (REPEATABLE READ), and the claim is made again in a new
        transaction."""
        for _attempt in range(10):
            self.flush_model()
            try:
                with self.env.cr.savepoint(flush=False):
                    self.env.cr.execute(
                        SQL(
                            """SELECT id FROM crm_kpi_work
                                WHERE day = %s AND kind = %s AND state = 'pending'
                             ORDER BY sequence, id
                                LIMIT 1
                                  FOR UPDATE SKIP LOCKED""",
                            day,
                            kind,
                        )
                    )
                    row = self.env.cr.fetchone()
                return self.browse(row[0] if row else ())
            except CONCURRENCY_ERRORS:
                self._kpi_new_transaction()
        return self.browse()

    def _kpi_new_transaction(self):
        """Nothing is written yet in this transaction: end it, so that the
        next statement sees what the other workers committed."""
        self.env.cr.rollback()
        self.env.invalidate_all()

    def _kpi_relock(self):
        """After the transaction that held this row was committed (a period
        computed again after a concurrent update): lock it again; False when
        another worker has taken it meanwhile."""
        self.ensure_one()
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    SQL(
                        "SELECT state FROM crm_kpi_work WHERE id = %s"
                        " FOR UPDATE SKIP LOCKED",
                        self.id,
                    )
                )
                row = self.env.cr.fetchone()
        except CONCURRENCY_ERRORS:
            # done by another worker since this transaction began
            self._kpi_new_transaction()
            return False
        return bool(row and row[0] == "pending")

    def _kpi_pending_count(self, day, kind=None):
        """Rows of ``day`` (of ``kind``, default all) still to do, taken by
        a worker or not."""
        self.flush_model()
        self.env.cr.execute(
            SQL(
                "SELECT COUNT(*) FROM crm_kpi_work"
                " WHERE day = %s AND state = 'pending'%s",
                day,
                SQL(" AND kind = %s", kind) if kind else SQL(),
            )
        )
        return self.env.cr.fetchone()[0]

    def _kpi_done(self, error, worker):
        """This row done by ``worker`` (failed with ``error``)."""
        self.write(
            {
                "state": "failed" if error else "done",
                "error": error or False,
                "worker": worker,
                "done_at": fields.Datetime.now(),
            }
        )

    @api.model
    def _kpi_work(self, day):
        """Compute the rows of ``day`` until none is left or the cron's time
        is up; each period is committed with its row.  Returns a
        :class:`TaskRun` of this worker's share."""
        Snapshot = self.env["crm.kpi.snapshot"]
        cron = self.env["ir.cron"]
        cr = self.env.cr
        worker = self._kpi_worker_name()
        done = failed = 0
        while True:
            # nothing written yet in this transaction: the standby, when
            # there is one, sees what it would see (taking the row writes)
            cr.execute("SELECT pg_current_xact_id_if_assigned() IS NULL")
            fresh = cr.fetchone()[0]
            row = self._kpi_claim(day)
            if not row:
                break
            error = Snapshot.with_context(crm_kpi_fresh_transaction=fresh)._run_one(
                row.company_id,
                row.granularity,
                row.date_start,
                relock=row._kpi_relock,
            )
            if error is False:
                # taken by another worker while this one retried: its share
                continue
            row._kpi_done(error, worker)
            if error:
                failed += 1
            else:
                done += 1
            remaining = self._kpi_pending_count(day)
            left = cron._commit_progress(1, remaining=remaining)
            if remaining and left <= 0:
                _logger.info(
                    "CRM KPIs: time is up after %s periods; %s are left to do "
                    "by the next run or another worker",
                    done + failed,
                    remaining,
                )
                return TaskRun(done, failed, True)
        self._kpi_reconcile_when_done(day, worker)
        return TaskRun(done, failed, False)

    @api.model
    def _kpi_reconcile_when_done(self, day, worker):
        """Once every period of ``day`` is done: the reconciliation of
        yesterday's periods, by one worker."""
        if self._kpi_pending_count(day, kind="compute"):
            # others still compute: the last of them reconciles
            return False
        row = self._kpi_claim(day, kind="reconcile")
        if not row:
            return False
        error = False
        try:
            with self.env.cr.savepoint():
                self.env["crm.kpi.snapshot"]._cron_reconcile_yesterday()
        except Exception as exc:  # noqa: BLE001 - logged, the run goes on
            error = str(exc) or exc.__class__.__name__
            _logger.exception("CRM KPIs: reconciling yesterday's periods failed")
        row._kpi_done(error, worker)
        self.env["ir.cron"]._commit_progress(0)
        return True
