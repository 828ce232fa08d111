"""Alerts: a KPI that falls off its target tells its owner.

When a computation stores a value whose status differs from the status the
previous computation found (kept in ``kpi_alert_status``) and the new status is
*warning* or *off target*, the target's responsible user (or, when it has
none, every KPI manager of the company) gets one activity on the target with
the KPI, the period, the value, the target and a link to the value.  A rerun
that finds the same status again sends nothing; a value that recovers and
falls again sends a new alert.  A target edit changes the stored status at
once but alerts at the next computation of the period (the daily cron
recomputes the current and the previous period).

Only the values of the target's own level are alerted (a company target:
the company's value; a team target: that team's value), and only for the
last closed period of their granularity (the previous one): the current
period is still running (a month's revenue is off target on its 4th day),
and a backfill of years of history floods nobody with alerts about them.

Managers (and any KPI user) can also subscribe, in their preferences, to a
weekly mail listing every value off target in the last closed period of
each granularity they may read.
"""

import logging

from markupsafe import Markup

from odoo import api, fields, models
from odoo.fields import Domain
from odoo.tools import SQL
from odoo.tools.sql import column_exists

from ..kpi import period as P
from .crm_kpi_target import STATUS

_logger = logging.getLogger(__name__)

ALERT_STATUSES = ("warning", "off_target")


class CrmKpiTarget(models.Model):
    _inherit = "crm.kpi.target"

    alert_active = fields.Boolean(
        string="Alerts",
        default=True,
        help="When a computation finds a value of this target turned to warning "
        "or off target, its responsible user gets an activity.",
    )
    alert_user_id = fields.Many2one(
        "res.users",
        string="Responsible",
        domain="[('share', '=', False), ('company_ids', 'in', company_id)]",
        help="Gets the alerts of this target. Empty: every KPI manager of the company.",
    )

    def _kpi_alert_users(self):
        """The users alerted for this target (one target)."""
        self.ensure_one()
        if self.alert_user_id:
            return (
                self.alert_user_id
                if self.alert_user_id.active
                else self.env["res.users"]
            )
        return self.company_id._kpi_managers()

    def _kpi_alert_matches(self, value):
        """Whether ``value`` is of this target's own level."""
        self.ensure_one()
        if self.team_id:
            return value.scope == "team" and value.team_id == self.team_id
        if self.helpdesk_team_id:
            return (
                value.scope == "helpdesk_team"
                and value.helpdesk_team_id == self.helpdesk_team_id
            )
        return value.scope == "company"

    # -- the weekly summary ---------------------------------------------------
    @api.model
    def _cron_send_weekly_summary(self):
        """Mail each subscribed user the values off target he may read."""
        users = (
            self.env["res.users"]
            .sudo()
            .search([("kpi_weekly_summary", "=", True), ("share", "=", False)])
        )
        sent = 0
        for user in users:
            if not user.has_group("crm_success_kpi.group_crm_kpi_user"):
                continue
            if not user.email:
                _logger.info("CRM KPIs: %s has no email for the summary", user.login)
                continue
            values = self.env["crm.kpi.value"]._kpi_off_target_for(user)
            if values and self._kpi_mail_summary(user, values):
                sent += 1
        return sent

    def _kpi_mail_summary(self, user, values):
        lang = user.lang or self.env.lang
        env = self.with_context(lang=lang).env
        body = env["ir.qweb"]._render(
            "crm_success_kpi.kpi_off_target_summary",
            {
                "user": user,
                "values": values.with_env(env),
                "base_url": user.get_base_url(),
            },
            minimal_qcontext=True,
        )
        company = user.company_id
        env["mail.mail"].sudo().create(
            {
                "subject": env._(
                    "KPIs off target: %(count)s (%(company)s)",
                    count=len(values),
                    company=company.name,
                ),
                "body_html": body,
                "email_from": company.email_formatted
                or self.env.user.email_formatted
                or False,
                "recipient_ids": [fields.Command.link(user.partner_id.id)],
                "auto_delete": True,
            }
        )
        return True


