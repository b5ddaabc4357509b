"""FaceAnalyzer's default pipeline is the one the benchmarks measure: for the dlib pack,
HOG with dlib's CNN detector where HOG finds nothing; and every answer names its pack."""

from __future__ import annotations

from pathlib import Path

from facegate.analysis import AnalyzerSettings, FaceAnalyzer
from facegate.engine.base import DetectOptions, DetectorChoice
from facegate.engine.faces import DetectorKind

#: One of the 29 LFW View 1 images where HOG finds no face and the CNN fallback does
#: (bench/population.py's dlib run: 4,963 by HOG, 29 by the fallback, none missed).
HOG_MISSES = "lfw/Arlen_Specter/Arlen_Specter_0003.jpg"


def test_the_default_dlib_analyzer_falls_back_to_the_cnn_detector(shared: Path) -> None:
    default = FaceAnalyzer.for_pack("dlib-resnet-v1")
    assert default.settings.detect.detector is DetectorChoice.AUTO
    faces = default.detect(shared / HOG_MISSES)
    assert faces and faces[0].detector is DetectorKind.CNN
    hog_only = FaceAnalyzer(default.engine, settings=AnalyzerSettings(
        detect=DetectOptions(detector=DetectorChoice.HOG)))
    assert hog_only.detect(shared / HOG_MISSES) == []
    described = default.describe_primary(shared / HOG_MISSES)
    assert described is not None and described.descriptor is not None
    assert described.descriptor.pack == "dlib-resnet-v1"


def test_a_comparison_names_the_pack_and_the_population_threshold(
        faces: dict[str, Path]) -> None:
    analyzer = FaceAnalyzer()
    result = analyzer.compare(faces["obama"], faces["obama2"])
    assert result.pack == analyzer.pack.id
    assert result.threshold == analyzer.threshold
    assert result.same_person
