"""The loss causes of a real-mode IVR run: log lines, their calls and the cause of each miss."""

from __future__ import annotations

from hold_slayer_tools.bench.ivr_causes import NavLine, ending, owner, parse_nav_lines, wait_cause

LOG = (
    "2026-12-07 21:48:47,299 INFO hold_slayer_sidecar.nav.navigator: wait (unsure (weak: 4 'a track' 0.43, margin "
    '0.06): waiting for the menu to be replayed, settled) after "Press 3. A track and appliance. Press 4."\n'
    "2026-12-07 21:48:47,770 INFO hold_slayer_sidecar.calls.effects: call df53: relabel span 'x' -> None\n"
)


def test_navigator_lines_are_read_with_their_time_and_prompt() -> None:
    (line,) = parse_nav_lines(LOG)
    assert line.heard == "Press 3. A track and appliance. Press 4."
    assert line.decision.startswith("wait (unsure (weak")
    assert wait_cause(line.decision) == "weak, still waiting for a replay"


def test_a_line_goes_to_the_call_whose_company_said_its_words() -> None:
    line = NavLine(100.0, "wait", "Press 1 for reservations. Press 2 for rewards.")
    spans = {"hotel-1": (90.0, 120.0, {"reservations", "rewards", "press"}), "gym-2": (95.0, 130.0, {"press", "gym"})}
    assert owner(line, spans) == "hotel-1"
    assert owner(NavLine(200.0, "wait", "x"), spans) is None  # no call up then


def test_a_miss_ends_on_a_wrong_key_or_the_companys_timeout() -> None:
    said = [{"event": "caller_said"}, {"event": "dtmf", "digit": "3"}]
    assert ending(said, ["say", "2"]) == "wrong key"
    assert ending([{"event": "menu_gave_up"}], ["1"]) == "company timeout, no key from us"
    assert ending([{"event": "caller_said"}], ["1"]) == "spoke instead of a key"
