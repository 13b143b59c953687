"""newsbot's index library: ingest news articles, search them, and compose cited answers.

It knows nothing of Telegram. The public API is this module's names; everything else is
an implementation detail that may change.
"""

from index.api import Index, RebuildCancelled, RebuildFailed, RebuildRunning
from index.generation import ModelChanged
from index.models import (
    Answer,
    Article,
    Citation,
    Hit,
    IndexStats,
    IngestReport,
    LoadProblem,
    Quote,
    RebuildProgress,
    SourceStats,
    StoredArticle,
)
from index.retention import Removed, retention_cutoff
from index.settings import IndexSettings, SettingsError

__all__ = [
    "Answer",
    "Article",
    "Citation",
    "Hit",
    "Index",
    "IndexSettings",
    "IndexStats",
    "IngestReport",
    "LoadProblem",
    "ModelChanged",
    "Quote",
    "RebuildCancelled",
    "RebuildFailed",
    "RebuildProgress",
    "RebuildRunning",
    "Removed",
    "SettingsError",
    "SourceStats",
    "StoredArticle",
    "retention_cutoff",
]
