"""What common call-centre menu labels mean, in a caller's words (the embedding model knows words, not IVRs).

A menu says "technical support"; a caller says "my internet is not working". MiniLM scores those far apart,
so each common department label gets a few plain-language descriptions and the matcher also compares the
intent with them. Entries are generic call-centre categories, keyed by a pattern on the option label.
"""

from __future__ import annotations

import re

_GLOSSARY: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        r"technical|tech support|support|troubleshoot|repair|not working|help ?desk|\bit\b|computer",
        (
            "something is not working or broken",
            "service or connection problems",
            "my internet, phone or device is not working right",
            "I cannot log in to my email or forgot my password",
        ),
    ),
    (
        r"\bbill|billing|payment|charges|\bfees?\b|balance",
        ("a question about my bill or a charge on it", "I want to pay my bill", "fees, payments and refunds"),
    ),
    (r"make a payment|pay\b", ("I want to pay my bill now", "make a payment")),
    (
        r"new (?:reservation|booking)s?|reservations?$|book(?:ing)?s? a|buy tickets|purchase tickets",
        ("I want to book a new trip, flight or ticket", "buy tickets to travel somewhere"),
    ),
    (
        r"existing (?:reservation|booking|trip)|manage .*(?:reservation|booking)|my (?:reservation|booking|trip)",
        (
            "a trip I already booked",
            "change, cancel or get a refund for my booked trip",
            "seats or special assistance for a flight I booked",
        ),
    ),
    (
        r"within .*(?:24|twenty four|twenty-four) hours|today|departing soon",
        ("travelling today or tomorrow", "a flight leaving very soon"),
    ),
    (r"domestic", ("travel within the country", "a flight to another city in this country")),
    (
        r"international",
        ("travel to another country or abroad", "a flight overseas", "a trip to Europe, Asia or another continent"),
    ),
    (r"group", ("a large group of people travelling together", "booking for many people at once")),
    (
        r"special assistance|accessib|disab",
        ("a wheelchair or mobility help", "a disability or medical need when travelling"),
    ),
    (r"\bseat", ("choose or change my seat",)),
    (
        r"refund|credit",
        ("get my money back", "a refund for a cancelled trip or purchase", "a travel credit or voucher"),
    ),
    (r"frequent flyer|loyalty|rewards|miles|points", ("my miles, points or rewards membership",)),
    (
        r"baggage|luggage|\bbags?\b",
        ("my suitcase or bag", "luggage that is lost, delayed or damaged", "baggage fees and allowances"),
    ),
    (
        r"(?:delayed|missing|lost)\b.*\b(?:bags?|baggage|luggage)\b|\b(?:bags?|baggage|luggage)\b.*\b(?:delayed|missing|lost)",
        ("my luggage is missing or late", "my suitcase never arrived or did not come off the plane"),
    ),
    (r"sports equipment|special items|oversized", ("golf clubs, skis, a bike or a surfboard", "a musical instrument")),
    (r"allowance|excess|overweight", ("how heavy or how many bags I can bring", "the cost of a heavy or extra bag")),
    (r"damaged", ("something arrived broken or damaged",)),
    (
        r"appointment|schedul",
        (
            "book, change or cancel a visit with the doctor",
            "see a doctor, a checkup or an exam",
            # Clinics of every kind (doctor, dentist, vet) book the same visits under "appointments".
            "a visit for a checkup, a shot, a cleaning or a treatment",
        ),
    ),
    (
        r"emergenc|urgent",
        (
            "someone is hurt, very sick or in danger right now",
            "something dangerous that cannot wait",
            "water pouring in, flooding, no heat or a smell of gas",
            "swallowed or ate something poisonous, bleeding, shaking or cannot breathe",
        ),
    ),
    # Trades that keep a building, an appliance or a car going call the fixing desk "maintenance" or "repairs".
    (
        r"maintenance|repairs?\b",
        ("something in my home is broken or stopped working", "fix a leak, an appliance, the heating or the plumbing"),
    ),
    (r"\brent\b|payments?\b", ("did you receive my payment or my check", "pay my rent or what I owe")),
    (r"vacanc|showings?\b|availab", ("a home or apartment available to rent or buy", "come and see a place")),
    (r"signal|network|coverage|reception\b", ("no bars, calls dropping or cutting out", "poor coverage at home")),
    (r"body shop|collision", ("my car was hit or in an accident and needs body work", "a dent or a damaged bumper")),
    (
        r"service department|service (?:and|&) repair|car care",
        ("an oil change or the check engine light", "scheduled maintenance for my car"),
    ),
    (r"orthodont", ("braces or aligners to straighten teeth",)),
    (r"hygien|cleanings?\b", ("a teeth cleaning or a checkup",)),
    (r"nurse", ("medical advice about symptoms", "I or my child feel sick")),
    (
        r"prescription|pharmacy|refill|medication",
        ("refill my medicine or medication", "a prescription", "I am running out of my medicine"),
    ),
    (r"pharmacist", ("a question about my medicine, its dose or side effects",)),
    (r"lost and found|lost property", ("I left or lost something on a bus, train or plane", "find an item I forgot")),
    (
        r"payment (?:plan|arrangement)|instal?lments?|extension",
        ("I cannot afford to pay my bill all at once", "pay my bill in smaller parts over time"),
    ),
    (
        r"track|deliver|parcel|package|shipment",
        ("where is my parcel or package", "a late or missing delivery", "change where or when my parcel is delivered"),
    ),
    (
        # Card departments only: "activate a new card" is one card task, not everything about cards.
        r"\bcard services\b|\b(?:credit|debit)\b.*\bcards?\b|^(?:your |bank )?cards?$",
        (
            "my credit card or debit card",
            "a lost or stolen card",
            "a charge or transaction on my card",
            # Banks take disputed charges through card services, not the fraud line.
            "dispute a charge or a transaction",
        ),
    ),
    (
        r"dispute",
        ("a charge I do not recognise or think is wrong", "contest a transaction"),
    ),
    (r"activate", ("activate or start using a new card",)),
    (r"fraud", ("someone used my account without permission", "identity theft or a scam")),
    (r"online banking|online|website|app\b|log ?in|password", ("I cannot log in to the website or app",)),
    (r"open (?:a |an )?(?:new )?account|new accounts?", ("open a new bank account",)),
    # A home loan and any other loan are different desks: "refinance my home loan" must not describe "a personal loan".
    (r"mortgage|home loan|refinanc|buying a home", ("a mortgage to buy a house", "refinance my home loan")),
    (r"\bloans?\b|lending", ("borrow money or get a loan",)),
    # A loan desk with no kind named ("about a loan") takes every kind, home loans included.
    (
        r"^(?:about )?(?:an? |your )?(?:new )?(?:loans?|lending)$",
        ("a car loan, a home loan or a mortgage", "refinance my home or car loan"),
    ),
    # Not "open a new account": only a label naming the accounts themselves means "my account and balance".
    (r"checking|savings|^(?:(?:bank|your|my) )?accounts?$", ("my bank account, balance or transactions",)),
    (r"outage|power", ("my power or electricity is out", "a blackout with no electricity")),
    (r"water", ("a water leak, water pressure or water quality problem",)),
    (
        r"\bstart\b|\bstop (?:or|your|my|service)|move (?:your )?service|transfer service|moving|disconnect",
        ("moving to a new address", "start, stop or transfer my service"),
    ),
    (
        r"upgrade|sales|new (?:phone|device|plan)|(?:add|change) (?:or \w+ )?(?:your )?services?",
        ("buy a new phone, device or plan", "change or upgrade my plan"),
    ),
    (r"cancel (?:your |my )?(?:service|account|contract|plan)", ("end my contract or leave", "close my account")),
    (r"claims?\b", ("an accident, damage or theft", "file or follow up an insurance claim")),
    (r"quote|new polic", ("buy new insurance or get a price",)),
    (r"roadside|tow", ("my car broke down and I need a tow",)),
    # Departments most trades have under one name or another (dealers, gyms, schools, libraries, clinics).
    (r"\bparts?\b|accessor", ("buy parts and accessories",)),
    (
        r"financ|leas(?:e|ing)\b",
        ("monthly payments on a loan or a lease", "borrow money to pay for it over time"),
    ),
    (
        r"membership|subscription",
        ("join, change, pause or cancel my membership", "end my contract or subscription", "my membership fees"),
    ),
    (
        r"\bevents?\b|programs?\b|programmes?\b|classes|workshops?|activities|clubs?\b",
        ("an activity, class, club or group", "what is on this week for children or adults"),
    ),
    (r"vaccin|immuni[sz]", ("a shot or a jab", "vaccines for a person or a pet")),
    # Who the caller is, the first split of many menus: new callers and would-be members.
    (
        r"new (?:customer|client|patient)s?|first (?:time|visit|inspection)|not a (?:member|customer)",
        ("I have never used you before", "I am a new customer and this is my first time"),
    ),
    (r"\bjoin(?:ing)?\b|become a member|sign(?:ing)? up", ("I want to sign up, how much does it cost to join",)),
    (r"lost (?:and|&) found|lost property", ("I left something behind and want it back", "I found something")),
)

_COMPILED = tuple((re.compile(pattern, re.IGNORECASE), glosses) for pattern, glosses in _GLOSSARY)


def glosses_for(label: str) -> list[str]:
    """Plain-language descriptions of a menu label (empty for labels the glossary does not know)."""
    out: list[str] = []
    for pattern, glosses in _COMPILED:
        if pattern.search(label):
            out.extend(g for g in glosses if g not in out)
    return out
