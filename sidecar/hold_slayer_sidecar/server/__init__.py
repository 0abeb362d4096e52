"""The websocket server clients (the Home Assistant integration) talk to."""
