"""The terminal side of newsbot: render an ``Answer`` as text and run the chat loop.

Same answers as Telegram, rendered for a terminal: the best quote in bold when the output
is a TTY, plain otherwise (so pipes and tests see clean text). On a terminal the chat has
readline line editing and a history file.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TextIO

from bot.format import format_date
from index.models import Answer, Citation

BOLD, RESET = "\033[1m", "\033[0m"
HISTORY_NAME = "chat_history"  # in the data directory: questions asked in the terminal
HISTORY_LINES = 1000


def day_text(value: dt.date | None) -> str:
    return format_date(value) if value else "undated"


def citation_line(c: Citation) -> str:
    parts = [c.headline, c.article.source, day_text(c.article.published_date)]
    line = " · ".join(p for p in parts if p)
    if c.also:
        line += " (also: " + ", ".join(a.source for a in c.also) + ")"
    if c.article.url:
        line += f"\n   {c.article.url}"
    return line


def render_answer(answer: Answer, *, color: bool = False) -> str:
    if not answer.found or not answer.citations:
        return "\n".join(answer.notes) or "I found nothing about that in the news I have."
    out = []
    for n, c in enumerate(answer.citations, start=1):
        quotes = []
        for q in c.quotes:
            text = " ".join(q.text.split())
            if q.best and color:
                text = f"{BOLD}{text}{RESET}"
            quotes.append(text)
        out.append(f"{n}. " + " … ".join(quotes))
        out.append(f"   — {citation_line(c)}")
    out.extend(answer.notes)
    return "\n".join(out)


@contextmanager
def line_editing(history: Path | None) -> Iterator[None]:
    """Readline line editing for ``input()``, with the history kept in ``history``
    (read at start, written back at the end). Without the readline module (Windows),
    plain input."""
    try:
        import readline
    except ImportError:
        yield
        return
    readline.set_history_length(HISTORY_LINES)
    if history is not None and history.is_file():
        try:
            readline.read_history_file(history)
        except OSError as exc:  # unreadable: start a fresh one, say so once
            print(f"(chat history {history} not read: {exc.strerror})", file=sys.stderr)
    try:
        yield
    finally:
        if history is not None:
            try:
                readline.write_history_file(history)
            except OSError as exc:
                print(f"(chat history {history} not saved: {exc.strerror})", file=sys.stderr)


def chat_loop(
    ask: Callable[[str], Answer],
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    per_page: int = 3,
    history: Path | None = None,
) -> None:
    """Read questions until EOF, ``quit`` or Ctrl-C; ``more`` shows the next citations.

    On a terminal, questions are read with line editing and a history (``history``, a file
    that outlives the session)."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    interactive = stdin is sys.stdin and stdin.isatty() and stdout is sys.stdout
    with line_editing(history) if interactive else nullcontext():
        _converse(ask, stdin, stdout, per_page, interactive)


def _converse(ask: Callable[[str], Answer], stdin: TextIO, stdout: TextIO, per_page: int,
              interactive: bool) -> None:
    color = stdout.isatty()
    print("Ask a question about the news (\"more\" for more results, \"quit\" to leave).",
          file=stdout)
    last: Answer | None = None
    shown = 0
    while True:
        try:
            line = input("\n> ") + "\n" if interactive else stdin.readline()
        except EOFError:
            print(file=stdout)
            break
        except KeyboardInterrupt:
            break
        if not line:
            break
        question = line.strip()
        if not question:
            continue
        if question.lower() in {"quit", "exit", ":q"}:
            break
        if question.lower() == "more":
            if last is None or shown >= len(last.citations):
                print("No more results.", file=stdout)
                continue
            page = Answer(last.question, last.citations[shown : shown + per_page])
            print(_renumber(render_answer(page, color=color), shown), file=stdout)
            shown += per_page
            continue
        try:
            answer = ask(question)
        except Exception as exc:  # keep the chat alive; say what went wrong in one line
            print(f"Sorry, that failed: {type(exc).__name__}: {str(exc)[:200]}", file=stdout)
            continue
        last, shown = answer, per_page
        page = Answer(answer.question, answer.citations[:per_page], answer.notes, answer.found)
        print(render_answer(page, color=color), file=stdout)
        if len(answer.citations) > per_page:
            print(f"({len(answer.citations) - per_page} more: type \"more\")", file=stdout)
        stdout.flush()


def _renumber(text: str, offset: int) -> str:
    lines = []
    for line in text.splitlines():
        head, dot, rest = line.partition(". ")
        if dot and head.isdigit():
            line = f"{int(head) + offset}. {rest}"
        lines.append(line)
    return "\n".join(lines)
