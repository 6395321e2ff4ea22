"""What coaches record around the OKR cycle: meetings, CEO support, training, drafting groups, appointments."""
