"""Find the SMTP command a remote server's failure reply answered, as MTAs report it.

Postfix writes "(in reply to RCPT TO command)", Exim "SMTP error from remote mail server after
RCPT TO:<...>:", sendmail and Courier a transcript (">>> RCPT To:<...>" then "<<< 550 ..."),
qmail "... does not like recipient." or "... but sender was rejected.", DragonFly "did not
like our RCPT TO", and so on. Only these reporting phrases count: an envelope summary such as
"RCPT TO: user@example.org" in a list of message details names no failed command.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from bouncer.core.dsn.occurrence import Occurrences, joined, piece_at
from bouncer.core.dsn.paragraphs import ParagraphPhrases
from bouncer.core.rules.regex_cache import pattern

# Words that follow the reporting phrases, mapped to the command name used in Entry.command.
_COMMAND_WORDS = {
    "rcpt": "RCPT",
    "mail": "MAIL",
    "data": "DATA",
    "end": "DATA",
    "final": "DATA",
    "message": "DATA",
    "helo": "HELO",
    "ehlo": "EHLO",
    "lhlo": "EHLO",
    "starttls": "STARTTLS",
    "auth": "AUTH",
    "initial": "CONN",
    "greeting": "CONN",
    "connect": "CONN",
}
_WORD = (
    r"(rcpt(?: to)?|mail(?: from)?|end of data|final data|message body|data|helo|ehlo|lhlo"
    r"|starttls|auth|initial connection|greeting|connect)"
)
# Each alternative starts with a key word: the text is scanned for the key words alone, and the
# full phrase is tried only where one stands (one quick pass, whatever the text's length).
_REPORTED = (
    r"reply to (?:the )?" + _WORD + r"|"  # Postfix: (in reply to RCPT TO command)
    r"after (?:pipelined )?" + _WORD + r"|"  # Exim: SMTP error ... after RCPT TO:<...>
    r"like our " + _WORD + r"|"  # DragonFly: did not like our RCPT TO
    r"following " + _WORD + r" command|"  # (Error following RCPT command)
    r"progress was " + _WORD + r" response|"  # qmail: most progress was RCPT TO response
    r"sending " + _WORD + r"|"  # Postfix: lost connection ... while sending RCPT TO
    r"\[(rcpt_to|mail_from|data)\]"  # Yahoo
)
_FIXED = (  # qmail's and Postfix's sentences that imply the command
    ("like recipient", "RCPT"),  # does not like recipient.
    ("sender was rejected", "MAIL"),
    ("name was rejected", "HELO"),
    ("sent the message", "DATA"),  # Failed after I sent the message.
    ("talk to me", "CONN"),  # refused to talk to me
)
_KEYS = pattern(r"reply|after|like|following|progress|sending|\[|sender|name|sent|talk")
_SPACE = r"\s+"
# Matched against lower-cased text; a space matches any run of whitespace (folded lines).
_ANY = pattern(
    "|".join(
        [_REPORTED.replace(" ", _SPACE)]
        + [
            "(?P<q{}>{})".format(index, phrase.replace(" ", _SPACE))
            for index, (phrase, _) in enumerate(_FIXED)
        ]
    )
)
_KNOWN = frozenset({"RCPT", "MAIL", "DATA", "HELO", "EHLO", "LHLO", "STAR", "AUTH"})
_CANONICAL = {"LHLO": "EHLO", "STAR": "STARTTLS"}
_SENT = pattern(r"^[ \t]*>>>[ \t]*([A-Za-z]{4})(.*)$")
_REPLY = pattern(r"^[ \t]*<<<[ \t]*[45]\d\d")


# Texts up to this length are remembered by find_command (diagnostics repeat across entries);
# longer ones (a whole bounce region) are searched without being kept alive.
_CACHED_LENGTH = 4096


def find_command(text: str | None) -> str | None:
    """Return the command a reporting phrase in the text names, or None."""
    if text and len(text) > _CACHED_LENGTH:
        lowered = text.lower()
        return _first_command(lowered, 0, len(lowered))
    return _cached_command(text)


@lru_cache(maxsize=256)
def _cached_command(text: str | None) -> str | None:
    """Return find_command's answer for a short text (remembered)."""
    lowered = text.lower() if text else ""
    return _first_command(lowered, 0, len(lowered))


def _first_command(lowered: str, start: int, end: int) -> str | None:
    """Return the command of the first reporting phrase in lowered[start:end] (read as if the
    text ended at `end`; a key word at `start` needs no word boundary before it)."""
    for key in _KEYS.finditer(lowered, start, end):
        position = key.start()
        if position > start and lowered[position - 1].isalnum():
            continue  # inside a longer word
        found = _ANY.match(lowered, position, end)
        if found is not None:
            return _named(found)
    return None


