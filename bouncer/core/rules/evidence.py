"""Weigh a diagnostic text against its RFC 3463 status code and the SMTP command it answered.

The text is read with one phrase matcher built from the ordered phrase tables (`phrases`,
`phrases_intl`, `families`); the status code names a reason through `codes`. A specific text
beats a vague code (x.0.0, the catch-all x.7.x) and a specific code beats broad words. "User
unknown" wording counts as `userunknown` with a status that says so (x.1.x), at RCPT TO, after
a lookup that found nothing, or in a report whose only status is the generic x.0.0; after DATA
a filter that read the message may have said it (`filtered`); behind X.2.1 the mailbox exists
but is disabled (`suspend`). Pure; everything compiles once at import.

Each decision can be noted in `steps` (a list the caller passes, for `bouncer explain`): one
dict per rule that spoke, with the rule, what it read and the reason it gave.
"""

from __future__ import annotations

from bouncer.core.rules.codes import WEAK_STATUS_REASONS, status_reason
from bouncer.core.rules.matcher import PhraseMatcher
from bouncer.core.rules.phrases import ENGLISH, GENERIC, REASON_ORDER
from bouncer.core.rules.phrases_intl import INTERNATIONAL
from bouncer.core.rules.regex_cache import pattern

Steps = list[dict] | None

# Reasons a text can name when the diagnostic did not come from an SMTP server (x-postfix,
# x-local ...): problems of the reporting system itself, of the recipient's domain in DNS
# ("Host or domain name not found"), or a local recipient the system does not know (Postfix
# local(8): 'unknown user: "x"').
LOCAL_REASONS = frozenset(
    {
        "mailboxfull", "authfailure", "badreputation", "speeding", "spamdetected",
        "virusdetected", "policyviolation", "norelaying", "systemerror", "networkerror",
        "suspend", "contenterror", "systemfull", "notaccept", "expired", "securityerror",
        "mailererror", "hostunknown", "userunknown",
    }
)  # fmt: skip
# What a local delivery program's failure (x-unix) can be besides a mailer error.
X_UNIX_REASONS = frozenset({"mailboxfull", "mesgtoobig", "exceedlimit", "suspend", "mailererror"})
# (status reason, text reason) pairs where plain precedence gets it wrong.
PAIR_WINNERS = {
    ("userunknown", "blocked"): "blocked",  # a block list hit behind a 5.1.x code
    ("filtered", "userunknown"): "filtered",
    ("suspend", "speeding"): "speeding",  # Gmail's 4.2.1 "receiving mail at a rate"
    ("suspend", "mailboxfull"): "mailboxfull",
    ("contenterror", "notcompliantrfc"): "contenterror",  # X.6.x names the content fault
}
# Reasons about the recipient's address or mailbox: in a reply that says the *sender* was
# refused ("Sender address rejected: mailbox disabled") they describe the sender.
RECIPIENT_SIDE_REASONS = frozenset(
    {"userunknown", "hostunknown", "mailboxfull", "suspend", "filtered", "hasmoved"}
)
_SENDER_REFUSED = pattern(
    r"sender (?:address |domain )?(?:rejected|refused|denied|not allowed)|envelope sender"
    r"|badmailfrom|mail from (?:rejected|refused)"
)
# Commands answered before the client named a sender or a recipient.
GREETING_COMMANDS = frozenset({"CONN", "HELO", "EHLO", "STARTTLS", "AUTH"})
# Signs in the text of the command a reply answered, when the entry does not say.
_AFTER_DATA = pattern(r"end of data|after (?:end of )?data|data command|after the message")
_AT_RCPT = pattern(r"rcpt to|rcpt command|recipient address rejected")
# Wording that names a lookup of the address that found nothing: the address itself.
_LOOKUP_FAILED = pattern(
    r"not listed in|(?:couldn't|could not|can't|cannot) be found|(?:wasn't|was not) found"
    r"|(?:is )?not recogni[sz]ed|(?:user|mailbox|recipient|address|account) not found"
    r"|(?:rcpt|recipient|mailbox|address) <[^>]*> does not exist"
)
MATCHER = PhraseMatcher(
    [(reason, ENGLISH.get(reason, ()) + INTERNATIONAL.get(reason, ())) for reason in REASON_ORDER]
    + list(GENERIC),
    generic_from=len(REASON_ORDER),
)


def note(steps: Steps, rule: str, says: str | None, read: str | None = None, **more: str) -> None:
    """Append one decision to `steps` (when the caller keeps them)."""
    if steps is not None:
        steps.append({"rule": rule, "says": says, "read": read, **more})


