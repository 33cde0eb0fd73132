"""Helpers every service of the project shares (database access, Vietnamese text, time)."""
