"""Re-run parsing and classification over stored raw messages (after a classifier upgrade).

Messages are read a page at a time (memory stays flat however many are stored), parsed and
classified outside any transaction, and written in short transactions (at most about
`HOLD_SECONDS` each), so the daemon's intake never waits long for the write lock.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime

import structlog
from sqlite_utils import Database

from bouncer.app import notify
from bouncer.app.processing import Prepared, Settings, prepare, write
from bouncer.config import Config
from bouncer.store import inbox
from bouncer.store.inbox import StoredMessage

log = structlog.get_logger("bouncer.reprocess")

PAGE = 100  # messages parsed before their results are written
HOLD_SECONDS = 0.03  # a write transaction is committed once it has lasted this long


def reprocess(
    db: Database,
    config: Config,
    clock: Callable[[], datetime],
    *,
    kind: str | None = None,
    failed_only: bool = False,
    since: str | None = None,
    until: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Reprocess the selected messages; return counts: messages, changed kinds, failures.

    `progress(n)` is called after each page with the number of messages it held.
    """
    summary: Counter[str] = Counter(messages=0, kind_changed=0, failed=0)
    settings = Settings.from_config(config)
    selected = inbox.select_for_reprocess(
        db, kind=kind, since=since, until=until, failed_only=failed_only, page=PAGE
    )
    for page in _pages(selected, PAGE):
        now = clock()
        prepared = [_prepare(db, message, now, settings, summary) for message in page]
        _write_page(db, [p for p in prepared if p is not None], now, settings, summary, clock)
        summary["messages"] += len(page)
        if progress is not None:
            progress(len(page))
    return dict(summary)


def _pages(messages: Iterator[StoredMessage], size: int) -> Iterator[list[StoredMessage]]:
    """Group an iterator into lists of `size` (the last may be shorter)."""
    page: list[StoredMessage] = []
    for message in messages:
        page.append(message)
        if len(page) == size:
            yield page
            page = []
    if page:
        yield page


def _prepare(
    db: Database, message: StoredMessage, now: datetime, settings: Settings, summary: Counter
) -> tuple[Prepared, str | None] | None:
    """Parse and classify one message (no transaction); None when that failed (marked)."""
    before = db.conn.execute("SELECT kind FROM messages WHERE id = ?", (message.id,)).fetchone()
    try:
        return prepare(message, now, settings), before[0] if before else None
    except Exception as exc:  # noqa: BLE001 - keep going, mark and count the failure
        _failed(db, message.id, exc, now, summary)
        return None


def _write_page(
    db: Database,
    prepared: list[tuple[Prepared, str | None]],
    now: datetime,
    settings: Settings,
    summary: Counter,
    clock: Callable[[], datetime],
) -> None:
    """Write the page's results, committing whenever a transaction has lasted HOLD_SECONDS;
    each message in its own savepoint, so one that fails to write is marked and skipped."""
    pending = list(prepared)
    while pending:
        written: list[dict] = []
        started = time.monotonic()
        with db.atomic():
            while pending:  # at least one message per transaction
                item, kind_before = pending.pop(0)
                try:
                    with db.atomic():  # a savepoint
                        done = write(db, item, now, settings, reprocess=True)
                except Exception as exc:  # noqa: BLE001 - keep going, mark and count
                    _failed(db, item.message.id, exc, clock(), summary)
                    continue
                summary["kind_changed"] += int(kind_before != done.analysis.report.kind)
                written += done.events
                if time.monotonic() - started >= HOLD_SECONDS:
                    break
        notify.emit(written)  # logged once committed


def _failed(
    db: Database, message_id: int, error: Exception, now: datetime, summary: Counter
) -> None:
    """Log, mark and count a message whose reprocessing failed."""
    log.error("message.process_failed", message=message_id, error=repr(error))
    inbox.mark_failed(db, message_id, repr(error), now)
    summary["failed"] += 1
