from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..kpi import period as P


class CrmKpiBackfill(models.Model):
    """A recomputation of KPI history over a date range.

    The form records the request; the scheduled action "run backfills"
    computes it in the background, oldest period first.  It remembers how
    far it got: the position advances with every period and is committed
    with it, so a backfill interrupted by the cron's time limit, a killed
    worker or a lost database connection resumes where it stopped, with no
    period computed twice and none skipped.  Recomputing a period replaces
    its snapshots, so even a period computed twice is never duplicated."""

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
            ("cancelled", "Cancelled"),
        ],
        default="draft",
        required=True,
        readonly=True,
    )
    position = fields.Integer(readonly=True, help="Periods processed so far.")
    total = fields.Integer(compute="_compute_total")
    failed_count = fields.Integer(readonly=True)
    error_log = fields.Text(
        "Errors", readonly=True, help="The periods that failed, and why."
    )
    last_period = fields.Char(readonly=True, string="Current Period")
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
        """Compute the periods not done yet.  With ``commit`` (the scheduled
        action), commit after each period and stop when the cron's time is
        up or the backfill was cancelled meanwhile; returns whether every
        backfill of ``self`` is finished."""
        snapshot = self.env["crm.kpi.snapshot"]
        for rec in self:
            if rec.state == "cancelled":
                continue
            tasks = rec._tasks()
            rec.state = "running"
            if commit:
                # the first period too in a transaction that has written
                # nothing: its families read on several connections
                self.env["ir.cron"]._commit_progress(0)

            def progress(
                done, company, granularity, start, error, rec=rec, base=rec.position
            ):
                label = " ".join(
                    (
                        company.name,
                        granularity,
                        P.period_label(granularity, start, company.kpi_period_calendar),
                    )
                )
                values = {"position": base + done, "last_period": label}
                if error:
                    values["failed_count"] = rec.failed_count + 1
                    values["error_log"] = "\n".join(
                        filter(None, (rec.error_log, f"{label}: {error}"))
                    )
                rec.write(values)

            def keep_going(rec=rec):
                # a manager may have cancelled it since the last commit
                rec.invalidate_recordset(["state"])
                return rec.state == "running"

            run = snapshot._run_tasks(
                tasks[rec.position :],
                progress=progress,
                commit=commit,
                keep_going=keep_going,
            )
            if run.stopped:
                return False
            rec.state = "failed" if rec.failed_count else "done"
            if commit:
                self.env["ir.cron"]._commit_progress(0)
        return True

    def action_run(self):
        """Run now, in this request (scripts and tests; the form starts the
        background run)."""
        self._process(commit=False)
        return True

    def action_run_background(self):
        """Record the request and return at once: the scheduled action
        computes it, in batches that fit its time limit."""
        self.filtered(lambda b: b.state in ("draft", "cancelled")).write(
            {"state": "running"}
        )
        self.env.ref("crm_success_kpi.ir_cron_crm_kpi_backfill")._trigger()
        return True

    def action_cancel(self):
        """Stop a backfill: the run stops after the period it is computing;
        what it computed stays.  Starting it again resumes from there."""
        self.filtered(lambda b: b.state == "running").write({"state": "cancelled"})
        return True

    def action_reset(self):
        self.write(
            {
                "state": "draft",
                "position": 0,
                "failed_count": 0,
                "error_log": False,
                "last_period": False,
            }
        )
        return True

    @api.model
    def _cron_process(self):
        """The running backfills, oldest first, until the cron's time is up;
        Odoo runs the action again at once while periods remain."""
        for backfill in self.search([("state", "=", "running")], order="id"):
            if not backfill._process(commit=True):
                return False
        return True
