from datetime import datetime

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged, users

from ..kpi import base as kpi_base
from .common import D, KpiCase


@tagged("post_install", "-at_install")
class TestEngine(KpiCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customers = cls.make_customers(80)
        cls.make_orders(
            [
                {
                    "partner": p,
                    "date": D(2026, 10, 1 + i % 28),
                    "amount": 10.0 * (i + 1),
                }
                for i, p in enumerate(cls.customers)
            ]
        )
        cls.make_leads(
            [
                {
                    "created": datetime(2026, 10, 2),
                    "status": "won",
                    "closed": datetime(2026, 10, 9),
                }
            ]
        )

    def test_query_count_does_not_grow_with_data(self):
        """Computing a period costs the same number of queries for 10 or 80
        customers, one salesperson or three."""
        self.compute("month", D(2026, 10, 1))  # warm caches
        self.env.invalidate_all()
        before = self.cr.sql_log_count
        self.compute("month", D(2026, 10, 1))
        small = self.cr.sql_log_count - before
        # more customers, in more scopes
        others = self.make_customers(40, "More")
        extra_user = self.salesman.copy({"login": "kpi_extra_salesman"})
        self.make_orders(
            [
                {
                    "partner": p,
                    "date": D(2026, 10, 3),
                    "user": extra_user,
                    "team": self.team_b,
                }
                for p in others
            ]
        )
        self.env.flush_all()
        # creating a user clears the registry caches: warm them up again
        self.compute("month", D(2026, 9, 1))
        self.env.invalidate_all()
        before = self.cr.sql_log_count
        self.compute("month", D(2026, 10, 1))
        large = self.cr.sql_log_count - before
        self.assertEqual(small, large)
        # 55: the status of the values (read, write) and the alerts (read,
        # write) run even when nothing changed, so the count stays constant;
        # the cohorts add their read, delete and insert
        self.assertLess(small, 55)

    def test_rerun_is_idempotent(self):
        first = self.compute("month", D(2026, 10, 1))
        values = {(v.snapshot_id.id, v.kpi_code): v.value for v in first.value_ids}
        second = self.compute("month", D(2026, 10, 1))
        self.assertEqual(first, second)
        self.assertEqual(
            values, {(v.snapshot_id.id, v.kpi_code): v.value for v in second.value_ids}
        )
        count = self.env["crm.kpi.snapshot"].search_count(
            [
                ("company_id", "=", self.company.id),
                ("granularity", "=", "month"),
                ("date_start", "=", D(2026, 10, 1)),
            ]
        )
        self.assertEqual(count, len(first))

    def test_recompute_writes_only_changed_values(self):
        """A period computed again rewrites only the values that changed
        (the others keep their row version); every value shows the time of
        its snapshot's last computation."""
        snaps = self.compute("month", D(2026, 10, 1))
        company = snaps.filtered(lambda s: s.scope == "company")

        def versions():
            self.env.flush_all()
            self.cr.execute(
                "SELECT kpi_code, ctid::text FROM crm_kpi_value WHERE snapshot_id = %s",
                [company.id],
            )
            return dict(self.cr.fetchall())

        before = versions()
        self.compute("month", D(2026, 10, 1))
        self.assertEqual(versions(), before)
        # one order of October moves to September: the revenue changes, the
        # deals won (from leads) do not
        self.env["sale.order"].search(
            [("company_id", "=", self.company.id), ("state", "=", "sale")],
            limit=1,
        ).write({"date_order": datetime(2026, 9, 15, 12, 0)})
        self.compute("month", D(2026, 10, 1))
        after = versions()
        self.assertEqual(set(after), set(before))
        self.assertNotEqual(after["revenue"], before["revenue"])
        self.assertEqual(after["deals_won"], before["deals_won"])
        values = company.value_ids
        self.assertEqual(set(values.mapped("computed_at")), {company.computed_at})

    def test_upsert_round_trips_every_value(self):
        """The upsert sends its rows as JSON: numbers, text with quotes and
        non-Latin letters, dates, datetimes, NULL, NaN and infinities come
        back as given, and a second upsert updates the same rows."""
        snapshot = self.compute("month", D(2026, 10, 1))[0]
        kpis = self.env["crm.kpi.definition"].search([], limit=4, order="id")
        stamp = datetime(2026, 11, 3, 4, 5, 6, 789000)

        def row(kpi, value, note):
            return {
                "snapshot_id": snapshot.id,
                "kpi_id": kpi.id,
                "kpi_code": kpi.code,
                "area": kpi.area,
                "unit": kpi.unit,
                "value": value,
                "numerator": value,
                "denominator": None,
                "note": note,
                "granularity": "month",
                "date_start": D(2026, 10, 1),
                "date_end": D(2026, 11, 1),
                "company_id": self.company.id,
                "scope": snapshot.scope,
                "write_date": stamp,
            }

        given = [
            (0.1 + 0.2, 'l\'"écart" \\ مشتری'),
            (float("nan"), None),
            (float("inf"), "∞"),
            (-1e-300, ""),
        ]
        rows = [row(k, v, n) for k, (v, n) in zip(kpis, given, strict=True)]
        first = kpi_base.upsert(
            self.cr, "crm_kpi_value", rows, ("snapshot_id", "kpi_id")
        )
        again = kpi_base.upsert(
            self.cr, "crm_kpi_value", rows, ("snapshot_id", "kpi_id")
        )
        self.assertEqual(first, again)
        self.cr.execute(
            """SELECT value::text, note, date_start, write_date, denominator
                 FROM crm_kpi_value WHERE id = ANY(%s) ORDER BY kpi_id""",
            [[r[0] for r in first]],
        )
        self.assertEqual(
            self.cr.fetchall(),
            [
                (repr(0.1 + 0.2), given[0][1], D(2026, 10, 1), stamp, None),
                ("NaN", None, D(2026, 10, 1), stamp, None),
                ("Infinity", "∞", D(2026, 10, 1), stamp, None),
                (repr(-1e-300), "", D(2026, 10, 1), stamp, None),
            ],
        )

    def test_stale_scope_removed(self):
        """A salesperson who no longer has data in the period loses his
        snapshot when the period is recomputed."""
        snaps = self.compute("month", D(2026, 10, 1))
        self.assertTrue(snaps.filtered(lambda s: s.scope == "user"))
        self.env["sale.order"].search([("company_id", "=", self.company.id)]).write(
            {"user_id": False}
        )
        self.env["crm.lead"].with_context(active_test=False).search(
            [("company_id", "=", self.company.id)]
        ).write({"user_id": False})
        snaps = self.compute("month", D(2026, 10, 1))
        self.assertFalse(snaps.filtered(lambda s: s.scope == "user"))
        self.assertFalse(
            self.env["crm.kpi.snapshot"].search(
                [("company_id", "=", self.company.id), ("scope", "=", "user")]
            )
        )

    def test_bad_granularity(self):
        with self.assertRaisesRegex(UserError, "Unknown period granularity"):
            self.compute("fortnight", D(2026, 10, 1))

    def test_window_setting_validation(self):
        with self.assertRaisesRegex(ValidationError, "at least 31 days"):
            self.company.kpi_activity_window_days = 30
        with self.assertRaises(ValidationError):
            self.company.kpi_activity_window_days = -5

    def test_backfill_resumes(self):
        backfill = self.env["crm.kpi.backfill"].create(
            {
                "date_from": D(2026, 7, 1),
                "date_to": D(2026, 10, 31),
                "granularities": "month,quarter",
                "company_ids": [(6, 0, self.company.ids)],
            }
        )
        # 4 months + 2 quarters
        self.assertEqual(backfill.total, 6)
        tasks = backfill._tasks()
        # an interrupted run: the first three periods were processed
        self.Snapshot._run_tasks(tasks[:3], commit=False)
        backfill.position = 3
        backfill.action_run()
        self.assertEqual(backfill.state, "done")
        self.assertEqual(backfill.position, 6)
        snaps = self.env["crm.kpi.snapshot"].search(
            [("company_id", "=", self.company.id), ("scope", "=", "company")]
        )
        keys = [(s.granularity, s.date_start) for s in snaps]
        self.assertEqual(len(keys), len(set(keys)), "one snapshot per period and scope")
        self.assertEqual(len(keys), 6)
        october = snaps.filtered(
            lambda s: s.granularity == "month" and s.date_start == D(2026, 10, 1)
        )
        self.assertAlmostEqual(
            october.value_ids.filtered(lambda v: v.kpi_code == "revenue").value,
            sum(10.0 * (i + 1) for i in range(80)),
        )

    def test_backfill_bad_input(self):
        with self.assertRaisesRegex(ValidationError, "before its start"):
            self.env["crm.kpi.backfill"].create(
                {"date_from": D(2026, 7, 1), "date_to": D(2026, 6, 1)}
            )
        with self.assertRaisesRegex(ValidationError, "Unknown granularity"):
            self.env["crm.kpi.backfill"].create(
                {
                    "date_from": D(2026, 7, 1),
                    "date_to": D(2026, 8, 1),
                    "granularities": "month,day",
                }
            )

    def test_cron_failure_isolated(self):
        """A failing period is logged and the others are computed."""
        tasks = [
            (self.company, "month", D(2026, 9, 1)),
            (self.company, "bogus", D(2026, 10, 1)),
            (self.company, "month", D(2026, 10, 1)),
        ]
        with self.assertLogs(
            "odoo.addons.crm_success_kpi.models.crm_kpi_snapshot", "ERROR"
        ):
            done, failed, _stopped = self.Snapshot._run_tasks(tasks, commit=False)
        self.assertEqual((done, failed), (2, 1))

    @users("kpi_salesman_testengine")
    def test_salesman_sees_own_scope_only(self):
        self.env["crm.kpi.snapshot"].sudo().compute_period(
            "month", D(2026, 10, 1), companies=self.company
        )
        values = self.env["crm.kpi.value"].search(
            [("company_id", "=", self.company.id)]
        )
        self.assertTrue(values)
        self.assertEqual(set(values.mapped("scope")), {"user"})
        self.assertEqual(values.user_id, self.salesman)
        with self.assertRaises(AccessError):
            self.env["crm.kpi.snapshot"].compute_period("month", D(2026, 10, 1))

    def test_partner_fields_query_count(self):
        """Reading the KPI fields of 80 customers costs what 10 cost."""
        fields = [
            "kpi_lifetime_revenue",
            "kpi_order_count",
            "kpi_first_purchase_date",
            "kpi_last_purchase_date",
            "kpi_average_order_value",
            "kpi_purchase_frequency",
            "kpi_customer_status",
            "kpi_predicted_clv",
        ]
        Partner = (
            self.env["res.partner"].with_user(self.manager).with_company(self.company)
        )
        counts = []
        Partner.browse(self.customers[:2].ids).read(fields)  # warm caches
        for size in (10, 80):
            partners = Partner.browse(self.customers[:size].ids)
            self.env.invalidate_all()
            before = self.cr.sql_log_count
            partners.read(fields)
            counts.append(self.cr.sql_log_count - before)
        self.assertEqual(counts[0], counts[1])
        first = Partner.browse(self.customers[0].id)
        self.assertEqual(first.kpi_order_count, 1)
        self.assertAlmostEqual(first.kpi_lifetime_revenue, 10.0)
        self.assertEqual(first.kpi_first_purchase_date, D(2026, 10, 1))

    def test_lead_fields_query_count(self):
        leads = self.make_leads(
            [{"created": datetime(2026, 10, 2, 8, 0)} for _i in range(80)]
        )
        # every lead answered, so working hours are computed for each of them
        for lead in leads:
            lead.with_user(self.salesman).message_post(
                body="Hello", message_type="comment", subtype_xmlid="mail.mt_comment"
            )
        leads = leads.with_user(self.manager)
        names = [
            "kpi_first_response_hours",
            "kpi_first_response_working_hours",
            "kpi_call_count",
            "kpi_email_count",
            "kpi_followup_count",
            "kpi_sales_cycle_days",
        ]
        counts = []
        self.env.invalidate_all()
        leads[:2].read(names)  # warm caches (access rules, calendar)
        for size in (10, 80):
            self.env.invalidate_all()
            before = self.cr.sql_log_count
            leads[:size].read(names)
            counts.append(self.cr.sql_log_count - before)
        self.assertEqual(counts[0], counts[1])
        lead = leads[0]
        self.assertTrue(lead.kpi_responded)
        self.assertLessEqual(
            lead.kpi_first_response_working_hours, lead.kpi_first_response_hours
        )
