"""Accounts: members, authentication, sessions, MFA, roles, addresses and the points wallet."""
