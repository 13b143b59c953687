"""Neighbour densities (index.hubness) against a brute-force computation over the stored
vectors, kept current as articles arrive, backfilled for old indexes, and used by search."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from index import Index, hubness
from index.settings import STORY_DAYS, IndexSettings
from tests.conftest import write_article


def stored_lists(index: Index) -> dict[int, np.ndarray]:
    store = index.generation.store
    return store.neighbour_sims(store.chunk_ids().tolist())


def brute_force(index: Index) -> dict[int, np.ndarray]:
    """Each chunk's similarities to every chunk of another story, best first."""
    store = index.generation.store
    ids, vecs = next(store.iter_vectors(store.chunk_ids().tolist()))
    article_of = store.chunk_articles(ids.tolist())
    day = {a: (d.toordinal() if d else None)
           for a, d in store.published_dates(sorted(set(article_of.values()))).items()}
    sims = vecs @ vecs.T
    story = index.settings.same_story_similarity
    out = {}
    for i, chunk in enumerate(ids.tolist()):
        kept = []
        for j, other in enumerate(ids.tolist()):
            a, b = article_of[chunk], article_of[other]
            if a == b:
                continue
            near = day[a] is None or day[b] is None or abs(day[a] - day[b]) <= STORY_DAYS
            if sims[i, j] >= story and near:
                continue
            kept.append(sims[i, j])
        out[chunk] = np.sort(np.array(kept, dtype=np.float32))[::-1][:hubness.STORED]
    return out


def assert_same_lists(got: dict[int, np.ndarray], want: dict[int, np.ndarray]) -> None:
    assert got.keys() == want.keys()
    for chunk in want:
        assert len(got[chunk]) == len(want[chunk]), chunk
        np.testing.assert_allclose(got[chunk], want[chunk], atol=2e-3)  # float16 storage


def test_articles_arriving_one_by_one_keep_every_list_current(index: Index,
                                                              corpus_dir: Path) -> None:
    """Each later article's similarity is merged into the lists of the earlier ones."""
    for path in sorted(corpus_dir.iterdir()):
        index.ingest([str(path)])
    lists = stored_lists(index)
    assert len(lists) == index.stats().chunks
    assert all(len(v) for v in lists.values())
    assert_same_lists(lists, brute_force(index))


def test_retellings_of_one_story_are_not_neighbours(index: Index, tmp_path: Path) -> None:
    body = ("ISLAMABAD - The federal cabinet approved a new tariff on imported steel bars on "
            "Monday, raising the duty to 25 percent to protect local mills.")
    folder = tmp_path / "story"
    write_article(folder, "a.txt", title="Cabinet raises steel duty", date="2017-03-06",
                  source="Wire A", body=body)
    write_article(folder, "b.txt", title="Steel duty raised by cabinet", date="2017-03-07",
                  source="Wire B", body=body.replace("Monday", "Monday evening"))
    write_article(folder, "c.txt", title="Steel duty raised, a month on", date="2017-04-20",
                  source="Wire C", body=body.replace("Monday", "a Monday in March"))
    write_article(folder, "d.txt", title="Cotton crop damaged", date="2017-03-06",
                  source="Wire D", body="HYDERABAD - Floods damaged cotton fields in Sindh.")
    index.ingest([str(folder)])
    store = index.generation.store
    by_title = {a.title: a.rowid for a in store.latest(10)}
    chunk_of = {t: store.chunk_ids_of([a])[a][0] for t, a in by_title.items()}
    vec = {t: np.frombuffer(store.conn.execute("SELECT vector FROM chunks WHERE id = ?",
                                               (c,)).fetchone()[0], np.float16).astype(float)
           for t, c in chunk_of.items()}
    twin = float(vec["Cabinet raises steel duty"] @ vec["Steel duty raised by cabinet"])
    later = float(vec["Cabinet raises steel duty"] @ vec["Steel duty raised, a month on"])
    assert twin >= index.settings.same_story_similarity  # the fixture is what it claims
    assert later >= index.settings.same_story_similarity
    sims = stored_lists(index)[chunk_of["Cabinet raises steel duty"]]
    assert not np.isclose(sims, twin, atol=2e-3).any()  # same story, next day: not counted
    assert np.isclose(sims, later, atol=2e-3).any()  # six weeks later: a recurring topic
    assert_same_lists(stored_lists(index), brute_force(index))


def test_an_article_updated_again_and_again_is_counted_once(index: Index, corpus_dir: Path,
                                                            tmp_path: Path) -> None:
    """Each new version replaces the old one's chunks; the neighbours' lists drop the old
    ids instead of collecting one entry per version."""
    index.ingest([str(corpus_dir)])
    folder = tmp_path / "updates"
    for version in range(4):
        write_article(folder, "rates.txt", title="State Bank keeps policy rate",
                      date="2017-01-28", url="https://news.example/rates", body=(
                          "KARACHI - The State Bank of Pakistan kept its policy rate unchanged "
                          f"at 5.75 percent, update {version}: the governor spoke again."))
        index.ingest([str(folder)])
    store = index.generation.store
    live = set(store.chunk_ids().tolist())
    lists = store.neighbour_lists(sorted(live))
    for chunk, (ids, _) in lists.items():
        assert set(ids.tolist()) <= live, chunk  # no replaced version lingers
        assert len(set(ids.tolist())) == len(ids), chunk  # each neighbour once
    assert_same_lists(stored_lists(index), brute_force(index))


