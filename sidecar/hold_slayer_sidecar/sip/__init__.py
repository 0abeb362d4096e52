"""SIP and media over PJSUA2.

``api`` is the contract (no PJSUA2 import); ``engine.PjsuaEngine`` is the real engine (start there);
``settings.SipSettings`` configures it. Internals: ``thread`` (the one PJSUA2 thread and its command
queue), ``core`` (endpoint, legs, media wiring), ``calls`` (Call/Account subclasses and the leg
registry), ``media`` (audio tap and player ports), ``endpoint`` (library set-up), ``dtmf``, ``errors``.
"""
