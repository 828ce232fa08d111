"""Customer value on hand-made customers: the Customers list sorted by
lifetime revenue, the "Top 20 %" filter, RFM quintiles and segments, and
every customer figure kept in step with orders, invoices, refunds,
cancellations, moved contacts, a document's company and partner merges.

Dates are counted back from today (T): the customer status depends on
today (activity window W = 365 days: at risk from 182.5 idle days, lost
from 365, new while the first purchase is less than 90 days old)."""

import ast
from datetime import datetime, time, timedelta

from lxml import etree

from odoo import Command, fields
from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import SQL

from .common import KpiCase

# the ten customers of TestCustomerValue: the days (before today) of their
# orders and the untaxed amount of each order
#
# cust  orders (days ago)          each   revenue  n  first  last  status
# A     700 500 300 100 5          1000   5000     5  700    5     active
# B     10                          100    100     1  10     10    new
# C     400 300 200 30              750   3000     4  400    30    active
# D     60 40                       500   1000     2  60     40    new
# E     300 200 100                 500   1500     3  300    100   active
# F     120                        1000   1000     1  120    120   active
# G     600 500 400 300 200         800   4000     5  600    200   at risk
# H     450 350 250                 800   2400     3  450    250   at risk
# I     400                         200    200     1  400    400   lost
# J     600 500                     500   1000     2  600    500   lost
CUSTOMERS = {
    "A": ((700, 500, 300, 100, 5), 1000.0),
    "B": ((10,), 100.0),
    "C": ((400, 300, 200, 30), 750.0),
    "D": ((60, 40), 500.0),
    "E": ((300, 200, 100), 500.0),
    "F": ((120,), 1000.0),
    "G": ((600, 500, 400, 300, 200), 800.0),
    "H": ((450, 350, 250), 800.0),
    "I": ((400,), 200.0),
    "J": ((600, 500), 500.0),
}

# RFM quintile q = 1 + floor(5 × (customers with a strictly worse value) /
# 10); equal values share the quintile of the first of them.
#
# R (last purchase, oldest first): J 500, I 400, H 250, G 200, F 120,
#   E 100, D 40, C 30, B 10, A 5 → worse-counts 0..9 → J I 1, H G 2, F E 3,
#   D C 4, B A 5.
# F (revenue events): B F I = 1 (0 worse → 1), D J = 2 (3 worse → 2),
#   E H = 3 (5 worse → 3), C = 4 (7 worse → 4), A G = 5 (8 worse → 5).
# M (revenue): B 100 (0 → 1), I 200 (1 → 1), D F J 1000 (2 worse → 2),
#   E 1500 (5 → 3), H 2400 (6 → 4), C 3000 (7 → 4), G 4000 (8 → 5),
#   A 5000 (9 → 5).
# FM = (F + M) / 2 rounded half up; segments from (R, FM):
RFM = {
    #     R  F  M  FM  segment
    "A": (5, 5, 5, "champions"),  # R 5, FM 5
    "B": (5, 1, 1, "new"),  # R 5, FM 1
    "C": (4, 4, 4, "loyal"),  # R 3-4, FM 4
    "D": (4, 2, 2, "potential_loyalist"),  # R 4-5, FM 2
    "E": (3, 3, 3, "need_attention"),  # R 3, FM 3
    "F": (3, 1, 2, "about_to_sleep"),  # R 3, FM (1 + 2) / 2 → 2
    "G": (2, 5, 5, "cant_lose"),  # R 1-2, FM 5
    "H": (2, 3, 4, "at_risk"),  # R 1-2, FM (3 + 4) / 2 → 4
    "I": (1, 1, 1, "lost"),  # R 1, FM 1
    "J": (1, 2, 2, "hibernating"),  # R 1, FM 2
}
STATUS = {
    "A": "active",
    "B": "new",
    "C": "active",
    "D": "new",
    "E": "active",
    "F": "active",
    "G": "at_risk",
    "H": "at_risk",
    "I": "lost",
    "J": "lost",
}

FIELDS = [
    "kpi_lifetime_revenue",
    "kpi_order_count",
    "kpi_first_purchase_date",
    "kpi_last_purchase_date",
    "kpi_average_order_value",
    "kpi_purchase_frequency",
    "kpi_customer_status",
    "kpi_predicted_clv",
    "kpi_revenue_rank",
    "kpi_top_customer",
    "kpi_rfm_recency",
    "kpi_rfm_frequency",
    "kpi_rfm_monetary",
    "kpi_rfm_score",
    "kpi_rfm_segment",
]