class CrmKpiValue(models.Model):
    _inherit = "crm.kpi.value"

    kpi_alert_status = fields.Selection(
        STATUS,
        string="Status at the Last Computation",
        readonly=True,
        copy=False,
        help="The status the previous computation found: an alert is sent when a "
        "computation finds another one.",
    )

    def _auto_init(self):
        cr = self.env.cr
        new_column = not column_exists(cr, self._table, "kpi_alert_status")
        res = super()._auto_init()
        if new_column:
            # the values computed before alerts existed: their status is the
            # one found, so the first computation alerts only real changes
            cr.execute(
                SQL(
                    "UPDATE crm_kpi_value SET kpi_alert_status = status"
                    " WHERE status IS NOT NULL"
                )
            )
        return res

    @api.model
    def _kpi_alert_changes(self, snapshot_ids):
        """Record the status each value of these snapshots has now as the one
        the computation found, and return the ids of the values whose status
        changed into warning or off target since the previous computation.
        Only closed periods: the status of a running period is not recorded,
        so the first computation after it closes compares the final status
        with the one recorded before (none: it alerts when it is off)."""
        self.flush_model(["status"])
        cr = self.env.cr
        cr.execute(
            SQL(
                """
                SELECT id, status
                  FROM crm_kpi_value
                 WHERE snapshot_id = ANY(%s)
                   AND date_end <= %s
                   AND kpi_alert_status IS DISTINCT FROM status
                 ORDER BY id
                """,
                list(snapshot_ids),
                fields.Date.context_today(self),
            )
        )
        rows = cr.fetchall()
        # written by primary key (the plan cannot go wrong on a table whose
        # statistics lag behind its rows), even when nothing changed: a
        # computation costs the same queries whatever its data
        cr.execute(
            SQL(
                "UPDATE crm_kpi_value SET kpi_alert_status = status WHERE id = ANY(%s)",
                [vid for vid, _status in rows],
            )
        )
        return [vid for vid, status in rows if status in ALERT_STATUSES]

    def _kpi_send_alerts(self):
        """One activity per alerted user for each of these values (sudo)."""
        today = fields.Date.context_today(self)
        activity_type = self.env.ref(
            "crm_success_kpi.mail_activity_type_kpi_alert", raise_if_not_found=False
        )
        model_id = self.env["ir.model"]._get_id("crm.kpi.target")
        users_of = {}
        vals_list = []
        for value in self.sudo():
            target = value.target_id
            if not (
                target and target.alert_active and target._kpi_alert_matches(value)
            ):
                continue
            # only the last closed period: the current one is still running
            # (a month's revenue is "off target" on its 4th day), the older
            # ones are history a backfill recomputes
            calendar = value.company_id.kpi_period_calendar or "gregorian"
            current = P.period_start(value.granularity, today, calendar)
            if value.date_start != P.shift_period(
                value.granularity, current, -1, calendar
            ):
                continue
            if target.id not in users_of:
                users_of[target.id] = target._kpi_alert_users()
            for user in users_of[target.id]:
                summary, note = value.with_context(
                    lang=user.lang or self.env.lang
                )._kpi_alert_text()
                vals_list.append(
                    {
                        "res_model_id": model_id,
                        "res_id": target.id,
                        "activity_type_id": activity_type.id
                        if activity_type
                        else False,
                        "summary": summary,
                        "note": note,
                        "user_id": user.id,
                        "date_deadline": today,
                        "automated": True,
                    }
                )
        if vals_list:
            self.env["mail.activity"].sudo().create(vals_list)
        return len(vals_list)

    def _kpi_alert_text(self):
        """Summary and note of the alert of this value, in the context's
        language."""
        self.ensure_one()
        statuses = dict(self._fields["status"]._description_selection(self.env))
        kpi = self.kpi_id.with_env(self.env).display_name
        period = self.period_name or self.period_label
        summary = self.env._(
            "%(kpi)s %(status)s in %(period)s (%(company)s)",
            kpi=kpi,
            status=statuses.get(self.status, self.status).lower(),
            period=period,
            company=self.company_id.name,
        )
        target = self.target_id
        scope = self.snapshot_id._kpi_scope_name() if self.snapshot_id else ""
        note = Markup("<p>%s</p><p><a href='/odoo/crm.kpi.value/%s'>%s</a></p>") % (
            self.env._(
                "%(kpi)s of %(scope)s for %(period)s: %(value)s, against a target "
                "of %(target)s (warning at %(warning)s).",
                kpi=kpi,
                scope=scope,
                period=period,
                value=self.display_value,
                target=f"{target.target_value:,.2f}",
                warning=f"{target.warning_value:,.2f}",
            ),
            self.id,
            self.env._("Open the value"),
        )
        return summary, note

    @api.model
    def _kpi_off_target_for(self, user):
        """The values off target that ``user`` may read, in the last closed
        period of each granularity of each of his companies."""
        Value = self.with_user(user).with_context(
            allowed_company_ids=user.company_ids.ids
        )
        today = fields.Date.context_today(Value)
        last = Value._read_group(
            [("date_end", "<=", today)],
            ["company_id", "granularity"],
            ["date_start:max"],
        )
        if not last:
            return Value
        domain = Domain.OR(
            [
                ("company_id", "=", company.id),
                ("granularity", "=", granularity),
                ("date_start", "=", start),
            ]
            for company, granularity, start in last
        )
        return Value.search(
            Domain.AND([domain, [("status", "=", "off_target")]]),
            order="company_id, granularity, kpi_id, scope, id",
        )


class CrmKpiSnapshot(models.Model):
    _inherit = "crm.kpi.snapshot"

    def _kpi_after_store(self):
        res = super()._kpi_after_store()
        if self:
            Value = self.env["crm.kpi.value"]
            alerted = Value._kpi_alert_changes(self.ids)
            if alerted:
                Value.browse(alerted)._kpi_send_alerts()
        return res


class ResUsers(models.Model):
    _inherit = "res.users"

    kpi_weekly_summary = fields.Boolean(
        string="Weekly KPI Summary",
        help="Every Monday, a mail listing the KPI values off target in the last "
        "closed period (those you may read).",
    )

    @property
    def SELF_READABLE_FIELDS(self):
        return super().SELF_READABLE_FIELDS + ["kpi_weekly_summary"]

    @property
    def SELF_WRITEABLE_FIELDS(self):
        return super().SELF_WRITEABLE_FIELDS + ["kpi_weekly_summary"]
