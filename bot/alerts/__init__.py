"""Alerts in Telegram: the outbox sender, the JobQueue jobs and the message format."""
