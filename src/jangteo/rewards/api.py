"""HTTP API of rewards: share links and their redirect, touches, visitor ids, reward rules and a
member's earnings with the orders credited to them."""

from __future__ import annotations

import secrets
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response, status
from fastapi.responses import RedirectResponse

from jangteo.catalog import service as catalog
from jangteo.core import rules as rules_store
from jangteo.core.deps import CurrentMember, OptionalMember, PlatformDep, StaffMember, client_ip
from jangteo.core.errors import InvalidInput, NotFound
from jangteo.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from jangteo.rewards import earnings, schemas, service
from jangteo.rewards.models import ShareLink

router = APIRouter(tags=["rewards"])

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Query(max_length=500)]
# the browser's anonymous id, the same cookie the storefront sets
VISITOR_COOKIE = "jt_vid"
VISITOR_MAX_AGE = 365 * 24 * 3600
_VISITOR_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def valid_visitor(value: str | None) -> str | None:
    if value and 8 <= len(value) <= 40 and set(value) <= _VISITOR_CHARS:
        return value
    return None


def _link_out(platform: Any, link: ShareLink) -> schemas.ShareLinkOut:
    return schemas.ShareLinkOut(
        code=link.code,
        url=f"{platform.settings.base_url.rstrip('/')}/s/{link.code}",
        target_type=link.target_type,
        target_id=link.target_id,
        channel=link.channel,
        visit_count=link.visit_count,
        created_at=link.created_at,
    )


@router.post("/api/v1/share-links", response_model=schemas.ShareLinkOut)
async def create_share_link(
    platform: PlatformDep,
    member: CurrentMember,
    body: schemas.ShareLinkCreate,
    response: Response,
) -> schemas.ShareLinkOut:
    """Your short link (`/s/{code}`) to a product, a public post or a profile, per channel. Asking
    again answers the same link (200); a new one is 201. Sales through it within the reward
    window are credited to you."""
    async with platform.db.write() as session:
        link, created = await service.share_link(
            session,
            platform.clock,
            member.member_id,
            target_type=body.target_type,
            target_id=body.target_id,
            channel=body.channel,
        )
        out = _link_out(platform, link)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return out


