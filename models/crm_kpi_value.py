from contextlib import contextmanager

import psycopg2
from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain
from odoo.tools import SQL, float_compare

from ..kpi.base import set_local
from .crm_kpi_definition import AREAS, UNITS
from .crm_kpi_drillable import DRILL_FIELD, drill_reference, holds_sql
from .crm_kpi_snapshot import GRANULARITY, SCOPE


class CrmKpiValue(models.Model):
    _name = "crm.kpi.value"
    _inherit = ["crm.kpi.period.mixin"]
    _description = "CRM KPI Value"
    _order = "date_start desc, kpi_id, id"
    _rec_name = "kpi_id"

    snapshot_id = fields.Many2one(
        "crm.kpi.snapshot", required=True, readonly=True, ondelete="cascade", index=True
    )
    kpi_id = fields.Many2one(
        "crm.kpi.definition",
        string="KPI",
        required=True,
        readonly=True,
        ondelete="cascade",
        index=True,
    )
    kpi_code = fields.Char(readonly=True, index=True)
    area = fields.Selection(AREAS, readonly=True)
    unit = fields.Selection(UNITS, readonly=True)
    value = fields.Float(
        readonly=True,
        aggregator="sum",
        help="Empty when the KPI has no value for the period (n/a). Grouped, "
        "rates are the ratio of the summed numerators and denominators.",
    )
    has_value = fields.Boolean(
        readonly=True,
        help="False when the KPI has no value (n/a): the ORM reads an empty "
        "value as 0.0, so use this flag to tell them apart.",
    )
    numerator = fields.Float(readonly=True, aggregator="sum")
    denominator = fields.Float(readonly=True, aggregator="sum")
    factor = fields.Float(readonly=True, default=1.0, aggregator="max")
    note = fields.Char(
        string="Why n/a (source)",
        readonly=True,
        help="The reason in English, as computed; shown translated in Why n/a.",
    )
    note_label = fields.Char(string="Why n/a", compute="_compute_note_label")
    display_value = fields.Char(string="Shown Value", compute="_compute_display_value")
    # the values a computation gives again unchanged are not written again:
    # the time they were last computed is their snapshot's
    computed_at = fields.Datetime(related="snapshot_id.computed_at")
    # where they were read (the primary or a standby) and how fresh that was
    read_source = fields.Selection(related="snapshot_id.read_source")
    replica_replay_at = fields.Datetime(related="snapshot_id.replica_replay_at")
    # the snapshot's period and scope, stored for grouping
    granularity = fields.Selection(GRANULARITY, readonly=True, index=True)
    date_start = fields.Date(readonly=True, index=True)
    date_end = fields.Date(readonly=True)
    period_label = fields.Char(string="Period", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True, index=True)
    scope = fields.Selection(SCOPE, readonly=True, index=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    user_id = fields.Many2one("res.users", readonly=True)
    helpdesk_team_id = fields.Many2one("helpdesk.ticket.team", readonly=True)

    _snapshot_kpi_unique = models.Constraint(
        "UNIQUE(snapshot_id, kpi_id)", "A snapshot holds one value per KPI."
    )

    # room in every page for the new version of its rows: the values that a
    # period computed again changes then stay in their page and skip the
    # nine indexes (heap-only updates) instead of moving to a new page
    FILLFACTOR = 50

    def init(self):
        res = super().init()
        cr = self.env.cr
        cr.execute(
            SQL(
                "SELECT reloptions FROM pg_class WHERE oid = %s::regclass",
                self._table,
            )
        )
        wanted = f"fillfactor={self.FILLFACTOR}"
        if wanted not in (cr.fetchone()[0] or []):
            cr.execute(
                SQL(
                    "ALTER TABLE %s SET (fillfactor = %s)",
                    SQL.identifier(self._table),
                    self.FILLFACTOR,
                )
            )
        return res

    def _translate_note(self, note):
        """The reader's-language text of an n/a reason the engine stored in
        English (the reasons are code terms of the addon's translations)."""
        return self.env._(note) if note else ""

    @api.depends("note")
    @api.depends_context("lang")
    def _compute_note_label(self):
        for rec in self:
            rec.note_label = self._translate_note(rec.note)

    @api.depends("value", "has_value", "unit", "note")
    @api.depends_context("lang")
    def _compute_display_value(self):
        for rec in self:
            if not rec.has_value:
                rec.display_value = self.env._(
                    "n/a: %(why)s", why=self._translate_note(rec.note)
                )
            elif rec.unit == "percent":
                rec.display_value = f"{rec.value:.2f} %"
            elif rec.unit == "count":
                rec.display_value = f"{rec.value:,.0f}"
            else:
                rec.display_value = f"{rec.value:,.2f}"

    # settings of the grouped reads of the stored values (pivot, graph),
    # for the read only: the pivot by salesperson groups 68,000 values in
    # six grouping sets and orders them by the salesperson's name (a join
    # to the partners)
    # - jit: its estimated cost passes jit_above_cost, and compiling the
    #   query took 0.5 s of a 1.9 s read;
    # - enable_mergejoin: with the statistics of res_users older than its
    #   newest users (whose partners have the highest ids), the planner
    #   merged the users with the partners along the partners' primary key,
    #   reading all 311,000 partners in each parallel worker (0.2-0.6 s) to
    #   find 77 users; the other joins (KPIs, teams, companies) are small
    #   tables that hash joins or index look-ups serve as well;
    # - work_mem: the sorts of the grouping sets spilled 7 MB to disk.
    GROUPED_READ_SETTINGS = {
        "enable_mergejoin": "off",
        "jit": "off",
        "work_mem": "64MB",
    }

    @contextmanager
    def _grouped_read_settings(self):
        """Run the block with :attr:`GROUPED_READ_SETTINGS`, then put the
        transaction's own settings back (a query before and one after),
        also when the block raises; but a failed query leaves them to the
        rollback that follows: its aborted transaction takes no more
        queries, and trying would hide the query's own error."""
        before = set_local(self.env.cr, self.GROUPED_READ_SETTINGS)
        aborted = False
        try:
            yield
        except psycopg2.Error:
            aborted = True
            raise
        finally:
            if not aborted:
                set_local(self.env.cr, before)

    @api.model
    def _read_group(
        self,
        domain,
        groupby=(),
        aggregates=(),
        having=(),
        offset=0,
        limit=None,
        order=None,
    ):
        args = (domain, groupby, aggregates, having, offset, limit, order)
        if not groupby:
            return super()._read_group(*args)
        with self._grouped_read_settings():
            return super()._read_group(*args)

    @api.model
    def _read_grouping_sets(self, domain, grouping_sets, aggregates=(), order=None):
        with self._grouped_read_settings():
            return super()._read_grouping_sets(
                domain, grouping_sets, aggregates=aggregates, order=order
            )

    def _read_group_select(self, aggregate_spec, query):
        """Grouped values follow the grouping the catalogue declares for the
        KPI, at every level of rows and columns: *sum* adds the values up,
        *ratio* divides the summed numerators by the summed denominators
        (times the KPI's factor; never an average of rates), *last* takes the
        values of the group's last period (its scopes added up), *none* stays
        empty.  A group of one value shows it as stored; a group mixing
        several KPIs is empty (their units differ)."""
        if aggregate_spec == "value:sum":
            t = self._table
            col = lambda name: SQL.identifier(t, name)  # noqa: E731
            # the KPI's grouping comes from a join, not a subquery per
            # group: the planner priced that subquery once for each of the
            # groups it expected (a quarter of a million on 68,000 values)
            # and compiled the query with JIT for 1.5 s of a 0.3 s read
            alias = query.make_alias(t, "kpi_grouping")
            query.add_join(
                "LEFT JOIN",
                alias,
                "crm_kpi_definition",
                SQL("%s = %s", SQL.identifier(alias, "id"), col("kpi_id")),
            )
            return SQL(
                """CASE
                     WHEN COUNT(*) = 1 THEN MAX(%(value)s)
                     WHEN MIN(%(kpi)s) <> MAX(%(kpi)s) THEN NULL
                     ELSE CASE MIN(%(grouping)s)
                       WHEN 'sum' THEN SUM(%(value)s)
                       WHEN 'ratio' THEN SUM(%(num)s) / NULLIF(SUM(%(den)s), 0)
                                         * MAX(%(factor)s)
                       WHEN 'last' THEN (
                           SELECT SUM(x.v)
                             FROM unnest(ARRAY_AGG(%(start)s) FILTER (%(is_last)s),
                                         ARRAY_AGG(%(value)s) FILTER (%(is_last)s))
                                  AS x(d, v)
                            WHERE x.d = MAX(%(start)s))
                     END
                   END""",
                value=col("value"),
                kpi=col("kpi_id"),
                num=col("numerator"),
                den=col("denominator"),
                factor=col("factor"),
                start=col("date_start"),
                grouping=SQL.identifier(alias, "grouping"),
                # the arrays of the groups of 'last' KPIs only: every group
                # aggregates them, and most KPIs are not 'last'
                is_last=SQL("WHERE %s = 'last'", SQL.identifier(alias, "grouping")),
            )
        return super()._read_group_select(aggregate_spec, query)

    def _web_read_group_groupby_formatter(self, groupby_spec, values):
        """The web client's label and domain of a group-by value, made once
        per distinct value instead of once per cell: the Overview's pivot by
        salesperson, KPI and month has 68,000 cells but only a few hundred
        salespeople, KPIs and months, and the per-cell labels (a sudo
        environment for each name, babel for each month) took most of its
        time."""
        formatter = super()._web_read_group_groupby_formatter(groupby_spec, values)
        made = {}
        # records (a many-to-one) are kept by their ids: hashing and
        # comparing recordsets themselves took a third of the time
        by_ids = bool(values) and isinstance(values[0], models.BaseModel)

        def formatter_once(value):
            key = value._ids if by_ids else value
            try:
                return made[key]
            except KeyError:
                made[key] = formatter(value)
                return made[key]
            except TypeError:  # an unhashable value: not kept
                return formatter(value)

        return formatter_once

    def _web_read_group_format(self, groupby, aggregates, groups):
        """``web``'s formatting of the groups for the web client, but for
        each group's domain: the conjunction of its group-bys' domains is
        written out in prefix notation (an ``&`` per extra operand), where
        ``web`` parses them into domain objects and flattens them again,
        which for the 68,000 cells of the pivot by salesperson cost more
        than the grouped read itself.  Both domains select the same records
        (tested); labels, values and folds are ``web``'s."""
        if self._web_read_group_field_expand(groupby):
            return super()._web_read_group_format(groupby, aggregates, groups)
        result = [{} for __ in groups]
        if not groups:
            return result
        columns = list(zip(*groups, strict=True))
        parts = [[] for __ in groups]
        for groupby_spec, values in zip(groupby, columns, strict=False):
            formatter = self._web_read_group_groupby_formatter(groupby_spec, values)
            for value, dict_group, part in zip(values, result, parts, strict=True):
                dict_group[groupby_spec], domain = formatter(value)
                if domain:
                    part.append(domain)
        for dict_group, part in zip(result, parts, strict=True):
            dict_group["__extra_domain"] = ["&"] * (len(part) - 1) + [
                term for domain in part for term in domain
            ]
        for aggregate_spec, values in zip(
            aggregates, columns[len(groupby) :], strict=True
        ):
            for value, dict_group in zip(values, result, strict=True):
                dict_group[aggregate_spec] = value
        return result

    # ------------------------------------------------------------------
    # Drill-down
    # ------------------------------------------------------------------
    def _drill(self, part):
        """The list of the records behind ``part`` ('numerator' or
        'denominator') of this value.  When the records counted now differ
        from the stored number (data edited after the computation), the
        action's context carries both, with the time of computation, and the
        list shows them above the records with a button to recompute the
        period."""
        self.ensure_one()
        snapshot = self.snapshot_id
        target = snapshot._kpi_drill_target(self.kpi_code, part)
        part_label = self._part_label(part)
        if not target:
            raise UserError(
                self.env._(
                    "%(kpi)s has no list of records behind its %(part)s.",
                    kpi=self.kpi_id.name,
                    part=part_label,
                )
            )
        family, model, domain = target
        context = {"active_test": False, "create": False}
        stored = self.numerator if part == "numerator" else self.denominator
        recounted = family._kpi_recount(self.kpi_code, part, model, domain)
        if recounted is not None and float_compare(
            stored or 0.0, recounted, precision_digits=2
        ):
            context["crm_kpi_drill"] = {
                "value_id": self.id,
                "stored": stored or 0.0,
                "now": recounted,
                "computed_at": fields.Datetime.to_string(self.computed_at),
                "part": part_label,
            }
        if not holds_sql(domain):
            domain = list(domain) if isinstance(domain, Domain) else domain
        elif DRILL_FIELD in self.env[model]._fields:
            # a set that a query tells: its reference, which each page of
            # the list turns back into the query (crm.kpi.drillable)
            domain = drill_reference(self, part)
        else:
            # a model of another module that does not take the reference
            records = self.env[model].with_context(active_test=False)
            domain = [("id", "in", records.search(domain).ids)]
        # the records are then read with the user's own rights
        return {
            "type": "ir.actions.act_window",
            "name": f"{self.kpi_id.name} · {snapshot.period_label} · {part_label}",
            "res_model": model,
            "views": [(False, "list"), (False, "form")],
            "domain": domain,
            "context": context,
            "target": "current",
        }

    def _part_label(self, part):
        if part == "numerator":
            return self.env._("numerator")
        return self.env._("denominator")

    def action_recompute_period(self):
        """Compute again the period of this value (from the drill-down list
        whose records changed since), then show the value again."""
        self.ensure_one()
        snapshot = self.snapshot_id
        snapshot.compute_period(
            snapshot.granularity, snapshot.date_start, companies=snapshot.company_id
        )
        value = self.search(
            [
                ("snapshot_id", "=", snapshot.id),
                ("kpi_id", "=", self.kpi_id.id),
            ],
            limit=1,
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": value.id,
            "views": [(False, "form")],
            "target": "current",
        }

    def action_open_numerator(self):
        return self._drill("numerator")

    @api.model
    def _empty_state(self):
        """``(title, text)`` for a user who reads no value of the company
        yet, saying what he can do about it with his rights."""
        user = self.env.user
        if user.has_group("crm_success_kpi.group_crm_kpi_manager"):
            return self.env._("No KPI computed yet"), self.env._(
                "KPIs are computed every night. Run a backfill from "
                "Configuration to fill the history now."
            )
        if user.has_group("sales_team.group_sale_salesman_all_leads"):
            return self.env._("No KPI computed yet"), self.env._(
                "KPIs are computed every night; a KPI manager can run a "
                "backfill to fill the history now."
            )
        return self.env._("Nothing in your scope yet"), self.env._(
            "Your own KPIs (your sales, leads or tickets) appear here once "
            "the nightly computation has covered a period in which you "
            "have some."
        )

    @api.model
    def action_overview(self):
        """The Overview, opened on a scope the user may read: the company for
        those who read company figures, else his own salesperson scope (or
        the first scope he may read), with an empty-state message that fits
        his rights."""
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_success_kpi.crm_kpi_value_action_overview"
        )
        user = self.env.user
        context = {"search_default_month": 1, "search_default_kpi_revenue": 1}
        company = [("company_id", "=", self.env.company.id)]
        may_read_company = user.has_group(
            "crm_success_kpi.group_crm_kpi_manager"
        ) or user.has_group("sales_team.group_sale_salesman_all_leads")
        readable = self.search(company, limit=1)
        if may_read_company:
            context["search_default_scope_company"] = 1
        elif self.search_count(
            company + [("scope", "=", "user"), ("user_id", "=", user.id)], limit=1
        ):
            context["search_default_my_scope"] = 1
        elif readable:
            context[f"search_default_scope_{readable.scope}"] = 1
            if readable.scope in ("agent", "helpdesk_team"):
                del context["search_default_kpi_revenue"]
                context["search_default_kpi_tickets_closed"] = 1
        if readable:
            title = self.env._("No KPI value matches these filters")
            text = self.env._("Remove a filter or pick another period or scope.")
        else:
            title, text = self._empty_state()
        action["context"] = context
        action["help"] = Markup(
            '<p class="o_view_nocontent_smiling_face">%s</p><p>%s</p>'
        ) % (escape(title), escape(text))
        return action

    def action_open_denominator(self):
        return self._drill("denominator")
