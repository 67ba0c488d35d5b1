"""Pure lead scoring: records in, scores out. No I/O, no clock, no imports from other layers."""