@router.get("/api/v1/me/share-links", response_model=schemas.ShareLinkPage)
async def my_share_links(
    platform: PlatformDep,
    member: CurrentMember,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> schemas.ShareLinkPage:
    async with platform.db.read() as session:
        links, next_cursor = await service.my_share_links(
            session, member.member_id, limit=limit, cursor=cursor
        )
    return schemas.ShareLinkPage(
        items=[_link_out(platform, link) for link in links], next_cursor=next_cursor
    )


@router.get("/s/{code}", status_code=status.HTTP_302_FOUND, response_class=RedirectResponse)
async def follow_share_link(
    platform: PlatformDep,
    principal: OptionalMember,
    request: Request,
    code: str,
    utm_source: Annotated[str | None, Query(max_length=100)] = None,
    utm_medium: Annotated[str | None, Query(max_length=100)] = None,
    utm_campaign: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """Follow a share link: the visit is recorded (channel, referrer, UTM, the member or the
    browser's visitor id, set as a cookie when missing) and the answer redirects to the target."""
    link = await platform.adapters["share_links"].get(platform.db, code[:16])
    if link is None:
        raise NotFound("There is no such share link.")
    visitor = valid_visitor(request.cookies.get(VISITOR_COOKIE))
    new_visitor = visitor is None
    if visitor is None:
        visitor = secrets.token_urlsafe(15)  # 20 characters
    await platform.intake.add(
        service.VISITS,
        {
            "link": str(link.id),
            "at": platform.clock.now().isoformat(),
            "visitor": visitor,
            "member": str(principal.member_id) if principal else "",
            "referrer": (request.headers.get("referer") or "")[:500],
            "utm_source": utm_source or "",
            "utm_medium": utm_medium or "",
            "utm_campaign": utm_campaign or "",
        },
    )
    answer = RedirectResponse(link.path, status_code=status.HTTP_302_FOUND)
    if new_visitor:
        answer.set_cookie(
            VISITOR_COOKIE,
            visitor,
            max_age=VISITOR_MAX_AGE,
            path="/",
            secure=request.url.scheme == "https",
            httponly=True,
            samesite="lax",
        )
    return answer


@router.post("/api/v1/posts/{post_id}/touch", response_model=schemas.TouchOut)
async def touch_post(
    platform: PlatformDep,
    principal: OptionalMember,
    post_id: uuid.UUID,
    visitor_id: Annotated[str | None, Header(alias="X-Visitor-Id", max_length=40)] = None,
) -> schemas.TouchOut:
    """The viewer has seen a post: its tagged products are touched, credited to its author if
    the viewer buys one within the reward window. Members are known by their token, visitors by
    `X-Visitor-Id` (the `jt_vid` cookie's value)."""
    visitor = valid_visitor(visitor_id)
    if principal is None and visitor is None:
        raise InvalidInput("Sign in, or send the browser's X-Visitor-Id.")
    async with platform.db.write() as session:
        touches = await service.touch_post(
            session,
            platform.clock,
            post_id,
            member_id=principal.member_id if principal else None,
            visitor_id=visitor,
        )
    return schemas.TouchOut(touches=touches)


@router.put("/api/v1/me/visitors/{visitor_id}", status_code=status.HTTP_204_NO_CONTENT)
async def link_visitor(
    platform: PlatformDep, member: CurrentMember, visitor_id: schemas.VisitorId
) -> Response:
    """This browser (its visitor id) is yours: what it touched before you signed in counts for
    your orders."""
    async with platform.db.write() as session:
        await service.link_visitor(session, platform.clock, member.member_id, visitor_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ---- earnings ---------------------------------------------------------------------------------


@router.get("/api/v1/me/earnings", response_model=schemas.EarningsOut)
async def my_earnings(platform: PlatformDep, member: CurrentMember) -> schemas.EarningsOut:
    async with platform.db.read() as session:
        money = await earnings.balance(session, member.member_id)
        daily = await earnings.daily_earned(session, platform.clock, member.member_id)
    return schemas.EarningsOut(
        pending=money.pending,
        available=money.available,
        settling=money.settling,
        paid_out=money.paid_out,
        owed=money.owed,
        daily=[schemas.DayAmount(day=d, amount=a) for d, a in daily],
    )


@router.get("/api/v1/me/earnings/attributions", response_model=schemas.AttributionPage)
async def my_attributions(
    platform: PlatformDep,
    member: CurrentMember,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> schemas.AttributionPage:
    """The orders credited to you, newest first (the buyer is not named)."""
    async with platform.db.read() as session:
        rows, next_cursor = await service.attributions_of(
            session, member.member_id, limit=limit, cursor=cursor
        )
        cards = await catalog.product_cards(session, [r.product_id for r in rows])
    return schemas.AttributionPage(
        items=[
            schemas.AttributionOut(
                id=r.id,
                order_number=r.order_number,
                product_id=r.product_id,
                product_name=cards[r.product_id].name if r.product_id in cards else None,
                source_type=r.source_type,
                source_id=r.source_id,
                line_total=r.line_total,
                rate_bp=r.rate_bp,
                amount=r.amount,
                status=r.status,  # type: ignore[arg-type]
                touched_at=r.touched_at,
                placed_at=r.placed_at,
                available_at=r.available_at,
            )
            for r in rows
        ],
        next_cursor=next_cursor,
    )


# ---- rules ------------------------------------------------------------------------------------


def _rules_out(rules: service.RewardRules) -> schemas.RewardRulesOut:
    return schemas.RewardRulesOut(
        window_minutes=rules.window_minutes,
        default_rate_bp=rules.default_rate_bp,
        cap_per_order=rules.cap_per_order,
        return_window_days=rules.return_window_days,
    )


@router.get("/api/v1/rewards/rules", response_model=schemas.RewardRulesOut)
async def get_rules(platform: PlatformDep) -> schemas.RewardRulesOut:
    """How sales through members' content are rewarded (public)."""
    async with platform.db.read() as session:
        return _rules_out(await service.reward_rules(session, platform.settings))


@router.patch("/api/v1/admin/rewards/rules", response_model=schemas.RewardRulesOut)
async def change_rules(
    platform: PlatformDep, staff: StaffMember, body: schemas.RewardRulesChange, request: Request
) -> schemas.RewardRulesOut:
    changes = rules_store.requested(body)
    async with platform.db.write() as session:
        rules = await service.change_reward_rules(
            session,
            platform.clock,
            platform.settings,
            changes,
            actor_id=staff.member_id,
            ip=client_ip(request),
        )
    return _rules_out(rules)


@router.get("/api/v1/admin/rewards/category-rates", response_model=list[schemas.CategoryRateOut])
async def list_category_rates(
    platform: PlatformDep, _staff: StaffMember
) -> list[schemas.CategoryRateOut]:
    async with platform.db.read() as session:
        rates = await service.category_rates(session)
    return [schemas.CategoryRateOut(category_id=c, rate_bp=r) for c, r in rates.items()]


@router.put(
    "/api/v1/admin/rewards/category-rates/{category_id}", response_model=schemas.CategoryRateOut
)
async def set_category_rate(
    platform: PlatformDep,
    staff: StaffMember,
    category_id: uuid.UUID,
    body: schemas.CategoryRateIn,
    request: Request,
) -> schemas.CategoryRateOut:
    async with platform.db.write() as session:
        await service.set_category_rate(
            session,
            platform.clock,
            category_id,
            body.rate_bp,
            actor_id=staff.member_id,
            ip=client_ip(request),
        )
    return schemas.CategoryRateOut(category_id=category_id, rate_bp=body.rate_bp)


@router.delete(
    "/api/v1/admin/rewards/category-rates/{category_id}", status_code=status.HTTP_204_NO_CONTENT
)
async def clear_category_rate(
    platform: PlatformDep, staff: StaffMember, category_id: uuid.UUID, request: Request
) -> Response:
    async with platform.db.write() as session:
        await service.set_category_rate(
            session,
            platform.clock,
            category_id,
            None,
            actor_id=staff.member_id,
            ip=client_ip(request),
        )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
