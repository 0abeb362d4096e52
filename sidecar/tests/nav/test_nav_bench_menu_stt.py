"""The menu speech-to-text benchmark's key reading and context prompt (pure parts)."""

from __future__ import annotations

from hold_slayer_sidecar.voice.stt import IVR_PROMPT
from hold_slayer_tools.bench.menu_stt import keys_of, menu_prompt


def test_keys_are_read_in_order_in_digits_or_words() -> None:
    assert keys_of("For billing, press 1. To report an outage, press two. Press star to go back.") == ["1", "2", "star"]
    assert keys_of("Thanks one. You will always come up at the charge.") == []  # a key heard as other words is lost


def test_the_menu_prompt_is_the_fixed_prompt_and_the_menu_s_last_words() -> None:
    assert menu_prompt([]) == IVR_PROMPT
    heard = [f"word{i}" for i in range(60)]
    prompt = menu_prompt([" ".join(heard[:30]), " ".join(heard[30:])])
    assert prompt.startswith(IVR_PROMPT) and prompt.endswith("word59") and "word19 " not in prompt
