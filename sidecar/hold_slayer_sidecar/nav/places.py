"""Where a trip goes: home or abroad, for menus that split "domestic" from "international".

The embedding model does not know that Paris is abroad for a caller in the United States: "I want to book a
flight to Paris" scores the same against "domestic flights" and "international flights". A short gazetteer of
countries and of the cities travellers name most, with the caller's home country (a setting, ISO 3166 code),
settles it. Names that are also common words or US places (Georgia, Jordan, Chad, Paris in Texas) are left
out (Nice, San Jose) or resolved to their best-known sense; a wrong guess costs only the small bonus below.
"""

from __future__ import annotations

import re
from functools import cache

# country name (and common short forms) -> ISO 3166-1 alpha-2
_COUNTRIES = """
afghanistan af|albania al|algeria dz|argentina ar|armenia am|australia au|austria at|azerbaijan az|bahamas bs|
bahrain bh|bangladesh bd|barbados bb|belarus by|belgium be|belize bz|bermuda bm|bolivia bo|bosnia ba|botswana bw|
brazil br|bulgaria bg|cambodia kh|cameroon cm|canada ca|cape verde cv|cayman islands ky|chile cl|china cn|
colombia co|costa rica cr|croatia hr|cuba cu|curacao cw|cyprus cy|czech republic cz|czechia cz|denmark dk|
dominican republic do|ecuador ec|egypt eg|el salvador sv|england gb|estonia ee|ethiopia et|fiji fj|finland fi|
france fr|germany de|ghana gh|greece gr|grenada gd|guatemala gt|haiti ht|honduras hn|hong kong hk|hungary hu|
iceland is|india in|indonesia id|iran ir|iraq iq|ireland ie|israel il|italy it|ivory coast ci|jamaica jm|japan jp|
kazakhstan kz|kenya ke|korea kr|south korea kr|kuwait kw|laos la|latvia lv|lebanon lb|lithuania lt|luxembourg lu|
macau mo|madagascar mg|malaysia my|maldives mv|malta mt|mauritius mu|mexico mx|moldova md|monaco mc|mongolia mn|
montenegro me|morocco ma|mozambique mz|myanmar mm|namibia na|nepal np|netherlands nl|holland nl|new zealand nz|
nicaragua ni|nigeria ng|north macedonia mk|northern ireland gb|norway no|oman om|pakistan pk|panama pa|
paraguay py|peru pe|philippines ph|poland pl|portugal pt|puerto rico pr|qatar qa|romania ro|russia ru|rwanda rw|
saint lucia lc|saudi arabia sa|scotland gb|senegal sn|serbia rs|seychelles sc|singapore sg|slovakia sk|
slovenia si|south africa za|spain es|sri lanka lk|sweden se|switzerland ch|taiwan tw|tanzania tz|thailand th|
trinidad tt|tunisia tn|turkey tr|turkiye tr|uganda ug|ukraine ua|united arab emirates ae|uae ae|
united kingdom gb|uk gb|britain gb|great britain gb|united states us|usa us|america us|uruguay uy|
uzbekistan uz|venezuela ve|vietnam vn|wales gb|yemen ye|zambia zm|zimbabwe zw|europe xe|asia xa|africa xf|
south america xs|latin america xs|the caribbean xc|caribbean xc|antarctica aq
"""

