"""Call flows: the stored path through a company's phone menu (JSON-serialisable, kept in the SQLite store)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator


class FlowStepKind(StrEnum):
    """What one step does."""

    DTMF = "dtmf"  # send ``digits``
    WAIT = "wait"  # wait ``seconds`` (or until the next prompt ends when seconds is None)
    LISTEN = "listen"  # hear the prompt, then choose (stored ``choice`` first, else decide from the transcript)
    HOLD = "hold"  # navigation done: wait in the queue for a person
    SPEAK = "speak"  # say ``text`` (answers "say the reason for your call")
    TRANSFER = "transfer"  # ring the user and bridge now (for numbers answered by a person directly)


class FlowStep(BaseModel):
    """One step of a call flow."""

    model_config = ConfigDict(extra="forbid")

    kind: FlowStepKind
    digits: str | None = Field(default=None, pattern=r"^[0-9*#A-Da-dwW,]+$")
    seconds: float | None = Field(default=None, ge=0, le=600)
    text: str | None = Field(default=None, max_length=500)
    # LISTEN: the prompt heard when the flow was learned (to notice a changed menu), the options parsed
    # from it (digit -> label), and the digit chosen for this flow's intent.
    expect: str | None = None
    options: dict[str, str] = Field(default_factory=dict)
    choice: str | None = None

    @model_validator(mode="after")
    def _check_fields(self) -> FlowStep:
        if self.kind is FlowStepKind.DTMF and not self.digits:
            raise ValueError("a dtmf step needs digits")
        if self.kind is FlowStepKind.SPEAK and not self.text:
            raise ValueError("a speak step needs text")
        return self


class CallFlow(BaseModel):
    """A named path through one company's menu."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9_\-]{1,64}$")
    name: str = Field(min_length=1, max_length=120)
    company: str | None = None
    number: str | None = None  # number or SIP URI this flow is for
    intent: str | None = None  # the reason/department this path reaches
    department: str | None = None
    steps: list[FlowStep] = Field(min_length=1, max_length=50)
    learned: bool = False  # built by the learner rather than by hand
    calls: int = 0  # how many calls used it successfully
