"""Subcommands of the `bouncer` CLI, grouped by what they work on."""
