"""The ``facegate`` command line: one module per command group, all thin adapters.

:mod:`.app` holds the click group, the stateless photo commands and ``main``;
the other modules add their groups to it (:mod:`.governed`, :mod:`.rights`,
:mod:`.review`, :mod:`.models`, :mod:`.liveness`, :mod:`.report`, :mod:`.serve`,
:mod:`.backup`).
"""

from __future__ import annotations

from .app import cli, main

__all__ = ["cli", "main"]
