"""The inbound half: routing rules, devices and Do Not Disturb, the receptionist, voicemail (issue #18)."""
