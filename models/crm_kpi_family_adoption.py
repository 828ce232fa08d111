"""CRM adoption family: licensed and active CRM users, adoption rate and
actions per active user, per company and per user.

Licensed users are the internal users of the company with sales or helpdesk
access (their current groups: group membership has no history).  Per user,
only the users active in the period get values; inactive licensed users
count in the company's denominator.  An action
is, in the period and on a lead or ticket of the company: creating it, or a
message the user authored on it (a posted message or note, a logged change
of a tracked field, a completed activity), or, when the user left no message
on it, the user's last change of it.  Creation notifications and automatic
mails are not actions.
"""

from odoo import models
from odoo.tools import SQL

from ..kpi.base import _lt, count, ratio
from ..kpi.events import lead_company_fallback
from ..kpi.messages import action_condition, creation_subtype_ids, lead_message_summary
from ..kpi.users import licensed_crm_users

# record tables holding CRM work, with their model name
RECORDS = (("crm_lead", "crm.lead"), ("helpdesk_ticket", "helpdesk.ticket"))


class CrmKpiFamilyAdoption(models.AbstractModel):
    _name = "crm.kpi.family.adoption"
    _inherit = "crm.kpi.family"
    _description = "CRM KPI family: crm adoption"
    _kpi_area = "adoption"
    # heavy reads (its lead messages and activities)
    _kpi_read_weight = 5

    def _kpi_codes(self):
        return ("crm_users", "crm_active_users", "adoption_rate", "actions_per_user")

    def _licensed(self):
        return licensed_crm_users(self.env, self.company)

    def _actions_sql(self, user_ids, lead_messages=True):
        """``SELECT uid, n`` of the actions of ``user_ids`` in the period;
        ``lead_messages=False``: without the messages on leads, which
        :meth:`compute` counts from :func:`~.messages.lead_message_summary`."""
        ctx = self.ctx
        action = action_condition(self.env)
        creation = creation_subtype_ids(self.env)
        parts = []
        own = SQL("r.company_id = %s", self.company.id)
        # leads without a company count for their team's or salesperson's
        # company: read apart, so that the records of the company are still
        # read from the indexes only
        records = [(table, model, own) for table, model in RECORDS] + [
            ("crm_lead", "crm.lead", lead_company_fallback(self.company.id, "r"))
        ]
        for table, model, owner in records:
            params = {
                "table": SQL.identifier(table),
                "model": model,
                "owner": owner,
                "a": ctx.start_utc,
                "b": ctx.end_utc,
                "users": user_ids,
                "action": action,
                "creation": creation,
            }
            parts.append(
                SQL(
                    """SELECT r.create_uid AS uid, 1 AS n
                         FROM %(table)s r
                        WHERE %(owner)s
                          AND r.create_date >= %(a)s AND r.create_date < %(b)s
                          AND r.create_uid = ANY(%(users)s)""",
                    **params,
                )
            )
            # the messages of the period first, through the (model, date)
            # index, then their authors and records (joined from the users
            # instead, the planner read every message of every author)
            if model != "crm.lead" or lead_messages:
                parts.append(
                    SQL(
                        """SELECT u.id AS uid, 1 AS n
                             FROM (SELECT m.author_id, m.res_id
                                     FROM mail_message m
                                    WHERE m.model = %(model)s
                                      AND m.date >= %(a)s AND m.date < %(b)s
                                      AND %(action)s
                                   OFFSET 0) m
                             JOIN res_users u ON u.partner_id = m.author_id
                             JOIN %(table)s r ON r.id = m.res_id
                            WHERE %(owner)s
                              AND u.id = ANY(%(users)s)""",
                        **params,
                    )
                )
            parts.append(
                SQL(
                    """SELECT r.write_uid AS uid, 1 AS n
                         FROM %(table)s r
                         JOIN res_users u ON u.id = r.write_uid
                        WHERE %(owner)s
                          AND r.write_date >= %(a)s AND r.write_date < %(b)s
                          AND r.write_date > r.create_date + INTERVAL '1 second'
                          AND r.write_uid = ANY(%(users)s)
                          AND NOT EXISTS (
                              SELECT 1 FROM mail_message m
                               WHERE m.model = %(model)s AND m.res_id = r.id
                                 AND m.author_id = u.partner_id
                                 AND m.date >= %(a)s AND m.date < %(b)s
                                 AND NOT (COALESCE(m.subtype_id, 0)
                                          = ANY(%(creation)s)))""",
                    **params,
                )
            )
        return SQL(" UNION ALL ").join(parts)

    def _kpi_compute(self):
        licensed = self._licensed()
        actions = {}
        if licensed:
            rows = self._fetch_heavy(
                SQL(
                    "WITH acts AS (%s) SELECT uid, SUM(n) AS n FROM acts GROUP BY uid",
                    self._actions_sql(licensed.ids, lead_messages=False),
                )
            )
            actions = {r["uid"]: r["n"] for r in rows}
            # the messages on leads, read once with the sales family: every
            # licensed user of the author's partner acts
            users_of = {}
            for user in licensed:
                users_of.setdefault(user.partner_id.id, []).append(user.id)
            for r in lead_message_summary(self.ctx):
                if not r["actions"]:
                    continue
                for uid in users_of.get(r["author_id"], ()):
                    actions[uid] = actions.get(uid, 0) + r["actions"]
        results = {}
        total = sum(actions.values())
        active = len(actions)
        results[("company", None)] = {
            "crm_users": count(len(licensed)),
            "crm_active_users": count(active),
            "adoption_rate": ratio(active, len(licensed), note=_lt("no CRM user")),
            "actions_per_user": ratio(
                total, active, note=_lt("no active CRM user in the period")
            ),
        }
        # per user: only the users active in the period have a user scope
        # (a salesperson without data keeps no snapshot); grouped over users,
        # numerators and denominators still add up to the company's figures
        for uid, n in actions.items():
            results[("user", uid)] = {
                "crm_users": count(1),
                "crm_active_users": count(1),
                "adoption_rate": ratio(1, 1),
                "actions_per_user": ratio(n, 1),
            }
        return results

    def _kpi_recount_rules(self):
        return {
            "crm_users": ("count", None),
            "crm_active_users": ("count", None),
            "adoption_rate": ("count", "count"),
            "actions_per_user": (None, "count"),
        }

    def _kpi_drill(self, code, scope, scope_id, part):
        licensed = self._licensed()
        if scope == "user":
            licensed = licensed.filtered(lambda u: u.id == scope_id)
        if code == "crm_users" or (code == "adoption_rate" and part == "denominator"):
            return "res.users", [("id", "in", licensed.ids)]
        if code in ("crm_active_users", "adoption_rate") or (
            code == "actions_per_user" and part == "denominator"
        ):
            if not licensed:
                return "res.users", [("id", "in", [])]
            rows = self._fetch(
                SQL(
                    "WITH acts AS (%s) SELECT DISTINCT uid FROM acts",
                    self._actions_sql(licensed.ids),
                )
            )
            return "res.users", [("id", "in", [r["uid"] for r in rows])]
        return None
