"""Decoding a liveness answer sent as a short video file into timestamped frames.

:func:`read_video` takes a path or the bytes of a WebM/Matroska, MP4/MOV or
AVI file and returns :class:`~facegate.liveness.frames.Frame` values: upright
8-bit RGB images at the video's own presentation times, in seconds since the
first frame, sampled down to at most ``fps`` frames a second.

Decoding is bounded by :class:`VideoLimits`: the encoded bytes before
anything is parsed, the frame size from the stream header and again on every
frame, the duration and the number of decoded and kept frames while decoding
(it stops at the first frame over a limit). Only the listed containers are
opened (``format_whitelist``), and the input is handed to the decoder as
bytes in memory, never as a name it could resolve, so a playlist or a
reference to another file or a URL is not followed.

The decoder is PyAV (the ``video`` extra), imported on first use; without it
every call raises :class:`~facegate.errors.VideoDecoderMissing`. Every failure
is a :class:`~facegate.errors.VideoError` with a stable code.
"""

from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from ..errors import (
    InvalidArgument,
    VideoDecoderMissing,
    VideoNotFound,
    VideoTooLarge,
    VideoTooLong,
    VideoUndecodable,
)
from ..images import Image
from .frames import Frame

__all__ = ["VIDEO_SUFFIXES", "VideoLimits", "VideoSource", "read_video"]

#: File name endings the CLI treats as a video answer.
VIDEO_SUFFIXES: Final = (".webm", ".mkv", ".mp4", ".m4v", ".mov", ".avi")
#: The demuxers ffmpeg may use (its names); nothing else is probed.
_FORMATS: Final = "matroska,webm,mov,mp4,m4a,3gp,3g2,mj2,avi"

VideoSource = str | os.PathLike[str] | bytes | bytearray | memoryview


@dataclass(frozen=True, slots=True)
class VideoLimits:
    """Upper bounds on what :func:`read_video` accepts.

    Args:
        max_bytes: largest encoded file (default 64 MiB).
        max_pixels: largest frame, width times height (default 2,088,960: 1920x1088).
        max_duration: latest frame, in seconds after the first (default 20, as
            :class:`~facegate.liveness.checker.LivenessSettings`).
        max_frames: most frames kept after sampling (default 90, as the checker).
        max_decoded: most frames decoded before sampling (default 1,800: 20 s at 90/s).
    """

    max_bytes: int = 64 * 1024 * 1024
    max_pixels: int = 1920 * 1088
    max_duration: float = 20.0
    max_frames: int = 90
    max_decoded: int = 1800


def _av() -> Any:
    try:
        import av
    except ImportError:
        raise VideoDecoderMissing(
            "no video decoder is installed: install facegate's 'video' extra (PyAV), "
            "or send the answer as timestamped frames") from None
    return av


def _read(source: VideoSource, limits: VideoLimits) -> bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    elif isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            if not path.is_file():
                if not path.exists():
                    raise FileNotFoundError(path)
                raise VideoUndecodable(f"{path} is not a file", details={"path": str(path)})
            size = path.stat().st_size
            if size > limits.max_bytes:
                raise _too_many_bytes(size, limits)
            data = path.read_bytes()
        except FileNotFoundError:
            raise VideoNotFound(f"no such file: {path}", details={"path": str(path)}) from None
        except PermissionError:
            raise VideoUndecodable(f"cannot read {path}: permission denied",
                                   details={"path": str(path)}) from None
    else:
        raise VideoUndecodable(f"cannot read a video from a {type(source).__name__}",
                               details={"type": type(source).__name__})
    if not data:
        raise VideoUndecodable("the video is empty (zero bytes)")
    if len(data) > limits.max_bytes:
        raise _too_many_bytes(len(data), limits)
    return data


def _too_many_bytes(size: int, limits: VideoLimits) -> VideoTooLarge:
    return VideoTooLarge(f"the video has {size} bytes, more than {limits.max_bytes}",
                         details={"limit": "bytes", "bytes": size, "max": limits.max_bytes})


def _check_pixels(width: int, height: int, limits: VideoLimits) -> None:
    if width * height > limits.max_pixels:
        raise VideoTooLarge(
            f"the video's frames are {width}x{height}, more than {limits.max_pixels} pixels",
            details={"limit": "pixels", "width": width, "height": height,
                     "max": limits.max_pixels})


