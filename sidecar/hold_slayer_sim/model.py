"""The company file format (YAML), validated with pydantic; see FORMAT.md for the prose version."""

from __future__ import annotations

import re
import string
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from .music import piece_names
from .voices import FESTIVAL_VOICES, FLITE_VOICES, reserved

DIGITS = "0123456789*#"
PLACEHOLDERS = frozenset({"position", "wait_minutes"})
PIPER_VOICES = frozenset({"joe"})
_ID = r"^[a-z0-9][a-z0-9_\-]*$"


class CompanyFileError(Exception):
    """A company file that cannot be read or does not follow the format."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Voice(_Strict):
    """A TTS voice: espeak-ng (``en-us+f3``), piper ``joe``, flite (``awb``) or festival (``ked_diphone``)."""

    engine: Literal["espeak", "piper", "flite", "festival"] = "espeak"
    id: str = "en-us"
    speed: float = Field(1.0, ge=0.5, le=2.0)

    @model_validator(mode="after")
    def _known_voice(self) -> Voice:
        if self.engine == "piper" and self.id not in PIPER_VOICES:
            raise ValueError(f"piper voice {self.id!r} is not installed; use one of {sorted(PIPER_VOICES)}")
        known = {"flite": FLITE_VOICES, "festival": FESTIVAL_VOICES}.get(self.engine)
        if known is not None and self.id not in known:
            raise ValueError(f"{self.engine} voice {self.id!r} is not supported; use one of {sorted(known)}")
        if reserved(self.id):
            raise ValueError(f"voice {self.id!r} is reserved for held-out evaluation material")
        return self

    @property
    def key(self) -> str:
        """A stable identity for caching and for comparing voices."""
        return f"{self.engine}:{self.id}:{self.speed:g}"


def _clip_shorthand(value: Any) -> Any:
    """Treat a bare string as text to be spoken."""
    return {"text": value} if isinstance(value, str) else value


class Clip(_Strict):
    """Something the company plays: text spoken by TTS, or a WAV file (relative to the YAML file)."""

    text: str | None = None
    wav: Path | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Clip:
        if (self.text is None) == (self.wav is None):
            raise ValueError("give exactly one of 'text' or 'wav'")
        if self.text is not None:
            if not self.text.strip():
                raise ValueError("text must not be empty")
            for _, field, _, _ in string.Formatter().parse(self.text):
                if field is not None and field not in PLACEHOLDERS:
                    raise ValueError(f"unknown placeholder {{{field}}}; allowed: {sorted(PLACEHOLDERS)}")
        return self

    @property
    def label(self) -> str:
        """Text for reports: the words, or the file name."""
        return self.text if self.text is not None else f"<wav {self.wav}>"


ClipField = Annotated[Clip, BeforeValidator(_clip_shorthand)]


class Goto(_Strict):
    """Where a choice leads: exactly one of a menu, a queue, a message then hang-up, or repeat."""

    menu: str | None = None
    queue: str | None = None
    message: Annotated[Clip | None, BeforeValidator(_clip_shorthand)] = None
    repeat: bool = False

    @model_validator(mode="after")
    def _one_target(self) -> Goto:
        chosen = [n for n, v in (("menu", self.menu), ("queue", self.queue), ("message", self.message)) if v]
        if self.repeat:
            chosen.append("repeat")
        if len(chosen) != 1:
            raise ValueError(f"give exactly one of menu, queue, message, repeat (got {chosen or 'none'})")
        return self


class Option(Goto):
    """One menu choice: a key, an optional spoken label and keywords for "say or press"."""

    label: str = ""
    keywords: tuple[str, ...] = ()


class Retry(_Strict):
    """What a menu does on no input or invalid input: a prompt, up to N repeats, then a fallback."""

    prompt: Annotated[Clip | None, BeforeValidator(_clip_shorthand)] = None
    repeats: int = Field(2, ge=0, le=10)
    then: Goto = Goto(message=Clip(text="We did not receive a valid response. Goodbye."))


class InvalidRetry(Retry):
    """Invalid input: by default "Sorry, I didn't get that." and the menu again."""

    prompt: Annotated[Clip | None, BeforeValidator(_clip_shorthand)] = Clip(text="Sorry, I didn't get that.")


class ReasonRoute(_Strict):
    """Caller speech containing any keyword goes to the target."""

    keywords: tuple[str, ...] = Field(min_length=1)
    goto: Goto


class Reason(_Strict):
    """A "please say the reason for your call" node: keyword routes, else the default."""

    routes: tuple[ReasonRoute, ...] = ()
    default: Goto


class Menu(_Strict):
    """A node of the menu tree."""

    prompt: ClipField
    options: dict[str, Option] = {}
    timeout_s: float = Field(5.0, gt=0, le=60)
    no_input: Retry = Retry(repeats=2)
    invalid: InvalidRetry = InvalidRetry(repeats=2)
    reason: Reason | None = None

    @model_validator(mode="after")
    def _keys(self) -> Menu:
        for key in self.options:
            if len(key) != 1 or key not in DIGITS:
                raise ValueError(f"option key {key!r} must be one DTMF key of {DIGITS!r} (quote it in YAML)")
        if not self.options and self.reason is None:
            raise ValueError("a menu needs options or a reason block")
        return self

    @property
    def listens_for_speech(self) -> bool:
        """True when caller speech means something here (say-or-press keywords or the reason node)."""
        return self.reason is not None or any(o.keywords for o in self.options.values())


class Announcement(_Strict):
    """A recorded hold announcement, played every ``interval_s`` (text may use {position}, {wait_minutes})."""

    say: ClipField
    interval_s: float = Field(gt=5)
    first_after_s: float | None = Field(None, ge=0)


class Agent(_Strict):
    """The live person who finally answers."""

    name: str = "Agent"
    voice: Voice
    greeting: ClipField
    replies: tuple[ClipField, ...] = ()
    hello: ClipField = Clip(text="Hello? Are you there?")
    hello_after_s: float = Field(6.0, gt=0)
    hangup_after_s: float = Field(20.0, gt=0)
    goodbye: Annotated[Clip | None, BeforeValidator(_clip_shorthand)] = Clip(
        text="I'm sorry, I can't hear anything. I'll disconnect now. Goodbye."
    )
    reply_gap_s: float = Field(0.7, ge=0)
    # Once the replies are said, caller speech is answered with the ``hello`` line this many times more: a person who
    # hears a bare "Hello?" on a line says "hello?" back, and many do so twice before they wait in silence.
    hellos_back: int = Field(2, ge=0)
    max_call_s: float = Field(300.0, gt=0)

    @model_validator(mode="after")
    def _order(self) -> Agent:
        if self.hangup_after_s <= self.hello_after_s:
            raise ValueError("hangup_after_s must be longer than hello_after_s")
        return self


class Queue(_Strict):
    """A department's hold queue."""

    name: str
    intro: Annotated[Clip | None, BeforeValidator(_clip_shorthand)] = None
    hold: Literal["music", "silence", "comfort_noise"] = "music"
    music: str = "lounge"
    announcements: tuple[Announcement, ...] = ()
    agent_after_s: float = Field(ge=0, le=3600)
    start_position: int = Field(4, ge=1, le=99)
    agent: Agent | None = None

    @model_validator(mode="after")
    def _known_music(self) -> Queue:
        if self.music not in piece_names():
            raise ValueError(f"unknown hold music {self.music!r}; built-in pieces: {piece_names()}")
        return self


