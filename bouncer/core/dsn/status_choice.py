"""Choose one RFC 3463 status code among those a report states and its texts carry.

Codes differ in how much they say. "x.0.0" names no subject and no detail, "x.Y.0" no detail,
and a few codes are known to be vague wrappers: 4.4.7 (delivery time expired, whatever failed
before), 4.7.0, 5.3.x (a system problem somewhere), x.5.1/x.5.2/x.5.4/x.5.5 (the command or its
syntax, not the message). A more specific code wins over those; otherwise the Status field
stands. When the two disagree on the class digit, the SMTP reply code decides. These are the
same preferences the reference analyser applies, so the effective status matches it.
"""

from __future__ import annotations

from bouncer.core.rules.regex_cache import pattern

# (The look-behind follows the first digit, so that `re` can skip ahead to a digit; the same
# matches as `(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d]|\.\d)`.)
_STATUS = pattern(r"([245])(?<![\d.][245])\.(\d{1,3})\.(\d{1,3})(?![\d]|\.\d)")
_WRAPPERS = frozenset({"4.4.7", "4.7.0"})
_COMMAND_SUBJECTS = (".5.1", ".5.2", ".5.4", ".5.5")


def find_status(text: str | None) -> str | None:
    """Return the most specific failure (4/5) status code in a text, else its first code."""
    if not text:
        return None
    codes = [".".join(str(int(g)) for g in found) for found in _STATUS.findall(text)]
    failures = [code for code in codes if code[0] != "2"]
    if not failures:
        return codes[0] if codes else None
    specific = [code for code in failures if not _is_vague(code)]
    vague = [code for code in failures if _is_vague(code)]
    ordered = specific + vague[-1:]
    chosen = ordered[0]
    for code in ordered[1:]:
        chosen = preferred_status(chosen, code)
    return chosen


def _is_vague(code: str) -> bool:
    """Tell whether a code says nothing beyond its class (x.0.0) or only wraps another (4.4.7)."""
    return code[1:] == ".0.0" or code == "4.4.7"


def preferred_status(
    stated: str | None, in_text: str | None, reply_code: str | None = None
) -> str | None:
    """Return the code to keep of a stated one and one found in the diagnostic text."""
    if not stated or not in_text:
        return stated or in_text
    if stated[0] != in_text[0] and reply_code:
        if reply_code[0] == stated[0]:
            return stated
        if reply_code[0] == in_text[0]:
            return in_text
    if stated == in_text:
        return stated
    if stated[1:] == ".0.0":
        return stated if in_text[1:] == ".0.0" else in_text
    if ".0" in stated and ".0" not in in_text:
        return in_text  # the stated code lacks a subject or a detail; the text has both
    if in_text[1:] == ".0.0":
        return stated
    if _is_wrapper(stated):
        return in_text
    if stated == "5.1.1":
        return stated if ".0" in in_text or in_text.startswith("5.5.") else in_text
    if stated == "5.1.3" and in_text.startswith("5.7."):
        return in_text
    return stated


def _is_wrapper(code: str) -> bool:
    """Tell whether a stated code only wraps the real cause (expiry, system, command codes)."""
    return code in _WRAPPERS or code.startswith("5.3.") or code[1:5] in _COMMAND_SUBJECTS
