# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Shared pieces of the history generator: word lists, ratios, the COPY writer,
id reservations and small helpers.
"""

import bisect
import io
import logging
import time
from datetime import date

_logger = logging.getLogger(__name__)

PARAM_PREFIX = "crm_success_kpi.generator.seed_"

NULL = "\\N"

# Default volumes per customer (benchmark may override with ``scale``).
RATIOS = {"leads": 3.0, "orders": 4.0, "tickets": 1.5, "surveys": 0.5}

# ---------------------------------------------------------------- word lists
NAME_A = [
    "Blue",
    "Bright",
    "Silver",
    "Green",
    "Golden",
    "Swift",
    "North",
    "Prime",
    "Urban",
    "Alpine",
    "Coastal",
    "Summit",
    "Royal",
    "Red",
    "Clear",
    "Iron",
    "Nova",
    "Pacific",
    "Atlas",
    "Cedar",
    "Delta",
    "Eagle",
    "Falcon",
    "Harbor",
    "Lunar",
    "Maple",
    "Oak",
    "Pioneer",
    "Quantum",
    "River",
    "Solar",
    "Stone",
]

NAME_B = [
    "Logistics",
    "Foods",
    "Dynamics",
    "Systems",
    "Works",
    "Labs",
    "Retail",
    "Consulting",
    "Energy",
    "Textiles",
    "Health",
    "Media",
    "Robotics",
    "Furniture",
    "Motors",
    "Pharma",
    "Analytics",
    "Builders",
    "Farms",
    "Software",
    "Travel",
    "Finance",
    "Studios",
    "Electric",
    "Outfitters",
]

NAME_C = [
    "Inc.",
    "LLC",
    "Ltd",
    "Group",
    "Corp.",
    "GmbH",
    "SA",
    "BV",
    "& Co",
    "Partners",
]

FIRST = [
    "Anna",
    "Ben",
    "Carla",
    "David",
    "Elena",
    "Farid",
    "Grace",
    "Hugo",
    "Ines",
    "Jonas",
    "Kira",
    "Liam",
    "Maya",
    "Noah",
    "Olga",
    "Paul",
    "Rita",
    "Sam",
    "Tara",
    "Umar",
    "Vera",
    "Will",
    "Xenia",
    "Yann",
    "Zoe",
    "Marc",
    "Lucia",
    "Omar",
    "Sofia",
    "Theo",
]

LAST = [
    "Smith",
    "Garcia",
    "Muller",
    "Rossi",
    "Dubois",
    "Jansen",
    "Kowalski",
    "Silva",
    "Novak",
    "Berg",
    "Khan",
    "Tanaka",
    "Lopez",
    "Martin",
    "Schmidt",
    "Peeters",
    "Costa",
    "Meyer",
    "Moreau",
    "Olsen",
    "Brown",
    "Wilson",
    "Nguyen",
    "Patel",
    "Fischer",
]

CITIES = [
    "Springfield",
    "Riverside",
    "Fairview",
    "Franklin",
    "Greenville",
    "Bristol",
    "Clinton",
    "Salem",
    "Madison",
    "Georgetown",
]

# (country code, weight, pays in second currency probability)
COUNTRIES = [
    ("US", 34, 0.02),
    ("CA", 7, 0.02),
    ("MX", 4, 0.02),
    ("BR", 4, 0.02),
    ("GB", 8, 0.05),
    ("DE", 7, 0.65),
    ("FR", 6, 0.65),
    ("BE", 4, 0.65),
    ("NL", 3, 0.65),
    ("ES", 3, 0.65),
    ("IT", 3, 0.65),
    ("IN", 5, 0.02),
    ("AU", 4, 0.02),
    ("JP", 3, 0.02),
    ("ZA", 2, 0.02),
    ("SG", 3, 0.02),
]

PRODUCTS = [
    # default_code, name, list price, cost
    ("KPIGEN-01", "Subscription Basic (month)", 49.0, 12.0),
    ("KPIGEN-02", "Subscription Pro (month)", 129.0, 31.0),
    ("KPIGEN-03", "Subscription Enterprise (month)", 490.0, 110.0),
    ("KPIGEN-04", "Onboarding Package", 900.0, 520.0),
    ("KPIGEN-05", "Consulting Day", 750.0, 430.0),
    ("KPIGEN-06", "Training Session", 320.0, 150.0),
    ("KPIGEN-07", "Hardware Kit", 1250.0, 890.0),
    ("KPIGEN-08", "Premium Support (year)", 1800.0, 640.0),
]

CAMPAIGNS = [
    "KPI Spring Webinar Series",
    "KPI Partner Referral Program",
    "KPI Product Launch",
    "KPI Customer Reactivation",
]

TICKET_SUBJECTS = [
    "Cannot log in",
    "Invoice question",
    "Error when exporting data",
    "Request for a new feature",
    "Slow performance",
    "Password reset",
    "Wrong amount on invoice",
    "Integration not syncing",
    "Delivery delay",
    "How to configure user rights",
    "Data import failed",
    "Report is empty",
]

LEAD_TOPICS = [
    "Subscription upgrade",
    "New project",
    "Pricing request",
    "Demo request",
    "Consulting need",
    "Hardware quote",
    "Training request",
    "Support contract",
]

# lead channel: (weight, medium xmlid, source xmlid, medium name, source name)
CHANNELS = [
    (
        25,
        "utm.utm_medium_website",
        "utm.utm_source_search_engine",
        "Website",
        "Search engine",
    ),
    (20, "utm.utm_medium_email", "utm.utm_source_newsletter", "Email", "Newsletter"),
    (15, "utm.utm_medium_direct", "utm.utm_source_referral", "Direct", "Referral"),
    (6, "utm.utm_medium_linkedin", "utm.utm_source_linkedin", "LinkedIn", "LinkedIn"),
    (4, "utm.utm_medium_facebook", "utm.utm_source_facebook", "Facebook", "Facebook"),
    (10, "utm.utm_medium_phone", None, "Phone", None),
    (20, None, None, None, None),
]

SEGMENTS = [
    # name, weight, order frequency factor, churn hazard a month, quantity range,
    # discounts, product indexes
    ("smb", 60, 0.8, 0.045, (1, 4), (0, 0, 0, 5), (0, 1, 5, 3, 0, 1)),
    ("mid", 30, 1.1, 0.025, (2, 10), (0, 5, 5, 10), (1, 2, 3, 4, 5, 7)),
    ("ent", 10, 1.4, 0.012, (5, 30), (5, 10, 15, 20), (2, 3, 4, 6, 7, 7)),
]


# ---------------------------------------------------------------- helpers
def _money(cents):
    return "%.2f" % (cents / 100.0)


def _txt(value):
    if value is None or value is False:
        return NULL
    return (
        str(value)
        .replace("\\", "\\\\")
        .replace("\t", " ")
        .replace("\n", " ")
        .replace("\r", " ")
    )


def _b(value):
    return "t" if value else "f"


def _opt(value):
    return NULL if value is None or value is False else str(value)


def _add_months(d, n):
    y, m = divmod(d.month - 1 + n, 12)
    return date(d.year + y, m + 1, 1)


class _Ids:
    """Allocate ids from a table's sequence without one query per id."""

    def __init__(self, cr, table):
        self.cr = cr
        cr.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        self.seq = cr.fetchone()[0]
        cr.execute("SELECT nextval(%s)", [self.seq])
        self.first = self.next = cr.fetchone()[0]

    def take(self):
        value = self.next
        self.next += 1
        return value

    def close(self):
        self.cr.execute(
            "SELECT setval(%s, %s)", [self.seq, max(self.next - 1, self.first)]
        )


