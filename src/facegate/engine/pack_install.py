"""Installing model packs: by name, pinned by hash, never implicitly.

``facegate models install faceplugin-arcface-v1`` asks the machine's npm client
for the pack's package at its exact version (``npm pack NAME@VERSION``, which
downloads the registry's tarball and runs nothing from it), checks the
tarball's SHA-256 against the value pinned in :mod:`facegate.engine.packs`,
extracts only the pack's listed files, checks each file's SHA-256 too, and
moves them into the pack folder under the model cache in one rename. An
air-gapped site passes the same tarball with ``--tarball``; the same hashes
are checked. Files the pack does not list (the package also holds age,
gender and expression models, which facegate never extracts, R11) stay in
the tarball.

A deployer's own ArcFace-style ONNX network is added with
:func:`register_custom` as pack ``onnx-custom/NAME``: the file is copied into
the cache with its hash and the declared template in a manifest.

Engines find installed files with :func:`installed_files`, which re-checks
every hash, so a replaced file is refused rather than run.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from ..errors import (
    InvalidArgument,
    ModelInstallFailed,
    ModelIntegrityError,
    ModelPackMissing,
)
from .model_cache import cache_dir, file_sha256
from .packs import PACKS, Distance, ModelPack, PackFile, PackKind, get_pack

__all__ = [
    "CUSTOM_PREFIX",
    "InstalledPack",
    "custom_packs",
    "find_pack",
    "install_pack",
    "installed_files",
    "is_installed",
    "pack_dir",
    "register_custom",
]

#: Pack ids of deployers' own networks start with this.
CUSTOM_PREFIX: Final = "onnx-custom/"
_CUSTOM_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
_MAX_FILE: Final = 256 * 1024 * 1024
_MANIFEST: Final = "pack.json"


@dataclass(frozen=True, slots=True)
class InstalledPack:
    """What an install put where."""

    pack: str
    version: str
    folder: Path
    files: dict[str, str]
    source: str


def packs_root(folder: Path | None = None) -> Path:
    """Where installed packs live: ``<model cache>/packs``."""
    return (folder or cache_dir()) / "packs"


def pack_dir(pack: ModelPack, folder: Path | None = None) -> Path:
    """The folder of one installed pack."""
    return packs_root(folder) / f"{pack.id.replace('/', '--')}-{pack.version}"


def is_installed(pack: ModelPack, folder: Path | None = None) -> bool:
    """Whether every file of ``pack`` is in place (hashes are checked on load)."""
    target = pack_dir(pack, folder)
    return all((target / f.name).is_file() for f in pack.files)


def installed_files(pack: ModelPack, folder: Path | None = None) -> dict[str, Path]:
    """Each role's installed file, after checking its pinned SHA-256.

    Raises:
        ModelPackMissing: the pack is not installed (the message says how to install it).
        ModelIntegrityError: an installed file's content has changed.
    """
    if not pack.installable:
        raise InvalidArgument(f"pack {pack.id} is not installed separately",
                              details={"pack": pack.id})
    target = pack_dir(pack, folder)
    found: dict[str, Path] = {}
    for entry in pack.files:
        path = target / entry.name
        if not path.is_file():
            raise ModelPackMissing(
                f"model pack {pack.id} is not installed; run: {_install_hint(pack)}",
                details={"pack": pack.id, "missing": entry.name, "folder": str(target)})
        digest = file_sha256(path)
        if digest != entry.sha256:
            raise ModelIntegrityError(
                f"{path} does not have the pinned SHA-256; reinstall with: {_install_hint(pack)}",
                details={"pack": pack.id, "file": entry.name, "expected": entry.sha256,
                         "found": digest})
        found[entry.role] = path
    return found


def _install_hint(pack: ModelPack) -> str:
    if pack.id.startswith(CUSTOM_PREFIX):
        return f"facegate models add-custom FILE --name {pack.id[len(CUSTOM_PREFIX):]}"
    return f"facegate models install {pack.id}"


def install_pack(pack_id: str, *, tarball: Path | None = None, folder: Path | None = None,
                 npm: str = "npm", timeout: float = 600.0) -> InstalledPack:
    """Obtain, verify and install the pack ``pack_id``.

    Args:
        pack_id: an installable pack (see :data:`facegate.engine.packs.PACKS`).
        tarball: a local copy of the pack's npm tarball, for sites without a
            registry; without it the npm client obtains the pinned version.
        folder: the model cache; the user cache by default.
        npm: the npm executable.
        timeout: seconds allowed for the npm client.

    Raises:
        ModelPackUnknown: no such pack.
        ModelIntegrityError: the tarball or a file in it is not the pinned one;
            nothing is installed.
        ModelInstallFailed: npm is missing or failed, or the tarball is unreadable.
    """
    pack = get_pack(pack_id)
    if not pack.installable or pack.source is None:
        raise InvalidArgument(f"pack {pack.id} comes with the Python install; nothing to install",
                              details={"pack": pack.id})
    root = packs_root(folder)
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root, prefix=".install-") as work:
        scratch = Path(work)
        source = tarball if tarball is not None else _npm_pack(pack, scratch, npm, timeout)
        if not source.is_file():
            raise ModelInstallFailed(f"{source} is not a file", details={"tarball": str(source)})
        digest = file_sha256(source)
        if digest != pack.source.tarball_sha256:
            raise ModelIntegrityError(
                f"{source.name} is not {pack.source.spec} as pinned: its SHA-256 differs; "
                "nothing was installed",
                details={"pack": pack.id, "expected": pack.source.tarball_sha256,
                         "found": digest})
        staged = scratch / "staged"
        staged.mkdir()
        _extract(source, pack.files, staged)
        _write_manifest(staged, pack, source=f"npm:{pack.source.spec}", digest=digest)
        target = pack_dir(pack, folder)
        _swap_in(staged, target)
    return InstalledPack(pack=pack.id, version=pack.version, folder=target,
                         files={f.role: f.sha256 for f in pack.files},
                         source=f"npm:{pack.source.spec}")


def _npm_pack(pack: ModelPack, scratch: Path, npm: str, timeout: float) -> Path:
    assert pack.source is not None
    executable = shutil.which(npm)
    if executable is None:
        raise ModelInstallFailed(
            f"the npm client ({npm}) is not on PATH; install Node.js and npm, or pass "
            "--tarball with a copy of the package",
            details={"pack": pack.id, "npm": npm})
    try:
        done = subprocess.run(
            [executable, "pack", pack.source.spec, "--pack-destination", str(scratch),
             "--json", "--ignore-scripts"],
            cwd=scratch, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise ModelInstallFailed(f"npm did not finish within {timeout:.0f} s",
                                 details={"pack": pack.id}) from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise ModelInstallFailed(f"npm could not obtain {pack.source.spec}: {last}",
                                 details={"pack": pack.id, "returncode": done.returncode})
    tarballs = sorted(scratch.glob("*.tgz"))
    if len(tarballs) != 1:
        raise ModelInstallFailed("npm did not leave exactly one tarball",
                                 details={"pack": pack.id, "found": [t.name for t in tarballs]})
    return tarballs[0]


def _extract(tarball: Path, files: tuple[PackFile, ...], staged: Path) -> None:
    """Copy exactly the listed files out of the tarball, checking each hash."""
    wanted = {f.source_path: f for f in files}
    seen: set[str] = set()
    try:
        with tarfile.open(tarball, "r:gz") as archive:
            for member in archive:
                entry = wanted.get(member.name)
                if entry is None:
                    continue
                if not member.isfile() or member.size > _MAX_FILE:
                    raise ModelInstallFailed(f"{member.name} in the tarball is not a plain file",
                                             details={"member": member.name})
                handle = archive.extractfile(member)
                assert handle is not None
                digest = hashlib.sha256()
                with handle, (staged / entry.name).open("wb") as out:
                    while block := handle.read(1 << 20):
                        digest.update(block)
                        out.write(block)
                if digest.hexdigest() != entry.sha256:
                    raise ModelIntegrityError(
                        f"{member.name} does not have its pinned SHA-256; nothing was installed",
                        details={"file": entry.name, "expected": entry.sha256,
                                 "found": digest.hexdigest()})
                seen.add(member.name)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ModelInstallFailed(f"the tarball cannot be read: {exc}",
                                 details={"tarball": str(tarball)}) from None
    missing = sorted(set(wanted) - seen)
    if missing:
        raise ModelIntegrityError("the tarball lacks files of the pack; nothing was installed",
                                  details={"missing": missing})


def _write_manifest(staged: Path, pack: ModelPack, *, source: str, digest: str,
                    extra: dict[str, object] | None = None) -> None:
    manifest: dict[str, object] = {
        "pack": pack.id, "version": pack.version, "source": source, "source_sha256": digest,
        "files": {f.name: f.sha256 for f in pack.files},
        "installed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "licence": pack.licence,
    }
    manifest.update(extra or {})
    (staged / _MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n",
                                    encoding="utf-8")


def _swap_in(staged: Path, target: Path) -> None:
    """Replace ``target`` by ``staged`` so a reader sees the old or the new pack, never half."""
    old = target.with_name(target.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        os.replace(target, old)
    os.replace(staged, target)
    if old.exists():
        shutil.rmtree(old)


# -- deployers' own networks ------------------------------------------------------


def register_custom(model: Path, *, name: str, version: str, threshold: float,
                    threshold_source: str, descriptor_size: int = 512,
                    normalisation: tuple[float, float] = (127.5, 128.0),
                    colour_order: str = "rgb", licence: str = "declared by the deployer",
                    provenance: str = "a deployer's own network",
                    folder: Path | None = None) -> ModelPack:
    """Install a deployer's ArcFace-style ONNX network as pack ``onnx-custom/NAME``.

    The network must take ``1x3x112x112`` chips on the ArcFace five-point
    template and return one descriptor. Its threshold must come from the
    deployer's own calibration (``threshold_source`` says which).

    Raises:
        InvalidArgument: a bad name, size, colour order or threshold, or a file
            that is not a loadable ONNX network with that input.
    """
    if not _CUSTOM_NAME.match(name):
        raise InvalidArgument("a custom pack name is lower-case letters, digits, '.', '_', '-'",
                              details={"name": name})
    if colour_order not in ("rgb", "bgr"):
        raise InvalidArgument("colour order must be rgb or bgr",
                              details={"colour_order": colour_order})
    if not 0.0 < threshold < 2.0 or descriptor_size < 16 or normalisation[1] == 0:
        raise InvalidArgument("threshold must lie in (0, 2) and descriptor size be at least 16",
                              details={"threshold": threshold, "descriptor_size": descriptor_size})
    if not model.is_file():
        raise InvalidArgument(f"{model} is not a file", details={"path": str(model)})
    _check_network(model, descriptor_size)
    digest = file_sha256(model)
    pack = ModelPack(
        id=CUSTOM_PREFIX + name, version=version, descriptor_size=descriptor_size,
        distance=Distance.COSINE, chip_size=112, chip_padding=0.0, view_paddings=(),
        alignment="ArcFace five-point template on 112x112 (declared by the deployer)",
        default_threshold=threshold, threshold_source=threshold_source, licence=licence,
        provenance=provenance, kind=PackKind.ARCFACE, normalisation=normalisation,
        colour_order=colour_order,
        files=(PackFile("descriptor", "descriptor.onnx", digest, "descriptor.onnx"),))
    root = packs_root(folder)
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root, prefix=".install-") as work:
        staged = Path(work) / "staged"
        staged.mkdir()
        shutil.copyfile(model, staged / "descriptor.onnx")
        if file_sha256(staged / "descriptor.onnx") != digest:
            raise ModelIntegrityError("the file changed while it was copied",
                                      details={"path": str(model)})
        _write_manifest(staged, pack, source=f"file:{model.name}", digest=digest, extra={
            "custom": {"descriptor_size": descriptor_size, "threshold": threshold,
                       "threshold_source": threshold_source,
                       "normalisation": list(normalisation), "colour_order": colour_order,
                       "licence": licence, "provenance": provenance}})
        _swap_in(staged, pack_dir(pack, folder))
    return pack


def _check_network(model: Path, descriptor_size: int) -> None:
    try:
        import onnx

        graph = onnx.load(str(model)).graph
        dims = [d.dim_value for d in graph.input[0].type.tensor_type.shape.dim]
        out = [d.dim_value for d in graph.output[0].type.tensor_type.shape.dim]
    except Exception as exc:
        raise InvalidArgument(f"{model} is not a readable ONNX network: {exc}",
                              details={"path": str(model)}) from None
    if dims[1:] != [3, 112, 112] or out[-1:] not in ([descriptor_size], [0]):
        raise InvalidArgument(
            "the network must take Nx3x112x112 chips and give descriptors of the declared size",
            details={"input": dims, "output": out, "descriptor_size": descriptor_size})


def custom_packs(folder: Path | None = None) -> dict[str, ModelPack]:
    """Every installed ``onnx-custom/*`` pack, read from its manifest."""
    found: dict[str, ModelPack] = {}
    root = packs_root(folder)
    if not root.is_dir():
        return found
    for manifest_path in sorted(root.glob("onnx-custom--*/" + _MANIFEST)):
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            custom = manifest["custom"]
            (name, digest), = manifest["files"].items()
            pack = ModelPack(
                id=str(manifest["pack"]), version=str(manifest["version"]),
                descriptor_size=int(custom["descriptor_size"]), distance=Distance.COSINE,
                chip_size=112, chip_padding=0.0, view_paddings=(),
                alignment="ArcFace five-point template on 112x112 (declared by the deployer)",
                default_threshold=float(custom["threshold"]),
                threshold_source=str(custom["threshold_source"]),
                licence=str(custom["licence"]), provenance=str(custom["provenance"]),
                kind=PackKind.ARCFACE,
                normalisation=(float(custom["normalisation"][0]),
                               float(custom["normalisation"][1])),
                colour_order=str(custom["colour_order"]),
                files=(PackFile("descriptor", str(name), str(digest), str(name)),))
        except (KeyError, ValueError, TypeError):
            continue
        found[pack.id] = pack
    return found


def find_pack(pack_id: str, folder: Path | None = None) -> ModelPack:
    """A shipped pack or an installed ``onnx-custom/*`` one.

    Raises:
        ModelPackUnknown: neither knows ``pack_id``.
    """
    if pack_id in PACKS or not pack_id.startswith(CUSTOM_PREFIX):
        return get_pack(pack_id)
    custom = custom_packs(folder)
    if pack_id in custom:
        return custom[pack_id]
    return get_pack(pack_id)
