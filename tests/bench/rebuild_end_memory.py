"""Resident memory of the end of a rebuild, by parts: the live generation open (as it
serves questions throughout), a new generation whose rows are all written to SQLite (the
state the copy ends in), then the product's ``Generation.index_written`` on it: FAISS
built once and every neighbour list (stopped after ``--blocks`` blocks of queries).

The copy itself is skipped: WORK/new must hold a copy of the live generation's SQLite
file (its rows are what a rebuild's copy writes; FAISS and the neighbour lists are made
again here). Run as ``python -m tests.bench.rebuild_end_memory LIVE_DIR WORK [--blocks 3]``
where LIVE_DIR is a generation directory (``newsbot.sqlite`` and ``vectors.faiss``), e.g.
a copy of ``newsbot bench --keep``'s 1M index. Prints one JSON object (MB).
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from pathlib import Path

from index.bench.rebuild import MB, resident_bytes
from index.generation import SQLITE_NAME, Generation, built_with
from index.settings import IndexSettings
from index.store import Store
from index.vectors import VectorIndex


class _Stages:
    """The highest resident size per stage, sampled every 0.2 s on a thread."""

    def __init__(self) -> None:
        self.stage = "open"
        self.peaks: dict[str, int] = {}
        self.at: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def enter(self, stage: str) -> None:
        self._sample()
        self.at[self.stage + " (end)"] = resident_bytes()
        self.stage = stage

    def _sample(self) -> None:
        self.peaks[self.stage] = max(self.peaks.get(self.stage, 0), resident_bytes())

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self._sample()

    def stop(self) -> dict[str, dict[str, float]]:
        self._stop.set()
        self._thread.join()
        self._sample()
        return {"peak": {k: round(v / MB) for k, v in self.peaks.items()},
                "rss": {k: round(v / MB) for k, v in self.at.items()}}


class _Stop(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("live", type=Path)
    parser.add_argument("work", type=Path)
    parser.add_argument("--blocks", type=int, default=3)
    args = parser.parse_args()
    built = built_with(args.live)
    if built is None:
        raise SystemExit(f"{args.live} holds no index")
    model, dim = built
    stages = _Stages()
    live = Generation.open(args.live, dim, model)
    while not live.days.ready:  # its day index loads on a thread, as when serving
        time.sleep(0.5)
    stages.enter("new generation's rows written")
    new = Generation(args.work / "new", Store(args.work / "new" / SQLITE_NAME), VectorIndex(dim))
    new.vectors_deferred = True  # as ``defer_vectors`` leaves it once the copy is done
    relayout = new.relayout
    started = time.perf_counter()
    seconds: dict[str, float] = {}

    def build_then_mark(ids=None) -> None:  # type: ignore[no-untyped-def]
        stages.enter("FAISS build")
        relayout(ids)
        seconds["build"] = round(time.perf_counter() - started, 1)
        stages.enter("neighbour lists")

    new.relayout = build_then_mark  # type: ignore[method-assign]
    blocks = 0

    def on_block(done: int, total: int) -> None:
        nonlocal blocks
        blocks += 1
        print(f"neighbour lists of {done:,} of {total:,} chunks after "
              f"{time.perf_counter() - started:,.0f} s", flush=True)
        if blocks >= args.blocks:
            raise _Stop

    settings = IndexSettings()
    try:
        new.index_written(story_similarity=float(settings.same_story_similarity or 1.0),
                          on_block=on_block)
    except _Stop:
        pass
    seconds["total"] = round(time.perf_counter() - started, 1)
    out = {"layout": new.vectors.describe(), "live": live.vectors.describe(),
           "blocks": blocks, "seconds": seconds, **stages.stop()}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
