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
except the default ``end_date`` (today).  The same seed and ``end_date`` on
the same kind of database give the same data (database ids aside).

Idempotence: a run stores an ``ir.config_parameter``
``crm_success_kpi.generator.seed_<seed>``; running again with the same seed
skips (returns the stored counts with ``skipped=True``).  Another seed adds
a second batch, whose document names carry the batch number
(``SO-G2-000001``).
"""

import bisect
import calendar
import io
import json
import logging
import math
import random
import time
from datetime import date, datetime, timedelta

from odoo import fields
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

PARAM_PREFIX = "crm_success_kpi.generator.seed_"
NULL = "\\N"

# Default volumes per customer (benchmark may override with ``scale``).
RATIOS = {"leads": 3.0, "orders": 4.0, "tickets": 1.5, "surveys": 0.5}

# ---------------------------------------------------------------- word lists
NAME_A = [
    "Blue",
    "Bright",
    "Silver",
    "Green",
    "Golden",
    "Swift",
    "North",
    "Prime",
    "Urban",
    "Alpine",
    "Coastal",
    "Summit",
    "Royal",
    "Red",
    "Clear",
    "Iron",
    "Nova",
    "Pacific",
    "Atlas",
    "Cedar",
    "Delta",
    "Eagle",
    "Falcon",
    "Harbor",
    "Lunar",
    "Maple",
    "Oak",
    "Pioneer",
    "Quantum",
    "River",
    "Solar",
    "Stone",
]
NAME_B = [
    "Logistics",
    "Foods",
    "Dynamics",
    "Systems",
    "Works",
    "Labs",
    "Retail",
    "Consulting",
    "Energy",
    "Textiles",
    "Health",
    "Media",
    "Robotics",
    "Furniture",
    "Motors",
    "Pharma",
    "Analytics",
    "Builders",
    "Farms",
    "Software",
    "Travel",
    "Finance",
    "Studios",
    "Electric",
    "Outfitters",
]
NAME_C = [
    "Inc.",
    "LLC",
    "Ltd",
    "Group",
    "Corp.",
    "GmbH",
    "SA",
    "BV",
    "& Co",
    "Partners",
]
FIRST = [
    "Anna",
    "Ben",
    "Carla",
    "David",
    "Elena",
    "Farid",
    "Grace",
    "Hugo",
    "Ines",
    "Jonas",
    "Kira",
    "Liam",
    "Maya",
    "Noah",
    "Olga",
    "Paul",
    "Rita",
    "Sam",
    "Tara",
    "Umar",
    "Vera",
    "Will",
    "Xenia",
    "Yann",
    "Zoe",
    "Marc",
    "Lucia",
    "Omar",
    "Sofia",
    "Theo",
]
LAST = [
    "Smith",
    "Garcia",
    "Muller",
    "Rossi",
    "Dubois",
    "Jansen",
    "Kowalski",
    "Silva",
    "Novak",
    "Berg",
    "Khan",
    "Tanaka",
    "Lopez",
    "Martin",
    "Schmidt",
    "Peeters",
    "Costa",
    "Meyer",
    "Moreau",
    "Olsen",
    "Brown",
    "Wilson",
    "Nguyen",
    "Patel",
    "Fischer",
]
CITIES = [
    "Springfield",
    "Riverside",
    "Fairview",
    "Franklin",
    "Greenville",
    "Bristol",
    "Clinton",
    "Salem",
    "Madison",
    "Georgetown",
]
# (country code, weight, pays in second currency probability)
COUNTRIES = [
    ("US", 34, 0.02),
    ("CA", 7, 0.02),
    ("MX", 4, 0.02),
    ("BR", 4, 0.02),
    ("GB", 8, 0.05),
    ("DE", 7, 0.65),
    ("FR", 6, 0.65),
    ("BE", 4, 0.65),
    ("NL", 3, 0.65),
    ("ES", 3, 0.65),
    ("IT", 3, 0.65),
    ("IN", 5, 0.02),
    ("AU", 4, 0.02),
    ("JP", 3, 0.02),
    ("ZA", 2, 0.02),
    ("SG", 3, 0.02),
]
PRODUCTS = [
    # default_code, name, list price, cost
    ("KPIGEN-01", "Subscription Basic (month)", 49.0, 12.0),
    ("KPIGEN-02", "Subscription Pro (month)", 129.0, 31.0),
    ("KPIGEN-03", "Subscription Enterprise (month)", 490.0, 110.0),
    ("KPIGEN-04", "Onboarding Package", 900.0, 520.0),
    ("KPIGEN-05", "Consulting Day", 750.0, 430.0),
    ("KPIGEN-06", "Training Session", 320.0, 150.0),
    ("KPIGEN-07", "Hardware Kit", 1250.0, 890.0),
    ("KPIGEN-08", "Premium Support (year)", 1800.0, 640.0),
]
CAMPAIGNS = [
    "KPI Spring Webinar Series",
    "KPI Partner Referral Program",
    "KPI Product Launch",
    "KPI Customer Reactivation",
]
TICKET_SUBJECTS = [
    "Cannot log in",
    "Invoice question",
    "Error when exporting data",
    "Request for a new feature",
    "Slow performance",
    "Password reset",
    "Wrong amount on invoice",
    "Integration not syncing",
    "Delivery delay",
    "How to configure user rights",
    "Data import failed",
    "Report is empty",
]
LEAD_TOPICS = [
    "Subscription upgrade",
    "New project",
    "Pricing request",
    "Demo request",
    "Consulting need",
    "Hardware quote",
    "Training request",
    "Support contract",
]
# lead channel: (weight, medium xmlid, source xmlid, medium name, source name)
CHANNELS = [
    (
        25,
        "utm.utm_medium_website",
        "utm.utm_source_search_engine",
        "Website",
        "Search engine",
    ),
    (20, "utm.utm_medium_email", "utm.utm_source_newsletter", "Email", "Newsletter"),
    (15, "utm.utm_medium_direct", "utm.utm_source_referral", "Direct", "Referral"),
    (6, "utm.utm_medium_linkedin", "utm.utm_source_linkedin", "LinkedIn", "LinkedIn"),
    (4, "utm.utm_medium_facebook", "utm.utm_source_facebook", "Facebook", "Facebook"),
    (10, "utm.utm_medium_phone", None, "Phone", None),
    (20, None, None, None, None),
]
SEGMENTS = [
    # name, weight, order frequency factor, churn hazard a month, quantity range,
    # discounts, product indexes
    ("smb", 60, 0.8, 0.045, (1, 4), (0, 0, 0, 5), (0, 1, 5, 3, 0, 1)),
    ("mid", 30, 1.1, 0.025, (2, 10), (0, 5, 5, 10), (1, 2, 3, 4, 5, 7)),
    ("ent", 10, 1.4, 0.012, (5, 30), (5, 10, 15, 20), (2, 3, 4, 6, 7, 7)),
]


# ---------------------------------------------------------------- helpers
def _money(cents):
    return "%.2f" % (cents / 100.0)


def _txt(value):
    if value is None or value is False:
        return NULL
    return (
        str(value)
        .replace("\\", "\\\\")
        .replace("\t", " ")
        .replace("\n", " ")
        .replace("\r", " ")
    )


def _b(value):
    return "t" if value else "f"


def _opt(value):
    return NULL if value is None or value is False else str(value)


def _add_months(d, n):
    y, m = divmod(d.month - 1 + n, 12)
    return date(d.year + y, m + 1, 1)


class _Ids:
    """Allocate ids from a table's sequence without one query per id."""

    def __init__(self, cr, table):
        self.cr = cr
        cr.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        self.seq = cr.fetchone()[0]
        cr.execute("SELECT nextval(%s)", [self.seq])
        self.first = self.next = cr.fetchone()[0]

    def take(self):
        value = self.next
        self.next += 1
        return value

    def close(self):
        self.cr.execute(
            "SELECT setval(%s, %s)", [self.seq, max(self.next - 1, self.first)]
        )


class _Copy:
    """Buffered ``COPY table (columns) FROM STDIN`` of tab-joined lines."""

    def __init__(self, cr, table, columns, chunk=50000):
        self.cr = cr
        self.table = table
        self.columns = columns
        self.sql = "COPY {} ({}) FROM STDIN".format(table, ", ".join(columns))
        self.chunk = chunk
        self.lines = []
        self.count = 0

    def add(self, line):
        self.lines.append(line)
        if len(self.lines) >= self.chunk:
            self.flush()

    def flush(self):
        if not self.lines:
            return
        t0 = time.monotonic()
        buf = io.StringIO("\n".join(self.lines) + "\n")
        self.cr._obj.copy_expert(self.sql, buf)
        self.count += len(self.lines)
        _logger.debug(
            "generator: COPY %s rows into %s in %.2fs",
            len(self.lines),
            self.table,
            time.monotonic() - t0,
        )
        self.lines = []


class _Clock:
    def __init__(self):
        self.t0 = self.t = time.monotonic()
        self.timings = {}

    def lap(self, name):
        now = time.monotonic()
        self.timings[name] = round(now - self.t, 2)
        self.t = now
        _logger.info("generator: %s done in %.1fs", name, self.timings[name])


