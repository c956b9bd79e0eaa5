"""Health of the daemon's long-running loops, and their supervision.

Every loop (the processor, the scheduler, the webhook outbox; the intake writer thread reports
its failures too) tells a `Health` when a unit of work succeeded (`beat`), when it failed
(`fail`), and when work is waiting for it (`busy`). A loop is unhealthy when it has kept failing
for longer than `unhealthy_after`, when work has waited longer than `stuck_after` without a
beat, or when its task ended. The daemon pings systemd's watchdog only while every loop is
healthy, so a wedged or dying daemon is restarted; `STATUS=` lines carry the backlog and the
last error. `supervise` runs a loop and starts it again, with backoff, whenever it fails.

A node whose shared store (PostgreSQL) cannot be reached keeps taking bounces into its local
spool (bouncer.daemon.spool), so a loop that fails only for that reason (`Health.waits_for`
says which errors are) is waiting, not broken: it makes no problem however long it lasts, and
the watchdog keeps the daemon running (a restart could not start it without the store).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog

log = structlog.get_logger("bouncer.health")


@dataclass
class LoopState:
    """What one loop last reported (monotonic seconds)."""

    last_beat: float
    failing_since: float | None = None
    busy_since: float | None = None
    last_error: str | None = None
    failures: int = 0
    beats: int = 0
    running: bool = True
    store_away: bool = False  # its last failure: the shared store cannot be reached


class Health:
    """The state of every registered loop; `ok()` says whether the daemon is healthy."""

    def __init__(
        self,
        unhealthy_after: float = 120.0,
        stuck_after: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.unhealthy_after = unhealthy_after
        self.stuck_after = stuck_after
        self._clock = clock
        self.loops: dict[str, LoopState] = {}
        # which failures mean "the shared store cannot be reached" (a node with a local spool)
        self.waits_for: Callable[[BaseException], bool] | None = None

    def register(self, name: str) -> None:
        """Start tracking a loop (healthy, idle)."""
        self.loops[name] = LoopState(last_beat=self._clock())

    def beat(self, name: str) -> None:
        """Record a unit of work done: the loop is healthy and no longer behind."""
        state = self._state(name)
        state.last_beat = self._clock()
        state.beats += 1
        state.failing_since = None
        state.busy_since = None
        state.running = True
        state.store_away = False

    def busy(self, name: str) -> None:
        """Record that work is waiting for the loop (kept from the first call until a beat)."""
        state = self._state(name)
        if state.busy_since is None:
            state.busy_since = self._clock()

    def fail(self, name: str, error: BaseException | str) -> None:
        """Record a failure (an exception is shown by its repr); the loop stays
        unhealthy-in-waiting until it beats again, unless the failure is the shared store's
        being away (`waits_for`)."""
        state = self._state(name)
        state.failures += 1
        away = isinstance(error, BaseException) and self.waits_for is not None
        state.store_away = away and self.waits_for(error)  # type: ignore[misc]
        text = repr(error) if isinstance(error, BaseException) else error
        state.last_error = f"{name}: {text}"[:300]
        if state.failing_since is None:
            state.failing_since = self._clock()

    def failed(self, name: str, event: str, error: BaseException) -> None:
        """Record a loop's failure (`fail`) and log it (`log_failure`)."""
        self.fail(name, error)
        self.log_failure(event, error)

    def log_failure(self, event: str, error: BaseException) -> None:
        """Log a failure as `event`: one warning line when it is the shared store's being away
        (`waits_for`: waiting, not broken), else an error with its traceback."""
        if self.waits_for is not None and self.waits_for(error):
            log.warning(event, error=str(error), store_away=True)
        else:
            log.error(event, exc_info=error)

    def stopped(self, name: str) -> None:
        """Record that the loop's task ended."""
        self._state(name).running = False

    def problems(self) -> list[str]:
        """Return why the daemon is unhealthy, one line per loop ([] when healthy)."""
        now = self._clock()
        found = []
        for name, state in self.loops.items():
            failing = now - state.failing_since if state.failing_since is not None else 0.0
            waiting = now - state.busy_since if state.busy_since is not None else 0.0
            if not state.running:
                found.append(f"{name} stopped")
            elif state.store_away:
                continue  # waiting for the shared store: the spool takes the bounces
            elif failing > self.unhealthy_after:
                found.append(f"{name} failing for {failing:.0f} s")
            elif waiting > self.stuck_after:
                found.append(f"{name} stuck for {waiting:.0f} s")
        return found

    def ok(self) -> bool:
        """Return True when every loop is healthy."""
        return not self.problems()

    def last_error(self, *, waiting: bool = True) -> str | None:
        """Return the most recent failure of any loop, if one is still unresolved (without
        `waiting`: not counting loops that wait for the shared store)."""
        failing = [
            s
            for s in self.loops.values()
            if s.failing_since is not None and s.last_error and (waiting or not s.store_away)
        ]
        latest = max(failing, key=lambda s: s.failing_since or 0.0, default=None)
        return latest.last_error if latest else None

    def _state(self, name: str) -> LoopState:
        """Return a loop's state, registering it on first mention."""
        if name not in self.loops:
            self.register(name)
        return self.loops[name]


async def supervise(
    name: str,
    run: Callable[[], Awaitable[None]],
    health: Health,
    *,
    first_delay: float = 1.0,
    max_delay: float = 60.0,
) -> None:
    """Run `run()` until cancelled, starting it again after any failure or return.

    Each failure is logged with its traceback and noted in `health`; the wait before the next
    start doubles from `first_delay` up to `max_delay`, and starts over once a start has done
    some work (beat) before failing, or has run longer than `max_delay`.
    """
    delay = first_delay
    health.register(name)
    while True:
        started = asyncio.get_running_loop().time()
        beats = health.loops[name].beats
        try:
            await run()
            health.fail(name, "ended")
        except asyncio.CancelledError:
            health.stopped(name)
            raise
        except Exception as exc:  # noqa: BLE001 - a supervisor outlives what it runs
            health.fail(name, exc)
            if health.loops[name].store_away:  # one line: it is waiting, not broken
                log.warning("loop.store_away", loop=name, error=str(exc), retry_in=delay)
            else:
                log.exception("loop.failed", loop=name, retry_in=delay)
        worked = health.loops[name].beats > beats
        if worked or asyncio.get_running_loop().time() - started > max_delay:
            delay = first_delay  # it worked, or ran a good while: start the backoff afresh
        await asyncio.sleep(delay)
        delay = min(delay * 2, max_delay)
