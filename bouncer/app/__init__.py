"""The core applied to the store: processing a message, reprocessing, sweeping timers,
editing suppressions. Called by the daemon and by the CLI alike."""