# ---------------------------------------------------------------- entry point
def generate(
    env, customers=3000, months=24, seed=42, companies=None, end_date=None, scale=None
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
    :return: dict of counts created (``skipped`` True if already generated)
    """
    return _Generator(env, customers, months, seed, companies, end_date, scale).run()


class _Generator:
    def __init__(self, env, customers, months, seed, companies, end_date, scale):
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
            "end_date": str(self.end_date),
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

    def _fast_mode(self, enable):
        """Skip foreign-key triggers during the bulk COPY when allowed.

        Foreign-key checks are most of the cost of a bulk load (one lookup
        per reference and row).  The rows written here reference only
        existing or just-written records, so when the database role is a
        superuser the checks are switched off (``session_replication_role``
        = replica) for the bulk part only; otherwise the load just runs
        slower with the checks on.
        """
        cr = self.cr
        if enable:
            cr.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            row = cr.fetchone()
            if not (row and row[0]):
                _logger.info(
                    "generator: not a superuser, foreign keys checked row by row"
                )
                return False
            cr.execute("SET LOCAL session_replication_role = replica")
            return True
        cr.execute("SET LOCAL session_replication_role = origin")
        return False

    def _drop_gin(self, table, rows):
        """Drop the GIN (trigram) indexes of ``table`` before a big load.

        Inserting row by row into trigram indexes is far slower than
        building them once; DDL is transactional, so a failure rolls the
        drop back.  Returns the definitions to give to ``_restore_indexes``.
        """
        if rows < 50000:
            return []
        cr = self.cr
        cr.execute(
            """
            SELECT indexname, indexdef FROM pg_indexes
             WHERE schemaname = current_schema() AND tablename = %s
               AND indexdef LIKE '%%USING gin%%' ORDER BY indexname""",
            [table],
        )
        defs = cr.fetchall()
        for name, _def in defs:
            cr.execute(SQL("DROP INDEX %s", SQL.identifier(name)))
        return defs

    def _restore_indexes(self, defs):
        for _name, definition in defs:
            self.cr.execute(definition)

    # ------------------------------------------------------------ calendar
    def _setup_calendar(self):
        end = self.end_date
        first = _add_months(date(end.year, end.month, 1), -(self.months - 1))
        self.month_starts = [_add_months(first, i) for i in range(self.months)]
        self.month_days = []
        for i, ms in enumerate(self.month_starts):
            ndays = calendar.monthrange(ms.year, ms.month)[1]
            if i == self.months - 1:
                ndays = end.day
            self.month_days.append(ndays)
        self.start_dt = datetime(first.year, first.month, first.day)
        self.end_dt = datetime(end.year, end.month, end.day, 23, 59, 59)
        self.month_dt = [datetime(d.year, d.month, 1) for d in self.month_starts]
        # growth + seasonality of new business per month
        weights = []
        for i, ms in enumerate(self.month_starts):
            season = {1: 0.9, 7: 0.85, 8: 0.75, 12: 0.8}.get(ms.month, 1.0)
            weights.append((1.025**i) * season)
        self.growth = weights
        self.growth_cum = list(_cumulate(weights))

    def rand_dt(self, rng, month):
        """Random business-hour datetime in month index ``month``."""
        return self.month_dt[month] + timedelta(
            days=rng.randrange(self.month_days[month]),
            seconds=rng.randrange(8 * 3600, 19 * 3600),
        )

    def month_of(self, dt):
        return (dt.year - self.start_dt.year) * 12 + dt.month - self.start_dt.month

    # ------------------------------------------------------------ master data
    def _setup_master_data(self):  # noqa: C901
        env = self.env
        ref = lambda x: env.ref(x, raise_if_not_found=False)  # noqa: E731
        # currencies and monthly rates
        usd, eur = ref("base.USD"), ref("base.EUR")
        self.second_currency = {}
        self.pricelists = {}
        self.conv_cache = {}
        rng = self.rng("rates")
        rate_vals = []
        for company in self.companies:
            second = eur if company.currency_id == usd else usd
            if not second.active:
                second.active = True
            self.second_currency[company.id] = second
            base = 0.92 if second == eur else 1.08
            root = company.root_id
            existing = set(
                env["res.currency.rate"]
                .search(
                    [
                        ("currency_id", "=", second.id),
                        ("company_id", "=", root.id),
                        ("name", ">=", self.month_starts[0]),
                        ("name", "<=", self.end_date),
                    ]
                )
                .mapped("name")
            )
            value = base
            for ms in self.month_starts:
                value = max(
                    base * 0.85, min(base * 1.15, value * (1 + rng.gauss(0, 0.012)))
                )
                if ms not in existing:
                    rate_vals.append(
                        {
                            "name": ms,
                            "currency_id": second.id,
                            "company_id": root.id,
                            "rate": round(value, 6),
                        }
                    )
            pricelist = env["product.pricelist"].search(
                [
                    ("name", "=", f"KPI Generator {second.name}"),
                    ("company_id", "=", company.id),
                ],
                limit=1,
            )
            if not pricelist:
                pricelist = env["product.pricelist"].create(
                    {
                        "name": f"KPI Generator {second.name}",
                        "currency_id": second.id,
                        "company_id": company.id,
                    }
                )
            self.pricelists[company.id] = pricelist.id
        if rate_vals:
            env["res.currency.rate"].create(rate_vals)
        self.counts["currency_rates"] = len(rate_vals)
        env.flush_all()

        # countries
        codes = [c[0] for c in COUNTRIES]
        countries = {
            c.code: c.id for c in env["res.country"].search([("code", "in", codes)])
        }
        self.countries = [
            (countries[c], w, p) for c, w, p in COUNTRIES if c in countries
        ]
        self.country_cum = list(_cumulate([w for _c, w, _p in self.countries]))

        # products
        uom_unit = ref("uom.product_uom_unit")
        self.products = []
        Product = env["product.product"].with_context(active_test=False)
        for code, name, price, cost in PRODUCTS:
            product = Product.search([("default_code", "=", code)], limit=1)
            if not product:
                vals = {
                    "name": name,
                    "default_code": code,
                    "type": "service",
                    "list_price": price,
                    "invoice_policy": "order",
                    "taxes_id": [(5, 0, 0)],
                    "supplier_taxes_id": [(5, 0, 0)],
                    "sale_ok": True,
                    "purchase_ok": False,
                }
                if uom_unit:
                    vals["uom_id"] = uom_unit.id
                product = Product.create(vals)
            for company in self.companies:
                pc = product.with_company(company)
                if pc.standard_price != cost:
                    pc.standard_price = cost
            self.products.append(
                {
                    "id": product.id,
                    "uom": product.uom_id.id,
                    "name": product.display_name,
                    "price": price,
                    "cost": cost,
                    "key": f"{product.id}\t{product.uom_id.id}",
                    "txt": _txt(product.display_name),
                }
            )

        # users and teams
        self._setup_teams()

        # utm
        self.campaigns = []
        for xmlid in (
            "utm.utm_campaign_fall_drive",
            "utm.utm_campaign_christmas_special",
            "utm.utm_campaign_email_campaign_services",
            "utm.utm_campaign_email_campaign_products",
        ):
            rec = ref(xmlid)
            if rec:
                self.campaigns.append(rec.id)
        Campaign = env["utm.campaign"]
        for name in CAMPAIGNS:
            rec = (
                Campaign.search([("title", "=", name)], limit=1)
                if "title" in Campaign._fields
                else Campaign.search([("name", "=", name)], limit=1)
            )
            if not rec:
                rec = Campaign.create({"name": name})
            self.campaigns.append(rec.id)
        self.reactivation_campaign = self.campaigns[-1]
        self.channels = []
        for _weight, medium_x, source_x, medium_n, source_n in CHANNELS:
            medium = self._utm("utm.medium", medium_x, medium_n)
            source = self._utm("utm.source", source_x, source_n)
            self.channels.append((medium, source, medium_n))
        self.channel_cum = list(_cumulate([c[0] for c in CHANNELS]))

        # crm stages / lost reasons
        stages = env["crm.stage"].search([], order="sequence, id")
        self.won_stage = stages.filtered("is_won")[:1].id
        if not self.won_stage:
            self.won_stage = (
                env["crm.stage"]
                .create({"name": "Won", "is_won": True, "sequence": 70})
                .id
            )
        self.open_stages = [s.id for s in stages if not s.is_won] or [self.won_stage]
        reasons = env["crm.lost.reason"].search([], order="id")
        if not reasons:
            reasons = env["crm.lost.reason"].create(
                [
                    {"name": n}
                    for n in (
                        "Too expensive",
                        "We don't have people/skills",
                        "Not enough stock",
                    )
                ]
            )
        self.lost_reasons = reasons.ids

        # helpdesk stages / channels / categories
        hstages = env["helpdesk.ticket.stage"].search([], order="sequence, id")
        self.ticket_open_stages = [s.id for s in hstages if not s.closed]
        closed = [s for s in hstages if s.closed]
        self.ticket_done_stage = closed[0].id if closed else False
        self.ticket_cancel_stage = (
            closed[1].id if len(closed) > 1 else self.ticket_done_stage
        )
        self.ticket_unattended = {s.id: bool(s.unattended) for s in hstages}
        self.ticket_channels = env["helpdesk.ticket.channel"].search([], order="id").ids
        self.ticket_categories = (
            env["helpdesk.ticket.category"].search([], order="id").ids
        )

        # mail
        self.subtype_comment = env.ref("mail.mt_comment").id
        self.subtype_note = env.ref("mail.mt_note").id
        self.subtype_activities = env.ref("mail.mt_activities").id
        self.act_call = env.ref("mail.mail_activity_data_call").id
        self.act_email = env.ref("mail.mail_activity_data_email").id
        self.act_todo = env.ref("mail.mail_activity_data_todo").id
        self.model_ids = {
            m: env["ir.model"]._get_id(m) for m in ("crm.lead", "helpdesk.ticket")
        }
        self.uid = env.uid
        self.root_partner = env.ref("base.partner_root").id

    def _utm(self, model, xmlid, name):
        if not name:
            return False
        rec = self.env.ref(xmlid, raise_if_not_found=False) if xmlid else None
        if not rec:
            rec = self.env[model].search([("name", "=", name)], limit=1)
        if not rec:
            rec = self.env[model].create({"name": name})
        return rec.id

    def _setup_teams(self):
        env = self.env
        Users = env["res.users"].with_context(
            no_reset_password=True,
            mail_create_nosubscribe=True,
            tracking_disable=True,
            active_test=False,
        )
        groups_field = "group_ids" if "group_ids" in Users._fields else "groups_id"
        sales_group = env.ref("sales_team.group_sale_salesman")
        support_group = env.ref(
            "helpdesk_mgmt.group_helpdesk_user", raise_if_not_found=False
        )
        n_companies = len(self.companies)
        # sales teams per company
        preferred = [
            "sales_team.team_sales_department",
            "sales_team.crm_team_1",
            "sales_team.salesteam_website_sales",
        ]
        self.teams = {}
        for company in self.companies:
            teams = []
            for xmlid in preferred:
                team = env.ref(xmlid, raise_if_not_found=False)
                if (
                    team
                    and team.company_id in (company, env["res.company"])
                    and (n_companies == 1 or team.company_id == company)
                ):
                    teams.append(team)
            for name in ("KPI Direct Sales", "KPI Inside Sales", "KPI Key Accounts"):
                if len(teams) >= 3:
                    break
                full = f"{name} - {company.name}"
                team = env["crm.team"].search([("name", "=", full)], limit=1)
                if not team:
                    team = env["crm.team"].create(
                        {"name": full, "company_id": company.id}
                    )
                teams.append(team)
            self.teams[company.id] = teams
        # helpdesk teams per company
        self.hteams = {}
        for company in self.companies:
            hteams = env["helpdesk.ticket.team"].search(
                [("company_id", "=", company.id)], order="id", limit=3
            )
            if not hteams:
                hteams = env["helpdesk.ticket.team"].create(
                    {
                        "name": f"KPI Support - {company.name}",
                        "company_id": company.id,
                    }
                )
            self.hteams[company.id] = hteams
        # salespeople: at least one per team
        slots = [(c.id, t) for c in self.companies for t in self.teams[c.id]]
        n_sales = max(len(slots), 2 * len(slots), min(40, self.n_customers // 500))
        self.sales = {
            c.id: [] for c in self.companies
        }  # company -> [(uid, partner, team)]
        for i in range(n_sales):
            cid, team = slots[i % len(slots)]
            user = self._user(
                Users,
                groups_field,
                f"kpi.sales.{i + 1}@example.com",
                f"{FIRST[i % len(FIRST)]} {LAST[(i * 7) % len(LAST)]} (Sales)",
                sales_group,
                cid,
            )
            member = (
                env["crm.team.member"]
                .with_context(active_test=False)
                .search(
                    [("user_id", "=", user.id), ("crm_team_id", "=", team.id)], limit=1
                )
            )
            if not member:
                others = env["crm.team.member"].search([("user_id", "=", user.id)])
                if not others:
                    env["crm.team.member"].create(
                        {"user_id": user.id, "crm_team_id": team.id}
                    )
            self.sales[cid].append((user.id, user.partner_id.id, team.id))
        # support agents
        n_support = max(2 * n_companies, min(30, self.n_tickets // 10000))
        self.agents = {c.id: [] for c in self.companies}
        for i in range(n_support):
            company = self.companies[i % n_companies]
            groups = support_group or sales_group
            user = self._user(
                Users,
                groups_field,
                f"kpi.support.{i + 1}@example.com",
                f"{FIRST[(i * 3 + 5) % len(FIRST)]} "
                f"{LAST[(i * 5 + 3) % len(LAST)]} (Support)",
                groups,
                company.id,
            )
            hteams = self.hteams[company.id]
            hteam = hteams[(i // n_companies) % len(hteams)]
            if user not in hteam.user_ids:
                hteam.user_ids = [(4, user.id)]
            self.agents[company.id].append((user.id, user.partner_id.id, hteam.id))

    def _user(self, Users, groups_field, login, name, group, company_id):
        user = Users.search([("login", "=", login)], limit=1)
        if user:
            if not user.active:
                user.active = True
            missing = self.companies - user.company_ids
            if missing:
                user.company_ids = [(4, c.id) for c in missing]
            return user
        return Users.create(
            {
                "name": name,
                "login": login,
                "email": login,
                "company_id": company_id,
                "company_ids": [(6, 0, self.companies.ids)],
                groups_field: [(6, 0, [group.id, self.env.ref("base.group_user").id])],
            }
        )

    def conv(self, company_id, currency_id, day):
        """Rate of ``currency_id`` relative to the company currency at ``day``.

        Same value as ``res.currency._get_conversion_rate`` (what
        ``sale.order.currency_rate`` stores): the ORM is asked once per date
        where a rate of either currency changes, then reused for the days
        in between.
        """
        key = (company_id, currency_id)
        table = self.conv_cache.get(key)
        if table is None:
            company = self.env["res.company"].browse(company_id)
            currencies = [company.currency_id.id, currency_id]
            self.cr.execute(
                """
                SELECT DISTINCT name FROM res_currency_rate
                 WHERE currency_id = ANY(%s) AND (company_id IS NULL OR company_id = %s)
                   AND name > %s AND name <= %s ORDER BY name
            """,
                [currencies, company.root_id.id, self.month_starts[0], self.end_date],
            )
            breaks = [self.month_starts[0]] + [r[0] for r in self.cr.fetchall()]
            Currency = self.env["res.currency"]
            rates = [
                Currency._get_conversion_rate(
                    company.currency_id, Currency.browse(currency_id), company, d
                )
                for d in breaks
            ]
            table = self.conv_cache[key] = (breaks, rates)
        breaks, rates = table
        return rates[max(0, bisect.bisect_right(breaks, day) - 1)]

    # ------------------------------------------------------------ customers
    def _gen_customers(self):
        rng = self.rng("customers")
        cr = self.cr
        n = self.n_customers
        months = self.months
        ids = _Ids(cr, "res_partner")
        cols = [
            "id",
            "name",
            "complete_name",
            "is_company",
            "type",
            "parent_id",
            "commercial_partner_id",
            "commercial_company_name",
            "country_id",
            "city",
            "street",
            "zip",
            "email",
            "email_normalized",
            "phone",
            "lang",
            "active",
            "customer_rank",
            "supplier_rank",
            "autopost_bills",
            "partner_share",
            "employee",
            "user_id",
            "ref",
            "function",
            "color",
            "create_date",
            "write_date",
            "create_uid",
            "write_uid",
        ]
        out = _Copy(cr, "res_partner", cols)
        seen = set()
        company_ids = self.companies.ids
        company_w = list(
            _cumulate([2.0 if i == 0 else 1.0 for i in range(len(company_ids))])
        )
        seg_cum = list(_cumulate([s[1] for s in SEGMENTS]))
        self.customers = []
        n_children = 0
        uid = self.uid
        for i in range(n):
            company_id = company_ids[_pick(rng, company_w)]
            seg = _pick(rng, seg_cum)
            cidx = _pick(rng, self.country_cum)
            country_id, _w, p_second = self.countries[cidx]
            second = rng.random() < p_second
            is_company = rng.random() < 0.8
            if is_company:
                while True:
                    a, b, c = rng.choice(NAME_A), rng.choice(NAME_B), rng.choice(NAME_C)
                    name = f"{a} {b} {c}"
                    if name in seen:
                        name = f"{name} {i + 1}"
                    if name not in seen:
                        break
            else:
                name = f"{rng.choice(FIRST)} {rng.choice(LAST)} {i + 1}"
            seen.add(name)
            # acquisition month: 20% pre-existing customers in the first months
            old = rng.random() < 0.2
            if old:
                m0 = rng.randrange(min(3, months))
                created = self.start_dt - timedelta(
                    days=rng.randrange(30, 900), seconds=rng.randrange(86400)
                )
            else:
                m0 = _pick(rng, self.growth_cum)
                created = None
            first_order = self.rand_dt(rng, m0)
            if created is None:
                created = max(
                    self.start_dt,
                    first_order
                    - timedelta(
                        days=rng.randrange(0, 45), seconds=rng.randrange(86400)
                    ),
                )
            health = rng.random()
            salesman = rng.choice(self.sales[company_id])
            pid = ids.take()
            slug = "".join(ch for ch in name.lower() if ch.isalnum())[:24]
            email = (
                f"contact@{slug}-{i + 1}.example.com"
                if is_company
                else f"{slug}@example.com"
            )
            children = []
            if is_company and rng.random() < 0.35:
                for _k in range(rng.randint(1, 3)):
                    children.append(
                        (ids.take(), f"{rng.choice(FIRST)} {rng.choice(LAST)}")
                    )
            out.add(
                "\t".join(
                    (
                        str(pid),
                        _txt(name),
                        _txt(name),
                        _b(is_company),
                        "contact",
                        NULL,
                        str(pid),
                        _txt(name) if is_company else NULL,
                        str(country_id),
                        rng.choice(CITIES),
                        f"{rng.randint(1, 999)} {rng.choice(LAST)} Street",
                        f"{rng.randint(1000, 99999):05d}",
                        email,
                        email,
                        f"+1 555 {i % 10000:04d}",
                        "en_US",
                        "t",
                        "1",
                        "0",
                        "ask",
                        "t",
                        "f",
                        str(salesman[0]),
                        f"KPIG{i + 1:06d}",
                        NULL,
                        "0",
                        str(created),
                        str(created),
                        str(uid),
                        str(uid),
                    )
                )
            )
            for cpid, cname in children:
                n_children += 1
                local = "".join(ch for ch in cname.lower() if ch.isalnum())
                cemail = f"{local}@{slug}-{i + 1}.example.com"
                out.add(
                    "\t".join(
                        (
                            str(cpid),
                            _txt(cname),
                            _txt(f"{name}, {cname}"),
                            "f",
                            "contact",
                            str(pid),
                            str(pid),
                            _txt(name),
                            str(country_id),
                            NULL,
                            NULL,
                            NULL,
                            cemail,
                            cemail,
                            NULL,
                            "en_US",
                            "t",
                            "0",
                            "0",
                            "ask",
                            "t",
                            "f",
                            str(salesman[0]),
                            NULL,
                            rng.choice(
                                (
                                    "Purchaser",
                                    "CEO",
                                    "IT Manager",
                                    "Accountant",
                                    "Office Manager",
                                )
                            ),
                            "0",
                            str(created),
                            str(created),
                            str(uid),
                            str(uid),
                        )
                    )
                )
            self.customers.append(
                {
                    "id": pid,
                    "name": name,
                    "email": email,
                    "company": company_id,
                    "seg": seg,
                    "second": second,
                    "m0": m0,
                    "first": first_order,
                    "health": health,
                    "salesman": salesman,
                    "children": [c[0] for c in children],
                    "child_names": [c[1] for c in children],
                    "country": country_id,
                    "created": created,
                    "old": old,
                }
            )
        out.flush()
        ids.close()
        self.partner_id_range = (ids.first, ids.next - 1)
        self.written["res.partner"] = (ids.first, ids.next - 1)
        self.counts["customers"] = n
        self.counts["contacts"] = n_children

    # ------------------------------------------------------------ orders
    def _timeline(self, rng, cust):
        """Active months of a customer (churn + reactivation)."""
        hazard = SEGMENTS[cust["seg"]][3] * (0.4 + 1.4 * (1 - cust["health"]))
        active = [cust["m0"]]
        is_active = True
        returns = []
        for m in range(cust["m0"] + 1, self.months):
            if is_active:
                if rng.random() < hazard:
                    is_active = False
            elif rng.random() < 0.03:
                is_active = True
                returns.append(m)
            if is_active:
                active.append(m)
        return active, returns

    def _gen_orders(self):  # noqa: C901
        rng = self.rng("orders")
        trng = self.rng("timelines")
        cr = self.cr
        timelines = []
        rest_months = 0
        for cust in self.customers:
            active, returns = self._timeline(trng, cust)
            cust["active"] = active
            cust["returns"] = returns
            w = SEGMENTS[cust["seg"]][2] * (0.6 + 0.8 * cust["health"])
            cust["freq"] = w
            rest_months += (len(active) - 1) * w
            timelines.append(active)
        extra = max(0, self.n_orders - len(self.customers))
        p_repeat = extra / rest_months if rest_months else 0.0
        # a month may hold a second order (probability 0.3 * p): correct for it
        p_repeat = p_repeat / (1 + 0.3 * min(1.0, p_repeat))
        # links to won opportunities
        self.n_won_target = int(self.n_leads * 0.3)
        p_first_link = min(0.7, self.n_won_target * 0.7 / max(1, len(self.customers)))
        p_repeat_link = min(0.5, self.n_won_target * 0.3 / max(1, extra))
        self.lead_ids = _Ids(cr, "crm_lead")
        self.won_opps = []
        self.order_links = []
        self.nps_candidates = []
        p_survey = min(1.0, self.n_surveys * 0.5 / max(1, self.n_orders))
        order_ids = _Ids(cr, "sale_order")
        line_ids = _Ids(cr, "sale_order_line")
        so_cols = [
            "id",
            "name",
            "state",
            "company_id",
            "partner_id",
            "partner_invoice_id",
            "partner_shipping_id",
            "pricelist_id",
            "currency_id",
            "currency_rate",
            "user_id",
            "team_id",
            "opportunity_id",
            "campaign_id",
            "source_id",
            "medium_id",
            "date_order",
            "validity_date",
            "invoice_status",
            "amount_untaxed",
            "amount_tax",
            "amount_total",
            "margin",
            "margin_percent",
            "locked",
            "require_signature",
            "require_payment",
            "prepayment_percent",
            "create_date",
            "write_date",
            "create_uid",
            "write_uid",
        ]
        sol_cols = [
            "id",
            "order_id",
            "sequence",
            "company_id",
            "currency_id",
            "order_partner_id",
            "salesman_id",
            "product_id",
            "product_uom_id",
            "state",
            "name",
            "product_uom_qty",
            "price_unit",
            "discount",
            "price_subtotal",
            "price_total",
            "price_reduce_taxexcl",
            "price_reduce_taxinc",
            "price_tax",
            "technical_price_unit",
            "qty_delivered",
            "qty_delivered_method",
            "qty_invoiced",
            "qty_to_invoice",
            "untaxed_amount_invoiced",
            "untaxed_amount_to_invoice",
            "invoice_status",
            "customer_lead",
            "is_downpayment",
            "is_expense",
            "collapse_prices",
            "collapse_composition",
            "is_optional",
            "purchase_price",
            "margin",
            "margin_percent",
            "create_date",
            "write_date",
            "create_uid",
            "write_uid",
        ]
        so_out = _Copy(cr, "sale_order", so_cols)
        dropped = self._drop_gin("sale_order", self.n_orders)
        sol_out = _Copy(cr, "sale_order_line", sol_cols, chunk=10**9)
        products = self.products
        uid = str(self.uid)
        n_orders = n_lines = n_second = 0
        order_counts = {}
        prefix = f"SO-{self.tag}"
        comp_curs = {c.id: c.currency_id.id for c in self.companies}
        for cust in self.customers:
            seg = SEGMENTS[cust["seg"]]
            company_id = cust["company"]
            comp_cur = comp_curs[company_id]
            if cust["second"]:
                currency_id = self.second_currency[company_id].id
                pricelist = str(self.pricelists[company_id])
            else:
                currency_id = comp_cur
                pricelist = NULL
            prob = min(0.95, p_repeat * cust["freq"])
            returns = set(cust["returns"])
            events = []
            for m in cust["active"]:
                if m == cust["m0"]:
                    events.append((cust["first"], "first"))
                    continue
                k = 0
                pr = prob
                while pr > 0 and rng.random() < pr:
                    k += 1
                    pr = prob * 0.3 if k == 1 else 0
                for _k in range(k):
                    events.append(
                        (self.rand_dt(rng, m), "return" if m in returns else "repeat")
                    )
            events.sort()
            cnt = 0
            for dt, kind in events:
                cnt += 1
                oid = order_ids.take()
                n_orders += 1
                day = dt.date()
                rate = (
                    1.0
                    if currency_id == comp_cur
                    else self.conv(company_id, currency_id, day)
                )
                if currency_id != comp_cur:
                    n_second += 1
                salesman = cust["salesman"]
                partner = cust["id"]
                if cust["children"] and rng.random() < 0.2:
                    partner = rng.choice(cust["children"])
                # lines
                nlines = rng.choice((1, 1, 2, 2, 3, 4))
                untaxed = margin = 0
                lines = []
                for seq in range(nlines):
                    prod = products[rng.choice(seg[6])]
                    qty = rng.randint(*seg[4])
                    disc = rng.choice(seg[5])
                    pu_c = int(round(prod["price"] * rate * 100))
                    if disc:
                        # a multiple of 20 cents keeps the discounted subtotal
                        # in whole cents: line sums then equal amount_untaxed
                        # with either tax rounding method (per line/globally)
                        pu_c = int(round(pu_c / 20.0)) * 20
                    # sale_margin converts the cost without rounding, then
                    # stores purchase_price and margin rounded to cents
                    pp_exact = prod["cost"] * rate * 100
                    pp_c = int(round(pp_exact))
                    sub_c = (qty * pu_c * (100 - disc) + 50) // 100
                    mar_c = int(round(sub_c - pp_exact * qty))
                    untaxed += sub_c
                    margin += mar_c
                    lines.append((prod, qty, disc, pu_c, pp_c, sub_c, mar_c, seq))
                campaign = source = medium = NULL
                opp = NULL
                # customers older than the history were won before it starts
                link = (
                    p_first_link
                    if kind == "first" and not cust["old"]
                    else p_repeat_link
                )
                if rng.random() < link:
                    lid = self.lead_ids.take()
                    self.order_links.append(f"{oid}\t{lid}")
                    chan = self.channels[_pick(rng, self.channel_cum)]
                    camp = rng.choice(self.campaigns) if rng.random() < 0.4 else False
                    if kind == "return" and rng.random() < 0.6:
                        camp = self.reactivation_campaign
                    self.won_opps.append(
                        (
                            lid,
                            cust,
                            dt,
                            untaxed / 100.0 / rate,
                            salesman,
                            chan,
                            camp,
                            kind,
                        )
                    )
                    if camp:
                        campaign = str(camp)
                    if chan[0]:
                        medium = str(chan[0])
                    if chan[1]:
                        source = str(chan[1])
                elif kind == "return" and rng.random() < 0.5:
                    campaign = str(self.reactivation_campaign)
                elif rng.random() < 0.08:
                    campaign = str(rng.choice(self.campaigns))
                created = max(
                    self.start_dt, dt - timedelta(seconds=rng.randrange(0, 7 * 86400))
                )
                so_out.add(
                    "\t".join(
                        (
                            str(oid),
                            f"{prefix}{n_orders:06d}",
                            "sale",
                            str(company_id),
                            str(partner),
                            str(partner),
                            str(partner),
                            pricelist,
                            str(currency_id),
                            repr(rate),
                            str(salesman[0]),
                            str(salesman[2]),
                            opp,
                            campaign,
                            source,
                            medium,
                            str(dt),
                            str(day + timedelta(days=30)),
                            "to invoice",
                            _money(untaxed),
                            "0.00",
                            _money(untaxed),
                            _money(margin),
                            repr(margin / untaxed if untaxed else 0.0),
                            "f",
                            "t",
                            "f",
                            "1.0",
                            str(created),
                            str(dt),
                            uid,
                            uid,
                        )
                    )
                )
                line_ctx = f"{company_id}\t{currency_id}\t{partner}\t{salesman[0]}"
                tail = f"{created}\t{dt}\t{uid}\t{uid}"
                for prod, qty, disc, pu_c, pp_c, sub_c, mar_c, seq in lines:
                    n_lines += 1
                    reduce = repr(round(sub_c / 100.0 / qty, 6))
                    sub = _money(sub_c)
                    pu = _money(pu_c)
                    sol_out.add(
                        f"{line_ids.take()}\t{oid}\t{10 + seq}\t{line_ctx}\t"
                        f"{prod['key']}\tsale\t{prod['txt']}\t{qty}.00\t{pu}\t"
                        f"{disc}.00\t{sub}\t{sub}\t{reduce}\t{reduce}\t0.0\t{pu}\t"
                        f"0.00\tmanual\t0.00\t{qty}.00\t0.00\t{sub}\tto invoice\t"
                        f"0.0\tf\tf\tf\tf\tf\t{_money(pp_c)}\t{_money(mar_c)}\t"
                        f"{mar_c / sub_c if sub_c else 0.0!r}\t{tail}"
                    )
                if rng.random() < p_survey:
                    self.nps_candidates.append(
                        (
                            cust,
                            dt
                            + timedelta(
                                days=rng.randint(3, 20), seconds=rng.randrange(86400)
                            ),
                            oid,
                        )
                    )
                if len(so_out.lines) >= so_out.chunk - 10:
                    so_out.flush()
                    sol_out.flush()
            order_counts[cust["id"]] = cnt
            cust["n_orders"] = cnt
            cust["last_order"] = events[-1][0] if events else cust["first"]
        so_out.flush()
        sol_out.flush()
        self._restore_indexes(dropped)
        order_ids.close()
        line_ids.close()
        self.order_range = (order_ids.first, order_ids.next - 1)
        self.written["sale.order"] = self.order_range
        self.written["sale.order.line"] = (line_ids.first, line_ids.next - 1)
        self.counts["sale_orders"] = n_orders
        self.counts["sale_order_lines"] = n_lines
        self.counts["sale_orders_second_currency"] = n_second

    # ------------------------------------------------------------ leads
    def _gen_leads(self):
        rng = self.rng("leads")
        cr = self.cr
        cols = [
            "id",
            "name",
            "type",
            "active",
            "probability",
            "automated_probability",
            "stage_id",
            "user_id",
            "team_id",
            "company_id",
            "partner_id",
            "partner_name",
            "contact_name",
            "email_from",
            "email_normalized",
            "country_id",
            "campaign_id",
            "source_id",
            "medium_id",
            "expected_revenue",
            "prorated_revenue",
            "date_open",
            "date_last_stage_update",
            "date_closed",
            "date_conversion",
            "day_open",
            "day_close",
            "won_status",
            "lost_reason_id",
            "priority",
            "color",
            "date_deadline",
            "description",
            "create_date",
            "write_date",
            "create_uid",
            "write_uid",
        ]
        out = _Copy(cr, "crm_lead", cols)
        dropped = self._drop_gin("crm_lead", self.n_leads)
        uid = str(self.uid)
        # (lead id, company, start, end, user partner, incoming email or False)
        self.lead_msgs = []
        self.open_leads = []
        n_won = n_lost = n_open = 0
        start = self.start_dt
        open_probability = {}
        for i, sid in enumerate(self.open_stages):
            open_probability[sid] = min(90.0, 10.0 + 25.0 * i)

        def emit(
            lid,
            name,
            ltype,
            active,
            prob,
            stage,
            user,
            company,
            partner,
            pname,
            contact,
            email,
            country,
            camp,
            chan,
            revenue,
            created,
            conv,
            closed,
            status,
            reason,
            desc,
        ):
            date_open = created
            last_update = closed or conv or created
            out.add(
                "\t".join(
                    (
                        str(lid),
                        _txt(name),
                        ltype,
                        _b(active),
                        repr(prob),
                        repr(prob),
                        str(stage),
                        str(user[0]),
                        str(user[2]),
                        str(company),
                        _opt(partner),
                        _txt(pname),
                        _txt(contact),
                        _txt(email),
                        _txt(email),
                        str(country),
                        _opt(camp),
                        _opt(chan[1]),
                        _opt(chan[0]),
                        f"{revenue:.2f}",
                        "%.2f" % (revenue * prob / 100.0),
                        str(date_open),
                        str(last_update),
                        _opt(closed),
                        _opt(conv),
                        "0.0",
                        repr(float(abs((closed - created).days))) if closed else NULL,
                        status,
                        _opt(reason),
                        rng.choice(("0", "0", "1", "1", "2", "3")),
                        "0",
                        str((closed or created + timedelta(days=30)).date()),
                        _txt(desc),
                        str(created),
                        str(last_update),
                        uid,
                        uid,
                    )
                )
            )

        # won opportunities, linked to orders
        for lid, cust, order_dt, revenue, user, chan, camp, _kind in self.won_opps:
            closed = max(
                start, order_dt - timedelta(seconds=rng.randrange(0, 3 * 86400))
            )
            cycle = timedelta(days=rng.randint(5, 75), seconds=rng.randrange(86400))
            conv = closed - cycle
            created = conv - timedelta(
                days=rng.randint(0, 10), seconds=rng.randrange(86400)
            )
            if created < start:
                # squeeze the cycle into the history instead of piling on day one
                span = int((closed - start).total_seconds())
                created = start + timedelta(seconds=rng.randrange(max(1, span // 2)))
                conv = created + (closed - created) / 4
                conv = conv.replace(microsecond=0)
            topic = rng.choice(LEAD_TOPICS)
            contact = cust["child_names"][0] if cust["child_names"] else None
            emit(
                lid,
                "{} - {}".format(cust["name"], topic),
                "opportunity",
                True,
                100.0,
                self.won_stage,
                user,
                cust["company"],
                cust["id"],
                cust["name"],
                contact,
                cust["email"],
                cust["country"],
                camp,
                chan,
                round(revenue, 2),
                created,
                conv,
                closed,
                "won",
                None,
                f"Won: {topic}",
            )
            n_won += 1
            self.lead_msgs.append(
                (
                    lid,
                    cust["company"],
                    created,
                    closed,
                    user[1],
                    chan[2] == "Email" and (cust["id"], cust["email"]),
                )
            )
        # other leads: prospects (lost or open) and some existing customers
        rest = max(0, self.n_leads - n_won)
        customers = self.customers
        for k in range(rest):
            lid = self.lead_ids.take()
            m = _pick(rng, self.growth_cum)
            created = self.rand_dt(rng, m)
            company_id = (
                self.companies.ids[0]
                if len(self.companies) == 1
                else rng.choice(self.companies.ids)
            )
            chan = self.channels[_pick(rng, self.channel_cum)]
            camp = rng.choice(self.campaigns) if rng.random() < 0.35 else None
            user = rng.choice(self.sales[company_id])
            topic = rng.choice(LEAD_TOPICS)
            if rng.random() < 0.15 and customers:
                cust = customers[rng.randrange(len(customers))]
                company_id = cust["company"]
                user = cust["salesman"]
                partner, pname, email = cust["id"], cust["name"], cust["email"]
                contact = cust["child_names"][0] if cust["child_names"] else None
                country = cust["country"]
            else:
                partner = None
                pname = (
                    f"{rng.choice(NAME_A)} {rng.choice(NAME_B)} {rng.choice(NAME_C)}"
                )
                contact = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
                email = f"{contact.split()[0].lower()}@prospect-{k + 1}.example.com"
                country = self.countries[_pick(rng, self.country_cum)][0]
            revenue = float(
                rng.choice((500, 1000, 1500, 2500, 5000, 8000, 12000, 25000))
            )
            is_opp = rng.random() < 0.7
            conv = (
                created
                + timedelta(days=rng.randint(0, 7), seconds=rng.randrange(86400))
                if is_opp
                else None
            )
            if conv and conv > self.end_dt:
                conv = None
                is_opp = False
            duration = timedelta(days=rng.randint(3, 90), seconds=rng.randrange(86400))
            closed = (conv or created) + duration
            # most closed-out prospects are lost; a few stale ones stay open
            lost = closed <= self.end_dt and rng.random() < (0.93 if is_opp else 0.85)
            if lost:
                stage = rng.choice(
                    self.open_stages[:3] if is_opp else self.open_stages[:1]
                )
                emit(
                    lid,
                    f"{pname} - {topic}",
                    "opportunity" if is_opp else "lead",
                    False,
                    0.0,
                    stage,
                    user,
                    company_id,
                    partner,
                    pname,
                    contact,
                    email,
                    country,
                    camp,
                    chan,
                    revenue,
                    created,
                    conv,
                    closed,
                    "lost",
                    rng.choice(self.lost_reasons),
                    f"Lost: {topic}",
                )
                n_lost += 1
                end = closed
            else:
                if is_opp:
                    stage = self.open_stages[
                        min(
                            len(self.open_stages) - 1,
                            rng.randrange(min(3, len(self.open_stages))),
                        )
                    ]
                else:
                    stage = self.open_stages[0]
                emit(
                    lid,
                    f"{pname} - {topic}",
                    "opportunity" if is_opp else "lead",
                    True,
                    open_probability.get(stage, 10.0),
                    stage,
                    user,
                    company_id,
                    partner,
                    pname,
                    contact,
                    email,
                    country,
                    camp,
                    chan,
                    revenue,
                    created,
                    conv,
                    None,
                    "pending",
                    None,
                    topic,
                )
                n_open += 1
                end = self.end_dt
                self.open_leads.append((lid, user[0], company_id, pname, is_opp))
            self.lead_msgs.append(
                (
                    lid,
                    company_id,
                    created,
                    end,
                    user[1],
                    chan[2] == "Email" and (partner, email),
                )
            )
        out.flush()
        self._restore_indexes(dropped)
        self.lead_ids.close()
        self.written["crm.lead"] = (self.lead_ids.first, self.lead_ids.next - 1)
        # orders were written before their opportunities: link them now
        if self.order_links:
            cr.execute(
                "CREATE TEMP TABLE kpigen_link (order_id int, lead_id int) "
                "ON COMMIT DROP"
            )
            cr._obj.copy_expert(
                "COPY kpigen_link FROM STDIN",
                io.StringIO("\n".join(self.order_links) + "\n"),
            )
            cr.execute("""UPDATE sale_order so SET opportunity_id = l.lead_id
                            FROM kpigen_link l WHERE so.id = l.order_id""")
            cr.execute("DROP TABLE kpigen_link")
        self.order_links = None
        self.counts["leads"] = n_won + n_lost + n_open
        self.counts["leads_won"] = n_won
        self.counts["leads_lost"] = n_lost
        self.counts["leads_open"] = n_open

    # ------------------------------------------------------------ tickets
    def _gen_tickets(self):
        rng = self.rng("tickets")
        cr = self.cr
        if not self.ticket_done_stage or not self.ticket_open_stages:
            _logger.warning("generator: helpdesk stages missing, tickets skipped")
            self.counts["tickets"] = 0
            return
        eligible = 0.0
        for cust in self.customers:
            # customers keep calling support a bit after their last order
            span = len(cust["active"]) + 1
            cust["t_weight"] = (0.5 + SEGMENTS[cust["seg"]][2]) * (1.6 - cust["health"])
            eligible += span * cust["t_weight"]
        q = self.n_tickets / eligible if eligible else 0
        cols = [
            "id",
            "number",
            "name",
            "description",
            "partner_id",
            "commercial_partner_id",
            "partner_name",
            "partner_email",
            "company_id",
            "team_id",
            "user_id",
            "stage_id",
            "channel_id",
            "category_id",
            "priority",
            "kanban_state",
            "unattended",
            "active",
            "color",
            "sequence",
            "last_stage_update",
            "assigned_date",
            "closed_date",
            "create_date",
            "write_date",
            "create_uid",
            "write_uid",
        ]
        out = _Copy(cr, "helpdesk_ticket", cols)
        ids = _Ids(cr, "helpdesk_ticket")
        self.ticket_msgs = []
        self.open_tickets = []
        self.ticket_survey = []
        uid = str(self.uid)
        n = n_closed = 0
        prefix = f"HT-{self.tag}"
        for cust in self.customers:
            months = list(cust["active"])
            after = months[-1] + 1
            if after < self.months:
                months.append(after)
            w = q * cust["t_weight"]
            company_id = cust["company"]
            for m in months:
                k = 0
                pr = w
                while pr > 0 and rng.random() < min(0.95, pr):
                    k += 1
                    pr = w - k
                for _k in range(k):
                    created = self.rand_dt(rng, m)
                    tid = ids.take()
                    n += 1
                    agent = rng.choice(self.agents[company_id])
                    if cust["children"] and rng.random() < 0.4:
                        j = rng.randrange(len(cust["children"]))
                        partner, pname = cust["children"][j], cust["child_names"][j]
                    else:
                        partner, pname = cust["id"], cust["name"]
                    resolution = timedelta(
                        seconds=int(
                            3600
                            * min(
                                24 * 60,
                                rng.lognormvariate(
                                    math.log(18 * (0.7 + cust["seg"] * 0.2)), 1.2
                                ),
                            )
                        )
                    )
                    first_resp = timedelta(
                        seconds=int(
                            min(
                                resolution.total_seconds() * 0.8,
                                3600 * rng.lognormvariate(math.log(3), 1.0),
                            )
                        )
                    )
                    closed = created + resolution
                    # only recent open tickets may still wait for an agent
                    assigned = rng.random() < 0.92 or closed <= self.end_dt
                    if closed <= self.end_dt:
                        stage = (
                            self.ticket_done_stage
                            if rng.random() < 0.92
                            else self.ticket_cancel_stage
                        )
                        n_closed += 1
                        last_update = closed
                    else:
                        closed = None
                        stage = self.ticket_open_stages[
                            min(
                                len(self.ticket_open_stages) - 1,
                                0
                                if not assigned
                                else rng.randrange(len(self.ticket_open_stages)),
                            )
                        ]
                        last_update = created + first_resp if assigned else created
                        if last_update > self.end_dt:
                            last_update = created
                        self.open_tickets.append((tid, agent[0], company_id, pname))
                    subject = rng.choice(TICKET_SUBJECTS)
                    out.add(
                        "\t".join(
                            (
                                str(tid),
                                f"{prefix}{n:06d}",
                                subject,
                                f"<p>{subject} - reported by {_txt(pname)}</p>",
                                str(partner),
                                str(cust["id"]),
                                _txt(pname),
                                cust["email"],
                                str(company_id),
                                str(agent[2]),
                                str(agent[0]) if assigned else NULL,
                                str(stage),
                                str(rng.choice(self.ticket_channels))
                                if self.ticket_channels
                                else NULL,
                                str(rng.choice(self.ticket_categories))
                                if self.ticket_categories and rng.random() < 0.7
                                else NULL,
                                rng.choice(("0", "0", "1", "1", "2", "3")),
                                "normal",
                                _b(self.ticket_unattended.get(stage)),
                                "t",
                                "0",
                                "10",
                                str(last_update),
                                str(created) if assigned else NULL,
                                _opt(closed),
                                str(created),
                                str(last_update),
                                uid,
                                uid,
                            )
                        )
                    )
                    self.ticket_msgs.append(
                        (
                            tid,
                            company_id,
                            partner,
                            cust["email"],
                            pname,
                            subject,
                            created,
                            first_resp,
                            closed,
                            agent[1],
                            assigned,
                        )
                    )
                    if closed:
                        self.ticket_survey.append((cust, closed, resolution, tid))
        out.flush()
        ids.close()
        self.counts["tickets"] = n
        self.written["helpdesk.ticket"] = (ids.first, ids.next - 1)
        self.counts["tickets_closed"] = n_closed

    # ------------------------------------------------------------ messages
    def _gen_activities(self):
        rng = self.rng("messages")
        cr = self.cr
        cols = [
            "id",
            "model",
            "res_id",
            "record_company_id",
            "message_type",
            "subtype_id",
            "mail_activity_type_id",
            "author_id",
            "email_from",
            "subject",
            "body",
            "is_internal",
            "message_id",
            "date",
            "create_date",
            "write_date",
            "create_uid",
            "write_uid",
        ]
        out = _Copy(cr, "mail_message", cols)
        ids = _Ids(cr, "mail_message")
        uid = str(self.uid)
        counters = {"customer": 0, "agent": 0, "note": 0, "activity": 0}
        tag = self.tag
        c_comment, c_note, c_act = (
            str(self.subtype_comment),
            str(self.subtype_note),
            str(self.subtype_activities),
        )
        act_types = [
            (str(self.act_call), "Call"),
            (str(self.act_call), "Call"),
            (str(self.act_email), "Email"),
            (str(self.act_todo), "To-Do"),
        ]

        def msg(
            model,
            res_id,
            company,
            mtype,
            subtype,
            act,
            author,
            email_from,
            subject,
            body,
            internal,
            when,
        ):
            mid = ids.take()
            out.add(
                "\t".join(
                    (
                        str(mid),
                        model,
                        str(res_id),
                        str(company),
                        mtype,
                        subtype,
                        act or NULL,
                        _opt(author),
                        _txt(email_from),
                        _txt(subject),
                        body,
                        _b(internal),
                        f"<kpi{tag}.{mid - ids.first}@example.com>",
                        str(when),
                        str(when),
                        str(when),
                        uid,
                        uid,
                    )
                )
            )

        # leads: incoming email + done activities
        for lid, company, start, end, author, email in self.lead_msgs:
            if email:
                msg(
                    "crm.lead",
                    lid,
                    company,
                    "email",
                    c_comment,
                    None,
                    email[0],
                    email[1],
                    "Request information",
                    "<p>Hello, we would like more information.</p>",
                    False,
                    start,
                )
                counters["customer"] += 1
            if rng.random() < 0.6:
                span = max(60, int((end - start).total_seconds()))
                for _k in range(rng.randint(1, 3)):
                    act, label = rng.choice(act_types)
                    when = start + timedelta(seconds=rng.randrange(span))
                    msg(
                        "crm.lead",
                        lid,
                        company,
                        "notification",
                        c_act,
                        act,
                        author,
                        None,
                        None,
                        f"<div><p>{label} done</p></div>",
                        False,
                        when,
                    )
                    counters["activity"] += 1
        self.lead_msgs = None
        # tickets: customer email, agent replies, notes, done activities
        for (
            tid,
            company,
            partner,
            email,
            pname,
            subject,
            created,
            first_resp,
            closed,
            agent,
            assigned,
        ) in self.ticket_msgs:
            end = closed or self.end_dt
            msg(
                "helpdesk.ticket",
                tid,
                company,
                "email",
                c_comment,
                None,
                partner,
                f'"{pname}" <{email}>',
                subject,
                f"<p>{subject}</p>",
                False,
                created,
            )
            counters["customer"] += 1
            reply = created + first_resp
            if assigned and reply <= end:
                msg(
                    "helpdesk.ticket",
                    tid,
                    company,
                    "comment",
                    c_comment,
                    None,
                    agent,
                    None,
                    None,
                    "<p>Thank you, we are looking into it.</p>",
                    False,
                    reply,
                )
                counters["agent"] += 1
                if rng.random() < 0.5:
                    span = max(60, int((end - reply).total_seconds()))
                    follow = reply + timedelta(seconds=rng.randrange(span) // 2)
                    msg(
                        "helpdesk.ticket",
                        tid,
                        company,
                        "email" if rng.random() < 0.6 else "comment",
                        c_comment,
                        None,
                        partner,
                        f'"{pname}" <{email}>',
                        None,
                        "<p>Any news on this?</p>",
                        False,
                        follow,
                    )
                    counters["customer"] += 1
                    answer = follow + timedelta(
                        seconds=rng.randrange(max(60, span // 2))
                    )
                    if answer <= end:
                        msg(
                            "helpdesk.ticket",
                            tid,
                            company,
                            "comment",
                            c_comment,
                            None,
                            agent,
                            None,
                            None,
                            "<p>Here is the solution.</p>",
                            False,
                            answer,
                        )
                        counters["agent"] += 1
            if rng.random() < 0.3:
                span = max(60, int((end - created).total_seconds()))
                msg(
                    "helpdesk.ticket",
                    tid,
                    company,
                    "comment",
                    c_note,
                    None,
                    agent,
                    None,
                    None,
                    "<p>Internal: checked the logs.</p>",
                    True,
                    created + timedelta(seconds=rng.randrange(span)),
                )
                counters["note"] += 1
            if rng.random() < 0.35:
                span = max(60, int((end - created).total_seconds()))
                act, label = rng.choice(act_types)
                msg(
                    "helpdesk.ticket",
                    tid,
                    company,
                    "notification",
                    c_act,
                    act,
                    agent,
                    None,
                    None,
                    f"<div><p>{label} done</p></div>",
                    False,
                    created + timedelta(seconds=rng.randrange(span)),
                )
                counters["activity"] += 1
        self.ticket_msgs = None
        out.flush()
        ids.close()
        self.written["mail.message"] = (ids.first, ids.next - 1)
        self.counts["messages"] = out.count
        self.counts["messages_customer"] = counters["customer"]
        self.counts["messages_agent"] = counters["agent"]
        self.counts["messages_note"] = counters["note"]
        self.counts["activities_done"] = counters["activity"]

        # open activities in the future
        cols = [
            "id",
            "res_model_id",
            "res_model",
            "res_id",
            "res_name",
            "activity_type_id",
            "user_id",
            "summary",
            "date_deadline",
            "automated",
            "active",
            "create_date",
            "write_date",
            "create_uid",
            "write_uid",
        ]
        act_out = _Copy(cr, "mail_activity", cols)
        act_ids = _Ids(cr, "mail_activity")
        now = str(self.end_dt.replace(hour=8, minute=0, second=0))
        for lid, user, _company, name, is_opp in self.open_leads:
            if rng.random() < (0.3 if is_opp else 0.1):
                act, label = rng.choice(act_types)
                act_out.add(
                    "\t".join(
                        (
                            str(act_ids.take()),
                            str(self.model_ids["crm.lead"]),
                            "crm.lead",
                            str(lid),
                            _txt(name),
                            act,
                            str(user),
                            f"{label} {_txt(name)}",
                            str(self.end_date + timedelta(days=rng.randint(1, 21))),
                            "f",
                            "t",
                            now,
                            now,
                            uid,
                            uid,
                        )
                    )
                )
        for tid, user, _company, name in self.open_tickets:
            if rng.random() < 0.15:
                act, label = rng.choice(act_types)
                act_out.add(
                    "\t".join(
                        (
                            str(act_ids.take()),
                            str(self.model_ids["helpdesk.ticket"]),
                            "helpdesk.ticket",
                            str(tid),
                            _txt(name),
                            act,
                            str(user),
                            f"{label} {_txt(name)}",
                            str(self.end_date + timedelta(days=rng.randint(1, 14))),
                            "f",
                            "t",
                            now,
                            now,
                            uid,
                            uid,
                        )
                    )
                )
        act_out.flush()
        act_ids.close()
        self.written["mail.activity"] = (act_ids.first, act_ids.next - 1)
        self.counts["activities_open"] = act_out.count

    # ------------------------------------------------------------ surveys
    def _survey_setup(self):
        env = self.env
        Survey = env["survey.survey"]
        if (
            "kpi_survey_type" not in Survey._fields
            or "kpi_question_id" not in Survey._fields
        ):
            return []
        found = []
        for xmlid, kind in (
            ("crm_success_kpi.survey_kpi_nps", "nps"),
            ("crm_success_kpi.survey_kpi_csat", "csat"),
            ("crm_success_kpi.survey_kpi_ces", "ces"),
        ):
            survey = env.ref(xmlid, raise_if_not_found=False)
            if survey and survey.kpi_question_id:
                found.append((kind, survey))
        if not found:
            for survey in Survey.search([("kpi_survey_type", "!=", False)], order="id"):
                if survey.kpi_question_id:
                    found.append((str(survey.kpi_survey_type), survey))
        result = []
        seen = set()
        for kind, survey in found:
            if kind in seen:
                continue
            seen.add(kind)
            question = survey.kpi_question_id
            qtype = question.question_type
            lo, hi = {"nps": (0, 10), "ces": (1, 7), "csat": (1, 5)}.get(kind, (0, 10))
            if (
                "kpi_scale_max" in survey._fields
                and survey.kpi_scale_max > survey.kpi_scale_min
            ):
                lo, hi = survey.kpi_scale_min, survey.kpi_scale_max
            answers = []
            if qtype == "scale":
                lo = max(lo, question.scale_min)
                hi = min(hi, question.scale_max)
            elif qtype == "simple_choice":
                answers = question.suggested_answer_ids.sorted(
                    lambda a: (a.sequence, a.id)
                ).ids
                if not answers:
                    continue
            elif qtype != "numerical_box":
                _logger.warning(
                    "generator: survey %s question type %s not supported",
                    survey.display_name,
                    qtype,
                )
                continue
            result.append(
                {
                    "kind": kind,
                    "type": str(survey.kpi_survey_type or kind),
                    "survey": survey.id,
                    "question": question.id,
                    "qseq": question.sequence or 0,
                    "qtype": qtype,
                    "lo": lo,
                    "hi": hi,
                    "answers": answers,
                }
            )
        return result

    def _gen_surveys(self):
        rng = self.rng("surveys")
        cr = self.cr
        surveys = self._survey_setup()
        if not surveys:
            _logger.warning(
                "generator: survey.survey has no kpi_survey_type/kpi_question_id "
                "(or the crm_success_kpi NPS/CES/CSAT surveys are missing): "
                "survey answers skipped"
            )
            self.counts["survey_answers"] = 0
            self.counts["survey_skipped"] = True
            return
        by_kind = {s["kind"]: s for s in surveys}
        # NPS from order candidates, CSAT and CES after ticket closing
        target = self.n_surveys
        plan = []
        nps = by_kind.get("nps")
        csat = by_kind.get("csat")
        ces = by_kind.get("ces")
        ticket_share = (0.3 if csat else 0) + (0.2 if ces else 0)
        order_share = 0.5 if nps else 0
        total_share = ticket_share + order_share or 1
        if nps:
            quota = int(target * order_share / total_share)
            cands = [c for c in self.nps_candidates if c[1] <= self.end_dt]
            if len(cands) > quota:
                cands = rng.sample(cands, quota)
                cands.sort(key=lambda c: (c[1], c[0]["id"]))
            for cust, when, oid in cands:
                x = min(1.0, max(0.0, rng.gauss(0.45 + 0.5 * cust["health"], 0.18)))
                plan.append((nps, cust, when, x, "order", oid))
        cands = [
            c for c in self.ticket_survey if c[1] + timedelta(days=1) <= self.end_dt
        ]
        for kind, share in (("csat", 0.3), ("ces", 0.2)):
            survey = by_kind.get(kind)
            if not survey:
                continue
            quota = int(target * share / total_share)
            chosen = rng.sample(cands, min(quota, len(cands)))
            chosen.sort(key=lambda c: (c[1], c[0]["id"]))
            for cust, closed, resolution, tid in chosen:
                speed = 1.0 / (1.0 + resolution.total_seconds() / 86400.0)
                x = min(
                    1.0,
                    max(
                        0.0, rng.gauss(0.35 + 0.45 * speed + 0.2 * cust["health"], 0.15)
                    ),
                )
                plan.append(
                    (
                        survey,
                        cust,
                        closed + timedelta(hours=rng.randint(1, 20)),
                        x,
                        "ticket",
                        tid,
                    )
                )
        in_cols = [
            "id",
            "survey_id",
            "partner_id",
            "email",
            "state",
            "access_token",
            "test_entry",
            "scoring_success",
            "survey_first_submitted",
            "is_session_answer",
            "scoring_percentage",
            "scoring_total",
            "start_datetime",
            "end_datetime",
            "create_date",
            "write_date",
            "create_uid",
            "write_uid",
        ]
        line_cols = [
            "id",
            "user_input_id",
            "survey_id",
            "question_id",
            "question_sequence",
            "answer_type",
            "value_scale",
            "value_numerical_box",
            "suggested_answer_id",
            "skipped",
            "answer_is_correct",
            "answer_score",
            "create_date",
            "write_date",
            "create_uid",
            "write_uid",
        ]
        # links added by crm_success_kpi, when present
        input_fields = self.env["survey.user_input"]._fields
        links = [
            f
            for f in ("kpi_company_id", "kpi_order_id", "kpi_ticket_id")
            if f in input_fields
            and input_fields[f].store
            and not input_fields[f].compute
        ]
        # the addon's stored figures of a response, written directly (the
        # same rules as its compute); any other one is computed afterwards
        links += [
            f
            for f in (
                "kpi_survey_type",
                "kpi_partner_id",
                "kpi_has_score",
                "kpi_score",
                "kpi_valid",
                "kpi_nps_category",
            )
            if f in input_fields and input_fields[f].store
        ]
        in_cols += links
        in_out = _Copy(cr, "survey_user_input", in_cols)
        line_out = _Copy(cr, "survey_user_input_line", line_cols, chunk=10**9)
        in_ids = _Ids(cr, "survey_user_input")
        line_ids = _Ids(cr, "survey_user_input_line")
        uid = str(self.uid)
        per_kind = {}
        for k, (survey, cust, when, x, origin, origin_id) in enumerate(plan):
            when = min(when, self.end_dt)
            iid = in_ids.take()
            start = when - timedelta(seconds=rng.randint(20, 600))
            if survey["qtype"] == "simple_choice":
                score = None
            else:
                score = survey["lo"] + int(round(x * (survey["hi"] - survey["lo"])))
            category = NULL
            if score is not None and survey["type"] == "nps":
                category = (
                    "promoter"
                    if score >= 9
                    else "passive"
                    if score >= 7
                    else "detractor"
                )
            extra = {
                "kpi_company_id": str(cust["company"]),
                "kpi_order_id": str(origin_id) if origin == "order" else NULL,
                "kpi_ticket_id": str(origin_id) if origin == "ticket" else NULL,
                "kpi_survey_type": survey["type"],
                "kpi_partner_id": str(cust["id"]),
                "kpi_has_score": _b(score is not None),
                "kpi_score": f"{score or 0}.0",
                "kpi_valid": _b(score is not None),
                "kpi_nps_category": category,
            }
            in_out.add(
                "\t".join(
                    (
                        str(iid),
                        str(survey["survey"]),
                        str(cust["id"]),
                        cust["email"],
                        "done",
                        f"kpigen{self.tag}{self.seed}-{k + 1}",
                        "f",
                        "f",
                        "t",
                        "f",
                        "0.0",
                        "0.0",
                        str(start),
                        str(when),
                        str(start),
                        str(when),
                        uid,
                        uid,
                        *[extra[f] for f in links],
                    )
                )
            )
            scale_v = num_v = sugg = NULL
            if survey["qtype"] == "simple_choice":
                answers = survey["answers"]
                sugg = str(answers[int(round(x * (len(answers) - 1)))])
                atype = "suggestion"
            else:
                if survey["qtype"] == "scale":
                    scale_v, atype = str(score), "scale"
                else:
                    num_v, atype = f"{score}.0", "numerical_box"
            line_out.add(
                "\t".join(
                    (
                        str(line_ids.take()),
                        str(iid),
                        str(survey["survey"]),
                        str(survey["question"]),
                        str(survey["qseq"]),
                        atype,
                        scale_v,
                        num_v,
                        sugg,
                        "f",
                        "f",
                        "0.0",
                        str(when),
                        str(when),
                        uid,
                        uid,
                    )
                )
            )
            per_kind[survey["kind"]] = per_kind.get(survey["kind"], 0) + 1
            if len(in_out.lines) >= in_out.chunk - 10:
                in_out.flush()
                line_out.flush()
        in_out.flush()
        line_out.flush()
        in_ids.close()
        line_ids.close()
        self.written["survey.user_input"] = (in_ids.first, in_ids.next - 1)
        self.sql_written_fields["survey.user_input"] = set(in_cols)
        self.counts["survey_answers"] = in_out.count
        for kind, cnt in sorted(per_kind.items()):
            self.counts[f"survey_answers_{kind}"] = cnt

    # ------------------------------------------------------------ costs
    def _gen_costs(self):
        env = self.env
        if "crm.kpi.cost" not in env:
            _logger.warning("generator: model crm.kpi.cost not found: costs skipped")
            self.counts["costs"] = 0
            self.counts["costs_skipped"] = True
            return
        rng = self.rng("costs")
        Cost = env["crm.kpi.cost"]
        has = Cost._fields
        vals_list = []
        for company in self.companies:
            teams = self.teams[company.id]
            n_users = {}
            for _uid, _p, team in self.sales[company.id]:
                n_users[team] = n_users.get(team, 0) + 1
            for m, ms in enumerate(self.month_starts):
                scale = self.growth[m]
                for team in teams:
                    amount = n_users.get(team.id, 1) * 5200 * rng.uniform(0.95, 1.1)
                    vals_list.append(
                        {
                            "name": "Sales payroll {} {}".format(
                                team.name, ms.strftime("%Y-%m")
                            ),
                            "category": "sales",
                            "team_id": team.id,
                            "amount": round(amount, 2),
                            "date": ms,
                            "company_id": company.id,
                        }
                    )
                vals_list.append(
                    {
                        "name": "Marketing tools {}".format(ms.strftime("%Y-%m")),
                        "category": "marketing",
                        "amount": round(2500 * scale * rng.uniform(0.8, 1.2), 2),
                        "date": ms,
                        "company_id": company.id,
                    }
                )
                for camp in rng.sample(self.campaigns, min(2, len(self.campaigns))):
                    vals_list.append(
                        {
                            "name": "Campaign spend {}".format(ms.strftime("%Y-%m")),
                            "category": "marketing",
                            "campaign_id": camp,
                            "amount": round(rng.uniform(800, 6000) * scale, 2),
                            "date": ms + timedelta(days=rng.randrange(10)),
                            "company_id": company.id,
                        }
                    )
            for vals in vals_list:
                vals.setdefault("currency_id", company.currency_id.id)
        vals_list = [{k: v for k, v in vals.items() if k in has} for vals in vals_list]
        Cost.create(vals_list)
        self.counts["costs"] = len(vals_list)

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


def _cumulate(weights):
    total = 0.0
    for w in weights:
        total += w
        yield total


def _pick(rng, cum):
    """Index drawn from cumulative weights ``cum``."""
    return min(len(cum) - 1, bisect.bisect_right(cum, rng.random() * cum[-1]))
