"""Stored face templates: sealed descriptors, per-subject data keys, retained images, enrollment."""
