"""A playbook's journey as a Mermaid ``stateDiagram-v2``; its wave journey (if any) as a composite state entered
from the phases that open waves."""

from __future__ import annotations

from collections.abc import Collection

from okr_rollout.playbooks.schema import Phase, Playbook, Transition
from okr_rollout.texts import LocalizedText

WAVE_STATE = "expansion_wave"
OPEN_A_WAVE = LocalizedText("open a wave", "開啟擴展梯次")
_WAVE_PREFIX = "wave__"  # the wave's phases inside the composite, never confused with the main journey's


def mermaid(playbook: Playbook, *, current: str | None = None, locale: str = "en",
            wave_phases: Collection[str] = ()) -> str:
    """``current``: the engagement's phase, highlighted; ``wave_phases``: the phases its waves are in, too."""
    lines = ["stateDiagram-v2"]
    lines += _journey(playbook.phases, playbook.start_phase, playbook.transitions, locale, "", "    ")
    wave = playbook.wave
    if wave is not None:
        lines.append(f'    state "{_quote(wave.title.get(locale))}" as {WAVE_STATE} {{')
        start = wave.initial_phase or wave.phases[0].id
        lines += _journey(wave.phases, start, wave.transitions, locale, _WAVE_PREFIX, "        ")
        lines.append("    }")
        for phase in wave.opens_in:
            lines.append(f"    {phase} --> {WAVE_STATE}: {_quote(OPEN_A_WAVE.get(locale))}")
    highlighted = ([current] if current is not None else []) + [_WAVE_PREFIX + p for p in wave_phases]
    if highlighted:
        lines.append("    classDef current fill:#ffd54f,stroke:#e65100,stroke-width:2px")
        lines.append(f"    class {','.join(dict.fromkeys(highlighted))} current")
    return "\n".join(lines) + "\n"


def _journey(phases: list[Phase], start: str, transitions: list[Transition], locale: str, prefix: str,
             indent: str) -> list[str]:
    lines = [f'{indent}state "{_quote(phase.title.get(locale))}" as {prefix}{phase.id}' for phase in phases]
    lines.append(f"{indent}[*] --> {prefix}{start}")
    for transition in transitions:
        criteria = ", ".join(criterion.id for criterion in transition.gate)
        label = transition.trigger + (f" [{criteria}]" if criteria else "")
        lines.append(f"{indent}{prefix}{transition.source} --> {prefix}{transition.dest}: {_quote(label)}")
    lines += [f"{indent}{prefix}{phase.id} --> [*]" for phase in phases if phase.final]
    return lines


def _quote(text: str) -> str:
    # Mermaid labels end at a newline, and ':' or '"' would split or close them.
    return text.replace("\n", " ").replace('"', "'").replace(":", " -")