# The cities (and US states) callers name most when they book a trip -> country code.
_CITIES = """
amsterdam nl|athens gr|auckland nz|bali id|bangkok th|barcelona es|beijing cn|berlin de|bogota co|brussels be|
budapest hu|buenos aires ar|cairo eg|calgary ca|cancun mx|cape town za|copenhagen dk|delhi in|new delhi in|
doha qa|dubai ae|dublin ie|edinburgh gb|florence it|frankfurt de|geneva ch|glasgow gb|guadalajara mx|
hamburg de|havana cu|helsinki fi|ho chi minh city vn|hanoi vn|istanbul tr|jakarta id|jerusalem il|
johannesburg za|kingston jm|kyoto jp|lagos ng|lima pe|lisbon pt|london gb|lyon fr|madrid es|manchester gb|
manila ph|marrakech ma|melbourne au|mexico city mx|milan it|montego bay jm|montreal ca|moscow ru|mumbai in|
munich de|nairobi ke|naples it|nassau bs|osaka jp|oslo no|ottawa ca|paris fr|prague cz|
punta cana do|quebec ca|reykjavik is|rio de janeiro br|rome it|santiago cl|sao paulo br|seoul kr|
shanghai cn|singapore sg|stockholm se|sydney au|tel aviv il|tokyo jp|toronto ca|vancouver ca|venice it|
vienna at|warsaw pl|zurich ch|
atlanta us|austin us|baltimore us|boston us|charlotte us|chicago us|cincinnati us|cleveland us|dallas us|
denver us|detroit us|fort lauderdale us|honolulu us|houston us|indianapolis us|kansas city us|las vegas us|
los angeles us|la us|miami us|milwaukee us|minneapolis us|nashville us|new orleans us|new york us|
new york city us|nyc us|newark us|oakland us|orlando us|philadelphia us|phoenix us|pittsburgh us|portland us|
raleigh us|sacramento us|salt lake city us|san antonio us|san diego us|san francisco us|seattle us|st louis us|
tampa us|tucson us|washington dc us|anchorage us|albuquerque us|boise us|buffalo us|columbus us|el paso us|
jacksonville us|memphis us|omaha us|richmond us|
alabama us|alaska us|arizona us|arkansas us|california us|colorado us|connecticut us|delaware us|florida us|
hawaii us|idaho us|illinois us|indiana us|iowa us|kansas us|kentucky us|louisiana us|maine us|maryland us|
massachusetts us|michigan us|minnesota us|mississippi us|missouri us|montana us|nebraska us|nevada us|
new hampshire us|new jersey us|new mexico us|north carolina us|north dakota us|ohio us|oklahoma us|oregon us|
pennsylvania us|rhode island us|south carolina us|south dakota us|tennessee us|texas us|utah us|vermont us|
virginia us|wisconsin us|wyoming us
"""


@cache
def _gazetteer() -> dict[str, str]:
    places: dict[str, str] = {}
    for table in (_COUNTRIES, _CITIES):
        for entry in table.replace("\n", "").split("|"):
            if entry.strip():
                name, code = entry.strip().rsplit(" ", 1)
                places[name] = code.upper()
    return places


@cache
def _pattern() -> re.Pattern[str]:
    names = sorted(_gazetteer(), key=len, reverse=True)  # "new york city" before "new york"
    return re.compile(r"\b(" + "|".join(re.escape(n) for n in names) + r")\b")


def places_named(text: str) -> list[tuple[str, str]]:
    """Return the places ``text`` names with their country codes (regions: XE Europe, XA Asia, XC Caribbean ...)."""
    words = re.sub(r"[^a-z ]+", " ", text.lower().replace(".", ""))
    return [(m.group(1), _gazetteer()[m.group(1)]) for m in _pattern().finditer(" ".join(words.split()))]


def trip_scope(text: str, home_country: str) -> str | None:
    """Return "abroad" when ``text`` names a place outside ``home_country``, "home" for places in it only, else None."""
    codes = {code for _name, code in places_named(text)}
    if not codes:
        return None
    return "home" if codes == {home_country.upper()} else "abroad"


_ABROAD_LABEL = re.compile(r"\b(?:international|overseas|abroad|foreign|outside the)\b")
_HOME_LABEL = re.compile(r"\b(?:domestic|within the|national|in-country|inside the)\b")
PLACE_BONUS = 0.12  # about one shared content word (matcher._WORD_BONUS): enough to break a near tie


def place_bonus(scope: str | None, label: str) -> float:
    """Return a bonus for the option serving the trip's ``scope`` (see trip_scope): "international flights" abroad."""
    label = label.lower()
    if scope == "abroad" and _ABROAD_LABEL.search(label):
        return PLACE_BONUS
    if scope == "home" and _HOME_LABEL.search(label) and not _ABROAD_LABEL.search(label):
        return PLACE_BONUS
    return 0.0
