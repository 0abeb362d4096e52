"""Before settings are applied: is there a Wyoming service with the right capability, what did the registrar say."""

from __future__ import annotations

from typing import Final

from ..protocol import Registration, RegistrationState
from ..voice.api import VoiceEngineError
from ..voice.wyoming import describe, parse_tcp_url

# A Wyoming service on the LAN answers describe within milliseconds; a few seconds covers a loaded HA host
# still loading its model, and keeps a settings form from hanging.
WYOMING_TIMEOUT_S: Final = 3.0
# Wyoming's info lists programs per kind: "asr" (speech-to-text) and "tts" (text-to-speech).
_KIND: Final = {"stt": ("asr", "speech-to-text"), "tts": ("tts", "text-to-speech")}


def shown(url: str) -> str:
    """``host:port`` of a Wyoming URL, as the user typed it."""
    host, port = parse_tcp_url(url)
    return f"{host}:{port}"


async def check_wyoming(role: str, url: str, timeout_s: float = WYOMING_TIMEOUT_S) -> str | None:
    """None when a Wyoming service at ``url`` offers ``role`` (stt or tts); else the reason, for the form."""
    kind, name = _KIND[role]
    try:
        info = await describe(url, timeout_s)
    except VoiceEngineError:
        return f"no Wyoming service at {shown(url)}"
    programs = info.get(kind)
    if not isinstance(programs, list) or not any(isinstance(p, dict) and p.get("installed", True) for p in programs):
        offered = sorted(key for key in ("asr", "tts", "wake", "handle", "intent") if info.get(key))
        return f"the Wyoming service at {shown(url)} offers no {name} (it offers: {', '.join(offered) or 'nothing'})"
    return None


_REFUSALS: Final = {
    401: "the registrar rejected the username or password ({code})",
    403: "the registrar rejected the password ({code})",
    404: "the registrar does not know the user {user} ({code})",
    407: "the registrar rejected the username or password ({code})",
    408: "no answer from the registrar at {hostport} ({code})",
}


def registration(
    code: int | None, reason: str, *, registered: bool, hostport: str | None, user: str | None
) -> Registration:
    """Describe the trunk's registration as the protocol reports it, with a reason a user understands."""
    if hostport is None:
        return Registration(state=RegistrationState.NOT_CONFIGURED, code=None, reason=None, registrar=None)
    if registered:
        return Registration(state=RegistrationState.REGISTERED, code=code or 200, reason=None, registrar=hostport)
    if not code:
        return Registration(state=RegistrationState.REGISTERING, code=None, reason=None, registrar=hostport)
    template = _REFUSALS.get(code)
    if template is None:
        text = f"the registrar at {hostport} answered {code} {reason}".strip()
    else:
        text = template.format(code=code, hostport=hostport, user=user or "")
    return Registration(state=RegistrationState.FAILED, code=code, reason=text, registrar=hostport)
