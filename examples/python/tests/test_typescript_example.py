"""The TypeScript example (examples/ts/src/subscribe.ts, shown in
docs/clients.md) against the real services: it subscribes to a session,
the gateway stores a batch, and the example prints each event decoded."""

from __future__ import annotations

import json
import queue
import subprocess
import threading
from pathlib import Path

from test_jimbot_client_example import BATCH, post_batch

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "ts" / "dist" / "subscribe.js"
DEADLINE = 30.0


def lines_of(process: subprocess.Popen) -> queue.Queue:
    """The process's stdout lines, read on a thread so reads can time out."""
    lines: queue.Queue = queue.Queue()

    def pump() -> None:
        for line in process.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def next_line(lines: queue.Queue, process: subprocess.Popen) -> str:
    try:
        line = lines.get(timeout=DEADLINE)
    except queue.Empty:
        process.kill()
        raise AssertionError("the example printed nothing for 30 s") from None
    if line is None:
        raise AssertionError(f"the example ended early: {process.wait()}\n{process.stderr.read()}")
    return line


def test_prints_a_sessions_events_decoded(stack):
    assert EXAMPLE.is_file(), "build it first (scripts/test-clients.sh does)"
    process = subprocess.Popen(
        ["node", str(EXAMPLE), "--servers", stack.nats_url, "--session", "ts-game", "--count", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = lines_of(process)
        assert next_line(lines, process) == "subscribed jimbot.game.ts-game.>"
        # Another session's events must not show.
        post_batch(stack, "ts-other")
        post_batch(stack, "ts-game")
        printed = [next_line(lines, process) for _ in range(3)]
        assert process.wait(timeout=DEADLINE) == 0, process.stderr.read()
    finally:
        process.kill()

    state = json.loads(BATCH.read_text())["events"][1]["payload"]
    # console.log's rendering of the joker names' array.
    jokers = "[ " + ", ".join(f"'{joker['name']}'" for joker in state["jokers"]) + " ]"
    assert printed == [
        "jimbot.game.ts-game.heartbeat EVENT_TYPE_HEARTBEAT heartbeat",
        "jimbot.game.ts-game.game_state EVENT_TYPE_GAME_STATE gameState",
        f"  ante {state['ante']} money {state['money']} jokers {jokers}",
    ]


def test_refuses_a_count_that_is_not_a_whole_number():
    assert EXAMPLE.is_file(), "build it first (scripts/test-clients.sh does)"
    done = subprocess.run(
        ["node", str(EXAMPLE), "--count", "many"], capture_output=True, text=True, timeout=DEADLINE
    )
    assert done.returncode == 2
    assert "--count must be a positive whole number, not many" in done.stderr


def test_refuses_an_unknown_flag():
    assert EXAMPLE.is_file(), "build it first (scripts/test-clients.sh does)"
    done = subprocess.run(
        ["node", str(EXAMPLE), "--sessions", "x"], capture_output=True, text=True, timeout=DEADLINE
    )
    assert done.returncode == 2
    assert "Unknown option '--sessions'" in done.stderr
