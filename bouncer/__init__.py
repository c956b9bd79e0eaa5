"""bouncer: a bounce-processing SMTP sink."""

__version__ = "0.1.0"
