"""Tests for the phrase matcher: one compiled trie, table order decides, word starts only."""

from bouncer.core.rules.matcher import PhraseMatcher, normalise

TABLE = [
    ("mailboxfull", ("mailbox full", "over * quota")),
    ("userunknown", ("user unknown", "no such user")),
    ("blocked", ("blocked", "spamhaus")),
    ("expired", ("timed out",)),
    ("userunknown", ("does not exist",)),
]
MATCHER = PhraseMatcher(TABLE)


def find(text: str, allowed=None) -> str | None:
    return MATCHER.find(normalise(text), allowed)


def test_normalise_folds_case_whitespace_and_curly_apostrophes():
    assert normalise("  User\n\tUNKNOWN  ") == " user unknown "
    assert normalise("wasn\u2019t found") == " wasn't found "


def test_finds_a_plain_phrase():
    assert find("550 5.1.1 <a@example.org>: User unknown in local recipient table") == (
        "userunknown"
    )


def test_gap_spans_words_between_the_parts():
    assert find("452 user is over their storage quota") == "mailboxfull"


def test_no_match_gives_none():
    assert find("250 2.0.0 Ok: queued as 1234") is None
    assert find("") is None


def test_earlier_row_wins_wherever_it_appears_in_the_text():
    assert find("Blocked: no such user here, and the mailbox full") == "mailboxfull"
    assert find("Client host blocked using zen.spamhaus.org; no such user") == "userunknown"


def test_later_row_of_the_same_reason_ranks_below_other_rows():
    assert find("domain does not exist; connection timed out") == "expired"
    assert MATCHER.rank("userunknown") == 1


def test_phrases_start_at_word_starts_only():
    assert find("unblocked relay") is None
    assert find("(blocked)") == "blocked"


def test_overlapping_phrases_are_all_seen():
    matcher = PhraseMatcher([("a", ("quota exceeded",)), ("b", ("over quota",))])
    assert matcher.find(normalise("mailbox over quota exceeded")) == "a"


def test_scripts_without_spaces_match_inside_runs():
    matcher = PhraseMatcher([("userunknown", ("用户不存在",))])
    assert matcher.find(normalise("550 此用户不存在")) == "userunknown"


def test_allowed_limits_the_reasons_that_count():
    assert find("no such user; connection timed out", allowed={"expired"}) == "expired"
    assert find("no such user", allowed={"expired"}) is None


def test_unknown_reason_ranks_last():
    assert MATCHER.rank("vacation") == len(MATCHER.reasons)
