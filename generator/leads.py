# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Generated leads and opportunities (won, lost, open) with their UTM data and
messages.
"""

import io
from datetime import timedelta

from .common import (
    FIRST,
    LAST,
    LEAD_TOPICS,
    NAME_A,
    NAME_B,
    NAME_C,
    NULL,
    _b,
    _Copy,
    _opt,
    _pick,
    _txt,
)


class _LeadsMixin:
    """Part of the history generator (:class:`.history._Generator`)."""

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
