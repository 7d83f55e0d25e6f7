"""Trust and safety: the audit log staff read (and, later, reports, moderation, filters)."""
