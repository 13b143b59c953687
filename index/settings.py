"""Settings for the index library, read from ``NEWSBOT_*`` environment variables and ``.env``.

The bot extends this class with its Telegram fields (``bot.settings.Settings``) so an
operator still has one settings object; the index itself never sees a Telegram field.
Every field is documented in ``config.example.env`` with its default.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from index.embed_dtype import EmbedDtypeSetting
from index.modelzoo import DEFAULT_MODEL, MODEL_CACHE_ENV, thresholds_for

ENV_PREFIX = "NEWSBOT_"
STORY_DAYS = 3  # a retelling of a story appears within this many days of the first telling
DEFAULT_ALERT_LEASE = 300  # seconds an outbox claim lasts (NEWSBOT_ALERT_LEASE)


class SettingsError(ValueError):
    """A setting is unknown or malformed; the message names the environment variable."""


def split_list(value: Any) -> Any:
    """Accept ``a,b`` (and ``a b``) as well as a JSON list for list-valued settings."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            import json

            return json.loads(text)
        return [part for part in text.replace(",", " ").split() if part]
    return value


class IndexSettings(BaseSettings):
    """What the index library needs: where data lives, which model, how to chunk and search."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        # .env may hold other programs' variables: only NEWSBOT_* keys are ours, and
        # ``load_settings`` rejects unknown NEWSBOT_* names itself (with a suggestion).
        extra="ignore",
        validate_default=True,
    )

    data_dir: Path = Field(Path("./data"), description="Where the SQLite and FAISS files live.")
    database_url: SecretStr | None = Field(
        None,
        description="postgresql://… puts the index in this PostgreSQL database (pgvector "
        "and full text; install newsbot[postgres]) instead of SQLite + FAISS in data_dir. "
        "Empty: the embedded default. Secret (it may hold a password): never shown.")
    embedding_model: str = Field(
        DEFAULT_MODEL,
        description="'mpnet' (all-mpnet-base-v2), 'minilm' (all-MiniLM-L6-v2, ~7x faster) "
        "or a local sentence-transformers folder.",
    )
    chunk_words: int = Field(180, ge=20, le=400, description="Most words in one chunk.")
    chunk_overlap_sentences: int = Field(1, ge=0, le=3)
    embed_prefix: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["title"],
        description="Article fields prepended to each chunk before embedding: title,date,source.",
    )
    embed_batch_size: int = Field(32, ge=1, le=1024)
    rebuild_embed_batch_size: int = Field(
        8, ge=1, le=1024,
        description="Chunks per model batch during a rebuild or re-embed: the model's "
        "activations grow with the batch, and a rebuild holds two indexes at once.")
    embed_dtype: EmbedDtypeSetting = Field(
        "auto",
        description="Number format the embedding model computes in: 'float32', 'bfloat16' "
        "or 'auto' (bfloat16 where the CPU has native bf16, avx512_bf16 or amx_bf16, else "
        "float32; docs/performance.md). Stored vectors are the same.",
    )
    fetch_timeout: float = Field(15.0, gt=0, description="Seconds per network fetch.")
    fetch_max_bytes: int = Field(10_000_000, gt=0, description="Largest feed or page fetched.")
    fetch_allow: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Private hosts, IPs or CIDRs feeds and pages may be fetched from "
        "(everything else must be a public internet address).",
    )
    max_file_bytes: int = Field(200_000_000, gt=0, description="Largest local file ingested.")
    sources: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Files, folders or URLs indexed at start (when empty) and on reindex.",
    )
    feeds: Annotated[list[str], NoDecode] = Field(default_factory=list)
    retention_days: int | None = Field(
        None, ge=1,
        description="Keep articles this many days (by publication date); the running bot "
        "deletes older ones daily, as does `newsbot prune`. Empty: keep everything.")
    feed_interval: int = Field(900, ge=30, description="Seconds between feed polls.")
    feed_max_backoff: int = Field(
        21600, ge=30, description="Longest wait, in seconds, before retrying a failing feed.")
    # Alerts (docs/alerts.md: how the thresholds were calibrated).
    alert_threshold: float | None = Field(
        None, ge=-1.0, le=1.0,
        description="Topic-to-chunk cosine an article must reach (empty: the model's).")
    alert_max_age: int = Field(
        172800, ge=60, description="Seconds after publication an article may still alert.")
    alert_story_similarity: float | None = Field(None, ge=0.0, le=1.0)
    alert_story_overlap: float = Field(0.7, ge=0.0, le=1.0)
    alert_lease: int = Field(
        DEFAULT_ALERT_LEASE, ge=10, le=86400,
        description="Seconds an outbox alert stays claimed by the process sending it; a "
        "process that dies holding it leaves it to another after this (PostgreSQL).")
    subscriptions_per_chat: int = Field(10, ge=1, le=100)
    # Retrieval knobs (measured defaults; see docs/quality.md).
    search_candidates: int = Field(50, ge=5, le=1000)
    fusion: str = Field("weighted", pattern=r"^(weighted|rrf)$")
    keyword_weight: float = Field(0.075, ge=0.0, le=5.0)
    rrf_k: int = Field(60, ge=1)
    recency_weight: float = Field(
        0.8, ge=0.0, le=5.0,
        description="Recency prior for questions with a relative time cue (this week, latest).")
    current_news_days: int = Field(
        7, ge=0, le=60,
        description="A story this many days old or newer counts as current news.")
    current_news_margin: float = Field(
        0.2, ge=0.0, le=2.0,
        description="A question with no time cue is read as about current news when a "
        "current story scores within this of the best match.")
    current_news_weight: float = Field(
        0.25, ge=0.0, le=5.0,
        description="Recency prior for such a question (newer wins among near-equals).")
    current_news_decay_days: float = Field(14.0, gt=0.0)
    fresh_story_place: int = Field(
        3, ge=0, le=10,
        description="With a known date and no time cue, the most relevant current story "
        "is shown at least this high when it is relevant on its own (0: off).")
    recency_days: float = Field(60.0, gt=0.0)
    date_range_weight: float = Field(0.05, ge=0.0, le=5.0)
    date_filter_margin: float = Field(0.05, ge=0.0, le=2.0)
    hub_penalty: float = Field(
        0.5, ge=0.0, le=2.0,
        description="λ in cosine − λ·(mean cosine of a passage's k nearest other stories).")
    hub_neighbours: int = Field(10, ge=1, le=20)
    question_view_weight: float = Field(
        0.5, ge=0.0, le=1.0,
        description="Weight of the question's statement view in its embedding (0: off).")
    # Cosine thresholds: empty means the value calibrated for the model (index.modelzoo).
    min_relevance: float | None = Field(None, ge=-1.0, le=1.0)
    citation_floor: float | None = Field(None, ge=-1.0, le=1.0)
    confident_relevance: float = Field(
        0.40, ge=-1.0, le=1.0,
        description="Below this cosine the first story is an uncertain answer, and other "
        "stories above the citation floor are shown as alternatives.")
    newsness_threshold: float = Field(
        0.0, description="Below this newsness score a question reads like general "
        "knowledge or how-to (index.newsness).")
    offnews_min_relevance: float = Field(
        0.50, ge=-1.0, le=1.0,
        description="Cosine a story must reach to answer such a question.")
    offnews_clear_threshold: float = Field(
        -0.10, description="Below this newsness score a question reads clearly like "
        "general knowledge or how-to: a rare word it shares with a story is no evidence.")
    offnews_clear_min_relevance: float = Field(
        0.65, ge=-1.0, le=1.0,
        description="Cosine a story must reach to answer such a question.")
    same_story_similarity: float | None = Field(None, ge=0.0, le=1.0)
    follow_up_max_terms: int = Field(
        3, ge=0, le=20,
        description="A question that refers back (that, they, what about …) with at most "
        "this many content words of its own is read as a follow-up (index.followup).")
    follow_up_similarity: float | None = Field(
        None, ge=-1.0, le=1.0,
        description="So is one whose cosine with the earlier question reaches this "
        "(empty: off, as measured in docs/quality.md).")
    max_citations: int = Field(
        10, ge=1, le=20,
        description="Most citations one answer holds (chats page through them).")

    log_level: str = Field("INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")

    @model_validator(mode="after")
    def _model_thresholds(self) -> IndexSettings:
        """Fill every threshold left empty with the value calibrated for the chosen model."""
        calibrated = thresholds_for(self.embedding_model)
        for name in ("min_relevance", "citation_floor", "alert_threshold",
                     "alert_story_similarity", "same_story_similarity"):
            if getattr(self, name) is None:
                object.__setattr__(self, name, getattr(calibrated, name))
        return self

    @field_validator("feeds", "sources", "fetch_allow", mode="before")
    @classmethod
    def _feeds_list(cls, value: Any) -> Any:
        return split_list(value)

    @field_validator("database_url", mode="before")
    @classmethod
    def _database_url(cls, value: Any) -> Any:
        """Empty means unset; anything else must be a PostgreSQL URL."""
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        text = (value.get_secret_value() if isinstance(value, SecretStr) else str(value)).strip()
        if not text.startswith(("postgresql://", "postgres://")):
            raise ValueError("want a postgresql://user:password@host/database URL")
        return text

    @field_validator("retention_days", "follow_up_similarity", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        """Empty means unset: keep every article; no similarity part in the follow-up rule."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("embed_prefix", mode="before")
    @classmethod
    def _prefix_list(cls, value: Any) -> Any:
        items = split_list(value)
        if isinstance(items, list):
            bad = [i for i in items if i not in ("title", "date", "source")]
            if bad:
                raise ValueError(f"unknown field(s) {bad}; use title, date, source")
        return items

    @field_validator("data_dir", mode="after")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @classmethod
    def load(cls, **overrides: Any) -> IndexSettings:
        """Build settings, turning any problem into one ``SettingsError`` naming the variable."""
        return load_settings(cls, **overrides)


