"""Every statement of the playbook catalog: snapshots and the pins engagements hold. The catalog runs them."""

from __future__ import annotations

from sqlalchemy import Select, func, select

from okr_rollout.models import Engagement, PlaybookSnapshot


def snapshot_sha256(playbook_id: str, version: int) -> Select[str]:
    """The text pinned under one version: of several (possible only before the start-up check existed), the one
    most engagements run on, then the latest."""
    return (select(PlaybookSnapshot.sha256)
            .outerjoin(Engagement, Engagement.playbook_sha256 == PlaybookSnapshot.sha256)
            .where(PlaybookSnapshot.playbook_id == playbook_id, PlaybookSnapshot.version == version)
            .group_by(PlaybookSnapshot.sha256, PlaybookSnapshot.created_at)
            .order_by(func.count(Engagement.id).desc(), PlaybookSnapshot.created_at.desc())
            .limit(1))


def pins() -> Select[str, int, str, int]:
    """(playbook id, version, sha256, engagements) of every text an engagement is pinned to."""
    return (select(Engagement.playbook_id, Engagement.playbook_version, Engagement.playbook_sha256,
                   func.count(Engagement.id))
            .group_by(Engagement.playbook_id, Engagement.playbook_version, Engagement.playbook_sha256)
            .order_by(Engagement.playbook_id, Engagement.playbook_version, Engagement.playbook_sha256))


def pinned_engagement_ids(playbook_id: str, version: int, sha256: str, limit: int) -> Select[int]:
    """The first ``limit`` engagements pinned to one text of one version."""
    return (select(Engagement.id).where(Engagement.playbook_sha256 == sha256, Engagement.playbook_id == playbook_id,
                                        Engagement.playbook_version == version)
            .order_by(Engagement.id).limit(limit))
