"""The SIP edge: a kamailio proxy between the network and the PJSUA2 workers, generated and supervised here.

PJSUA2 must never face the network: it builds a call and media sockets for every INVITE before anyone
can refuse it (about 32 in quick succession abort the process), accepts REFER and dials the Refer-To
target, and answers an INVITE with Replaces itself. So its SIP transport binds loopback only and a real,
hardened proxy (Debian's kamailio 5.6) takes the network side.

Topology:
    network ── udp host:port ("public")  kamailio  udp 127.0.0.1:internal_port ("internal") ── workers
    The workers (PJSUA2, 127.0.0.1:worker_ports) form dispatcher set 1 and use ``sip:127.0.0.1:internal;lr``
    as outbound proxy; the edge Record-Routes every INVITE (two entries, one per socket, RFC 3261 s16.6)
    so in-dialog requests of both directions pass through it.

What the edge admits:
    - From a worker: everything (the sidecar's own calls, BYEs, re-INVITEs, REGISTER to the trunk), sent out
      from the public socket, through the trunk's outbound proxy if one is configured. A 3xx answer to a
      worker's INVITE is turned into 403: a redirect would make the worker dial whatever Contact it names.
    - From the network, new INVITEs only from ``allow_from`` (the trunk's addresses, plus LAN/loopback
      ranges configured on purpose; empty = no inbound calls) and only while fewer than
      ``max_inbound_calls`` are alive and fewer than ``invites_per_s`` arrived in the last second; they go
      to a live worker (round robin, OPTIONS-probed every 2 s, failover on 408/5xx).
    - From the network, in-dialog requests (To tag and our Route) whose next hop is a worker: BYE, ACK,
      re-INVITE, UPDATE, INFO, PRACK, OPTIONS; CANCEL of a transaction in progress.
    - OPTIONS out of dialog: answered 200 by the edge itself, never passed on.

What it refuses (none of it reaches PJSUA2):
    - Any request from an address that sent more than ``flood_requests`` in ``flood_window_s``: dropped
      silently (pike) until the address calms down.
    - Max-Forwards exhausted: 483. Malformed requests: 400 from sanity or dropped by the parser.
    - REFER (RFC 3515) and INVITE with Replaces (RFC 3891) or Join (RFC 3911): 403, in dialog or not.
    - MESSAGE, SUBSCRIBE, PUBLISH anywhere, NOTIFY and other methods out of dialog: 405 with Allow.
    - New INVITEs from other sources: 403. Over the call or rate caps: 503 with Retry-After.
    - REGISTER: 403 (the hook ``route[REGISTRAR]`` is where local phones register later, issue #18).
    - In-dialog requests whose next hop is not a worker (open relay through our Record-Route): 403.
    - Requests on the internal socket from anything but a worker's port: dropped.
    - Replies that match no transaction of ours: dropped (no stateless relay by Via).
"""

from __future__ import annotations

from .config import EdgeSettings, render_config, render_dispatcher_list
from .errors import EdgeConfigError, EdgeError, EdgeStartError
from .supervisor import EdgeSupervisor

__all__ = [
    "EdgeConfigError",
    "EdgeError",
    "EdgeSettings",
    "EdgeStartError",
    "EdgeSupervisor",
    "render_config",
    "render_dispatcher_list",
]
