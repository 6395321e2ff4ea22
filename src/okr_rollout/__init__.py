"""okr-rollout: a workflow engine for OKR rollout coaching."""
