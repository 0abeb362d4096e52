"""Browser tests: a real hass process, the real card, headless Debian chromium."""
