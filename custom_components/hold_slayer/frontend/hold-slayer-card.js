/**
 * hold-slayer-card: the live view of a Hold Slayer call for Lovelace.
 *
 * Plain web component (no build step, no external CDN). It reads the entities the
 * hold_slayer integration creates and calls its services:
 *   sensor.hold_slayer_call_state   state + attributes (company, hold_started_at, transcript, companies, ...)
 *   binary_sensor.hold_slayer_human_on_line, binary_sensor.hold_slayer_connected
 *   hold_slayer.place_call / hang_up / send_dtmf
 *   hold_slayer.get_history / get_call (history view: a call's transcript with click-to-seek playback)
 *   sensor.hold_slayer_incoming_call    a call coming in: caller, what the receptionist heard, the decision
 *   sensor.hold_slayer_unheard_voicemails  count + the recent voicemails with transcripts
 *   hold_slayer.list_devices / answer_inbound / reject_inbound / mark_voicemail_heard
 */

const CARD_VERSION = "0.1.0";
const DOMAIN = "hold_slayer";

const DEFAULTS = {
  entity: "sensor.hold_slayer_call_state",
  human_entity: "binary_sensor.hold_slayer_human_on_line",
  connected_entity: "binary_sensor.hold_slayer_connected",
  inbound_entity: "sensor.hold_slayer_incoming_call",
  voicemail_entity: "sensor.hold_slayer_unheard_voicemails",
  show_keypad: true,
  show_transcript: true,
  transcript_lines: 4,
};

// Label, icon and colour per call state. Colours are HA theme variables so light and dark themes both work.
const STATES = {
  idle: { label: "Ready", icon: "mdi:phone-outline", color: "var(--secondary-text-color)" },
  dialing: { label: "Dialing", icon: "mdi:phone-outgoing", color: "var(--info-color, #039be5)" },
  ringing: { label: "Ringing", icon: "mdi:phone-ring", color: "var(--info-color, #039be5)" },
  ivr: { label: "Navigating the menu", icon: "mdi:dialpad", color: "var(--accent-color, #ff9800)" },
  hold: { label: "On hold", icon: "mdi:timer-sand", color: "var(--warning-color, #ffa600)" },
  probing: { label: "Checking for a person", icon: "mdi:account-question", color: "var(--warning-color, #ffa600)" },
  human: { label: "Person on the line", icon: "mdi:account-voice", color: "var(--success-color, #43a047)" },
  ringing_user: { label: "Ringing your phone", icon: "mdi:cellphone-sound", color: "var(--success-color, #43a047)" },
  bridged: { label: "Connected", icon: "mdi:phone-in-talk", color: "var(--success-color, #43a047)" },
  ended: { label: "Call ended", icon: "mdi:phone-hangup", color: "var(--secondary-text-color)" },
  failed: { label: "Call failed", icon: "mdi:phone-alert", color: "var(--error-color, #db4437)" },
  unavailable: { label: "Unavailable", icon: "mdi:phone-off", color: "var(--disabled-text-color, #bdbdbd)" },
};

// The journey a call takes; the stepper lights each step the call has reached.
const STEPS = [
  { key: "dial", label: "Dial", states: ["dialing", "ringing"] },
  { key: "menu", label: "Menu", states: ["ivr"] },
  { key: "hold", label: "Hold", states: ["hold", "probing"] },
  { key: "human", label: "Person", states: ["human", "ringing_user"] },
  { key: "connected", label: "You", states: ["bridged"] },
];

const ACTIVE_STATES = new Set(["dialing", "ringing", "ivr", "hold", "probing", "human", "ringing_user", "bridged"]);
const HOLD_TIMER_STATES = new Set(["hold", "probing"]);
const HUMAN_STATES = new Set(["human", "ringing_user", "bridged"]);
const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"];

