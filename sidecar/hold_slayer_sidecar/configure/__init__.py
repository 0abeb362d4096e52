"""Settings made in Home Assistant (issue #19): validated, checked against the real services, applied, kept.

``model`` says what may be set and refuses anything else; ``checks`` asks the registrar and the Wyoming
services before anything is applied; ``store`` keeps what HA applied in the data directory (it overrides
the YAML file at the next start); ``control`` applies a request as one unit and reports registration and
engine health.
"""
