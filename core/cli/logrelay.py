"""supervisord event listener: every line the dashboard or the scheduler prints, with the process name in front,
to the terminal and to one log file; and a line when supervisord starts, stops or restarts a process.

    python -m core.cli.logrelay data/logs/jobdash.log

supervisord's event-listener protocol (http://supervisord.org/events.html): say READY on stdout, read one
header line and ``len`` bytes of payload from stdin, answer ``RESULT 2\\nOK``. stdout belongs to that
protocol, so the relayed lines go to stderr, which `python -m core run`'s config sends to the terminal.
The file rotates at ``MAX_BYTES`` (one backup kept).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import BinaryIO, TextIO

MAX_BYTES = 5_000_000
WIDTH = len("supervisor")  # the longest name it writes
STARTSECS = 2  # supervisord counts a process as running once it has stayed up this long (core run's startsecs)
_STATES = {
    "PROCESS_STATE_RUNNING": "running",
    "PROCESS_STATE_STOPPED": "stopped",
    "PROCESS_STATE_BACKOFF": f"exited within {STARTSECS} s of starting; retrying",
    "PROCESS_STATE_FATAL": "failed to start too often; given up",
}


def _headers(line: str) -> dict[str, str]:
    return dict(part.split(":", 1) for part in line.split() if ":" in part)


def describe(event: str, payload: str, partial: dict[str, str]) -> list[tuple[str, str]]:
    """(process name, line) pairs to write for one event. Output arrives in chunks that can end inside a line:
    the unfinished tail waits in ``partial`` for the process's next chunk."""
    head, _, data = payload.partition("\n")
    fields = _headers(head)
    name = fields.get("processname", "?")
    if event.startswith("PROCESS_LOG"):
        *lines, partial[name] = (partial.get(name, "") + data).split("\n")
        return [(name, line.rstrip("\r")) for line in lines if line.strip()]
    if event == "PROCESS_STATE_EXITED":
        how = "exited as asked" if fields.get("expected") == "1" else "exited unexpectedly; restarting it"
        return [("supervisor", f"{name} (pid {fields.get('pid', '?')}) {how}")]
    if event in _STATES:
        return [("supervisor", f"{name} {_STATES[event]}")]
    return []


class Relay:
    def __init__(self, path: Path, terminal: TextIO) -> None:
        self.path, self.terminal = path, terminal
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.file = self.path.open("a", encoding="utf-8")

    def write(self, name: str, line: str) -> None:
        text = f"{time.strftime('%H:%M:%S')} {name:<{WIDTH}} | {line}\n"
        self.terminal.write(text)
        self.terminal.flush()
        self.file.write(text)
        self.file.flush()
        if self.file.tell() > MAX_BYTES:
            self.file.close()
            self.path.replace(self.path.with_name(self.path.name + ".1"))
            self.file = self.path.open("a", encoding="utf-8")


def serve(relay: Relay, stdin: BinaryIO, stdout: BinaryIO) -> None:
    partial: dict[str, str] = {}
    while True:
        stdout.write(b"READY\n")
        stdout.flush()
        line = stdin.readline()
        if not line:
            return  # supervisord went away
        headers = _headers(line.decode("utf-8", "replace"))
        payload = stdin.read(int(headers.get("len", "0"))).decode("utf-8", "replace")
        try:
            for name, text in describe(headers.get("eventname", ""), payload, partial):
                relay.write(name, text)
        except OSError:
            pass  # a full disk or a closed terminal must not stall supervisord's event queue
        stdout.write(b"RESULT 2\nOK")
        stdout.flush()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    relay = Relay(Path(args[0] if args else "data/logs/jobdash.log"), sys.stderr)
    try:
        serve(relay, sys.stdin.buffer, sys.stdout.buffer)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