/** Format seconds as M:SS or H:MM:SS. */
function formatDuration(totalSeconds) {
  const s = Math.max(0, Math.floor(totalSeconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

function escapeHtml(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

function parseTime(value) {
  if (!value) return null;
  const t = Date.parse(value);
  return Number.isNaN(t) ? null : t;
}

// An inbound call the user can still act on (answer on a device, reject); the others are history.
const INBOUND_OPEN = new Set(["screening", "ringing", "voicemail"]);
const INBOUND_LABELS = {
  screening: "The receptionist is talking to them",
  ringing: "Ringing your phones",
  voicemail: "Leaving a message",
};

const SPEAKERS = { company: "Company", agent: "Agent", you: "You", hold_slayer: "Hold Slayer" };
const HISTORY_PAGE = 20;

const STYLE = `
  :host { display: block; }
  .history-toggle { font: inherit; font-size: 0.85em; border: 1px solid var(--divider-color); background: none;
    color: var(--primary-color); border-radius: 999px; padding: 3px 10px; cursor: pointer; display: inline-flex; gap: 4px; align-items: center; }
  .history-toggle[aria-pressed="true"] { background: var(--primary-color); color: var(--text-primary-color, #fff); }
  .history { display: flex; flex-direction: column; gap: 8px; }
  .history[hidden], .call-view[hidden] { display: none; }
  #live { display: flex; flex-direction: column; gap: 14px; }
  .history-item { all: unset; cursor: pointer; display: grid; grid-template-columns: 1fr auto; gap: 2px 8px; padding: 8px 10px;
    border-radius: 10px; background: var(--secondary-background-color); }
  .history-item:focus-visible { outline: 2px solid var(--primary-color); }
  .history-item .who { font-weight: 500; color: var(--primary-text-color); }
  .history-item .when, .history-item .meta { font-size: 0.8em; color: var(--secondary-text-color); }
  .history-item .ref { font-family: var(--code-font-family, monospace); font-size: 0.8em; color: var(--primary-color); text-align: right; }
  .outcome { font-size: 0.75em; padding: 1px 8px; border-radius: 999px; background: var(--divider-color); justify-self: end; }
  .outcome.outcome-connected { background: var(--success-color, #43a047); color: #fff; }
  .outcome.outcome-interrupted, .outcome.outcome-failed { background: var(--error-color, #db4437); color: #fff; }
  .empty { color: var(--secondary-text-color); font-size: 0.9em; }
  .call-view { display: flex; flex-direction: column; gap: 10px; }
  .call-head { display: flex; align-items: center; gap: 8px; }
  .call-head .back { all: unset; cursor: pointer; color: var(--primary-color); display: inline-flex; }
  .call-title { font-weight: 500; }
  .summary { font-size: 0.9em; background: var(--secondary-background-color); border-radius: 10px; padding: 8px 10px; }
  .summary ul { margin: 4px 0 0; padding-left: 18px; }
  audio { width: 100%; }
  .lines { display: flex; flex-direction: column; gap: 2px; max-height: 320px; overflow-y: auto; }
  .hline { all: unset; cursor: pointer; display: grid; grid-template-columns: 44px 74px 1fr; gap: 6px; padding: 4px 6px; border-radius: 6px; font-size: 0.9em; }
  .hline:hover, .hline.current { background: var(--secondary-background-color); }
  .hline.current { box-shadow: inset 3px 0 0 var(--primary-color); }
  .hline .at { font-family: var(--code-font-family, monospace); color: var(--secondary-text-color); font-size: 0.85em; }
  .hline .who { color: var(--secondary-text-color); }
  .hline.speaker-agent .who { color: var(--primary-color); font-weight: 500; }
  .hline.speaker-you .who { color: var(--success-color, #43a047); font-weight: 500; }
  ha-card { overflow: hidden; }
  .wrap { padding: 16px; display: flex; flex-direction: column; gap: 14px; }
  .header { display: flex; align-items: center; justify-content: space-between; gap: 8px; flex-wrap: wrap; }
  .header-end { display: inline-flex; align-items: center; gap: 6px; flex-wrap: wrap; justify-content: flex-end; }
  .title { font-size: 1.25em; font-weight: 500; color: var(--primary-text-color); display: flex; align-items: center; gap: 8px; }
  .title ha-icon { color: var(--primary-color); }
  .pill { display: inline-flex; align-items: center; gap: 6px; font-size: 0.8em; padding: 3px 10px;
    border-radius: 999px; background: var(--secondary-background-color); color: var(--secondary-text-color); white-space: nowrap; }
  .pill .dot { width: 8px; height: 8px; border-radius: 50%; background: var(--disabled-text-color, #bdbdbd); }
  .pill.on .dot { background: var(--success-color, #43a047); }
  .status { display: flex; align-items: center; gap: 14px; }
  .status-icon { flex: none; width: 48px; height: 48px; border-radius: 50%; display: flex; align-items: center;
    justify-content: center; color: var(--state-color); position: relative; }
  .status-icon::before { content: ""; position: absolute; inset: 0; border-radius: 50%; background: var(--state-color); opacity: 0.15; }
  .status-text { min-width: 0; flex: 1; }
  .company { font-size: 1.35em; font-weight: 500; color: var(--primary-text-color); overflow: hidden;
    text-overflow: ellipsis; white-space: nowrap; }
  .state-label { color: var(--state-color); font-weight: 500; margin-top: 2px; }
  .detail { color: var(--secondary-text-color); font-size: 0.85em; margin-top: 2px; overflow-wrap: anywhere; }
  .timer { flex: none; text-align: right; }
  .timer .value { font-size: 1.8em; font-variant-numeric: tabular-nums; font-weight: 500; color: var(--primary-text-color);
    line-height: 1.1; }
  .timer .caption { font-size: 0.75em; color: var(--secondary-text-color); text-transform: uppercase; letter-spacing: 0.05em; }
  .human { display: flex; align-items: center; gap: 12px; padding: 12px 14px; border-radius: var(--ha-card-border-radius, 12px);
    background: var(--success-color, #43a047); color: var(--text-primary-color, #fff); font-weight: 500; font-size: 1.1em; }
  .human ha-icon { --mdc-icon-size: 28px; }
  .human.live { animation: pulse 1.6s ease-in-out infinite; }
  @keyframes pulse { 0%, 100% { box-shadow: 0 0 0 0 rgba(67, 160, 71, 0.55); } 50% { box-shadow: 0 0 0 8px rgba(67, 160, 71, 0); } }
  @media (prefers-reduced-motion: reduce) { .human.live { animation: none; } }
  .steps { display: grid; grid-template-columns: repeat(5, 1fr); gap: 4px; }
  .step { display: flex; flex-direction: column; align-items: center; gap: 4px; font-size: 0.72em; color: var(--secondary-text-color); }
  .step .bar { width: 100%; height: 4px; border-radius: 2px; background: var(--divider-color, rgba(127,127,127,0.3)); }
  .step.done .bar { background: var(--state-color); opacity: 0.55; }
  .step.current .bar { background: var(--state-color); }
  .step.current { color: var(--primary-text-color); font-weight: 500; }
  .transcript { background: var(--secondary-background-color); border-radius: 8px; padding: 8px 10px; display: flex;
    flex-direction: column; gap: 4px; font-size: 0.88em; }
  .line { display: flex; gap: 8px; color: var(--primary-text-color); }
  .speaker { flex: none; min-width: 4.5em; color: var(--secondary-text-color); font-weight: 500; text-transform: capitalize; }
  .line .text { min-width: 0; overflow-wrap: anywhere; }
  .actions { display: flex; gap: 8px; flex-wrap: wrap; }
  button { font: inherit; cursor: pointer; border: none; border-radius: 999px; padding: 10px 18px; display: inline-flex;
    align-items: center; justify-content: center; gap: 6px; font-weight: 500; min-height: 40px; }
  button:disabled { cursor: default; opacity: 0.5; }
  button:focus-visible { outline: 2px solid var(--primary-color); outline-offset: 2px; }
  .hangup { background: var(--error-color, #db4437); color: var(--text-primary-color, #fff); flex: 1; }
  .secondary { background: var(--secondary-background-color); color: var(--primary-text-color);
    border: 1px solid var(--divider-color, rgba(127,127,127,0.3)); }
  .primary { background: var(--primary-color); color: var(--text-primary-color, #fff); }
  .keypad { display: grid; grid-template-columns: repeat(3, 1fr); gap: 8px; }
  .keypad button { border-radius: 12px; font-size: 1.3em; padding: 8px 0; background: var(--secondary-background-color);
    color: var(--primary-text-color); border: 1px solid var(--divider-color, rgba(127,127,127,0.3)); }
  .keypad button:active { background: var(--primary-color); color: var(--text-primary-color, #fff); }
  .form { display: flex; flex-direction: column; gap: 10px; }
  .form label { font-size: 0.8em; color: var(--secondary-text-color); display: flex; flex-direction: column; gap: 4px; }
  select, input { font: inherit; color: var(--primary-text-color); background: var(--card-background-color, var(--primary-background-color));
    border: 1px solid var(--divider-color, rgba(127,127,127,0.4)); border-radius: 8px; padding: 10px; min-height: 40px; box-sizing: border-box; width: 100%; }
  select:focus, input:focus { outline: 2px solid var(--primary-color); outline-offset: -1px; }
  .form-row { display: grid; grid-template-columns: 1fr 1.4fr; gap: 10px; }
  .error { color: var(--error-color, #db4437); font-size: 0.88em; }
  .muted { color: var(--secondary-text-color); font-size: 0.88em; }
  .digits { font-family: var(--code-font-family, ui-monospace, monospace); letter-spacing: 0.1em; }
  .incoming { display: flex; flex-direction: column; gap: 10px; padding: 12px 14px; border-radius: var(--ha-card-border-radius, 12px);
    border: 2px solid var(--info-color, #039be5); background: var(--secondary-background-color); }
  .incoming .who { font-size: 1.3em; font-weight: 500; color: var(--primary-text-color); display: flex; align-items: center; gap: 8px; }
  .incoming .who ha-icon { color: var(--info-color, #039be5); }
  .incoming .number { font-size: 0.8em; color: var(--secondary-text-color); font-weight: 400; }
  .incoming .heard { font-style: italic; color: var(--primary-text-color); border-left: 3px solid var(--info-color, #039be5); padding-left: 8px; overflow-wrap: anywhere; }
  .incoming .why { font-size: 0.82em; color: var(--secondary-text-color); }
  .incoming .answer-row { display: grid; grid-template-columns: 1fr auto; gap: 8px; }
  .reject { background: var(--error-color, #db4437); color: var(--text-primary-color, #fff); }
  .answer { background: var(--success-color, #43a047); color: var(--text-primary-color, #fff); }
  .voicemails { display: flex; flex-direction: column; gap: 8px; }
  .voicemail { display: flex; flex-direction: column; gap: 4px; padding: 8px 10px; border-radius: 10px; background: var(--secondary-background-color); }
  .voicemail.unheard { box-shadow: inset 3px 0 0 var(--primary-color); }
  .voicemail .vm-head { display: flex; justify-content: space-between; gap: 8px; align-items: baseline; }
  .voicemail .who { font-weight: 500; }
  .voicemail .when { font-size: 0.8em; color: var(--secondary-text-color); }
  .voicemail .transcript-text { font-size: 0.9em; overflow-wrap: anywhere; }
  .voicemail .vm-actions { display: flex; gap: 6px; }
  .voicemail .vm-actions button { min-height: 32px; padding: 4px 12px; font-size: 0.85em; }
  .badge { font-size: 0.75em; min-width: 1.4em; padding: 0 5px; border-radius: 999px; background: var(--primary-color); color: var(--text-primary-color, #fff); }
  [hidden] { display: none !important; }
  @media (max-width: 420px) {
    .form-row { grid-template-columns: 1fr; }
    .timer .value { font-size: 1.5em; }
  }
`;

class HoldSlayerCard extends HTMLElement {
  constructor() {
    super();
    this.attachShadow({ mode: "open" });
    this._config = { ...DEFAULTS };
    this._hass = undefined;
    this._built = false;
    this._keypadOpen = false;
    this._busy = false;
    this._error = "";
    this._timer = undefined;
    this._lastKey = "";
    this._historyOpen = false;
    this._history = [];
    this._call = undefined; // the call opened from the history (get_call response)
    this._voicemailOpen = false;
    this._devices = []; // from list_devices, read when a call comes in
    this._devicesFor = ""; // the inbound call the device list was read for
  }

  static getConfigElement() {
    return document.createElement("hold-slayer-card-editor");
  }

  static getStubConfig(hass) {
    const entity = Object.keys(hass?.states ?? {}).find((id) => id.startsWith("sensor.") && id.endsWith("call_state"));
    return { entity: entity ?? DEFAULTS.entity };
  }

  setConfig(config) {
    if (!config || typeof config !== "object") throw new Error("Invalid configuration");
    if (config.entity !== undefined && !String(config.entity).startsWith("sensor.")) {
      throw new Error("entity must be the Hold Slayer call state sensor (sensor.*)");
    }
    this._config = { ...DEFAULTS, ...config };
    this._lastKey = "";
    if (this._built) this._update();
  }

  set hass(hass) {
    this._hass = hass;
    if (!this._built) this._build();
    this._update();
  }

  get hass() {
    return this._hass;
  }

  getCardSize() {
    return 6;
  }

  getGridOptions() {
    return { columns: 12, min_columns: 6, rows: "auto" };
  }

  connectedCallback() {
    // The hold timer counts every second on its own, between state pushes from HA.
    if (!this._timer) this._timer = window.setInterval(() => this._tick(), 1000);
  }

  disconnectedCallback() {
    if (this._timer) window.clearInterval(this._timer);
    this._timer = undefined;
  }

  _build() {
    this.shadowRoot.innerHTML = `
      <style>${STYLE}</style>
      <ha-card>
        <div class="wrap">
          <div class="header">
            <div class="title"><ha-icon icon="mdi:phone-clock"></ha-icon><span id="title"></span></div>
            <span class="header-end">
              <button class="history-toggle" id="voicemail-toggle" data-testid="voicemail-toggle" aria-pressed="false" hidden><ha-icon icon="mdi:voicemail"></ha-icon>Voicemail<span class="badge" id="voicemail-badge" hidden></span></button>
              <button class="history-toggle" id="history-toggle" data-testid="history-toggle" aria-pressed="false"><ha-icon icon="mdi:history"></ha-icon>History</button>
              <span class="pill" id="link"><span class="dot"></span><span id="link-text"></span></span>
            </span>
          </div>
          <div class="history" id="history" data-testid="history" hidden></div>
          <div class="call-view" id="call-view" data-testid="call-view" hidden></div>
          <div class="voicemails" id="voicemails" data-testid="voicemails" hidden></div>
          <div class="incoming" id="incoming" data-testid="incoming" role="status" aria-live="assertive" hidden>
            <div class="who"><ha-icon icon="mdi:phone-incoming"></ha-icon><span id="in-caller" data-testid="in-caller"></span><span class="number" id="in-number"></span></div>
            <div class="state-label" id="in-state" data-testid="in-state"></div>
            <div id="in-purpose" class="detail"></div>
            <div class="heard" id="in-heard" data-testid="in-heard"></div>
            <div class="why" id="in-why"></div>
            <div class="answer-row">
              <select id="in-device" data-testid="in-device" aria-label="Device to ring"></select>
              <button class="answer" id="in-answer" data-testid="in-answer"><ha-icon icon="mdi:phone"></ha-icon>Answer there</button>
            </div>
            <div class="actions">
              <button class="reject" id="in-reject" data-testid="in-reject"><ha-icon icon="mdi:phone-cancel"></ha-icon>Reject</button>
              <button class="secondary" id="in-voicemail" data-testid="in-voicemail"><ha-icon icon="mdi:voicemail"></ha-icon>To voicemail</button>
            </div>
          </div>
          <div id="live">
          <div class="status" id="status">
            <div class="status-icon"><ha-icon id="state-icon"></ha-icon></div>
            <div class="status-text">
              <div class="company" id="company"></div>
              <div class="state-label" id="state-label" data-testid="state-label"></div>
              <div class="detail" id="detail"></div>
            </div>
            <div class="timer" id="timer-box">
              <div class="value" id="timer" data-testid="hold-timer">0:00</div>
              <div class="caption" id="timer-caption">on hold</div>
            </div>
          </div>
          <div class="human" id="human" data-testid="human-banner" role="status" aria-live="assertive">
            <ha-icon icon="mdi:account-voice"></ha-icon><span id="human-text"></span>
          </div>
          <div class="steps" id="steps"></div>
          <div class="transcript" id="transcript" aria-label="Transcript"></div>
          <div class="actions" id="call-actions">
            <button class="hangup" id="hangup" data-testid="hang-up"><ha-icon icon="mdi:phone-hangup"></ha-icon>Hang up</button>
            <button class="secondary" id="keypad-toggle" aria-expanded="false"><ha-icon icon="mdi:dialpad"></ha-icon>Keypad</button>
          </div>
          <div class="keypad" id="keypad" hidden></div>
          <form class="form" id="form">
            <div class="form-row">
              <label>Company<select id="company-select" data-testid="company-select"></select></label>
              <label>Reason<input id="reason" data-testid="reason" type="text" placeholder="e.g. dispute a charge" autocomplete="off"></label>
            </div>
            <button class="primary" type="submit" id="call" data-testid="place-call"><ha-icon icon="mdi:phone"></ha-icon>Call and wait on hold for me</button>
          </form>
          </div>
          <div class="error" id="error" role="alert" hidden></div>
        </div>
      </ha-card>`;
    const root = this.shadowRoot;
    root.getElementById("steps").innerHTML = STEPS.map(
      (s) => `<div class="step" data-step="${s.key}"><div class="bar"></div><span>${s.label}</span></div>`,
    ).join("");
    root.getElementById("keypad").innerHTML = KEYS.map((k) => `<button type="button" data-digit="${k}" aria-label="Send ${k}">${k}</button>`).join("");
    root.getElementById("hangup").addEventListener("click", () => this._hangUp());
    root.getElementById("keypad-toggle").addEventListener("click", () => {
      this._keypadOpen = !this._keypadOpen;
      this._lastKey = "";
      this._update();
    });
    root.getElementById("keypad").addEventListener("click", (ev) => {
      const digit = ev.target.closest("button")?.dataset.digit;
      if (digit) this._sendDtmf(digit);
    });
    root.getElementById("history-toggle").addEventListener("click", () => this._toggleHistory());
    root.getElementById("voicemail-toggle").addEventListener("click", () => this._toggleVoicemail());
    root.getElementById("voicemails").addEventListener("click", (ev) => {
      const button = ev.target.closest("button[data-vm]");
      if (!button) return;
      if (button.dataset.op === "play") this._playVoicemail(button.dataset.vm);
      else this._callService("mark_voicemail_heard", { voicemail_id: button.dataset.vm });
    });
    root.getElementById("in-answer").addEventListener("click", () => {
      const device = root.getElementById("in-device").value;
      if (device) this._callService("answer_inbound", { call_id: this._inboundId(), device });
    });
    root.getElementById("in-reject").addEventListener("click", () => this._callService("reject_inbound", { call_id: this._inboundId() }));
    root.getElementById("in-voicemail").addEventListener("click", () =>
      this._callService("reject_inbound", { call_id: this._inboundId(), to_voicemail: true }));
    root.getElementById("history").addEventListener("click", (ev) => {
      const id = ev.target.closest("[data-call-id]")?.dataset.callId;
      if (id) this._openCall(id);
    });
    root.getElementById("call-view").addEventListener("click", (ev) => {
      if (ev.target.closest(".back")) return this._closeCall();
      const line = ev.target.closest("[data-seq]");
      if (line) this._seek(Number(line.dataset.seq));
      return undefined;
    });
    root.getElementById("form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      this._placeCall();
    });
    this._built = true;
  }

  _stateObj() {
    return this._hass?.states?.[this._config.entity];
  }

  _isOn(entityId) {
    return this._hass?.states?.[entityId]?.state === "on";
  }

  _update() {
    if (!this._built || !this._hass) return;
    const stateObj = this._stateObj();
    const attrs = stateObj?.attributes ?? {};
    const state = stateObj ? stateObj.state : "unavailable";
    const humanEntity = this._hass.states[this._config.human_entity];
    const connectedEntity = this._hass.states[this._config.connected_entity];
    // Re-render only when something the card shows changed; keeps focus in the form while HA pushes other states.
    const inbound = this._hass.states[this._config.inbound_entity];
    const voicemail = this._hass.states[this._config.voicemail_entity];
    const key = JSON.stringify([state, attrs, humanEntity?.state, connectedEntity?.state, this._config, this._keypadOpen, this._error,
      this._busy, this._historyOpen, inbound, voicemail, this._voicemailOpen, this._devices]);
    if (key === this._lastKey) return;
    this._lastKey = key;

    const root = this.shadowRoot;
    const info = STATES[state] ?? STATES.unavailable;
    const active = ACTIVE_STATES.has(state);
    root.host.style.setProperty("--state-color", info.color);

    root.getElementById("title").textContent = this._config.title ?? "Hold Slayer";
    // While a call comes in and no call of ours is in progress, the call form would only be in the way.
    const ringing = Boolean(inbound) && INBOUND_OPEN.has(inbound.state) && !active;
    root.getElementById("live").hidden = this._historyOpen || this._voicemailOpen || ringing;
    this._updateInbound(inbound);
    this._updateVoicemails(voicemail);
    root.getElementById("history-toggle").setAttribute("aria-pressed", String(this._historyOpen));
    const connected = connectedEntity ? connectedEntity.state === "on" : stateObj && state !== "unavailable";
    root.getElementById("link").classList.toggle("on", Boolean(connected));
    root.getElementById("link-text").textContent = connected ? "Sidecar online" : "Sidecar offline";

    root.getElementById("state-icon").setAttribute("icon", info.icon);
    root.getElementById("state-label").textContent = info.label;
    root.getElementById("state-label").dataset.state = state;
    const company = attrs.company || attrs.target || (active ? "Unknown caller" : "No call in progress");
    root.getElementById("company").textContent = state === "idle" ? "No call in progress" : company;
    root.getElementById("detail").innerHTML = this._detailHtml(state, attrs);

    const human = humanEntity ? humanEntity.state === "on" : HUMAN_STATES.has(state);
    const banner = root.getElementById("human");
    banner.hidden = !(human || state === "bridged");
    banner.classList.toggle("live", human && state !== "bridged");
    root.getElementById("human-text").textContent =
      state === "bridged" ? "You're connected to a person" : state === "ringing_user" ? "A person is on the line — answer your phone!" : "A person is on the line";

    this._updateSteps(state);
    this._updateTranscript(attrs.transcript, active || state === "ended" || state === "failed");

    root.getElementById("call-actions").hidden = !active;
    root.getElementById("hangup").disabled = this._busy;
    root.getElementById("keypad-toggle").hidden = !this._config.show_keypad;
    root.getElementById("keypad-toggle").setAttribute("aria-expanded", String(this._keypadOpen));
    root.getElementById("keypad").hidden = !(active && this._config.show_keypad && this._keypadOpen);

    this._updateForm(attrs.companies, !active && state !== "unavailable");
    const error = root.getElementById("error");
    error.hidden = !this._error;
    error.textContent = this._error;
    this._tick();
  }

  // -- calls coming in and voicemail ------------------------------------------------------------------

  _inboundId() {
    return this._hass?.states?.[this._config.inbound_entity]?.attributes?.call_id;
  }

  _updateInbound(inbound) {
    const root = this.shadowRoot;
    const attrs = inbound?.attributes ?? {};
    const open = Boolean(inbound) && INBOUND_OPEN.has(inbound.state) && !this._historyOpen && !this._voicemailOpen;
    root.getElementById("incoming").hidden = !open;
    if (!open) return;
    if (this._devicesFor !== attrs.call_id) {
      this._devicesFor = attrs.call_id;
      this._loadDevices();
    }
    const number = attrs.caller && attrs.caller !== "anonymous" ? attrs.caller : "";
    root.getElementById("in-caller").textContent = attrs.caller_name || number || "Unknown caller";
    root.getElementById("in-number").textContent = attrs.caller_name && number ? number : "";
    root.getElementById("in-state").textContent = INBOUND_LABELS[inbound.state] ?? inbound.state;
    const purpose = [attrs.purpose, attrs.urgency === "high" ? "urgent" : ""].filter(Boolean).join(" · ");
    root.getElementById("in-purpose").textContent = purpose;
    root.getElementById("in-purpose").hidden = !purpose;
    const heard = root.getElementById("in-heard");
    heard.textContent = attrs.heard ? `“${attrs.heard}”` : "";
    heard.hidden = !attrs.heard;
    const why = attrs.rule ? `Rule ${attrs.rule}` : attrs.decision_reason || "";
    root.getElementById("in-why").textContent = why;
    root.getElementById("in-why").hidden = !why;
    const select = root.getElementById("in-device");
    const wanted = this._devices.map((d) => `${d.device_id}:${d.name}:${d.dnd}`).join("\u0000");
    if (select.dataset.devices !== wanted) {
      select.innerHTML = this._devices.length
        ? this._devices.map((d) => `<option value="${escapeHtml(d.device_id)}">${escapeHtml(d.name)}${d.dnd ? " (do not disturb)" : ""}</option>`).join("")
        : `<option value="">No devices</option>`;
      select.dataset.devices = wanted;
    }
    for (const id of ["in-answer", "in-reject", "in-voicemail"]) root.getElementById(id).disabled = this._busy;
    root.getElementById("in-answer").disabled = this._busy || !this._devices.length;
    root.getElementById("in-voicemail").hidden = inbound.state === "voicemail";
  }

  async _loadDevices() {
    const result = await this._ask("list_devices", {});
    this._devices = Array.isArray(result?.devices) ? [...result.devices].sort((a, b) => (a.priority ?? 0) - (b.priority ?? 0)) : [];
    this._update();
  }

  _toggleVoicemail() {
    this._voicemailOpen = !this._voicemailOpen;
    if (this._voicemailOpen) this._historyOpen = false;
    this._renderHistory();
    this._lastKey = "";
    this._update();
  }

  _updateVoicemails(voicemail) {
    const root = this.shadowRoot;
    const toggle = root.getElementById("voicemail-toggle");
    toggle.hidden = !voicemail || voicemail.state === "unavailable";
    toggle.setAttribute("aria-pressed", String(this._voicemailOpen));
    const unheard = Number(voicemail?.state) || 0;
    const badge = root.getElementById("voicemail-badge");
    badge.hidden = !unheard;
    badge.textContent = String(unheard);
    const list = root.getElementById("voicemails");
    if (list.hidden && this._voicemailOpen) list.dataset.key = "";
    list.hidden = !this._voicemailOpen;
    const items = voicemail?.attributes?.voicemails ?? [];
    // Re-render only when the list changed: a re-render would stop a message that is playing.
    const listKey = JSON.stringify(items);
    if (list.hidden || listKey === list.dataset.key) return;
    list.dataset.key = listKey;
    list.innerHTML = items.length
      ? items.map((v) => {
          const when = parseTime(v.received_at);
          const who = v.caller_name || v.caller || "Unknown caller";
          return `<div class="voicemail${v.heard ? "" : " unheard"}" data-testid="voicemail">
            <div class="vm-head"><span class="who">${escapeHtml(who)}</span>
              <span class="when">${when ? new Date(when).toLocaleString() : ""}${v.duration_s ? ` · ${formatDuration(v.duration_s)}` : ""}</span></div>
            <div class="transcript-text" data-testid="voicemail-transcript">${v.transcript ? escapeHtml(v.transcript) : `<span class="muted">No transcript yet.</span>`}</div>
            <div class="vm-actions">
              <button class="secondary" data-op="play" data-vm="${escapeHtml(v.voicemail_id)}" data-testid="voicemail-play"><ha-icon icon="mdi:play"></ha-icon>Play</button>
              ${v.heard ? "" : `<button class="secondary" data-op="heard" data-vm="${escapeHtml(v.voicemail_id)}" data-testid="voicemail-heard"><ha-icon icon="mdi:check"></ha-icon>Heard</button>`}
            </div>
            <audio controls preload="none" data-player="${escapeHtml(v.voicemail_id)}" hidden></audio>
          </div>`;
        }).join("")
      : `<div class="empty">No voicemail.</div>`;
  }

  async _playVoicemail(voicemailId) {
    const items = this._hass.states[this._config.voicemail_entity]?.attributes?.voicemails ?? [];
    const voicemail = items.find((v) => v.voicemail_id === voicemailId);
    if (!voicemail) return;
    try {
      const resolved = await this._hass.callWS({ type: "media_source/resolve_media", media_content_id: voicemail.media_content_id });
      const player = [...this.shadowRoot.querySelectorAll("audio[data-player]")].find((a) => a.dataset.player === voicemailId);
      if (!player) return;
      player.hidden = false;
      player.src = resolved.url;
      player.play().catch(() => undefined); // autoplay rules may refuse; the controls are there
    } catch (err) {
      this._error = err?.message || String(err);
      this._lastKey = "";
      this._update();
    }
  }

  _detailHtml(state, attrs) {
    const parts = [];
    if (attrs.reason || attrs.intent) parts.push(escapeHtml(attrs.reason || attrs.intent));
    // Departments may arrive as ids ("card_disputes"); show them as words.
    if (attrs.department) parts.push(escapeHtml(String(attrs.department).replace(/_/g, " ")));
    if (attrs.digits_sent) parts.push(`keys <span class="digits">${escapeHtml(attrs.digits_sent)}</span>`);
    if ((state === "ended" || state === "failed") && attrs.outcome) parts.push(escapeHtml(String(attrs.outcome).replace(/_/g, " ")));
    if (!parts.length && state === "idle") return "Pick a company below and Hold Slayer waits on hold for you.";
    return parts.join(" · ");
  }

  _updateSteps(state) {
    const currentIndex = STEPS.findIndex((s) => s.states.includes(state));
    const stepsEl = this.shadowRoot.getElementById("steps");
    stepsEl.hidden = currentIndex < 0;
    stepsEl.querySelectorAll(".step").forEach((el, i) => {
      el.classList.toggle("done", currentIndex >= 0 && i < currentIndex);
      el.classList.toggle("current", i === currentIndex);
    });
  }

  _updateTranscript(transcript, show) {
    const el = this.shadowRoot.getElementById("transcript");
    const lines = Array.isArray(transcript) ? transcript.slice(-Number(this._config.transcript_lines || 4)) : [];
    el.hidden = !(this._config.show_transcript && show && lines.length);
    el.innerHTML = lines
      .map((l) => `<div class="line"><span class="speaker">${escapeHtml(l.speaker)}</span><span class="text">${escapeHtml(l.text)}</span></div>`)
      .join("");
  }

  _updateForm(companies, show) {
    const root = this.shadowRoot;
    const form = root.getElementById("form");
    form.hidden = !show;
    const select = root.getElementById("company-select");
    const names = Array.isArray(companies) ? companies : [];
    const wanted = names.join("\u0000");
    if (select.dataset.names !== wanted) {
      const previous = select.value;
      select.innerHTML = names.length
        ? names.map((n) => `<option value="${escapeHtml(n)}">${escapeHtml(n)}</option>`).join("")
        : `<option value="">No companies configured</option>`;
      if (names.includes(previous)) select.value = previous;
      select.dataset.names = wanted;
    }
    root.getElementById("call").disabled = this._busy || !names.length;
  }

  _tick() {
    if (!this._built) return;
    const attrs = this._stateObj()?.attributes ?? {};
    const state = this._stateObj()?.state;
    const box = this.shadowRoot.getElementById("timer-box");
    const started = parseTime(attrs.hold_started_at);
    if (!started) {
      box.hidden = true;
      return;
    }
    const human = parseTime(attrs.human_detected_at);
    let seconds;
    if (HOLD_TIMER_STATES.has(state)) seconds = (Date.now() - started) / 1000;
    else if (human) seconds = (human - started) / 1000; // frozen at the moment a person answered
    else if (ACTIVE_STATES.has(state)) seconds = (Date.now() - started) / 1000;
    else {
      box.hidden = true;
      return;
    }
    box.hidden = false;
    this.shadowRoot.getElementById("timer").textContent = formatDuration(seconds);
    this.shadowRoot.getElementById("timer-caption").textContent = HOLD_TIMER_STATES.has(state) ? "on hold" : "held";
  }

  // -- history view ------------------------------------------------------------------------------

  async _ask(service, data) {
    // Actions with responses; errors show in the card's error line.
    try {
      const result = await this._hass.callWS({
        type: "call_service", domain: DOMAIN, service, service_data: data, return_response: true,
      });
      this._error = "";
      return result?.response;
    } catch (err) {
      this._error = err?.message || String(err);
      this._lastKey = "";
      this._update();
      return undefined;
    }
  }

  async _toggleHistory() {
    this._historyOpen = !this._historyOpen;
    if (this._historyOpen) this._voicemailOpen = false;
    this._call = undefined;
    this._lastKey = "";
    this._update();
    this._renderHistory();
    if (!this._historyOpen) return;
    const page = await this._ask("get_history", { limit: HISTORY_PAGE });
    this._history = page?.calls ?? [];
    this._renderHistory();
  }

  _renderHistory() {
    const root = this.shadowRoot;
    const list = root.getElementById("history");
    list.hidden = !this._historyOpen || Boolean(this._call);
    root.getElementById("call-view").hidden = !this._historyOpen || !this._call;
    if (list.hidden) return;
    list.innerHTML = this._history.length
      ? this._history.map((c) => {
          const when = parseTime(c.started_at);
          const hold = Number(c.hold_seconds || 0);
          return `<button class="history-item" data-testid="history-item" data-call-id="${escapeHtml(c.call_id)}">
            <span class="who">${escapeHtml(c.company || c.target)}</span>
            <span class="outcome outcome-${escapeHtml(c.outcome || c.status)}">${escapeHtml(String(c.outcome || c.status || "").replace(/_/g, " "))}</span>
            <span class="when">${when ? new Date(when).toLocaleString() : ""}${hold ? ` · held ${formatDuration(hold)}` : ""}</span>
            <span class="ref">${c.reference ? `ref ${escapeHtml(c.reference)}` : ""}</span>
          </button>`;
        }).join("")
      : `<div class="empty">No calls yet.</div>`;
  }

  async _openCall(callId) {
    const call = await this._ask("get_call", { call_id: callId });
    if (!call) return;
    this._call = call;
    this._renderHistory();
    this._renderCall();
  }

  _closeCall() {
    this._call = undefined;
    this._renderHistory();
  }

  _recordingFor(offset) {
    // The mixed recording starts when the user is bridged; before that only the company leg was recorded.
    const recordings = (this._call?.recordings ?? []).filter((r) => r.url);
    const byLeg = (leg) => recordings.find((r) => r.leg === leg);
    const mix = byLeg("mix");
    if (mix && offset >= mix.offset_s) return mix;
    return byLeg("company") ?? mix ?? recordings[0];
  }

  _renderCall() {
    const view = this.shadowRoot.getElementById("call-view");
    const { call = {}, transcript = [], summary } = this._call;
    const first = this._recordingFor(Number.POSITIVE_INFINITY);
    const promises = summary?.commitments ?? [];
    const facts = [
      summary?.agent_name ? `Agent: ${escapeHtml(summary.agent_name)}` : "",
      summary?.reference ? `Reference <b data-testid="reference">${escapeHtml(summary.reference)}</b>` : "",
    ].filter(Boolean).join(" · ");
    view.innerHTML = `
      <div class="call-head"><button class="back" aria-label="Back to the list"><ha-icon icon="mdi:arrow-left"></ha-icon></button>
        <span class="call-title">${escapeHtml(call.company || call.target)} · ${escapeHtml(new Date(parseTime(call.started_at) ?? 0).toLocaleString())}</span></div>
      ${summary ? `<div class="summary" data-testid="summary">${facts}${promises.length ? `<ul>${promises.map((p) =>
        `<li>${escapeHtml(p.text)}${p.due ? ` <b>(by ${escapeHtml(p.due)})</b>` : ""}</li>`).join("")}</ul>` : ""}</div>` : ""}
      ${first ? `<audio controls preload="metadata" data-testid="player" src="${escapeHtml(first.url)}"></audio>` : `<div class="empty">No recording.</div>`}
      <div class="lines" data-testid="history-transcript">${transcript.map((l) => `
        <button class="hline speaker-${escapeHtml(l.speaker)}" data-testid="history-line" data-seq="${Number(l.seq)}" title="Play from here">
          <span class="at">${formatDuration(l.offset_s)}</span><span class="who">${escapeHtml(SPEAKERS[l.speaker] ?? l.speaker)}</span>
          <span class="text">${escapeHtml(l.text)}</span></button>`).join("")}</div>`;
  }

  _seek(seq) {
    const line = (this._call?.transcript ?? []).find((l) => l.seq === seq);
    const player = this.shadowRoot.querySelector("audio");
    if (!line || !player) return;
    const recording = this._recordingFor(line.offset_s);
    if (!recording) return;
    // A line is placed on the call's clock; a recording starts at its own offset on that clock.
    const at = Math.max(0, line.offset_s - Number(recording.offset_s || 0));
    const go = () => {
      player.currentTime = at;
      player.play().catch(() => undefined); // autoplay rules may refuse; the position is still set
    };
    if (!player.src.endsWith(recording.url)) player.src = recording.url;
    if (player.readyState >= 1) go();
    else player.addEventListener("loadedmetadata", go, { once: true });
    this.shadowRoot.querySelectorAll(".hline").forEach((el) => el.classList.toggle("current", Number(el.dataset.seq) === seq));
  }

  async _callService(service, data) {
    this._busy = true;
    this._error = "";
    this._update();
    try {
      return await this._hass.callWS({
        type: "call_service",
        domain: DOMAIN,
        service,
        service_data: data,
        return_response: service === "place_call",
      });
    } catch (err) {
      this._error = err?.message || String(err);
      return undefined;
    } finally {
      this._busy = false;
      this._update();
    }
  }

  _callId() {
    return this._stateObj()?.attributes?.call_id;
  }

  _hangUp() {
    const callId = this._callId();
    return this._callService("hang_up", callId ? { call_id: callId } : {});
  }

  _sendDtmf(digit) {
    const callId = this._callId();
    return this._callService("send_dtmf", callId ? { digits: digit, call_id: callId } : { digits: digit });
  }

  _placeCall() {
    const company = this.shadowRoot.getElementById("company-select").value;
    const reason = this.shadowRoot.getElementById("reason").value.trim();
    if (!company) {
      this._error = "Add a company in the Hold Slayer integration first.";
      this._lastKey = "";
      this._update();
      return undefined;
    }
    const data = { company };
    if (reason) data.reason = reason;
    return this._callService("place_call", data).then((result) => {
      if (result !== undefined) this.shadowRoot.getElementById("reason").value = "";
      return result;
    });
  }
}

const EDITOR_SCHEMA = [
  { name: "entity", required: true, selector: { entity: { domain: "sensor", integration: DOMAIN } } },
  { name: "title", selector: { text: {} } },
  {
    type: "grid",
    name: "",
    schema: [
      { name: "human_entity", selector: { entity: { domain: "binary_sensor", integration: DOMAIN } } },
      { name: "connected_entity", selector: { entity: { domain: "binary_sensor", integration: DOMAIN } } },
      { name: "inbound_entity", selector: { entity: { domain: "sensor", integration: DOMAIN } } },
      { name: "voicemail_entity", selector: { entity: { domain: "sensor", integration: DOMAIN } } },
    ],
  },
  {
    type: "grid",
    name: "",
    schema: [
      { name: "show_keypad", selector: { boolean: {} } },
      { name: "show_transcript", selector: { boolean: {} } },
      { name: "transcript_lines", selector: { number: { min: 1, max: 10, mode: "box" } } },
    ],
  },
];

const EDITOR_LABELS = {
  entity: "Call state sensor",
  title: "Title",
  human_entity: "Person-on-the-line sensor",
  connected_entity: "Sidecar connection sensor",
  inbound_entity: "Incoming call sensor",
  voicemail_entity: "Voicemail sensor",
  show_keypad: "Show keypad",
  show_transcript: "Show transcript",
  transcript_lines: "Transcript lines",
};

/** Visual editor: HA's own ha-form, so it matches every other card editor. */
class HoldSlayerCardEditor extends HTMLElement {
  constructor() {
    super();
    this._config = {};
    this._hass = undefined;
    this._form = undefined;
  }

  setConfig(config) {
    this._config = { ...config };
    this._render();
  }

  set hass(hass) {
    this._hass = hass;
    this._render();
  }

  _render() {
    if (!this._form) {
      this._form = document.createElement("ha-form");
      this._form.computeLabel = (schema) => EDITOR_LABELS[schema.name] ?? schema.name;
      this._form.addEventListener("value-changed", (ev) => {
        ev.stopPropagation();
        this._config = { ...ev.detail.value };
        this.dispatchEvent(new CustomEvent("config-changed", { detail: { config: this._config }, bubbles: true, composed: true }));
      });
      this.appendChild(this._form);
    }
    this._form.hass = this._hass;
    this._form.schema = EDITOR_SCHEMA;
    this._form.data = { ...DEFAULTS, ...this._config };
  }
}

if (!customElements.get("hold-slayer-card")) customElements.define("hold-slayer-card", HoldSlayerCard);
if (!customElements.get("hold-slayer-card-editor")) customElements.define("hold-slayer-card-editor", HoldSlayerCardEditor);

window.customCards = window.customCards || [];
if (!window.customCards.some((c) => c.type === "hold-slayer-card")) {
  window.customCards.push({
    type: "hold-slayer-card",
    name: "Hold Slayer",
    description: "Live view of a Hold Slayer call: hold timer, transcript, person-on-the-line alert, keypad and hang up; calls coming in and voicemail.",
    preview: true,
  });
}

console.info(`%c HOLD-SLAYER-CARD %c ${CARD_VERSION} `, "color:#fff;background:#03a9f4;font-weight:700", "color:#03a9f4");
