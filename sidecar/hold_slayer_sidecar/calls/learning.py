"""Turn an explored call (no stored flow, the navigator chose) into a stored call flow for next time."""

from __future__ import annotations

from collections.abc import Sequence

from ..nav.api import Navigator
from ..nav.flows import CallFlow
from ..nav.learner import build_flow, merge_flow
from ..nav.navigator import NavRecord
from .session import CallSession


def learned_flow(session: CallSession, navigator: Navigator | None) -> CallFlow | None:
    """Build the flow an explored call took to reach a person, or None when there is nothing to learn."""
    if session.flow is not None or session.human_detected_at is None or not session.intent:
        return None
    trace: Sequence[NavRecord] | None = getattr(navigator, "trace", None)  # MenuNavigator keeps its decisions
    if not trace:
        return None
    return build_flow(
        trace,
        intent=session.intent,
        department=session.department,
        number=session.target,
        company=session.company,
        human_answered=True,
    )


def merged_flows(existing: Sequence[CallFlow], new: CallFlow) -> list[CallFlow]:
    """Return the number's flows after adding ``new`` (only the flows that changed need saving)."""
    same_number = [flow for flow in existing if flow.number == new.number]
    return [flow for flow in merge_flow(same_number, new) if flow not in same_number]