class CustomerValueCase(KpiCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # today as the figures see it (in the user's timezone) and the days
        # of the orders (in the company's, UTC) agree
        cls.env = cls.env(context=dict(cls.env.context, tz="UTC"))
        cls.today = fields.Date.context_today(cls.env["res.partner"])

    @classmethod
    def ago(cls, days):
        return cls.today - timedelta(days=days)

    def figures(self, partner):
        """The customer figures of ``partner`` as read from a fresh cache."""
        partner.invalidate_recordset()
        return (
            partner.kpi_lifetime_revenue,
            partner.kpi_order_count,
            partner.kpi_first_purchase_date,
            partner.kpi_last_purchase_date,
            partner.kpi_average_order_value,
            partner.kpi_customer_status,
        )

    def assertFigures(self, partner, revenue, count, first, last, status):
        aov = revenue / count if count else 0.0
        first = self.ago(first) if first is not None else False
        last = self.ago(last) if last is not None else False
        got = self.figures(partner)
        self.assertAlmostEqual(got[0], revenue, 2, f"{partner.name}: revenue")
        self.assertEqual(got[1], count, f"{partner.name}: events")
        self.assertEqual(got[2:4], (first, last), f"{partner.name}: first, last")
        self.assertAlmostEqual(got[4], aov, 2, f"{partner.name}: average order")
        self.assertEqual(got[5], status, f"{partner.name}: status")


@tagged("post_install", "-at_install")
class TestCustomerValue(CustomerValueCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.c = {}
        specs = []
        for letter, (days, amount) in CUSTOMERS.items():
            cls.c[letter] = cls.env["res.partner"].create(
                {"name": f"Value {letter}", "is_company": True, "customer_rank": 1}
            )
            specs += [
                {"partner": cls.c[letter], "date": cls.ago(d), "amount": amount}
                for d in days
            ]
        cls.make_orders(specs)
        # a prospect without purchase and a contact of A
        cls.prospect = cls.env["res.partner"].create(
            {"name": "Value Z", "is_company": True, "customer_rank": 1}
        )
        cls.contact = cls.env["res.partner"].create(
            {"name": "Value A contact", "parent_id": cls.c["A"].id}
        )
        cls.all = cls.env["res.partner"].browse(
            [p.id for p in cls.c.values()] + [cls.prospect.id]
        )

    def letters(self, partners):
        return [p.name.removeprefix("Value ") for p in partners]

    def test_figures(self):
        for letter, (days, amount) in CUSTOMERS.items():
            with self.subTest(customer=letter):
                self.assertFigures(
                    self.c[letter],
                    amount * len(days),
                    len(days),
                    max(days),
                    min(days),
                    STATUS[letter],
                )
        self.assertFigures(self.prospect, 0.0, 0, None, None, "prospect")
        # a contact shows the figures of its company
        self.assertFigures(self.contact, 5000.0, 5, 700, 5, "active")
        # 5 events since 700 days: 5 / (700 / 365) a year
        self.assertAlmostEqual(
            self.c["A"].kpi_purchase_frequency, 5 * 365 / 700, places=4
        )
        # 1 event 10 days ago: counted over one year at least
        self.assertAlmostEqual(self.c["B"].kpi_purchase_frequency, 1.0, places=4)

    def test_customers_list_sorted_by_revenue(self):
        """Revenue: A 5000, G 4000, C 3000, H 2400, E 1500, D = F = J 1000
        (by id), I 200, B 100, Z (prospect) 0."""
        expected = ["A", "G", "C", "H", "E", "D", "F", "J", "I", "B", "Z"]
        view = self.env.ref("crm_success_kpi.res_partner_view_list_kpi_customers")
        action = self.env.ref("crm_success_kpi.crm_kpi_customers_action")
        self.assertEqual(action.view_id, view)
        arch = etree.fromstring(
            self.env["res.partner"]
            .with_user(self.manager)
            .get_view(view.id, "list")["arch"]
        )
        order = arch.get("default_order")
        self.assertEqual(order, "kpi_lifetime_revenue desc, id")
        Partner = self.env["res.partner"]
        found = Partner.search([("id", "in", self.all.ids)], order=order)
        self.assertEqual(self.letters(found), expected)
        found = Partner.search(
            [("id", "in", self.all.ids)], order="kpi_lifetime_revenue desc"
        )
        self.assertEqual(self.letters(found)[:5], expected[:5])
        found = Partner.search(
            [("id", "in", self.all.ids)], order="kpi_lifetime_revenue asc, id desc"
        )
        self.assertEqual(self.letters(found), expected[::-1])
        # by events, then revenue: A G (5) C (4) H E (3) D J (2) B F I (1)
        found = Partner.search(
            [("id", "in", self.all.ids)],
            order="kpi_order_count desc, kpi_lifetime_revenue desc, id",
        )
        self.assertEqual(
            self.letters(found), ["A", "G", "C", "H", "E", "D", "J", "F", "I", "B", "Z"]
        )
        # the list's columns can be sorted and grouped from the web client
        desc = Partner.fields_get(
            ["kpi_lifetime_revenue", "kpi_rfm_segment", "kpi_customer_status"],
            ["sortable", "groupable"],
        )
        for name, attrs in desc.items():
            self.assertTrue(attrs["sortable"], name)
            self.assertTrue(attrs["groupable"], name)

    def test_top_20_filter(self):
        """10 customers: the first ceil(20 % × 10) = 2 by revenue, A and G;
        the prospect has no rank.  An 11th customer makes it 3: A, G, C."""
        search_view = (
            self.env["res.partner"].with_user(self.manager).get_view(view_type="search")
        )
        arch = etree.fromstring(search_view["arch"])
        (node,) = arch.xpath("//filter[@name='kpi_top_customers']")
        domain = [("id", "in", self.all.ids), *ast.literal_eval(node.get("domain"))]
        Partner = self.env["res.partner"]
        found = Partner.search(domain, order="kpi_lifetime_revenue desc, id")
        self.assertEqual(self.letters(found), ["A", "G"])
        self.assertEqual(
            [self.c[x].kpi_revenue_rank for x in "AGCHEDFJIB"], list(range(1, 11))
        )
        self.assertEqual(self.prospect.kpi_revenue_rank, 0)
        self.assertFalse(self.prospect.kpi_top_customer)
        self.assertEqual(
            Partner.search_count(
                [("id", "in", self.all.ids), ("kpi_top_customer", "=", False)]
            ),
            9,
        )
        # with "Customers at risk": G, the valuable customer at risk
        found = Partner.search(domain + [("kpi_customer_status", "=", "at_risk")])
        self.assertEqual(self.letters(found), ["G"])
        # an 11th customer (50 today): ceil(20 % × 11) = 3
        k = self.make_customers(1, "Eleventh")
        self.make_orders([{"partner": k, "date": self.today, "amount": 50.0}])
        found = Partner.search(domain, order="kpi_lifetime_revenue desc, id")
        self.assertEqual(self.letters(found), ["A", "G", "C"])

    def test_rfm(self):
        for letter, (r, f, m, segment) in RFM.items():
            partner = self.c[letter]
            with self.subTest(customer=letter):
                self.assertEqual(
                    (
                        partner.kpi_rfm_recency,
                        partner.kpi_rfm_frequency,
                        partner.kpi_rfm_monetary,
                        partner.kpi_rfm_score,
                        partner.kpi_rfm_segment,
                    ),
                    (r, f, m, f"{r}{f}{m}", segment),
                )
        self.assertEqual(
            (
                self.prospect.kpi_rfm_recency,
                self.prospect.kpi_rfm_score,
                self.prospect.kpi_rfm_segment,
            ),
            (0, False, False),
        )
        # the contact of A shares its company's segment
        self.assertEqual(self.contact.kpi_rfm_segment, "champions")
        Partner = self.env["res.partner"]
        found = Partner.search(
            [
                ("id", "in", self.all.ids),
                ("kpi_rfm_segment", "in", ["lost", "hibernating"]),
            ]
        )
        self.assertEqual(sorted(self.letters(found)), ["I", "J"])
        found = Partner.search(
            [("id", "in", self.all.ids), ("kpi_rfm_recency", ">=", 4)]
        )
        self.assertEqual(sorted(self.letters(found)), ["A", "B", "C", "D"])

    def test_ranks_read_as_searched(self):
        """Reading ranks whatever records are read together (a list's page, a
        form's one record) gives each customer the ranks over all the
        customers that searching and sorting by them use: one customer alone
        (F, whose revenue of 1000 D and J share), all, every third, and the
        three of equal revenue."""
        Stat = self.env["crm.kpi.customer.stat"]

        def ranks(partner_ids=None):
            rows = self.env.execute_query(
                SQL(
                    "SELECT partner_id, r, f, m, revenue_rank, customers"
                    " FROM (%s) ranked",
                    Stat._kpi_ranked_sql(partner_ids),
                )
            )
            return {row[0]: row[1:] for row in rows}

        every = ranks()
        customers = [p.id for p in self.c.values()]
        pages = [[pid] for pid in customers] + [customers, customers[::3]]
        pages.append([self.c[x].id for x in "DFJ"])
        for page in pages:
            with self.subTest(page=self.letters(self.c["A"].browse(page))):
                self.assertEqual(ranks(page), {pid: every[pid] for pid in page})
        # F ranks 7th: A G C H E, then D F J (1000) by id
        self.assertEqual(every[self.c["F"].id][3], 7)
        # the fields read one by one and all together agree with the order
        # of a search by the revenue rank
        Partner = self.env["res.partner"]
        found = Partner.search([("id", "in", customers)], order="kpi_revenue_rank")
        self.assertEqual(self.letters(found), list("AGCHEDFJIB"))
        for partner in self.c.values():
            partner.invalidate_recordset()
            alone = partner.browse(partner.id).kpi_revenue_rank
            self.assertEqual(alone, found.ids.index(partner.id) + 1, partner.name)

    def test_search_operators(self):
        Partner = self.env["res.partner"]

        def find(*domain):
            found = Partner.search([("id", "in", self.all.ids), *domain])
            return sorted(self.letters(found))

        self.assertEqual(find(("kpi_order_count", ">=", 3)), list("ACEGH"))
        self.assertEqual(find(("kpi_order_count", "=", 2)), list("DJ"))
        self.assertEqual(find(("kpi_order_count", "=", 0)), ["Z"])
        self.assertEqual(find(("kpi_order_count", "!=", 1)), list("ACDEGHJZ"))
        self.assertEqual(find(("kpi_order_count", "in", [1, 4])), list("BCFI"))
        self.assertEqual(find(("kpi_lifetime_revenue", ">", 1000)), list("ACEGH"))
        self.assertEqual(find(("kpi_lifetime_revenue", "=", 1000)), list("DFJ"))
        self.assertEqual(find(("kpi_lifetime_revenue", "<", 500)), list("BIZ"))
        self.assertEqual(
            find(("kpi_last_purchase_date", ">=", self.ago(40))), list("ABCD")
        )
        self.assertEqual(find(("kpi_first_purchase_date", "=", False)), ["Z"])
        self.assertEqual(
            find(("kpi_customer_status", "in", ["at_risk", "lost"])), list("GHIJ")
        )
        self.assertEqual(find(("kpi_customer_status", "=", "prospect")), ["Z"])
        self.assertEqual(find(("kpi_customer_status", "!=", "active")), list("BDGHIJZ"))
        self.assertEqual(find(("kpi_average_order_value", ">=", 800)), list("AFGH"))
        # a contact is found through its company's figures
        found = Partner.search(
            [("id", "=", self.contact.id), ("kpi_order_count", "=", 5)]
        )
        self.assertEqual(found, self.contact)

    def test_read_group(self):
        Partner = self.env["res.partner"]
        groups = Partner.formatted_read_group(
            [("id", "in", self.all.ids)], ["kpi_rfm_segment"], ["__count"]
        )
        counts = {g["kpi_rfm_segment"]: g["__count"] for g in groups}
        expected = {segment: 1 for _r, _f, _m, segment in RFM.values()}
        expected[False] = 1  # the prospect
        self.assertEqual(counts, expected)
        # statuses: active A C E F (5000 + 3000 + 1500 + 1000), new B D
        # (100 + 1000), at risk G H (4000 + 2400), lost I J (200 + 1000)
        groups = Partner.formatted_read_group(
            [("id", "in", self.all.ids)],
            ["kpi_customer_status"],
            ["__count", "kpi_lifetime_revenue:sum"],
        )
        got = {
            g["kpi_customer_status"]: (g["__count"], g["kpi_lifetime_revenue:sum"])
            for g in groups
        }
        self.assertEqual(
            got,
            {
                "active": (4, 10500.0),
                "new": (2, 1100.0),
                "at_risk": (2, 6400.0),
                "lost": (2, 1200.0),
                "prospect": (1, 0.0),
            },
        )

    def test_query_count(self):
        """Reading every customer field costs the same number of queries for
        80 partners as for 10."""
        extra = self.env["res.partner"].create(
            [
                {"name": f"Value contact {i}", "parent_id": self.c["C"].id}
                for i in range(69)
            ]
        )
        partners = self.all | extra
        self.assertEqual(len(partners), 80)

        def count(records):
            self.env.invalidate_all()
            records = records.browse(records.ids)
            before = self.cr.sql_log_count
            records.read(FIELDS)
            return self.cr.sql_log_count - before

        count(partners[:10])  # warm the caches
        small = count(partners[:10])
        large = count(partners)
        self.assertEqual(small, large)
        self.assertLessEqual(large, 8)
        values = {r["id"]: r for r in partners.read(FIELDS)}
        self.assertEqual(values[extra[-1].id]["kpi_lifetime_revenue"], 3000.0)
        self.assertEqual(values[extra[-1].id]["kpi_rfm_segment"], "loyal")

        # the list as the web client loads it, sorted by lifetime revenue,
        # with every KPI field of the partner, as the manager
        Partner = self.env["res.partner"].with_user(self.manager)
        spec = {"display_name": {}}
        spec.update(
            {
                name: {"fields": {"display_name": {}}} if f.type == "many2one" else {}
                for name, f in Partner._fields.items()
                if name.startswith("kpi_") and f.type not in ("one2many", "many2many")
            }
        )
        domain = [("id", "in", partners.ids)]

        def count_list(limit):
            self.env.invalidate_all()
            before = self.cr.sql_log_count
            data = Partner.web_search_read(
                domain, spec, order="kpi_lifetime_revenue desc, id", limit=limit
            )
            return self.cr.sql_log_count - before, data["records"]

        count_list(10)  # warm the caches
        small, records = count_list(10)
        self.assertEqual(records[0]["id"], self.c["A"].id)
        large, records = count_list(80)
        self.assertEqual(len(records), 80)
        self.assertEqual(small, large)

    def test_stat_rows(self):
        """One row per customer and company, the events of the company."""
        Stat = self.env["crm.kpi.customer.stat"]
        rows = Stat.search([("company_id", "=", self.company.id)])
        self.assertEqual(len(rows), 10)
        row = rows.filtered(lambda r: r.partner_id == self.c["G"])
        self.assertEqual(
            (row.order_count, row.revenue, row.first_date, row.last_date),
            (5, 4000.0, self.ago(600), self.ago(200)),
        )


@tagged("post_install", "-at_install")
class TestCustomerFiguresInStep(CustomerValueCase):
    """P, a company with a contact P1; Q another company.

    - o1: P1, 1000, 100 days ago; o2: P, 500, 20 days ago (salesman);
    - o3: P, 300, 50 days ago, by the manager (another salesperson).
    P: 1800 in 3 events, first 100, last 20 days ago, active."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.p, cls.q = cls.make_customers(2, "Step")
        cls.p1 = cls.env["res.partner"].create(
            {"name": "Step P1", "parent_id": cls.p.id}
        )
        cls.o1, cls.o2, cls.o3 = cls.make_orders(
            [
                {"partner": cls.p1, "date": cls.ago(100), "amount": 1000.0},
                {"partner": cls.p, "date": cls.ago(20), "amount": 500.0},
                {
                    "partner": cls.p,
                    "date": cls.ago(50),
                    "amount": 300.0,
                    "user": cls.manager,
                },
            ]
        )

    def test_initial(self):
        self.assertFigures(self.p, 1800.0, 3, 100, 20, "active")
        self.assertFigures(self.p1, 1800.0, 3, 100, 20, "active")
        self.assertFigures(self.q, 0.0, 0, None, None, "prospect")

    def test_confirm_cancel_draft(self):
        # o2 cancelled: 1300 in 2 events, last 50 days ago
        self.o2._action_cancel()
        self.assertFigures(self.p, 1300.0, 2, 100, 50, "active")
        # back to quotation: still not revenue
        self.o2.action_draft()
        self.assertFigures(self.p, 1300.0, 2, 100, 50, "active")
        # confirmed again: today's order
        self.o2.action_confirm()
        self.assertEqual(self.o2.date_order.date(), fields.Date.today())
        self.assertFigures(self.p, 1800.0, 3, 100, 0, "active")
        # a new order of 200 confirmed for Q: his first, today
        order = self.make_orders(
            [{"partner": self.q, "date": self.today, "amount": 200.0}]
        )
        self.assertFigures(self.q, 200.0, 1, 0, 0, "new")
        # a line's price changes on the confirmed order: 200 → 250
        order.order_line.price_unit = 250.0
        self.assertFigures(self.q, 250.0, 1, 0, 0, "new")
        # the order is deleted after cancellation
        order._action_cancel()
        order.unlink()
        self.assertFigures(self.q, 0.0, 0, None, None, "prospect")

    def test_dates(self):
        # o1 now 400 days ago: first purchase moves, status unchanged
        self.o1.date_order = datetime.combine(self.ago(400), time(12))
        self.assertFigures(self.p, 1800.0, 3, 400, 20, "active")
        # all orders older than half the window: at risk
        (self.o2 | self.o3).write(
            {"date_order": datetime.combine(self.ago(200), time(12))}
        )
        self.assertFigures(self.p, 1800.0, 3, 400, 200, "at_risk")
        self.company.kpi_activity_window_days = 180
        self.assertFigures(self.p, 1800.0, 3, 400, 200, "lost")

    def test_contact_moved(self):
        """P1 (o1) moves to Q: P keeps o2 and o3 (800, first 50 days ago,
        new); Q gets o1 (1000, 100 days ago)."""
        self.p1.parent_id = self.q
        self.assertFigures(self.p, 800.0, 2, 50, 20, "new")
        self.assertFigures(self.q, 1000.0, 1, 100, 100, "active")
        self.assertFigures(self.p1, 1000.0, 1, 100, 100, "active")
        # P1 becomes a company of its own
        self.p1.write({"parent_id": False, "is_company": True})
        self.assertFigures(self.q, 0.0, 0, None, None, "prospect")
        self.assertFigures(self.p1, 1000.0, 1, 100, 100, "active")

    def test_order_moved_to_another_customer(self):
        """o3 (300, 50 days ago) is given to Q: P keeps o1 and o2 (1500 in
        2 events, first 100, last 20 days ago); Q has 300, bought 50 days
        ago (new).  P's figures are read first: the move must recompute a
        customer whose figures are already stored."""
        self.assertFigures(self.p, 1800.0, 3, 100, 20, "active")
        self.o3.partner_id = self.q
        self.assertFigures(self.p, 1500.0, 2, 100, 20, "active")
        self.assertFigures(self.q, 300.0, 1, 50, 50, "new")

    def test_merge(self):
        """P (with P1) merged into Q: Q has the three orders."""
        Stat = self.env["crm.kpi.customer.stat"]
        self.make_orders([{"partner": self.q, "date": self.ago(10), "amount": 100.0}])
        self.assertFigures(self.q, 100.0, 1, 10, 10, "new")
        wizard = self.env["base.partner.merge.automatic.wizard"]
        wizard._merge((self.p | self.q).ids, self.q)
        self.assertFalse(self.p.exists())
        self.assertFigures(self.q, 1900.0, 4, 100, 10, "active")
        self.assertFigures(self.p1, 1900.0, 4, 100, 10, "active")
        rows = Stat.search([("company_id", "=", self.company.id)])
        self.assertEqual(rows.partner_id, self.q)
        self.assertEqual((rows.order_count, rows.revenue), (4, 1900.0))

    def test_document_company_changes(self):
        """o4 (300, 50 days ago, by the manager) moves to company B: A keeps
        o1 o2 o3 (1800 in 3 events); B has 300, first bought 50 days ago
        (new); both companies allowed: 2100 in 4 events."""
        company_b, o4 = self.make_movable_order(
            self.p,
            self.manager,
            300.0,
            datetime.combine(self.ago(50), time(12)),
            "KPI Step Co B",
        )
        self.assertFigures(self.p, 2100.0, 4, 100, 20, "active")
        o4.with_company(company_b).write({"company_id": company_b.id})
        self.assertFigures(self.p, 1800.0, 3, 100, 20, "active")
        in_b = self.p.with_context(allowed_company_ids=company_b.ids)
        self.assertFigures(in_b, 300.0, 1, 50, 50, "new")
        both = self.p.with_context(allowed_company_ids=[self.company.id, company_b.id])
        self.assertFigures(both, 2100.0, 4, 100, 20, "active")
        # the stat rows follow the company rule: the manager of A sees A's
        Stat = self.env["crm.kpi.customer.stat"]
        row_b = Stat.search([("company_id", "=", company_b.id)])
        self.assertEqual((row_b.partner_id, row_b.revenue), (self.p, 300.0))
        as_manager = Stat.with_user(self.manager).with_context(
            allowed_company_ids=self.company.ids
        )
        rows = as_manager.search([("partner_id", "=", self.p.id)])
        self.assertEqual(rows.company_id, self.company)
        self.assertEqual(rows.revenue, 1800.0)
        with self.assertRaises(AccessError):
            as_manager.browse(row_b.id).read(["revenue"])
        # a salesperson who sees his own documents cannot read the rows
        with self.assertRaises(AccessError):
            Stat.with_user(self.salesman).search([])

    def test_salesperson_sees_own_orders(self):
        """The salesman sold o1 and o2 (1500), the manager o3 (300)."""
        as_salesman = self.p.with_user(self.salesman)
        self.assertFigures(as_salesman, 1500.0, 2, 100, 20, "active")
        Partner = self.env["res.partner"].with_user(self.salesman)
        self.assertEqual(
            Partner.search(
                [("id", "=", self.p.id), ("kpi_lifetime_revenue", "=", 1500)]
            ),
            self.p,
        )
        self.assertFalse(
            Partner.search(
                [("id", "=", self.p.id), ("kpi_lifetime_revenue", "=", 1800)]
            )
        )
        # the manager reads them all
        self.assertFigures(self.p.with_user(self.manager), 1800.0, 3, 100, 20, "active")


@tagged("post_install", "-at_install")
class TestCustomerFiguresFromInvoices(CustomerValueCase):
    """A company that counts its revenue from posted customer invoices and
    refunds (generic chart of accounts)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["account.chart.template"].try_loading(
            "generic_coa", company=cls.company, install_demo=False
        )
        cls.company.kpi_revenue_source = "invoice"
        # two individuals (the merge writes no company flag on them)
        cls.p, cls.q = cls.env["res.partner"].create(
            [{"name": "Invoiced P"}, {"name": "Invoiced Q"}]
        )

    def invoice(self, partner, amount, days, move_type="out_invoice"):
        move = (
            self.env["account.move"]
            .with_company(self.company)
            .create(
                {
                    "move_type": move_type,
                    "partner_id": partner.id,
                    "invoice_date": self.ago(days),
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": "Widget",
                                "quantity": 1,
                                "price_unit": amount,
                                "tax_ids": [Command.clear()],
                            }
                        )
                    ],
                }
            )
        )
        return move

    def test_invoice_refund_draft(self):
        # a sale order is no revenue event here
        self.make_orders([{"partner": self.p, "date": self.ago(5), "amount": 999.0}])
        self.assertFigures(self.p, 0.0, 0, None, None, "prospect")
        inv = self.invoice(self.p, 1000.0, 100)
        self.assertFigures(self.p, 0.0, 0, None, None, "prospect")
        inv.action_post()
        self.assertFigures(self.p, 1000.0, 1, 100, 100, "active")
        # a refund of 400, 30 days ago: 600 in 2 events
        refund = self.invoice(self.p, 400.0, 30, "out_refund")
        refund.action_post()
        self.assertFigures(self.p, 600.0, 2, 100, 30, "active")
        # the invoice back to draft: only the refund is left
        inv.button_draft()
        self.assertFigures(self.p, -400.0, 1, 30, 30, "new")
        inv.action_post()
        refund.button_draft()
        refund.button_cancel()
        self.assertFigures(self.p, 1000.0, 1, 100, 100, "active")
        # back to sale orders: the order of 999, 5 days ago
        self.company.kpi_revenue_source = "order"
        self.assertFigures(self.p, 999.0, 1, 5, 5, "new")

    def test_merge(self):
        """P (1000, 100 days ago) merged into Q (200, 10 days ago)."""
        self.invoice(self.p, 1000.0, 100).action_post()
        self.invoice(self.q, 200.0, 10).action_post()
        # the figures are up to date before the merge
        self.assertFigures(self.p, 1000.0, 1, 100, 100, "active")
        self.assertFigures(self.q, 200.0, 1, 10, 10, "new")
        self.env["base.partner.merge.automatic.wizard"]._merge(
            (self.p | self.q).ids, self.q
        )
        self.assertFigures(self.q, 1200.0, 2, 100, 10, "active")
