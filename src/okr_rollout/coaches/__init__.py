"""The coaching firm's coaches: a directory of people of no client organization, assigned to engagements."""
