"""A small table of airports: IATA code -> city names (English and French).

Enough for the example airline; a brand extends it by passing ``extra_airports`` to
the entities component. City names map to the city's main airport.
"""

from __future__ import annotations

__all__ = ["AIRPORTS", "AMBIGUOUS_CITY_NAMES"]

AIRPORTS: dict[str, tuple[str, ...]] = {
    "AMS": ("amsterdam", "schiphol"),
    "CDG": ("paris", "charles de gaulle", "roissy"),
    "ORY": ("orly",),
    "LHR": ("london", "londres", "heathrow"),
    "LGW": ("gatwick",),
    "JFK": ("new york", "new-york"),
    "EWR": ("newark",),
    "NCE": ("nice",),
    "LYS": ("lyon",),
    "MRS": ("marseille", "marseilles"),
    "TLS": ("toulouse",),
    "BOD": ("bordeaux",),
    "NTE": ("nantes",),
    "FCO": ("rome", "roma"),
    "MXP": ("milan", "milano"),
    "BCN": ("barcelona", "barcelone"),
    "MAD": ("madrid",),
    "LIS": ("lisbon", "lisbonne", "lisboa"),
    "BER": ("berlin",),
    "FRA": ("frankfurt", "francfort"),
    "MUC": ("munich", "münchen"),
    "BRU": ("brussels", "bruxelles"),
    "GVA": ("geneva", "genève", "geneve"),
    "ZRH": ("zurich", "zürich"),
    "VIE": ("vienna", "wien"),
    "CPH": ("copenhagen", "copenhague"),
    "DUB": ("dublin",),
    "EDI": ("edinburgh", "édimbourg", "edimbourg"),
    "ATH": ("athens", "athènes", "athenes"),
    "IST": ("istanbul",),
    "DXB": ("dubai", "dubaï"),
    "LAX": ("los angeles",),
    "SFO": ("san francisco",),
    "YUL": ("montreal", "montréal"),
    "YYZ": ("toronto",),
    "NRT": ("tokyo",),
    "SIN": ("singapore", "singapour"),
    "BKK": ("bangkok",),
    "CMN": ("casablanca",),
    "RAK": ("marrakech", "marrakesh"),
    "TUN": ("tunis",),
    "DKR": ("dakar",),
    "PTP": ("pointe-à-pitre", "pointe-a-pitre"),
    "SPU": ("split",),
}

#: city names that are also ordinary words: matched only after "to/from/in/à/de/pour/...".
AMBIGUOUS_CITY_NAMES = frozenset({"nice", "split", "orly"})
