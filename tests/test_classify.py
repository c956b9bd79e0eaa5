"""Tests for the classifier: reason, class and effective status of one entry."""

import pytest

from bouncer.core.analyse import analyse
from bouncer.core.classify import class_of, verdict
from bouncer.core.model import Entry, Report, Verdict


def failed(diagnostic=None, status=None, reply_code=None, **fields) -> Entry:
    """An entry for a failed recipient with the given evidence."""
    fields.setdefault("action", "failed")
    return Entry(
        "rcpt@example.org", status=status, reply_code=reply_code, diagnostic=diagnostic, **fields
    )


def reason_of(diagnostic=None, status=None, reply_code=None, kind="bounce", **fields) -> str:
    return verdict(failed(diagnostic, status, reply_code, **fields), kind).reason


# --- status code alone ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "reason", "bounce_class"),
    [
        ("5.1.1", "userunknown", "hard"),
        ("5.1.2", "hostunknown", "hard"),
        ("5.1.6", "hasmoved", "hard"),
        ("5.2.2", "mailboxfull", "soft"),
        ("4.2.2", "mailboxfull", "soft"),
        ("5.3.4", "mesgtoobig", "soft"),
        ("4.4.7", "expired", "soft"),
        ("5.7.26", "authfailure", "soft"),
        ("5.7.1", "securityerror", "soft"),
        ("5.7.13", "suspend", "soft"),
    ],
)
def test_status_alone_decides(status, reason, bounce_class):
    assert verdict(failed(status=status), "bounce") == Verdict(bounce_class, reason, status)


# --- reply code alone -------------------------------------------------------------------------


def test_reply_code_alone_decides_when_it_is_specific():
    assert verdict(failed(reply_code="556"), "bounce") == Verdict("hard", "notaccept", None)
    assert verdict(failed(reply_code="525"), "bounce") == Verdict("soft", "suspend", None)


def test_nothing_to_go_on_is_undefined():
    assert verdict(failed(), "bounce") == Verdict("soft", "undefined", None)
    assert reason_of("Delivery to the following recipients failed.") == "undefined"


def test_delayed_without_other_evidence_is_expired():
    assert reason_of(action="delayed") == "expired"
    assert reason_of(kind="delay", action=None) == "expired"


# --- diagnostic text alone, as servers phrase it ----------------------------------------------

ENGLISH_SAMPLES = [
    ("said: 550 No such user - psmtp (in reply to RCPT TO command)", "userunknown"),
    ("RCPT TO:<rcpt@example.org> 554 This user doesn't have a yahoo.com account", "userunknown"),
    ("Sorry, no mailbox here by that name. (#5.1.1)", "userunknown"),
    (
        "550 Requested action not taken: mailbox unavailable (in reply to RCPT TO command)",
        "userunknown",
    ),
    ("The email address wasn\u2019t found at the destination domain.", "userunknown"),
    (
        "Host or domain name not found. Name service error for name=example.invalid type=A",
        "hostunknown",
    ),
    ("552 Requested mail action aborted: mailbox full", "mailboxfull"),
    ("452 user is over their storage quota", "mailboxfull"),
    ("552 Message size exceeds fixed limit", "mesgtoobig"),
    ("550 This account has been temporarily suspended", "suspend"),
    ("554 <rcpt@example.org>: Relay access denied", "norelaying"),
    (
        "550 Unauthenticated email from example.com is not accepted due to domain's DMARC policy",
        "authfailure",
    ),
    ("550 Reverse DNS lookup for host 192.0.2.1 failed permanently", "requireptr"),
    (
        "421 Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user "
        "complaints",
        "badreputation",
    ),
    ("451 Client host rejected: Please try again slower", "speeding"),
    ("421 Too many concurrent SMTP connections; please try again later", "toomanyconn"),
    ("553 Domain of sender address bounce@example.com does not exist", "rejected"),
    ("550 Recipient address has null MX", "notaccept"),
    ("550 RCP-P2 Refused due to recipient preferences", "filtered"),
    ("550 Our system has detected that this message is not RFC 5322 compliant", "notcompliantrfc"),
    ("554 Message contains invalid MIME headers", "contenterror"),
    ("554 Your message was infected with a virus", "virusdetected"),
    ("550 Message rejected as spam by Content Filtering", "spamdetected"),
    ("550 This message is likely unsolicited mail", "spamdetected"),
    ("554 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org", "blocked"),
    ("550 Message rejected due to local policy", "policyviolation"),
    ("554 Hop count exceeded - possible mail loop", "networkerror"),
    ("451 Local configuration error", "systemerror"),
    ("Delivery time expired", "expired"),
    ("retry timeout exceeded", "expired"),
    ("530 Authentication required", "securityerror"),
]