def load_settings(cls: type[BaseSettings], **overrides: Any) -> Any:
    """Instantiate ``cls``; reject unknown ``NEWSBOT_*`` variables (environment or
    ``.env``, in any letter case) with the closest known name, and name bad values."""
    known = {ENV_PREFIX + name.upper() for name in cls.model_fields} | {MODEL_CACHE_ENV}
    problems = [_unknown(k, known, "") for k in sorted(os.environ)
                if _ours(k) and k.upper() not in known]
    env_file = overrides.get("_env_file", cls.model_config.get("env_file"))
    if isinstance(env_file, (str, os.PathLike)) and Path(env_file).is_file():
        problems += [_unknown(k, known, " (in .env)") for k in _dotenv_keys(Path(env_file))
                     if _ours(k) and k.upper() not in known]
    if problems:
        raise SettingsError("; ".join(problems))
    try:
        return cls(**overrides)
    except ValidationError as exc:
        messages = []
        for err in exc.errors():
            loc = err.get("loc") or ("?",)
            name = ENV_PREFIX + str(loc[0]).upper()
            field = cls.model_fields.get(str(loc[0]))
            secret = field is not None and "SecretStr" in str(field.annotation)
            got = "a value not shown" if secret else repr(err.get("input"))
            messages.append(f"{name}: {err.get('msg')} (got {got})")
        raise SettingsError("; ".join(messages)) from None
    except (ValueError, TypeError) as exc:  # e.g. a JSON list that does not parse
        raise SettingsError(f"bad setting: {exc}") from None


def _ours(key: str) -> bool:
    return key.upper().startswith(ENV_PREFIX)


def _dotenv_keys(path: Path) -> list[str]:
    """The variable names a ``.env`` file sets (python-dotenv parses it as
    pydantic-settings does)."""
    from dotenv import dotenv_values

    return [k for k in dotenv_values(path, encoding="utf-8") if k]


def _unknown(key: str, known: set[str], where: str) -> str:
    """"unknown setting NEWSBOT_X (in .env); did you mean NEWSBOT_Y?" — the closest known
    name only, not the whole list."""
    import difflib

    close = difflib.get_close_matches(key.upper(), sorted(known), n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]}?" if close else " (see config.example.env)"
    return f"unknown setting {key}{where}{hint}"
