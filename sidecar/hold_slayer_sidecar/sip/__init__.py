"""SIP and media over PJSUA2.

``api`` is the contract (no PJSUA2 import). Two engines implement it: ``pool.WorkerPoolEngine`` (the
product's: PJSUA2 only in supervised ``worker`` processes, reached through ``worker_link`` over the framing
of ``channel``; the sidecar process never imports PJSUA2) and ``engine.PjsuaEngine`` (one PJSUA2 endpoint in
this process: what each worker runs, and what the SIP-layer tests and the simulator use).
``settings.SipSettings`` configures both; ``targets`` applies the dialling policy. Internals of
``PjsuaEngine``: ``thread`` (the one PJSUA2 thread and its command queue), ``core`` (endpoint, accounts,
legs, callbacks), ``wiring`` (each leg's conference-bridge graph), ``calls`` (Call/Account subclasses and the
leg registry), ``media`` (audio tap and player ports), ``endpoint`` (library set-up), ``dtmf``, ``errors``.
``hold_slayer_tools.bench.sip_setup`` measures setup time, CPU and worker restarts.
"""
