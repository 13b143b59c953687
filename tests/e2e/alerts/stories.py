"""Article texts for the alert tests: the seed story, the same story retold by a second
outlet, unrelated news, and a burst of distinct oil-market stories."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from tests.e2e.alerts.feed_server import Entry

SAMPLES = Path(__file__).resolve().parents[3] / "index" / "samples"


def _body(name: str) -> str:
    text = (SAMPLES / name).read_text(encoding="utf-8")
    text = re.sub(r"^\s*date \d{4}-\d{2}-\d{2}\s*", "", text)
    lines = text.split("\n")
    while lines and re.match(r"^(title|source|category|url) ", lines[0]):
        lines.pop(0)  # header lines of the sample format
    return "\n".join(lines).strip()


SEED = _body("seed_article.txt")

SEED_RETOLD = """\
ISLAMABAD: A delegation of China's Alibaba Group headed by Max Bittner met Finance \
Minister Ishaq Dar on Friday and showed keen interest in investing in the e-commerce sector \
of Pakistan.

Alibaba is the leading online commerce group of China; its Taobao platform holds over 90 \
percent of the consumer-to-consumer market while Tmall has more than half of \
business-to-consumer transactions, the delegation was told.

Dar said e-commerce in Pakistan was growing fast, doubling every year, and was expected to \
cross $1 billion by 2020. He said the country had the ICT infrastructure needed, with mobile \
broadband reaching nearly 26 million people and 3G and 4G services already launched.

The finance minister recalled the meeting between Prime Minister Nawaz Sharif and Alibaba \
chairman Jack Ma at Davos in January 2017, where Ma spoke of setting up an e-commerce \
platform in Pakistan. He urged the group to invest in the country's digital trade."""

WHEAT = _body("sample_wheat_harvest.txt")
CRICKET = _body("sample_cricket_stadium.txt")

OIL = [
    ("Oil prices rise as OPEC extends output cuts",
     "VIENNA - Oil prices rose on Thursday after OPEC ministers agreed to extend production "
     "cuts of 1.8 million barrels a day for nine more months, Saudi energy minister Khalid "
     "al-Falih said after a meeting in Vienna. Brent crude gained 1.2 percent to $52.40 a "
     "barrel as traders expected the glut to shrink."),
    ("Government cuts petrol price by Rs 5 a litre",
     "ISLAMABAD - The government cut the price of petrol by Rs 5 a litre from July 1 to "
     "pass on lower international oil prices to consumers, the finance ministry said. "
     "High-speed diesel will cost Rs 3.20 less, following a recommendation of OGRA."),
    ("Oil falls below $45 as US crude stockpiles swell",
     "NEW YORK - Oil prices fell below $45 a barrel on Wednesday after the Energy "
     "Information Administration reported that US crude inventories rose by 3.3 million "
     "barrels last week, far more than analysts in a Reuters poll had expected."),
    ("Aramco raises crude prices for Asian buyers",
     "DUBAI - Saudi Aramco raised the official selling price of its Arab Light crude for "
     "customers in Asia by 40 cents a barrel for August, the state oil company said, as "
     "refining margins in Singapore improved and demand from China and India recovered."),
    ("Pakistan's oil import bill rises 22 percent",
     "KARACHI - Pakistan's petroleum import bill rose 22 percent to $9.6 billion in the "
     "first eleven months of the fiscal year as crude oil and furnace oil prices climbed, "
     "data released by the Pakistan Bureau of Statistics on Monday showed."),
]


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def entry(slug: str, title: str, body: str, *, published: dt.datetime | None = None) -> Entry:
    return Entry(title, f"/articles/{slug}", body, published or now_utc())


def seed_entry() -> Entry:
    return entry("nation-alibaba", "Alibaba delegation calls on Ishaq Dar", SEED)


def retold_entry() -> Entry:
    return entry("dailytimes-alibaba", "Alibaba eyes Pakistan's e-commerce market", SEED_RETOLD)


def wheat_entry() -> Entry:
    return entry("wheat", "Punjab expects record wheat harvest after late rains", WHEAT)


def oil_entries() -> list[Entry]:
    return [entry(f"oil-{n}", title, body) for n, (title, body) in enumerate(OIL)]
