"""Polling that one unreadable update cannot stall.

python-telegram-bot parses a whole ``getUpdates`` batch at once. When one update in it
cannot be parsed (a field its Bot API version requires is missing, or has the wrong type),
``get_updates`` raises, the offset is never advanced past that update, and the updater
fetches the same batch again and again: every chat waits behind it for good.

``SkippingUpdatesRequest`` is the request object python-telegram-bot uses for
``getUpdates`` only (``ApplicationBuilder.get_updates_request``). It checks each update
of a batch on its own and replaces one that cannot be parsed by its bare ``update_id``,
after logging it: the batch parses, the offset moves on, no handler sees the bad update,
and the others are answered.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from telegram import Update
from telegram.request import HTTPXRequest

logger = logging.getLogger(__name__)


class SkippingUpdatesRequest(HTTPXRequest):
    """``HTTPXRequest`` whose ``getUpdates`` results hold only updates that parse."""

    async def post(self, url: str, *args: Any, **kwargs: Any) -> Any:
        result = await super().post(url, *args, **kwargs)
        if isinstance(result, list) and url.rstrip("/").endswith("/getUpdates"):
            return [readable(raw) for raw in result]
        return result


def readable(raw: Any) -> Any:
    """``raw`` if python-telegram-bot can parse it; otherwise, logged, an update with
    nothing but its id (so polling continues past it)."""
    try:
        Update.de_json(copy.deepcopy(raw), None)
        return raw
    except Exception as exc:  # noqa: BLE001 - any parse failure: skip this one update
        update_id = raw.get("update_id") if isinstance(raw, dict) else None
        kinds = sorted(k for k in raw if k != "update_id") if isinstance(raw, dict) else []
        logger.warning("skipped update %s (%s) that python-telegram-bot cannot read: %s: %s",
                       update_id, ", ".join(kinds) or "empty", type(exc).__name__, exc)
        return {"update_id": update_id} if isinstance(update_id, int) else raw