def read_evidence(
    text: str,
    status: str | None,
    diagnostic_type: str,
    command: str | None = None,
    steps: Steps = None,
) -> str | None:
    """Return the reason the normalised text, the status code and the command name together."""
    allowed = _allowed(diagnostic_type)
    from_text, phrase, generic = MATCHER.find_phrase(text, allowed)
    note(steps, "phrase", from_text, phrase, generic="yes" if generic else "no")
    if from_text in RECIPIENT_SIDE_REASONS and _SENDER_REFUSED.search(text):
        from_text, generic = "rejected", False
        note(steps, "sender refused", "rejected", "the reply is about the sender")
    from_status = status_reason(status)
    note(steps, "status code", from_status, status)
    if from_text and allowed is not None:
        note(steps, "local diagnostic", from_text, diagnostic_type, why="its words beat its code")
        return from_text
    if generic and from_status and from_status != "securityerror":
        note(steps, "broad words", from_status, phrase, why="a status code beats broad words")
        return from_status
    chosen = weigh(from_text, from_status, steps)
    if from_text == "userunknown" and chosen in ("userunknown", "filtered", "suspend"):
        return _unknown_user(text, from_status, command, status, steps)
    return chosen


def _allowed(diagnostic_type: str) -> frozenset[str] | None:
    """Return the reasons a diagnostic of this type may name (None: any)."""
    if diagnostic_type == "smtp":
        return None
    return X_UNIX_REASONS if diagnostic_type.startswith("x-unix") else LOCAL_REASONS


def weigh(from_text: str | None, from_status: str | None, steps: Steps = None) -> str | None:
    """Return the reason to keep when the text and the status code each suggest one (or none)."""
    if from_text is None or from_text == from_status:
        return from_status if from_text is None else from_text
    if (from_status, from_text) in PAIR_WINNERS:
        chosen = PAIR_WINNERS[from_status, from_text]
        note(steps, "pair", chosen, f"{from_status} code with {from_text} words")
        return chosen
    if from_status is None or from_status in WEAK_STATUS_REASONS:
        note(steps, "weigh", from_text, from_status, why="a vague code yields to the text")
        return from_text
    chosen = min(from_text, from_status, key=MATCHER.rank)
    note(steps, "weigh", chosen, f"{from_text} vs {from_status}", why="the more specific reason")
    return chosen


def _unknown_user(
    text: str, from_status: str | None, command: str | None, status: str | None, steps: Steps
) -> str:
    """Decide "unknown user" wording from the lookup it names or the command it answered.

    Wording that says a lookup of the address found nothing ("user not found", "could not be
    found") is the address itself, even after DATA: large providers (Mail.ru, Yahoo) accept
    every RCPT and refuse unknown mailboxes at the end of the message.
    """
    if command in (None, "DATA") and _LOOKUP_FAILED.search(text):
        note(steps, "lookup failed", "userunknown", "a lookup of the address found nothing")
        return "userunknown"
    command = command or _command_in_text(text)
    chosen = unknown_user_reason(from_status, command, status)
    note(steps, "command", chosen, command or "none known")
    return chosen


def _command_in_text(text: str) -> str | None:
    """Return the command a diagnostic text says its reply answered (DATA or RCPT), if any."""
    if _AFTER_DATA.search(text):
        return "DATA"
    return "RCPT" if _AT_RCPT.search(text) else None


def unknown_user_reason(
    from_status: str | None, command: str | None, status: str | None = None
) -> str:
    """Return the reason for "unknown user" wording, from the command it answered.

    Refused at RCPT TO, the address itself was refused (userunknown). Behind a status that
    says the mailbox exists but is disabled (X.2.1, RFC 3463) the words contradict the code:
    a filter may have said them (filtered, as the reference analyser reads 5.2.1); after DATA
    likewise. With no command known:
    a report whose only status is the generic X.0.0 is decided by the remote reply it carries
    (userunknown); a report with no status at all, or one naming another subject, stays
    filtered, as the reference analyser reads it (carriers' filters answer that way).
    """
    if command == "RCPT" or from_status == "userunknown":
        return "userunknown"
    if from_status == "suspend":
        return "filtered"  # X.2.1 says the mailbox exists; the words say it does not
    if command in GREETING_COMMANDS:
        return "blocked"
    if command == "MAIL":
        return "rejected"
    generic = bool(status) and status[1:] == ".0.0"
    return "userunknown" if command is None and generic else "filtered"
