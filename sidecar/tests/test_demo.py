"""The demo's pure parts: the flow it stores, and how it judges a call against the simulator's ground truth."""

from __future__ import annotations

from hold_slayer_sidecar.nav.flows import CallFlow
from hold_slayer_tools.demo import COMPANIES_DIR, TestIntent, Timeline, build_flow, load_intents, summarise


def test_every_shipped_company_yields_valid_flows() -> None:
    files = sorted(COMPANIES_DIR.glob("*.yaml"))
    assert len(files) >= 6
    for path in files:
        company_id, name, intents = load_intents(path)
        for intent in intents:
            flow = CallFlow.model_validate(build_flow(company_id, name, intent, f"sip:{company_id}@h"))
            assert flow.steps[-1].kind == "hold"
            keys = [s.digits for s in flow.steps if s.kind == "dtmf"]
            assert keys == [k for k in intent.path if k != "say"]


def test_say_steps_wait_for_the_question() -> None:
    flow = build_flow("ins", "Insurance", TestIntent("my car was stolen", "claims", ["say"]), "sip:ins@h")
    assert [s["kind"] for s in flow["steps"]] == ["wait", "speak", "hold"]
    assert "seconds" not in flow["steps"][0]  # until the prompt ends
    assert flow["steps"][1]["text"] == "my car was stolen"


def timeline(**marks: float) -> Timeline:
    t = Timeline(quiet=True, start=1000.0, marks=dict(marks))
    t.final = {"outcome": "connected", "human_detected_at": None, "digits_sent": "1", "recordings": []}
    return t


def lines(agent_at: float | None) -> list[dict[str, object]]:
    out: list[dict[str, object]] = [{"event": "department_reached", "department": "claims", "wall": 1005.0}]
    if agent_at is not None:
        out.append({"event": "agent_started", "wall": 1000.0 + agent_at})
    return out


def test_ringing_the_user_before_the_agent_spoke_is_a_false_transfer() -> None:
    intent = TestIntent("x", "claims", ["1"])
    kwargs = {"intent": intent, "company_id": "c", "phone_lines": [], "cpu_used": 1.0, "duration": 60.0}
    good = summarise(timeline(ringing_user=31.0, bridged=33.0), company_lines=lines(30.0), **kwargs)  # type: ignore[arg-type]
    assert good.connected and good.summary["false_transfer"] is False and good.summary["department_ok"]
    early = summarise(timeline(ringing_user=20.0, bridged=22.0), company_lines=lines(30.0), **kwargs)  # type: ignore[arg-type]
    assert early.summary["false_transfer"] is True and not early.connected
    no_agent = summarise(timeline(ringing_user=20.0), company_lines=lines(None), **kwargs)  # type: ignore[arg-type]
    assert no_agent.summary["false_transfer"] is True
