"""Face analysis on the user's own photos: detect, check quality, embed, compare.

:class:`FaceAnalyzer` is the library's entry point to the engine for work that
stores nothing: it decodes the image, runs the engine and returns plain
frozen results. Storing a template or matching against a gallery is not done
here; that goes through the policy gate.

Single-face operations (quality for enrollment, compare) work on the
*primary* face: the largest detection the detector is confident about. Another
confident face counts as a competing face when its box is at least
``crowd_ratio`` of the primary face's width; smaller faces are bystanders in
the background and are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .calibration.shipped import DEFAULT_POPULATION, shipped_calibration
from .comparison import Comparison, compare_descriptors
from .engine.base import DetectOptions, Engine
from .engine.default import default_engine, engine_for_pack
from .engine.faces import Face
from .engine.packs import ModelPack
from .errors import MultipleFaces, NoFaceFound
from .images import Image, ImageLimits, ImageSource, load_image
from .quality import (
    QualityReport,
    QualitySettings,
    assess_face,
    is_confident,
    multiple_faces_report,
    no_face_report,
)

__all__ = ["AnalyzerSettings", "FaceAnalyzer"]


@dataclass(frozen=True, slots=True)
class AnalyzerSettings:
    """Settings of a :class:`FaceAnalyzer`.

    Args:
        detect: how to look for faces.
        quality: the limits of the quality check.
        limits: limits on input images.
        threshold: decision distance for :meth:`FaceAnalyzer.compare`; when
            ``None``, the pack's shipped calibration for ``population`` (for FMR
            0.1% on that population), or the pack's LFW-derived default where it
            has none.
        population: the population the photos show (a key of
            ``facegate.calibration.shipped.POPULATIONS``); it picks the default
            pack (the best-measured installed one for it) and the threshold.
            ``None``: the default profile's, East-Asian adults.
        crowd_ratio: a second face at least this share of the primary face's
            width makes a single-face operation ambiguous.
    """

    detect: DetectOptions = field(default_factory=DetectOptions)
    quality: QualitySettings = field(default_factory=QualitySettings)
    limits: ImageLimits = field(default_factory=ImageLimits)
    threshold: float | None = None
    crowd_ratio: float = 0.5
    population: str | None = None


class FaceAnalyzer:
    """Detect, assess, embed and compare faces in images.

    Args:
        engine: the face engine; by default the engine of the best-measured
            installed pack for ``settings.population``
            (:func:`~facegate.engine.default.best_pack`: the ArcFace pack when
            it is installed, else dlib's). Its models load on first use;
            :attr:`pack` says which pack runs, and every result names it.
        settings: detection, quality and comparison settings.

    Example::

        analyzer = FaceAnalyzer()
        result = analyzer.compare("alice-1.jpg", "alice-2.jpg")
        print(result.same_person, result.distance)
    """

    def __init__(self, engine: Engine | None = None, *,
                 settings: AnalyzerSettings | None = None) -> None:
        self.settings = settings or AnalyzerSettings()
        self.engine: Engine = (engine if engine is not None
                               else default_engine(self.settings.population))

    @classmethod
    def for_pack(cls, pack: str, *, settings: AnalyzerSettings | None = None,
                 threads: int | None = None) -> FaceAnalyzer:
        """An analyzer running the model pack ``pack``.

        Raises:
            ModelPackUnknown: no such pack.
            ModelPackMissing: (on first use) the pack is not installed.
        """
        return cls(engine_for_pack(pack, threads=threads), settings=settings)

    @property
    def pack(self) -> ModelPack:
        """The model pack this analyzer's descriptors come from."""
        return self.engine.pack

    @property
    def population(self) -> str:
        """The population this analyzer's threshold is calibrated for."""
        return self.settings.population or DEFAULT_POPULATION

    @property
    def threshold(self) -> float:
        """The decision distance of :meth:`compare`: the settings', else the pack's
        shipped calibration for :attr:`population`, else the pack's LFW-derived default."""
        if self.settings.threshold is not None:
            return self.settings.threshold
        pack = self.pack
        found = shipped_calibration(pack.id, pack.version, self.population)
        return found.threshold if found is not None else pack.default_threshold

    @property
    def threshold_source(self) -> str:
        """Where :attr:`threshold` comes from, in words."""
        if self.settings.threshold is not None:
            return "given"
        pack = self.pack
        found = shipped_calibration(pack.id, pack.version, self.population)
        return found.describe() if found is not None else (
            f"the pack's shipped default: {pack.threshold_source}")

    def load(self, source: ImageSource | Image) -> Image:
        """Decode ``source`` within this analyzer's limits."""
        return load_image(source, limits=self.settings.limits)

    def detect(self, source: ImageSource | Image, *, landmarks68: bool = False,
               options: DetectOptions | None = None) -> list[Face]:
        """Find every face, largest first, with 5-point (and optionally 68-point) landmarks;
        ``options`` instead of the settings' (a camera's frames: without fallbacks)."""
        image = self.load(source)
        faces = self.engine.detect(image, options or self.settings.detect)
        if landmarks68:
            faces = [replace(f, landmarks68=self.engine.landmarks68(image, f)) for f in faces]
        return faces

    def assess(self, source: ImageSource | Image) -> list[QualityReport]:
        """Check the quality of every face; a single ``no_face`` report if none is found."""
        image = self.load(source)
        faces = self.engine.detect(image, self.settings.detect)
        if not faces:
            return [no_face_report()]
        return [self._assess(image, f) for f in faces]

    def assess_single(self, source: ImageSource | Image) -> QualityReport:
        """Check that the image holds exactly one usable face, as enrollment requires."""
        image = self.load(source)
        faces = self.engine.detect(image, self.settings.detect)
        if not faces:
            return no_face_report()
        primary, competing = self._primary(faces)
        if competing > 1:
            return multiple_faces_report(competing)
        return self._assess(image, primary)

    def embed(self, source: ImageSource | Image) -> list[Face]:
        """Every face in the image, largest first, each with its descriptor."""
        image = self.load(source)
        return self.engine.embed(image, self.engine.detect(image, self.settings.detect))

    def embed_faces(self, source: ImageSource | Image, faces: list[Face]) -> list[Face]:
        """``faces`` of the image (found by :meth:`detect`, or moved into a crop of the
        frame they were found in) with their descriptors, in the same order."""
        return self.engine.embed(self.load(source), faces)

    def assess_face(self, source: ImageSource | Image, face: Face) -> QualityReport:
        """The quality report of one face of the image (measured, not enforced)."""
        return self._assess(self.load(source), face)

    def embed_single(self, source: ImageSource | Image) -> Face:
        """The primary face of the image with its descriptor.

        Raises:
            NoFaceFound: no face in the image.
            MultipleFaces: two or more faces of similar size, so which one is
                meant is ambiguous.
        """
        return self.embed_single_assessed(source)[0]

    def embed_single_assessed(self, source: ImageSource | Image) -> tuple[Face, QualityReport]:
        """Like :meth:`embed_single`, with the face's quality report (measured, not
        enforced): a verification probe's measures are read against what its
        calibration measured."""
        image = self.load(source)
        faces = self.engine.detect(image, self.settings.detect)
        if not faces:
            raise NoFaceFound("no face was found in the image")
        primary, competing = self._primary(faces)
        if competing > 1:
            raise MultipleFaces(
                f"{competing} faces of similar size were found; crop the photo to one face",
                details={"faces": competing},
            )
        return self.engine.embed(image, [primary])[0], self._assess(image, primary)

    def describe_primary(self, source: ImageSource | Image) -> Face | None:
        """The primary face with its descriptor, or ``None`` when no face is found.

        For measuring on labelled photos: unlike :meth:`embed_single`, a second
        face of similar size does not refuse the image; the primary one is used.
        """
        image = self.load(source)
        faces = self.engine.detect(image, self.settings.detect)
        if not faces:
            return None
        return self.engine.embed(image, [self._primary(faces)[0]])[0]

    def describe_assessed(self, source: ImageSource | Image) -> tuple[Face, QualityReport] | None:
        """The primary face with its descriptor and its quality report (measured at this
        analyzer's settings, not enforced), or ``None`` when no face is found.

        For measuring on labelled photos, like :meth:`describe_primary`, and for
        reading how a verification probe compares with what a calibration measured.
        """
        image = self.load(source)
        faces = self.engine.detect(image, self.settings.detect)
        if not faces:
            return None
        primary = self._primary(faces)[0]
        report = self._assess(image, primary)
        return self.engine.embed(image, [primary])[0], report

    def compare(self, first: ImageSource | Image, second: ImageSource | Image) -> Comparison:
        """Decide whether the primary faces of two images show the same person."""
        a = self.embed_single(first).descriptor
        b = self.embed_single(second).descriptor
        assert a is not None and b is not None  # embed_single always sets it
        return compare_descriptors(a, b, threshold=self.threshold)

    def _assess(self, image: Image, face: Face) -> QualityReport:
        chip = self.engine.align(image, face)
        return assess_face(face, chip, self.engine.landmarks68(image, face), self.settings.quality)

    def _primary(self, faces: list[Face]) -> tuple[Face, int]:
        """The primary face and how many confident faces compete with it (itself included)."""
        confident = [f for f in faces if is_confident(f, self.settings.quality)]
        primary = confident[0] if confident else faces[0]
        limit = self.settings.crowd_ratio * primary.box.width
        return primary, max(1, sum(1 for f in confident if f.box.width >= limit))
