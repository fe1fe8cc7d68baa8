"""Adapter SDK, department reference adapters, and the national and 川渝 links."""
