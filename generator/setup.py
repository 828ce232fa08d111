# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Master data of the generated history: calendar, currencies and rates,
products, UTM records, sales and helpdesk teams with their users, and the
bulk-load mode.
"""

import bisect
import calendar
from datetime import date, datetime, timedelta

from odoo.tools import SQL

from .common import (
    CAMPAIGNS,
    CHANNELS,
    COUNTRIES,
    FIRST,
    LAST,
    PRODUCTS,
    _add_months,
    _cumulate,
    _logger,
    _txt,
)


class _SetupMixin:
    """Part of the history generator (:class:`.history._Generator`)."""

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
        # nothing happens after the moment of generation: the end of the
        # end date, or now when the history ends today
        day_end = datetime(end.year, end.month, end.day, 23, 59, 59)
        now = self.now or day_end
        self.end_dt = max(self.start_dt, min(day_end, now.replace(microsecond=0)))
        self.month_dt = [datetime(d.year, d.month, 1) for d in self.month_starts]
        # share of the last month already elapsed: its volume is that share
        # of a whole month's, so the current month keeps the daily pace
        last = self.month_starts[-1]
        full = calendar.monthrange(last.year, last.month)[1] * 86400
        elapsed = (self.end_dt - self.month_dt[-1]).total_seconds() + 1
        self.month_frac = [1.0] * (self.months - 1)
        self.month_frac.append(min(1.0, max(0.0, elapsed / full)))
        # growth + seasonality of new business per month (flat: the same
        # volume every month)
        weights = []
        for i, ms in enumerate(self.month_starts):
            if self.growth_mode == "flat":
                weights.append(self.month_frac[i])
                continue
            season = {1: 0.9, 7: 0.85, 8: 0.75, 12: 0.8}.get(ms.month, 1.0)
            weights.append((1.025**i) * season * self.month_frac[i])
        self.growth = weights
        self.growth_cum = list(_cumulate(weights))

    def flat_share(self, total):
        """``total`` spread over the months at the same daily pace (the
        current month: its elapsed share), for the flat growth."""
        whole = sum(self.month_frac)
        return [total * f / whole if whole else 0.0 for f in self.month_frac]

    def rand_dt(self, rng, month):
        """Random business-hour datetime in month index ``month``, before
        the moment of generation (``end_dt``)."""
        start = self.month_dt[month]
        if month < self.months - 1:
            return start + timedelta(
                days=rng.randrange(self.month_days[month]),
                seconds=rng.randrange(8 * 3600, 19 * 3600),
            )
        for _attempt in range(20):
            when = start + timedelta(
                days=rng.randrange(self.month_days[month]),
                seconds=rng.randrange(8 * 3600, 19 * 3600),
            )
            if when <= self.end_dt:
                return when
        # early in the day or the month: any time elapsed so far
        span = int((self.end_dt - start).total_seconds())
        return start + timedelta(seconds=rng.randrange(span + 1))

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
