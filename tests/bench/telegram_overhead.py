"""What Telegram adds to a question: ``ask`` alone vs. the same question through the bot.

    .venv/bin/python -m tests.bench.telegram_overhead [--questions N] [--json]

One process holds a small real index (the bundled samples in ``index/samples`` plus a few
fictional articles written below, in a temporary data directory), the fake Bot API server
of the end-to-end tests (``tests/e2e/fakeapi/``, HTTP on 127.0.0.1) and the real bot
(``bot.app.build_application``) long-polling it through python-telegram-bot's own HTTP
stack — no handler is called directly, nothing is mocked.

After a warm-up (model loaded, questions answered both ways), each question is measured
twice, interleaved so machine load hits both alike, the order alternating per question
(the second run of a question finds warm caches, so neither side always gets them):

- ``ask``: wall time of ``Index.answer(question, asked_at=today, limit=10)`` — the call the
  question handler makes — in a worker thread of the same process, as the handler runs it;
- ``telegram``: from the moment the fake server queues the update — while the bot's
  ``getUpdates`` long poll is waiting, so the poll is answered at once and no poll interval
  is counted — until the fake server has received the bot's ``sendMessage`` reply.

The overhead is p50(telegram) − p50(ask); the target is ≤ 30 ms. Neither of the bot's
limits throttles the run: the questions rotate over several users and the per-user limit
is raised above the number of questions (every reply is checked to be an answer with
citations), and questions are at least ``PACE_SECONDS`` apart so python-telegram-bot's
``AIORateLimiter`` (30 requests a second, two per question: "typing…" and the reply) never
makes a request wait.

``index/`` must not import telegram, so this lives with the tests rather than in
``newsbot bench``; ``make bench`` runs both.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "index" / "samples"
TARGET_MS = 30.0
TARGET_NAME = "question through the fake Telegram server adds ≤ 30 ms over ask"
DEFAULT_QUESTIONS = 60
USERS = 6  # questions rotate over this many private chats
PACE_SECONDS = 0.1  # least time between two questions sent to the bot (≤ 20 requests/s)
CITATIONS_PER_ANSWER = 10  # what bot.handlers.questions asks Index.answer for
REPLY_TIMEOUT = 30.0

_FOOTER = re.compile(r"^   — .+ · .+ · \d{1,2} [A-Z][a-z]{2} \d{4}$", re.MULTILINE)

# Fictional articles (like the "Sample:" ones): the outlet does not exist; not news.
GENERATED_ARTICLES: list[dict[str, str]] = [
    {
        "name": "karachi_port_berth.txt",
        "date": "2017-03-06",
        "title": "Karachi port opens deep-water berth for larger container ships",
        "body": (
            "KARACHI - A new deep-water berth at Karachi port opened on Monday, allowing "
            "container ships of up to 14 metres draught to dock, port officials said.\n\n"
            "The berth cost about $180 million and was built in 30 months. Officials said it "
            "would raise the port's annual handling capacity by 1.2 million containers.\n\n"
            "Shipping agents said freight charges could fall because larger vessels would no "
            "longer need to unload at Colombo or Dubai first."
        ),
    },
    {
        "name": "lahore_metro_ridership.txt",
        "date": "2017-02-27",
        "title": "Lahore metro bus carries 200,000 passengers a day",
        "body": (
            "LAHORE - The Lahore metro bus service now carries about 200,000 passengers a day, "
            "the mass transit authority said on Monday, four years after the line opened.\n\n"
            "The authority said the fare would stay at Rs 20 despite higher fuel costs. It "
            "plans to add 30 buses before the summer to cut waiting times at rush hour.\n\n"
            "Commuters complained that escalators at several stations had been out of order "
            "for weeks."
        ),
    },
    {
        "name": "quetta_gas_shortage.txt",
        "date": "2017-01-18",
        "title": "Gas shortage leaves Quetta homes cold as temperatures drop",
        "body": (
            "QUETTA - Households in Quetta went without gas for up to 14 hours a day this week "
            "as temperatures fell to minus 8 degrees Celsius, residents said.\n\n"
            "The gas utility blamed low pressure in the pipeline and illegal compressors. A "
            "spokesman said supply to industry had been cut to give homes priority.\n\n"
            "Shopkeepers said sales of firewood and LPG cylinders had doubled since January."
        ),
    },
    {
        "name": "hunza_tourism.txt",
        "date": "2017-03-08",
        "title": "Hunza hotels report record winter bookings",
        "body": (
            "GILGIT - Hotels in Hunza reported record bookings this winter, with occupancy "
            "above 70 percent in February, the regional tourism department said on "
            "Wednesday.\n\n"
            "Officials credited the repaired Karakoram Highway and new flights to Gilgit. "
            "Visitors came for the frozen Attabad lake and ice hockey matches held on it.\n\n"
            "Hotel owners asked for loans to add rooms before the summer season."
        ),
    },
    {
        "name": "sialkot_footballs.txt",
        "date": "2017-02-21",
        "title": "Sialkot football makers win new European orders",
        "body": (
            "SIALKOT - Football manufacturers in Sialkot have won orders for 3 million balls "
            "from European clubs and retailers, the chamber of commerce said on Tuesday.\n\n"
            "The chamber said machine-stitched balls now made up half of the city's output, "
            "while hand-stitched balls were still preferred for professional matches.\n\n"
            "Exporters said a shortage of skilled stitchers was pushing wages up."
        ),
    },
    {
        "name": "thar_coal_power.txt",
        "date": "2017-03-01",
        "title": "Thar coal power plant reaches 60 percent completion",
        "body": (
            "THARPARKAR - Construction of the 660-megawatt coal power plant in Thar has "
            "reached 60 percent, the project company said on Wednesday, and the first unit is "
            "expected to feed the national grid in 2019.\n\n"
            "Mining of the lignite seam began last year; the company said it had removed 40 "
            "million cubic metres of overburden so far.\n\n"
            "Local residents asked for jobs at the plant and for clean drinking water from "
            "the project's reverse-osmosis units."
        ),
    },
    {
        "name": "multan_mango_exports.txt",
        "date": "2017-02-15",
        "title": "Multan growers aim to double mango exports to China",
        "body": (
            "MULTAN - Mango growers in southern Punjab aim to double exports to China to "
            "20,000 tonnes this season after Chinese inspectors approved two new hot-water "
            "treatment plants, a growers' association said on Wednesday.\n\n"
            "The association said Sindhri and Chaunsa varieties fetched the best prices. "
            "Growers warned that a hot, dry spring could shrink the crop."
        ),
    },
]
GENERATED_SOURCE = "newsbot bench articles (fictional)"

# Varied wording: who/what/how much/when, keyword-style, with and without dates.
QUESTIONS: list[str] = [
    "Who led the Alibaba delegation that met Ishaq Dar?",
    "What did the finance minister say about e-commerce in Pakistan?",
    "How big is Pakistan's e-commerce sector expected to be by 2020?",
    "Alibaba interest in investing in Pakistan",
    "How many people have mobile broadband access in Pakistan?",
    "When will the Gaddafi Stadium reopen?",
    "How many spectators can the renovated Gaddafi Stadium seat?",
    "What did the stadium renovation in Lahore cost?",
    "cricket stadium security gates",
    "How long did the Gaddafi Stadium renovation take?",
    "Which utility is cutting tariffs for rooftop solar?",
    "By how much will the solar tariff be cut in Karachi?",
    "How many homes in Karachi have solar panels?",
    "net metering applications Karachi",
    "What did consumer groups ask the power utility to publish?",
    "How much did textile exports rise in February?",
    "What drove the increase in textile exports?",
    "How large are the pending sales tax refunds for exporters?",
    "textile exporters electricity and gas costs",
    "What were Pakistan's textile exports worth in February 2017?",
    "How big a wheat harvest does Punjab expect?",
    "Why is the wheat crop expected to be a record?",
    "When will the food department start buying wheat?",
    "wheat storage capacity shortage",
    "Did the area under wheat grow this year?",
    "What is the new deep-water berth at Karachi port?",
    "How much did the Karachi port berth cost?",
    "How much will container handling capacity rise at Karachi port?",
    "Will freight charges fall after the new berth opens?",
    "Karachi port larger ships Colombo Dubai",
    "How many passengers does the Lahore metro bus carry?",
    "What is the fare on the Lahore metro bus?",
    "How many new buses will the Lahore metro get?",
    "Lahore metro escalators out of order",
    "Is the metro bus fare going up in Lahore?",
    "Why is there no gas in Quetta?",
    "How cold did it get in Quetta in January?",
    "How many hours a day are Quetta homes without gas?",
    "Quetta firewood and LPG sales",
    "What did the gas utility do about industry supply?",
    "How full were Hunza hotels in February?",
    "Why are more tourists going to Hunza in winter?",
    "ice hockey on Attabad lake",
    "What do Hunza hotel owners want?",
    "Gilgit flights and the Karakoram Highway",
    "How many footballs did Sialkot makers sell to Europe?",
    "Are footballs in Sialkot stitched by hand or by machine?",
    "Why are stitchers' wages rising in Sialkot?",
    "Sialkot chamber of commerce football orders",
    "Which balls are preferred for professional matches?",
    "How far along is the Thar coal power plant?",
    "When will the first Thar coal unit feed the grid?",
    "How much overburden has been removed at the Thar mine?",
    "What do Tharparkar residents want from the coal project?",
    "660 megawatt power plant lignite",
    "How much mango will Multan growers export to China?",
    "Which mango varieties fetch the best prices?",
    "What did Chinese inspectors approve for mango exports?",
    "Could the weather shrink the mango crop?",
    "mango hot-water treatment plants",
]
WARM_UP = ["What is happening with e-commerce in Pakistan?", "Lahore news"]


@dataclass(frozen=True, slots=True)
class Sample:
    """One question, measured both ways."""

    question: str
    user_id: int
    order: str  # "ask first" or "telegram first"
    ask_ms: float
    ask_citations: int
    telegram_ms: float
    delivery_ms: float  # update queued → the fake server answered the waiting getUpdates
    typing_ms: float  # update queued → the fake server received "typing…"
    reply_citations: int
    reply_text: str


def write_articles(folder: Path) -> Path:
    """The generated fictional articles, in the text format with header lines."""
    folder.mkdir(parents=True, exist_ok=True)
    for article in GENERATED_ARTICLES:
        head = [
            f"date {article['date']}",
            f"title {article['title']}",
            f"source {GENERATED_SOURCE}",
            f"url https://news.example.com/{article['name'].removesuffix('.txt')}",
        ]
        (folder / article["name"]).write_text(
            "\n".join(head) + "\n\n" + article["body"] + "\n", encoding="utf-8"
        )
    return folder


def questions_for(count: int) -> list[str]:
    """``count`` questions from the list, cycling (a repeat is marked so it differs)."""
    out = []
    for i in range(count):
        base = QUESTIONS[i % len(QUESTIONS)]
        rounds = i // len(QUESTIONS)
        out.append(base if rounds == 0 else f"{base} ({rounds + 1})")
    return out


def reply_citations(text: str) -> int:
    """Numbered citations in a reply as Telegram shows it (their "— headline · outlet ·
    date" lines); 0 for "nothing found" or any other text."""
    return len(_FOOTER.findall(text))


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def _p(values: list[float], q: float) -> float:
    return round(float(np.percentile(np.asarray(values), q)), 2)


async def measure(
    questions: int = DEFAULT_QUESTIONS,
    *,
    embedder: Any = None,
    work_dir: Path | None = None,
    say: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run the benchmark; returns the report (``render`` turns it into markdown)."""
    from telegram import __version__ as ptb_version

    from bot.app import ALLOWED_UPDATES, build_application
    from bot.settings import Settings
    from index.api import Index
    from index.bench.machine import load_average
    from index.bench.run import model_facts
    from tests.e2e.fakeapi import FakeBotApi, User
    from tests.e2e.lifecycle import halt, launch

    def note(message: str) -> None:
        if say is not None:
            say(message)

    run_started = time.monotonic()
    load_start = load_average()
    asked = questions_for(questions)
    with tempfile.TemporaryDirectory(prefix="newsbot-tg-bench-", dir=work_dir) as tmp:
        root = Path(tmp)
        generated = write_articles(root / "articles")
        api = FakeBotApi().start()
        rate_limit = questions + len(WARM_UP) + 1
        settings = Settings(
            _env_file=None,
            data_dir=root / "data",
            telegram_token=api.token,
            telegram_api_url=api.base_url,
            admin_ids=[],
            feeds=[],
            sources=[],
            webhook_url=None,
            user_rate_limit=rate_limit,
            user_rate_window=30,
        )
        index = Index.open(settings, embedder=embedder)
        application = None
        try:
            ingested = index.ingest([str(SAMPLES), str(generated)])
            if ingested.failed or not ingested.articles_new:
                raise RuntimeError(f"ingest failed: {ingested.problems}")
            note(f"indexed {ingested.articles_new} articles ({ingested.chunks_embedded} chunks)")
            application = build_application(settings, index, sources=[str(SAMPLES)])
            # What Application.run_polling does (its defaults: no poll interval, 10 s long
            # polls), in this event loop. post_init loads the model.
            await launch(application, poll_timeout=10, allowed_updates=ALLOWED_UPDATES)

            users = [User(810_000 + n, f"Bench{n}", f"bench_reader_{n}") for n in range(USERS)]
            chats = {user.id: api.private_chat(user) for user in users}
            last_sent = [0.0]

            async def ask(question: str) -> tuple[float, int]:
                def call() -> tuple[float, int]:
                    today = dt.datetime.now(dt.UTC).date()  # what message.date gives
                    started = time.perf_counter()
                    answer = index.answer(question, asked_at=today, limit=CITATIONS_PER_ANSWER)
                    seconds = time.perf_counter() - started
                    return seconds, len(answer.citations) if answer.found else 0

                return await asyncio.to_thread(call)

            async def through_telegram(question: str, user: Any) -> tuple[float, ...]:
                chat = chats[user.id]
                wait = last_sent[0] + PACE_SECONDS - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                # Only while the bot's long poll waits: then the update is answered at once.
                await asyncio.to_thread(api.wait_until, lambda: api.waiting_polls() > 0)
                before = len(api.sent(chat.id))
                queued = time.monotonic()
                api.send(chat, user, question)
                last_sent[0] = queued
                [reply, *_] = await asyncio.to_thread(
                    api.wait_until, lambda: api.sent(chat.id)[before:], REPLY_TIMEOUT
                )
                polls = [c.at for c in api.calls("getUpdates") if c.at >= queued]
                typing = [
                    c.at
                    for c in api.calls("sendChatAction")
                    if c.at >= queued and str(c.params.get("chat_id")) == str(chat.id)
                ]
                delivered = min(polls) if polls else float("nan")
                typed = min(typing) if typing else float("nan")
                return (
                    reply.sent_at - queued,
                    delivered - queued,
                    typed - queued,
                    reply.text,
                )

            note("warming up")
            for i, question in enumerate(WARM_UP):
                await ask(question)
                await through_telegram(question, users[i % USERS])

            note(f"measuring {questions} questions")
            samples: list[Sample] = []
            for i, question in enumerate(asked):
                user = users[i % USERS]
                ask_first = i % 2 == 0
                if ask_first:
                    ask_s, ask_n = await ask(question)
                tg_s, delivery_s, typing_s, text = await through_telegram(question, user)
                if not ask_first:
                    ask_s, ask_n = await ask(question)
                samples.append(
                    Sample(
                        question=question,
                        user_id=user.id,
                        order="ask first" if ask_first else "telegram first",
                        ask_ms=_ms(ask_s),
                        ask_citations=ask_n,
                        telegram_ms=_ms(tg_s),
                        delivery_ms=_ms(delivery_s),
                        typing_ms=_ms(typing_s),
                        reply_citations=reply_citations(text),
                        reply_text=text,
                    )
                )
            bad_calls = [
                (c.method, c.status)
                for c in api.calls()
                if c.status >= 400 and c.method.lower() != "getupdates"
            ]
        finally:
            if application is not None:
                await halt(application)
            api.stop()
            index.close()

    ask_ms = [s.ask_ms for s in samples]
    tg_ms = [s.telegram_ms for s in samples]
    paired = [s.telegram_ms - s.ask_ms for s in samples]
    throttled = sum("asking faster than I can read" in s.reply_text for s in samples)
    overhead = round(_p(tg_ms, 50) - _p(ask_ms, 50), 2)
    return {
        "command": "python -m tests.bench.telegram_overhead"
        + (f" --questions {questions}" if questions != DEFAULT_QUESTIONS else ""),
        "questions": len(samples),
        "articles": ingested.articles_new,
        "chunks": ingested.chunks_embedded,
        "model": model_facts(settings.embedding_model, index.embedder),
        "machine": {
            "cores": os.cpu_count(),
            "load_average": load_start,
            "load_average_end": load_average(),
            "python_telegram_bot": ptb_version,
        },
        "setup": {
            "users": USERS,
            "user_rate_limit": rate_limit,
            "user_rate_window_s": settings.user_rate_window,
            "pace_s": PACE_SECONDS,
            "long_poll_timeout_s": 10,
            "throttled": throttled,
        },
        "ask_p50_ms": _p(ask_ms, 50),
        "ask_p95_ms": _p(ask_ms, 95),
        "telegram_p50_ms": _p(tg_ms, 50),
        "telegram_p95_ms": _p(tg_ms, 95),
        "delivery_p50_ms": _p([s.delivery_ms for s in samples], 50),
        "delivery_p95_ms": _p([s.delivery_ms for s in samples], 95),
        "typing_p50_ms": _p([s.typing_ms for s in samples], 50),
        "typing_p95_ms": _p([s.typing_ms for s in samples], 95),
        "paired_overhead_p50_ms": _p(paired, 50),
        "paired_overhead_p95_ms": _p(paired, 95),
        "overhead_ms": overhead,
        "target": {"target": TARGET_NAME, "measured_ms": overhead, "met": overhead <= TARGET_MS},
        "answered_with_citations": sum(s.reply_citations > 0 for s in samples),
        "failed_api_calls": bad_calls,
        "seconds": round(time.monotonic() - run_started, 1),
        "samples": [
            {k: v for k, v in asdict(s).items() if k != "reply_text"} for s in samples
        ],
    }


def run(questions: int = DEFAULT_QUESTIONS, **kwargs: Any) -> dict[str, Any]:
    return asyncio.run(measure(questions, **kwargs))


def render(report: dict[str, Any]) -> str:
    machine, setup, target = report["machine"], report["setup"], report["target"]
    load = machine["load_average"] or []
    load_end = machine["load_average_end"] or []
    lines = [
        f"Telegram overhead: {report['questions']} questions, each asked directly and through "
        f"the fake Bot API server (python-telegram-bot {machine['python_telegram_bot']}, "
        "long polling over HTTP on 127.0.0.1); index of "
        f"{report['articles']} articles ({report['chunks']} chunks); model "
        f"{report['model']['name']} ({report['model']['dim']}-d).",
        f"Machine: {machine['cores']} cores; load average "
        f"{'/'.join(f'{x:.1f}' for x in load)} at start, "
        f"{'/'.join(f'{x:.1f}' for x in load_end)} at end; run took {report['seconds']} s.",
        "",
        "| measure | p50 ms | p95 ms |",
        "|---|---:|---:|",
        f"| `ask`: `Index.answer` as the question handler calls it | {report['ask_p50_ms']} | "
        f"{report['ask_p95_ms']} |",
        f"| telegram: update queued → reply `sendMessage` received | "
        f"{report['telegram_p50_ms']} | {report['telegram_p95_ms']} |",
        f"| … of which update queued → waiting `getUpdates` answered | "
        f"{report['delivery_p50_ms']} | {report['delivery_p95_ms']} |",
        f"| … of which update queued → \"typing…\" received | {report['typing_p50_ms']} | "
        f"{report['typing_p95_ms']} |",
        f"| telegram − ask, per question | {report['paired_overhead_p50_ms']} | "
        f"{report['paired_overhead_p95_ms']} |",
        "",
        "| target | measured | met |",
        "|---|---:|:---:|",
        f"| {target['target']} | {target['measured_ms']} ms (p50 telegram − p50 ask) | "
        f"{'yes' if target['met'] else 'no'} |",
        "",
        f"Replies with citations: {report['answered_with_citations']}/{report['questions']}; "
        f"throttled: {setup['throttled']} (questions rotate over {setup['users']} users, "
        f"per-user limit raised to {setup['user_rate_limit']} per {setup['user_rate_window_s']} "
        f"s; questions ≥ {int(setup['pace_s'] * 1000)} ms apart so python-telegram-bot's "
        "AIORateLimiter never waits).",
    ]
    if report["failed_api_calls"]:
        lines.append(f"Failed Bot API calls: {report['failed_api_calls']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench.telegram_overhead",
        description="Measure what answering through Telegram (the fake Bot API server) adds "
        "to Index.answer.",
    )
    parser.add_argument("--questions", type=int, default=DEFAULT_QUESTIONS,
                        help=f"questions measured (default {DEFAULT_QUESTIONS})")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if args.questions < 1:
        parser.error("--questions must be at least 1")
    # The run is self-contained: the operator's NEWSBOT_* settings (feeds, data dir, .env)
    # must not leak into it.
    for key in [k for k in os.environ if k.startswith("NEWSBOT_")]:
        del os.environ[key]
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    def say(message: str) -> None:
        print(f"telegram bench: {message}", file=sys.stderr, flush=True)

    report = run(args.questions, say=say)
    print(json.dumps(report) if args.json else render(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
