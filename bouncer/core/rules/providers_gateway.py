"""Mail security gateways that answer for their customers' domains: MessageLabs and Mimecast.

Sources: Broadcom's "Email error and bounce codes for Email Security.cloud"
(https://knowledge.broadcom.com/external/article/169652) and Mimecast's "SMTP error codes"
(https://community.mimecast.com/s/article/email-security-cloud-gateway-mimecast-smtp-error-codes).
A gateway may be the remote host or the reporting one (it relays for the customer), so both
are looked at. Mimecast's short sentences carry the reply code they are documented with.
"""

from __future__ import annotations

from bouncer.core.rules.provider_model import Provider, rules

# fmt: off
MESSAGELABS = Provider("messagelabs", (), ("messagelabs.com",), rules((
    ("authfailure", ("domain authentication fail",)),
    ("badreputation", ("connection rejected by policy",)),
    ("blocked", (
        "mail rejected because your ip is in the pbl", "your ip address has been ",
    )),
    ("contenterror", ("stray linefeeds in message",)),
    ("failedstarttls", ("tls/sslv3 connection required",)),
    ("norelaying", (" as a relay, ",)),
    ("notcompliantrfc", (
        "550 requested action aborted [4]", "has detected that this message is not rfc 5322",
    )),
    ("rejected", (
        "sender envelope domain not allowed for sender ip address", "your domain has been blocked",
        "your email address has been blocked", "your envelope sender is in my badmailfrom list",
        "your email address has been blacklisted", "your domain has been blacklisted",
    )),
    ("securityerror", ("please turn on smtp authentication in your mail client",)),
    ("spamdetected", ("message filtered", "filtered by outbound scanning")),
    ("toomanyconn", ("too many recipients received this hour", "too many messages")),
    ("userunknown", ("no such user", "invalid recipient", "mailbox is not allowed")),
)))

MIMECAST = Provider("mimecast", (), ("mimecast.com",), rules((
    ("authfailure", (
        "spf sender invalid - envelope rejected", "dkim sender invalid - envelope rejected",
        "dmarc sender invalid - envelope rejected",
    )),
    ("badreputation", (
        "internal resources are temporarily unavailable", "local ct ip reputation - (reject)",
    )),
    ("blocked", (
        "sender address blocked", "recipient temporarily unavailable", "ip temporarily blacklisted",
    )),
    ("expired", ("journal messages past the expiration",)),
    ("failedstarttls", (
        "this route requires encryption (tls)", "this route requires tls version 1.2 or greater",
        "this route requires high-strength ciphers",
        "configuration is invalid for this certificate",
    )),
    ("mesgtoobig", ("maximum email size exceeded",)),
    ("networkerror", ("the incorrect hostname used for inbounds", "mail loop detected")),
    ("norelaying", ("open relay not allowed", "open relay is not allowed")),
    ("notaccept", ("account inbounds disabled",)),
    ("onhold", (
        "account outbounds disabled", "hostname is not authorized",
        "journal message past expiration",
    )),
    ("policyviolation", (
        "anti-spoofing policy - inbound not allowed",
        "rejected by header-based anti-spoofing policy",
        "message bounced due to content examination policy", "host network not allowed",
        "host network, not allowed",
    )),
    ("rejected", (
        "administrative prohibition envelope blocked", "envelope blocked - user entry",
        "envelope blocked - user domain entry", "rejected by header-based manually blocked senders",
        "rejected by header-based blocked senders",
        "envelope rejected - block policy for envelope from",
    )),
    ("securityerror", (
        "incorrect authentication data", "submitter failed to disabled",
        "submitter failed to authenticate",
    )),
    ("systemerror", (
        "unable to process connection at this time", "message ended early",
        "unable to process command",
        "unable to process an email at this time",
    )),
    ("toomanyconn", ("account service is temporarily unavailable", "452 too many recipients",
                     "exceeding outbound thread limit")),
    ("userunknown", ("501 invalid address", "503 user unknown", "invalid recipient")),
    ("virusdetected", ("email rejected due to security policies",)),
)))
# fmt: on
