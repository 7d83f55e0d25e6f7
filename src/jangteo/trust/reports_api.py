"""HTTP API of reports: members report content and people; staff work through the queue."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from jangteo.community import service as community
from jangteo.core.deps import CurrentMember, PlatformDep, StaffMember, client_ip
from jangteo.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from jangteo.core.ratelimit import Limit
from jangteo.trust import reports

router = APIRouter(prefix="/api/v1", tags=["reports"])

TargetType = Literal["post", "comment", "member", "chat_message", "review"]
Reason = Literal["spam", "abuse", "phishing", "fake_review", "privacy", "other"]
ReportStatus = Literal["open", "dismissed", "actioned"]
REPORT_LIMIT = Limit("report", reports.REPORTS_PER_HOUR, 3600)


class ReportCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target_type: TargetType
    target_id: uuid.UUID
    reason: Reason
    detail: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] = Field(
        default="", description="required when the reason is `other`"
    )


class ReportResolve(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["dismiss", "remove_content"]
    note: Annotated[
        str | None, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
    ] = Field(default=None, description="shown in place of removed content when given")


class ReportOut(BaseModel):
    id: uuid.UUID
    target_type: str
    target_id: uuid.UUID
    reason: str
    detail: str
    status: str
    created_at: datetime


class ReportTargetOut(BaseModel):
    reports: int
    open_reports: int
    exists: bool
    preview: str | None = Field(description="the start of the content, or a member's nickname")
    status: str | None
    author_id: uuid.UUID | None
    post_id: uuid.UUID | None


class AdminReportOut(ReportOut):
    reporter_id: uuid.UUID
    handled_by: uuid.UUID | None
    handled_at: datetime | None
    resolution: str | None
    target: ReportTargetOut


def _report_out(report: reports.Report) -> ReportOut:
    return ReportOut.model_validate(report, from_attributes=True)


def _admin_out(view: reports.ReportView) -> AdminReportOut:
    r = view.report
    return AdminReportOut(
        id=r.id,
        target_type=r.target_type,
        target_id=r.target_id,
        reason=r.reason,
        detail=r.detail,
        status=r.status,
        created_at=r.created_at,
        reporter_id=r.reporter_id,
        handled_by=r.handled_by,
        handled_at=r.handled_at,
        resolution=r.resolution,
        target=ReportTargetOut(**vars(view.target)),
    )


@router.post(
    "/reports",
    response_model=ReportOut,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "the member had reported this already: that report"}},
)
async def file_report(
    platform: PlatformDep, member: CurrentMember, body: ReportCreate, response: Response
) -> ReportOut:
    """Report a post, comment, member, chat message or review to the staff."""
    await platform.limiter.hit(REPORT_LIMIT, str(member.member_id))
    async with platform.db.write() as session:
        report, created = await reports.file_report(
            session,
            platform.clock,
            community.Viewer.of(member),
            target_type=body.target_type,
            target_id=body.target_id,
            reason=body.reason,
            detail=body.detail,
        )
        out = _report_out(report)
    if not created:
        response.status_code = status.HTTP_200_OK
    return out


@router.get("/admin/reports")
async def list_reports(
    principal: StaffMember,
    platform: PlatformDep,
    status: ReportStatus | None = None,
    target_type: TargetType | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Page[AdminReportOut]:
    """The report queue, newest first, with how often each target was reported."""
    async with platform.db.read() as session:
        views, next_cursor = await reports.list_reports(
            session,
            community.Viewer.of(principal),
            status=status,
            target_type=target_type,
            limit=limit,
            cursor=cursor,
        )
    return Page(items=[_admin_out(v) for v in views], next_cursor=next_cursor)


@router.post("/admin/reports/{report_id}/resolve", response_model=AdminReportOut)
async def resolve_report(
    principal: StaffMember,
    platform: PlatformDep,
    request: Request,
    report_id: uuid.UUID,
    body: ReportResolve,
) -> AdminReportOut:
    """Dismiss the reports of a target, or take the content down (its reason then shows in
    its place); every open report of the target closes with the decision."""
    async with platform.db.write() as session:
        view = await reports.resolve_report(
            session,
            platform.clock,
            community.Viewer.of(principal),
            report_id,
            action=body.action,
            note=body.note,
            ip=client_ip(request),
        )
        return _admin_out(view)
