"""Following faces across frames: box overlap plus a cheap appearance cue, assigned
optimally with SciPy's ``linear_sum_assignment``.

Each frame's detections are matched to the live tracks by a cost that is small when a
detection overlaps the track's predicted box (its last box moved by its velocity) and
looks like it (a 64-bin colour histogram of the face's centre, compared by histogram
intersection). Pairs that neither overlap nor lie close are never matched. A detection
left over starts a tentative track, confirmed after ``min_hits`` detections; a track
unseen for ``max_age`` seconds ends (a tentative one after ``tentative_age``). At most
``max_tracks`` tracks live at once: the pipeline's memory is bounded whatever the
crowd.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

from ..engine.faces import Box, Face
from .shots import Shot

__all__ = ["Track", "Tracker", "TrackerSettings", "appearance", "iou"]

_BINS: Final = 4
_NO: Final = 1e6


@dataclass(frozen=True, slots=True)
class TrackerSettings:
    """How faces are followed.

    Args:
        min_hits: detections before a track is confirmed (and counted, and decided).
        max_age: seconds a confirmed track survives without a detection.
        tentative_age: seconds a tentative track survives without a detection.
        max_tracks: the most tracks alive at once.
        iou_weight: the share of the overlap in the match score (the rest: appearance).
        min_score: the smallest match score a pair may have (overlap and appearance
            together).
        max_jump: the farthest a face may move between two detections, in box sizes,
            for a pair that does not overlap.
    """

    min_hits: int = 2
    max_age: float = 1.0
    tentative_age: float = 0.4
    max_tracks: int = 12
    iou_weight: float = 0.7
    min_score: float = 0.25
    max_jump: float = 1.0


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes."""
    width = min(a.right, b.right) - max(a.left, b.left)
    height = min(a.bottom, b.bottom) - max(a.top, b.top)
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    return inter / float(a.area + b.area - inter)


