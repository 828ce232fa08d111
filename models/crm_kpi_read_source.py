"""Where the KPI families read: the primary database, or a standby; on one
connection, or on several at once.

When Odoo is started with a read replica (``--db_replica_host`` /
``--db_replica_port``), a period's families run their queries on a
read-only cursor on the standby, and the snapshots and values are written
on the primary (``crm.kpi.snapshot._compute_company_period``).

On the primary, the families of a period run at the same time on several
new connections (the setting *Connections reading a period*) whose
transactions share one snapshot (``pg_export_snapshot``): independent
families use several processors of the database server, and give the
values they would give one after another; the computation's own
transaction writes them.
"""

import dataclasses
import logging
import threading
import time
from contextlib import contextmanager

import psycopg2

from odoo import SUPERUSER_ID, api, fields, models, sql_db
from odoo.tools import SQL, config

_logger = logging.getLogger(__name__)

# how far behind the primary a standby may be, in minutes, for the engine
# to read a period there (further behind: read on the primary)
REPLICA_MAX_LAG_PARAM = "crm_success_kpi.replica_max_lag"
REPLICA_MAX_LAG_DEFAULT = 15
# how long the engine waits for the standby to replay what the primary had
# committed when the computation began (seconds)
REPLICA_CATCH_UP_WAIT = 5.0
READ_SOURCE = [
    ("primary", "Primary database"),
    ("replica", "Standby (read replica)"),
]

# how many connections read the families of a period at once (1: one)
READ_CONNECTIONS_PARAM = "crm_success_kpi.read_connections"
READ_CONNECTIONS_DEFAULT = 2
READ_CONNECTIONS_MAX = 8

# where a computation read on the primary (see CrmKpiSnapshot._kpi_reading)
PRIMARY_SOURCE = {
    "read_source": "primary",
    "replica_replay_at": None,
    "replica_lag": 0.0,
}


