"""What Hold Slayer may dial or ring: the one dialling policy of the integration and the sidecar.

Stdlib only and free of Home Assistant imports, so the sidecar ships a byte-identical copy
(``sidecar/hold_slayer_sidecar/dialplan.py``); a test fails if the two ever differ.

Every target (the company to call, the phone to ring, ``transfer_to``) goes through ``check_target``
before it reaches SIP, on both sides. It refuses:

- emergency numbers in every spelling: separators, percent-encoding (``sip:%39%31%31@host``),
  ``tel:`` URIs, trunk and outside-line prefixes (``9``, ``99``, ``0``, ``8``), national and
  international prefixes (``1``, ``+1``, ``00``, ``01``, ``011``, ``+44``), pause and end-of-number
  characters, and the SIP emergency service names (``sos``, ``urn:service:sos``, RFC 5031);
- URI headers (``sip:x@host?Subject=...``), which a UAC copies into its request (RFC 3261 s19.1.1);
- URI parameters that change where a request goes (``maddr``, ``method``, ``lr``, ...): only
  ``transport`` and ``user`` are kept;
- anything that is not a phone number, a ``sip:``/``sips:`` URI with a plain host, or a ``tel:`` URI.

Emergency calls are for a person to dial directly on their own phone: Hold Slayer must never be the
one to place them, and must never be in the way of one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import unquote

# Emergency and crisis numbers of the world's numbering plans that a trunk may route somewhere.
# A short number that is an emergency number anywhere is refused everywhere: a user abroad, a
# trunk in another country, or a typo must not make Hold Slayer call an emergency service.
EMERGENCY_NUMBERS: Final = frozenset(
    {
        "911",  # NANP (US, Canada), and many others
        "933",  # US 911 address test line
        "988",  # US suicide and crisis line
        "112",  # EU, GSM handsets worldwide (3GPP TS 22.101)
        "999",  # UK, Ireland, many Commonwealth countries
        "000",  # Australia
        "111",  # New Zealand
        "110",  # Japan, China, Germany police
        "119",  # Japan, China, Korea fire/ambulance
        "118",  # Japan coast guard, Italy ambulance
        "117",  # Switzerland police
        "120",  # China ambulance
        "122",  # Austria fire, Egypt police
        "133",  # Austria police, Chile police
        "144",  # Austria, Switzerland ambulance
        "100",  # India, Greece, Israel police
        "101",  # India fire, Israel ambulance
        "102",  # India, Israel fire/ambulance
        "108",  # India ambulance
        "113",  # Norway ambulance, Vietnam police
        "115",  # Vietnam ambulance
        "190",  # Brazil police
        "192",  # Brazil ambulance
        "193",  # Brazil fire
        "995",  # Singapore fire/ambulance
        "997",  # Poland police
        "998",  # Poland fire
        "15",  # France SAMU
        "17",  # France police
        "18",  # France fire
        "08",  # legacy Australian GSM short code
        "10111",  # South Africa police
        "10177",  # South Africa ambulance
    }
)

# What a PBX or trunk may strip before it routes a number, in dialling order (ITU-T E.164, NANP, and
# common PBX practice): an outside-line code (9, 99, 8, 0), then either an international prefix (00,
# 011, 001, 010, 01, or "+") with a country code of 1-3 digits, or nothing; then a national trunk prefix
# (0, or 1 in the NANP); then the emergency number. "99 911", "1 911", "+1 911", "00 112", "9 011 44 999"
# and "+44 0 999" all reach an emergency service on some trunk.
_OUTSIDE_LINE: Final = ("", "9", "99", "8", "0")
_INTERNATIONAL: Final = ("", "00", "011", "001", "010", "01")
_NATIONAL: Final = ("", "0", "1")
# Service URN and user names that SIP networks route to emergency services (RFC 5031, RFC 6881).
_EMERGENCY_NAMES: Final = re.compile(r"^(?:urn:service:)?(?:sos|emergency|emergencia|notruf|police|ambulance)\b", re.I)

# Visual separators of RFC 3966 / ITU-T E.123, and the pause / end characters dialling strings use
# (each a regex character-class body).
_SEPARATOR_CHARS: Final = r"\s().\-/"
_PAUSE_AND_END_CHARS: Final = ",;wWpPxX#"
_SEPARATORS: Final = re.compile(f"[{_SEPARATOR_CHARS}]")
_PAUSES_AND_END: Final = re.compile(f"[{_PAUSE_AND_END_CHARS}]+$")
_NUMBER: Final = re.compile(r"^\+?[0-9]{2,20}$")
# A dialling string: digits, "+", "*", separators, pauses, extension and end characters (ITU-T E.123,
# RFC 3966, and the "w"/"p"/"x" of dialling strings).
_DIALLING_PREFIX: Final = re.compile(f"^[0-9+*{_PAUSE_AND_END_CHARS}{_SEPARATOR_CHARS}]*")
# A host name, an IPv4 address or a bracketed IPv6 address, with an optional port (RFC 3261 s25.1).
_HOST: Final = re.compile(
    r"^(?:[A-Za-z0-9][A-Za-z0-9\-]{0,62}(?:\.[A-Za-z0-9\-]{1,63})*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$"
)
# A user part after percent-decoding: RFC 3261 unreserved characters and '+' only. Anything else
# (';', '@', '?', '<', quotes, control characters) could change how the URI is read downstream.
_USER: Final = re.compile(r"^[A-Za-z0-9\-_.!~*'()+&=$]{1,64}$")
_ALLOWED_PARAMS: Final = frozenset({"transport", "user"})
_TRANSPORTS: Final = frozenset({"udp", "tcp", "tls"})
MAX_TARGET_LENGTH: Final = 256

# DTMF symbols of RFC 4733 s3.2 (0-9, *, #, A-D) and the pauses "w", "W" and ",".
DTMF_PAUSES: Final = frozenset("wW,")
DTMF_SYMBOLS: Final = frozenset("0123456789*#ABCD")
MAX_DTMF_LENGTH: Final = 64


class DialPolicyError(ValueError):
    """A target or digit string Hold Slayer will not dial; ``code`` is the protocol's error code."""

    def __init__(self, code: str, message: str) -> None:
        """Keep a machine-readable code (``emergency_number`` or ``invalid_target``)."""
        super().__init__(message)
        self.code = code
        self.message = message


