"""history package: what happened in each call, kept as it happens, and what it tells about the next one."""
