"""The receptionist's settings (the ``receptionist`` section of the sidecar's settings)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ...protocol import RECEPTIONIST_PLACEHOLDER
from ...templates import check_template

OWNER_FIELD = RECEPTIONIST_PLACEHOLDER
DEFAULT_GREETING = "Hi, you've reached {owner}'s line. Who's calling, and what's it about?"
DEFAULT_GREETING_NO_OWNER = "Hi, you've reached this line. Who's calling, and what's it about?"


def check_greeting(value: str) -> str:
    """Return a greeting template whose only placeholder is a bare ``{owner}``; raise ValueError naming any other."""
    return check_template(value, OWNER_FIELD)


class ReceptionistSettings(BaseModel):
    """What the receptionist says and how long it listens."""

    model_config = ConfigDict(extra="forbid")

    # Whose line it is ("Alex"); the handler's per-call owner name wins over this one.
    owner_name: str | None = Field(default=None, max_length=40, pattern=r"^[^\x00-\x1f{}]*$")
    greeting: str = Field(default=DEFAULT_GREETING, min_length=1, max_length=300)  # may hold {owner}
    # Longest a caller's answer is listened to. A person says who and why in one or two sentences (3-8 s); a
    # recording that talks on is judged before this runs out, or at it.
    max_listen_s: float = Field(default=12.0, ge=4.0, le=60.0)
    # A pause this long ends the caller's turn. Between sentences of one answer people pause 0.3-0.8 s; a turn
    # handed back waits longer (turn-taking gaps in conversation cluster around 0.2-1 s after a question).
    end_of_turn_s: float = Field(default=1.0, ge=0.5, le=3.0)
    # Nothing said this long after a prompt: the caller is silent (asked once more, then a message is taken).
    no_answer_s: float = Field(default=5.0, ge=2.0, le=20.0)
    follow_up: bool = True  # ask once more when the caller gave no name or no purpose
    # The configured LLM gets this long to understand the answer; then the embedded method decides.
    llm_budget_s: float = Field(default=3.0, gt=0.0, le=15.0)
    use_llm: bool = True  # use voice.llm_url when set
    # A transcription that takes longer is given up (the caller then leaves a message): the caller waits in silence
    # meanwhile. Embedded whisper takes about 0.5 s for an answer on an idle core.
    stt_timeout_s: float = Field(default=20.0, gt=0.0, le=120.0)

    @field_validator("greeting")
    @classmethod
    def _only_owner_placeholder(cls, value: str) -> str:
        return check_greeting(value)

    def greeting_text(self, owner: str | None) -> str:
        """Return the first line said to the caller, with the owner's name (the default leaves it out when unknown)."""
        name = (owner or self.owner_name or "").strip()
        if not name and self.greeting == DEFAULT_GREETING:
            return DEFAULT_GREETING_NO_OWNER
        return self.greeting.format(owner=name or "the owner")
