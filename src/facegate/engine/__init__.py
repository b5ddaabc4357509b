"""Face engines: the :class:`~facegate.engine.base.Engine` protocol and its implementations.

A regular package (not a namespace package) so that import-linter sees
``facegate.engine`` and can keep it behind the policy gate (``.importlinter``).
"""
