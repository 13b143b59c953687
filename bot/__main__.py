"""``python -m bot``: the same entry point as the ``newsbot`` command."""

from bot.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
