"""Messages that are not questions about the news: greetings, thanks, questions to the bot.

They get one line on what the bot does instead of a search (a search would quote whatever
news is closest to "hello"). Only whole messages made of such words count, so "Hi, what did
the central bank decide?" is still a question.
"""

from __future__ import annotations

import re

ABOUT = ("I answer questions about the news I have read, quoting the articles that answer "
         "them. Ask me something like “What did the central bank decide about interest "
         "rates?”")

_PHRASES = (
    # greetings and goodbyes
    r"h(?:i+|e+y+|ello+|ellow|owdy|iya)(?: there| all| everyone| bot)?",
    r"good (?:morning|afternoon|evening|night|day)",
    r"(?:as+)?sala+m(?:u|o)?(?:\s*[-']?\s*(?:o|u)?\s*alaik(?:u|o)m)?", r"salut", r"hola",
    r"yo", r"sup", r"what'?s up", r"greetings", r"bye", r"good ?bye", r"see you", r"cya",
    # thanks and acknowledgements
    r"(?:many )?thanks?(?: you)?(?: (?:so|very) much)?(?: a lot)?", r"thx", r"ty",
    r"cheers", r"ok(?:ay)?", r"k", r"cool", r"great", r"nice", r"got it", r"yes", r"no",
    r"sure", r"lol", r"wow", r"shukriya", r"merci", r"gracias", r"thank u",
    # questions to the bot itself
    r"how are (?:you|u)(?: doing)?(?: today)?", r"who are (?:you|u)", r"what are (?:you|u)",
    r"are (?:you|u) (?:a )?(?:bot|robot|human|real|ai)", r"what can (?:you|u) do",
    r"what do (?:you|u) do", r"help(?: me)?", r"start", r"menu", r"test(?:ing)?",
    r"what(?:'s| is) (?:your name|the time|the date|today'?s date)",
    r"what (?:time|day|date) is it(?: now| today)?", r"what day is today",
    r"what(?:'s| is) the (?:time|date)(?: now| today)?", r"tell me a joke",
    r"are you there", r"anyone there",
)
_SMALL_TALK = re.compile(
    r"^(?:(?:" + "|".join(_PHRASES) + r")[\s,.!?;:]*)+$", re.IGNORECASE)
_DECORATION = re.compile(r"[^\w\s',.!?;:]+", re.UNICODE)  # emoji and symbols


def is_small_talk(message: str) -> bool:
    """True when ``message`` is only greetings, thanks or a question to the bot itself
    (emoji and punctuation aside), or holds no word at all."""
    text = " ".join(_DECORATION.sub(" ", message).split()).strip()
    if not any(ch.isalnum() for ch in text):
        return True
    return bool(_SMALL_TALK.match(text))
