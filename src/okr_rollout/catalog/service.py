"""Which playbooks exist (files) and which exact text each engagement is pinned to (snapshots)."""

from __future__ import annotations

import threading

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from okr_rollout.models import PlaybookSnapshot
from okr_rollout.playbooks import LoadedPlaybook, PlaybookRegistry, load_text


class Catalog:
    def __init__(self, registry: PlaybookRegistry) -> None:
        self.registry = registry
        self._by_sha: dict[str, LoadedPlaybook] = {p.sha256: p for p in registry.all()}
        self._lock = threading.Lock()

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
        loaded = load_text(snapshot.content, f"snapshot:{snapshot.playbook_id}@{snapshot.version}")
        with self._lock:
            self._by_sha[sha256] = loaded
        return loaded
