"""How the engagement page draws the journey: a column of phases, the current one marked, jumps and loops as arcs
(layout only; the data comes from the services)."""

from __future__ import annotations

from dataclasses import dataclass

from okr_rollout.playbooks import LoadedPlaybook
from okr_rollout.texts import LocalizedText


@dataclass(frozen=True)
class DiagramNode:
    id: str
    title: LocalizedText
    y: int
    state: str  # done | current | ahead


@dataclass(frozen=True)
class Diagram:
    nodes: list[DiagramNode]
    edges: list[tuple[str, str]]  # (SVG path, kind: next | jump | back)
    width: int
    height: int
    box_width: int = 300
    box_height: int = 34


STEP = 48


def diagram(playbook: LoadedPlaybook, current: str) -> Diagram:
    """The journey as a column of phases, the current one marked; jumps and loops drawn as arcs on the side."""
    phases = playbook.spec.phases
    index = {p.id: i for i, p in enumerate(phases)}
    here = index.get(current, -1)
    nodes = [DiagramNode(p.id, p.title, 8 + i * STEP, "current" if i == here else ("done" if i < here else "ahead"))
             for i, p in enumerate(phases)]
    edges: list[tuple[str, str]] = []
    box_width, box_height = 300, 34
    for offset, transition in enumerate(playbook.spec.transitions):
        source, dest = index[transition.source], index[transition.dest]
        top, bottom = 8 + source * STEP, 8 + dest * STEP
        if dest == source + 1:
            edges.append((f"M {10 + box_width // 2} {top + box_height} V {bottom}", "next"))
            continue
        reach = 24 + (offset % 4) * 10  # several arcs side by side stay apart
        x = 10 + box_width
        start, end = top + box_height // 2, bottom + box_height // 2
        edges.append((f"M {x} {start} C {x + reach} {start}, {x + reach} {end}, {x + 4} {end}",
                       "back" if dest < source else "jump"))
    return Diagram(nodes, edges, width=10 + box_width + 70, height=16 + len(phases) * STEP)