def _upright(pixels: np.ndarray[Any, Any], rotation: float) -> np.ndarray[Any, Any]:
    """Apply the stream's display rotation (counter-clockwise degrees, as ffmpeg's
    display matrix gives it), as players do."""
    quarter = round(rotation / 90.0) % 4
    return np.ascontiguousarray(np.rot90(pixels, k=quarter)) if quarter else pixels


def read_video(source: VideoSource, *, fps: float | None = 10.0,
               limits: VideoLimits | None = None) -> list[Frame]:
    """Decode a short video into timestamped frames.

    Args:
        source: a file path, or the bytes of a WebM/Matroska, MP4/MOV or AVI file.
        fps: keep at most this many frames a second (the first frame at or after
            each ``1/fps`` step of the video's own clock); ``None`` keeps every frame.
        limits: size limits; defaults to :class:`VideoLimits()`.

    Returns:
        The frames in presentation order; ``at`` is seconds since the first
        frame, strictly increasing.

    Raises:
        VideoDecoderMissing: PyAV is not installed.
        VideoNotFound: the path does not exist.
        VideoTooLarge: over ``limits.max_bytes`` or ``limits.max_pixels``.
        VideoTooLong: over ``max_duration``, ``max_frames`` or ``max_decoded``.
        VideoUndecodable: not a video in an accepted container, corrupt, truncated,
            without a video stream or without any decodable frame.
        InvalidArgument: ``fps`` is not positive.
    """
    if fps is not None and not (math.isfinite(fps) and fps > 0):
        raise InvalidArgument(f"fps must be positive, got {fps}")
    limits = limits or VideoLimits()
    data = _read(source, limits)
    av = _av()
    try:
        container = av.open(io.BytesIO(data), mode="r",
                            options={"format_whitelist": _FORMATS})
    except (av.FFmpegError, ValueError, OSError) as exc:
        raise VideoUndecodable(f"not a readable video ({exc})") from None
    with container:
        if not container.streams.video:
            raise VideoUndecodable("the file holds no video stream")
        stream = container.streams.video[0]
        _check_pixels(stream.codec_context.width, stream.codec_context.height, limits)
        try:
            return _decode(container, stream, fps, limits)
        except (av.FFmpegError, ValueError, OSError) as exc:
            raise VideoUndecodable(f"the video cannot be decoded ({exc})") from None


def _decode(container: Any, stream: Any, fps: float | None,
            limits: VideoLimits) -> list[Frame]:
    period = 1.0 / fps if fps is not None else 0.0
    rate = float(stream.average_rate) if stream.average_rate else 0.0
    frames: list[Frame] = []
    start: float | None = None
    last = -math.inf
    next_slot = 0.0
    for decoded, frame in enumerate(container.decode(stream)):
        if decoded >= limits.max_decoded:
            raise VideoTooLong(
                f"the video has more than {limits.max_decoded} frames",
                details={"limit": "decoded_frames", "max": limits.max_decoded})
        _check_pixels(frame.width, frame.height, limits)
        t = frame.time
        if t is None:
            if not rate:
                raise VideoUndecodable("the video's frames carry no timestamps")
            t = decoded / rate
        if start is None:
            start = float(t)
        at = float(t) - start
        if at > limits.max_duration:
            raise VideoTooLong(
                f"the video runs past {limits.max_duration:g} s",
                details={"limit": "duration", "max": limits.max_duration})
        if at <= last or at < next_slot - 1e-9:
            continue
        if len(frames) >= limits.max_frames:
            raise VideoTooLong(
                f"the video gives more than {limits.max_frames} frames at "
                f"{fps or 'all'} frames/s; send a shorter answer or sample fewer frames",
                details={"limit": "frames", "max": limits.max_frames})
        pixels = _upright(frame.to_ndarray(format="rgb24"), float(frame.rotation or 0))
        frames.append(Frame(at=at, image=Image(pixels=pixels.astype(np.uint8, copy=False),
                                               source_format="video")))
        last = at
        if period:
            next_slot = (math.floor(at / period + 1e-9) + 1) * period
    if not frames:
        raise VideoUndecodable("the video has no decodable frame")
    return frames
