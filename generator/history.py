# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Deterministic, fast generator of customer-management history.

Usage (odoo shell, a script or a test)::

    from odoo.addons.crm_success_kpi.generator.history import generate
    counts = generate(env, customers=3000, months=24, seed=42)
    env.cr.commit()  # the caller commits

    # benchmark volumes
    generate(env, seed=1, scale={"customers": 200000, "leads": 1000000,
                                 "orders": 1000000, "tickets": 300000,
                                 "surveys": 100000, "months": 36})

What it writes (for each company given, default ``base.main_company``):

* commercial partners (companies, individuals, child contacts), shared
  between companies, with ``customer_rank`` > 0 and varied countries;
* a few salespeople (``kpi.sales.N@example.com``) and support agents
  (``kpi.support.N@example.com``) in sales / helpdesk teams;
* ``crm.lead`` leads and opportunities (won, lost, open) with UTM data;
* confirmed ``sale.order`` with lines, margins, a second currency (with
  monthly ``res.currency.rate``) and links to won opportunities;
* ``helpdesk.ticket`` with customer messages, agent replies, notes;
* done activities (``mail.message`` with ``mail_activity_type_id``) on
  leads and tickets, and a few open ``mail.activity`` in the future;
* completed ``survey.user_input`` for the NPS / CES / CSAT surveys if the
  ``survey.survey`` model has ``kpi_survey_type`` and ``kpi_question_id``;
* monthly sales / marketing costs if the model ``crm.kpi.cost`` exists.

Small configuration records go through the ORM, the bulk rows through
``COPY`` into the real tables; the stored columns Odoo would compute are
computed here the same way (amounts, margins, ``currency_rate``,
``won_status``...), discounted unit prices are kept on 20-cent steps so the
line subtotals add up to ``amount_untaxed`` under either tax rounding method.
When the role is a PostgreSQL superuser, foreign-key triggers are skipped
during the load (``session_replication_role = replica``, reset afterwards);
trigram indexes of ``crm_lead`` / ``sale_order`` are rebuilt once instead of
being updated row by row for big loads (DDL is transactional).  When the
crm_success_kpi models are loaded, their stored figures on the written rows
are filled afterwards (``helpdesk.ticket._kpi_backfill``, then an ORM
recompute of any other stored computed field the addon adds to a written
model).  Nothing is committed.

Determinism: every random draw comes from ``random.Random`` instances
seeded from ``seed`` (one per section), nothing depends on the current time
except the default ``end_date`` (today) and, when the history ends today,
the moment of generation (``now``).  The same seed, ``end_date`` and ``now``
on the same kind of database give the same data (database ids aside).

