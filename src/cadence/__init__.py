"""Cadence: a campaign's outreach settings (steps, window, retry policy, execution mode) and the pure rules
that read them (when a window is open, which time zone applies, what a result leads to). No ORM here."""
