"""Decoding a liveness answer sent as a video file: timestamps, sampling, limits, typed errors.

Videos are written here with PyAV; the real genuine and replay videos of the
shared samples are decoded when the shared data is present.
"""

from __future__ import annotations

import sys
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from facegate.errors import (
    InvalidArgument,
    VideoDecoderMissing,
    VideoNotFound,
    VideoTooLarge,
    VideoTooLong,
    VideoUndecodable,
)
from facegate.images import Image
from facegate.liveness import VideoLimits, read_video

from ..support.video import NO_AV, flat_frames, write_video

VIDEOS = "liveness/liveness_detection_opencv/videos"


@pytest.fixture(scope="module")
def av_installed() -> None:
    pytest.importorskip("av", reason=NO_AV)


@pytest.mark.parametrize(("codec", "suffix"), [("mpeg4", ".mp4"), ("libvpx", ".webm")])
def test_a_video_becomes_timestamped_upright_rgb_frames(
        av_installed: None, tmp_path: Path, codec: str, suffix: str) -> None:
    path = write_video(tmp_path / f"answer{suffix}", flat_frames(12), codec=codec)
    frames = read_video(path)
    assert [round(f.at, 3) for f in frames] == [round(i / 10, 3) for i in range(12)]
    images = [f.image for f in frames]
    assert all(isinstance(i, Image) and i.pixels.shape == (48, 64, 3) for i in images)
    levels = [float(i.pixels.mean()) for i in images if isinstance(i, Image)]
    assert all(abs(v - (20 + 10 * k)) < 6 for k, v in enumerate(levels)), levels
    assert [f.at for f in read_video(path.read_bytes())] == [f.at for f in frames]


@pytest.mark.parametrize(("rotation", "white"), [(90, "bottom"), (-90, "top"), (180, "right")])
def test_the_display_rotation_of_a_phone_video_is_applied(
        av_installed: None, tmp_path: Path, rotation: int, white: str) -> None:
    import av

    if not hasattr(av.video.stream.VideoStream, "set_display_rotation"):
        pytest.skip("this PyAV cannot write a display matrix")
    pixels = np.zeros((48, 64, 3), dtype=np.uint8)
    pixels[:, :32] = 255  # the left half white, as recorded
    path = write_video(tmp_path / "phone.mp4", [pixels] * 3, rotation=rotation)
    image = read_video(path)[0].image
    assert isinstance(image, Image)
    shown = image.pixels.mean(axis=2)
    h, w = shown.shape
    assert (h, w) == ((48, 64) if rotation == 180 else (64, 48))
    halves = {"top": shown[: h // 2], "bottom": shown[h // 2:], "left": shown[:, : w // 2],
              "right": shown[:, w // 2:]}
    assert halves[white].mean() > 200, {k: float(v.mean()) for k, v in halves.items()}


def test_frames_are_sampled_on_the_videos_own_clock(av_installed: None, tmp_path: Path) -> None:
    path = write_video(tmp_path / "fast.mp4", flat_frames(30), fps=30)
    assert len(read_video(path, fps=None)) == 30
    sampled = read_video(path, fps=10)
    assert [round(f.at, 3) for f in sampled] == [round(i / 10, 3) for i in range(10)]
    assert len(read_video(path, fps=4)) == 4


@pytest.mark.parametrize(("limits", "error", "limit"), [
    (VideoLimits(max_bytes=1000), VideoTooLarge, "bytes"),
    (VideoLimits(max_pixels=64 * 48 - 1), VideoTooLarge, "pixels"),
    (VideoLimits(max_duration=1.0), VideoTooLong, "duration"),
    (VideoLimits(max_frames=19), VideoTooLong, "frames"),
    (VideoLimits(max_decoded=19), VideoTooLong, "decoded_frames"),
])
def test_a_video_over_a_limit_is_refused_with_a_stable_code(
        av_installed: None, tmp_path: Path, limits: VideoLimits,
        error: type[Exception], limit: str) -> None:
    path = write_video(tmp_path / "answer.mp4", flat_frames(20))
    assert len(read_video(path)) == 20
    with pytest.raises(error) as refused:
        read_video(path, limits=limits)
    assert refused.value.details["limit"] == limit  # type: ignore[attr-defined]
    assert refused.value.code.startswith("video.")  # type: ignore[attr-defined]


def test_what_is_not_a_video_is_undecodable(av_installed: None, tmp_path: Path,
                                            faces: dict[str, Path]) -> None:
    text = tmp_path / "notes.webm"
    text.write_text("not a video\n" * 50, encoding="utf-8")
    for source in (b"\x00" * 4096, text, faces["obama"], faces["obama"].read_bytes(), b"",
                   tmp_path):
        with pytest.raises(VideoUndecodable):
            read_video(source)
    with pytest.raises(VideoNotFound):
        read_video(tmp_path / "missing.mp4")
    with pytest.raises(InvalidArgument):
        read_video(text, fps=0)


def test_a_playlist_naming_another_file_is_not_followed(av_installed: None,
                                                        tmp_path: Path) -> None:
    target = write_video(tmp_path / "elsewhere.mp4", flat_frames(10))
    playlist = (f"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n{target}\n"
                "#EXT-X-ENDLIST\n").encode()
    with pytest.raises(VideoUndecodable):
        read_video(playlist)
    concat = f"ffconcat version 1.0\nfile '{target}'\n".encode()
    with pytest.raises(VideoUndecodable):
        read_video(concat)


def test_a_truncated_video_gives_the_frames_before_the_cut_or_is_undecodable(
        av_installed: None, tmp_path: Path) -> None:
    data = write_video(tmp_path / "answer.webm", flat_frames(20), codec="libvpx").read_bytes()
    try:
        frames = read_video(data[: len(data) // 2])
    except VideoUndecodable:
        return
    assert 0 < len(frames) < 20


def test_without_the_decoder_a_video_is_refused_with_its_own_code(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "av", None)
    path = tmp_path / "answer.webm"
    path.write_bytes(b"\x1a\x45\xdf\xa3" + b"\x00" * 64)
    with pytest.raises(VideoDecoderMissing) as missing:
        read_video(path)
    assert missing.value.code == "video.decoder_missing" and missing.value.http_status == 501


def test_the_real_genuine_and_replay_videos_decode(av_installed: None, samples: Path) -> None:
    long = VideoLimits(max_frames=1000)
    real = read_video(samples / VIDEOS / "real2.webm", limits=long)
    fake = read_video(samples / VIDEOS / "fake2.webm", limits=long)
    assert len(real) == 117 and round(real[-1].at, 3) == 11.644
    assert len(fake) == 153 and round(fake[-1].at, 3) == 15.224
    assert all(b.at > a.at for a, b in pairwise(real))
    assert len({int(f.at * 10 + 1e-6) for f in real}) == len(real)  # one frame per 0.1 s at most
    assert all(isinstance(f.image, Image) and f.image.pixels.shape == (480, 640, 3)
               for f in real[:3])
    assert len(read_video(samples / VIDEOS / "real2.webm", fps=None, limits=long)) == 214
    with pytest.raises(VideoTooLong):  # 11.6 s at 10 frames/s is more than 90 frames
        read_video(samples / VIDEOS / "real2.webm")
