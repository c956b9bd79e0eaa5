"""Tests for the light MIME walker."""

from bouncer.core.dsn.mime import decode_words, normalise_newlines, parse_message, part_text

MULTIPART = (
    b"From MAILER-DAEMON Thu Apr 29 23:34:45 2010\n"
    b"Subject: =?UTF-8?B?w4Rw?= =?UTF-8?Q?fel_x?=\n"
    b"Content-Type: multipart/mixed;\n"
    b'\tboundary="XYZ"\n'
    b"\n"
    b"--XYZ\n"
    b"Content-Type: text/plain; charset=utf-8\n"
    b"Content-Transfer-Encoding: base64\n"
    b"\n"
    b"SGVsbG8gd29ybGQ=\n"
    b"--XYZ\n"
    b"Content-Type: message/rfc822\n"
    b"\n"
    b"Subject: inner\n"
    b"Message-ID: <a@b>\n"
    b"\n"
    b"body\n"
    b"--XYZ--\n"
)


def test_newlines_are_normalised_from_crlf_and_cr() -> None:
    assert normalise_newlines(b"a\r\nb\rc\n") == b"a\nb\nc\n"


def test_multipart_children_and_mbox_line() -> None:
    root = parse_message(MULTIPART)
    assert root.ctype == "multipart/mixed"
    assert [child.ctype for child in root.children] == ["text/plain", "message/rfc822"]
    assert part_text(root.children[0]) == "Hello world"
    assert root.children[1].children[0].get("message-id") == "<a@b>"


def test_cr_only_message_parses_the_same() -> None:
    root = parse_message(MULTIPART.replace(b"\n", b"\r"))
    assert part_text(root.children[0]) == "Hello world"


def test_encoded_words_are_decoded_and_joined() -> None:
    assert decode_words("=?UTF-8?B?w4Rw?= =?UTF-8?Q?fel_x?=") == "Äpfel x"
    assert decode_words("plain") == "plain"


def test_boundary_at_body_start_is_found() -> None:
    raw = (
        b'Content-Type: multipart/report; boundary="b"\n\n'
        b"--b\nContent-Type: text/plain\n\nhi\n--b--\n"
    )
    assert part_text(parse_message(raw).children[0]) == "hi"


def test_japanese_text_in_a_sibling_encoding_of_its_label_is_decoded() -> None:
    from bouncer.core.dsn.mime import to_text

    sentence = "送信できませんでした"
    assert to_text(sentence.encode("euc-jp"), "iso-2022-jp") == sentence
    assert to_text(sentence.encode("cp932"), "ISO-2022-JP") == sentence
    assert to_text(sentence.encode("iso-2022-jp"), "iso-2022-jp") == sentence
    assert to_text("café".encode("latin-1"), "us-ascii") == "café"


def test_a_charset_name_no_codec_can_take_falls_back_to_utf8() -> None:
    from bouncer.core.dsn.mime import to_text

    for name in ("\x00s-ascii", "no-such-charset", "utf\x008", ""):
        assert to_text("Grüße".encode(), name) == "Grüße"
