"""Private chats: any text is a question; answers are cited, paged and escaped."""

from __future__ import annotations

import re
from functools import partial

from bot.app import ADMIN_COMMANDS, PUBLIC_COMMANDS
from bot.handlers.callbacks import EXPIRED
from bot.handlers.questions import USAGE
from tests.e2e.conftest import ADMIN, ALICE, ARTICLES, BOB, BotStarter, RunningBot
from tests.e2e.fakeapi import SentMessage
from tests.e2e.telegram_html import utf16_len

WATER = "How bad is the Karachi water shortage and what do tankers cost?"


def _entities(message: SentMessage, kind: str) -> list[str]:
    """The text covered by each entity of ``kind`` (offsets are UTF-16 units)."""
    encoded = message.text.encode("utf-16-le")
    return [
        encoded[2 * e["offset"] : 2 * (e["offset"] + e["length"])].decode("utf-16-le")
        for e in message.entities
        if e["type"] == kind
    ]


async def test_question_gets_cited_answer_with_buttons(bot: RunningBot) -> None:
    api = bot.api
    chat = bot.chat_with(ALICE)
    question = api.send(chat, ALICE, WATER)
    [reply] = await api.wait_for_sent(chat.id)

    assert reply.parse_mode == "HTML"
    assert reply.reply_to == question["message_id"]
    assert reply.text.startswith(WATER)
    # Three numbered citations, each with a bold best sentence and a linked headline.
    for number in (1, 2, 3):
        assert f"\n{number}. " in reply.text
    assert "\n4. " not in reply.text
    bold = _entities(reply, "bold")
    assert len(bold) == 3 and all(part and part in reply.text for part in bold)
    assert any("water" in part.lower() for part in bold)
    links = [e["url"] for e in reply.entities if e["type"] == "text_link"]
    assert len(links) == 3 and all(url.startswith("https://news.example.com/") for url in links)
    footers = [line for line in reply.text.split("\n") if line.startswith("   — ")]
    assert len(footers) == 3
    assert all(re.fullmatch(r"   — .+ · .+ · \d{1,2} Mar 2017", line) for line in footers)
    assert reply.button_texts() == [
        "More results",
        "Full article 1",
        "Full article 2",
        "Full article 3",
    ]
    # "typing…" was shown before the answer, and link previews were turned off.
    actions = api.calls("sendChatAction")
    assert actions and actions[0].params["action"] == "typing"
    assert actions[0].at <= reply.sent_at
    [send] = [c for c in api.calls("sendMessage") if c.params["chat_id"] == chat.id]
    assert send.params["link_preview_options"] == {"is_disabled": True}


async def test_more_results_sends_next_citations(bot: RunningBot) -> None:
    api = bot.api
    chat = bot.chat_with(BOB)
    [first] = await bot.ask(chat, BOB, WATER)
    first_headlines = set(_entities(first, "text_link"))

    query = api.press(chat.id, first.message_id, "More results", BOB)
    [more] = await api.wait_for_sent(chat.id, after=1)
    await api.wait_for(lambda: api.callback_answer(query), what="the callback answer")

    assert more.text.startswith("Results 4–6 of ")
    assert "\n4. " in more.text and "\n6. " in more.text and "\n1. " not in more.text
    more_headlines = set(_entities(more, "text_link"))
    assert more_headlines and not more_headlines & first_headlines  # new stories only
    assert "Full article 4" in more.button_texts()
    assert "Full article 1" not in more.button_texts()


async def test_full_article_is_sent_in_parts(bot: RunningBot) -> None:
    api = bot.api
    chat = bot.chat_with(ALICE)
    [reply] = await bot.ask(chat, ALICE, "What will the Gwadar port expansion add?")
    assert "Gwadar port expansion" in _entities(reply, "text_link")[0]

    query = api.press(chat.id, reply.message_id, "Full article 1", ALICE)
    parts = await api.wait_for_sent(chat.id, count=2, after=1)
    await api.wait_for(lambda: api.callback_answer(query) is not None, what="callback answer")

    assert all(part.parse_mode is None for part in parts)  # plain text: nothing to escape
    assert all(utf16_len(part.text) <= 4096 for part in parts)
    assert parts[0].text.startswith("Gwadar port expansion: a long report")
    joined = "\n\n".join(part.text for part in parts)
    article = (ARTICLES / "gwadar_port.txt").read_text()
    last_paragraph = article.strip().split("\n\n")[-1]
    assert last_paragraph in joined  # nothing lost at the split
    assert not parts[1].text.startswith(" ")


async def test_html_in_articles_and_questions_is_escaped(bot: RunningBot) -> None:
    chat = bot.chat_with(ALICE)
    question = 'What did AT&T say about its <b>bid</b> for Karachi Telecom & "Cable"?'
    [reply] = await bot.ask(chat, ALICE, question)

    # The fake server accepted the HTML (it rejects unescaped text) and shows the literal
    # characters from the question, the headline, the outlet and the quotes.
    assert reply.text.startswith(question)
    assert "AT&T <b>bids</b> for Karachi Telecom & Cable </a> stake" in reply.text
    assert "Wire & <Cable> Weekly" in reply.text
    assert "AT&amp;T" in reply.source and "&lt;b&gt;bids&lt;/b&gt;" in reply.source
    link = next(e for e in reply.entities if e["type"] == "text_link")  # the first citation
    assert link["url"] == "https://news.example.com/telecom?id=42&lang=en"
    assert 'href="https://news.example.com/telecom?id=42&amp;lang=en"' in reply.source


