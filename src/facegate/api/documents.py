"""The regulator's documents over HTTP: notice, impact assessment, filing record,
access report, compliance summary and retention policy, as HTML or PDF, for the
auditor and admin roles ([docs/reports.md](../../../docs/reports.md)).

Each document carries the audit position it describes and its content hash, in
its footer and in the response headers; its generation is itself audited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ..access import ApiAction, ApiKey
from .common import AuditorKey, allow
from .errors import ERROR_RESPONSES

__all__ = ["KINDS", "WHOLE_DEPLOYMENT", "allow_document", "document_response", "router"]

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES, tags=["documents"])

Kind = Literal["notice", "pia", "filing", "access", "summary", "retention-policy"]
#: Every kind of document, in the order a reader meets them.
KINDS: tuple[str, ...] = ("notice", "pia", "filing", "access", "summary", "retention-policy")

#: An HTML document styles itself inline and draws its DET curve as inline SVG.
_HTML_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                "frame-ancestors 'none'")


@router.get("/reports/{kind}", response_class=Response, responses={200: {
    "description": "the document", "content": {"text/html": {"schema": {"type": "string"}},
                                                "application/pdf": {"schema": {
                                                    "type": "string", "format": "binary"}}}}})
def report(kind: Kind, request: Request, key: AuditorKey,
           purpose: Annotated[str | None, Query(max_length=100)] = None,
           subject: Annotated[str | None, Query(max_length=100)] = None,
           lang: Literal["zh", "en"] = "zh",
           format: Literal["html", "pdf"] = "pdf",
           since: datetime | None = None, until: datetime | None = None) -> Response:
    """One document, rendered from the records now; ``purpose`` for ``notice`` and
    ``pia``, ``subject`` for ``access``, ``since``/``until`` for ``summary``."""
    allow_document(request, key, kind, purpose=purpose, subject=subject)
    document = request.app.state.service.call(lambda d: d.report(
        kind, purpose=purpose, subject=subject, lang=lang, fmt=format, since=since,
        until=until, operator=key.principal))
    return document_response(document)


#: Documents about the whole deployment, for unscoped keys only.
WHOLE_DEPLOYMENT: tuple[str, ...] = ("filing", "summary", "retention-policy")


def allow_document(request: Request, key: ApiKey, kind: str, *, purpose: str | None,
                   subject: str | None) -> None:
    """The scope a document needs: its purpose (notice, impact assessment), its subject
    (access report), or the whole deployment (filing, summary, retention policy)."""
    if kind in WHOLE_DEPLOYMENT:
        allow(request, key, ApiAction.AUDIT, whole=True)
    elif kind == "access":
        allow(request, key, ApiAction.AUDIT, subject=subject)
    else:
        allow(request, key, ApiAction.AUDIT, purpose=purpose)


def document_response(document: Any) -> Response:
    """A rendered document with its hashes and audit positions as headers (the API and
    the dashboard answer alike)."""
    headers = {"content-disposition": f'inline; filename="{document.filename}"',
               "x-facegate-sha256": document.sha256,
               "x-facegate-content-hash": document.content_hash,
               "x-facegate-audit-seq": str(document.audit_seq),
               "x-facegate-recorded-seq": str(document.recorded_seq)}
    if document.media_type.startswith("text/html"):
        headers["content-security-policy"] = _HTML_POLICY
    return Response(document.content, media_type=document.media_type, headers=headers)
