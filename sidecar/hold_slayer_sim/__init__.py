"""Simulated companies and a simulated user phone: real SIP endpoints for the demo and the tests."""
