"""Webhooks to the CRM: subscriptions, the delivery of the event outbox, and every attempt."""
