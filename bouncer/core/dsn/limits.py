"""Limits on what the parser reads out of one message, so that hostile input costs time linear
in its size and bounded work per recipient (real reports stay far below them).

MAX_RECIPIENTS: the recipients one report keeps (the first ones). A report comes from one SMTP
transaction, and MTAs take at most a few thousand recipients per message (Exchange's highest
default, 5,000; Postfix 1,000); a report naming more is made up, and every recipient costs a
verdict.

MAX_DIAGNOSTIC: the characters of one recipient's diagnostic that are kept (real ones are a
reply of a few lines; a Diagnostic-Code folded over megabytes would be classified in full).

MAX_FIELD: the characters of one delivery-status field that are read (a Diagnostic-Code of a
few lines takes a few hundred).

MAX_ERROR_TEXT: the characters of one recipient's error text read from a bounce's text (see
bouncer.core.dsn.errortext).
"""

MAX_RECIPIENTS = 5000
MAX_DIAGNOSTIC = 16384
MAX_FIELD = 65536
MAX_ERROR_TEXT = 4096
