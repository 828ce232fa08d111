# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Generated activities: done activities on leads and tickets (messages with an
activity type) and a few open ones in the future.
"""

from datetime import timedelta

from .common import NULL, _b, _Copy, _Ids, _opt, _txt


class _ActivitiesMixin:
    """Part of the history generator (:class:`.history._Generator`)."""

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
            when = min(when, self.end_dt)  # nothing after the generation time
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
        now = str(min(self.end_dt, self.end_dt.replace(hour=8, minute=0, second=0)))
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
