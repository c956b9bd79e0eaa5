"""The long-running service: SMTP intake, the processor thread, the scheduler, webhook
delivery, health and systemd notification, wired together by `service.serve`."""
