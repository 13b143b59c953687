"""``newsbot copy``'s library side: move a whole data set — the index and the alert state —
from one backend to another (a data directory into PostgreSQL, or back), then verify both
sides and compare what they hold.

Safety, in order:
- locks: the data directory's writer lock (exclusive: no bot, ingest or reindex runs on it
  meanwhile, and no bot starts on a half-filled one); on PostgreSQL the rebuild lock (a
  reindex in progress refuses the copy) and the ingest write lock, on each side;
- refusals before anything is written: no index at the source, a source embedded with
  another model than the configured one, a destination whose index holds articles or was
  set up for another model, or whose alert state holds rows (never a merge);
- nothing half-live: the index is written into a new generation of the destination,
  unpublished; the alert state goes in last, and the two go live together — on PostgreSQL
  in one transaction (the generation pointer and every state row commit at once), in a
  data directory by writing ``state.sqlite`` beside it and renaming it in just before
  ``CURRENT`` is pointed at the new generation (a failure in between takes it out again).
  A failure or Ctrl-C anywhere before that removes the new generation.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from index.alerts.state import StateDatabase, open_state
from index.alerts.statecopy import StateRows, in_use, read_state, state_counts, write_state
from index.alerts.statedb import STATE_NAME, StateDB
from index.backends import Backend, Building, backend_for
from index.copy import (
    COPY_PAGE,
    CopyRefused,
    Progress,
    built_as,
    copy_rows,
    counts_of,
    refuse_unless_empty,
    source_list,
)
from index.datalock import DataDirLock
from index.settings import IndexSettings
from index.storage import IndexGeneration

__all__ = ["CopyRefused", "CopyReport", "copy_data"]


@dataclass(frozen=True, slots=True)
class CopyReport:
    """What both sides hold after the copy, and every disagreement (empty: all agree)."""

    source: dict[str, int]
    copy: dict[str, int]
    problems: list[str]
    generation: str  # the copy's live generation
    seconds: float

    @property
    def ok(self) -> bool:
        return not self.problems


def copy_data(source: IndexSettings, dest: IndexSettings, *, model: str,
              progress: Progress | None = None, page: int = COPY_PAGE) -> CopyReport:
    """Copy the index and the alert state of ``source`` into the empty ``dest`` (each a
    data directory, or a database when its ``database_url`` is set); ``model`` is the
    configured embedding model, which the source must have been built with. Raises
    ``CopyRefused`` (nothing written) or the error that stopped it (nothing live)."""
    started = time.monotonic()
    with ExitStack() as stack:
        src, dst = (_locked_backend(stack, side) for side in (source, dest))
        src_gen = src.open_as_built()
        if src_gen is None:
            raise CopyRefused("the source holds no index")
        stack.callback(src_gen.close)
        built_model, dim = built_as(src_gen)
        if built_model != model:
            raise CopyRefused(
                f"the source was embedded with {built_model!r} but NEWSBOT_EMBEDDING_MODEL "
                f"is {model!r}: set it to {built_model!r} for the copy (vectors are copied "
                "as stored, never re-embedded)")
        refuse_unless_empty(dst, built_model, dim)
        src_state = stack.enter_context(closing(open_state(source)))
        with closing(open_state(dest)) as dst_state:
            used = in_use(dst_state)
        if used:
            held = ", ".join(f"{n} {t}" for t, n in used.items())
            raise CopyRefused(f"the destination's alert state is in use ({held}); newsbot "
                              "copy only fills an empty one (it never merges)")
        rows = read_state(src_state)
        with dst.new_generation(dim, built_model) as building:
            copy_rows(src_gen, building, progress=progress, page=page)
            _go_live(dest, building, rows, src_gen.name,
                     source_list(src_gen), progress)
            generation = building.gen.name
            building.gen.close()
        return _verify(src_gen, src_state, dst, dest, generation, time.monotonic() - started)


def _locked_backend(stack: ExitStack, side: IndexSettings) -> Backend:
    """The side's backend, with the locks a copy holds on it for its whole run."""
    if side.database_url is None:
        stack.enter_context(DataDirLock(Path(side.data_dir), "newsbot copy"))
    backend = backend_for(side)
    stack.callback(backend.close)
    if not stack.enter_context(backend.rebuild_lock()):
        raise CopyRefused("a reindex is running on that database; copy when it is done")
    stack.enter_context(backend.write_lock())
    return backend


def _go_live(dest: IndexSettings, building: Building, rows: StateRows, source_gen: str,
             sources_json: str | None, progress: Progress | None) -> None:
    """Write the alert state and publish the new generation, together (module docstring)."""
    total = sum(len(r) for r in rows.tables.values())
    if dest.database_url is not None:
        from index.alerts.pgstate import identities_past_rows, state_cursor

        with building.swapping() as conn:
            cur = state_cursor(conn)
            write_state(cur, rows, source_generation=source_gen, generation=building.gen.name)
            identities_past_rows(cur)
            if progress is not None:
                progress("alert state", total, total)
            building.publish(sources_json)
        return
    data_dir = Path(dest.data_dir)
    with _state_file(data_dir) as staged:
        db = StateDB(staged)
        try:
            with db.transaction() as cur:
                write_state(cur, rows, source_generation=source_gen,
                            generation=building.gen.name)
        finally:
            db.close()
        if progress is not None:
            progress("alert state", total, total)
        live = data_dir / STATE_NAME
        for leftover in ("-wal", "-shm"):  # of the empty state checked above, now closed
            Path(f"{live}{leftover}").unlink(missing_ok=True)
        os.replace(staged, live)  # made durable by publish's fsync of the directory
        try:
            building.publish(sources_json)
        except BaseException:
            live.unlink(missing_ok=True)  # the state it replaced held no rows
            raise


@contextmanager
def _state_file(data_dir: Path) -> Iterator[Path]:
    """A path for the copied ``state.sqlite`` beside the live one; removed if the block
    fails before renaming it in."""
    staged = data_dir / f"{STATE_NAME}.copying"
    staged.unlink(missing_ok=True)
    try:
        yield staged
    finally:
        for path in (staged, Path(f"{staged}-wal"), Path(f"{staged}-shm")):
            path.unlink(missing_ok=True)


def _verify(src_gen: IndexGeneration, src_state: StateDatabase, dst: Backend, dest: IndexSettings,
            generation: str, seconds: float) -> CopyReport:
    """``newsbot check``'s checks on both sides, and every count compared."""
    copy_gen = dst.open_as_built()
    if copy_gen is None:
        return CopyReport({}, {}, ["the copy has no live index"], generation, seconds)
    with closing(open_state(dest)) as dst_state:
        try:
            source = counts_of(src_gen).as_dict() | state_counts(src_state)
            copy = counts_of(copy_gen).as_dict() | state_counts(dst_state)
            problems = ([f"source: {p}" for p in src_gen.check()]
                        + [f"copy: {p}" for p in copy_gen.check()])
            if built_as(copy_gen) != built_as(src_gen):
                problems.append(f"the copy records {built_as(copy_gen)}, the source "
                                f"{built_as(src_gen)}")
        finally:
            copy_gen.close()
    problems += [f"{key}: source {n}, copy {copy.get(key)}" for key, n in source.items()
                 if copy.get(key) != n]
    return CopyReport(source, copy, problems, generation, seconds)
