"""Learn call flows from explored calls, merge them per number, and pick the flow for the next call.

A number's flows (one per department/intent) together form its menu tree. After a call that reached a
department (or a person), ``build_flow`` turns the navigator's trace into LISTEN/SPEAK steps ending in HOLD;
``merge_flow`` stores it and carries a changed menu over to sibling flows that pass through the same menu.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from .api import MenuOption, NavAction
from .embedder import EmbedderError, MiniLmEmbedder
from .flows import CallFlow, FlowStep, FlowStepKind
from .matcher import content_words
from .navigator import NavRecord, same_menu

_SLUG = re.compile(r"[^a-z0-9]+")
_SAME_INTENT = 0.75  # cosine above which two intents are treated as the same errand


def _slug(*parts: str | None) -> str:
    text = "-".join(p for p in parts if p)
    return _SLUG.sub("-", text.lower()).strip("-")[:64] or "flow"


def effective_records(trace: Sequence[NavRecord]) -> list[NavRecord]:
    """Keep the decisions that moved the call on: a try the menu answered by repeating itself is dropped."""
    kept: list[NavRecord] = []
    for record in trace:
        if record.decision.action is NavAction.WAIT:
            continue
        if kept and record.options and same_menu(record.options, kept[-1].options):
            kept.pop()  # the earlier press on this same menu was not understood
        kept.append(record)
    return kept


def _step_for(record: NavRecord) -> FlowStep:
    options = {o.digit: o.label for o in record.options}
    if record.decision.action is NavAction.SPEAK:
        return FlowStep(kind=FlowStepKind.SPEAK, text=record.decision.text[:500], expect=record.prompt)
    return FlowStep(kind=FlowStepKind.LISTEN, expect=record.prompt, options=options, choice=record.decision.digits)


def build_flow(
    trace: Sequence[NavRecord],
    *,
    intent: str,
    department: str | None = None,
    number: str | None = None,
    company: str | None = None,
    human_answered: bool = False,
) -> CallFlow | None:
    """Build a flow from one explored call, or None when the call reached neither a department nor a person."""
    if not department and not human_answered:
        return None
    steps = [_step_for(r) for r in effective_records(trace)]
    if not steps:
        # Answered straight by a person: the flow is "ring the user and bridge".
        steps = [FlowStep(kind=FlowStepKind.TRANSFER)]
    elif steps[-1].kind is not FlowStepKind.HOLD:
        steps.append(FlowStep(kind=FlowStepKind.HOLD))
    key = department or intent
    return CallFlow(
        id=_slug(company or number, key),
        name=f"{company or number or 'call'}: {key}"[:120],
        company=company,
        number=number,
        intent=intent,
        department=department,
        steps=steps[:50],
        learned=True,
        calls=1,
    )


def _same_key(a: CallFlow, b: CallFlow) -> bool:
    if a.number != b.number or a.company != b.company:
        return False
    if a.department and b.department:
        return a.department == b.department
    return (a.intent or "").strip().lower() == (b.intent or "").strip().lower()


def _remap_choice(old: FlowStep, new_options: dict[str, str]) -> str | None:
    """Find the key that now carries the label ``old`` chose (menus get renumbered), or None if it is gone."""
    if not old.choice or old.choice not in old.options:
        return None
    wanted = content_words(old.options[old.choice])
    best, best_overlap = None, 0.0
    for digit, label in new_options.items():
        have = content_words(label)
        overlap = len(wanted & have) / max(1, len(wanted | have))
        if overlap > best_overlap:
            best, best_overlap = digit, overlap
    return best if best_overlap >= 0.5 else None


def _refresh_sibling(sibling: CallFlow, new: CallFlow) -> CallFlow:
    """Carry menus the new call heard over to a sibling flow that took the same path up to them."""
    steps = list(sibling.steps)
    changed = False
    for i, (old, fresh) in enumerate(zip(sibling.steps, new.steps, strict=False)):
        if old.kind is not FlowStepKind.LISTEN or fresh.kind is not FlowStepKind.LISTEN:
            break
        old_opts = tuple(MenuOption(d, label) for d, label in old.options.items())
        new_opts = tuple(MenuOption(d, label) for d, label in fresh.options.items())
        if old.options != fresh.options and not same_menu(old_opts, new_opts):
            # Renumbered or reworded: keep the sibling's destination by label; unknown -> decide afresh.
            choice = _remap_choice(old, fresh.options)
            steps[i] = old.model_copy(update={"expect": fresh.expect, "options": fresh.options, "choice": choice})
            changed = True
            break
        if old.choice != fresh.choice:
            break  # the paths part here: deeper menus are not shared
    return sibling.model_copy(update={"steps": steps}) if changed else sibling


def merge_flow(flows: Sequence[CallFlow], new: CallFlow) -> list[CallFlow]:
    """Store ``new`` among a number's flows: replace the flow with the same key, refresh shared menus."""
    merged: list[CallFlow] = []
    replaced = False
    for flow in flows:
        if _same_key(flow, new):
            same_steps = [s.model_dump() for s in flow.steps] == [s.model_dump() for s in new.steps]
            merged.append(new.model_copy(update={"id": flow.id, "calls": flow.calls + 1 if same_steps else 1}))
            replaced = True
        elif flow.number == new.number and flow.company == new.company and flow.learned:
            merged.append(_refresh_sibling(flow, new))
        else:
            merged.append(flow)
    if not replaced:
        merged.append(new)
    return merged


def select_flow(
    flows: Sequence[CallFlow],
    *,
    number: str | None,
    intent: str,
    department: str | None = None,
    embedder: MiniLmEmbedder | None = None,
) -> CallFlow | None:
    """Pick the stored flow for this number and errand: same department, same intent, or a very similar intent."""
    candidates = [f for f in flows if number is None or f.number == number]
    if department:
        for flow in candidates:
            if flow.department == department:
                return flow
    for flow in candidates:
        if (flow.intent or "").strip().lower() == intent.strip().lower():
            return flow
    with_intent = [f for f in candidates if f.intent]
    if embedder is None or not with_intent:
        return None
    try:
        vectors = embedder.embed([intent, *(f.intent or "" for f in with_intent)])
    except EmbedderError:
        return None
    sims = vectors[1:] @ vectors[0]
    best = int(np.argmax(sims))
    return with_intent[best] if float(sims[best]) >= _SAME_INTENT else None
