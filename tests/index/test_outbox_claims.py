"""Outbox claims and leases (``index.alerts.outbox``) on both state backends: senders racing
get disjoint rows, only the claimer settles a row, and the claims of a process killed
mid-send are delivered by another after the lease — once. Real SQLite files, a real
PostgreSQL, real threads and a real child process killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from index.alerts.outbox import NewAlert, Outbox
from index.alerts.state import StateDatabase

ROOT = Path(__file__).resolve().parents[2]


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def _enqueue(db: StateDatabase, count: int) -> None:
    outbox = Outbox(db)
    with db.transaction() as cur:
        for story in range(count):
            outbox.enqueue(cur, NewAlert(-100 - story % 7, story, 1, "oil", f"Headline {story}",
                                         "Quote.", "Wire", None, "2026-12-07", 0.5))


def test_only_the_claimer_settles_and_an_expired_lease_is_claimable_again(
    open_state_db: Callable[[], StateDatabase],
) -> None:
    clock = Clock()
    first_db, second_db = open_state_db(), open_state_db()  # two connections, two senders
    _enqueue(first_db, 3)
    first = Outbox(first_db, clock, lease=60)
    second = Outbox(second_db, clock, lease=60)
    claimed = [a.id for a in first.claim_due()]
    assert len(claimed) == 3
    assert second.claim_due() == []  # held by the first
    second.mark_sent(claimed, message_id=1)  # not the claimer: nothing changes
    second.fail(claimed, "not mine")
    assert first.counts() == {"pending": 3}
    clock.now += 30
    assert first.hold(claimed)  # renewed: 60 s from now
    clock.now += 45
    assert second.claim_due() == []  # 75 s after the claim, but the renewal holds it
    clock.now += 16  # the first sender is silent past its lease: as if it had died
    assert [a.id for a in second.claim_due()] == claimed
    assert not first.hold(claimed)  # it must not send them now
    first.mark_sent(claimed, message_id=2)
    assert first.counts() == {"pending": 3}
    second.mark_sent(claimed, message_id=3)
    assert second.counts() == {"sent": 3}
    assert first_db.query("SELECT DISTINCT message_id FROM outbox") == [(3,)]


def test_senders_claiming_at_once_get_disjoint_rows(
    open_state_db: Callable[[], StateDatabase],
) -> None:
    total = 300
    dbs = [open_state_db() for _ in range(3)]
    _enqueue(dbs[0], total)
    start, first = threading.Barrier(len(dbs)), threading.Barrier(len(dbs))
    got: list[list[int]] = [[] for _ in dbs]
    errors: list[BaseException] = []

    def sender(n: int) -> None:
        try:
            outbox = Outbox(dbs[n])
            start.wait(timeout=60)
            batch = outbox.claim_due(limit=7)
            first.wait(timeout=60)  # all hold a claim at once: the senders overlap for sure
            while batch:
                got[n] += [a.id for a in batch]
                outbox.mark_sent([a.id for a in batch], message_id=n)
                batch = outbox.claim_due(limit=7)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(len(dbs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    claimed = [i for ids in got for i in ids]
    assert len(claimed) == len(set(claimed)) == total  # each row once, none lost
    assert all(got)  # each sender's first claim got rows of its own
    assert dbs[0].query("SELECT count(*) FROM outbox WHERE status = 'sent'") == [(total,)]


# The child: claims every alert with a short lease, reports each one it delivers, and is
# killed between two messages.
CHILD = """
import sys, time
from index.alerts.outbox import Outbox
from index.alerts.state import open_state
from index.settings import IndexSettings

data_dir, url, lease = sys.argv[1], sys.argv[2] or None, float(sys.argv[3])
db = open_state(IndexSettings(_env_file=None, data_dir=data_dir, database_url=url))
outbox = Outbox(db, lease=lease)
claimed = outbox.claim_due()
print("claimed", len(claimed), flush=True)
for alert in claimed[:len(claimed) // 2]:
    assert outbox.hold([alert.id])
    print("delivered", alert.id, flush=True)  # what the chat received
    outbox.mark_sent([alert.id], message_id=alert.id)
print("halfway", flush=True)
time.sleep(600)  # killed here, holding the other half
"""


def test_a_killed_senders_claims_are_delivered_by_another_after_the_lease(
    open_state_db: Callable[[], StateDatabase], tmp_path: Path, request: pytest.FixtureRequest,
) -> None:
    db = open_state_db()
    url = request.getfixturevalue("pg_url") if db.shared else ""
    total, lease = 20, 4.0
    _enqueue(db, total)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path / "state"), url, str(lease)],
        stdout=subprocess.PIPE, text=True, env=env)
    assert child.stdout is not None
    lines = []
    try:
        for line in child.stdout:
            lines.append(line.split())
            if line.startswith("halfway"):
                break
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    assert lines[0] == ["claimed", str(total)]
    delivered = [int(w[1]) for w in lines if w[0] == "delivered"]
    assert len(delivered) == total // 2

    survivor = Outbox(db, lease=lease)
    [[until]] = db.query("SELECT min(claimed_until) FROM outbox WHERE status = 'sending'")
    if time.time() < until:  # the dead process's lease still runs: nobody may take them
        assert survivor.claim_due() == []
    time.sleep(max(0.0, until - time.time()) + 0.2)
    rest = survivor.claim_due()
    delivered += [a.id for a in rest]
    survivor.mark_sent([a.id for a in rest], message_id=0)
    assert len(rest) == total - total // 2
    assert sorted(delivered) == sorted(set(delivered))  # 0 duplicates
    assert len(delivered) == total  # 0 lost
    assert survivor.counts() == {"sent": total}
