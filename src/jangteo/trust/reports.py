"""Reports: members flag posts, comments, members, chat messages and reviews; staff work through
the queue and either dismiss a report or take the content down.

A member reports one thing once (a second report answers the first). Staff decide per thing:
the decision closes every open report of it together, so the queue never shows a settled case
again, and taking content down goes through the community's own removal, which shows the
reason in place of the content and writes the audit entry of the removal.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from jangteo.accounts import service as accounts
from jangteo.community import service as community
from jangteo.core.audit import record_audit
from jangteo.core.clock import Clock
from jangteo.core.errors import Forbidden, InvalidInput, NotFound, define
from jangteo.core.pagination import id_after, id_cursor
from jangteo.trust.models import Report

ReportAlreadyHandled = define(
    "report-already-handled", 409, "This report has already been handled."
)
ContentNotRemovable = define(
    "content-not-removable",
    422,
    "Only posts, comments and reviews can be taken down from a report.",
)

TARGET_TYPES = ("post", "comment", "member", "chat_message", "review")
REASONS = ("spam", "abuse", "phishing", "fake_review", "privacy", "other")
ACTIONS = ("dismiss", "remove_content")
# the reason shown in place of removed content when staff write no note of their own
REMOVAL_REASONS = {
    "spam": "스팸·광고",
    "abuse": "욕설·비하",
    "phishing": "사기·피싱",
    "fake_review": "허위 리뷰",
    "privacy": "개인정보 노출",
    "other": "운영 정책 위반",
}
REPORTS_PER_HOUR = 20


@dataclass(frozen=True)
class ReportTarget:
    """The reported thing as the queue shows it, with how often it was reported."""

    reports: int
    open_reports: int
    exists: bool
    preview: str | None
    status: str | None
    author_id: uuid.UUID | None
    post_id: uuid.UUID | None


@dataclass(frozen=True)
class ReportView:
    report: Report
    target: ReportTarget


async def _check_target(
    session: AsyncSession, viewer: community.Viewer, target_type: str, target_id: uuid.UUID
) -> None:
    """The target exists, and the reporter can see it (one cannot report what one cannot read)."""
    if target_type == "member":
        if target_id == viewer.member_id:
            raise InvalidInput("You cannot report yourself.")
        if target_id not in await accounts.member_briefs(session, [target_id]):
            raise NotFound("The member does not exist.")
        return
    content = await community.reported_content(session, target_type, target_id)
    if content is None or content.status == "deleted":
        raise NotFound("The reported content does not exist.")
    if content.post_id is not None:
        await community.readable_post(session, content.post_id, viewer)


async def file_report(
    session: AsyncSession,
    clock: Clock,
    viewer: community.Viewer,
    *,
    target_type: str,
    target_id: uuid.UUID,
    reason: str,
    detail: str = "",
) -> tuple[Report, bool]:
    """A member's report and whether it is new: reporting the same thing again answers the
    report made before, unchanged."""
    assert viewer.member_id is not None
    if target_type not in TARGET_TYPES or reason not in REASONS:
        raise InvalidInput("Unknown target type or reason.")
    if reason == "other" and not detail.strip():
        raise InvalidInput("Say what is wrong when the reason is 'other'.")
    existing = await _existing(session, viewer.member_id, target_type, target_id)
    if existing is not None:
        return existing, False
    await _check_target(session, viewer, target_type, target_id)
    report = Report(
        reporter_id=viewer.member_id,
        target_type=target_type,
        target_id=target_id,
        reason=reason,
        detail=detail.strip(),
        created_at=clock.now(),
    )
    try:
        async with session.begin_nested():
            session.add(report)
            await session.flush()
    except IntegrityError:
        # the same member's report arrived at the same moment: answer that one
        existing = await _existing(session, viewer.member_id, target_type, target_id)
        assert existing is not None
        return existing, False
    return report, True


async def _existing(
    session: AsyncSession, reporter_id: uuid.UUID, target_type: str, target_id: uuid.UUID
) -> Report | None:
    return await session.scalar(
        select(Report).where(
            Report.reporter_id == reporter_id,
            Report.target_type == target_type,
            Report.target_id == target_id,
        )
    )


async def list_reports(
    session: AsyncSession,
    viewer: community.Viewer,
    *,
    status: str | None = None,
    target_type: str | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> tuple[list[ReportView], str | None]:
    """The report queue for staff, newest first, each with its target's report counts and a
    short preview of the target as it stands now."""
    if not viewer.staff:
        raise Forbidden()
    query = select(Report)
    if status is not None:
        query = query.where(Report.status == status)
    if target_type is not None:
        query = query.where(Report.target_type == target_type)
    after = id_after(cursor)
    if after is not None:
        query = query.where(Report.id < after)
    rows = list((await session.scalars(query.order_by(Report.id.desc()).limit(limit + 1))).all())
    next_cursor = id_cursor(rows[limit - 1].id) if len(rows) > limit else None
    rows = rows[:limit]
    targets = await _targets(session, {(r.target_type, r.target_id) for r in rows})
    return [ReportView(r, targets[r.target_type, r.target_id]) for r in rows], next_cursor


async def _targets(
    session: AsyncSession, keys: set[tuple[str, uuid.UUID]]
) -> dict[tuple[str, uuid.UUID], ReportTarget]:
    if not keys:
        return {}
    counts: dict[tuple[str, uuid.UUID], tuple[int, int]] = {}
    is_open = func.sum(case((Report.status == "open", 1), else_=0))
    for target_type, target_id, total, open_ in await session.execute(
        select(Report.target_type, Report.target_id, func.count(), is_open)
        .where(Report.target_id.in_({target_id for _, target_id in keys}))
        .group_by(Report.target_type, Report.target_id)
    ):
        counts[target_type, target_id] = (total, int(open_ or 0))
    members = await accounts.member_briefs(session, [i for kind, i in keys if kind == "member"])
    targets = {}
    for key in keys:
        target_type, target_id = key
        total, open_ = counts.get(key, (0, 0))
        if target_type == "member":
            brief = members.get(target_id)
            targets[key] = ReportTarget(
                total,
                open_,
                exists=brief is not None,
                preview=brief.nickname if brief else None,
                status=brief.status if brief else None,
                author_id=target_id if brief else None,
                post_id=None,
            )
            continue
        content = await community.reported_content(session, target_type, target_id)
        targets[key] = ReportTarget(
            total,
            open_,
            exists=content is not None,
            preview=content.preview if content else None,
            status=content.status if content else None,
            author_id=content.author_id if content else None,
            post_id=content.post_id if content else None,
        )
    return targets


async def resolve_report(
    session: AsyncSession,
    clock: Clock,
    viewer: community.Viewer,
    report_id: uuid.UUID,
    *,
    action: str,
    note: str | None = None,
    ip: str | None = None,
) -> ReportView:
    """Staff decide on a reported thing: dismiss, or take the content down with a reason that
    then shows in its place. Every open report of the thing closes with the same decision."""
    if not viewer.staff:
        raise Forbidden()
    if action not in ACTIONS:
        raise InvalidInput("Unknown action.")
    report = await session.get(Report, report_id)
    if report is None:
        raise NotFound("The report does not exist.")
    if report.status != "open":
        raise ReportAlreadyHandled()
    if action == "remove_content":
        reason = note or REMOVAL_REASONS[report.reason]
        viewer_as_staff = community.Viewer(member_id=viewer.member_id, staff=True)
        if report.target_type in ("post", "review"):
            await community.remove_post(
                session, clock, report.target_id, viewer_as_staff, reason=reason, ip=ip
            )
        elif report.target_type == "comment":
            await community.delete_comment(
                session, clock, report.target_id, viewer_as_staff, reason=reason, ip=ip
            )
        else:
            raise ContentNotRemovable()
    now = clock.now()
    status = "actioned" if action == "remove_content" else "dismissed"
    # only reports still open change: of two staff deciding at once, the second finds none
    closed = await session.execute(
        update(Report)
        .where(
            Report.target_type == report.target_type,
            Report.target_id == report.target_id,
            Report.status == "open",
        )
        .values(status=status, handled_by=viewer.member_id, handled_at=now, resolution=note)
        .execution_options(synchronize_session=False)
    )
    count: int = closed.rowcount  # type: ignore[attr-defined]
    if not count:
        raise ReportAlreadyHandled()
    record_audit(
        session,
        clock,
        actor_id=viewer.member_id,
        action=f"trust.report.{action}",
        target_type=report.target_type,
        target_id=report.target_id,
        after={"report_id": str(report.id), "reports": count, "note": note},
        ip=ip,
    )
    await session.refresh(report)
    targets = await _targets(session, {(report.target_type, report.target_id)})
    return ReportView(report, targets[report.target_type, report.target_id])
