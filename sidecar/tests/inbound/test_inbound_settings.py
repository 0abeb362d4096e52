"""The inbound section of the sidecar settings."""

from __future__ import annotations

import pytest
from hold_slayer_sidecar.settings import InboundSettings
from pydantic import ValidationError


def test_defaults_are_a_90_second_message_box() -> None:
    """Voicemail: 90 s at most, 10 s of silence ends it, robocalls to the message box."""
    settings = InboundSettings()
    assert settings.voicemail_limit_s == 90 and settings.voicemail_silence_s == 10
    assert settings.robocall_action == "voicemail" and settings.enabled


@pytest.mark.parametrize(
    "bad",
    [
        {"time_zone": "Mars/Olympus"},
        {"voicemail_limit_s": 5},
        {"voicemail_limit_s": 3600},
        {"voicemail_silence_s": 0},
        {"robocall_action": "dial_back"},
        {"max_calls": 0},
        {"owner": "Alex"},
    ],
)
def test_bad_inbound_settings_are_refused(bad: dict[str, object]) -> None:
    """Out-of-range or unknown values stop the sidecar with a clear error."""
    with pytest.raises(ValidationError):
        InboundSettings.model_validate(bad)