class _Copy:
    """Buffered ``COPY table (columns) FROM STDIN`` of tab-joined lines."""

    def __init__(self, cr, table, columns, chunk=50000):
        self.cr = cr
        self.table = table
        self.columns = columns
        self.sql = "COPY {} ({}) FROM STDIN".format(table, ", ".join(columns))
        self.chunk = chunk
        self.lines = []
        self.count = 0

    def add(self, line):
        self.lines.append(line)
        if len(self.lines) >= self.chunk:
            self.flush()

    def flush(self):
        if not self.lines:
            return
        t0 = time.monotonic()
        buf = io.StringIO("\n".join(self.lines) + "\n")
        self.cr._obj.copy_expert(self.sql, buf)
        self.count += len(self.lines)
        _logger.debug(
            "generator: COPY %s rows into %s in %.2fs",
            len(self.lines),
            self.table,
            time.monotonic() - t0,
        )
        self.lines = []


class _Clock:
    def __init__(self):
        self.t0 = self.t = time.monotonic()
        self.timings = {}

    def lap(self, name):
        now = time.monotonic()
        self.timings[name] = round(now - self.t, 2)
        self.t = now
        _logger.info("generator: %s done in %.1fs", name, self.timings[name])


def _cumulate(weights):
    total = 0.0
    for w in weights:
        total += w
        yield total


def _pick(rng, cum):
    """Index drawn from cumulative weights ``cum``."""
    return min(len(cum) - 1, bisect.bisect_right(cum, rng.random() * cum[-1]))