def _named(found: re.Match[str]) -> str | None:
    """Return the command a match of the reporting phrases names."""
    if found.lastgroup:
        return _FIXED[int(found.lastgroup[1:])][1]
    word = next(group for group in found.groups() if group)
    return _COMMAND_WORDS.get(word.replace("_", " ").split()[0])


def transcript_replies(text: str) -> list[tuple[str, str]]:
    """Return (command, its argument) for each command a transcript shows refused (4xx/5xx)."""
    refused: list[tuple[str, str]] = []
    sent: tuple[str, str] | None = None
    for line in text.split("\n"):
        command = _SENT.match(line)
        if command:
            sent = (command.group(1).upper(), command.group(2).strip())
        elif sent and _REPLY.match(line):
            refused.append(sent)
            sent = None
    return [(name, argument) for name, argument in refused if name in _KNOWN]


def command_for(address: str, diagnostic: str | None, region: str, text: str) -> str | None:
    """Return the command the failure for one address answered: from its diagnostic, then from
    a transcript in the text (the line naming it first), its own paragraph in the bounce region,
    and lastly the first command the region reports."""
    return Commands(text, lambda: region).command_for(address, diagnostic)


def stated_command(address: str, diagnostic: str | None, text: str) -> str | None:
    """Return the command the diagnostic names, else the one a transcript in the text shows
    refused (the line naming the address first), or None."""
    return find_command(diagnostic) or Transcript(text).command_for(address)


def region_command(address: str, region: str) -> str | None:
    """Return the command the address's paragraph of the bounce region reports, else the first
    one the region reports, or None."""
    return RegionCommands(region).command_for(address)


class Commands:
    """The command each recipient's failure answered, for many recipients of one text: the
    transcript is read once and the bounce region (made only when needed) too."""

    __slots__ = ("_text", "_region_of", "_transcript", "_region")

    def __init__(self, text: str, region_of: Callable[[], str]) -> None:
        """Keep the text and how to cut its bounce region out; read neither yet."""
        self._text = text
        self._region_of = region_of
        self._transcript: Transcript | None = None
        self._region: RegionCommands | None = None

    def stated(self, address: str, diagnostic: str | None) -> str | None:
        """Return what stated_command(address, diagnostic, text) returns."""
        found = find_command(diagnostic)
        if found:
            return found
        if self._transcript is None:
            self._transcript = Transcript(self._text)
        return self._transcript.command_for(address)

    def command_for(self, address: str, diagnostic: str | None) -> str | None:
        """Return what command_for(address, diagnostic, region, text) returns."""
        found = self.stated(address, diagnostic)
        if found is None:
            if self._region is None:
                self._region = RegionCommands(self._region_of())
            found = self._region.command_for(address)
        return found


class Transcript:
    """The commands a transcript in a text shows refused, with their arguments lower-cased and
    joined once, so that finding the first one naming an address does not scan them all."""

    __slots__ = ("_names", "_starts", "_arguments")

    def __init__(self, text: str) -> None:
        """Read the transcript (only a text with `>>>` lines has one)."""
        refused = transcript_replies(text) if ">>>" in text else []
        self._names = [name for name, _ in refused]
        arguments, self._starts = joined([argument.lower() for _, argument in refused])
        self._arguments = Occurrences(arguments)

    def command_for(self, address: str) -> str | None:
        """Return the refused command whose argument names the address, else the first one."""
        if not self._names:
            return None
        key = address.lower()
        at = -1 if "\n" in key else self._arguments.first(key)  # arguments hold no newline
        name = self._names[piece_at(self._starts, at)] if at >= 0 else self._names[0]
        return _CANONICAL.get(name, name)


class RegionCommands:
    """The command a bounce region reports for each recipient: the first one its paragraph
    reports, else the first one the region reports (each read once, see ParagraphPhrases)."""

    __slots__ = ("_phrases", "_whole")

    def __init__(self, region: str) -> None:
        """Lower-case the region once; read nothing yet."""
        self._phrases = ParagraphPhrases(region, _KEYS, _phrase_at)
        self._whole: list[str | None] = []

    def command_for(self, address: str) -> str | None:
        """Return what region_command(address, region) returns."""
        found = self._phrases.first_for(address)
        named = _named(found) if found is not None else None
        if named:
            return named
        if not self._whole:
            lowered = self._phrases.lowered
            self._whole.append(_first_command(lowered, 0, len(lowered)))
        return self._whole[0]


def _phrase_at(lowered: str, position: int, end: int) -> re.Match[str] | None:
    """Return the reporting phrase matching at a position of a lower-cased text, if any."""
    return _ANY.match(lowered, position, end)
