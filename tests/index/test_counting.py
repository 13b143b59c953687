"""Counting records before an ingest, for the progress bar's total."""

from __future__ import annotations

from pathlib import Path

from index.loaders.counting import count_records
from tests.conftest import write_article


def test_files_and_folders_are_counted_as_the_loaders_read_them(tmp_path: Path) -> None:
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text('{"id": 1}\n\n{"id": 2}\n   \n{"id": 3}')  # blank lines; no final \n
    csv = tmp_path / "b.csv"
    csv.write_text("id,title,body\n1,a,x\n2,b,y\n")
    feed = tmp_path / "c.rss"
    feed.write_text("<rss><channel><item><title>a</title></item><item>b</item></channel></rss>")
    folder = tmp_path / "folder"
    write_article(folder, "one.txt", body="One.")
    write_article(folder / "sub", "two.md", body="Two.")
    write_article(folder / ".hidden", "three.txt", body="Hidden folders are not read.")
    (folder / "notes.pdf").write_bytes(b"%PDF")  # unsupported: not loaded, not counted
    assert count_records([str(jsonl)]) == 3
    assert count_records([str(csv)]) == 2
    assert count_records([str(feed)]) == 2
    assert count_records([str(folder)]) == 2
    assert count_records([str(jsonl), str(csv), str(folder)]) == 7


def test_a_missing_file_is_one_record_and_a_url_makes_the_total_unknown(
        tmp_path: Path) -> None:
    assert count_records([str(tmp_path / "missing.jsonl")]) == 1
    assert count_records([str(tmp_path / "missing.jsonl"), "https://example.com/feed"]) is None


def test_a_large_jsonl_file_is_counted_across_read_blocks(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    line = '{"id": 1, "body": "' + "x" * 5000 + '"}\n'
    path.write_text(line * 700)  # about 3.5 MB: several 1 MB blocks
    assert count_records([str(path)]) == 700
