"""Run the real ``newsbot`` CLI in a subprocess (with the torch-free stand-in embedder of
``tests/robustness/hashed_embedder.py``), optionally on a pseudo-terminal: exit codes,
``isatty`` checks, progress bars and readline need a real process and a real terminal."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WRAPPER = ("import sys\nfrom tests.robustness.hashed_embedder import install\ninstall()\n"
           "from bot.cli import main\nsys.exit(main(sys.argv[1:]))\n")


def cli_env(data: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env.update(NEWSBOT_DATA_DIR=str(data), NEWSBOT_EMBEDDING_MODEL="minilm",
               PYTHONPATH=str(REPO), HF_HUB_OFFLINE="1", TERM="dumb", COLUMNS="100")
    env.update(extra)
    return env


def newsbot(data: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``newsbot ARGS`` with stdin closed and stdout/stderr captured (no terminal)."""
    return subprocess.run([sys.executable, "-c", WRAPPER, *args], cwd=data.parent,
                          env=cli_env(data, **env), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=120)


class Terminal:
    """A process whose stdin, stdout and stderr (or only stderr) are a pseudo-terminal."""

    def __init__(self, data: Path, *args: str, stderr_only: bool = False, **env: str) -> None:
        self.master, slave = pty.openpty()
        # A new pty is 0 columns wide, which tqdm takes literally: give it a window size.
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
        streams = {"stdin": subprocess.DEVNULL, "stdout": subprocess.PIPE, "stderr": slave} \
            if stderr_only else {"stdin": slave, "stdout": slave, "stderr": slave}
        self.proc = subprocess.Popen([sys.executable, "-c", WRAPPER, *args], cwd=data.parent,
                                     env=cli_env(data, **env), **streams)
        os.close(slave)
        self.output = b""
        self.stdout = ""

    def read_until(self, text: str, timeout: float = 60) -> str:
        """Everything the terminal showed so far, once ``text`` has appeared."""
        deadline = time.monotonic() + timeout
        while text.encode() not in self.output:
            if time.monotonic() > deadline or not self._read(deadline - time.monotonic()):
                raise AssertionError(f"{text!r} never appeared in {self.text!r}")
        return self.text

    def type(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\r")

    def finish(self, timeout: float = 60) -> tuple[int, str]:
        """Wait for the exit; (exit code, everything the terminal showed)."""
        deadline = time.monotonic() + timeout
        while self._read(max(0.0, deadline - time.monotonic())):
            pass
        out, _ = self.proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
        self.stdout = out.decode() if out else ""  # when only stderr is the terminal
        os.close(self.master)
        return self.proc.returncode, self.text

    @property
    def text(self) -> str:
        return self.output.decode("utf-8", "replace").replace("\r\n", "\n")

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], max(0.0, timeout))
        if not ready:
            return False
        try:
            data = os.read(self.master, 65536)
        except OSError:  # EIO: every process holding the terminal has exited
            return False
        self.output += data
        return bool(data)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
