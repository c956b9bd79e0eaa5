"""Re-run parsing and classification over stored raw messages (after a classifier upgrade)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime

import structlog
from sqlite_utils import Database

from bouncer import notify
from bouncer.config import Config
from bouncer.processor import Settings, process
from bouncer.store import inbox

log = structlog.get_logger("bouncer.reprocess")


def reprocess(
    db: Database,
    config: Config,
    clock: Callable[[], datetime],
    *,
    kind: str | None = None,
    failed_only: bool = False,
    since: str | None = None,
    until: str | None = None,
) -> dict[str, int]:
    """Reprocess the selected messages; return counts: messages, changed kinds, failures."""
    summary: Counter[str] = Counter(messages=0, kind_changed=0, failed=0)
    settings = Settings.from_config(config)
    for message in inbox.select_for_reprocess(
        db, kind=kind, since=since, until=until, failed_only=failed_only
    ):
        before = db.conn.execute(
            "SELECT kind FROM messages WHERE id = ?", (message.id,)
        ).fetchone()[0]
        summary["messages"] += 1
        try:
            done = process(db, message, clock(), settings, reprocess=True)
        except Exception as exc:  # noqa: BLE001 - keep going, mark and count the failure
            log.exception("message.process_failed", message=message.id)
            inbox.mark_failed(db, message.id, repr(exc), clock())
            summary["failed"] += 1
            continue
        summary["kind_changed"] += int(before != done.analysis.report.kind)
        notify.emit(done.events)
    return dict(summary)