@pytest.mark.parametrize(("diagnostic", "reason"), ENGLISH_SAMPLES)
def test_english_phrasings(diagnostic, reason):
    assert reason_of(diagnostic) == reason


OTHER_LANGUAGES = [
    ("550 Empfänger unbekannt", "userunknown"),  # German
    ("552 Postfach voll", "mailboxfull"),
    ("550 Utilisateur inconnu", "userunknown"),  # French
    ("552 Boîte aux lettres pleine", "mailboxfull"),
    ("550 Usuario desconocido", "userunknown"),  # Spanish
    ("552 Buzón lleno", "mailboxfull"),
    ("550 Utente sconosciuto", "userunknown"),  # Italian
    ("552 Casella piena", "mailboxfull"),
    ("550 Usuário desconhecido", "userunknown"),  # Portuguese
    ("552 Caixa postal cheia", "mailboxfull"),
    ("550 Onbekende gebruiker", "userunknown"),  # Dutch
    ("552 Mailbox is vol", "mailboxfull"),
    ("550 宛先不明", "userunknown"),  # Japanese
    ("552 メールボックスがいっぱいです", "mailboxfull"),
    ("550 Пользователь не найден", "userunknown"),  # Russian
    ("552 Почтовый ящик переполнен", "mailboxfull"),
    ("550 此用户不存在", "userunknown"),  # Chinese
    ("552 邮箱已满", "mailboxfull"),
]


@pytest.mark.parametrize(("diagnostic", "reason"), OTHER_LANGUAGES)
def test_other_languages(diagnostic, reason):
    assert reason_of(diagnostic + " (in reply to RCPT TO command)") == reason


# --- precedence between status, text and codes ------------------------------------------------


def test_specific_text_beats_a_generic_policy_status():
    assert reason_of("550 5.7.1 Message rejected as spam", status="5.7.1") == "spamdetected"


def test_text_names_the_reason_behind_an_other_status():
    text = "550 5.0.0 <rcpt@example.org>... User unknown (in reply to RCPT TO command)"
    assert reason_of(text, status="5.0.0") == "userunknown"


def test_unknown_user_with_no_command_known():
    # a generic X.0.0 status: the remote reply decides
    assert reason_of("550 <rcpt@example.org>... User unknown", status="5.0.0") == "userunknown"
    assert reason_of('550 "Unknown User"', status="5.0.0") == "userunknown"
    # no status at all: a filter may have said it (the reference analyser's reading)
    assert reason_of("550 Usuario desconocido") == "filtered"
    assert reason_of("550 Usuario desconocido", status="5.1.1") == "userunknown"
    assert reason_of("550 5.7.1 550 User Unknown", status="5.7.1") == "filtered"


def test_a_directory_lookup_that_found_nothing_is_userunknown():
    assert reason_of("User jdoe (rcpt@example.org) not listed in Domino Directory") == (
        "userunknown"
    )
    assert reason_of("because the address couldn't be found. Check for typos") == "userunknown"


def test_a_status_written_in_the_text_counts_when_the_entry_has_none():
    entry = failed("Sorry, no mailbox here by that name. (#5.1.1)")
    assert verdict(entry, "bounce") == Verdict("hard", "userunknown", "5.1.1")


def test_a_full_mailbox_beats_an_unknown_user_status():
    assert reason_of("550 5.1.1 mailbox full", status="5.1.1") == "mailboxfull"


def test_a_block_list_hit_behind_an_address_status_is_blocked():
    text = "553 http://www.spamhaus.org/query/bl?ip=192.0.2.1"
    assert reason_of(text, status="5.1.3") == "blocked"


def test_a_specific_status_beats_a_vaguer_text():
    assert reason_of("451 4.7.1 Try again later", status="4.7.1") == "blocked"
    assert reason_of("552 5.2.2 delivery failed", status="5.2.2") == "mailboxfull"


def test_broad_words_lose_to_specific_phrases():
    text = "554 5.7.1 Your IP is blocked by policy: spam detected"
    assert reason_of(text, status="5.7.1") == "spamdetected"


def test_broad_words_lose_to_a_status_that_names_a_reason():
    text = "Unable to contact LDAP server. (#4.4.3) This message has been in the queue too long."
    assert reason_of(text, status="4.4.3") == "systemerror"
    assert reason_of("This message has been in the queue too long.") == "expired"