EMERGENCY: Final = "emergency_number"
INVALID: Final = "invalid_target"


@dataclass(frozen=True, slots=True)
class DialTarget:
    """A target that passed the policy.

    ``number`` is set for phone numbers (digits with an optional leading ``+``), which go through the
    trunk; ``uri`` is set for SIP URIs, rebuilt from the checked parts (no escapes, no headers).
    """

    number: str | None = None
    uri: str | None = None

    @property
    def value(self) -> str:
        """The normalised target: the number or the URI."""
        return self.number if self.number is not None else str(self.uri)


# ITU-T E.164 country codes are prefix-free: 1 and 7 stand alone, these are the two-digit ones, and
# every other code has three digits. So the code at the start of an international number is unique.
_TWO_DIGIT_COUNTRY_CODES: Final = frozenset(
    [
        "20",
        "27",
        "30",
        "31",
        "32",
        "33",
        "34",
        "36",
        "39",
        "40",
        "41",
        "43",
        "44",
        "45",
        "46",
        "47",
        "48",
        "49",
        "51",
        "52",
        "53",
        "54",
        "55",
        "56",
        "57",
        "58",
        "60",
        "61",
        "62",
        "63",
        "64",
        "65",
        "66",
        "81",
        "82",
        "84",
        "86",
        "90",
        "91",
        "92",
        "93",
        "94",
        "95",
        "98",
    ]
)


def _country_code(digits: str) -> str:
    """Return the E.164 country code at the start of an international number ("" when it cannot have one)."""
    if not digits or digits[0] == "0":
        return ""
    if digits[0] in "17":
        return digits[:1]
    return digits[:2] if digits[:2] in _TWO_DIGIT_COUNTRY_CODES else digits[:3]


def _reduces_to_emergency(digits: str, plus: bool) -> bool:
    """Whether ``digits`` is an emergency number behind the prefixes a trunk or PBX may strip."""
    outside_lines = ("",) if plus else _OUTSIDE_LINE
    for outside in outside_lines:
        if not digits.startswith(outside):
            continue
        after_outside = digits[len(outside) :]
        for international in ("+",) if plus else _INTERNATIONAL:
            if international != "+" and not after_outside.startswith(international):
                continue
            rest = after_outside if international == "+" else after_outside[len(international) :]
            # A country code follows an international prefix; a trunk may also take "00 112" as the
            # prefix and the number alone.
            country_codes = ["", _country_code(rest)] if international else [""]
            for country in country_codes:
                national_part = rest[len(country) :]
                for national in _NATIONAL:
                    if national_part.startswith(national) and national_part[len(national) :] in EMERGENCY_NUMBERS:
                        return True
    return False


def _dialled_part(user: str) -> str:
    """Return the part of a URI's user that a trunk would dial: all of it, or what precedes a name.

    A user made of digits and dialling characters ("+1 (911)", "9w911", "911#") is a dialling
    string and every digit in it counts. A user with other letters is a name ("support-line",
    "hs-9ee0c119"): a trunk routes it as a name, so only a dialling string in front of the name
    ("911abc", "911-help") could be dialled. Counting a name's scattered digits instead refused
    registered phones whose random user name happened to hold "119" or "0911".
    """
    match = _DIALLING_PREFIX.match(user)
    return match.group(0) if match else ""


