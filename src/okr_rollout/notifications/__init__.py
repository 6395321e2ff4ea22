"""Reminders on the playbook's cadences, fanned out to the in-app inbox and to e-mail."""
