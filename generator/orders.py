# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Generated confirmed sale orders and their lines, with margins, a second
currency and links to won opportunities.
"""

from datetime import timedelta

from .common import NULL, SEGMENTS, _Copy, _Ids, _money, _pick


class _OrdersMixin:
    """Part of the history generator (:class:`.history._Generator`)."""

    def _gen_orders(self):  # noqa: C901
        rng = self.rng("orders")
        trng = self.rng("timelines")
        cr = self.cr
        timelines = []
        rest_months = 0
        frac = self.month_frac
        firsts = [0] * self.months  # first orders of each month
        weight = [0.0] * self.months  # repeat-order weight of each month
        for cust in self.customers:
            active, returns = self._timeline(trng, cust)
            cust["active"] = active
            cust["returns"] = returns
            w = SEGMENTS[cust["seg"]][2] * (0.6 + 0.8 * cust["health"])
            cust["freq"] = w
            rest_months += sum(frac[m] for m in active if m != cust["m0"]) * w
            firsts[cust["m0"]] += 1
            for m in active:
                if m != cust["m0"]:
                    weight[m] += frac[m] * w
            timelines.append(active)
        extra = max(0, self.n_orders - len(self.customers))
        p_repeat = extra / rest_months if rest_months else 0.0
        if self.growth_mode == "flat":
            # the same number of orders every month: the repeat orders fill
            # what the month's first orders leave (the customers older than
            # the history all order first in the first three months)
            p_month = [
                max(0.0, target - first) / w if w else 0.0
                for target, first, w in zip(
                    self.flat_share(self.n_orders), firsts, weight, strict=True
                )
            ]
        else:
            p_month = [p_repeat] * self.months
        # a month may hold a second order (probability 0.3 * p): correct for it
        p_month = [p / (1 + 0.3 * min(1.0, p)) for p in p_month]
        # links to won opportunities
        self.n_won_target = int(self.n_leads * 0.3)
        p_first_link = min(0.7, self.n_won_target * 0.7 / max(1, len(self.customers)))
        p_repeat_link = min(0.5, self.n_won_target * 0.3 / max(1, extra))
        self.lead_ids = _Ids(cr, "crm_lead")
        self.won_opps = []
        self.order_links = []
        self.nps_candidates = []
        p_survey = min(1.0, self.n_surveys * 0.5 / max(1, self.n_orders))
        order_ids = _Ids(cr, "sale_order")
        line_ids = _Ids(cr, "sale_order_line")
        so_cols = [
            "id",
            "name",
            "state",
            "company_id",
            "partner_id",
            "partner_invoice_id",
            "partner_shipping_id",
            "pricelist_id",
            "currency_id",
            "currency_rate",
            "user_id",
            "team_id",
            "opportunity_id",
            "campaign_id",
            "source_id",
            "medium_id",
            "date_order",
            "validity_date",
            "invoice_status",
            "amount_untaxed",
            "amount_tax",
            "amount_total",
            "margin",
            "margin_percent",
            "locked",
            "require_signature",
            "require_payment",
            "prepayment_percent",
            "create_date",
            "write_date",
            "create_uid",
            "write_uid",
        ]
        sol_cols = [
            "id",
            "order_id",
            "sequence",
            "company_id",
            "currency_id",
            "order_partner_id",
            "salesman_id",
            "product_id",
            "product_uom_id",
            "state",
            "name",
            "product_uom_qty",
            "price_unit",
            "discount",
            "price_subtotal",
            "price_total",
            "price_reduce_taxexcl",
            "price_reduce_taxinc",
            "price_tax",
            "technical_price_unit",
            "qty_delivered",
            "qty_delivered_method",
            "qty_invoiced",
            "qty_to_invoice",
            "untaxed_amount_invoiced",
            "untaxed_amount_to_invoice",
            "invoice_status",
            "customer_lead",
            "is_downpayment",
            "is_expense",
            "collapse_prices",
            "collapse_composition",
            "is_optional",
            "purchase_price",
            "margin",
            "margin_percent",
            "create_date",
            "write_date",
            "create_uid",
            "write_uid",
        ]
        so_out = _Copy(cr, "sale_order", so_cols)
        dropped = self._drop_gin("sale_order", self.n_orders)
        sol_out = _Copy(cr, "sale_order_line", sol_cols, chunk=10**9)
        products = self.products
        uid = str(self.uid)
        n_orders = n_lines = n_second = 0
        order_counts = {}
        prefix = f"SO-{self.tag}"
        comp_curs = {c.id: c.currency_id.id for c in self.companies}
        for cust in self.customers:
            seg = SEGMENTS[cust["seg"]]
            company_id = cust["company"]
            comp_cur = comp_curs[company_id]
            if cust["second"]:
                currency_id = self.second_currency[company_id].id
                pricelist = str(self.pricelists[company_id])
            else:
                currency_id = comp_cur
                pricelist = NULL
            freq = cust["freq"]
            returns = set(cust["returns"])
            events = []
            for m in cust["active"]:
                if m == cust["m0"]:
                    events.append((cust["first"], "first"))
                    continue
                k = 0
                pr = first_pr = min(0.95, p_month[m] * freq) * frac[m]
                while pr > 0 and rng.random() < pr:
                    k += 1
                    pr = first_pr * 0.3 if k == 1 else 0
                for _k in range(k):
                    events.append(
                        (self.rand_dt(rng, m), "return" if m in returns else "repeat")
                    )
            events.sort()
            cnt = 0
            for dt, kind in events:
                cnt += 1
                oid = order_ids.take()
                n_orders += 1
                day = dt.date()
                rate = (
                    1.0
                    if currency_id == comp_cur
                    else self.conv(company_id, currency_id, day)
                )
                if currency_id != comp_cur:
                    n_second += 1
                salesman = cust["salesman"]
                partner = cust["id"]
                if cust["children"] and rng.random() < 0.2:
                    partner = rng.choice(cust["children"])
                # lines
                nlines = rng.choice((1, 1, 2, 2, 3, 4))
                untaxed = margin = 0
                lines = []
                for seq in range(nlines):
                    prod = products[rng.choice(seg[6])]
                    qty = rng.randint(*seg[4])
                    disc = rng.choice(seg[5])
                    pu_c = int(round(prod["price"] * rate * 100))
                    if disc:
                        # a multiple of 20 cents keeps the discounted subtotal
                        # in whole cents: line sums then equal amount_untaxed
                        # with either tax rounding method (per line/globally)
                        pu_c = int(round(pu_c / 20.0)) * 20
                    # sale_margin converts the cost without rounding, then
                    # stores purchase_price and margin rounded to cents
                    pp_exact = prod["cost"] * rate * 100
                    pp_c = int(round(pp_exact))
                    sub_c = (qty * pu_c * (100 - disc) + 50) // 100
                    mar_c = int(round(sub_c - pp_exact * qty))
                    untaxed += sub_c
                    margin += mar_c
                    lines.append((prod, qty, disc, pu_c, pp_c, sub_c, mar_c, seq))
                campaign = source = medium = NULL
                opp = NULL
                # customers older than the history were won before it starts
                link = (
                    p_first_link
                    if kind == "first" and not cust["old"]
                    else p_repeat_link
                )
                if rng.random() < link:
                    lid = self.lead_ids.take()
                    self.order_links.append(f"{oid}\t{lid}")
                    chan = self.channels[_pick(rng, self.channel_cum)]
                    camp = rng.choice(self.campaigns) if rng.random() < 0.4 else False
                    if kind == "return" and rng.random() < 0.6:
                        camp = self.reactivation_campaign
                    self.won_opps.append(
                        (
                            lid,
                            cust,
                            dt,
                            untaxed / 100.0 / rate,
                            salesman,
                            chan,
                            camp,
                            kind,
                        )
                    )
                    if camp:
                        campaign = str(camp)
                    if chan[0]:
                        medium = str(chan[0])
                    if chan[1]:
                        source = str(chan[1])
                elif kind == "return" and rng.random() < 0.5:
                    campaign = str(self.reactivation_campaign)
                elif rng.random() < 0.08:
                    campaign = str(rng.choice(self.campaigns))
                created = max(
                    self.start_dt, dt - timedelta(seconds=rng.randrange(0, 7 * 86400))
                )
                so_out.add(
                    "\t".join(
                        (
                            str(oid),
                            f"{prefix}{n_orders:06d}",
                            "sale",
                            str(company_id),
                            str(partner),
                            str(partner),
                            str(partner),
                            pricelist,
                            str(currency_id),
                            repr(rate),
                            str(salesman[0]),
                            str(salesman[2]),
                            opp,
                            campaign,
                            source,
                            medium,
                            str(dt),
                            str(day + timedelta(days=30)),
                            "to invoice",
                            _money(untaxed),
                            "0.00",
                            _money(untaxed),
                            _money(margin),
                            repr(margin / untaxed if untaxed else 0.0),
                            "f",
                            "t",
                            "f",
                            "1.0",
                            str(created),
                            str(dt),
                            uid,
                            uid,
                        )
                    )
                )
                line_ctx = f"{company_id}\t{currency_id}\t{partner}\t{salesman[0]}"
                tail = f"{created}\t{dt}\t{uid}\t{uid}"
                for prod, qty, disc, pu_c, pp_c, sub_c, mar_c, seq in lines:
                    n_lines += 1
                    reduce = repr(round(sub_c / 100.0 / qty, 6))
                    sub = _money(sub_c)
                    pu = _money(pu_c)
                    sol_out.add(
                        f"{line_ids.take()}\t{oid}\t{10 + seq}\t{line_ctx}\t"
                        f"{prod['key']}\tsale\t{prod['txt']}\t{qty}.00\t{pu}\t"
                        f"{disc}.00\t{sub}\t{sub}\t{reduce}\t{reduce}\t0.0\t{pu}\t"
                        f"0.00\tmanual\t0.00\t{qty}.00\t0.00\t{sub}\tto invoice\t"
                        f"0.0\tf\tf\tf\tf\tf\t{_money(pp_c)}\t{_money(mar_c)}\t"
                        f"{mar_c / sub_c if sub_c else 0.0!r}\t{tail}"
                    )
                if rng.random() < p_survey:
                    self.nps_candidates.append(
                        (
                            cust,
                            dt
                            + timedelta(
                                days=rng.randint(3, 20), seconds=rng.randrange(86400)
                            ),
                            oid,
                        )
                    )
                if len(so_out.lines) >= so_out.chunk - 10:
                    so_out.flush()
                    sol_out.flush()
            order_counts[cust["id"]] = cnt
            cust["n_orders"] = cnt
            cust["last_order"] = events[-1][0] if events else cust["first"]
        so_out.flush()
        sol_out.flush()
        self._restore_indexes(dropped)
        order_ids.close()
        line_ids.close()
        self.order_range = (order_ids.first, order_ids.next - 1)
        self.written["sale.order"] = self.order_range
        self.written["sale.order.line"] = (line_ids.first, line_ids.next - 1)
        self.counts["sale_orders"] = n_orders
        self.counts["sale_order_lines"] = n_lines
        self.counts["sale_orders_second_currency"] = n_second