The present: nothing is dated after the moment of generation.  The last
month holds the share of a month's volume already elapsed, at the same
daily pace as the months before; what would happen later (a lead won, a
ticket closed, an agent's reply, a survey answer) has not happened yet, so
the lead is still open, the ticket waits, the answer is not written.

Idempotence: a run stores an ``ir.config_parameter``
``crm_success_kpi.generator.seed_<seed>``; running again with the same seed
skips (returns the stored counts with ``skipped=True``).  Another seed adds
a second batch, whose document names carry the batch number
(``SO-G2-000001``).
"""

import json
import random
import time

from odoo import fields
from odoo.tools import SQL

from .activities import _ActivitiesMixin
from .common import PARAM_PREFIX, RATIOS, _Clock, _logger
from .costs import _CostsMixin
from .customers import _CustomersMixin
from .leads import _LeadsMixin
from .orders import _OrdersMixin
from .setup import _SetupMixin
from .surveys import _SurveysMixin
from .targets import demo_targets
from .tickets import _TicketsMixin

__all__ = ["GROWTHS", "PARAM_PREFIX", "demo_targets", "generate"]

# the volume of new business over the months (see ``generate``)
GROWTHS = ("curve", "flat")


# ---------------------------------------------------------------- entry point
def generate(
    env,
    customers=3000,
    months=24,
    seed=42,
    companies=None,
    end_date=None,
    scale=None,
    now=None,
    growth="curve",
):
    """Fill the database with ``months`` of history ending at ``end_date``.

    :param customers: number of commercial customers
    :param months: number of months of history (the last one ends at end_date)
    :param seed: random seed; same seed + end_date => same data
    :param companies: res.company recordset / ids (default base.main_company)
    :param end_date: date (or 'YYYY-MM-DD'), default today
    :param scale: a number multiplying every volume, or a dict of explicit
        volumes: ``customers``, ``leads``, ``orders``, ``tickets``,
        ``surveys``, ``months`` (defaults per customer: leads 3, orders 4,
        tickets 1.5, surveys 0.5)
    :param now: the moment of generation (naive UTC datetime), default the
        current time: nothing is dated after it, and when the history ends
        today its last month holds only the part of a month elapsed so far
    :param growth: ``"curve"`` (default): new business grows 2.5 % a month,
        with a seasonal dip in January, July, August and December, so later
        months are bigger; ``"flat"``: the same volume every month (new
        customers, leads, orders, tickets), as in a business that stopped
        growing, to compare histories of different lengths month for month
    :return: dict of counts created (``skipped`` True if already generated)
    """
    return _Generator(
        env, customers, months, seed, companies, end_date, scale, now, growth
    ).run()


class _Generator(
    _SetupMixin,
    _CustomersMixin,
    _OrdersMixin,
    _LeadsMixin,
    _TicketsMixin,
    _ActivitiesMixin,
    _SurveysMixin,
    _CostsMixin,
):
    """The generator: its volumes and the order of its sections (each
    section is a mixin of its own module)."""

    def __init__(
        self,
        env,
        customers,
        months,
        seed,
        companies,
        end_date,
        scale,
        now=None,
        growth="curve",
    ):
        if growth not in GROWTHS:
            raise ValueError(f"growth must be one of {GROWTHS}, not {growth!r}")
        self.growth_mode = growth
        self.env = env
        self.cr = env.cr
        self.seed = seed
        volumes = {"customers": customers, "months": months}
        factor = 1.0
        if isinstance(scale, (int, float)) and not isinstance(scale, bool):
            factor = float(scale)
            volumes["customers"] = int(round(customers * factor))
        elif isinstance(scale, dict):
            volumes.update({k: v for k, v in scale.items() if v is not None})
        n_cust = int(volumes["customers"])
        for key, ratio in RATIOS.items():
            volumes.setdefault(key, int(round(n_cust * ratio)))
        self.n_customers = max(1, n_cust)
        self.n_leads = int(volumes["leads"])
        self.n_orders = max(self.n_customers, int(volumes["orders"]))
        self.n_tickets = int(volumes["tickets"])
        self.n_surveys = int(volumes["surveys"])
        self.months = max(1, int(volumes["months"]))
        if end_date is None:
            end_date = fields.Date.context_today(env.user)
        self.end_date = fields.Date.to_date(end_date)
        self.now = fields.Datetime.to_datetime(now) or fields.Datetime.now()
        if companies is None:
            companies = env.ref("base.main_company")
        elif not hasattr(companies, "_name"):
            companies = env["res.company"].browse(
                [c.id if hasattr(c, "id") else int(c) for c in companies]
            )
        self.companies = companies.sorted("id")
        self.counts = {}
        self.written = {}  # model -> (first id, last id) written through SQL
        self.sql_written_fields = {}  # model -> columns written by the COPY

    # ------------------------------------------------------------ utilities
    def rng(self, name):
        return random.Random(f"{self.seed}-{name}")

    def _params_signature(self):
        return {
            "seed": self.seed,
            "customers": self.n_customers,
            "leads": self.n_leads,
            "orders": self.n_orders,
            "tickets": self.n_tickets,
            "surveys": self.n_surveys,
            "months": self.months,
            "growth": self.growth_mode,
            "end_date": str(self.end_date),
            "now": str(self.end_dt),
            "companies": self.companies.ids,
        }

    def run(self):
        env = self.env
        icp = env["ir.config_parameter"].sudo()
        key = PARAM_PREFIX + str(self.seed)
        stored = icp.get_param(key)
        if stored:
            _logger.info("generator: seed %s already generated, skipping", self.seed)
            result = dict(json.loads(stored).get("counts", {}))
            result["skipped"] = True
            return result
        existing = icp.search_count([("key", "=like", PARAM_PREFIX + "%")])
        self.batch = existing + 1
        self.tag = "G" if self.batch == 1 else f"G{self.batch}-"
        clock = _Clock()
        cpu = time.process_time()
        env.flush_all()
        self._setup_calendar()
        self._setup_master_data()
        env.flush_all()
        clock.lap("setup")
        fast = self._fast_mode(True)
        try:
            self._gen_customers()
            clock.lap("customers")
            self._gen_orders()
            clock.lap("orders")
            self._gen_leads()
            clock.lap("leads")
            self._gen_tickets()
            clock.lap("tickets")
            self._gen_activities()
            clock.lap("activities")
            self._gen_surveys()
            clock.lap("surveys")
        finally:
            if fast:
                self._fast_mode(False)
        self.counts["fast_mode"] = fast
        self._gen_costs()
        clock.lap("costs")
        self._finalize()
        clock.lap("finalize")
        self.counts["seconds"] = round(time.monotonic() - clock.t0, 1)
        self.counts["python_cpu_seconds"] = round(time.process_time() - cpu, 1)
        self.counts["timings"] = clock.timings
        icp.set_param(
            key, json.dumps({"params": self._params_signature(), "counts": self.counts})
        )
        env.flush_all()
        return dict(self.counts)

    # ------------------------------------------------------------ finalize
    def _finalize(self):
        cr = self.cr
        first, last = self.partner_id_range
        cr.execute(
            """
            UPDATE res_partner p SET customer_rank = GREATEST(1, c.n)
              FROM (SELECT COALESCE(pp.commercial_partner_id, pp.id) AS cid,
                           count(*) AS n
                      FROM sale_order so JOIN res_partner pp ON pp.id = so.partner_id
                     WHERE so.id BETWEEN %s AND %s
                     GROUP BY 1) c
             WHERE p.id = c.cid AND p.id BETWEEN %s AND %s
        """,
            [self.order_range[0], self.order_range[1], first, last],
        )
        self.env.invalidate_all()
        started = time.monotonic()
        self._recompute_addon_fields()
        self.counts["addon_fields_seconds"] = round(time.monotonic() - started, 1)
        for table in (
            "res_partner",
            "sale_order",
            "sale_order_line",
            "crm_lead",
            "helpdesk_ticket",
            "mail_message",
            "mail_activity",
            "survey_user_input",
            "survey_user_input_line",
        ):
            cr.execute(SQL("ANALYZE %s", SQL.identifier(table)))
        self.env.invalidate_all()

    def _recompute_addon_fields(self, module="crm_success_kpi", chunk=5000):
        """Fill what the KPI addon stores on the rows written through SQL.

        The helpdesk figures kept up to date by its hooks (first reply,
        replies, closes) come from its own ``_kpi_backfill``; every other
        stored computed field the addon adds to a written model is computed
        here by the ORM, in chunks.  Nothing happens without the addon.
        """
        env = self.env
        Ticket = env["helpdesk.ticket"]
        done = 0
        if "helpdesk.ticket" in self.written and hasattr(Ticket, "_kpi_backfill"):
            first, last = self.written["helpdesk.ticket"]
            if last >= first:
                Ticket._kpi_backfill(list(range(first, last + 1)))
                done += 1
        for model_name, (first, last) in sorted(self.written.items()):
            if last < first:
                continue
            Model = env[model_name].with_context(active_test=False)
            names = [
                name
                for name, field in Model._fields.items()
                if field.store
                and field.compute
                and field._module == module
                and not (model_name == "helpdesk.ticket" and done)
                and name not in self.sql_written_fields.get(model_name, ())
            ]
            if not names:
                continue
            _logger.info(
                "generator: computing %s on %s", ", ".join(sorted(names)), model_name
            )
            all_ids = list(range(first, last + 1))
            for start in range(0, len(all_ids), chunk):
                records = Model.browse(all_ids[start : start + chunk]).exists()
                for name in names:
                    env.add_to_compute(Model._fields[name], records)
                records.flush_recordset()
                env.invalidate_all()
        # the customers' revenue figures, kept by the documents' hooks, which
        # the orders written through SQL did not run: one grouped statement
        if "crm.kpi.customer.stat" in env and "sale.order" in self.written:
            env["crm.kpi.customer.stat"].sudo()._kpi_refresh(
                company_ids=self.companies.ids
            )
