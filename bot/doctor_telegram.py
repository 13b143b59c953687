"""The Telegram half of ``newsbot doctor``: the token, privacy mode, webhook state and the
admins, asked of the Bot API the way the bot itself will (python-telegram-bot's ``Bot``)."""

from __future__ import annotations

import asyncio
import datetime as dt

from telegram import Bot, User, WebhookInfo
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, TelegramError

from bot.app import TOKEN_REJECTED, file_url_for
from bot.doctor_finding import Finding
from bot.settings import Settings

WEBHOOK_PORTS = (443, 80, 88, 8443)  # the ports Telegram delivers webhooks to
PROXY_FIX = (f"make the reverse proxy forward NEWSBOT_WEBHOOK_URL (HTTPS, a valid certificate, "
             f"port {', '.join(map(str, WEBHOOK_PORTS))}) to NEWSBOT_WEBHOOK_LISTEN:"
             "NEWSBOT_WEBHOOK_PORT; docs/deploy.md has an example")


def telegram_findings(settings: Settings) -> list[Finding]:
    """Every Telegram check; a rejected or unreachable token skips the ones that need it."""
    if settings.telegram_token is None:
        return [Finding("token", "fail", "NEWSBOT_TELEGRAM_TOKEN is not set",
                        "create a bot with @BotFather (/newbot) and put its token in .env")]
    return asyncio.run(_ask_telegram(settings))


async def _ask_telegram(settings: Settings) -> list[Finding]:
    assert settings.telegram_token is not None
    bot = Bot(settings.telegram_token.get_secret_value(), base_url=settings.telegram_api_url,
              base_file_url=file_url_for(settings.telegram_api_url))
    try:
        await bot.initialize()  # getMe
    except InvalidToken:  # its message would quote the token
        return [Finding("token", "fail", "Telegram rejected the token (401)", TOKEN_REJECTED)]
    except NetworkError as exc:
        return [Finding("token", "fail", f"cannot reach {settings.telegram_api_url}: {exc}",
                        "check the network, a proxy, or NEWSBOT_TELEGRAM_API_URL")]
    try:
        me = bot.bot  # what initialize's getMe returned
        findings = [Finding("token", "ok", f"accepted: @{me.username} (id {me.id})"),
                    _privacy(me), _webhook(settings, await bot.get_webhook_info())]
        findings += [await _admin(bot, admin_id) for admin_id in settings.admin_ids]
        if not settings.admin_ids:
            findings.append(Finding(
                "admins", "warn", "none: /reindex and /stats are refused to everyone",
                "send /whoami to the bot and put your id in NEWSBOT_ADMIN_IDS"))
        return findings
    except TelegramError as exc:
        return [Finding("telegram", "fail", f"the Bot API answered: {exc}",
                        "try again; if it persists, check NEWSBOT_TELEGRAM_API_URL")]
    finally:
        await bot.shutdown()


def _privacy(me: User) -> Finding:
    if not me.can_read_all_group_messages:
        return Finding("privacy mode", "ok", "on: in groups the bot gets commands, replies to "
                       "it and mentions, which is all it answers")
    return Finding(
        "privacy mode", "warn", "off: the bot receives every group message (it still answers "
        "only /ask, mentions and replies)",
        "@BotFather → /setprivacy → Enable, then remove and re-add the bot to each group")


def _webhook(settings: Settings, info: WebhookInfo) -> Finding:
    pending = f"{info.pending_update_count} updates waiting"
    if not settings.webhook_url:
        if info.url:
            return Finding("updates", "warn", f"long polling, but a webhook is set ({info.url}; "
                           f"{pending})", "`newsbot run` deletes it when it starts polling; if "
                           "another program set it, that program stops receiving updates")
        return Finding("updates", "ok", f"long polling; {pending}")
    if not info.url:
        return Finding("updates", "warn", f"webhook not registered yet ({pending})",
                       "`newsbot run` registers NEWSBOT_WEBHOOK_URL when it starts")
    if info.url != settings.webhook_url:
        return Finding("updates", "fail", f"Telegram posts to {info.url}, not to "
                       f"NEWSBOT_WEBHOOK_URL {settings.webhook_url}",
                       "restart `newsbot run` (it registers its URL); one program per token")
    if info.last_error_message:
        when = _ago(info.last_error_date)
        text = f"{info.url}: last delivery failed {when}: {info.last_error_message}; {pending}"
        if info.pending_update_count:  # updates pile up: deliveries are failing now
            return Finding("updates", "fail", text, PROXY_FIX)
        return Finding("updates", "warn", text + " (none pending: delivery works again)")
    return Finding("updates", "ok", f"webhook {info.url}; {pending}")


async def _admin(bot: Bot, admin_id: int) -> Finding:
    name = f"admin {admin_id}"
    if admin_id <= 0:
        return Finding(name, "fail", "a group or channel id, not a user id",
                       "send /whoami to the bot in a private chat and use 'Your user id'")
    try:
        await bot.get_chat(admin_id)
    except (BadRequest, Forbidden):
        return Finding(name, "warn", "has not started a chat with the bot: no admin command "
                       "menu, no notices about chats that removed the bot",
                       f"open t.me/{bot.username} and press Start")
    return Finding(name, "ok", "a user who has started a chat with the bot")


def _ago(when: dt.datetime | None) -> str:
    if when is None:
        return "at an unknown time"
    minutes = (dt.datetime.now(dt.UTC) - when).total_seconds() / 60
    return f"{minutes:.0f} min ago" if minutes < 120 else f"{minutes / 60:.0f} h ago"
