"""Running the sidecar as a Home Assistant add-on: options to settings, identity, Supervisor discovery."""
