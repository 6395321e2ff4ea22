"""Every statement of the quarterly cycle: quarters, OKRs, key results, check-ins. Services run them; routers
and pages never build one."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Select, func, select

from okr_rollout.models import CheckIn, Department, KeyResult, Okr, Person, Quarter

# A voided record stays in its table, shown as voided; every statement a rule or a read model counts on leaves it
# out. Only the lists that show records as they were recorded (``okrs_page``, ``check_ins_page``,
# ``cycle_records_of``) include voided ones.

# --- quarters ----------------------------------------------------------------------------------------------------


def quarters_of(engagement_id: int) -> Select[Quarter]:
    """An engagement's quarters in calendar order."""
    return (select(Quarter).where(Quarter.engagement_id == engagement_id, Quarter.voided_at.is_(None))
            .order_by(Quarter.starts_on, Quarter.id))


def quarters_with_voided(engagement_id: int) -> Select[Quarter]:
    """An engagement's quarters in calendar order, voided ones too (the API's list shows them as voided)."""
    return select(Quarter).where(Quarter.engagement_id == engagement_id).order_by(Quarter.starts_on, Quarter.id)


def quarter_after(quarter: Quarter) -> Select[Quarter]:
    """The quarter of the same engagement that starts next after ``quarter``."""
    return (select(Quarter).where(Quarter.engagement_id == quarter.engagement_id,
                                  Quarter.starts_on > quarter.starts_on, Quarter.voided_at.is_(None))
            .order_by(Quarter.starts_on, Quarter.id).limit(1))


# --- OKRs --------------------------------------------------------------------------------------------------------


def okrs_page(engagement_id: int, *, quarter_id: int | None, after: int, limit: int) -> Select[Okr]:
    """One page of an engagement's OKRs (of one quarter when given), with one row more than ``limit``."""
    statement = select(Okr).where(Okr.engagement_id == engagement_id, Okr.id > after)
    if quarter_id is not None:
        statement = statement.where(Okr.quarter_id == quarter_id)
    return statement.order_by(Okr.id).limit(limit + 1)


def okrs_of_quarter(quarter_id: int) -> Select[Okr]:
    return select(Okr).where(Okr.quarter_id == quarter_id, Okr.voided_at.is_(None)).order_by(Okr.id)


def okrs_decided(quarter_id: int, decision: str) -> Select[Okr]:
    return (select(Okr).where(Okr.quarter_id == quarter_id, Okr.decision == decision, Okr.voided_at.is_(None))
            .order_by(Okr.id))


def scores_of_quarter(quarter_id: int) -> Select[float | None]:
    return select(Okr.score).where(Okr.quarter_id == quarter_id, Okr.voided_at.is_(None))


def decisions_of_quarter(quarter_id: int) -> Select[str | None]:
    return select(Okr.decision).where(Okr.quarter_id == quarter_id, Okr.voided_at.is_(None))


def unscored_okr_ids(quarter_id: int) -> Select[int]:
    return (select(Okr.id).where(Okr.quarter_id == quarter_id, Okr.score.is_(None), Okr.voided_at.is_(None))
            .order_by(Okr.id))


def continuation_of(okr_id: int) -> Select[Okr]:
    """The OKR that carries ``okr_id`` into a later quarter (at most one)."""
    return select(Okr).where(Okr.carried_from_id == okr_id)


def continuation_id(okr_id: int) -> Select[int]:
    return select(Okr.id).where(Okr.carried_from_id == okr_id)


def continuations_of(okr_ids: Collection[int]) -> Select[int, int | None]:
    """(continuation id, id it was carried from) for every OKR carried from one of ``okr_ids``."""
    return select(Okr.id, Okr.carried_from_id).where(Okr.carried_from_id.in_(list(okr_ids)))


# --- key results and check-ins -----------------------------------------------------------------------------------


def key_results_of(okr_ids: Collection[int]) -> Select[KeyResult]:
    return (select(KeyResult).where(KeyResult.okr_id.in_(list(okr_ids)), KeyResult.voided_at.is_(None))
            .order_by(KeyResult.id))


def check_ins_of(key_result_ids: Collection[int]) -> Select[CheckIn]:
    """Check-ins of the key results by the week they report on, so the last of each is its latest value."""
    return (select(CheckIn).where(CheckIn.key_result_id.in_(list(key_result_ids)), CheckIn.voided_at.is_(None))
            .order_by(CheckIn.week_of, CheckIn.id))


def check_ins_with_voided(key_result_ids: Collection[int]) -> Select[CheckIn]:
    """As ``check_ins_of``, voided check-ins too (the API's list shows them as voided)."""
    return (select(CheckIn).where(CheckIn.key_result_id.in_(list(key_result_ids)))
            .order_by(CheckIn.week_of, CheckIn.id))


# --- names for the review ----------------------------------------------------------------------------------------


def department_names(department_ids: Collection[int]) -> Select[int, str]:
    return select(Department.id, Department.name).where(Department.id.in_(list(department_ids)))


def person_names(person_ids: Collection[int]) -> Select[int, str]:
    return select(Person.id, Person.name).where(Person.id.in_(list(person_ids)))


# --- reads for the pages


def okrs_of_engagement(engagement_id: int) -> Select[Okr]:
    return select(Okr).where(Okr.engagement_id == engagement_id, Okr.voided_at.is_(None)).order_by(Okr.id)



def key_results_of_engagement(engagement_id: int) -> Select[KeyResult]:
    return (select(KeyResult).where(KeyResult.engagement_id == engagement_id, KeyResult.voided_at.is_(None))
            .order_by(KeyResult.id))


def cycle_records_of(engagement_id: int) -> tuple[Select[Quarter], Select[Okr], Select[KeyResult]]:
    """The engagement's quarters, OKRs and key results, voided ones too: the records page lists them to correct."""
    return (quarters_with_voided(engagement_id),
            select(Okr).where(Okr.engagement_id == engagement_id).order_by(Okr.id),
            select(KeyResult).where(KeyResult.engagement_id == engagement_id).order_by(KeyResult.id))


def check_ins_page(engagement_id: int, offset: int, limit: int) -> Select[CheckIn, str, str]:
    """A page of the engagement's check-ins, newest week first, each with its key result's metric and objective."""
    return (select(CheckIn, KeyResult.metric, Okr.objective)
            .join(KeyResult, KeyResult.id == CheckIn.key_result_id)
            .join(Okr, Okr.id == KeyResult.okr_id)
            .where(CheckIn.engagement_id == engagement_id)
            .order_by(CheckIn.week_of.desc(), CheckIn.id.desc()).offset(offset).limit(limit))


def check_ins_count(engagement_id: int) -> Select[int]:
    return select(func.count()).select_from(CheckIn).where(CheckIn.engagement_id == engagement_id)
