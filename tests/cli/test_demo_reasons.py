"""Every gate reason of the demo's journeys names things as people know them: no internal key, no id.

The demo's thirteen clients are walked through their history (each transition evaluated on the facts as of the
moment the engagement entered each phase, and now), and every criterion of every gate of their playbook is
evaluated on each of those states: all gate kinds, passing and failing, on real names. Each reason, and the
refusal a transition's problem would carry, is checked in English and in Traditional Chinese:

- no snake_case word (a playbook key such as ``weekly_team`` or ``vision_5y``), no quoted key, no Python list;
- no id: the facts are evaluated a second time with every id moved by a large offset, and the texts must not
  change (a reason that printed an id would print the moved one).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import fields, is_dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from okr_rollout.catalog.service import Catalog
from okr_rollout.cli.demo.history import timeline
from okr_rollout.cli.demo.portfolio import load_demo
from okr_rollout.db import make_engine, make_session_factory, session_scope
from okr_rollout.engagements.service import refusal
from okr_rollout.facts import load_facts
from okr_rollout.journey import gates
from okr_rollout.journey.facts import EngagementFacts, scoped_to_wave
from okr_rollout.journey.machine import machine_for
from okr_rollout.models import Engagement
from okr_rollout.playbooks import LoadedPlaybook
from okr_rollout.texts import LocalizedText
from tests.conftest import BACKENDS, separate_database

NOW = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
OFFSET = 7_000_000
UnitOfWork = Callable[[], Session]

SNAKE_CASE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
PYTHON_LIST = re.compile(r"\[[^\]]*\]")
NOUN_AND_NUMBER = re.compile(r"\b(?:person|people|department|departments|groups?|okrs?|engagement|organization|"
                             r"key results?|meetings?|sessions?|appointments?|id)\s+#?\d+\b", re.IGNORECASE)


@pytest.fixture(scope="module", params=BACKENDS)
def demo(request: pytest.FixtureRequest, sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory,
         catalog: Catalog) -> Iterator[UnitOfWork]:
    with separate_database(request.param, sqlite_template, tmp_path_factory.mktemp("demo-reasons")) as url:
        engine = make_engine(url)
        factory = make_session_factory(engine)

        def db() -> Session:
            return session_scope(factory)  # type: ignore[return-value]

        with db() as session:
            load_demo(session, catalog, NOW)
        yield db
        engine.dispose()


def _moved(value: Any, name: str = "") -> Any:
    """``value`` with every id in it moved by ``OFFSET`` (fields named ``id``, ``*_id`` and ``*_ids``)."""
    is_id = name == "id" or name.endswith("_id") or name.endswith("_ids")
    if isinstance(value, bool) or value is None:
        return value
    if is_id and isinstance(value, int):
        return value + OFFSET
    if is_id and isinstance(value, frozenset | set | tuple | list):
        return type(value)(v + OFFSET for v in value)
    if is_dataclass(value) and not isinstance(value, type):
        return replace(value, **{f.name: _moved(getattr(value, f.name), f.name) for f in fields(value)
                                 if f.init})
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a named tuple of facts (check-ins)
        return value._replace(**{key: _moved(getattr(value, key), key) for key in value._fields})
    if isinstance(value, tuple):
        return tuple(_moved(item) for item in value)
    return value


def _keys(playbook: LoadedPlaybook) -> set[str]:
    """Every key of the playbook a person should never read: ids of phases, transitions, criteria, parameters,
    and every string its gates' parameters hold (meeting kinds, outcomes, modules, decisions, levels, fields)."""
    spec = playbook.spec
    keys = {p.id for p in spec.phases} | {t.trigger for t in spec.transitions} | set(spec.parameters)
    for criteria in playbook.gates.values():
        for criterion in criteria:
            keys |= {criterion.id, criterion.kind}
            for value in criterion.params.model_dump().values():
                values = value if isinstance(value, list) else [value]
                keys |= {v for v in values if isinstance(v, str)}
    return keys


def _texts_of(facts: EngagementFacts, playbook: LoadedPlaybook) -> list[tuple[str, LocalizedText]]:
    """Every reason of every criterion of the playbook on ``facts``, and the refusal of every transition."""
    machine = machine_for(playbook)
    texts: list[tuple[str, LocalizedText]] = []
    for transition in playbook.spec.transitions:
        at_source = replace(facts, phase=transition.source)
        readiness = machine.evaluate(at_source, transition.trigger)
        texts += [(f"{transition.trigger}/{c.id}", c.reason) for c in readiness.criteria]
        if not readiness.allowed:
            texts.append((f"{transition.trigger} refused", refusal(playbook.spec.phase(transition.source).title,
                                                                   readiness)))
    return texts


def _states(session: Session, catalog: Catalog) -> Iterator[tuple[str, EngagementFacts, LoadedPlaybook]]:
    """Each demo engagement now, and as of each moment it entered a phase of its history."""
    for engagement in session.scalars(select(Engagement).order_by(Engagement.id)):
        playbook = catalog.pinned(session, engagement.playbook_sha256)
        moments = {NOW, *timeline(playbook, engagement.phase, engagement.entered_phase_at).values()}
        for moment in sorted(m for m in moments if m <= NOW):
            facts = load_facts(session.connection(), [engagement.id], moment)[engagement.id]
            yield f"engagement {engagement.id} at {moment:%Y-%m-%d}", facts, playbook
            # The wave journeys too, on the facts scoped to a wave of every department outside the pilot.
            outside = frozenset(d.id for d in facts.departments if not d.is_pilot)
            for variant, journey in playbook.waves.items():
                wave = scoped_to_wave(facts, phase=journey.spec.start_phase, entered_phase_at=facts.entered_phase_at,
                                      department_ids=outside, opened_on=facts.local_date(facts.entered_phase_at))
                yield f"engagement {engagement.id} at {moment:%Y-%m-%d}, wave {variant or 'plain'}", wave, journey


def test_demo_reasons_name_titles_and_names_never_keys_or_ids(demo: UnitOfWork, catalog: Catalog) -> None:
    offenders: list[str] = []
    seen_kinds: set[str] = set()
    checked = 0
    with demo() as session:
        for where, facts, playbook in _states(session, catalog):
            keys = _keys(playbook)
            quoted = re.compile("|".join(rf"['\"「]{re.escape(key)}['\"」]" for key in sorted(keys)))
            plain = _texts_of(facts, playbook)
            moved = _texts_of(_moved(facts), playbook)
            seen_kinds |= {c.kind for criteria in playbook.gates.values() for c in criteria}
            for (label, text), (_, text_moved) in zip(plain, moved, strict=True):
                checked += 1
                for language, said, said_moved in (("en", text.en, text_moved.en),
                                                   ("zh-TW", text.zh_tw, text_moved.zh_tw)):
                    problems = [name for name, pattern in (("a snake_case key", SNAKE_CASE),
                                                           ("a quoted key", quoted),
                                                           ("a Python list", PYTHON_LIST),
                                                           ("an id after a noun", NOUN_AND_NUMBER))
                                if pattern.search(said)]
                    if said != said_moved:
                        problems.append(f"an id (with ids moved it reads {said_moved!r})")
                    offenders += [f"{where}, {label} ({language}) shows {p}: {said!r}" for p in problems]
    assert checked > 1000, checked
    assert seen_kinds == set(gates.CHECKS), set(gates.CHECKS) - seen_kinds
    assert not offenders, "\n".join(offenders[:40])
