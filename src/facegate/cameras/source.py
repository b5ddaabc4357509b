"""A camera's frames: PyAV reads the source in a thread of its own; the newest frame wins.

:class:`FrameSource` opens an RTSP or HTTP(S) stream, a V4L2 device or a video file
with PyAV (the ``video`` extra) and decodes it continuously in its own thread. It
keeps one frame: the newest. A consumer that falls behind (the pipeline, while it
detects or decides) takes the newest frame when it comes back and the frames in
between are dropped, never queued, so a slow consumer never lags behind the camera.
The decode-rate cap (``max_fps``, on the stream's own clock) drops frames beyond the
rate before they are converted to pixels; a file is read at its own pace, as a
camera would send it (``realtime``), unless told otherwise.

A network source that fails to open, stalls beyond the read timeout, ends or drops
is opened again after a backoff (``backoff_first`` doubling to ``backoff_cap``, with
a fifth of jitter), until the source is stopped. A device or file that fails ends
the source with the error's code; a file that ends ends it (or starts again, with
``loop``).

Nothing here logs or keeps what a source says about itself: an error from the
decoder may quote the URL, credentials included, so only its class and number are
kept (:attr:`SourceStatus.error`).
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from ..errors import InvalidArgument, VideoDecoderMissing
from .models import SourceKind, classify_source, redact_source

__all__ = ["Frame", "FrameSource", "SourceSettings", "SourceStatus"]

#: Protocols ffmpeg may use for each kind of network source (nothing else is followed:
#: an HTTP playlist cannot point at a local file).
_PROTOCOLS: Final = {SourceKind.RTSP: "rtsp,rtsps,rtp,srtp,udp,tcp,tls,crypto,https,http",
                     SourceKind.HTTP: "http,https,tcp,tls,crypto"}


@dataclass(frozen=True, slots=True)
class SourceSettings:
    """How a source is read.

    Args:
        max_fps: the decode-rate cap: at most this many frames a second are offered (on
            the stream's own clock); the others are decoded (a stream must be) and dropped
            before conversion.
        realtime: read a file at its own pace (its timestamps), as a camera would send
            it; ``False`` reads it as fast as the consumer and the cap allow.
        loop: start a file again at its end instead of ending.
        open_timeout: seconds to open a network source before the attempt fails.
        read_timeout: seconds without data before a network source counts as dropped.
        backoff_first: seconds before the first reconnection attempt.
        backoff_cap: the longest wait between attempts.
        max_pixels: frames larger than this (width times height) end the source
            (``video.too_large``).
        rtsp_transport: ``tcp`` (interleaved, the default: no lost packets) or ``udp``.
        rtsp_probe: seconds of an RTSP stream read to learn its format when it opens.
            Its session description already names the codec; FFmpeg's default (5 s)
            would hold a camera's first seconds back and then hand them over at once.
    """

    max_fps: float = 15.0
    realtime: bool = True
    loop: bool = False
    open_timeout: float = 10.0
    read_timeout: float = 10.0
    backoff_first: float = 0.5
    backoff_cap: float = 10.0
    max_pixels: int = 1920 * 1088
    rtsp_transport: str = "tcp"
    rtsp_probe: float = 0.2

    def __post_init__(self) -> None:
        if not (math.isfinite(self.max_fps) and 0 < self.max_fps <= 120):
            raise InvalidArgument("max_fps must lie in (0, 120]", details={"max_fps": self.max_fps})
        if self.rtsp_transport not in ("tcp", "udp"):
            raise InvalidArgument("rtsp_transport is tcp or udp")
        if min(self.open_timeout, self.read_timeout, self.backoff_first, self.backoff_cap,
               self.rtsp_probe) <= 0:
            raise InvalidArgument("timeouts and backoffs must be positive")


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded frame.

    Args:
        index: its number among the frames offered (from 1), across reconnections.
        pixels: RGB, ``(height, width, 3)`` uint8.
        received: when it was decoded (``time.monotonic()``).
        at: its time on the stream's clock, in seconds, when it has one.
    """

    index: int
    pixels: npt.NDArray[np.uint8]
    received: float
    at: float | None


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """How the source goes: connected or not, frames decoded, offered (after the cap),
    taken by the consumer and dropped (replaced before anyone took them), connections
    made, attempts to open it again after a failure or a drop (``reconnects``), whether
    it has ended, and the last error's code (never its text)."""

    source: str
    kind: SourceKind
    connected: bool
    decoded: int
    offered: int
    taken: int
    dropped: int
    connections: int
    reconnects: int
    ended: bool
    error: str | None


def _av() -> Any:
    try:
        import av
    except ImportError:
        raise VideoDecoderMissing(
            "no video decoder is installed: install facegate's 'video' extra (PyAV)") from None
    return av


def _code(exc: BaseException) -> str:
    """An error's class and number: what may be kept of it (its text may quote the URL)."""
    number = getattr(exc, "errno", None)
    return f"{type(exc).__name__}" + (f":{number}" if isinstance(number, int) else "")


class FrameSource:
    """Frames from ``source``, newest first; see the module docstring.

    Args:
        source: the stream URL, device path or file (kept in memory only).
        settings: how to read it.
        clock: the monotonic clock (for tests of pacing).
    """

    def __init__(self, source: str, settings: SourceSettings | None = None, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.kind = classify_source(source)
        self.settings = settings or SourceSettings()
        self.shown = redact_source(source)
        self._source = source
        self._clock = clock
        self._av = _av()
        self._lock = threading.Condition()
        self._stop = threading.Event()
        self._frame: Frame | None = None
        self._taken_index = 0
        self._thread: threading.Thread | None = None
        self._connected = False
        self._decoded = 0
        self._offered = 0
        self._taken = 0
        self._dropped = 0
        self._connections = 0
        self._reconnects = 0
        self._ended = False
        self._error: str | None = None

    # -- the consumer's side -------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="facegate-source",
                                            daemon=True)
            self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Stop reading; waits for the reading thread (a blocked read ends at the read
        timeout at the latest)."""
        self._stop.set()
        with self._lock:
            self._lock.notify_all()
        if self._thread is not None:
            self._thread.join(timeout if timeout is not None
                              else self.settings.read_timeout + 2.0)

    def take(self, after: int, timeout: float) -> Frame | None:
        """The newest frame after frame number ``after``, waiting up to ``timeout``
        seconds; ``None`` when none came (or the source ended)."""
        deadline = self._clock() + timeout
        with self._lock:
            while True:
                frame = self._frame
                if frame is not None and frame.index > after:
                    self._frame = None
                    self._taken += 1
                    self._taken_index = frame.index
                    return frame
                left = deadline - self._clock()
                if left <= 0 or self._ended or self._stop.is_set():
                    return None
                self._lock.wait(left)

    def status(self) -> SourceStatus:
        with self._lock:
            return SourceStatus(source=self.shown, kind=self.kind, connected=self._connected,
                                decoded=self._decoded, offered=self._offered,
                                taken=self._taken, dropped=self._dropped,
                                connections=self._connections,
                                reconnects=self._reconnects, ended=self._ended,
                                error=self._error)

    @property
    def ended(self) -> bool:
        return self._ended

    # -- the reading thread --------------------------------------------------------------

    def _offer(self, frame: Frame) -> None:
        with self._lock:
            if self._frame is not None:
                self._dropped += 1
            self._frame = frame
            self._offered += 1
            self._lock.notify_all()

    def _open(self) -> Any:
        av, s = self._av, self.settings
        if self.kind is SourceKind.DEVICE:
            return av.open(self._source, format="v4l2",
                           options={"framerate": str(math.ceil(s.max_fps))},
                           timeout=(s.open_timeout, s.read_timeout))
        if self.kind is SourceKind.FILE:
            return av.open(self._source)
        options = {"protocol_whitelist": _PROTOCOLS[self.kind]}
        if self.kind is SourceKind.RTSP:
            options["rtsp_transport"] = s.rtsp_transport
            options["analyzeduration"] = str(round(s.rtsp_probe * 1_000_000))
        return av.open(self._source, options=options, timeout=(s.open_timeout, s.read_timeout))

    def _run(self) -> None:
        attempt = 0
        again = self.kind is not SourceKind.FILE  # streams and devices come back
        while not self._stop.is_set():
            got = False
            try:
                got = self._read_once()
            except self._av.FFmpegError as exc:
                self._fail(exc)
            except (OSError, ValueError, EOFError) as exc:
                self._fail(exc)
            finally:
                with self._lock:
                    self._connected = False
            if self._stop.is_set() or self._ended:
                break
            if not again:
                if self.settings.loop and got:
                    continue  # a file, read again from its start
                break
            attempt = 0 if got else attempt + 1
            with self._lock:
                self._reconnects += 1
            wait = min(self.settings.backoff_cap,
                       self.settings.backoff_first * 2 ** min(attempt, 16))
            self._stop.wait(wait * (1.0 + random.uniform(0.0, 0.2)))
        with self._lock:
            self._ended = True
            self._lock.notify_all()

    def _fail(self, exc: BaseException) -> None:
        with self._lock:
            self._error = _code(exc)

    def _read_once(self) -> bool:
        """One connection: decode until the source ends, drops or is stopped; whether any
        frame came."""
        s = self.settings
        container = self._open()
        got = False
        try:
            stream = container.streams.video[0] if container.streams.video else None
            if stream is None:
                raise ValueError("no video stream")
            stream.thread_type = "AUTO"
            with self._lock:
                self._connected = True
                self._connections += 1
                self._error = None
            period = 1.0 / s.max_fps
            pace = self.kind is SourceKind.FILE and s.realtime
            started: float | None = None
            first_at: float | None = None
            next_slot = -math.inf
            for decoded in container.decode(stream):
                if self._stop.is_set():
                    break
                with self._lock:
                    self._decoded += 1
                if decoded.width * decoded.height > s.max_pixels:
                    with self._lock:
                        self._error = "video.too_large"
                        self._ended = True
                    break
                at = float(decoded.time) if decoded.time is not None else None
                now = self._clock()
                if started is None:
                    started = now
                if at is not None and first_at is None:
                    # the stream's own time from its first timestamped frame (an RTSP
                    # stream's first frame may carry none), aligned to the time read so far
                    first_at = at - (now - started)
                elapsed = at - first_at if at is not None and first_at is not None \
                    else now - started
                if pace and at is not None:
                    wait = started + elapsed - self._clock()
                    if wait > 0 and self._stop.wait(wait):
                        break
                if elapsed < next_slot - 1e-6:
                    continue  # over the decode-rate cap: dropped before conversion
                next_slot = (math.floor(elapsed / period + 1e-6) + 1) * period
                pixels = decoded.to_ndarray(format="rgb24")
                got = True
                self._offer(Frame(index=self._offered + 1, pixels=pixels,
                                  received=self._clock(), at=at))
        finally:
            container.close()
        return got