class CrmKpiReadSource(models.AbstractModel):
    _name = "crm.kpi.read.source"
    _description = "CRM KPI read source (primary or standby)"

    read_source = fields.Selection(
        READ_SOURCE,
        string="Read From",
        readonly=True,
        default="primary",
        help="Where the computation read the records: the primary database, "
        "or a standby when Odoo has a read replica (--db_replica_host).",
    )
    replica_replay_at = fields.Datetime(
        string="Standby Replayed Up To",
        readonly=True,
        help="When the values were read on a standby: the time of the last "
        "transaction the standby had replayed from the primary.",
    )
    replica_lag = fields.Float(
        string="Standby Lag (s)",
        readonly=True,
        help="When the values were read on a standby: how far behind the "
        "primary it was, in seconds (0: it had replayed everything the "
        "primary had committed when the computation began).",
    )

    @contextmanager
    def _kpi_reading(self, ctx):
        """Yield ``(read_ctx, source)``: the period context whose
        environment the families read with, and where that is (the values
        of the snapshot's ``read_source``, ``replica_replay_at`` and
        ``replica_lag``).

        When Odoo has a read replica (``--db_replica_host`` /
        ``--db_replica_port``), the reads go to a read-only cursor on it, in
        one transaction (every family sees the same moment), once the
        standby has replayed what the primary had committed when the
        computation began, or is behind it by less than the delay of the
        setting *Standby maximum lag*.  Otherwise -- no replica, the standby
        does not answer or lags too much, or this transaction has changes
        the standby cannot see -- they read on the primary, as without a
        replica, and the reason is logged."""
        primary = dict(PRIMARY_SOURCE)
        found = self._kpi_replica_cursor()
        if found is None:
            yield ctx, primary
            return
        replica_cr, source = found
        try:
            env = api.Environment(replica_cr, SUPERUSER_ID, dict(ctx.env.context))
            yield dataclasses.replace(ctx, env=env), source
        finally:
            replica_cr.close()

    @api.model
    def _kpi_replica_configured(self):
        """Whether Odoo was started with a read replica."""
        return bool(config.get("db_replica_host") or config.get("db_replica_port"))

    def _kpi_replica_cursor(self):
        """``(cursor, source)`` on the standby for this computation, or None
        (read on the primary; why is logged)."""
        if not self._kpi_replica_configured():
            return None
        if not self.env.context.get("crm_kpi_fresh_transaction"):
            if self._kpi_transaction_wrote():
                _logger.info(
                    "CRM KPIs: this transaction has changes that the standby "
                    "cannot see: the period is read on the primary"
                )
                return None
        target = self._kpi_replica_target()
        try:
            replica_cr = self.env.registry.cursor(readonly=True)
        except psycopg2.Error as exc:
            _logger.warning(
                "CRM KPIs: no connection to the standby (%s): the period is "
                "read on the primary",
                exc,
            )
            return None
        try:
            source = self._kpi_replica_source(replica_cr, target)
        except psycopg2.Error as exc:
            _logger.warning(
                "CRM KPIs: the standby failed (%s): the period is read on the primary",
                exc,
            )
            source = None
        if source is None:
            replica_cr.close()
            return None
        return replica_cr, source

    def _kpi_replica_source(self, replica_cr, target):
        """The source of reads on ``replica_cr`` once its standby sees what
        the snapshot ``target`` of the primary sees (waiting up to
        :data:`REPLICA_CATCH_UP_WAIT`), or None (logged) when it is no
        standby or lags more than the setting allows."""
        replica_cr.execute("SELECT pg_is_in_recovery()")
        if not replica_cr.fetchone()[0]:
            _logger.warning(
                "CRM KPIs: the standby does not answer (the read-only "
                "connection reached the primary): the period is read on "
                "the primary"
            )
            return None
        deadline = time.monotonic() + REPLICA_CATCH_UP_WAIT
        while True:
            # caught up: every transaction this one sees as committed is
            # committed on the standby too (none is still running there,
            # and none is beyond its horizon)
            replica_cr.execute(
                SQL(
                    """SELECT pg_snapshot_xmax(s) >= pg_snapshot_xmax(p)
                              AND NOT EXISTS (
                                  SELECT FROM pg_snapshot_xip(s) AS x
                                   WHERE pg_visible_in_snapshot(x, p)),
                              pg_last_xact_replay_timestamp() AT TIME ZONE 'UTC',
                              EXTRACT(EPOCH FROM
                                  now() - pg_last_xact_replay_timestamp())
                         FROM pg_current_snapshot() AS s,
                              CAST(%s AS pg_snapshot) AS p""",
                    target,
                )
            )
            caught_up, replay_at, behind = replica_cr.fetchone()
            # the families' reads: a transaction (snapshot) of its own,
            # from after this check
            replica_cr.rollback()
            if caught_up or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        lag = 0.0 if caught_up else float(behind if behind is not None else "inf")
        max_lag = self._kpi_replica_max_lag() * 60
        if lag > max_lag:
            _logger.warning(
                "CRM KPIs: the standby is %s s behind the primary (more than "
                "%s min): the period is read on the primary",
                "?" if lag == float("inf") else round(lag),
                max_lag // 60,
            )
            return None
        if lag:
            _logger.info(
                "CRM KPIs: reading the period on the standby, %s s behind the primary",
                round(lag),
            )
        return {
            "read_source": "replica",
            "replica_replay_at": replay_at,
            "replica_lag": lag,
        }

    def _kpi_replica_target(self):
        """What this transaction sees on the primary (its snapshot, as
        text): the standby must see at least every transaction committed
        in it."""
        self.env.cr.execute("SELECT pg_current_snapshot()::text")
        return self.env.cr.fetchone()[0]

    def _kpi_transaction_wrote(self):
        """Whether this transaction has changes of its own, which other
        connections (a standby, the period's reading connections) cannot
        see."""
        self.env.cr.execute("SELECT pg_current_xact_id_if_assigned() IS NOT NULL")
        return self.env.cr.fetchone()[0]

    @api.model
    def _kpi_int_setting(self, param, default, minimum, maximum=None):
        """The integer system parameter ``param`` brought within
        ``[minimum, maximum]``, or ``default`` when it is no integer."""
        raw = self.env["ir.config_parameter"].sudo().get_param(param, default)
        try:
            value = max(minimum, int(raw))
        except (TypeError, ValueError):
            return default
        return value if maximum is None else min(value, maximum)

    @api.model
    def _kpi_replica_max_lag(self):
        """The setting *Standby maximum lag*, in minutes."""
        return self._kpi_int_setting(REPLICA_MAX_LAG_PARAM, REPLICA_MAX_LAG_DEFAULT, 0)

    # -- several connections ---------------------------------------------------
    @api.model
    def _kpi_read_connections(self):
        """The setting *Connections reading a period* (1 to
        :data:`READ_CONNECTIONS_MAX`)."""
        return self._kpi_int_setting(
            READ_CONNECTIONS_PARAM, READ_CONNECTIONS_DEFAULT, 1, READ_CONNECTIONS_MAX
        )

    @contextmanager
    def _kpi_lanes(self, read_ctx):
        """Yield the period context the families of ``read_ctx`` read with:
        ``read_ctx`` itself, or, with the setting *Connections reading a
        period* above 1, a context on a new connection whose ``lanes`` are
        the contexts of the other new connections, all in transactions that
        see one snapshot (the first one exports it, as its first statement:
        this transaction may be in a savepoint, which cannot export one).
        They share ``read_ctx.extra`` (the figures several families read
        are computed once: :func:`~..kpi.base.shared`); this transaction
        writes the results.  ``read_ctx`` itself when the setting is 1, when
        the reads go to a standby, or when this transaction has changes that
        other connections cannot see (a period computed after writes in the
        same transaction, as in the tests)."""
        wanted = self._kpi_read_connections()
        cursors = []
        try:
            lanes = []
            if wanted > 1 and self._kpi_snapshot_shareable(read_ctx):
                snapshot = None
                for _index in range(wanted):
                    lane_cr = self._kpi_lane_cursor(snapshot)
                    if lane_cr is None:
                        break
                    cursors.append(lane_cr)
                    if snapshot is None:
                        lane_cr.execute("SELECT pg_export_snapshot()")
                        snapshot = lane_cr.fetchone()[0]
                    env = api.Environment(
                        lane_cr,
                        read_ctx.env.uid,
                        dict(read_ctx.env.context),
                        su=read_ctx.env.su,
                    )
                    lanes.append(
                        dataclasses.replace(
                            read_ctx,
                            env=env,
                            company=read_ctx.company.with_env(env),
                            lanes=[],
                        )
                    )
            if len(lanes) < 2:
                yield read_ctx
                return
            lanes[0].lanes = lanes[1:]
            yield lanes[0]
        finally:
            for lane_cr in cursors:
                lane_cr.close()

    def _kpi_snapshot_shareable(self, read_ctx):
        """Whether other connections see what ``read_ctx`` would read: it
        reads on the primary, in this transaction, which has written
        nothing yet."""
        return read_ctx.env.cr is self.env.cr and not self._kpi_transaction_wrote()

    def _kpi_lane_cursor(self, snapshot):
        """A new connection, whose transaction sees the exported
        ``snapshot`` when given, or None (logged) when there is none to be
        had."""
        try:
            lane_cr = self.env.registry.cursor()
        except psycopg2.Error as exc:
            _logger.warning(
                "CRM KPIs: no other connection (%s): the families of the "
                "period are read on one",
                exc,
            )
            return None
        if not isinstance(lane_cr, sql_db.Cursor):
            # the registry lends cursors on the test's transaction
            lane_cr.close()
            return None
        if snapshot is None:
            return lane_cr
        try:
            lane_cr.execute(SQL("SET TRANSACTION SNAPSHOT %s", snapshot))
        except psycopg2.Error as exc:
            _logger.warning(
                "CRM KPIs: the other connection cannot read the period's "
                "snapshot (%s): the families of the period are read on fewer",
                exc,
            )
            lane_cr.close()
            return None
        return lane_cr

    def _kpi_run_reads(self, read_ctx, reads):
        """The results of ``reads`` (functions of a period context: the
        families' computations, the cohorts' read), in that order, run on
        ``read_ctx`` and its ``lanes`` (:meth:`_kpi_lanes`) at the same
        time: each connection takes the next read not yet taken until none
        is left.  The first error stops them and is raised once they have
        all stopped."""
        results = [None] * len(reads)
        lanes = [read_ctx, *read_ctx.lanes]
        if len(lanes) == 1:
            return [read(read_ctx) for read in reads]
        pending = list(range(len(reads)))
        errors = []
        lock = threading.Lock()

        def run(lane):
            while True:
                with lock:
                    if errors or not pending:
                        return
                    index = pending.pop(0)
                try:
                    results[index] = reads[index](lane)
                except Exception as exc:  # noqa: BLE001 -- raised below
                    with lock:
                        errors.append(exc)
                    return

        threads = [
            threading.Thread(target=run, args=(lane,), name=f"crm_kpi_lane_{number}")
            for number, lane in enumerate(lanes[1:], 1)
        ]
        for thread in threads:
            thread.start()
        try:
            run(lanes[0])
        finally:
            for thread in threads:
                thread.join()
        if errors:
            raise errors[0]
        return results