def test_an_index_from_before_densities_is_backfilled_on_open(
        settings: IndexSettings, embedder, corpus_dir: Path) -> None:
    index = Index.open(settings, embedder=embedder)
    index.ingest([str(corpus_dir)])
    before = stored_lists(index)
    index.generation.store.conn.execute("DELETE FROM neighbours")
    index.close()

    reopened = Index.open(settings, embedder=embedder)
    try:
        assert_same_lists(stored_lists(reopened), before)
    finally:
        reopened.close()


def test_a_deleted_article_takes_its_lists_with_it(index: Index, corpus_dir: Path) -> None:
    index.ingest([str(corpus_dir)])
    store = index.generation.store
    victim = store.latest(1)[0].rowid
    chunks = store.chunk_ids_of([victim])[victim]
    with store.lock:
        store.conn.execute("DELETE FROM articles WHERE id = ?", (victim,))
    assert not store.neighbour_sims(chunks)
    assert len(stored_lists(index)) == store.counts()[1]


def test_search_ranks_by_cosine_less_the_penalty_and_keeps_the_raw_cosine(
        settings: IndexSettings, embedder, corpus_dir: Path) -> None:
    question = "What did the State Bank decide about interest rates?"
    asked = dt.date(2017, 3, 5)
    plain = Index.open(settings.model_copy(update={"hub_penalty": 0.0}), embedder=embedder)
    plain.ingest([str(corpus_dir)])
    without = {h.article.rowid: h for h in plain.search(question, k=10, asked_at=asked)}
    plain.close()

    penalized = Index.open(settings.model_copy(update={"hub_penalty": 0.5}), embedder=embedder)
    try:
        hits = penalized.search(question, k=10, asked_at=asked)
        assert {h.article.rowid for h in hits} == set(without)
        gen = penalized.generation
        best = {}
        for h in hits:
            ids, vecs = next(gen.store.iter_vectors(list(h.chunk_ids)))
            qvec = penalized.embedder.encode_query(question)
            best[h.article.rowid] = int(ids[np.argmax(vecs @ qvec)])
        density = hubness.densities(gen, list(best.values()), settings.hub_neighbours)
        for h in hits:
            assert h.dense_score == pytest.approx(without[h.article.rowid].dense_score)
            penalty = 0.5 * density[best[h.article.rowid]]
            assert penalty > 0
            assert h.score == pytest.approx(without[h.article.rowid].score - penalty, abs=2e-3)
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    finally:
        penalized.close()


def test_a_failure_recording_densities_loses_nothing_and_heals_at_open(
        settings: IndexSettings, embedder, corpus_dir: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    def broken(*args, **kwargs) -> None:
        raise OSError("disk full")

    index = Index.open(settings, embedder=embedder)
    with monkeypatch.context() as patch:
        patch.setattr(hubness, "record", broken)
        report = index.ingest([str(corpus_dir)])
    assert report.chunks_embedded == index.stats().chunks > 0
    assert "neighbour densities not recorded" in caplog.text
    assert not stored_lists(index)  # nothing recorded...
    assert index.search("policy rate", k=1)  # ...and the articles are searchable anyway
    index.close()

    reopened = Index.open(settings, embedder=embedder)
    try:
        assert_same_lists(stored_lists(reopened), brute_force(reopened))
    finally:
        reopened.close()


def _story_folder(tmp_path: Path) -> Path:
    """Three retellings of one story (two within STORY_DAYS) and an unrelated article."""
    body = ("ISLAMABAD - The federal cabinet approved a new tariff on imported steel bars on "
            "Monday, raising the duty to 25 percent to protect local mills.")
    folder = tmp_path / "story"
    write_article(folder, "a.txt", title="Cabinet raises steel duty", date="2017-03-06",
                  source="Wire A", body=body)
    write_article(folder, "b.txt", title="Steel duty raised by cabinet", date="2017-03-07",
                  source="Wire B", body=body.replace("Monday", "Monday evening"))
    write_article(folder, "c.txt", title="Steel duty raised, a month on", date="2017-04-20",
                  source="Wire C", body=body.replace("Monday", "a Monday in March"))
    return folder


def _lists_by_text(index: Index) -> dict[str, tuple[list[str], np.ndarray]]:
    """Each chunk's list with chunk ids replaced by chunk texts (ids change in a rebuild)."""
    store = index.generation.store
    ids = store.chunk_ids().tolist()
    text = {c: row.text for c, row in store.chunks(ids).items()}
    assert len(set(text.values())) == len(text)  # texts name chunks uniquely here
    return {text[c]: ([text[int(n)] for n in found], sims)
            for c, (found, sims) in store.neighbour_lists(ids).items()}


def test_a_rebuild_lists_every_chunk_against_the_whole_index(
        index: Index, corpus_dir: Path, tmp_path: Path) -> None:
    """The rebuild writes every chunk first and computes the lists once at the end
    (``hubness.record_all``); they are what a brute-force pass over the stored vectors
    gives, retellings of one story excluded."""
    index.ingest([str(corpus_dir), str(_story_folder(tmp_path))])
    index.rebuild([])
    lists = stored_lists(index)
    assert len(lists) == index.stats().chunks > 0
    assert_same_lists(lists, brute_force(index))


def test_lists_after_a_rebuild_equal_those_of_an_incremental_ingest(
        index: Index, corpus_dir: Path, tmp_path: Path) -> None:
    for path in [*sorted(corpus_dir.iterdir()), *sorted(_story_folder(tmp_path).iterdir())]:
        index.ingest([str(path)])  # one by one: each list merged as articles arrive
    before = _lists_by_text(index)
    index.rebuild([])
    after = _lists_by_text(index)
    assert after.keys() == before.keys()
    for chunk, (found, sims) in before.items():
        assert after[chunk][0] == found, chunk
        np.testing.assert_allclose(after[chunk][1], sims, atol=2e-3)  # float16 storage
