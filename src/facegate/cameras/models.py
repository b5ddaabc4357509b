"""The camera record, its modes, and what of its source may be shown.

A camera belongs to a site, serves one or more of that site's purposes, and works
in one mode: ``verify`` (a claimed identity from a card reader or PIN, sent with or
before the person steps up, compared 1:1) or ``identify`` (1:N within each purpose's
own gallery). ``placement`` is the kind of space the camera is installed in or looks
into, which may differ from its site's type (an office building's changing room):
the regulation forbids capture devices in private spaces (R12), whatever the site.
``signage`` is the record of the sign posted where the camera captures, which a
camera at a public place needs (R13).

A source is a stream URL (``rtsp://``, ``rtsps://``, ``http://``, ``https://``), a
V4L2 device path (``/dev/video0``) or a video file. A URL may carry credentials
(``rtsp://admin:secret@10.0.0.7/stream``, ``?token=...``): the store keeps the source
sealed under the key-encryption key, and everything shown or logged is
:func:`redact_source`'s form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from ..errors import InvalidArgument
from ..organisation.models import SiteType
from ..purposes.models import Mode

__all__ = [
    "MAX_PURPOSES",
    "Camera",
    "SourceKind",
    "check_camera_id",
    "check_source",
    "classify_source",
    "redact_source",
]

#: The most purposes one camera may serve.
MAX_PURPOSES: Final = 8
_ID = re.compile(r"[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)*")
_DEVICE = re.compile(r"/dev/video[0-9]{1,3}")
#: Query parameters whose values are credentials (matched case-insensitively, in part).
_SECRET_PARAMS: Final = ("pass", "pwd", "token", "secret", "key", "auth", "sig", "credential",
                         "session")
_MAX_SOURCE: Final = 2000


class SourceKind(StrEnum):
    """Where a camera's frames come from."""

    RTSP = "rtsp"
    HTTP = "http"
    DEVICE = "device"
    FILE = "file"

    @property
    def network(self) -> bool:
        """A stream over the network, which may drop and come back."""
        return self in (SourceKind.RTSP, SourceKind.HTTP)


def check_camera_id(camera_id: str) -> str:
    """``camera_id`` if it is dotted lowercase words or numbers (``lobby-door-1``,
    ``hq.gate.2``), at most 100 characters; else ``InvalidArgument``."""
    if len(camera_id) > 100 or not _ID.fullmatch(camera_id):
        raise InvalidArgument(
            f"camera id {camera_id!r} must be dotted lowercase words or numbers, like "
            "lobby-door-1", details={"camera": camera_id.encode("unicode_escape").decode()[:200]})
    return camera_id


def classify_source(source: str) -> SourceKind:
    """The kind of ``source``; anything with a scheme other than rtsp(s) and http(s) is
    refused, a path is a device when it is ``/dev/videoN``, else a file.

    Raises:
        InvalidArgument: an empty or over-long source, control characters, an unknown
            scheme, or a URL without a host.
    """
    if not source or len(source) > _MAX_SOURCE or any(ord(c) < 32 or ord(c) == 127
                                                        for c in source):
        raise InvalidArgument("a camera source is a stream URL, a device path or a file",
                              details={"source": redact_source(source[:200])})
    if "://" in source:
        parts = urlsplit(source)
        scheme = parts.scheme.lower()
        if scheme not in ("rtsp", "rtsps", "http", "https") or not parts.hostname:
            raise InvalidArgument(
                "a camera stream is rtsp://, rtsps://, http:// or https://, with a host",
                details={"source": redact_source(source)})
        return SourceKind.RTSP if scheme.startswith("rtsp") else SourceKind.HTTP
    if _DEVICE.fullmatch(source):
        return SourceKind.DEVICE
    return SourceKind.FILE


def check_source(source: str, *, files: bool = True) -> SourceKind:
    """:func:`classify_source`, refusing a file when ``files`` is false (a source stored
    through the service is a stream or a device, never a path on the server)."""
    kind = classify_source(source)
    if kind is SourceKind.FILE and not files:
        raise InvalidArgument("a stored camera source is a stream URL or a /dev/videoN device",
                              details={"source": redact_source(source)})
    return kind


def redact_source(source: str) -> str:
    """``source`` as it may be shown or logged: a URL's password replaced by ``***`` (a
    user name alone, which may be a token, too), the values of query parameters that
    look like credentials (``password``, ``token``, ``key``, ``auth``, ``signature``...)
    replaced by ``***``, and any fragment dropped. Paths are returned as they are."""
    if "://" not in source:
        return source
    try:
        parts = urlsplit(source)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<unreadable URL>"
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{port}" if port is not None else "")
    if parts.password is not None:
        netloc = f"{quote(parts.username or '', safe='')}:***@{netloc}"
    elif parts.username:
        netloc = f"***@{netloc}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, "***" if any(s in k.lower() for s in _SECRET_PARAMS) else v)
                           for k, v in pairs], safe="*/:")
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


@dataclass(frozen=True, slots=True)
class Camera:
    """A registered camera.

    Args:
        id: stable identifier (``lobby-door-1``).
        site_key: the site it belongs to.
        purposes: the site's purposes it serves (at least one).
        mode: ``verify`` (a claimed identity, 1:1) or ``identify`` (1:N).
        placement: the kind of space it is installed in or looks into (R12).
        label: a human name (``Lobby door, inside``).
        signage: the record of the sign posted where it captures (needed at a public
            place, R13), or ``None``.
        source_shown: its stored source, redacted (``None``: none stored; a source is
            then given when the stream is started from the command line).
        registered_at: when it was registered.
        retired_at: when it was taken out of service, if it was.
    """

    id: str
    site_key: str
    purposes: tuple[str, ...]
    mode: Mode
    placement: SiteType
    label: str
    signage: str | None
    source_shown: str | None
    registered_at: datetime
    retired_at: datetime | None = None

    @property
    def has_source(self) -> bool:
        return self.source_shown is not None
