"""Liveness: challenge and response against photo, screen and replay attacks.

``challenges`` issues and stores challenges and receipts (usable once);
``checker`` observes a frame sequence and judges it; ``signals`` holds the
pure landmark measurements (eye aspect ratio, planar residual); ``passive``
the pack's per-frame liveness network. :class:`~facegate.deployment.Deployment`
exposes it as ``liveness_challenge`` and ``check_liveness``; see
``docs/liveness.md`` for what it does and does not stop.

The package root exports only value types, so adapters can build an answer
without reaching the engine; :mod:`~facegate.liveness.checker` holds
``LivenessResult``, ``LivenessSettings``, ``observe`` and ``judge``.
"""

from .challenges import Action, Challenge, Receipt
from .frames import Frame

__all__ = ["Action", "Challenge", "Frame", "Receipt"]
