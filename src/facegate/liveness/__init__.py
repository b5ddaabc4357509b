"""Liveness: challenge and response against photo, screen and replay attacks.

``challenges`` issues and stores challenges and receipts (usable once);
``checker`` observes a frame sequence and judges it; ``signals`` holds the
pure landmark measurements (eye aspect ratio, planar residual); ``passive``
the pack's per-frame liveness network. :class:`~facegate.deployment.Deployment`
exposes it as ``liveness_challenge`` and ``check_liveness``; see
``docs/liveness.md`` for what it does and does not stop.

``video`` decodes an answer sent as a short video file into frames (PyAV,
the ``video`` extra). The package root exports only value types and that
decoder, which runs no model, so adapters can build an answer without
reaching the engine; :mod:`~facegate.liveness.checker` holds
``LivenessResult``, ``LivenessSettings``, ``observe`` and ``judge``.
"""

from .challenges import Action, Challenge, Receipt
from .frames import Frame
from .video import VIDEO_SUFFIXES, VideoLimits, read_video

__all__ = ["VIDEO_SUFFIXES", "Action", "Challenge", "Frame", "Receipt", "VideoLimits",
           "read_video"]