async def test_nothing_found_is_said_plainly(bot: RunningBot) -> None:
    chat = bot.chat_with(ALICE)
    [reply] = await bot.ask(chat, ALICE, "Which chess opening did Magnus Carlsen play in Oslo?")
    assert reply.text.startswith("I found nothing about")
    assert not reply.buttons()
    assert not [e for e in reply.entities if e["type"] == "bold"]


async def test_long_answer_is_split_between_citations(start_bot: BotStarter) -> None:
    bot = await start_bot(citations_per_message=10)
    api = bot.api
    chat = bot.chat_with(ALICE)
    api.send(chat, ALICE, "Karachi water shortage tankers hydrants")
    messages = await api.wait_for_sent(chat.id, count=2)
    await api.wait_for(
        lambda: any(m.buttons() for m in api.sent(chat.id)), what="the keyboard on the last part"
    )
    messages = api.sent(chat.id)

    assert len(messages) >= 2
    assert all(utf16_len(m.text) <= 4096 and utf16_len(m.source) <= 4096 for m in messages)
    # Parts break between citations: each part after the first starts with a number,
    # and the numbering runs on without gaps.
    numbers = []
    for message in messages:
        for line in message.text.split("\n"):
            head = line.split(". ", 1)[0]
            if head.isdigit():
                numbers.append(int(head))
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 6
    assert all(m.text.split(". ", 1)[0].isdigit() for m in messages[1:])
    assert [bool(m.buttons()) for m in messages] == [False] * (len(messages) - 1) + [True]
    assert messages[0].reply_to is not None and all(m.reply_to is None for m in messages[1:])


async def test_very_long_question_is_fine(bot: RunningBot) -> None:
    chat = bot.chat_with(BOB)
    question = ("Karachi water shortage & <tankers> " * 200)[:4096]
    [reply] = await bot.ask(chat, BOB, question)
    assert reply.parse_mode == "HTML"
    assert utf16_len(reply.source) <= 4096
    assert "Karachi water shortage & <tankers>" in reply.text.split("\n")[0]
    assert "\n1. " in reply.text


async def test_expired_or_tampered_buttons_are_answered(bot: RunningBot) -> None:
    api = bot.api
    chat = bot.chat_with(ALICE)
    [reply] = await bot.ask(chat, ALICE, WATER)
    stale = api.press_data(chat.id, reply.message_id, "more:AAAAAAAA:3", ALICE)
    garbage = api.press_data(chat.id, reply.message_id, "<script>&", ALICE)
    [button] = [b for b in reply.buttons() if b["text"] == "Full article 1"]
    token = button["callback_data"].split(":")[1]
    out_of_range = api.press_data(chat.id, reply.message_id, f"art:{token}:99", ALICE)
    for query in (stale, garbage, out_of_range):
        answered = await api.wait_for(partial(api.callback_answer, query), what="an answer")
        assert answered is not None and answered["text"] == EXPIRED
    assert len(api.sent(chat.id)) == 1  # nothing else was sent


async def test_edits_media_and_unknown_commands(bot: RunningBot) -> None:
    api = bot.api
    chat = bot.chat_with(BOB)
    question = api.send(chat, BOB, WATER)
    await api.wait_for_sent(chat.id)
    api.edit(chat, BOB, question["message_id"], "And what about Gwadar?")
    api.send_media(chat, BOB, caption="Is this photo about the water shortage?")
    # A later message that does get a reply proves the two before it were processed.
    [hint] = await bot.ask(chat, BOB, "/frobnicate")
    assert "/help" in hint.text
    assert len(api.sent(chat.id)) == 2
    await api.wait_for(lambda: api.pending_updates() == 0, what="all updates confirmed")


async def test_start_help_latest_sources(bot: RunningBot) -> None:
    chat = bot.chat_with(ALICE)
    [start] = await bot.ask(chat, ALICE, "/start")
    assert "/latest" in start.text and "/reindex" not in start.text
    [latest] = await bot.ask(chat, ALICE, "/latest")
    assert latest.text.splitlines()[1].startswith("1. Gwadar port expansion")  # newest first
    [topic] = await bot.ask(chat, ALICE, "/latest <b>telecom</b> & cable")
    assert "“<b>telecom</b> & cable”" in topic.text
    assert "AT&T <b>bids</b>" in topic.text
    [sources] = await bot.ask(chat, ALICE, "/sources")
    assert re.match(r"\d+ articles from \d+ sources\n", sources.text)
    assert "• Wire & <Cable> Weekly — 1 article, 6 Mar 2017" in sources.text
    assert "• Dawn — 1 article, 1 Mar 2017" in sources.text
    [usage] = await bot.ask(chat, ALICE, "/ask")
    assert usage.text == USAGE

    admin_chat = bot.chat_with(ADMIN)
    [admin_help] = await bot.ask(admin_chat, ADMIN, "/help")
    assert "/reindex" in admin_help.text


async def test_command_menus_are_registered(bot: RunningBot) -> None:
    public = bot.api.commands()
    admin = bot.api.commands({"type": "chat", "chat_id": ADMIN.id})
    assert public is not None and admin is not None
    assert [c["command"] for c in public] == [c.command for c in PUBLIC_COMMANDS]
    assert [c["command"] for c in admin] == [c.command for c in PUBLIC_COMMANDS + ADMIN_COMMANDS]
    assert "reindex" not in {c["command"] for c in public}
