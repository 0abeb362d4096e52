"""SIP and media over PJSUA2.

``api`` is the contract (no PJSUA2 import); ``engine.PjsuaEngine`` is the real engine (start there);
``settings.SipSettings`` configures it. Internals: ``thread`` (the one PJSUA2 thread and its command
queue), ``core`` (endpoint, accounts, legs, callbacks), ``wiring`` (each leg's conference-bridge graph),
``calls`` (Call/Account subclasses and the leg registry), ``media`` (audio tap and player ports),
``endpoint`` (library set-up), ``dtmf``, ``errors``; ``bench_setup`` measures setup time and CPU.
"""
