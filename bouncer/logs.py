"""Logging set-up: structlog events, JSON off a TTY, stdlib loggers through one renderer.

bouncer's own events are rendered by structlog itself and written as one line each (a few µs
a line); stdlib records (aiosmtpd, asyncio) go through logging's handler and structlog's
ProcessorFormatter (tens of µs a line: fine for them, too slow for a line per message).
Both give every line the same fields: event, level, logger, timestamp.
"""

from __future__ import annotations

import logging
import sys
import threading

import structlog

_SHARED = (
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
)


class _LineLogger:
    """Writes each rendered line to whatever sys.<to> is at the time (tests swap it), `to` as
    the latest configure() said (loggers are cached on first use, so it is read per line);
    named for the `logger` field."""

    _lock = threading.Lock()  # lines from several threads never mix
    to = "stdout"

    def __init__(self, name: str) -> None:
        self.name = name

    def msg(self, line: str) -> None:
        """Write one line and flush it."""
        stream = getattr(sys, _LineLogger.to)
        with self._lock:
            stream.write(line + "\n")
            stream.flush()

    debug = info = warning = warn = error = critical = exception = fatal = msg


def _add_logger_name(logger: object, _method: str, event: dict) -> dict:
    """Add the name the logger was got by (structlog.get_logger(NAME))."""
    event["logger"] = getattr(logger, "name", "")
    return event


class _CurrentStreamHandler(logging.StreamHandler):
    """A handler that writes to whatever sys.stdout or sys.stderr is at the time of each line."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self._name = name

    @property
    def stream(self):  # noqa: ANN201 - a text stream
        """Return the current sys.<name> stream."""
        return getattr(sys, self._name)

    @stream.setter
    def stream(self, _value) -> None:  # noqa: ANN001
        """Ignore assignments: the stream is always looked up."""


def _renderer(log_format: str, stream) -> structlog.typing.Processor:  # noqa: ANN001
    """Pick the JSON renderer, or the console one on a TTY when format is 'auto'."""
    console = log_format == "console" or (log_format == "auto" and stream.isatty())
    if console:
        return structlog.dev.ConsoleRenderer()
    return structlog.processors.JSONRenderer(ensure_ascii=False)


def quiet_libraries() -> None:
    """Silence flufl.bounce's per-detector tracebacks on junk input (bouncer falls back itself)."""
    logging.getLogger("flufl.bounce").setLevel(logging.CRITICAL)


def configure(log_format: str = "auto", level: str = "info", to: str = "stdout") -> None:
    """Send structlog and stdlib logging (aiosmtpd, asyncio) to sys.stdout/stderr in one shape."""
    stream = getattr(sys, to)
    _LineLogger.to = to
    numeric = logging.getLevelName(level.upper())
    numeric = numeric if isinstance(numeric, int) else logging.INFO
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=list(_SHARED),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _renderer(log_format, stream),
        ],
    )
    handler = _CurrentStreamHandler(to)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    quiet_libraries()
    # aiosmtpd logs every connection and address at INFO; keep that for debugging only.
    logging.getLogger("mail.log").setLevel(
        max(numeric, logging.WARNING) if numeric > logging.DEBUG else logging.DEBUG
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            _add_logger_name,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            _renderer(log_format, stream),
        ],
        logger_factory=lambda name="", *_: _LineLogger(name),
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        cache_logger_on_first_use=True,
    )
