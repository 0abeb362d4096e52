"""Hold Slayer sidecar: SIP, media, call logic, detectors and voice engines for the Home Assistant integration."""
