"""Fake external services that tests run as real HTTP servers."""