class TestIntent(_Strict):
    """Ground truth for demo and benchmark: what a caller wants and how a human would get there."""

    __test__ = False  # not a pytest class

    intent: str
    department: str
    path: str

    @property
    def steps(self) -> list[str]:
        """Path tokens: DTMF keys (one token may hold several), ``say`` (speak the intent) or ``wait`` (stay silent)."""
        return self.path.split()


class Channel(_Strict):
    """The telephone channel between the company and the caller (hold_slayer_sim/channel.py applies it)."""

    # G.711 re-encodings in order (a call may cross several trunks): "pcma" (A-law) or "pcmu" (mu-law).
    codecs: tuple[Literal["pcma", "pcmu"], ...] = ()
    band_hz: tuple[float, float] | None = None  # pass band, e.g. [300, 3400] (ITU-T G.712 telephone band)
    noise_snr_db: float | None = Field(None, ge=-10, le=60)  # pink noise this far under the clip's active level
    loss: float = Field(0.0, ge=0, le=0.3)  # mean 20 ms packet loss (bursty), concealed with fading repeats

    @model_validator(mode="after")
    def _band(self) -> Channel:
        if self.band_hz is not None and not 0 <= self.band_hz[0] < self.band_hz[1] <= 4000:
            raise ValueError(f"band_hz must be low < high within 0-4000 Hz, not {list(self.band_hz)}")
        return self


