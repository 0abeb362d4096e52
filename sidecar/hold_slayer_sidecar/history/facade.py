"""The service clients talk to: the call manager for calls and flows, the history service for the past."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from ..calls.manager import CallManager
from ..configure.control import ConfigureRefused, SettingsControl
from ..inbound.service import InboundService
from ..nav.flows import CallFlow
from ..protocol import CallInfo, ConfigureResult, ErrorCode, Snapshot
from ..store.history import CallQuery
from .model_summary import ModelSummaries
from .service import HistoryService


class CallsAndHistory:
    """Implements the server's CallService by forwarding to the manager and the history service."""

    def __init__(
        self,
        calls: CallManager,
        history: HistoryService,
        summaries: ModelSummaries,
        *,
        inbound: InboundService | None = None,
        settings: SettingsControl | None = None,
    ) -> None:
        self._calls = calls
        self._history = history
        self._summaries = summaries
        self.inbound = inbound  # the inbound half's commands (None: it does not run)
        self._settings = settings

    def snapshot(self) -> Snapshot:
        """Full state, with the inbound half's and the settings' (registration, engines) when they run."""
        snapshot = self._calls.snapshot()
        if self.inbound is not None:
            snapshot["inbound"] = self.inbound.snapshot()
        if self._settings is not None:
            snapshot["sidecar"]["registration"] = self._settings.registration()
            snapshot["sidecar"]["engines"] = self._settings.engines()
        return snapshot

    async def configure(self, data: dict[str, Any]) -> ConfigureResult:
        """Apply settings made in Home Assistant (raises ``ConfigureRefused``)."""
        if self._settings is None:
            raise ConfigureRefused(ErrorCode.NOT_READY, "this sidecar takes no settings from Home Assistant")
        return await self._settings.configure(data)

    def get_settings(self) -> dict[str, Any]:
        """Return the settings applied from Home Assistant, without secrets."""
        if self._settings is None:
            raise ConfigureRefused(ErrorCode.NOT_READY, "this sidecar takes no settings from Home Assistant")
        return self._settings.get_settings()

    async def place_call(
        self,
        target: str,
        *,
        company: str | None = None,
        intent: str | None = None,
        call_flow: str | None = None,
        transfer_to: str | None = None,
    ) -> CallInfo:
        """Start a call."""
        return await self._calls.place_call(
            target, company=company, intent=intent, call_flow=call_flow, transfer_to=transfer_to
        )

    async def hang_up(self, call_id: str) -> CallInfo:
        """End a call."""
        return await self._calls.hang_up(call_id)

    async def send_dtmf(self, call_id: str, digits: str) -> None:
        """Send digits."""
        await self._calls.send_dtmf(call_id, digits)

    async def list_flows(
        self, company: str | None = None, *, after: str | None = None, limit: int | None = None
    ) -> list[CallFlow]:
        """List flows (one page)."""
        return await self._calls.list_flows(company, after=after, limit=limit)

    async def get_flow(self, flow_id: str) -> CallFlow:
        """One flow."""
        return await self._calls.get_flow(flow_id)

    async def save_flow(self, flow: CallFlow) -> None:
        """Store a flow."""
        await self._calls.save_flow(flow)

    async def delete_flow(self, flow_id: str) -> None:
        """Delete a flow."""
        await self._calls.delete_flow(flow_id)

    async def find_calls(self, query: CallQuery) -> dict[str, Any]:
        """One page of the history."""
        return await self._history.find(query)

    async def get_call(self, call_id: str, after_seq: int) -> dict[str, Any]:
        """One call."""
        return await self._history.call(call_id, after_seq)

    async def statistics(self, tz: ZoneInfo, company: str | None) -> dict[str, Any]:
        """Statistics per company."""
        return await self._history.statistics(tz, company)

    async def forecast(self, company: str, tz: ZoneInfo) -> dict[str, Any]:
        """One company's forecast."""
        return await self._history.forecast(company, tz)

    async def fetch_recording(self, call_id: str, name: str, offset: int) -> dict[str, Any]:
        """One chunk of a recording (a call's, or a voicemail's)."""
        if self.inbound is not None and (path := await self.inbound.recording_path(call_id, name)) is not None:
            return (await self._history.recording_file(path, name, offset)).as_dict()
        return (await self._history.recording(call_id, name, offset)).as_dict()

    async def submit_summary(self, call_id: str, reply: dict[str, Any], source: str) -> dict[str, Any]:
        """Store a summary another model wrote (checked against the transcript)."""
        return await self._summaries.submit(call_id, reply, source)
