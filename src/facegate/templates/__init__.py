"""Stored face templates: the store (bytes today, sealed in issue 5) and enrollment."""
