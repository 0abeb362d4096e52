"""summary package: what the agent said that matters after the call (references, amounts, dates, promises)."""
