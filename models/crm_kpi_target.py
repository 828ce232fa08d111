"""Targets of the KPIs and the status of every stored value against them.

A target belongs to one KPI and one company, optionally to one sales team or
one helpdesk team and to one granularity.  The status of the values is kept
in stored columns of ``crm.kpi.value`` (so it can be filtered and grouped)
and is refreshed set-wise, in one ``UPDATE``, after each computation and
whenever a target changes.
"""

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from .crm_kpi_snapshot import GRANULARITY

STATUS = [
    ("on_target", "On target"),
    ("warning", "Warning"),
    ("off_target", "Off target"),
    ("no_data", "No data"),
]
# units whose company target makes no sense for a part of the company (a
# monthly revenue target of the company is not the target of each team)
ADDITIVE_UNITS = ("count", "currency")


class CrmKpiTarget(models.Model):
    _name = "crm.kpi.target"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _description = "CRM KPI Target"
    _check_company_auto = True
    _order = (
        "company_id, kpi_sequence, kpi_id, team_id, helpdesk_team_id, granularity, id"
    )

    kpi_id = fields.Many2one(
        "crm.kpi.definition",
        string="KPI",
        required=True,
        ondelete="cascade",
        index=True,
    )
    kpi_sequence = fields.Integer(related="kpi_id.sequence", store=True)
    area = fields.Selection(related="kpi_id.area", store=True)
    unit = fields.Selection(related="kpi_id.unit")
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    team_id = fields.Many2one(
        "crm.team",
        string="Sales Team",
        ondelete="cascade",
        check_company=True,
        help="Empty: the target of the company.",
    )
    helpdesk_team_id = fields.Many2one(
        "helpdesk.ticket.team",
        ondelete="cascade",
        help="Empty: the target of the company.",
    )
    granularity = fields.Selection(
        GRANULARITY,
        help="Period the target applies to. Empty: every granularity (set one for "
        "counts and amounts: a monthly revenue target is not a yearly one).",
    )
    direction = fields.Selection(
        [("up", "Higher is better"), ("down", "Lower is better")],
        required=True,
        compute="_compute_direction",
        store=True,
        readonly=False,
        precompute=True,
    )
    target_value = fields.Float(string="Target", required=True)
    warning_value = fields.Float(
        string="Warning Threshold",
        required=True,
        help="Between this threshold and the target the status is 'warning'; "
        "beyond it, 'off target'. Below the target when higher is better, "
        "above it when lower is better.",
    )
    active = fields.Boolean(default=True)
    note = fields.Char()

    _one_target = models.UniqueIndex(
        "(kpi_id, company_id, COALESCE(team_id, 0), COALESCE(helpdesk_team_id, 0),"
        " COALESCE(granularity, '')) WHERE active IS TRUE",
        "There is already an active target for this KPI, company, team and "
        "granularity.",
    )

    @api.depends("kpi_id")
    def _compute_direction(self):
        for target in self:
            target.direction = target.kpi_id.direction or "up"

    @api.depends("kpi_id", "team_id", "helpdesk_team_id", "granularity")
    def _compute_display_name(self):
        granularities = dict(GRANULARITY)
        for target in self:
            parts = [target.kpi_id.display_name or ""]
            if target.team_id or target.helpdesk_team_id:
                parts.append((target.team_id or target.helpdesk_team_id).display_name)
            if target.granularity:
                parts.append(granularities[target.granularity])
            target.display_name = " · ".join(p for p in parts if p)

    @api.constrains("team_id", "helpdesk_team_id")
    def _check_one_team(self):
        for target in self:
            if target.team_id and target.helpdesk_team_id:
                raise ValidationError(
                    self.env._(
                        "The target of %(kpi)s is either for a sales team or for a "
                        "helpdesk team, not both.",
                        kpi=target.kpi_id.display_name,
                    )
                )

    @api.constrains("direction", "target_value", "warning_value")
    def _check_warning(self):
        for target in self:
            if target.direction == "up" and target.warning_value > target.target_value:
                raise ValidationError(
                    self.env._(
                        "Higher is better for %(kpi)s: the warning threshold "
                        "(%(warning)s) must be at or below the target (%(target)s).",
                        kpi=target.kpi_id.display_name,
                        warning=target.warning_value,
                        target=target.target_value,
                    )
                )
            if (
                target.direction == "down"
                and target.warning_value < target.target_value
            ):
                raise ValidationError(
                    self.env._(
                        "Lower is better for %(kpi)s: the warning threshold "
                        "(%(warning)s) must be at or above the target (%(target)s).",
                        kpi=target.kpi_id.display_name,
                        warning=target.warning_value,
                        target=target.target_value,
                    )
                )

    # -- statuses follow the targets ------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        targets = super().create(vals_list)
        targets._refresh_statuses()
        return targets

    def write(self, vals):
        before = self._status_keys()
        res = super().write(vals)
        if set(vals) & {
            "kpi_id",
            "company_id",
            "team_id",
            "helpdesk_team_id",
            "granularity",
            "direction",
            "target_value",
            "warning_value",
            "active",
        }:
            self._refresh_statuses(before)
        return res

    def unlink(self):
        before = self._status_keys()
        res = super().unlink()
        self.env["crm.kpi.target"]._refresh_statuses(before)
        return res

    def _status_keys(self):
        return {(t.company_id.id, t.kpi_id.id) for t in self.sudo()}

    def _refresh_statuses(self, extra_keys=()):
        """Recompute the status of the values and the maturity of the
        companies touched by these targets."""
        keys = self._status_keys() | set(extra_keys)
        if not keys:
            return
        self.flush_model()
        company_ids = sorted({k[0] for k in keys})
        kpi_ids = sorted({k[1] for k in keys})
        Value = self.env["crm.kpi.value"]
        Value._kpi_update_status(
            SQL("v.company_id = ANY(%s) AND v.kpi_id = ANY(%s)", company_ids, kpi_ids)
        )
        # the maturity stage 5 depends on the targets of retention and renewal
        codes = set(
            self.env["crm.kpi.definition"].sudo().browse(kpi_ids).mapped("code")
        )
        Maturity = self.env["crm.kpi.maturity"].sudo()
        if codes & set(Maturity._TARGET_CODES):
            Maturity.search([("company_id", "in", company_ids)])._recompute()


