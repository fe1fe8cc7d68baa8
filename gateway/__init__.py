"""jgx gateway: the pure protocol core (envelopes, trust, log, receipts, errors) and its I/O shell."""
