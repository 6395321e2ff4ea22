"""Loading ``EngagementFacts`` (the engine's input) from the database: outside ``journey/``, which stays pure."""

from okr_rollout.facts.queries import QUERIES_PER_LOAD, load_facts

__all__ = ["QUERIES_PER_LOAD", "load_facts"]
