"""The passive per-frame score of the ``faceplugin-arcface-v1`` pack's ``fr_liveness.onnx``.

The network takes a ``1x3x128x128`` float tensor: the face box widened about
2.7 times (less where the frame is too small, shifted to stay inside it),
resized to 128x128, pixel values 0-255 unscaled. It answers three logits.

Measured on the shared samples (``docs/liveness.md``): **class 0 is the live
face**, and the network expects **BGR** channel order. With BGR, the one real
full camera frame scores 0.66 live (0.01 with RGB); 19 ordinary identity
photos average 0.95 (0.87 with RGB); the printed-photo frame scores 0.00 and
the phone-screen frame 0.09. Tight face crops without the surrounding context
(the screen-replay crop set) are outside what it was trained on and score
unreliably either way; only full frames are scored.

The file is the pack's hash-pinned ``liveness`` file; onnxruntime loads it on
first use.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from PIL import Image as PILImage

from ..engine.faces import Box
from ..engine.pack_install import find_pack, installed_files, is_installed

__all__ = ["LIVENESS_PACK", "PassiveScorer", "passive_scorer"]

#: The model pack whose ``liveness`` file gives the passive score.
LIVENESS_PACK: Final = "faceplugin-arcface-v1"
_SIZE: Final = 128
_SCALE: Final = 2.7
_LIVE_CLASS: Final = 0


def _crop_box(box: Box, width: int, height: int) -> tuple[int, int, int, int]:
    bw, bh = max(box.width, 1), max(box.height, 1)
    scale = min((height - 1) / bh, (width - 1) / bw, _SCALE)
    nw, nh = bw * scale, bh * scale
    cx, cy = box.left + bw / 2, box.top + bh / 2
    left, top, right, bottom = cx - nw / 2, cy - nh / 2, cx + nw / 2, cy + nh / 2
    if left < 0:
        right, left = right - left, 0.0
    if top < 0:
        bottom, top = bottom - top, 0.0
    if right > width - 1:
        left, right = left - (right - width + 1), width - 1.0
    if bottom > height - 1:
        top, bottom = top - (bottom - height + 1), height - 1.0
    return max(int(left), 0), max(int(top), 0), int(right), int(bottom)


class PassiveScorer:
    """Scores one frame's face: the probability the network gives to a live face."""

    def __init__(self, model: Path, *, threads: int | None = None) -> None:
        self.model = model
        self._threads = threads
        self._session: Any = None

    def _run(self, tensor: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        if self._session is None:
            import onnxruntime as ort

            options = ort.SessionOptions()
            if self._threads:
                options.intra_op_num_threads = self._threads
            self._session = ort.InferenceSession(str(self.model), options,
                                                 providers=["CPUExecutionProvider"])
        logits = np.asarray(self._session.run(None, {"input": tensor})[0][0], dtype=np.float64)
        e = np.exp(logits - logits.max())
        return np.asarray(e / e.sum(), dtype=np.float64)

    def score(self, pixels: npt.NDArray[np.uint8], box: Box) -> float:
        """P(live) for the face in ``box`` of the RGB frame ``pixels``."""
        height, width = pixels.shape[:2]
        left, top, right, bottom = _crop_box(box, width, height)
        crop = PILImage.fromarray(pixels[top:bottom, left:right]).resize(
            (_SIZE, _SIZE), PILImage.Resampling.BILINEAR)
        bgr = np.asarray(crop, dtype=np.float32)[..., ::-1]
        tensor = np.ascontiguousarray(bgr.transpose(2, 0, 1)[None])
        return float(self._run(tensor)[_LIVE_CLASS])


def passive_scorer(folder: Path | None = None) -> PassiveScorer | None:
    """The scorer when the pack is installed (its file's hash checked), else ``None``."""
    pack = find_pack(LIVENESS_PACK, folder)
    if not is_installed(pack, folder):
        return None
    return PassiveScorer(installed_files(pack, folder)["liveness"])
