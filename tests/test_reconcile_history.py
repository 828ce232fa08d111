"""Every stored value of a generated history agrees with its drill-down
records: 24 months of generated customers, orders, leads, tickets and
surveys, each month and each quarter computed, every scope reconciled."""

from datetime import date

from odoo.tests import TransactionCase, tagged

from odoo.addons.crm_success_kpi.generator.history import generate
from odoo.addons.crm_success_kpi.kpi import period as P

END = date(2026, 6, 30)


@tagged("post_install", "-at_install")
class TestReconcileHistory(TransactionCase):
    def test_generated_history_reconciles(self):
        company = self.env.ref("base.main_company")
        counts = generate(
            self.env, customers=40, months=24, seed=11, companies=company, end_date=END
        )
        self.assertGreater(counts["tickets"], 0)
        Snapshot = self.env["crm.kpi.snapshot"]
        first = P.period_start("month", date(2024, 7, 1))
        checked = 0
        for granularity, count in (("month", 24), ("quarter", 8)):
            start = P.period_start(granularity, first)
            for _i in range(count):
                snapshots = Snapshot.compute_period(
                    granularity, start, companies=company
                )
                self.assertTrue(snapshots.filtered(lambda s: s.scope != "company"))
                found = Snapshot.reconcile_period(granularity, start, companies=company)
                self.assertEqual(
                    [
                        (s.name, code, part.part, stored, recounted)
                        for part in found
                        for s, code, stored, recounted in [part]
                    ],
                    [],
                    f"{granularity} {start}",
                )
                checked += len(snapshots.value_ids)
                start = P.shift_period(granularity, start, 1)
        # every scope of every period was looked at
        self.assertGreater(checked, 32 * 70)
