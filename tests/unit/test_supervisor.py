"""`outboundql worker`'s supervisor with fake children, a fake clock and signals sent to this process:
a child that dies is replaced and the others are left alone, a crash loop stops everything with an
error, and every SIGTERM/SIGINT reaches every child as SIGTERM (dramatiq stops at once on a second one)."""

from __future__ import annotations

import itertools
import logging
import signal
from collections.abc import Callable

import pytest

from outboundql.workers.supervisor import supervise

_pids = itertools.count(1000)


class FakeChild:
    def __init__(self) -> None:
        self.pid = next(_pids)
        self.code: int | None = None
        self.signals: list[int] = []

    def poll(self) -> int | None:
        return self.code

    def send_signal(self, sig: int) -> None:
        self.signals.append(sig)


class Scenario:
    """`supervise` driven step by step: each of its waits runs the next step (on its main thread)."""

    def __init__(self, *steps: Callable[[Scenario], None]) -> None:
        self.children: list[FakeChild] = []
        self.steps = list(steps)
        self.now = 0.0
        self.idle = 0

    def spawn(self) -> FakeChild:
        self.children.append(FakeChild())
        return self.children[-1]

    def sleep(self, seconds: float) -> None:
        if not self.steps:  # every step ran: the children obey the signals they got
            self.idle += 1
            assert self.idle < 100, "supervise() keeps waiting for children that were never told to stop"
            for child in self.children:
                if child.signals and child.code is None:
                    child.code = 0
            return
        self.steps.pop(0)(self)

    def run(self, processes: int, **options: float) -> int:
        return supervise(self.spawn, processes, clock=lambda: self.now, sleep=self.sleep, **options)  # type: ignore[arg-type]

    def alive(self) -> list[FakeChild]:
        return [c for c in self.children if c.code is None]


def nothing(s: Scenario) -> None:
    pass


def kill(index: int, *, after: float = 0.0) -> Callable[[Scenario], None]:
    def step(s: Scenario) -> None:
        s.now += after
        s.children[index].code = -signal.SIGKILL

    return step


def send(sig: signal.Signals) -> Callable[[Scenario], None]:
    return lambda s: signal.raise_signal(sig)


def test_a_killed_child_is_replaced_and_the_others_keep_running(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "outboundql.workers.supervisor")
    handlers = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    seen: list[list[int]] = []
    scenario = Scenario(nothing, kill(1), lambda s: seen.append([c.pid for c in s.alive()]), send(signal.SIGTERM))
    assert scenario.run(3) == 0
    first, second, third, replacement = scenario.children
    assert seen == [[first.pid, third.pid, replacement.pid]]
    assert first.signals == third.signals == replacement.signals == [signal.SIGTERM]
    assert second.signals == []
    assert f"Worker process {second.pid} exited unexpectedly (code -9); starting another." in caplog.text
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == handlers  # given back


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_every_signal_reaches_every_child_as_sigterm_and_none_is_started_after_it(sig: signal.Signals) -> None:
    """The first stops the children after their in-flight jobs, a second at once (dramatiq's own rule)."""

    def exit_soon(s: Scenario) -> None:
        s.children[0].code = -signal.SIGKILL  # dies while stopping: not replaced

    scenario = Scenario(send(sig), exit_soon, send(sig))
    assert scenario.run(2) == 0
    assert [c.signals for c in scenario.children] == [[signal.SIGTERM], [signal.SIGTERM, signal.SIGTERM]]
    assert scenario.alive() == []


def test_a_crash_loop_stops_every_child_with_an_error(caplog: pytest.LogCaptureFixture) -> None:
    scenario = Scenario(*(kill(i, after=1.0) for i in range(1, 5)))  # each replacement dies a second later
    assert scenario.run(2, max_restarts=3, window=60.0) == 1
    assert len(scenario.children) == 2 + 3  # three replacements, no fourth
    assert scenario.children[0].signals == [signal.SIGTERM] and scenario.alive() == []
    assert "Worker processes keep exiting (4 exits within 60 s, the last with code -9): giving up" in caplog.text


def test_exits_spread_over_time_are_not_a_crash_loop() -> None:
    steps = [kill(i, after=30.0) for i in range(1, 11)]  # one exit every 30 s: at most 2 within 60 s
    scenario = Scenario(*steps, send(signal.SIGTERM))
    assert scenario.run(2, max_restarts=2, window=60.0) == 0
    assert len(scenario.children) == 12 and scenario.children[0].signals == [signal.SIGTERM]
