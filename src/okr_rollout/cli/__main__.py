"""``python -m okr_rollout.cli``: the ``okr-rollout`` command."""

from okr_rollout.cli import main

main()
