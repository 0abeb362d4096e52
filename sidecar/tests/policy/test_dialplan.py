"""The dialling policy, from a table: what may be dialled or rung, emergency numbers in every spelling."""

from __future__ import annotations

import pytest
from hold_slayer_sidecar.dialplan import (
    EMERGENCY,
    EMERGENCY_NUMBERS,
    INVALID,
    DialPolicyError,
    check_dtmf,
    check_target,
    is_emergency_number,
)
from hold_slayer_sidecar.sip.api import SipError
from hold_slayer_sidecar.sip.targets import target_uri

# Every spelling the attack on issue #17 used, and more that trunks and PBXs route to emergency services.
EMERGENCY_TARGETS = [
    "911",
    "112",
    "999",
    "000",
    "110",
    "119",
    "988",
    "933",
    "10111",
    "sip:911@trunk.example",
    "sips:911@trunk.example",
    "sip:%39%31%31@host",
    "sip:%39%31%31@127.0.0.1:5062",
    "SIP:911@HOST",
    "tel:911",
    "tel:+1-911",
    "+1911",
    "1-911",
    "1 911",
    "+1 911",
    "1911",
    "00911",
    "01911",
    "011911",
    "99911",
    "9911",
    "0911",
    "9 1 911",
    "9,911",
    "9w911",
    "911#",
    "911,",
    "9-1-1",
    "9.1.1",
    "(911)",
    " 911 ",
    "00112",
    "0112",
    "+112",
    "+44 999",
    "+44 0 999",
    "0044 999",
    "9 011 44 999",
    "+61 000",
    "0061 000",
    "+49 110",
    "+49 112",
    "+33 112",
    "+33 15",
    "+81 119",
    "+1 988",
    "sip:+1911@trunk.example",
    # A dialling string in front of a name is still dialled by a trunk that ignores the rest.
    "sip:911abc@trunk.example",
    "sip:9-1-1-help@trunk.example",
    "sip:1%20911x@trunk.example",
    "sip:1911@trunk.example",
    "sip:+1911;phone-context=+1@trunk.example",
    "sip:00112@trunk.example;user=phone",
    "sip:sos@trunk.example",
    "sip:SOS@trunk.example",
    "sip:sos.fire@trunk.example",
    "sip:emergency@trunk.example",
    "urn:service:sos",
    "urn:service:sos.police",
    "sip:%73%6f%73@trunk.example",  # "sos", escaped
]

# Targets that are not emergency numbers but must not be dialled as given.
INVALID_TARGETS = [
    "",
    "   ",
    "sip:x@host?X-Injected=1&Subject=pwn",
    "sip:x@host?Route=%3Csip:evil%3E",
    "sip:bank@host;maddr=203.0.113.9",
    "sip:bank@host;method=REFER",
    "sip:bank@host;lr",
    "sip:bank@host;ttl=1",
    "sip:bank@host;transport=sctp",
    "sip:bank@host;user=ip;foo=bar",
    "sip:bank@host;foo",
    "sip:bank%40evil.example@host",  # an escaped '@' would move the host
    "sip:bank%3Bmaddr=1.2.3.4@host",  # an escaped ';' would add a parameter
    "sip:ba nk@host",
    'sip:"bank"@host',
    "sip:<bank>@host",
    "sip:bank@host\r\nX-Injected: 1",
    "sip:bank@ho st",
    "sip:bank@host:99999",
    "sip:bank@host:0",
    "sip:@host",
    "sip:bank",
    "sip:bank@",
    "sip:bank@host,sip:other@host",
    "http://bank.example",
    "mailto:bank@example.com",
    "1-800-FLOWERS",
    "+",
    "1",
    "555-CALL-NOW",
    "12345678901234567890123",
    "tel:abc",
    "x" * 300,
    "\x00911",
]

