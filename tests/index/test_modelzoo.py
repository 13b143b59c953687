"""Known models: the packaged mpnet is assembled from its parts only when intact, each model
brings its calibrated thresholds, and an index built with another model is re-embedded
when the caller allows it."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from index import modelzoo
from index.modelzoo import ModelNotFound, prepare_mpnet, resolve_model_path, thresholds_for
from index.settings import IndexSettings

FILES = {name: f"content of {name}".encode() for name in modelzoo._MPNET_FILES}


def split_zip(tmp: Path, files: dict[str, bytes], parts: int = 5) -> list[Path]:
    """A zip of ``files`` under one top folder, cut into ``parts`` consecutive pieces."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(f"all-mpnet-base-v2/{name}", data)
    blob = buf.getvalue()
    size = len(blob) // parts + 1
    out = []
    for i in range(parts):
        path = tmp / f"model.zip.{i + 1:03d}"
        path.write_bytes(blob[i * size:(i + 1) * size])
        out.append(path)
    return out


def test_parts_are_joined_checked_and_unpacked(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    weights_sha = hashlib.sha256(FILES["model.safetensors"]).hexdigest()
    monkeypatch.setattr(modelzoo, "MPNET_WEIGHTS_SHA256", weights_sha)
    parts = split_zip(tmp_path, FILES)
    target = tmp_path / "cache" / "all-mpnet-base-v2"
    assert prepare_mpnet(parts, target) == target
    for name, data in FILES.items():
        assert (target / name).read_bytes() == data
    # Idempotent: a second call reuses the folder without reading the parts again.
    for p in parts:
        p.unlink()
    assert prepare_mpnet(parts, target) == target
    assert list(target.parent.iterdir()) == [target]  # no staging folder left behind


def test_damaged_weights_are_refused_and_nothing_is_left(tmp_path: Path) -> None:
    parts = split_zip(tmp_path, FILES)  # the content does not hash to the real weights
    target = tmp_path / "cache" / "all-mpnet-base-v2"
    with pytest.raises(ModelNotFound, match="sha256"):
        prepare_mpnet(parts, target)
    assert not target.exists()
    assert list(target.parent.iterdir()) == []


def test_parts_in_the_wrong_order_or_missing_files_are_refused(tmp_path: Path) -> None:
    parts = split_zip(tmp_path, FILES)
    with pytest.raises(ModelNotFound, match="zip"):
        prepare_mpnet(list(reversed(parts)), tmp_path / "a" / "m")
    partial = {k: v for k, v in FILES.items() if k != "tokenizer.json"}
    with pytest.raises(ModelNotFound, match="tokenizer.json"):
        prepare_mpnet(split_zip(tmp_path, partial), tmp_path / "b" / "m")


def test_unknown_model_names_fail_clearly() -> None:
    with pytest.raises(ModelNotFound, match="'mpnet', 'minilm'|'minilm', 'mpnet'"):
        resolve_model_path("sentence-transformers/all-MiniLM-L6-v2")


def test_each_model_brings_its_thresholds_and_settings_override_them(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSBOT_EMBEDDING_MODEL")
    default = IndexSettings()
    assert default.embedding_model == modelzoo.DEFAULT_MODEL == "mpnet"
    mp, mini = thresholds_for("mpnet"), thresholds_for("minilm")
    assert mp != mini
    assert default.min_relevance == mp.min_relevance
    assert default.citation_floor == mp.citation_floor
    assert default.alert_threshold == mp.alert_threshold
    s = IndexSettings(embedding_model="minilm")
    assert (s.min_relevance, s.same_story_similarity) == (mini.min_relevance,
                                                         mini.same_story_similarity)
    monkeypatch.setenv("NEWSBOT_MIN_RELEVANCE", "0.55")
    assert IndexSettings().min_relevance == 0.55


@pytest.fixture(scope="module")
def mpnet():
    from index.embed import Embedder

    return Embedder("mpnet")


def test_the_default_model_is_installed_and_embeds(mpnet) -> None:
    """The real all-mpnet-base-v2, assembled from the PyPI parts by the Makefile's setup."""
    path = resolve_model_path("mpnet")
    assert (path / "model.safetensors").stat().st_size > 400_000_000
    e = mpnet
    assert e.dim == 768 and e.max_tokens == 384
    v = e.encode(["The central bank raised interest rates to curb inflation.",
                  "Policy rates went up as the bank fought rising prices.",
                  "A recipe for chocolate chip cookies."])
    assert v.shape == (3, 768)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.3


def test_an_index_built_with_another_model_is_reembedded_on_open(
        settings, embedder, mpnet, corpus_dir: Path) -> None:
    """An upgrade that changes the default model must neither refuse to start nor lose
    articles: opening re-embeds everything stored, then the old generation goes."""
    from index import Index, ModelChanged
    from index.lifecycle import current_dir

    built = Index.open(settings, embedder=embedder)  # MiniLM
    built.ingest([str(corpus_dir)])
    before = built.stats().articles
    old_dir = built.generation.dir
    built.close()

    switched = IndexSettings(data_dir=settings.data_dir, embedding_model="mpnet")
    with pytest.raises(ModelChanged):  # only when the caller allows the long re-embed
        Index.open(switched, embedder=mpnet)
    assert current_dir(Path(settings.data_dir)) == old_dir
    idx = Index.open(switched, embedder=mpnet, reembed=True)
    try:
        assert idx.stats().articles == before == 5
        assert idx.generation.store.get_meta("model") == "mpnet"
        assert idx.generation.vectors.dim == 768 and idx.generation.vectors.ntotal > 0
        assert current_dir(Path(settings.data_dir)) == idx.generation.dir != old_dir
        assert not old_dir.exists()
        hits = idx.search("How many containers did the first ship bring to Gwadar?")
        assert hits and hits[0].article.title == "Gwadar port handles first container ship"
    finally:
        idx.close()


def test_a_failed_reembed_keeps_the_old_index_live(
        settings, embedder, mpnet, corpus_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from index import Index
    from index.ingest import Ingestor

    built = Index.open(settings, embedder=embedder)
    built.ingest([str(corpus_dir)])
    old_dir = built.generation.dir
    built.close()

    def crash(self) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(Ingestor, "flush", crash)
    switched = IndexSettings(data_dir=settings.data_dir, embedding_model="mpnet")
    with pytest.raises(OSError, match="disk full"):
        Index.open(switched, embedder=mpnet, reembed=True)
    monkeypatch.undo()
    assert [p for p in Path(settings.data_dir).glob("gen-*")] == [old_dir]
    again = Index.open(settings, embedder=embedder)  # still MiniLM, all five articles
    try:
        assert again.generation.dir == old_dir and again.stats().articles == 5
    finally:
        again.close()


def test_the_model_cache_variable_is_a_known_setting(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_MODEL_CACHE", str(tmp_path / "models"))
    assert modelzoo.mpnet_cache_dir() == tmp_path / "models" / "all-mpnet-base-v2"
    assert IndexSettings.load().embedding_model == "minilm"  # no "unknown setting" error
