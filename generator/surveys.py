# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Generated NPS, CES and CSAT survey answers, when the KPI addon marks its surveys."""

from datetime import timedelta

from .common import NULL, _b, _Copy, _Ids, _logger


class _SurveysMixin:
    """Part of the history generator (:class:`.history._Generator`)."""

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