def test_broad_words_still_beat_the_vague_policy_status():
    assert reason_of("554 5.7.1 Rejected: looks like SPAM to us", status="5.7.1") == (
        "spamdetected"
    )
    assert reason_of("554 5.7.1 rejected by local policy", status="5.7.1") == "policyviolation"


def test_unknown_user_after_the_message_body_is_filtered():
    text = "550 : User unknown (in reply to end of DATA command)"
    assert reason_of(text, status="5.0.0") == "filtered"


def test_unknown_user_at_rcpt_is_userunknown_even_behind_a_mailbox_status():
    text = "did not like our RCPT TO: 550 5.2.1 Recipient address rejected: User unknown"
    assert reason_of(text, status="5.2.1") == "userunknown"
    assert reason_of("550 5.2.1 <rcpt@example.org>... User Unknown", status="5.2.1") == "filtered"
    assert reason_of("550 5.2.1 Mailbox not available", status="5.2.1") == "suspend"


def test_local_delivery_agent_failure_is_a_mailer_error():
    entry = failed(
        'procmail: Couldn\'t create "/var/spool/mail/neko": No such user',
        status="5.1.1",
        diagnostic_type="x-unix",
    )
    assert verdict(entry, "bounce") == Verdict("soft", "mailererror", "5.1.1")
    assert reason_of("255", diagnostic_type="X-Unix") == "mailererror"
    assert reason_of("451 4.0.0 Operating system error", diagnostic_type="x-unix") == (
        "mailererror"
    )
    assert reason_of("maildrop: maildir over quota.", diagnostic_type="x-unix") == "mailboxfull"


def test_other_local_diagnostics_read_only_system_side_reasons():
    text = (
        "Name service error for name=example.org type=MX: Malformed or unexpected name server reply"
    )
    assert reason_of(text, status="5.4.4", diagnostic_type="x-postfix") == "networkerror"


# --- report kinds and parser hints ------------------------------------------------------------


def test_report_kinds_that_are_not_failures():
    entry = Entry("rcpt@example.org")
    assert verdict(entry, "autoreply") == Verdict("none", "vacation", None)
    assert verdict(entry, "complaint") == Verdict("none", "feedback", None)
    assert verdict(entry, "delivered") == Verdict("none", "delivered", None)


def test_delivered_relayed_or_expanded_action_is_delivered():
    relayed = Entry("rcpt@example.org", action="relayed", status="2.0.0")
    assert verdict(relayed, "bounce") == Verdict("none", "delivered", "2.0.0")
    expanded = Entry("list@example.org", action="expanded")
    assert verdict(expanded, "bounce") == Verdict("none", "delivered", None)


def test_a_recipient_that_cannot_be_found_is_userunknown():
    assert reason_of("550 The recipient cannot be found in our directory") == "userunknown"


def test_parser_hint_wins():
    entry = failed("550 5.1.1 User unknown", status="5.1.1", hint="vacation")
    assert verdict(entry, "bounce").reason == "vacation"


# --- the hard/soft rule and operator overrides ------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "temporary", "expected"),
    [
        ("userunknown", True, "hard"),
        ("hostunknown", False, "hard"),
        ("hasmoved", True, "hard"),
        ("notaccept", False, "hard"),
        ("notaccept", True, "soft"),
        ("mailboxfull", False, "soft"),
        ("blocked", False, "soft"),
        ("authfailure", False, "soft"),
        ("feedback", False, "none"),
        ("vacation", False, "none"),
        ("delivered", False, "none"),
    ],
)
def test_class_of(reason, temporary, expected):
    assert class_of(reason, temporary) == expected


def test_temporary_notaccept_is_soft():
    entry = failed("421 Host does not accept mail", reply_code="421")
    assert verdict(entry, "bounce") == Verdict("soft", "notaccept", None)


def test_class_overrides_apply_last():
    entry = failed("550 5.7.1 blocked using zen.spamhaus.org", status="5.7.1")
    assert verdict(entry, "bounce", {"blocked": "hard"}).bounce_class == "hard"
    assert verdict(entry, "bounce", {"userunknown": "soft"}).bounce_class == "soft"


# --- effective status -------------------------------------------------------------------------


