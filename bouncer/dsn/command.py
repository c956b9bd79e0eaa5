"""Find the SMTP command a remote server's failure reply answered, as MTAs report it.

Postfix writes "(in reply to RCPT TO command)", Exim "SMTP error from remote mail server after
RCPT TO:<...>:", sendmail and Courier a transcript (">>> RCPT To:<...>" then "<<< 550 ..."),
qmail "... does not like recipient." or "... but sender was rejected.", DragonFly "did not
like our RCPT TO", and so on. Only these reporting phrases count: an envelope summary such as
"RCPT TO: user@example.org" in a list of message details names no failed command.
"""

from __future__ import annotations

from functools import lru_cache

from bouncer.rules.regex_cache import pattern

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


@lru_cache(maxsize=256)
def find_command(text: str | None) -> str | None:
    """Return the command a reporting phrase in the text names, or None."""
    lowered = text.lower() if text else ""
    for key in _KEYS.finditer(lowered):
        start = key.start()
        if start and lowered[start - 1].isalnum():
            continue  # inside a longer word
        found = _ANY.match(lowered, start)
        if found is None:
            continue
        if found.lastgroup:
            return _FIXED[int(found.lastgroup[1:])][1]
        word = next(group for group in found.groups() if group)
        return _COMMAND_WORDS.get(word.replace("_", " ").split()[0])
    return None


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
    return stated_command(address, diagnostic, text) or region_command(address, region)


def stated_command(address: str, diagnostic: str | None, text: str) -> str | None:
    """Return the command the diagnostic names, else the one a transcript in the text shows
    refused (the line naming the address first), or None."""
    found = find_command(diagnostic)
    if found:
        return found
    if ">>>" in text:
        refused = transcript_replies(text)
        if refused:
            named = [name for name, argument in refused if address.lower() in argument.lower()]
            name = named[0] if named else refused[0][0]
            return _CANONICAL.get(name, name)
    return None


def region_command(address: str, region: str) -> str | None:
    """Return the command the address's paragraph of the bounce region reports, else the first
    one the region reports, or None."""
    return find_command(_paragraph_of(address, region)) or find_command(region)


def _paragraph_of(address: str, region: str) -> str:
    """Return the text from the first line naming the address to the next blank line."""
    lowered = region.lower()
    start = lowered.find(address.lower())
    if start < 0:
        return ""
    start = lowered.rfind("\n", 0, start) + 1
    end = lowered.find("\n\n", start)
    return region[start : end if end >= 0 else len(region)]
