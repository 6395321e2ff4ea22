"""Expansion waves: named sets of departments that run the playbook's wave journey after the pilot."""
