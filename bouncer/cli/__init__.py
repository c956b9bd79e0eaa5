"""The `bouncer` command: one module per group of subcommands."""
