from datetime import datetime

from odoo.tests import tagged

from .common import D, KpiCase


@tagged("post_install", "-at_install")
class TestSalesKpis(KpiCase):
    """October 2026.

    Created in October: 10 opportunities (team A), of which 3 won in October
    (expected 1000, 2000, 3000; created 2026-10-01 10:00, won 10 days later),
    2 lost in October (expected 500 each), 5 open.  Created in September and
    won in October: 1 (expected 4000, created 2026-09-21 10:00, converted
    2026-09-26 10:00, won 2026-10-11 10:00).  Team B: 1 lost in October.
    Won 4, lost 3 → win rate 4 / 7; by value 10,000 / 11,500."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        created = datetime(2026, 10, 1, 10, 0)
        won_at = datetime(2026, 10, 11, 10, 0)
        specs = [
            {"created": created, "status": "won", "closed": won_at, "revenue": r}
            for r in (1000.0, 2000.0, 3000.0)
        ]
        specs += [
            {
                "created": created,
                "status": "lost",
                "closed": datetime(2026, 10, 5),
                "revenue": 500.0,
            }
            for _i in range(2)
        ]
        specs += [{"created": created, "revenue": 100.0} for _i in range(5)]
        specs.append(
            {
                "created": datetime(2026, 9, 21, 10, 0),
                "converted": datetime(2026, 9, 26, 10, 0),
                "status": "won",
                "closed": won_at,
                "revenue": 4000.0,
            }
        )
        specs.append(
            {
                "created": datetime(2026, 9, 1),
                "status": "lost",
                "closed": datetime(2026, 10, 20),
                "revenue": 500.0,
                "team": cls.team_b,
            }
        )
        cls.leads = cls.make_leads(specs)
        # a response: the salesperson writes to the customer 2 hours after
        # creation on the first lead; an internal note does not count
        lead = cls.leads[0]
        cls.env.flush_all()
        note = lead.with_user(cls.salesman).message_post(
            body="internal", subtype_xmlid="mail.mt_note"
        )
        reply = lead.with_user(cls.salesman).message_post(
            body="Hello", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        cls.env.flush_all()
        cls.env.cr.execute(
            "UPDATE mail_message SET date = %s WHERE id = %s",
            (datetime(2026, 10, 1, 11, 0), note.id),
        )
        cls.env.cr.execute(
            "UPDATE mail_message SET date = %s WHERE id = %s",
            (datetime(2026, 10, 1, 12, 0), reply.id),
        )
        cls.env.invalidate_all()
        cls.snapshots = cls.Snapshot.compute_period(
            "month", D(2026, 10, 1), companies=cls.company
        )

    def test_win_rate(self):
        v = self.values(self.snapshots)
        self.assertKpi(v, "deals_won", 4)
        self.assertKpi(v, "deals_lost", 3)
        self.assertKpi(v, "win_rate", 4 / 7 * 100)
        self.assertEqual((v["win_rate"].numerator, v["win_rate"].denominator), (4, 7))
        self.assertKpi(v, "win_rate_value", 10000 / 11500 * 100)

    def test_win_rate_per_team(self):
        v = self.values(self.snapshots, "team", self.team.id)
        self.assertKpi(v, "win_rate", 4 / 6 * 100)
        v = self.values(self.snapshots, "team", self.team_b.id)
        self.assertKpi(v, "win_rate", 0.0)
        self.assertKpi(v, "deals_won", 0)

    def test_pipeline(self):
        v = self.values(self.snapshots)
        self.assertKpi(v, "prospects", 10)
        # 4 won in October / 10 created in October
        self.assertKpi(v, "lead_conversion_rate", 40.0)
        self.assertKpi(v, "average_deal_size", 2500.0)
        # 3 × 10 days + 20 days = 50 days over 4
        self.assertKpi(v, "sales_cycle_days", 12.5)
        # 3 × 10 days (no conversion date) + 15 days from conversion
        self.assertKpi(v, "deal_duration_days", 45 / 4)

    def test_response(self):
        v = self.values(self.snapshots)
        # one answered lead, 2 hours after creation (the note does not count)
        self.assertKpi(v, "sales_response_hours", 2.0)
        self.assertKpi(v, "unanswered_leads", 9)
        self.assertKpi(v, "outbound_emails", 1)
        lead = self.leads[0]
        self.assertAlmostEqual(lead.kpi_first_response_hours, 2.0)
        self.assertTrue(lead.kpi_responded)
        self.assertEqual(lead.kpi_email_count, 1)
        self.assertAlmostEqual(self.leads[-2].kpi_sales_cycle_days, 20.0)

    def test_drill_won(self):
        v = self.values(self.snapshots)
        action = v["win_rate"].action_open_numerator()
        won = (
            self.env["crm.lead"]
            .with_context(active_test=False)
            .search(action["domain"])
        )
        self.assertEqual(len(won), 4)
        self.assertEqual(set(won.mapped("won_status")), {"won"})
        action = v["win_rate"].action_open_denominator()
        decided = (
            self.env["crm.lead"]
            .with_context(active_test=False)
            .search(action["domain"])
        )
        self.assertEqual(len(decided), 7)

    def test_empty_period(self):
        v = self.values(
            self.Snapshot.compute_period("month", D(2026, 1, 1), companies=self.company)
        )
        self.assertKpi(v, "deals_won", 0)
        self.assertKpi(v, "win_rate", None)
        self.assertKpi(v, "sales_cycle_days", None)
        self.assertKpi(v, "lead_conversion_rate", None)

    def test_pivot_ratio_of_sums(self):
        """Grouped over both teams, the win rate is 4 / 7 (ratio of sums),
        not the average of 66.67 % and 0 %."""
        Value = self.env["crm.kpi.value"]
        groups = Value.formatted_read_group(
            [
                ("company_id", "=", self.company.id),
                ("kpi_code", "=", "win_rate"),
                ("scope", "=", "team"),
            ],
            groupby=["kpi_id"],
            aggregates=["value:sum"],
        )
        self.assertEqual(len(groups), 1)
        self.assertAlmostEqual(groups[0]["value:sum"], 4 / 7 * 100)
