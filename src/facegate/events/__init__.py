"""Events for integrators: every audited operation as a typed event, delivered as a
signed webhook from an outbox in the store, or streamed to dashboards.

:mod:`facegate.events.catalogue` (pure) turns an audit entry into an event for an
audience (door controllers, HR systems, reviewers, auditors), within a scope of
purposes and sites, carrying nothing biometric and no more personal data than the
audience needs; :mod:`facegate.events.store` keeps the webhook endpoints and the
outbox; :mod:`facegate.events.signing` signs and checks a delivery. Reached
through :class:`~facegate.deployment.Deployment` (``docs/events.md``).
"""
