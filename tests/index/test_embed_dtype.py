"""The embedding dtype: ``auto`` follows the CPU's native bf16 flags, a forced value is kept,
a bad value is a settings error naming the variable, and a bfloat16 model's vectors are
float32, unit length and close to float32's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.cpufeatures import cpu_flags, cpuinfo
from index.embed import Embedder
from index.embed_dtype import choose_embed_dtype
from index.settings import IndexSettings, SettingsError

SAPPHIRE_RAPIDS = {"sse4_2", "avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile"}
ZEN4 = {"sse4_2", "avx2", "avx512f", "avx512_bf16"}
SKYLAKE = {"sse4_2", "avx2", "avx512f", "avx512bw", "avx512_vnni"}


@pytest.mark.parametrize(("flags", "want", "named"), [
    (SAPPHIRE_RAPIDS, "bfloat16", ("avx512_bf16", "amx_bf16")),
    (ZEN4, "bfloat16", ("avx512_bf16",)),
    ({"amx_bf16"}, "bfloat16", ("amx_bf16",)),
    (SKYLAKE, "float32", ()),
    (set(), "float32", ()),
])
def test_auto_picks_bfloat16_only_with_native_bf16(flags, want, named) -> None:
    choice = choose_embed_dtype("auto", flags)
    assert choice.dtype == want and choice.bf16_flags == named and choice.setting == "auto"


def test_a_forced_value_is_kept_whatever_the_cpu() -> None:
    assert choose_embed_dtype("float32", SAPPHIRE_RAPIDS).dtype == "float32"
    assert choose_embed_dtype("bfloat16", SKYLAKE).dtype == "bfloat16"
    with pytest.raises(ValueError, match="use auto, float32 or bfloat16"):
        choose_embed_dtype("float16", SKYLAKE)  # type: ignore[arg-type]


def test_describe_names_dtype_reason_and_flags() -> None:
    assert choose_embed_dtype("auto", SAPPHIRE_RAPIDS).describe() == (
        "bfloat16 (auto; CPU has avx512_bf16 amx_bf16)")
    assert choose_embed_dtype("auto", SKYLAKE).describe() == (
        "float32 (auto; CPU has no native bfloat16)")
    assert choose_embed_dtype("float32", ZEN4).describe() == (
        "float32 (set by NEWSBOT_EMBED_DTYPE; CPU has avx512_bf16)")


def test_flags_are_read_from_cpuinfo(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: Test CPU\nflags\t\t: fpu avx2 amx_bf16\n\n"
                    "processor\t: 1\nflags\t\t: fpu\n")
    assert cpuinfo(info)["model name"] == "Test CPU"
    assert cpu_flags(info) == {"fpu", "avx2", "amx_bf16"}  # the first processor's
    assert choose_embed_dtype("auto", cpu_flags(info)).dtype == "bfloat16"
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2\n")
    assert choose_embed_dtype("auto", cpu_flags(info)).dtype == "float32"
    assert cpu_flags(tmp_path / "missing") == frozenset()  # not Linux: float32


def test_setting_default_forced_and_bad(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSBOT_EMBED_DTYPE")  # the suite's own choice (conftest)
    # auto: bfloat16 where the CPU has it natively, float32 elsewhere (docs/performance.md)
    assert IndexSettings.load().embed_dtype == "auto"
    monkeypatch.setenv("NEWSBOT_EMBED_DTYPE", "bfloat16")
    assert IndexSettings.load().embed_dtype == "bfloat16"
    monkeypatch.setenv("NEWSBOT_EMBED_DTYPE", "fp16")
    with pytest.raises(SettingsError) as err:
        IndexSettings.load()
    message = str(err.value)
    assert message.startswith("NEWSBOT_EMBED_DTYPE:") and "'fp16'" in message
    assert "'auto'" in message and "'bfloat16'" in message


SENTENCES = [
    "The State Bank of Pakistan kept its policy rate unchanged at 5.75 percent.",
    "Monsoon floods damaged about 90,000 acres of cotton in Sindh.",
    "Mobile broadband subscriptions passed 40 million in January.",
    "Who led the delegation that met the finance minister?",
]


@pytest.fixture(scope="module")
def bf16_embedder() -> Embedder:
    from tests.conftest import TEST_MODEL

    e = Embedder(TEST_MODEL, dtype="bfloat16")
    e.load()
    return e


def test_bfloat16_vectors_are_close_to_float32(bf16_embedder: Embedder, embedder) -> None:
    assert embedder.weights_dtype == "float32"
    assert bf16_embedder.weights_dtype == "bfloat16"  # loaded as bf16, not just labelled
    low, full = bf16_embedder.encode(SENTENCES), embedder.encode(SENTENCES)
    assert low.dtype == np.float32 and low.shape == full.shape
    np.testing.assert_allclose(np.linalg.norm(low, axis=1), 1.0, atol=1e-6)
    cosines = (low * full).sum(axis=1)
    assert cosines.min() > 0.995
    assert not np.array_equal(low, full)  # computed in bfloat16, not float32
    # the ranking of the sentences for a question is kept
    question = bf16_embedder.encode_query("policy rate decision")
    assert np.argmax(low @ question) == np.argmax(full @ embedder.encode_query(
        "policy rate decision")) == 0


def test_bfloat16_query_views_match_batch_encode(bf16_embedder: Embedder) -> None:
    both = bf16_embedder.encode_queries(SENTENCES[:2])
    np.testing.assert_allclose(np.linalg.norm(both, axis=1), 1.0, atol=1e-6)
    # one unpadded forward pass each against a padded batch: bf16 rounding differs a little
    assert ((both * bf16_embedder.encode(SENTENCES[:2])).sum(axis=1) > 0.999).all()


def test_index_open_follows_the_setting(monkeypatch, settings) -> None:
    from index import Index

    for value, want in (("bfloat16", "bfloat16"), ("float32", "float32"),
                        ("auto", choose_embed_dtype("auto").dtype)):
        index = Index.open(settings.model_copy(update={"embed_dtype": value}))
        try:
            assert index.embedder.dtype.dtype == want and not index.embedder.loaded
        finally:
            index.close()


def test_a_bfloat16_index_ingests_and_answers(settings, bf16_embedder, corpus_dir) -> None:
    from index import Index

    index = Index.open(settings, embedder=bf16_embedder)
    try:
        report = index.ingest([str(corpus_dir)])
        assert report.articles_new == 5 and report.failed == 0
        answer = index.answer("What did the State Bank decide about the policy rate?")
        assert answer.found
        assert answer.citations[0].article.title == "State Bank keeps policy rate at 5.75 percent"
        assert index.check() == []
    finally:
        index.close()
