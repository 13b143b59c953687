"""The fake Bot API server itself: it must reject what Telegram rejects, or the e2e tests
that rely on it ("the server accepted our HTML") would prove nothing."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.fakeapi import FakeBotApi, User
from tests.e2e.telegram_html import HtmlError, parse_html

USER = User(42, "Zed", "zed_user")


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    with FakeBotApi() as fake:
        fake.private_chat(USER)
        yield fake


def call(api: FakeBotApi, method: str, token: str | None = None, **params: Any) -> httpx.Response:
    """Form-encoded, JSON values for non-strings: the way python-telegram-bot sends."""
    form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    url = f"{api.base_url}{token or api.token}/{method}"
    return httpx.post(url, data=form, timeout=10)


@pytest.mark.parametrize(
    "source",
    [
        '<b>bold</b> <i>it</i> <a href="https://x.test/?a=1&amp;b=2">link</a> &lt;&gt;&amp;&quot;',
        '<pre><code class="language-python">x &lt; 1</code></pre>',
        '<span class="tg-spoiler">s</span> <tg-spoiler>t</tg-spoiler> <blockquote>q</blockquote>',
        "emoji 😀 &#128512; &#x1F600;",
    ],
)
def test_html_telegram_accepts(source: str) -> None:
    parse_html(source)


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("<b>unclosed", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'expected "</i>", found "</b>"'),
        ("<script>x</script>", 'Unsupported start tag "script"'),
        ("AT&T", 'Unescaped "&"'),
        ("a > b", 'Unescaped ">"'),
        ("1 < 2", "Unclosed start tag"),
        ('<a href="x">a<a href="y">b</a></a>', "Nested links"),
        ("<a>no href</a>", "Link without href"),
        ('<b class="x">x</b>', 'Unsupported attribute "class"'),
        ("<code><b>x</b></code>", 'Tag "b" inside "code"'),
        ("</b>", 'Unexpected end tag "b"'),
    ],
)
def test_html_telegram_rejects(source: str, fragment: str) -> None:
    with pytest.raises(HtmlError, match=None) as caught:
        parse_html(source)
    assert fragment in str(caught.value)


def test_html_entities_are_in_utf16_units() -> None:
    text, entities = parse_html("😀 <b>a&amp;b</b>")
    assert text == "😀 a&b"
    assert [(e.type, e.offset, e.length) for e in entities] == [("bold", 3, 3)]


def test_send_message_validation(api: FakeBotApi) -> None:
    bad = call(api, "sendMessage", chat_id=USER.id, text="AT&T <b>", parse_mode="HTML")
    assert bad.status_code == 400
    assert bad.json() == {
        "ok": False,
        "error_code": 400,
        "description": 'Bad Request: can\'t parse entities: Unescaped "&" at byte offset 2',
    }
    too_long = call(api, "sendMessage", chat_id=USER.id, text="😀" * 2049)
    assert too_long.json()["description"] == "Bad Request: message is too long"
    # Markup does not count: 4096 visible units inside tags is fine.
    fits = call(
        api, "sendMessage", chat_id=USER.id, text="<b>" + "x" * 4096 + "</b>", parse_mode="HTML"
    )
    assert fits.status_code == 200
    empty = call(api, "sendMessage", chat_id=USER.id, text="<b> </b>", parse_mode="HTML")
    assert empty.json()["description"] == "Bad Request: message text is empty"
    nowhere = call(api, "sendMessage", chat_id=999, text="hi")
    assert nowhere.json()["description"] == "Bad Request: chat not found"
    orphan = call(
        api, "sendMessage", chat_id=USER.id, text="hi", reply_parameters={"message_id": 777}
    )
    assert orphan.json()["description"] == "Bad Request: message to be replied not found"
    fat_button = call(
        api,
        "sendMessage",
        chat_id=USER.id,
        text="hi",
        reply_markup={"inline_keyboard": [[{"text": "x", "callback_data": "d" * 65}]]},
    )
    assert fat_button.json()["description"] == "Bad Request: BUTTON_DATA_INVALID"
    assert call(api, "getMe", token="1:wrong").status_code == 401
    assert call(api, "noSuchMethod").status_code == 404
    assert [m.text for m in api.sent(USER.id)] == ["x" * 4096]


def test_injected_errors_have_telegram_shapes(api: FakeBotApi) -> None:
    api.fail_next("sendMessage", 1, code=429, retry_after=3)
    api.fail_next("sendMessage", 1, code=403)
    limited = call(api, "sendMessage", chat_id=USER.id, text="a")
    assert limited.status_code == 429
    assert limited.json() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }
    blocked = call(api, "sendMessage", chat_id=USER.id, text="a")
    assert blocked.json()["description"] == "Forbidden: bot was blocked by the user"
    assert call(api, "sendMessage", chat_id=USER.id, text="a").json()["ok"] is True


def test_long_polling_waits_and_offsets_confirm(api: FakeBotApi) -> None:
    chat = api.private_chat(USER)
    started = time.monotonic()
    empty = call(api, "getUpdates", timeout=1).json()
    assert empty == {"ok": True, "result": []} and time.monotonic() - started >= 0.9

    # A poll that is waiting returns as soon as an update arrives.
    timer = threading.Timer(0.3, lambda: api.send(chat, USER, "/start hello @NewsTestBot"))
    timer.start()
    started = time.monotonic()
    [update] = call(api, "getUpdates", timeout=5).json()["result"]
    assert time.monotonic() - started < 3
    message = update["message"]
    assert message["entities"] == [
        {"type": "bot_command", "offset": 0, "length": 6},
        {"type": "mention", "offset": 13, "length": 12},
    ]
    # Unconfirmed updates come again; an offset past them confirms them.
    assert call(api, "getUpdates").json()["result"][0]["update_id"] == update["update_id"]
    assert call(api, "getUpdates", offset=update["update_id"] + 1).json()["result"] == []
    assert api.pending_updates() == 0

    # allowed_updates filters (and Telegram drops) other kinds.
    api.edit(chat, USER, message["message_id"], "edited")
    api.send(chat, USER, "new")
    kinds = call(api, "getUpdates", allowed_updates=["message"]).json()["result"]
    assert [list(u)[1] for u in kinds] == ["message"]


def test_second_poller_conflicts(api: FakeBotApi) -> None:
    results: list[httpx.Response] = []
    first = threading.Thread(target=lambda: results.append(call(api, "getUpdates", timeout=3)))
    first.start()
    api.wait_until(lambda: api.waiting_polls() == 1)
    second = call(api, "getUpdates", timeout=0)
    first.join()
    assert second.json()["ok"] is True
    assert results[0].status_code == 409
    assert "terminated by other getUpdates request" in results[0].json()["description"]


def test_callback_queries_are_answered_once(api: FakeBotApi) -> None:
    sent = call(
        api,
        "sendMessage",
        chat_id=USER.id,
        text="pick",
        reply_markup={"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]},
    ).json()["result"]
    query = api.press(USER.id, sent["message_id"], "Go", USER)
    assert call(api, "answerCallbackQuery", callback_query_id=query, text="ok").json()["ok"]
    again = call(api, "answerCallbackQuery", callback_query_id=query)
    assert again.status_code == 400
    assert api.callback_answer(query) == {"text": "ok", "show_alert": False}
    with pytest.raises(AssertionError, match="no button"):
        api.press(USER.id, sent["message_id"], "Stop", USER)


def test_push_message_queues_a_message_with_extra_fields(api: FakeBotApi) -> None:
    chat = api.private_chat(USER)
    origin = {"type": "hidden_user", "sender_user_name": "Someone", "date": 1}
    pushed = api.push_message(chat, USER, "/start", forward_origin=origin)
    [update] = call(api, "getUpdates").json()["result"]
    assert update["message"] == pushed
    assert pushed["forward_origin"] == origin and pushed["from"]["id"] == USER.id
    assert pushed["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]


def test_make_message_stores_without_queuing_and_push_updates_queues_at_once(
    api: FakeBotApi,
) -> None:
    chat = api.private_chat(USER)
    base = api.make_message(chat, USER, "x")
    assert api.pending_updates() == 0
    # stored: the bot may reply to it
    reply = call(api, "sendMessage", chat_id=USER.id, text="hi",
                 reply_parameters={"message_id": base["message_id"]})
    assert reply.json()["result"]["reply_to_message"] == base
    ids = api.push_updates([{"message": {**base, "text": "a"}}, {"edited_message": base}])
    assert ids == [ids[0], ids[0] + 1]
    assert [u["update_id"] for u in call(api, "getUpdates").json()["result"]] == ids
    assert api.push_raw({"message": base}) == ids[1] + 1


def test_clear_failures_drops_the_unused_ones(api: FakeBotApi) -> None:
    api.fail_next("sendMessage", 3, code=500)
    assert call(api, "sendMessage", chat_id=USER.id, text="a").status_code == 500
    api.clear_failures()
    assert call(api, "sendMessage", chat_id=USER.id, text="a").status_code == 200
