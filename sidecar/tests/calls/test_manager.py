"""CallManager driving fake engines: the whole call as a user would see it in events."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import TEST_POLICY, FakeDetector, FakeNavigator, FakeSip, FakeStt, FakeTts, Rig, settle
from hold_slayer_sidecar.audio.types import Observation
from hold_slayer_sidecar.audio.types import ObservationKind as K
from hold_slayer_sidecar.calls.errors import CallError
from hold_slayer_sidecar.calls.manager import CallManager
from hold_slayer_sidecar.calls.ports import Engines, ManagerConfig
from hold_slayer_sidecar.nav.api import NavAction, NavDecision
from hold_slayer_sidecar.nav.flows import CallFlow, FlowStep, FlowStepKind
from hold_slayer_sidecar.protocol import ErrorCode
from hold_slayer_sidecar.sip.api import LegEventKind
from hold_slayer_sidecar.store.sqlite import Store
from hold_slayer_sidecar.voice.api import Transcript

COMPANY = "sip:bank@127.0.0.1"
USER = "sip:me@127.0.0.1"
BANK_FLOW = CallFlow(
    id="bank-cards",
    name="Bank cards",
    company="bank",
    intent="lost card",
    department="cards",
    steps=[
        FlowStep(kind=FlowStepKind.DTMF, digits="1"),
        FlowStep(kind=FlowStepKind.DTMF, digits="2"),
        FlowStep(kind=FlowStepKind.HOLD),
    ],
)


def ob(kind: K, t: float = 1.0) -> Observation:
    return Observation(kind, t)


async def test_flow_hold_human_user_bridged(rig: Rig) -> None:
    await rig.manager.save_flow(BANK_FLOW)
    info = await rig.manager.place_call(COMPANY, company="bank", intent="lost card")
    await settle()
    assert info["department"] == "cards"
    company_leg = rig.sip.dialed[0][0]
    assert rig.sip.dtmf == [(company_leg, "1"), (company_leg, "2")]
    # Each key cuts the speech going on; navigation is not over yet: the company may still be confirming.
    assert rig.detectors[0].notes == ["key_sent", "key_sent"]
    await rig.observe(company_leg, ob(K.HOLD_STARTED), ob(K.MUSIC))
    assert rig.detectors[0].notes == ["key_sent", "key_sent", "ivr_done"]
    assert len(rig.sip.dialed) == 1  # music never rings the user
    await rig.observe(company_leg, ob(K.HUMAN_DETECTED, 40.0))
    user_leg, target = rig.sip.dialed[1]
    assert target == USER
    assert rig.sip.near == [None, company_leg]  # the user's leg joins its company leg's media process
    rig.sip.emit(user_leg, LegEventKind.ANSWERED)
    await settle()
    assert rig.sip.bridged == [(company_leg, user_leg)]
    rig.sip.emit(company_leg, LegEventKind.DISCONNECTED, 200, "BYE")
    await settle()
    assert rig.states() == ["dialing", "ringing", "ivr", "hold", "human", "ringing_user", "bridged", "ended"]
    assert rig.names().count("dtmf_sent") == 2
    for name in ("hold_started", "hold_ended", "human_detected", "user_ringing", "bridged", "call_ended"):
        assert name in rig.names()
    ended = next(data for name, data in rig.events if name == "call_ended")
    assert ended["outcome"] == "connected" and ended["call_id"] == info["call_id"]
    assert user_leg in rig.sip.hung_up  # the user's leg is closed when the company hangs up
    assert {p.name.rsplit("-", 1)[1] for p in rig.sip.recordings} == {"company.wav", "user.wav", "mix.wav"}
    for _ in range(100):  # the store works in a thread
        history = await rig.manager.history(10, None)
        if history["calls"]:
            break
        await asyncio.sleep(0.02)
    assert history["calls"][0]["outcome"] == "connected"
    assert history["calls"][0]["department"] == "cards"
    assert len(history["calls"][0]["recordings"]) == 3


async def test_failing_helpers_keep_the_call(rig: Rig) -> None:
    rig.tts.fail = True
    rig.stt.fail = True
    rig.navigator.fail = True
    await rig.manager.place_call(COMPANY, intent="billing")
    await settle()
    leg = rig.sip.dialed[0][0]
    await rig.observe(leg, Observation(K.SPEECH_SEGMENT, 3.0, audio=np.zeros(800, dtype=np.int16)))
    await rig.observe(leg, ob(K.HOLD_STARTED))
    await rig.observe(leg, ob(K.HUMAN_UNCERTAIN))
    await rig.observe(leg, ob(K.SILENCE))
    await settle()  # the probe cannot be spoken: back to hold
    rig.detectors[0].fail = True
    rig.sip.push_audio(leg, frames=5)  # a crashing detector is logged, the call stays
    rig.detectors[0].fail = False
    await rig.observe(leg, ob(K.HUMAN_DETECTED))
    assert rig.sip.dialed[1][1] == USER
    assert rig.states()[-3:] == ["human", "ringing_user", "bridged"]


async def test_navigator_chooses_digits_from_the_transcript(rig: Rig) -> None:
    # The first short segment is decoded twice: once quickly for a person's greeting, once as a menu.
    rig.stt.texts = ["For billing press 2.", "For billing press 2."]
    await rig.manager.place_call(COMPANY, intent="billing")
    await settle()
    leg = rig.sip.dialed[0][0]
    await rig.observe(leg, Observation(K.SPEECH_SEGMENT, 3.0, audio=np.zeros(800, dtype=np.int16)))
    await settle()
    assert rig.navigator.prompts == ["For billing press 2."]
    assert rig.sip.dtmf == [(leg, "2")]
    transcript = next(data for name, data in rig.events if name == "transcript")
    assert transcript["speaker"] == "company" and transcript["text"] == "For billing press 2."


async def test_probe_hello_then_person(rig: Rig) -> None:
    await rig.manager.place_call(COMPANY)
    await settle()
    leg = rig.sip.dialed[0][0]
    await rig.observe(leg, ob(K.HOLD_STARTED))
    await rig.observe(leg, ob(K.HUMAN_UNCERTAIN))
    assert rig.sip.played == []  # waits for a pause after the speech
    await rig.observe(leg, Observation(K.SPEECH_SEGMENT, 3.0, audio=np.zeros(800, dtype=np.int16)))
    assert rig.sip.played == []
    await rig.observe(leg, ob(K.SILENCE))
    assert rig.sip.played == [leg]
    assert rig.tts.said.count("Hello?") == 1  # synthesised once (warm-up), then cached
    assert "probe_sent" in rig.detectors[0].notes
    said = [data for name, data in rig.events if name == "transcript" and data["speaker"] == "hold_slayer"]
    assert [line["text"] for line in said] == ["Hello?"]  # what Hold Slayer says is in the transcript too
    assert len(rig.sip.dialed) == 1
    await rig.observe(leg, ob(K.HUMAN_DETECTED))
    assert rig.states()[-4:] == ["probing", "human", "ringing_user", "bridged"]


async def test_user_does_not_answer(rig: Rig) -> None:
    rig.sip.behaviour[USER] = "silent"
    await rig.manager.place_call(COMPANY)
    await settle()
    leg = rig.sip.dialed[0][0]
    await rig.observe(leg, ob(K.HOLD_STARTED), ob(K.HUMAN_DETECTED))
    await asyncio.sleep(0.9)  # ring_user_s 0.5 + goodbye
    await settle()
    ended = next(data for name, data in rig.events if name == "call_ended")
    assert ended["outcome"] == "user_missed"
    assert rig.tts.said[-1].startswith("Sorry")
    assert leg in rig.sip.hung_up


async def test_emergency_numbers_are_refused_before_any_sip(rig: Rig) -> None:
    for target in ("911", "sip:112@example.com", "tel:999"):
        with pytest.raises(CallError) as err:
            await rig.manager.place_call(target)
        assert err.value.code is ErrorCode.EMERGENCY_NUMBER
    with pytest.raises(CallError):
        await rig.manager.place_call(COMPANY, transfer_to="911")
    assert rig.sip.dialed == []


@pytest.mark.parametrize(
    ("target", "transfer_to", "code"),
    [
        ("+1 911", None, ErrorCode.EMERGENCY_NUMBER),
        ("sip:%39%31%31@example.com", None, ErrorCode.EMERGENCY_NUMBER),
        ("sip:x@example.com?X-Injected=1", None, ErrorCode.INVALID_DATA),
        (COMPANY, "+1 911", ErrorCode.EMERGENCY_NUMBER),
        (COMPANY, "sip:me@example.com;maddr=203.0.113.9", ErrorCode.INVALID_DATA),
        (COMPANY, "call me", ErrorCode.INVALID_DATA),
    ],
)
async def test_both_ends_are_checked_by_the_dialling_policy_when_the_call_is_placed(
    rig: Rig, target: str, transfer_to: str | None, code: ErrorCode
) -> None:
    """transfer_to is validated when the call is placed, not when a person answers (issue #17)."""
    with pytest.raises(CallError) as err:
        await rig.manager.place_call(target, transfer_to=transfer_to)
    assert err.value.code is code
    assert rig.sip.dialed == []


async def test_too_many_calls(rig: Rig) -> None:
    await rig.manager.place_call(COMPANY)
    await rig.manager.place_call(COMPANY)
    with pytest.raises(CallError) as err:
        await rig.manager.place_call(COMPANY)
    assert err.value.code is ErrorCode.TOO_MANY_CALLS
    assert rig.manager.active_calls == 2


async def test_sip_failure_and_busy(rig: Rig) -> None:
    rig.sip.behaviour["sip:down@127.0.0.1"] = "error"
    with pytest.raises(CallError) as err:
        await rig.manager.place_call("sip:down@127.0.0.1")
    assert err.value.code is ErrorCode.SIP_ERROR
    rig.sip.behaviour["sip:busy@127.0.0.1"] = "busy"
    await rig.manager.place_call("sip:busy@127.0.0.1")
    await settle()
    ended = [data for name, data in rig.events if name == "call_ended"]
    assert [e["outcome"] for e in ended] == ["failed", "failed"]
    assert "486" in ended[1]["reason"]
    assert rig.manager.active_calls == 0


async def test_leg_that_ends_before_dial_returns_still_fails_the_call(rig: Rig) -> None:
    rig.sip.behaviour["sip:gone@127.0.0.1"] = "instant_fail"
    info = await rig.manager.place_call("sip:gone@127.0.0.1")
    await settle()
    assert rig.states() == ["dialing", "failed"]
    ended = [data for name, data in rig.events if name == "call_ended"]
    assert [e["call_id"] for e in ended] == [info["call_id"]]
    assert "503" in ended[0]["reason"]
    assert rig.manager.active_calls == 0


async def test_unknown_flow_and_missing_call(rig: Rig) -> None:
    with pytest.raises(CallError) as err:
        await rig.manager.place_call(COMPANY, call_flow="nope")
    assert err.value.code is ErrorCode.NOT_FOUND
    with pytest.raises(CallError) as err:
        await rig.manager.hang_up("nope")
    assert err.value.code is ErrorCode.NOT_FOUND


async def test_hang_up_and_manual_dtmf(rig: Rig) -> None:
    info = await rig.manager.place_call(COMPANY)
    await settle()
    await rig.manager.send_dtmf(info["call_id"], "5#")
    await settle()
    assert rig.sip.dtmf[-1][1] == "5#"
    ended = await rig.manager.hang_up(info["call_id"])
    await settle()
    assert ended["outcome"] == "cancelled"
    assert rig.sip.dialed[0][0] in rig.sip.hung_up
    snapshot = rig.manager.snapshot()
    assert snapshot["calls"][0]["digits_sent"] == "5#"
    assert snapshot["sidecar"]["engines"]["tts"] == "ok"


async def test_inbound_calls_are_rejected_and_never_dialled_out(rig: Rig) -> None:
    rig.sip.live.add("in-1")
    rig.sip.emit("in-1", LegEventKind.INCOMING, remote="sip:stranger@127.0.0.1")
    await settle()
    assert "in-1" in rig.sip.hung_up
    assert rig.sip.dialed == []


async def test_stop_hangs_up_every_call(rig: Rig) -> None:
    await rig.manager.place_call(COMPANY)
    await settle()
    leg = rig.sip.dialed[0][0]
    await rig.manager.stop()
    assert leg in rig.sip.hung_up
    ended = next(data for name, data in rig.events if name == "call_ended")
    assert ended["outcome"] == "cancelled"


class _SizedStt:
    """Answers with how many samples it was given, so the test sees what was transcribed together."""

    def __init__(self) -> None:
        self.sizes: list[int] = []

    async def transcribe(self, pcm: np.ndarray, sample_rate: int) -> Transcript:
        self.sizes.append(int(pcm.size))
        return Transcript(f"part {len(self.sizes)}.")

    async def health(self) -> str:
        return "ok"


def _listening_rig(tmp_path: Path, store: Store, stt: Any, **config: Any) -> Rig:
    """A manager whose navigator only listens (WAIT), with this STT and these ManagerConfig options."""
    sip, navigator, detectors = FakeSip(), FakeNavigator(), []
    navigator.answer = NavDecision(NavAction.WAIT)

    def factory(sample_rate: int) -> FakeDetector:
        detectors.append(FakeDetector())
        return detectors[-1]

    engines = Engines(
        sip=sip, detector_factory=factory, store=store, stt=stt, tts=FakeTts(), navigator_factory=lambda f: navigator
    )
    settings = ManagerConfig(recordings_dir=tmp_path / "rec", user_phone=USER, policy=TEST_POLICY, **config)
    return Rig(CallManager(engines, settings), sip, detectors, FakeTts(), stt, navigator, store)


async def test_whole_prompt_mode_transcribes_all_menu_audio_since_the_last_move(tmp_path: Path, store: Store) -> None:
    stt = _SizedStt()
    rig = _listening_rig(tmp_path, store, stt, whole_prompt_stt=True)
    navigator = rig.navigator
    await rig.manager.start()
    try:
        await rig.manager.place_call(COMPANY, intent="billing")
        await settle()
        leg = rig.sip.dialed[0][0]
        for t in (3.0, 5.0):
            await rig.observe(leg, Observation(K.SPEECH_SEGMENT, t, audio=np.zeros(800, dtype=np.int16)))
            await settle()
        # The second segment was transcribed with the first (its menu decode; the greeting decode joins them too).
        assert stt.sizes[-1] == 800 + 2400 + 800 and 800 in stt.sizes
        assert navigator.prompts[-1] == f"part {len(stt.sizes)}."  # the whole-prompt transcript replaces the rest
    finally:
        await rig.manager.stop()


class _GatedStt:
    """Holds every transcription until released, so a test can see what happens while one is in flight."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.calls = 0

    async def transcribe(self, pcm: np.ndarray, sample_rate: int) -> Transcript:
        self.calls += 1
        await self.gate.wait()
        return Transcript("This is Dana.")

    async def health(self) -> str:
        return "ok"


async def test_a_partial_is_skipped_while_speech_to_text_is_busy_and_used_when_free(
    tmp_path: Path, store: Store
) -> None:
    sip, stt, detectors = FakeSip(), _GatedStt(), []

    def factory(sample_rate: int) -> FakeDetector:
        detectors.append(FakeDetector())
        return detectors[-1]

    engines = Engines(sip=sip, detector_factory=factory, store=store, stt=stt, tts=FakeTts())
    config = ManagerConfig(recordings_dir=tmp_path / "rec", user_phone=USER, policy=TEST_POLICY)
    rig = Rig(CallManager(engines, config), sip, detectors, FakeTts(), FakeStt(), FakeNavigator(), store)
    rig.manager.subscribe(lambda name, data: rig.events.append((name, data)))
    await rig.manager.start()
    audio = np.zeros(800, dtype=np.int16)
    try:
        await rig.manager.place_call(COMPANY)
        await settle()
        leg = rig.sip.dialed[0][0]
        await rig.observe(leg, Observation(K.HOLD_STARTED, 10.0))
        await rig.observe(leg, Observation(K.SPEECH_SEGMENT, 20.0, audio=audio))
        await settle()
        busy = stt.calls
        await rig.observe(leg, Observation(K.SPEECH_PARTIAL, 21.5, audio=audio))  # the segment is still in flight
        await settle()
        assert stt.calls == busy
        stt.gate.set()
        await settle()
        await rig.observe(leg, Observation(K.SPEECH_PARTIAL, 23.0, audio=audio))
        await settle()
        assert stt.calls == busy + 1
        assert detectors[0].notes[-1] == "partial:This is Dana."
        assert [d["text"] for n, d in rig.events if n == "transcript"] == ["This is Dana."]  # partials not published
    finally:
        await rig.manager.stop()


async def _until(condition: Callable[[], bool], timeout_s: float = 60.0) -> None:
    """Wait for work done in worker threads (label rescoring) to reach the call (a loaded machine takes its time)."""
    for _ in range(int(timeout_s / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)


class _ScoringStt:
    """Mishears a menu label, and (as the embedded whisper can) scores given texts: the true label fits best."""

    def __init__(self) -> None:
        self.scored: list[list[str]] = []

    async def transcribe(self, pcm: np.ndarray, sample_rate: int) -> Transcript:
        return Transcript("Press 1 for tremendous and damage cards.", 0.4)

    async def score_texts(
        self, pcm: np.ndarray, sample_rate: int, texts: Sequence[str], *, budget_s: float = 1.5, fit: bool = False
    ) -> list[float | None]:
        self.scored.append(list(texts))
        return [-8.0 if "credit and debit cards" in t else -13.0 if "tremendous" in t else -30.0 for t in texts]

    async def health(self) -> str:
        return "ok"


@pytest.mark.parametrize("relabel", [True, False])
async def test_a_misheard_menu_label_is_rescored_unless_turned_off(tmp_path: Path, store: Store, relabel: bool) -> None:
    stt = _ScoringStt()
    rig = _listening_rig(tmp_path, store, stt, relabel_menus=relabel)
    navigator = rig.navigator
    await rig.manager.start()
    try:
        await rig.manager.place_call(COMPANY, intent="I lost my debit card")
        await settle()
        leg = rig.sip.dialed[0][0]
        await rig.observe(leg, Observation(K.SPEECH_SEGMENT, 3.0, audio=np.zeros(800, dtype=np.int16)))
        await _until(lambda: bool(navigator.prompts))
        if relabel:
            # The decode reaches the navigator at once; the rescoring (a worker thread) corrects it afterwards.
            assert navigator.prompts[0] == "Press 1 for tremendous and damage cards."
            await _until(lambda: "credit and debit cards" in navigator.prompts[-1])
            assert stt.scored
        else:
            heard = navigator.prompts[-1]
            assert not stt.scored and heard == "Press 1 for tremendous and damage cards."
    finally:
        await rig.manager.stop()


class _MisheardKeyStt:
    """Hears "press 2" as "Press R." (a letter in the key's place); the audio, scored, says 2."""

    def __init__(self) -> None:
        self.scored: list[list[str]] = []
        self.fitted: list[bool] = []

    async def transcribe(self, pcm: np.ndarray, sample_rate: int) -> Transcript:
        return Transcript("For billing questions, Press R.", 0.5)

    async def score_texts(
        self, pcm: np.ndarray, sample_rate: int, texts: Sequence[str], *, budget_s: float = 1.5, fit: bool = False
    ) -> list[float | None]:
        self.scored.append(list(texts))
        self.fitted.append(fit)
        return [-9.0 if t.endswith("Press 2.") else -14.0 if "Press R" in t else -20.0 for t in texts]

    async def health(self) -> str:
        return "ok"


@pytest.mark.parametrize("relabel", [True, False])
async def test_a_misheard_key_is_checked_against_the_audio_before_the_navigator_hears_it(
    tmp_path: Path, store: Store, relabel: bool
) -> None:
    stt = _MisheardKeyStt()
    rig = _listening_rig(tmp_path, store, stt, relabel_menus=relabel)
    navigator = rig.navigator
    await rig.manager.start()
    try:
        await rig.manager.place_call(COMPANY, intent="a question about my bill")
        await settle()
        leg = rig.sip.dialed[0][0]
        await rig.observe(leg, Observation(K.SPEECH_SEGMENT, 3.0, audio=np.zeros(800, dtype=np.int16)))
        await _until(lambda: bool(navigator.prompts))
        if relabel:
            # The very first prompt the navigator sees has the key: no decision is taken on the lost one.
            assert navigator.prompts[0] == "For billing questions, Press 2."
            assert stt.fitted and stt.fitted[0] is True  # scored on the short window the segment was decoded on
        else:
            assert navigator.prompts[0] == "For billing questions, Press R." and not stt.scored
    finally:
        await rig.manager.stop()


class _SplitLabelStt:
    """Hears "Press 3 to start, | stop or move your service." as two misheard segments; scores whole texts."""

    def __init__(self) -> None:
        self.scored_sizes: list[int] = []

    async def transcribe(self, pcm: np.ndarray, sample_rate: int) -> Transcript:
        # The test marks each segment's samples: 1 for the first half of the option, 2 for the rest.
        heard = {1: "Press 3 to talk.", 2: "I'll put a move your term is."}
        return Transcript(heard.get(int(pcm[0]) if pcm.size else 0, ""), 0.6)  # garbled: unsure

    async def score_texts(
        self, pcm: np.ndarray, sample_rate: int, texts: Sequence[str], *, budget_s: float = 1.5, fit: bool = False
    ) -> list[float | None]:
        self.scored_sizes.append(int(pcm.size))
        # Alone, the first half fits its own decode best; over both segments the true label does.
        fit = {"Press 3 to talk.": -5.0, "Press 3 to start, stop or move your service.": -9.0}
        return [fit.get(t, -10.0 if "I'll put" in t else -30.0) for t in texts]

    async def health(self) -> str:
        return "ok"


async def test_a_label_cut_in_two_by_a_pause_is_rescored_over_both_segments(tmp_path: Path, store: Store) -> None:
    stt = _SplitLabelStt()
    rig = _listening_rig(tmp_path, store, stt)
    navigator = rig.navigator
    await rig.manager.start()
    try:
        await rig.manager.place_call(COMPANY, intent="I'm moving to a new address")
        await settle()
        leg = rig.sip.dialed[0][0]
        # 0.1 s segments 0.4 s apart: one option said with a pause at its comma.
        await rig.observe(leg, Observation(K.SPEECH_SEGMENT, 3.0, audio=np.full(800, 1, dtype=np.int16)))
        await rig.observe(leg, Observation(K.SPEECH_SEGMENT, 3.5, audio=np.full(800, 2, dtype=np.int16)))
        await _until(lambda: any("service" in p for p in navigator.prompts))  # rescorings run in worker threads
        assert navigator.prompts[-1] == "Press 3 to talk. / Start, stop or move your service."
        assert max(stt.scored_sizes) == 800 + 2400 + 800  # both segments' audio scored as one
    finally:
        await rig.manager.stop()


class _QuickStt(_SizedStt):
    """Also offers the quick decode (QuickTranscriber), and records which one each clip got."""

    def __init__(self) -> None:
        super().__init__()
        self.ways: list[str] = []

    async def transcribe(self, pcm: np.ndarray, sample_rate: int) -> Transcript:
        self.ways.append("careful")
        return await super().transcribe(pcm, sample_rate)

    async def transcribe_quick(self, pcm: np.ndarray, sample_rate: int) -> Transcript:
        self.ways.append("quick")
        return await super().transcribe(pcm, sample_rate)


async def test_queue_speech_gets_the_quick_decode_and_menus_the_careful_one(tmp_path: Path, store: Store) -> None:
    stt = _QuickStt()
    rig = _listening_rig(tmp_path, store, stt)
    await rig.manager.start()
    try:
        await rig.manager.place_call(COMPANY, intent="billing")
        await settle()
        leg = rig.sip.dialed[0][0]
        clip = np.zeros(800, dtype=np.int16)
        await rig.observe(leg, Observation(K.SPEECH_SEGMENT, 3.0, data={"context": "ivr"}, audio=clip))
        await rig.observe(leg, Observation(K.HOLD_STARTED, 10.0))
        await rig.observe(leg, Observation(K.SPEECH_SEGMENT, 20.0, data={"context": "hold"}, audio=clip))
        await settle()
        assert stt.ways[-2:] == ["careful", "quick"]  # (the first is the warm-up at start)
    finally:
        await rig.manager.stop()


@pytest.mark.parametrize("bridged", [False, True])
async def test_a_crashed_media_worker_fails_the_call_with_its_reason(rig: Rig, bridged: bool) -> None:
    """The pool ends a dead worker's legs as lost: the call says why, and no one is blamed for hanging up."""
    await rig.manager.place_call(COMPANY)
    await settle()
    company_leg = rig.sip.dialed[0][0]
    await rig.observe(company_leg, ob(K.HOLD_STARTED), ob(K.HUMAN_DETECTED, 40.0))
    reason = "media worker 1 crashed (killed by signal 11, SIGSEGV); restarted"
    if bridged:
        user_leg = rig.sip.dialed[1][0]
        rig.sip.emit(user_leg, LegEventKind.ANSWERED)
        await settle()
        assert rig.states()[-1] == "bridged"
        rig.sip.emit(user_leg, LegEventKind.DISCONNECTED, 500, reason, lost=True)  # either leg's event may come first
    rig.sip.emit(company_leg, LegEventKind.DISCONNECTED, 500, reason, lost=True)
    await settle()
    ended = next(data for name, data in rig.events if name == "call_ended")
    assert ended["outcome"] == "failed"
    assert ended["reason"] == reason
