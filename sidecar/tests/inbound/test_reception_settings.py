"""The receptionist's greeting and the owner's name set from Home Assistant (``configure``'s receptionist section)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hold_slayer_sidecar.__main__ import reception_applier
from hold_slayer_sidecar.configure import store
from hold_slayer_sidecar.configure.model import ConfigureRequest
from hold_slayer_sidecar.inbound.receptionist.config import DEFAULT_GREETING
from hold_slayer_sidecar.inbound.receptionist.dialogue import Receptionist
from hold_slayer_sidecar.settings import SidecarSettings
from pydantic import ValidationError

from .fakes import FakeScreener, FakeStt, FakeTts, speech_frames
from .rig import rig


def _yaml(tmp_path: Path) -> SidecarSettings:
    """Settings as a YAML file would give them: an owner's name and a greeting of their own."""
    return SidecarSettings(
        data_dir=tmp_path,
        inbound={"owner_name": "Yaml"},  # type: ignore[arg-type]
        receptionist={"owner_name": "Yaml", "greeting": "Yaml's phone, {owner} speaking?"},  # type: ignore[arg-type]
    )


async def test_a_greeting_and_name_from_ha_are_used_by_the_next_call(tmp_path: Path) -> None:
    """Applied live: the receptionist says the new greeting with the new name; the YAML's name does not shadow it."""
    screener = FakeScreener()
    async with rig(tmp_path, screener=screener) as r:
        receptionist = Receptionist(sip=r.sip, tts=FakeTts(), stt=FakeStt())
        apply = reception_applier(receptionist, r.calls)
        request = ConfigureRequest.model_validate(
            {"receptionist": {"owner_name": " Alex ", "greeting": "Hello, this is {owner}'s phone. Who is it?"}}
        )
        apply(store.overlay(_yaml(tmp_path), request))
        r.sip.caller_audio["in-1"] = speech_frames(0.5)  # nobody to ring: a short message, then the caller is gone
        await r.call_in()
        await r.settle()
        (context,) = screener.contexts
        assert context.owner_name == "Alex"
        assert receptionist.settings.greeting_text(context.owner_name) == "Hello, this is Alex's phone. Who is it?"


def test_without_a_greeting_the_built_in_one_is_said_and_without_a_name_it_is_left_out(tmp_path: Path) -> None:
    new = store.overlay(_yaml(tmp_path), ConfigureRequest.model_validate({"receptionist": {}}))
    assert new.receptionist.greeting == DEFAULT_GREETING
    assert new.inbound.owner_name is None and new.receptionist.owner_name is None
    assert new.receptionist.greeting_text(new.inbound.owner_name) == (
        "Hi, you've reached this line. Who's calling, and what's it about?"
    )
    assert new.receptionist.max_listen_s == _yaml(tmp_path).receptionist.max_listen_s  # the YAML's tuning stays


def test_the_section_is_kept_and_read_back(tmp_path: Path) -> None:
    request = ConfigureRequest.model_validate({"receptionist": {"owner_name": "Alex", "greeting": "Hi {owner}"}})
    merged = store.merge(None, request)
    store.save(tmp_path, merged)
    kept = store.load(tmp_path)
    assert kept is not None and kept.sections() == ["receptionist"]
    assert store.dump(kept, secrets=False) == {"receptionist": {"owner_name": "Alex", "greeting": "Hi {owner}"}}


HOSTILE: list[tuple[str, Any, str]] = [
    ("unknown placeholder", {"greeting": "Hi, {name} here"}, "only {owner} may be used, not ['name']"),
    ("attribute of the placeholder", {"greeting": "{owner.__class__}"}, "only {owner} may be used"),
    ("index of the placeholder", {"greeting": "{owner[0]}"}, "only {owner} may be used"),
    ("positional placeholder", {"greeting": "Hi {}"}, "only {owner} may be used"),
    ("conversion that fails when said", {"greeting": "Hi {owner!x}"}, "only {owner} may be used, not ['owner!x']"),
    ("format spec that makes a huge text", {"greeting": "{owner:>99999999}"}, "only {owner} may be used"),
    ("unbalanced brace", {"greeting": "Hi {owner"}, "not a valid template"),
    ("control character", {"greeting": "Hi\x07 there"}, "control characters"),
    ("empty greeting", {"greeting": ""}, "greeting"),
    ("huge greeting", {"greeting": "a" * 10_000}, "greeting"),
    ("greeting not text", {"greeting": 12}, "greeting"),
    ("brace in the name", {"owner_name": "{owner}"}, "owner_name"),
    ("newline in the name", {"owner_name": "Alex\r\nBob"}, "owner_name"),
    ("huge name", {"owner_name": "A" * 1000}, "owner_name"),
    ("unknown field", {"max_listen_s": 1}, "max_listen_s"),
]


@pytest.mark.parametrize(("case", "section", "says"), HOSTILE, ids=[case for case, _, _ in HOSTILE])
def test_hostile_receptionist_sections_are_refused_with_a_reason(case: str, section: Any, says: str) -> None:
    with pytest.raises(ValidationError) as err:
        ConfigureRequest.model_validate({"receptionist": section})
    assert says in str(err.value), case
