from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..kpi import period as P


class CrmKpiBackfill(models.Model):
    """A recomputation of KPI history over a date range.

    It remembers how far it got: the position advances after every period and
    is committed in the background run, so an interrupted backfill resumes
    where it stopped.  Recomputing a period replaces its snapshots, so a
    period computed twice is never duplicated."""

    _name = "crm.kpi.backfill"
    _description = "CRM KPI Backfill"
    _order = "id desc"

    name = fields.Char(compute="_compute_name")
    date_from = fields.Date(
        required=True, default=lambda self: self._default_date_from()
    )
    date_to = fields.Date(required=True, default=fields.Date.context_today)
    granularities = fields.Char(
        default="week,month,quarter,year",
        required=True,
        help="Comma-separated list among week, month, quarter, year.",
    )
    company_ids = fields.Many2many(
        "res.company",
        string="Companies",
        required=True,
        default=lambda self: self.env.companies,
    )
    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("running", "Running"),
            ("done", "Done"),
            ("failed", "Done with errors"),
        ],
        default="draft",
        required=True,
        readonly=True,
    )
    position = fields.Integer(readonly=True, help="Periods processed so far.")
    total = fields.Integer(compute="_compute_total")
    failed_count = fields.Integer(readonly=True)
    last_period = fields.Char(readonly=True)
    progress = fields.Float(compute="_compute_total")

    @api.model
    def _default_date_from(self):
        return fields.Date.context_today(self) - relativedelta(months=24)

    @api.depends("date_from", "date_to")
    def _compute_name(self):
        for rec in self:
            rec.name = self.env._(
                "Backfill %(start)s → %(end)s", start=rec.date_from, end=rec.date_to
            )

    @api.constrains("date_from", "date_to", "granularities")
    def _check_range(self):
        for rec in self:
            if rec.date_from and rec.date_to and rec.date_to < rec.date_from:
                raise ValidationError(
                    self.env._("The end of the backfill is before its start.")
                )
            wrong = set(rec._granularity_list(strict=False)) - set(P.GRANULARITIES)
            if wrong or not rec._granularity_list(strict=False):
                raise ValidationError(
                    self.env._(
                        "Unknown granularity %(values)s: use week, month, quarter "
                        "or year, separated by commas.",
                        values=", ".join(sorted(wrong)) or "''",
                    )
                )

    def _granularity_list(self, strict=True):
        items = [g.strip() for g in (self.granularities or "").split(",") if g.strip()]
        return [g for g in items if g in P.GRANULARITIES] if strict else items

    def _tasks(self):
        self.ensure_one()
        tasks = []
        for company in self.company_ids.sorted("id"):
            calendar = company.kpi_period_calendar or "gregorian"
            for granularity in self._granularity_list():
                for start in P.periods_between(
                    granularity, self.date_from, self.date_to, calendar
                ):
                    tasks.append((company, granularity, start))
        # oldest first, so history fills in order
        return sorted(tasks, key=lambda t: (t[2], t[1], t[0].id))

    @api.depends("position", "date_from", "date_to", "granularities", "company_ids")
    def _compute_total(self):
        for rec in self:
            rec.total = len(rec._tasks()) if rec.date_from and rec.date_to else 0
            rec.progress = 100.0 * rec.position / rec.total if rec.total else 0.0

    def _process(self, commit=False):
        snapshot = self.env["crm.kpi.snapshot"]
        for rec in self:
            tasks = rec._tasks()
            rec.state = "running"

            def progress(done, company, granularity, start, rec=rec, base=rec.position):
                rec.write(
                    {
                        "position": base + done,
                        "last_period": " ".join(
                            (
                                company.name,
                                granularity,
                                P.period_label(
                                    granularity, start, company.kpi_period_calendar
                                ),
                            )
                        ),
                    }
                )

            _done, failed = snapshot._run_tasks(
                tasks[rec.position :], progress=progress, commit=commit
            )
            rec.failed_count += failed
            rec.state = "failed" if rec.failed_count else "done"
            if commit:
                self.env["ir.cron"]._commit_progress(0)
        return True

    def action_run(self):
        """Run now, in this request."""
        self._process(commit=False)
        return True

    def action_run_background(self):
        self.write({"state": "running"})
        self.env.ref("crm_success_kpi.ir_cron_crm_kpi_backfill")._trigger()
        return True

    def action_reset(self):
        self.write(
            {"state": "draft", "position": 0, "failed_count": 0, "last_period": False}
        )
        return True

    @api.model
    def _cron_process(self):
        self.search([("state", "=", "running")], order="id")._process(commit=True)
