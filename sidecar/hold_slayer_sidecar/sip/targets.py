"""Dial targets to SIP URIs under the dialling policy (no PJSUA2 import: the pool checks here too)."""

from __future__ import annotations

from ..dialplan import DialPolicyError, check_target
from .api import SipError


def target_uri(target: str, trunk_domain: str | None) -> tuple[str, bool]:
    """Turn a dial target into (SIP URI, via trunk?); raise SipError for targets the dialling policy refuses.

    The policy (``dialplan.check_target``) is the last gate before an INVITE: emergency numbers in any
    spelling, URI headers and routing parameters never reach PJSUA, whoever asked for the call.
    """
    try:
        checked = check_target(target)
    except DialPolicyError as err:
        raise SipError(err.message) from err
    if checked.uri is not None:
        return checked.uri, False
    if trunk_domain is None:
        raise SipError(f"cannot dial number {target!r}: no SIP trunk is configured")
    return f"sip:{checked.number}@{trunk_domain}", True
