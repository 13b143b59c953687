"""``newsbot`` behaves like the tools people know: global options before or after the
command, ``--version``, exit codes a cron job can act on, a clear word on an empty index,
and no import loop between the command modules."""

from __future__ import annotations

import io
import json
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from bot import cli
from bot.cli_common import EMPTY_INDEX, EXIT_FAILED, EXIT_USAGE
from tests.bot.cli_process import newsbot


@pytest.fixture(autouse=True)
def _shared_model(monkeypatch, embedder):
    from index import api

    monkeypatch.setattr(api, "Embedder", lambda *a, **k: embedder)  # load the model once


def test_version_comes_from_the_package_metadata(capsys) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"newsbot {version('newsbot')}"


def test_data_dir_is_accepted_before_and_after_the_command(tmp_path: Path, corpus_dir: Path,
                                                           capsys) -> None:
    elsewhere = tmp_path / "elsewhere"
    assert cli.main(["--data-dir", str(elsewhere), "ingest", str(corpus_dir)]) == 0
    capsys.readouterr()
    for argv in (["--data-dir", str(elsewhere), "stats", "--json"],
                 ["stats", "--data-dir", str(elsewhere), "--json"]):
        assert cli.main(argv) == 0
        assert json.loads(capsys.readouterr().out)["articles"] == 5, argv
    assert not (tmp_path / "data").exists()  # the default data dir was never touched


def test_debug_is_accepted_before_and_after_the_command(tmp_path: Path, capsys) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    assert cli.main(["stats", "--data-dir", str(not_a_dir)]) == EXIT_FAILED
    [line] = capsys.readouterr().err.splitlines()  # one line, no traceback
    assert line.startswith("newsbot: FileExistsError")
    for argv in (["--debug", "stats", "--data-dir", str(not_a_dir)],
                 ["stats", "--data-dir", str(not_a_dir), "--debug"]):
        with pytest.raises(FileExistsError):
            cli.main(argv)


@pytest.mark.parametrize("argv", [["ask", "Who won the election?"], ["search", "election"]])
def test_ask_and_search_on_an_empty_index_say_how_to_fill_it(argv, capsys) -> None:
    assert cli.main(argv) == EXIT_FAILED
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip() == f"newsbot: {EMPTY_INDEX}"
    assert "newsbot ingest PATH|URL" in captured.err


def test_chat_on_an_empty_index_says_how_to_fill_it(tmp_path: Path, monkeypatch,
                                                    capsys) -> None:
    nothing = tmp_path / "nothing"
    nothing.mkdir()  # the configured source holds no articles: the index stays empty
    monkeypatch.setenv("NEWSBOT_SOURCES", str(nothing))
    monkeypatch.setattr(sys, "stdin", io.StringIO("Who won the election?\nquit\n"))
    assert cli.main(["chat"]) == 0
    captured = capsys.readouterr()
    assert "Note: the index is empty: add articles with `newsbot ingest PATH|URL`" in \
        captured.err
    assert "The index is empty: add articles with `newsbot ingest PATH|URL`" in captured.out


def test_run_without_token_or_terminal_exits_2_before_touching_anything(
        tmp_path: Path) -> None:
    data = tmp_path / "data"
    done = newsbot(data, "run")
    assert done.returncode == EXIT_USAGE, done.stderr
    assert done.stderr.strip() == (
        "newsbot: NEWSBOT_TELEGRAM_TOKEN is not set and there is no terminal for the chat: "
        "set the token (environment or .env) to serve Telegram")
    assert not data.exists()  # no index built, no samples ingested


def test_the_command_modules_do_not_import_the_main_cli() -> None:
    """``bot.cli`` registers ``eval`` and ``bench``; they reach the shared helpers in
    ``bot.cli_common`` and never import ``bot.cli`` back, nor anyone's private names (read
    from the source: their imports are lazy, inside the commands)."""
    import ast

    for name in ("cli_eval", "cli_bench", "cli_common"):
        path = Path(cli.__file__).with_name(f"{name}.py")
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                assert node.module != "bot.cli", (name, node.lineno)
                private = [a.name for a in node.names if a.name.startswith("_")]
                assert not private, (name, node.lineno, private)
            elif isinstance(node, ast.Import):
                assert all(a.name != "bot.cli" for a in node.names), (name, node.lineno)
