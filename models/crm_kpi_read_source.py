"""Where the KPI families read: the primary database, or a standby.

When Odoo is started with a read replica (``--db_replica_host`` /
``--db_replica_port``), a period's families run their queries on a
read-only cursor on the standby, and the snapshots and values are written
on the primary (``crm.kpi.snapshot._compute_company_period``).
"""

import dataclasses
import logging
import time
from contextlib import contextmanager

import psycopg2

from odoo import SUPERUSER_ID, api, fields, models
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
        cr = self.env.cr
        if not self.env.context.get("crm_kpi_fresh_transaction"):
            cr.execute("SELECT pg_current_xact_id_if_assigned() IS NOT NULL")
            if cr.fetchone()[0]:
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

    @api.model
    def _kpi_replica_max_lag(self):
        """The setting *Standby maximum lag*, in minutes."""
        raw = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param(REPLICA_MAX_LAG_PARAM, REPLICA_MAX_LAG_DEFAULT)
        )
        try:
            return max(0, int(raw))
        except (TypeError, ValueError):
            return REPLICA_MAX_LAG_DEFAULT
