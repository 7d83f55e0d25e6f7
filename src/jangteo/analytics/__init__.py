"""Aggregates and reports: the sales dashboard (and, later, community and live analytics)."""
