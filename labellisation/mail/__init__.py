"""Reminder e-mails: French templates, SMTP sending, and the dev SMTP sink."""