def test_status_is_a_code_the_report_or_the_reply_states_else_none():
    assert verdict(failed("452 4.2.2 Mailbox full"), "bounce").status == "4.2.2"
    assert verdict(failed("Sorry, no mailbox here by that name. (#5.1.1)"), "bounce").status == (
        "5.1.1"
    )
    for text in ("452 Mailbox full", "retry timeout exceeded", "User unknown (in reply to RCPT)"):
        assert verdict(failed(text), "bounce").status is None  # no pseudo codes (x.0.9xx)
    assert verdict(failed("Mailbox full", reply_code="552"), "bounce").status is None


# --- the SMTP command the reply answered --------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "status", "reason"),
    [
        ("RCPT", "5.2.1", "userunknown"),  # refused at RCPT: the address, whatever the status
        ("RCPT", "5.7.1", "userunknown"),
        ("RCPT", None, "userunknown"),
        ("DATA", "5.0.0", "filtered"),  # after the message was read: maybe a content filter
        ("DATA", "5.1.1", "userunknown"),  # ... unless the status names the address
        (None, "5.0.0", "userunknown"),  # no command known: the reply decides
        (None, "5.2.1", "filtered"),  # X.2.1 says the mailbox exists: the words may be a filter's
        ("MAIL", "5.0.0", "rejected"),
        ("CONN", None, "blocked"),
    ],
)
def test_unknown_user_wording_follows_the_command(command, status, reason):
    text = "550 Invalid recipient rcpt@example.org"
    assert reason_of(text, status=status, command=command) == reason


def test_unknown_user_at_rcpt_is_hard_and_after_data_soft():
    text = "550 <rcpt@example.org>... User unknown"
    assert verdict(failed(text, "5.0.0", command="RCPT"), "bounce").bounce_class == "hard"
    assert verdict(failed(text, "5.0.0", command="DATA"), "bounce").bounce_class == "soft"


def test_a_full_mailbox_at_rcpt_stays_a_full_mailbox():
    text = "550 5.2.2 <rcpt@example.org>... Mailbox full, user unknown"
    assert reason_of(text, status="5.2.2", command="RCPT") == "mailboxfull"


def test_refusal_at_the_greeting_without_words_is_blocked():
    assert reason_of("554 sorry", command="CONN") == "blocked"
    assert reason_of("554 sorry") != "blocked"


def test_refusal_at_mail_from_without_a_code_has_no_status():
    text = (
        "SMTP error from remote mail server after MAIL FROM:<s@example.net>: 550 Unroutable sender"
    )
    assert verdict(failed(text, command="MAIL"), "bounce").status is None
    assert verdict(failed("550 5.7.1 no", command="MAIL"), "bounce").status == "5.7.1"


def _refused_at_rcpt() -> Report:
    """Return a one-recipient report refused at RCPT TO, reported by a named host."""
    entry = Entry(
        "gone@example.org",
        action="failed",
        status="5.1.1",
        diagnostic="550 5.1.1 <gone@example.org>: Recipient address rejected",
        command="RCPT",
    )
    return Report("bounce", (entry,), reporting_mta="mx.example.net")


def test_analysis_reports_the_command_each_failure_answered():
    recipient = analyse(_refused_at_rcpt()).as_dict()["recipients"][0]
    assert (recipient["command"], recipient["reason"], recipient["class"]) == (
        "RCPT",
        "userunknown",
        "hard",
    )
    assert "  RCPT  " in analyse(_refused_at_rcpt()).as_text("bounce.eml")


def test_analysis_without_a_known_command_says_null():
    entry = Entry("a@example.org", action="failed", status="4.2.2", diagnostic="mailbox full")
    recipient = analyse(Report("delay", (entry,))).as_dict()["recipients"][0]
    assert recipient["command"] is None


def test_entries_differing_only_in_local_part_share_one_verdict(monkeypatch) -> None:  # noqa: ANN001
    import bouncer.core.analyse as analyse_module

    calls: list[str] = []
    real = analyse_module.verdict

    def counting(entry, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        calls.append(entry.address)
        return real(entry, *args, **kwargs)

    monkeypatch.setattr(analyse_module, "verdict", counting)
    failed = {"action": "failed", "status": "5.2.2", "diagnostic": "552 5.2.2 mailbox full"}
    entries = tuple(Entry(f"user{n}@example.org", **failed) for n in range(50))
    entries += (Entry("other@example.net", **failed), Entry("x@example.org", status="5.1.1"))
    result = analyse(Report("bounce", entries))
    assert calls == ["user0@example.org", "other@example.net", "x@example.org"]
    assert [found.reason for _, found in result.verdicts] == ["mailboxfull"] * 51 + ["userunknown"]
    assert [entry.address for entry, _ in result.verdicts] == [e.address for e in entries]
