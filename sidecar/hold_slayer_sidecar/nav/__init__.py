"""nav package."""
