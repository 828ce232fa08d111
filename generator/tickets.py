# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Generated helpdesk tickets with customer messages, agent replies, notes and
stage history.
"""

import math
from datetime import timedelta

from .common import (
    NULL,
    SEGMENTS,
    TICKET_SUBJECTS,
    _b,
    _Copy,
    _Ids,
    _logger,
    _opt,
    _txt,
)


class _TicketsMixin:
    """Part of the history generator (:class:`.history._Generator`)."""

    # ------------------------------------------------------------ tickets
    def _gen_tickets(self):
        rng = self.rng("tickets")
        cr = self.cr
        if not self.ticket_done_stage or not self.ticket_open_stages:
            _logger.warning("generator: helpdesk stages missing, tickets skipped")
            self.counts["tickets"] = 0
            return
        eligible = 0.0
        eligible_month = [0.0] * self.months
        for cust in self.customers:
            # customers keep calling support a bit after their last order
            months = list(cust["active"])
            if months[-1] + 1 < self.months:
                months.append(months[-1] + 1)
            cust["t_months"] = months
            span = sum(self.month_frac[m] for m in months)
            cust["t_weight"] = (0.5 + SEGMENTS[cust["seg"]][2]) * (1.6 - cust["health"])
            eligible += span * cust["t_weight"]
            for m in months:
                eligible_month[m] += self.month_frac[m] * cust["t_weight"]
        q = self.n_tickets / eligible if eligible else 0
        if self.growth_mode == "flat":
            # the same number of tickets every month, whatever the number of
            # customers active in it
            q_month = [
                target / e if e else 0.0
                for target, e in zip(
                    self.flat_share(self.n_tickets), eligible_month, strict=True
                )
            ]
        else:
            q_month = [q] * self.months
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
            months = cust.pop("t_months")
            t_weight = cust["t_weight"]
            company_id = cust["company"]
            for m in months:
                k = 0
                pr = w_m = q_month[m] * t_weight * self.month_frac[m]
                while pr > 0 and rng.random() < min(0.95, pr):
                    k += 1
                    pr = w_m - k
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
