# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Generated customers: commercial partners (companies and individuals) with
their contacts, and the timeline of their purchases.
"""

from datetime import timedelta

from .common import (
    CITIES,
    FIRST,
    LAST,
    NAME_A,
    NAME_B,
    NAME_C,
    NULL,
    SEGMENTS,
    _b,
    _Copy,
    _cumulate,
    _Ids,
    _pick,
    _txt,
)


class _CustomersMixin:
    """Part of the history generator (:class:`.history._Generator`)."""

    # ------------------------------------------------------------ customers
    def _gen_customers(self):
        rng = self.rng("customers")
        cr = self.cr
        n = self.n_customers
        months = self.months
        ids = _Ids(cr, "res_partner")
        cols = [
            "id",
            "name",
            "complete_name",
            "is_company",
            "type",
            "parent_id",
            "commercial_partner_id",
            "commercial_company_name",
            "country_id",
            "city",
            "street",
            "zip",
            "email",
            "email_normalized",
            "phone",
            "lang",
            "active",
            "customer_rank",
            "supplier_rank",
            "autopost_bills",
            "partner_share",
            "employee",
            "user_id",
            "ref",
            "function",
            "color",
            "create_date",
            "write_date",
            "create_uid",
            "write_uid",
        ]
        out = _Copy(cr, "res_partner", cols)
        seen = set()
        company_ids = self.companies.ids
        company_w = list(
            _cumulate([2.0 if i == 0 else 1.0 for i in range(len(company_ids))])
        )
        seg_cum = list(_cumulate([s[1] for s in SEGMENTS]))
        self.customers = []
        n_children = 0
        uid = self.uid
        for i in range(n):
            company_id = company_ids[_pick(rng, company_w)]
            seg = _pick(rng, seg_cum)
            cidx = _pick(rng, self.country_cum)
            country_id, _w, p_second = self.countries[cidx]
            second = rng.random() < p_second
            is_company = rng.random() < 0.8
            if is_company:
                while True:
                    a, b, c = rng.choice(NAME_A), rng.choice(NAME_B), rng.choice(NAME_C)
                    name = f"{a} {b} {c}"
                    if name in seen:
                        name = f"{name} {i + 1}"
                    if name not in seen:
                        break
            else:
                name = f"{rng.choice(FIRST)} {rng.choice(LAST)} {i + 1}"
            seen.add(name)
            # acquisition month: 20% pre-existing customers in the first months
            old = rng.random() < 0.2
            if old:
                m0 = rng.randrange(min(3, months))
                created = self.start_dt - timedelta(
                    days=rng.randrange(30, 900), seconds=rng.randrange(86400)
                )
            else:
                m0 = _pick(rng, self.growth_cum)
                created = None
            first_order = self.rand_dt(rng, m0)
            if created is None:
                created = max(
                    self.start_dt,
                    first_order
                    - timedelta(
                        days=rng.randrange(0, 45), seconds=rng.randrange(86400)
                    ),
                )
            health = rng.random()
            salesman = rng.choice(self.sales[company_id])
            pid = ids.take()
            slug = "".join(ch for ch in name.lower() if ch.isalnum())[:24]
            email = (
                f"contact@{slug}-{i + 1}.example.com"
                if is_company
                else f"{slug}@example.com"
            )
            children = []
            if is_company and rng.random() < 0.35:
                for _k in range(rng.randint(1, 3)):
                    children.append(
                        (ids.take(), f"{rng.choice(FIRST)} {rng.choice(LAST)}")
                    )
            out.add(
                "\t".join(
                    (
                        str(pid),
                        _txt(name),
                        _txt(name),
                        _b(is_company),
                        "contact",
                        NULL,
                        str(pid),
                        _txt(name) if is_company else NULL,
                        str(country_id),
                        rng.choice(CITIES),
                        f"{rng.randint(1, 999)} {rng.choice(LAST)} Street",
                        f"{rng.randint(1000, 99999):05d}",
                        email,
                        email,
                        f"+1 555 {i % 10000:04d}",
                        "en_US",
                        "t",
                        "1",
                        "0",
                        "ask",
                        "t",
                        "f",
                        str(salesman[0]),
                        f"KPIG{i + 1:06d}",
                        NULL,
                        "0",
                        str(created),
                        str(created),
                        str(uid),
                        str(uid),
                    )
                )
            )
            for cpid, cname in children:
                n_children += 1
                local = "".join(ch for ch in cname.lower() if ch.isalnum())
                cemail = f"{local}@{slug}-{i + 1}.example.com"
                out.add(
                    "\t".join(
                        (
                            str(cpid),
                            _txt(cname),
                            _txt(f"{name}, {cname}"),
                            "f",
                            "contact",
                            str(pid),
                            str(pid),
                            _txt(name),
                            str(country_id),
                            NULL,
                            NULL,
                            NULL,
                            cemail,
                            cemail,
                            NULL,
                            "en_US",
                            "t",
                            "0",
                            "0",
                            "ask",
                            "t",
                            "f",
                            str(salesman[0]),
                            NULL,
                            rng.choice(
                                (
                                    "Purchaser",
                                    "CEO",
                                    "IT Manager",
                                    "Accountant",
                                    "Office Manager",
                                )
                            ),
                            "0",
                            str(created),
                            str(created),
                            str(uid),
                            str(uid),
                        )
                    )
                )
            self.customers.append(
                {
                    "id": pid,
                    "name": name,
                    "email": email,
                    "company": company_id,
                    "seg": seg,
                    "second": second,
                    "m0": m0,
                    "first": first_order,
                    "health": health,
                    "salesman": salesman,
                    "children": [c[0] for c in children],
                    "child_names": [c[1] for c in children],
                    "country": country_id,
                    "created": created,
                    "old": old,
                }
            )
        out.flush()
        ids.close()
        self.partner_id_range = (ids.first, ids.next - 1)
        self.written["res.partner"] = (ids.first, ids.next - 1)
        self.counts["customers"] = n
        self.counts["contacts"] = n_children

    # ------------------------------------------------------------ orders
    def _timeline(self, rng, cust):
        """Active months of a customer (churn + reactivation)."""
        hazard = SEGMENTS[cust["seg"]][3] * (0.4 + 1.4 * (1 - cust["health"]))
        active = [cust["m0"]]
        is_active = True
        returns = []
        for m in range(cust["m0"] + 1, self.months):
            if is_active:
                if rng.random() < hazard:
                    is_active = False
            elif rng.random() < 0.03:
                is_active = True
                returns.append(m)
            if is_active:
                active.append(m)
        return active, returns
