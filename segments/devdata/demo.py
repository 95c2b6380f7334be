"""The demo tenant's data tables, which `manage.py seed_demo` builds its rows from.

Names, company suffixes, segment tiers, audiences, regions, the top categories and the
directory groups (the localized ones as English, German pairs).
"""

from __future__ import annotations

FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Margaret", "Ken", "Linus", "Radia"]
LAST = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Hamilton",
    "Thompson",
    "Torvalds",
    "Perlman",
]
COMPANY_SUFFIX = ["GmbH", "Ltd", "Inc", "AG"]
TIERS = [
    ("Gold", "Gold"),
    ("Silver", "Silber"),
    ("Bronze", "Bronze"),
    ("Platinum", "Platin"),
    ("Trade", "Handel"),
]
AUDIENCES = [
    ("customers", "Kunden"),
    ("newsletter readers", "Newsletter-Leser"),
    ("returning buyers", "Stammkäufer"),
    ("early adopters", "Frühkäufer"),
]
REGIONS = ["Berlin", "Munich", "Hamburg", "Vienna", "Zurich", "London", "Paris", "Milan"]
TOP = [
    ("Tools", "Werkzeuge"),
    ("Garden", "Garten"),
    ("Kitchen", "Küche"),
    ("Office", "Büro"),
    ("Outdoor", "Draußen"),
]

# (id, English name, German name, userType): a group of every kind the directory knows.
# `vip-club` holds every tenth customer; `company-buyers` the buyers of one legal entity
# (bound to it); `staff` is an EMPLOYEE group, which segments cannot take.
GROUPS = [
    ("vip-club", "VIP club", "VIP-Club", "CUSTOMER"),
    ("company-buyers", "Company buyers", "Firmeneinkäufer", "CUSTOMER"),
    ("staff", "Staff", "Mitarbeitende", "EMPLOYEE"),
]
