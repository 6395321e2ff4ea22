"""A playbook's journey as a Mermaid ``stateDiagram-v2``."""

from __future__ import annotations

from okr_rollout.playbooks.schema import Playbook


def mermaid(playbook: Playbook, *, current: str | None = None, locale: str = "en") -> str:
    lines = ["stateDiagram-v2"]
    for phase in playbook.phases:
        lines.append(f'    state "{_quote(phase.title.get(locale))}" as {phase.id}')
    lines.append(f"    [*] --> {playbook.start_phase}")
    for transition in playbook.transitions:
        criteria = ", ".join(criterion.id for criterion in transition.gate)
        label = transition.trigger + (f" [{criteria}]" if criteria else "")
        lines.append(f"    {transition.source} --> {transition.dest}: {_quote(label)}")
    for phase in playbook.phases:
        if phase.final:
            lines.append(f"    {phase.id} --> [*]")
    if current is not None:
        lines.append("    classDef current fill:#ffd54f,stroke:#e65100,stroke-width:2px")
        lines.append(f"    class {current} current")
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    # Mermaid labels end at a newline, and ':' or '"' would split or close them.
    return text.replace("\n", " ").replace('"', "'").replace(":", " -")
