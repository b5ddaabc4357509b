"""The documents a regulator asks for, rendered from the deployment's own records.

Builders (:mod:`.purpose_docs`, :mod:`.record_docs`) are pure functions from
records (:mod:`.facts`) to a :class:`~.models.ReportModel`; :mod:`.render` turns a
model into HTML or PDF. Reached through ``Deployment.report`` (see docs/reports.md).
"""

from .models import Document, Format, Lang, ReportKind, ReportModel, content_hash

__all__ = ["Document", "Format", "Lang", "ReportKind", "ReportModel", "content_hash"]
