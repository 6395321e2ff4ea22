"""Migrate every engagement pinned to one playbook version: one transaction per engagement.

Each engagement is moved entirely or not at all; one that cannot be moved (its phase has no mapping, a
database error...) is reported with the reason and the others go on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from okr_rollout.catalog.service import Catalog
from okr_rollout.db import make_session_factory, session_scope
from okr_rollout.errors import ProblemError
from okr_rollout.texts import LocalizedText
from okr_rollout.versions import queries
from okr_rollout.versions.service import apply, prepare


@dataclass(frozen=True, slots=True)
class Outcome:
    engagement_id: int
    from_phase: str
    to_phase: str | None = None
    tasks_added: int = 0
    tasks_obsolete: int = 0
    gates_now_open: int = 0
    gates_now_closed: int = 0
    error: LocalizedText | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class BulkResult:
    dry_run: bool
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def moved(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.ok]

    def phases(self) -> Counter[tuple[str, str]]:
        """(from phase, to phase) -> engagements moved (or that would move, in a dry run)."""
        return Counter((o.from_phase, o.to_phase or "") for o in self.moved)


def pinned_engagements(session: Session, playbook_id: str, version: int) -> list[int]:
    return list(session.scalars(queries.pinned_engagement_ids(playbook_id, version)))


def migrate_all(
    engine: Engine, catalog: Catalog, playbook_id: str, from_version: int, to_version: int,
    phase_map: Mapping[str, str], *, dry_run: bool, actor: str, now: datetime,
    engagement_ids: Sequence[int] | None = None, on_each: Callable[[Outcome], None] | None = None,
) -> BulkResult:
    """Move (or, with ``dry_run``, plan moving) each engagement pinned to ``playbook_id`` ``from_version``."""
    factory = make_session_factory(engine)
    if engagement_ids is None:
        with session_scope(factory, write=False) as session:
            engagement_ids = pinned_engagements(session, playbook_id, from_version)
    result = BulkResult(dry_run)
    with ExitStack() as stack:
        if engine.dialect.name == "sqlite":
            # SQLite checkpoints its write-ahead log whenever the last connection to the file closes, i.e. after
            # every engagement here (connections are not pooled): an idle connection held open spares that.
            stack.enter_context(engine.connect())
        for engagement_id in engagement_ids:
            outcome = migrate_one(factory, catalog, engagement_id, playbook_id, from_version, to_version, phase_map,
                                  dry_run=dry_run, actor=actor, now=now)
            result.outcomes.append(outcome)
            if on_each is not None:
                on_each(outcome)
    return result


def migrate_one(
    factory: sessionmaker[Session], catalog: Catalog, engagement_id: int, playbook_id: str, from_version: int,
    to_version: int, phase_map: Mapping[str, str], *, dry_run: bool, actor: str, now: datetime,
) -> Outcome:
    phase = "?"
    try:
        with session_scope(factory, write=not dry_run) as session:
            engagement = session.scalar(queries.engagement_to_move(engagement_id, for_update=not dry_run))
            if engagement is None:
                return Outcome(engagement_id, phase, error=LocalizedText("the engagement no longer exists",
                                                                         "此專案已不存在"))
            phase = engagement.phase
            if (engagement.playbook_id, engagement.playbook_version) != (playbook_id, from_version):
                # Moved by someone else since the list was read: not ours to move any more.
                running = f"{engagement.playbook_id} {engagement.playbook_version}"
                return Outcome(engagement_id, phase,
                               error=LocalizedText(f"it now runs {running}", f"此專案現在使用 {running}"))
            prepared = prepare(session, catalog, engagement, to_version, phase_map, now)
            if not dry_run:
                apply(session, catalog, prepared, actor, now)
            else:
                session.rollback()
            plan = prepared.plan
            return Outcome(
                engagement_id, plan.from_phase, plan.to_phase, len(plan.tasks_to_add), len(plan.tasks_obsolete),
                sum(1 for g in plan.gates if g.verdict in ("now_passes", "new_passes")),
                sum(1 for g in plan.gates if g.verdict in ("now_fails", "new_fails")),
            )
    except ProblemError as problem:
        if "suggested_phase_map" in problem.extra:  # said in the command line's terms rather than the API's
            return Outcome(engagement_id, phase, error=_unmapped(problem.extra))
        reasons = problem.extra.get("reasons")
        words = (LocalizedText(reasons["en"], reasons["zh-TW"]) if isinstance(reasons, dict)
                 else problem.localized)
        return Outcome(engagement_id, phase, error=words)
    except Exception as error:
        # Whatever broke, this engagement's transaction is rolled back and the batch goes on: it is reported.
        text = f"{type(error).__name__}: {error}"
        return Outcome(engagement_id, phase, error=LocalizedText(text, text))


def _unmapped(extra: Mapping[str, Any]) -> LocalizedText:
    phase, version, suggested = extra["phase"], extra["to_version"], extra["suggested_phase_map"]
    option = f"--phase-map {phase}={suggested[phase]}" if phase in suggested else f"--phase-map {phase}=PHASE"
    return LocalizedText(f"phase {phase} does not exist in version {version}; say where it goes: {option}",
                         f"第 {version} 版沒有階段 {phase};請指定它要移至哪個階段:{option}")