class CrmKpiValue(models.Model):
    _inherit = "crm.kpi.value"

    target_id = fields.Many2one("crm.kpi.target", string="Target Rule", readonly=True)
    target_value = fields.Float(string="Target", readonly=True, aggregator=False)
    status = fields.Selection(
        STATUS,
        readonly=True,
        index=True,
        help="Against the target of the KPI: empty when no target applies.",
    )

    @api.model
    def _kpi_update_status(self, where):
        """Set target and status of the values matched by ``where`` (SQL on
        the alias ``v``): one read of the changes, one write.  The target
        that applies to a value is, of the active targets of its KPI and
        company, the one of its own team (sales or helpdesk) first, then the
        company's; one of its own granularity before one for every
        granularity.  A company target applies to the values of teams and
        people only for rates and averages, not for counts and amounts."""
        self.env["crm.kpi.target"].flush_model()
        self.flush_model(
            ["company_id", "kpi_id", "value", "has_value", "unit", "scope"]
        )
        # only the values whose target or status changes are written: a
        # recomputed period (the daily cron's usual case) mostly has none.
        # The changes are read first and written by primary key from arrays:
        # one UPDATE joining the values to a subquery of the same table was
        # planned as a nested loop over both (minutes) on a table whose
        # statistics did not yet know its rows, as after a first backfill
        cr = self.env.cr
        cr.execute(
            SQL(
                """
                SELECT n.id, n.target_id, n.target_value, n.status
                  FROM (
                    SELECT v.id, v.target_id AS old_target_id,
                           v.target_value AS old_target_value,
                           v.status AS old_status,
                           t.id AS target_id, t.target_value,
                           CASE
                               WHEN NOT COALESCE(v.has_value, FALSE) THEN 'no_data'
                               WHEN t.id IS NULL THEN NULL
                               WHEN t.direction = 'down' THEN CASE
                                   WHEN v.value <= t.target_value THEN 'on_target'
                                   WHEN v.value <= t.warning_value THEN 'warning'
                                   ELSE 'off_target' END
                               ELSE CASE
                                   WHEN v.value >= t.target_value THEN 'on_target'
                                   WHEN v.value >= t.warning_value THEN 'warning'
                                   ELSE 'off_target' END
                           END AS status
                      FROM crm_kpi_value v
                      LEFT JOIN LATERAL (
                            SELECT tt.id, tt.target_value, tt.warning_value,
                                   tt.direction
                              FROM crm_kpi_target tt
                             WHERE tt.active
                               AND tt.kpi_id = v.kpi_id
                               AND tt.company_id = v.company_id
                               AND (tt.granularity IS NULL
                                    OR tt.granularity = v.granularity)
                               AND (
                                    (tt.team_id IS NULL AND tt.helpdesk_team_id IS NULL
                                     AND (v.scope = 'company'
                                          OR v.unit NOT IN %(additive)s))
                                 OR (v.scope = 'team' AND tt.team_id = v.team_id)
                                 OR (v.scope = 'helpdesk_team'
                                     AND tt.helpdesk_team_id = v.helpdesk_team_id)
                               )
                             ORDER BY (tt.team_id IS NULL
                                       AND tt.helpdesk_team_id IS NULL),
                                      (tt.granularity IS NULL), tt.id
                             LIMIT 1
                      ) t ON TRUE
                     WHERE %(where)s
                  ) n
                 WHERE (n.old_target_id, n.old_target_value, n.old_status)
                       IS DISTINCT FROM (n.target_id, n.target_value, n.status)
                 ORDER BY n.id
                """,
                additive=ADDITIVE_UNITS,
                where=where,
            )
        )
        rows = cr.fetchall()
        # written even when nothing changed (empty arrays): a computation
        # costs the same queries whatever its data
        columns = [list(c) for c in zip(*rows, strict=True)] if rows else [[]] * 4
        cr.execute(
            SQL(
                """
                UPDATE crm_kpi_value cur
                   SET target_id = n.target_id,
                       target_value = n.target_value,
                       status = n.status
                  FROM unnest(%s::int[], %s::int[], %s::float8[], %s::varchar[])
                       AS n(id, target_id, target_value, status)
                 WHERE cur.id = n.id
                """,
                *columns,
            )
        )
        self.invalidate_model(["target_id", "target_value", "status"])


class CrmKpiSnapshot(models.Model):
    _inherit = "crm.kpi.snapshot"

    def _kpi_after_store(self):
        res = super()._kpi_after_store()
        if self:
            self.env["crm.kpi.value"]._kpi_update_status(
                SQL("v.snapshot_id = ANY(%s)", self.ids)
            )
            company_snapshots = self.filtered(lambda s: s.scope == "company")
            if company_snapshots:
                self.env["crm.kpi.maturity"]._compute_for_snapshots(company_snapshots)
        return res

    def action_print_success_report(self):
        return self.env.ref(
            "crm_success_kpi.action_report_crm_kpi_success"
        ).report_action(self)