class Company(_Strict):
    """A simulated company phone system."""

    id: str = Field(pattern=_ID)
    name: str
    ringback_s: float = Field(0.0, ge=0, le=60)
    voice: Voice
    greeting: Annotated[Clip | None, BeforeValidator(_clip_shorthand)] = None
    start: str  # the first menu, or a queue: a company without menus (a person answers, perhaps after a hold)
    menus: dict[str, Menu] = {}
    queues: dict[str, Queue]
    agent: Agent
    test_intents: tuple[TestIntent, ...] = ()
    channel: Channel | None = None  # impairments of everything the caller hears (None: clean 8 kHz PCM)

    @model_validator(mode="after")
    def _references(self) -> Company:  # noqa: PLR0912 - one check per kind of reference
        for mid in self.menus:
            if not re.match(_ID, mid):
                raise ValueError(f"menu id {mid!r} must match {_ID}")
        if self.start not in self.menus and self.start not in self.queues:
            raise ValueError(f"start: {self.start!r} is neither a menu nor a queue")
        for where, goto in self.gotos():
            if goto.menu is not None and goto.menu not in self.menus:
                raise ValueError(f"{where}: menu {goto.menu!r} is not defined in menus")
            if goto.queue is not None and goto.queue not in self.queues:
                raise ValueError(f"{where}: queue {goto.queue!r} is not defined in queues")
        for i, ti in enumerate(self.test_intents):
            if ti.department not in self.queues:
                raise ValueError(f"test_intents.{i}.department: {ti.department!r} is not a queue")
            for step in ti.steps:
                if step not in ("say", "wait") and any(c not in DIGITS for c in step):
                    raise ValueError(f"test_intents.{i}.path: step {step!r} is neither DTMF keys nor 'say'/'wait'")
        for qid, q in self.queues.items():
            if q.agent is not None and q.agent.voice == self.voice:
                raise ValueError(f"queues.{qid}.agent.voice must differ from the IVR voice")
        if self.agent.voice == self.voice:
            raise ValueError("agent.voice must differ from the IVR voice (a person does not sound like the IVR)")
        return self

    def gotos(self) -> list[tuple[str, Goto]]:
        """Every target in the file with a dotted location, for checks and tools."""
        out: list[tuple[str, Goto]] = []
        for mid, menu in self.menus.items():
            out += [(f"menus.{mid}.options.{k}", o) for k, o in menu.options.items()]
            out += [
                (f"menus.{mid}.no_input.then", menu.no_input.then),
                (f"menus.{mid}.invalid.then", menu.invalid.then),
            ]
            if menu.reason is not None:
                out.append((f"menus.{mid}.reason.default", menu.reason.default))
                out += [(f"menus.{mid}.reason.routes.{i}.goto", r.goto) for i, r in enumerate(menu.reason.routes)]
        return out

    def agent_for(self, queue_id: str) -> Agent:
        """Return the agent who answers in this queue."""
        return self.queues[queue_id].agent or self.agent


def _format_errors(err: ValidationError) -> str:
    lines = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"]) or "(top level)"
        lines.append(f"  {loc}: {e['msg']}")
    return "\n".join(lines)


def parse_company(data: Any, *, source: str = "<data>", base_dir: Path | None = None) -> Company:
    """Validate a parsed YAML document; WAV paths are made absolute against ``base_dir``."""
    try:
        company = Company.model_validate(data)
    except ValidationError as err:
        raise CompanyFileError(f"{source}: invalid company file:\n{_format_errors(err)}") from err
    if base_dir is not None:
        company = _absolute_wavs(company, base_dir)
    return company


def load_company(path: Path) -> Company:
    """Read and validate one company YAML file; raise CompanyFileError naming the bad field."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise CompanyFileError(f"{path}: cannot read: {err}") from err
    except yaml.YAMLError as err:
        raise CompanyFileError(f"{path}: not valid YAML: {err}") from err
    if not isinstance(data, dict):
        raise CompanyFileError(f"{path}: expected a mapping at the top level")
    return parse_company(data, source=str(path), base_dir=path.parent)


def _absolute_wavs(company: Company, base_dir: Path) -> Company:
    """Resolve relative WAV paths and check that they exist."""

    def fix(node: Any, loc: str) -> Any:
        if isinstance(node, Clip) and node.wav is not None:
            wav = node.wav if node.wav.is_absolute() else (base_dir / node.wav).resolve()
            if not wav.is_file():
                raise CompanyFileError(f"{loc}.wav: file not found: {wav}")
            return node.model_copy(update={"wav": wav})
        if isinstance(node, BaseModel):
            updates = {name: fix(getattr(node, name), f"{loc}.{name}") for name in type(node).model_fields}
            return node.model_copy(update=updates)
        if isinstance(node, dict):
            return {k: fix(v, f"{loc}.{k}") for k, v in node.items()}
        if isinstance(node, tuple):
            return tuple(fix(v, f"{loc}.{i}") for i, v in enumerate(node))
        return node

    fixed: Company = fix(company, company.id)
    return fixed


def shipped_company_files() -> list[Path]:
    """List the company files that ship with the simulator."""
    return sorted((Path(__file__).parent / "companies").glob("*.yaml"))
