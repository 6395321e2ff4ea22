"""Logins for the pages: users, sign-in with throttling, sessions and CSRF tokens."""
