"""The Telegram-overhead benchmark end to end with 3 questions: every question is answered
through the fake Bot API server with citations, and the report has every figure, each of a
sane kind. No timing thresholds here — timings belong to the benchmark itself."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from tests.bench.telegram_overhead import (
    DEFAULT_QUESTIONS,
    QUESTIONS,
    TARGET_NAME,
    main,
    measure,
    questions_for,
    render,
)


async def test_three_questions_measured_both_ways(embedder: Any, tmp_path: Path) -> None:
    report = await measure(3, embedder=embedder, work_dir=tmp_path)

    assert report["questions"] == 3 and len(report["samples"]) == 3
    assert report["articles"] >= 5 and report["chunks"] >= report["articles"]
    assert report["model"]["name"] == "all-MiniLM-L6-v2"  # the suite's model (conftest)
    for sample in report["samples"]:
        assert sample["reply_citations"] >= 1, sample  # a cited answer, not "nothing found"
        assert sample["ask_citations"] >= 1, sample
        for key in ("ask_ms", "telegram_ms", "delivery_ms", "typing_ms"):
            assert math.isfinite(sample[key]) and sample[key] >= 0, (key, sample)
    assert {s["order"] for s in report["samples"]} == {"ask first", "telegram first"}
    assert len({s["user_id"] for s in report["samples"]}) == 3  # users rotate
    assert report["answered_with_citations"] == 3
    assert report["setup"]["throttled"] == 0
    assert report["setup"]["user_rate_limit"] > 3
    assert report["failed_api_calls"] == []

    for name in ("ask", "telegram", "delivery", "typing"):
        assert 0 <= report[f"{name}_p50_ms"] <= report[f"{name}_p95_ms"], name
    assert report["paired_overhead_p50_ms"] <= report["paired_overhead_p95_ms"]
    assert report["overhead_ms"] == round(report["telegram_p50_ms"] - report["ask_p50_ms"], 2)
    target = report["target"]
    assert target["target"] == TARGET_NAME and isinstance(target["met"], bool)
    assert target["measured_ms"] == report["overhead_ms"]

    table = render(report)
    assert f"| {TARGET_NAME} |" in table and "| `ask`:" in table and "throttled: 0" in table
    assert "model all-MiniLM-L6-v2 (384-d)" in table
    json.dumps(report)  # --json prints it as one object


def test_question_list_is_varied() -> None:
    assert len(set(QUESTIONS)) >= DEFAULT_QUESTIONS
    repeated = questions_for(len(QUESTIONS) + 2)
    assert len(set(repeated)) == len(repeated)  # a second round is marked, not repeated


def test_cli_rejects_no_questions(capsys: Any) -> None:
    try:
        main(["--questions", "0"])
    except SystemExit as exc:
        assert exc.code == 2
    else:
        raise AssertionError("--questions 0 was accepted")
    assert "--questions must be at least 1" in capsys.readouterr().err
