"""The governed service layer: :class:`Deployment`, the one way to store and match faces."""

from .core import Deployment, Withdrawal

__all__ = ["Deployment", "Withdrawal"]