def appearance(pixels: npt.NDArray[np.uint8], box: Box) -> npt.NDArray[np.float32]:
    """A 64-bin colour histogram (4 levels per channel) of the middle of ``box``, summing
    to 1; sampled on a grid of at most 24x24 pixels, so it costs the same for any face."""
    h, w = pixels.shape[:2]
    cx, cy = box.center
    half_w, half_h = box.width * 0.3, box.height * 0.3
    left, right = max(0, int(cx - half_w)), min(w, int(cx + half_w) + 1)
    top, bottom = max(0, int(cy - half_h)), min(h, int(cy + half_h) + 1)
    if right - left < 2 or bottom - top < 2:
        return np.full(_BINS ** 3, 1.0 / _BINS ** 3, dtype=np.float32)
    step_y = max(1, (bottom - top) // 24)
    step_x = max(1, (right - left) // 24)
    sample = pixels[top:bottom:step_y, left:right:step_x].reshape(-1, 3) // (256 // _BINS)
    index = (sample[:, 0].astype(np.int32) * _BINS + sample[:, 1]) * _BINS + sample[:, 2]
    counts = np.bincount(index, minlength=_BINS ** 3).astype(np.float32)
    return counts / max(1.0, float(counts.sum()))


@dataclass(eq=False)
class Track:
    """A face followed across frames, and what the pipeline decided about it.

    ``shot`` is the best view seen since the last decision (dropped when the track is
    decided, and when it ends); ``decided_quality`` the quality of the shot last decided
    on; ``outcome`` the last decision's outcome; ``final`` is true when no further
    decision will be made (a match, a review case, or the last attempt).
    """

    id: int
    box: Box
    first_seen: float
    first_frame: int
    last_seen: float
    hue: npt.NDArray[np.float32] = field(repr=False)
    velocity: tuple[float, float] = (0.0, 0.0)
    hits: int = 1
    confirmed: bool = False
    shot: Shot | None = field(default=None, repr=False)
    best_quality: float = 0.0
    decided_quality: float | None = None
    attempts: int = 0
    outcome: str | None = None
    final: bool = False
    decided_at: float | None = None
    claim: int | None = None

    def predicted(self, at: float) -> Box:
        dt = min(max(0.0, at - self.last_seen), 0.5)
        dx, dy = self.velocity[0] * dt, self.velocity[1] * dt
        return Box(left=round(self.box.left + dx), top=round(self.box.top + dy),
                   right=round(self.box.right + dx), bottom=round(self.box.bottom + dy))


class Tracker:
    """The live tracks of one camera; see the module docstring."""

    def __init__(self, settings: TrackerSettings | None = None) -> None:
        self.settings = settings or TrackerSettings()
        self._tracks: list[Track] = []
        self._next = 1
        #: detections not followed because ``max_tracks`` tracks were alive
        self.overflow = 0

    def __iter__(self) -> Iterator[Track]:
        return iter(list(self._tracks))

    def __len__(self) -> int:
        return len(self._tracks)

    def _score(self, track: Track, face: Face, hue: npt.NDArray[np.float32], at: float) -> float:
        s = self.settings
        guess = track.predicted(at)
        overlap = iou(guess, face.box)
        if overlap <= 0.0:
            (gx, gy), (fx, fy) = guess.center, face.box.center
            size = max(1.0, float(max(guess.width, guess.height)))
            if math.hypot(gx - fx, gy - fy) > s.max_jump * size:
                return 0.0
        similar = float(np.minimum(track.hue, hue).sum())
        return s.iou_weight * overlap + (1.0 - s.iou_weight) * similar

    def update(self, faces: list[Face], pixels: npt.NDArray[np.uint8], *, at: float,
               frame: int) -> list[tuple[Track, Face]]:
        """Match this frame's faces to the tracks (starting new ones for the rest); the
        (track, face) pairs of this frame."""
        s = self.settings
        hues = [appearance(pixels, f.box) for f in faces]
        pairs: list[tuple[Track, Face]] = []
        used: set[int] = set()
        if self._tracks and faces:
            cost = np.full((len(self._tracks), len(faces)), _NO)
            for i, track in enumerate(self._tracks):
                for j, face in enumerate(faces):
                    score = self._score(track, face, hues[j], at)
                    if score >= s.min_score:
                        cost[i, j] = 1.0 - score
            rows, cols = linear_sum_assignment(cost)
            for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
                if cost[i, j] >= _NO:
                    continue
                track = self._tracks[i]
                self._follow(track, faces[j], hues[j], at)
                pairs.append((track, faces[j]))
                used.add(j)
        for j, face in enumerate(faces):
            if j in used:
                continue
            if len(self._tracks) >= s.max_tracks:
                self.overflow += 1
                continue
            track = Track(id=self._next, box=face.box, first_seen=at, first_frame=frame,
                          last_seen=at, hue=hues[j], confirmed=s.min_hits <= 1)
            self._next += 1
            self._tracks.append(track)
            pairs.append((track, face))
        return pairs

    def _follow(self, track: Track, face: Face, hue: npt.NDArray[np.float32], at: float) -> None:
        dt = at - track.last_seen
        if dt > 1e-3:
            (ox, oy), (nx, ny) = track.box.center, face.box.center
            vx, vy = (nx - ox) / dt, (ny - oy) / dt
            track.velocity = (0.5 * track.velocity[0] + 0.5 * vx,
                              0.5 * track.velocity[1] + 0.5 * vy)
        track.box = face.box
        track.last_seen = at
        track.hue = (0.7 * track.hue + 0.3 * hue).astype(np.float32)
        track.hits += 1
        if track.hits >= self.settings.min_hits:
            track.confirmed = True

    def expire(self, at: float) -> list[Track]:
        """End the tracks unseen for too long; returns them."""
        s = self.settings
        ended = [t for t in self._tracks
                 if at - t.last_seen > (s.max_age if t.confirmed else s.tentative_age)]
        if ended:
            gone = {id(t) for t in ended}
            self._tracks = [t for t in self._tracks if id(t) not in gone]
        return ended

    def end_all(self) -> list[Track]:
        """End every track (the stream stops)."""
        ended, self._tracks = self._tracks, []
        return ended
