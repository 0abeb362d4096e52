"""The AI receptionist: greets an inbound caller, listens, works out who and why, and tells a recording from a person.

``Receptionist`` (dialogue.py) implements ``inbound.ports.Screener``; its engines (SIP, STT, TTS, LLM, the per-call
hearing) are injected and built only in ``__main__``.
"""
