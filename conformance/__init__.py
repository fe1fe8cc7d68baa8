"""Conformance suite: certifies a department's adapter against the 20 standards."""