def is_emergency_number(target: str) -> bool:
    """Return True when ``target`` (a number, ``tel:`` or SIP URI, in any spelling) reaches an emergency service."""
    text = unquote(target.strip())
    lowered = text.lower()
    for scheme in ("sips:", "sip:", "tel:"):
        if lowered.startswith(scheme):
            text = text[len(scheme) :]
            break
    user = text.split("@", 1)[0] if "@" in text else text
    if _EMERGENCY_NAMES.match(user.strip()) or _EMERGENCY_NAMES.match(text.strip()):
        return True
    number = _dialled_part(user.split(";", 1)[0])
    # Every digit counts, whatever stands between them: "9-1-1", "9 1 1", "(911)", "911#", "9w11".
    digits = "".join(ch for ch in number if ch.isdigit())
    if not digits:
        return False
    return _reduces_to_emergency(digits, plus=number.lstrip().startswith("+"))


def normalize_number(value: str) -> str | None:
    """Return ``value`` as ``+digits`` or ``digits`` when it is a phone number, else None."""
    number = _PAUSES_AND_END.sub("", _SEPARATORS.sub("", value.strip()))
    return number if _NUMBER.match(number) else None


def check_target(target: str) -> DialTarget:
    """Return the checked, normalised target or raise ``DialPolicyError`` saying why it is refused."""
    if not isinstance(target, str) or not target.strip():
        raise DialPolicyError(INVALID, "a target is required: a phone number or a sip: URI")
    text = target.strip()
    if len(text) > MAX_TARGET_LENGTH or any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise DialPolicyError(INVALID, "not a phone number or sip: URI (too long, or control characters)")
    if is_emergency_number(text):
        raise DialPolicyError(EMERGENCY, f"{text} is an emergency number: call it directly from your phone")
    lowered = text.lower()
    if lowered.startswith("tel:"):
        return _checked_number(text[4:].split(";", 1)[0], text)
    if lowered.startswith(("sip:", "sips:")):
        return DialTarget(uri=_checked_uri(text))
    return _checked_number(text, text)


def _checked_number(raw: str, shown: str) -> DialTarget:
    number = normalize_number(unquote(raw))
    if number is None:
        raise DialPolicyError(INVALID, f"not a phone number or sip: URI: {shown!r}")
    return DialTarget(number=number)


def _checked_uri(text: str) -> str:
    if "?" in text:
        raise DialPolicyError(INVALID, "SIP URI headers ('?...') are not allowed in a target")
    scheme, rest = text.split(":", 1)
    if "@" not in rest:
        raise DialPolicyError(INVALID, f"a SIP URI needs a user and a host (user@host): {text!r}")
    user_raw, host_and_params = rest.rsplit("@", 1)
    user = unquote(user_raw)
    user_number = user.split(";", 1)[0]
    if not _USER.match(user_number) or (";" in user and not _user_params_ok(user)):
        raise DialPolicyError(INVALID, f"unsupported characters in the SIP URI's user part: {text!r}")
    host, *params = host_and_params.split(";")
    if not _HOST.match(host) or not _port_ok(host):
        raise DialPolicyError(INVALID, f"not a valid host in SIP URI: {text!r}")
    kept = [_checked_param(param, text) for param in params]
    return ";".join([f"{scheme.lower()}:{user}@{host}", *kept])


def _user_params_ok(user: str) -> bool:
    # Only RFC 3966's phone-context may follow a number in the user part ("+15551234;phone-context=...").
    return all(re.match(r"^phone-context=[A-Za-z0-9+\-.]{1,64}$", p) for p in user.split(";")[1:])


def _port_ok(host: str) -> bool:
    match = re.search(r":(\d{1,5})$", host)
    return match is None or 0 < int(match.group(1)) <= 65535


def _checked_param(param: str, text: str) -> str:
    name, _, value = param.partition("=")
    name = name.strip().lower()
    if name not in _ALLOWED_PARAMS:
        raise DialPolicyError(INVALID, f"SIP URI parameter {name!r} is not allowed (it can change routing): {text!r}")
    value = value.strip().lower()
    if name == "transport" and value not in _TRANSPORTS:
        raise DialPolicyError(INVALID, f"unsupported transport {value!r} in {text!r}")
    if name == "user" and value != "phone":
        raise DialPolicyError(INVALID, f"unsupported user={value!r} in {text!r}")
    return f"{name}={value}"


def check_dtmf(digits: str) -> str:
    """Return the digit string upper-cased without spaces, or raise ``DialPolicyError``."""
    if not isinstance(digits, str):
        raise DialPolicyError(INVALID, "digits must be a string")
    cleaned = "".join(ch if ch in DTMF_PAUSES else ch.upper() for ch in digits if not ch.isspace())
    if not cleaned:
        raise DialPolicyError(INVALID, "no digits given")
    if len(cleaned) > MAX_DTMF_LENGTH:
        raise DialPolicyError(INVALID, f"at most {MAX_DTMF_LENGTH} DTMF symbols at once")
    bad = sorted({ch for ch in cleaned if ch not in DTMF_SYMBOLS and ch not in DTMF_PAUSES})
    if bad:
        shown = "".join(bad)
        raise DialPolicyError(INVALID, f"invalid DTMF characters {shown!r}: use 0-9, *, #, A-D and w for a pause")
    return cleaned
