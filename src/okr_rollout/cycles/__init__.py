"""The quarterly OKR cycle: quarters, OKRs, key results, check-ins, scores, decisions, carry-over, reviews."""
