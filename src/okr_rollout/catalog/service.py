"""Which playbooks exist (files) and which exact text each engagement is pinned to (snapshots)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlalchemy import Engine, inspect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from okr_rollout.catalog import queries
from okr_rollout.db import make_session_factory, session_scope
from okr_rollout.models import Engagement, PlaybookSnapshot
from okr_rollout.playbooks import LoadedPlaybook, PlaybookRegistry, UnknownPlaybook, load_text
from okr_rollout.settings import Settings

# How many pinned engagement ids a start-up refusal lists before it only counts them.
_IDS_SHOWN = 20


@dataclass(frozen=True, slots=True)
class ChangedPin:
    """A playbook file whose text differs from the text engagements are pinned to under the same version."""

    source: str
    playbook_id: str
    version: int
    file_sha256: str
    pinned_sha256: str
    engagement_ids: tuple[int, ...]
    engagement_count: int


class PinnedPlaybookChanged(RuntimeError):
    """Start-up refusal: editing a version that engagements run on would change them silently."""

    def __init__(self, changes: list[ChangedPin]) -> None:
        self.changes = changes
        super().__init__("\n".join(_refusal(change) for change in changes))


def _refusal(change: ChangedPin) -> str:
    shown = ", ".join(str(i) for i in change.engagement_ids)
    if change.engagement_count > len(change.engagement_ids):
        shown += f", … ({change.engagement_count} in all)"
    bumped = change.version + 1
    return (
        f"{change.source}: playbook {change.playbook_id} version {change.version} has changed since engagements "
        f"were pinned to it (file sha256 {change.file_sha256[:12]}, pinned sha256 {change.pinned_sha256[:12]}). "
        f"Engagements pinned to {change.playbook_id}@{change.version}: {shown}. "
        f"Fix: restore the file's original text, or bump its version (version: {bumped}) and move the engagements "
        f"with `okr-rollout engagements migrate --playbook {change.playbook_id} --from {change.version} "
        f"--to {bumped}`.\n"
        f"{change.source}:手冊 {change.playbook_id} 第 {change.version} 版在專案釘選之後已被修改。"
        f"釘選此版本的專案:{shown}。修正方式:還原檔案原本的內容,或將版本號提升(version: {bumped}),"
        f"再以 `okr-rollout engagements migrate` 將專案遷移到新版本。"
    )


class Catalog:
    def __init__(self, registry: PlaybookRegistry) -> None:
        self.registry = registry
        self._by_sha: dict[str, LoadedPlaybook] = {p.sha256: p for p in registry.all()}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> Catalog:
        """The playbooks of ``playbooks_dir`` and, when set, ``playbooks_extra_dir``."""
        return cls(PlaybookRegistry.from_directories([settings.playbooks_dir, settings.playbooks_extra_dir]))

    def current(self, playbook_id: str, version: int | None = None) -> LoadedPlaybook:
        return self.registry.get(playbook_id, version)

    def pin(self, session: Session, playbook: LoadedPlaybook) -> None:
        """Keep the playbook's text so an engagement runs it even after the file changes."""
        if session.get(PlaybookSnapshot, playbook.sha256) is not None:
            return
        try:
            with session.begin_nested():  # another request may pin the same text at the same moment
                session.add(PlaybookSnapshot(sha256=playbook.sha256, playbook_id=playbook.id,
                                             version=playbook.version, content=playbook.text))
        except IntegrityError:
            pass  # pinned by the other request: the same text under the same hash

    def pinned(self, session: Session, sha256: str) -> LoadedPlaybook:
        with self._lock:
            known = self._by_sha.get(sha256)
        if known is not None:
            return known
        snapshot = session.get(PlaybookSnapshot, sha256)
        if snapshot is None:
            raise LookupError(f"no playbook snapshot {sha256}")
        loaded = load_text(snapshot.content, f"snapshot:{snapshot.playbook_id}@{snapshot.version}",
                           text_rules=False)
        with self._lock:
            self._by_sha[sha256] = loaded
        return loaded

    def version(self, session: Session, playbook_id: str, version: int) -> LoadedPlaybook:
        """A version from its file, or else from the snapshot engagements are pinned to (its file is gone).

        Raises :class:`UnknownPlaybook` when neither exists.
        """
        found = self.registry.find(playbook_id, version)
        if found is not None:
            return found
        # Of several texts once pinned under one version (possible only before the start-up check existed),
        # the one engagements run on now wins, then the latest.
        sha = session.scalar(queries.snapshot_sha256(playbook_id, version))
        if sha is None:
            raise UnknownPlaybook(playbook_id, version)
        return self.pinned(session, sha)

    def changed_pins(self, session: Session) -> list[ChangedPin]:
        """Every (id, version) whose file text differs from the text an engagement is pinned to."""
        pins = session.execute(queries.pins()).all()
        changes: list[ChangedPin] = []
        for playbook_id, version, sha256, count in pins:
            file = self.registry.find(playbook_id, version)
            if file is None or file.sha256 == sha256:
                continue  # a deleted file breaks nothing: the snapshot runs the engagement
            ids = tuple(session.scalars(queries.pinned_engagement_ids(playbook_id, version, sha256, _IDS_SHOWN)))
            changes.append(ChangedPin(file.source, playbook_id, version, file.sha256, sha256, ids, count))
        return changes

    def verify_pins(self, session: Session) -> None:
        """Raise :class:`PinnedPlaybookChanged` naming the file, the pinned engagements and the fix."""
        changes = self.changed_pins(session)
        if changes:
            raise PinnedPlaybookChanged(changes)


def check_pins(engine: Engine, catalog: Catalog) -> None:
    """The start-up check: refuse to run when a pinned playbook version's file was edited in place.

    A database whose schema is not created yet pins nothing, so there is nothing to check.
    """
    if not inspect(engine).has_table(Engagement.__tablename__):
        return
    with session_scope(make_session_factory(engine), write=False) as session:
        catalog.verify_pins(session)
