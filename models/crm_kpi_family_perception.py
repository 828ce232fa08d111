"""Customer perception family: NPS, CES, CSAT and survey response rate.

Scores are stored on ``survey.user_input`` when a response is completed
(``kpi_score``, ``kpi_valid``, ``kpi_survey_type``); this family counts the
responses completed in the period, per company, in one query.  Answers
outside the survey's scale are not counted: their number is given in the
note of the KPI.

CSAT falls back on the ticket ratings of OCA's ``helpdesk_mgmt_rating``
(when it is installed) for a company that has no CSAT survey in use: no
CSAT invitation or response before the period's end.
"""

from odoo import models
from odoo.tools import SQL

from ..kpi.base import Result, _lt, na, ratio


class CrmKpiFamilyPerception(models.AbstractModel):
    _name = "crm.kpi.family.perception"
    _inherit = "crm.kpi.family"
    _description = "CRM KPI family: customer perception"
    _kpi_area = "perception"

    def _kpi_codes(self):
        return ("nps", "ces", "ces_easy_rate", "csat", "survey_response_rate")

    def _rows_sql(self):
        ctx = self.ctx
        return SQL(
            """
            SELECT ui.id, ui.kpi_survey_type AS kind, ui.kpi_score AS score,
                   ui.kpi_valid AS valid, ui.kpi_has_score AS scored,
                   ui.kpi_invited, ui.state = 'done' AS completed,
                   s.kpi_scale_max AS scale_max,
                   (ui.state = 'done' AND ui.end_datetime >= %(a)s
                    AND ui.end_datetime < %(b)s) AS done_in,
                   (ui.create_date >= %(a)s AND ui.create_date < %(b)s) AS sent_in
              FROM survey_user_input ui
              JOIN survey_survey s ON s.id = ui.survey_id
             WHERE ui.kpi_company_id = %(company)s
               AND ui.kpi_survey_type IS NOT NULL
               AND NOT COALESCE(ui.test_entry, FALSE)
               AND ((ui.state = 'done' AND ui.end_datetime >= %(a)s
                     AND ui.end_datetime < %(b)s)
                    OR (ui.kpi_invited AND ui.create_date >= %(a)s
                        AND ui.create_date < %(b)s))
            """,
            a=ctx.start_utc,
            b=ctx.end_utc,
            company=self.company.id,
        )

    def _kpi_compute(self):
        r = self._fetch(
            SQL(
                """
                WITH rows AS (%s)
                SELECT
                  COUNT(*) FILTER (WHERE done_in AND kind = 'nps' AND valid) AS nps_n,
                  COUNT(*) FILTER (WHERE done_in AND kind = 'nps' AND valid
                                   AND score >= 9) AS promoters,
                  COUNT(*) FILTER (WHERE done_in AND kind = 'nps' AND valid
                                   AND score <= 6) AS detractors,
                  COUNT(*) FILTER (WHERE done_in AND kind = 'nps' AND scored
                                   AND NOT valid) AS nps_invalid,
                  COUNT(*) FILTER (WHERE done_in AND kind = 'ces' AND valid) AS ces_n,
                  COALESCE(SUM(score) FILTER (
                      WHERE done_in AND kind = 'ces' AND valid), 0)
                      AS ces_sum,
                  COUNT(*) FILTER (WHERE done_in AND kind = 'ces' AND valid
                                   AND score >= scale_max - 1) AS ces_easy,
                  COUNT(*) FILTER (WHERE done_in AND kind = 'ces' AND scored
                                   AND NOT valid) AS ces_invalid,
                  COUNT(*) FILTER (WHERE done_in AND kind = 'csat' AND valid) AS csat_n,
                  COUNT(*) FILTER (WHERE done_in AND kind = 'csat' AND valid
                                   AND score >= scale_max - 1) AS csat_ok,
                  COUNT(*) FILTER (WHERE done_in AND kind = 'csat' AND scored
                                   AND NOT valid) AS csat_invalid,
                  COUNT(*) FILTER (WHERE kpi_invited AND sent_in) AS sent,
                  COUNT(*) FILTER (WHERE kpi_invited AND sent_in AND completed)
                      AS answered
                  FROM rows
                """,
                self._rows_sql(),
            )
        )[0]
        nps = self._with_invalid(
            ratio(
                r["promoters"] - r["detractors"],
                r["nps_n"],
                note=_lt("no valid NPS response completed in the period"),
            ),
            r["nps_invalid"],
        )
        ces = self._with_invalid(
            ratio(
                r["ces_sum"],
                r["ces_n"],
                note=_lt("no valid CES response completed in the period"),
            ),
            r["ces_invalid"],
        )
        easy = self._with_invalid(
            ratio(
                r["ces_easy"],
                r["ces_n"],
                note=_lt("no valid CES response completed in the period"),
            ),
            r["ces_invalid"],
        )
        csat = self._with_invalid(
            ratio(
                r["csat_ok"],
                r["csat_n"],
                note=_lt("no valid CSAT response completed in the period"),
            ),
            r["csat_invalid"],
        )
        if not (r["csat_n"] or r["csat_invalid"]) and not self._csat_survey_in_use():
            csat = self._csat_from_ratings()
        rate = ratio(
            r["answered"],
            r["sent"],
            note=_lt("no survey invitation sent in the period"),
        )
        return {
            ("company", None): {
                "nps": nps,
                "ces": ces,
                "ces_easy_rate": easy,
                "csat": csat,
                "survey_response_rate": rate,
            }
        }

    # -- CSAT from ticket ratings (OCA helpdesk_mgmt_rating) ----------------
    def _ratings_installed(self):
        """True when helpdesk tickets can be rated (helpdesk_mgmt_rating)."""
        return "rating_ids" in self.env["helpdesk.ticket"]._fields

    def _csat_survey_in_use(self):
        """True when the company sent a CSAT survey or got a CSAT response
        before the period's end: surveys are then CSAT's only source."""
        ctx = self.ctx
        return self._fetch(
            SQL(
                """
                SELECT EXISTS (
                    SELECT 1 FROM survey_user_input
                     WHERE kpi_company_id = %(company)s
                       AND kpi_survey_type = 'csat'
                       AND NOT COALESCE(test_entry, FALSE)
                       AND create_date < %(b)s) AS used
                """,
                company=self.company.id,
                b=ctx.end_utc,
            )
        )[0]["used"]

    def _csat_uses_ratings(self):
        return self._ratings_installed() and not self._csat_survey_in_use()

    def _rating_rows_sql(self):
        """The ticket ratings given in the period on the company's tickets:
        Odoo's 1-5 rating, satisfied from 4 (``RATING_LIMIT_SATISFIED``)."""
        ctx = self.ctx
        return SQL(
            """
            SELECT r.id, r.rating >= 4 AS satisfied
              FROM rating_rating r
              JOIN helpdesk_ticket t ON t.id = r.res_id
             WHERE r.res_model = 'helpdesk.ticket'
               AND r.consumed AND r.rating >= 1
               AND COALESCE(r.rated_on, r.write_date) >= %(a)s
               AND COALESCE(r.rated_on, r.write_date) < %(b)s
               AND t.company_id = %(company)s
            """,
            a=ctx.start_utc,
            b=ctx.end_utc,
            company=self.company.id,
        )

    def _csat_from_ratings(self):
        if not self._ratings_installed():
            return na(
                _lt(
                    "no CSAT survey in use; ticket ratings need a module that "
                    "is not installed: helpdesk_mgmt_rating"
                )
            )
        r = self._fetch(
            SQL(
                """
                WITH rows AS (%s)
                SELECT COUNT(*) AS n, COUNT(*) FILTER (WHERE satisfied) AS ok
                  FROM rows
                """,
                self._rating_rows_sql(),
            )
        )[0]
        if not r["n"]:
            return ratio(
                0,
                0,
                note=_lt("no CSAT survey in use and no ticket rated in the period"),
            )
        result = ratio(r["ok"], r["n"])
        result.note = _lt("from ticket ratings: no CSAT survey in use")
        return result

    @staticmethod
    def _with_invalid(result, invalid):
        """Say how many answers outside the scale were left out."""
        if invalid:
            extra = f"{invalid} invalid answer(s) outside the scale not counted"
            result = Result(
                result.value,
                result.numerator,
                result.denominator,
                f"{result.note}; {extra}" if result.note else extra,
                result.ratio,
            )
        return result

    _SETS = {
        "nps": (
            "done_in AND kind = 'nps' AND valid AND (score >= 9 OR score <= 6)",
            "done_in AND kind = 'nps' AND valid",
        ),
        "ces": (
            "done_in AND kind = 'ces' AND valid",
            "done_in AND kind = 'ces' AND valid",
        ),
        "ces_easy_rate": (
            "done_in AND kind = 'ces' AND valid AND score >= scale_max - 1",
            "done_in AND kind = 'ces' AND valid",
        ),
        "csat": (
            "done_in AND kind = 'csat' AND valid AND score >= scale_max - 1",
            "done_in AND kind = 'csat' AND valid",
        ),
        "survey_response_rate": (
            "kpi_invited AND sent_in AND completed",
            "kpi_invited AND sent_in",
        ),
    }

    def _kpi_recount_rules(self):
        both = ("count", "count")
        return {
            # promoters minus detractors: not a count of the answers listed
            "nps": (None, "count"),
            "ces": ("kpi_score", "count"),
            "ces_easy_rate": both,
            "csat": both,
            "survey_response_rate": both,
        }

    def _kpi_drill(self, code, scope, scope_id, part):
        if scope != "company":
            return None
        if code == "csat" and self._csat_uses_ratings():
            return self._kpi_drill_rows(
                "rating.rating",
                "satisfied" if part == "numerator" else "TRUE",
                self._rating_rows_sql(),
            )
        return self._kpi_drill_set("survey.user_input", code, part, self._rows_sql())
