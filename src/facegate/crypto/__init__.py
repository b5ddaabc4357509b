"""Envelope encryption, key rings and signatures; the only package that imports ``cryptography``."""