# Allowed targets and what they normalise to.
VALID_TARGETS = [
    ("+1 800 555 0100", "+18005550100"),
    ("+1 (800) 555-0100", "+18005550100"),
    ("1-800-555-0100", "18005550100"),
    ("0800 112 112", "0800112112"),
    ("0044 20 7946 0000", "00442079460000"),
    ("+44 20 7946 0000", "+442079460000"),
    ("+33 1 12 34 56 78", "+33112345678"),
    ("+49 30 901820", "+4930901820"),
    ("555 1234", "5551234"),
    ("8005550100#", "8005550100"),
    ("tel:+1-212-555-0101", "+12125550101"),
    ("sip:ivr@127.0.0.1:5062", "sip:ivr@127.0.0.1:5062"),
    ("sip:bank@127.0.0.1:5062;transport=tcp", "sip:bank@127.0.0.1:5062;transport=tcp"),
    ("sip:+18005550100@trunk.example;user=phone", "sip:+18005550100@trunk.example;user=phone"),
    ("SIP:Bank@Trunk.Example", "sip:Bank@Trunk.Example"),
    ("sips:bank@trunk.example:5061", "sips:bank@trunk.example:5061"),
    ("sip:alice@[::1]:5070", "sip:alice@[::1]:5070"),
    ("sip:%62ank@host", "sip:bank@host"),  # escapes are decoded, so what is checked is what is dialled
    ("sip:+442079460000;phone-context=+44@trunk.example", "sip:+442079460000;phone-context=+44@trunk.example"),
    ("sip:support-line@company.example", "sip:support-line@company.example"),
    # Names whose digits, strung together, would read as an emergency number: a name is not dialled.
    ("sip:hs-9ee0c119@127.0.0.1:57466", "sip:hs-9ee0c119@127.0.0.1:57466"),
    ("sip:hs-c9110000@127.0.0.1:5060", "sip:hs-c9110000@127.0.0.1:5060"),
    ("sip:room112@pbx.example", "sip:room112@pbx.example"),
    ("sip:desk-9-1-1a@pbx.example", "sip:desk-9-1-1a@pbx.example"),
]


def test_the_table_is_large() -> None:
    assert len(EMERGENCY_TARGETS) + len(INVALID_TARGETS) + len(VALID_TARGETS) >= 100


@pytest.mark.parametrize("target", EMERGENCY_TARGETS)
def test_emergency_numbers_in_every_spelling_are_refused(target: str) -> None:
    assert is_emergency_number(target)
    with pytest.raises(DialPolicyError) as err:
        check_target(target)
    assert err.value.code == EMERGENCY
    # The SIP layer applies the same policy as the last gate before an INVITE.
    with pytest.raises(SipError):
        target_uri(target, "trunk.example")


@pytest.mark.parametrize("target", INVALID_TARGETS)
def test_targets_that_are_not_plain_numbers_or_uris_are_refused(target: str) -> None:
    with pytest.raises(DialPolicyError) as err:
        check_target(target)
    assert err.value.code in (INVALID, EMERGENCY)
    with pytest.raises(SipError):
        target_uri(target, "trunk.example")


@pytest.mark.parametrize(("target", "normalised"), VALID_TARGETS)
def test_ordinary_numbers_and_uris_are_allowed_and_normalised(target: str, normalised: str) -> None:
    assert not is_emergency_number(target)
    assert check_target(target).value == normalised


def test_numbers_go_through_the_trunk_and_uris_directly() -> None:
    assert target_uri("+1 800 555 0100", "trunk.example") == ("sip:+18005550100@trunk.example", True)
    assert target_uri("sip:ivr@127.0.0.1:5062", None) == ("sip:ivr@127.0.0.1:5062", False)
    with pytest.raises(SipError, match="no SIP trunk"):
        target_uri("+1 800 555 0100", None)


@pytest.mark.parametrize(
    ("digits", "expected"),
    [("1", "1"), ("1 2w3,#*abcd", "12w3,#*ABCD"), ("0#", "0#"), ("W", "W"), ("9" * 64, "9" * 64)],
)
def test_dtmf_strings_the_policy_accepts(digits: str, expected: str) -> None:
    assert check_dtmf(digits) == expected


@pytest.mark.parametrize("digits", ["", " ", "12x", "1e", "1\x00", "½", "9" * 65, "1;2", "+1"])
def test_dtmf_strings_the_policy_refuses(digits: str) -> None:
    with pytest.raises(DialPolicyError):
        check_dtmf(digits)


def test_no_registrar_user_name_reads_as_an_emergency_number() -> None:
    """Registered phones get "hs-" + 8 random hex digits; every emergency number at every place must pass."""
    for number in sorted(EMERGENCY_NUMBERS):
        for at in range(0, 9 - len(number)):
            hexpart = ("c" * at + number + "e" * 8)[:8]
            for prefix in ("", "0", "1", "9"):
                name = f"hs-{(prefix + hexpart)[:8]}"
                assert not is_emergency_number(f"sip:{name}@127.0.0.1:5060"), name
                assert check_target(f"sip:{name}@127.0.0.1:5060").uri == f"sip:{name}@127.0.0.1:5060"
