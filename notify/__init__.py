"""The notifier: reminders and escalations, claimed in a ledger, sent through Apprise."""
