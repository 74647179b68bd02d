"""Pure parts, no I/O: the wire format, events and timing, text rules, formatting."""
