"""HTTP API of the community: spaces, boards, posts, comments, reactions, bookmarks, follows,
blocks, hashtags and feeds."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response, status

from jangteo.community import reads, schemas, service, snaps
from jangteo.core.deps import CreatorMember, CurrentMember, OptionalMember, PlatformDep, client_ip
from jangteo.core.errors import InvalidInput
from jangteo.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from jangteo.core.security import Principal
from jangteo.core.web import json_response
from jangteo.orders import service as orders

router = APIRouter(prefix="/api/v1", tags=["community"])

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Query(max_length=500)]


def _viewer(principal: Principal | None) -> service.Viewer:
    return service.Viewer.of(principal)


# ---- shaping ----------------------------------------------------------------------------------


def _space_out(view: service.SpaceView, viewer: service.Viewer) -> schemas.SpaceOut:
    space = view.space
    moderator = viewer.staff or view.my_role in ("owner", "moderator")
    return schemas.SpaceOut(
        id=space.id,
        slug=space.slug,
        name=space.name,
        description=space.description,
        visibility=space.visibility,
        join_policy=space.join_policy,
        verification=space.verification,
        member_count=space.member_count,
        my_role=view.my_role,
        my_status=view.my_status,
        can_read=view.can_read,
        can_write=view.can_write,
        invite_code=space.invite_code if moderator else None,
        created_at=space.created_at,
    )


def _author(author: service.Author) -> schemas.AuthorOut:
    return schemas.AuthorOut(id=author.member_id, name=author.name, anonymous=author.anonymous)


def _post_out(view: service.PostView) -> schemas.PostOut:
    post = view.post
    removed = post.status == "removed"
    return schemas.PostOut(
        id=post.id,
        kind=post.kind,
        space=schemas.SpaceRef(id=view.space.id, slug=view.space.slug, name=view.space.name),
        board=schemas.BoardRef(
            slug=view.board.slug, name=view.board.name, anonymous=view.board.anonymous
        ),
        author=_author(view.author),
        title="" if removed else post.title,
        body="" if removed else post.body,
        hashtags=[] if removed else post.hashtags,
        status=post.status,
        removed_reason=post.removed_reason,
        comment_count=post.comment_count,
        like_count=post.like_count,
        reactions=view.reactions,
        my_reactions=view.my_reactions,
        bookmarked=view.bookmarked,
        created_at=post.created_at,
        edited_at=post.edited_at,
    )


def _comment_out(view: service.CommentView) -> schemas.CommentOut:
    c = view.comment
    return schemas.CommentOut(
        id=c.id,
        post_id=c.post_id,
        parent_id=c.parent_id,
        author=_author(view.author),
        body="" if c.status == "removed" else c.body,
        status=c.status,
        removed_reason=c.removed_reason,
        like_count=c.like_count,
        official=c.official,
        my_reactions=view.my_reactions,
        created_at=c.created_at,
        edited_at=c.edited_at,
    )


def _page(page: service.FeedPage) -> schemas.PostPage:
    return schemas.PostPage(items=[_post_out(v) for v in page.items], next_cursor=page.next_cursor)


# ---- spaces -----------------------------------------------------------------------------------


@router.post("/spaces", response_model=schemas.SpaceOut, status_code=status.HTTP_201_CREATED)
async def create_space(
    platform: PlatformDep, creator: CreatorMember, body: schemas.SpaceCreate, request: Request
) -> schemas.SpaceOut:
    async with platform.db.write() as session:
        space = await service.create_space(
            session,
            platform.clock,
            owner_id=creator.member_id,
            **body.model_dump(),
            ip=client_ip(request),
        )
        viewer = _viewer(creator)
        view = await service.view_space(session, str(space.id), viewer)
    return _space_out(view, viewer)


@router.get("/spaces", response_model=schemas.SpacePage)
async def list_spaces(
    platform: PlatformDep,
    principal: OptionalMember,
    mine: bool = False,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> schemas.SpacePage:
    viewer = _viewer(principal)
    async with platform.db.read() as session:
        views, next_cursor = await service.list_spaces(
            session, viewer, mine=mine, limit=limit, cursor=cursor
        )
    return schemas.SpacePage(items=[_space_out(v, viewer) for v in views], next_cursor=next_cursor)


@router.get("/spaces/{ref}", response_model=schemas.SpaceOut)
async def get_space(platform: PlatformDep, principal: OptionalMember, ref: str) -> schemas.SpaceOut:
    viewer = _viewer(principal)
    async with platform.db.read() as session:
        return _space_out(await service.view_space(session, ref, viewer), viewer)


@router.patch("/spaces/{ref}", response_model=schemas.SpaceOut)
async def update_space(
    platform: PlatformDep,
    member: CurrentMember,
    ref: str,
    body: schemas.SpaceUpdate,
    request: Request,
) -> schemas.SpaceOut:
    viewer = _viewer(member)
    async with platform.db.write() as session:
        space = await service.update_space(
            session,
            platform.clock,
            ref,
            viewer,
            body.model_dump(exclude_unset=True),
            ip=client_ip(request),
        )
        return _space_out(await service.view_space(session, str(space.id), viewer), viewer)


@router.post("/spaces/{ref}/join", response_model=schemas.SpaceOut)
async def join_space(
    platform: PlatformDep, member: CurrentMember, ref: str, body: schemas.JoinRequest
) -> schemas.SpaceOut:
    viewer = _viewer(member)
    async with platform.db.write() as session:
        delivered = await orders.has_delivered_order(session, member.member_id)
        await service.join_space(
            session,
            platform.clock,
            ref,
            viewer,
            invite_code=body.invite_code,
            has_delivered_order=delivered,
        )
        return _space_out(await service.view_space(session, ref, viewer), viewer)


@router.post("/spaces/{ref}/leave", status_code=status.HTTP_204_NO_CONTENT)
async def leave_space(platform: PlatformDep, member: CurrentMember, ref: str) -> Response:
    async with platform.db.write() as session:
        await service.leave_space(session, platform.clock, ref, _viewer(member))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/spaces/{ref}/members", response_model=schemas.MembershipPage)
async def list_space_members(
    platform: PlatformDep,
    principal: OptionalMember,
    ref: str,
    status_: Annotated[Literal["active", "pending", "banned"], Query(alias="status")] = "active",
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> schemas.MembershipPage:
    async with platform.db.read() as session:
        rows, next_cursor = await service.list_space_members(
            session, ref, _viewer(principal), status=status_, limit=limit, cursor=cursor
        )
    return schemas.MembershipPage(
        items=[
            schemas.MembershipOut(
                member_id=m.member_id,
                nickname=nickname,
                role=m.role,
                status=m.status,
                muted_until=m.muted_until,
            )
            for m, nickname in rows
        ],
        next_cursor=next_cursor,
    )


@router.post("/spaces/{ref}/members/{member_id}/moderation", response_model=schemas.MembershipOut)
async def moderate_member(
    platform: PlatformDep,
    member: CurrentMember,
    ref: str,
    member_id: uuid.UUID,
    body: schemas.Moderation,
    request: Request,
) -> schemas.MembershipOut:
    async with platform.db.write() as session:
        target = await service.moderate_member(
            session,
            platform.clock,
            ref,
            _viewer(member),
            member_id,
            action=body.action,
            reason=body.reason,
            minutes=body.minutes,
            role=body.role,
            ip=client_ip(request),
        )
    return schemas.MembershipOut(
        member_id=target.member_id,
        role=target.role,
        status=target.status,
        muted_until=target.muted_until,
    )


# ---- boards -----------------------------------------------------------------------------------


def _board_out(board: Any) -> schemas.BoardOut:
    return schemas.BoardOut.model_validate(board, from_attributes=True)


@router.get("/spaces/{ref}/boards", response_model=schemas.BoardList)
async def list_boards(
    platform: PlatformDep, principal: OptionalMember, ref: str
) -> schemas.BoardList:
    async with platform.db.read() as session:
        boards = await service.list_boards(session, ref, _viewer(principal))
    return schemas.BoardList(items=[_board_out(b) for b in boards])


@router.post(
    "/spaces/{ref}/boards", response_model=schemas.BoardOut, status_code=status.HTTP_201_CREATED
)
async def create_board(
    platform: PlatformDep, member: CurrentMember, ref: str, body: schemas.BoardCreate
) -> schemas.BoardOut:
    async with platform.db.write() as session:
        board = await service.create_board(
            session, platform.clock, ref, _viewer(member), **body.model_dump()
        )
        return _board_out(board)


@router.patch("/spaces/{ref}/boards/{board}", response_model=schemas.BoardOut)
async def update_board(
    platform: PlatformDep, member: CurrentMember, ref: str, board: str, body: schemas.BoardUpdate
) -> schemas.BoardOut:
    async with platform.db.write() as session:
        changed = await service.update_board(
            session, ref, board, _viewer(member), body.model_dump(exclude_unset=True)
        )
        return _board_out(changed)


# ---- posts ------------------------------------------------------------------------------------


@router.get("/spaces/{ref}/posts", response_model=schemas.PostPage)
async def space_feed(
    platform: PlatformDep,
    principal: OptionalMember,
    ref: str,
    board: Annotated[str | None, Query(max_length=80)] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> schemas.PostPage:
    async with platform.db.read() as session:
        page = await service.feed(
            session, _viewer(principal), space=ref, board=board, limit=limit, cursor=cursor
        )
    return _page(page)


@router.post(
    "/spaces/{ref}/boards/{board}/posts",
    response_model=schemas.PostDetailOut,
    status_code=status.HTTP_201_CREATED,
)
async def create_post(
    platform: PlatformDep, member: CurrentMember, ref: str, board: str, body: schemas.PostCreate
) -> schemas.PostDetailOut:
    """A text post, with up to the allowed number of photos uploaded first."""
    viewer = _viewer(member)
    images = snaps.read_image_tokens(platform.signer, platform.clock, member.member_id, body.images)
    if len(images) > platform.settings.community_max_post_images:
        raise InvalidInput(
            "A post has more photos than allowed.",
            max_images=platform.settings.community_max_post_images,
        )
    async with platform.db.write() as session:
        post = await service.create_post(
            session,
            platform.clock,
            ref,
            board,
            viewer,
            title=body.title,
            body=body.body,
            rules=await service.activity_rules(session, platform.settings),
        )
        attached = await snaps.attach_images(session, platform.clock, post.id, images)
        out = _post_out(await service.get_post(session, post.id, viewer))
        return schemas.PostDetailOut(**out.model_dump(), images=[image_out(i) for i in attached])


@router.get("/posts/{post_id}", response_model=schemas.PostDetailOut)
async def get_post(
    platform: PlatformDep, principal: OptionalMember, post_id: uuid.UUID
) -> schemas.PostDetailOut:
    async with platform.db.read() as session:
        out = _post_out(await service.get_post(session, post_id, _viewer(principal)))
        found = await snaps.post_images(session, [post_id]) if out.status == "published" else {}
    return schemas.PostDetailOut(
        **out.model_dump(), images=[image_out(i) for i in found.get(post_id, [])]
    )


def image_out(image: Any) -> schemas.ImageOut:
    return schemas.ImageOut(
        id=image.id,
        url=image.url,
        thumbnail_url=image.thumbnail_url,
        width=image.width,
        height=image.height,
    )


@router.patch("/posts/{post_id}", response_model=schemas.PostOut)
async def edit_post(
    platform: PlatformDep, member: CurrentMember, post_id: uuid.UUID, body: schemas.PostUpdate
) -> schemas.PostOut:
    viewer = _viewer(member)
    async with platform.db.write() as session:
        await service.edit_post(
            session, platform.clock, post_id, viewer, title=body.title, body=body.body
        )
        return _post_out(await service.get_post(session, post_id, viewer))


@router.delete("/posts/{post_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_post(platform: PlatformDep, member: CurrentMember, post_id: uuid.UUID) -> Response:
    async with platform.db.write() as session:
        await service.delete_post(session, platform.clock, post_id, _viewer(member))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/posts/{post_id}/remove", response_model=schemas.PostOut)
async def remove_post(
    platform: PlatformDep,
    member: CurrentMember,
    post_id: uuid.UUID,
    body: schemas.RemoveRequest,
    request: Request,
) -> schemas.PostOut:
    viewer = _viewer(member)
    async with platform.db.write() as session:
        await service.remove_post(
            session, platform.clock, post_id, viewer, reason=body.reason, ip=client_ip(request)
        )
        return _post_out(await service.get_post(session, post_id, viewer))


@router.post("/posts/{post_id}/reveal", response_model=schemas.RevealOut)
async def reveal_author(
    platform: PlatformDep,
    member: CurrentMember,
    post_id: uuid.UUID,
    body: schemas.RevealRequest,
    request: Request,
) -> schemas.RevealOut:
    """Staff only: the real author of an anonymous post or comment (audit-logged)."""
    async with platform.db.write() as session:
        author_id = await service.real_author(
            session,
            platform.clock,
            post_id,
            _viewer(member),
            comment_id=body.comment_id,
            reason=body.reason,
            ip=client_ip(request),
        )
    return schemas.RevealOut(author_id=author_id)


# ---- comments ---------------------------------------------------------------------------------


@router.get("/posts/{post_id}/comments", response_model=schemas.CommentPage)
async def list_comments(
    platform: PlatformDep,
    principal: OptionalMember,
    post_id: uuid.UUID,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> schemas.CommentPage:
    async with platform.db.read() as session:
        views, next_cursor = await service.list_comments(
            session, post_id, _viewer(principal), limit=limit, cursor=cursor
        )
    return schemas.CommentPage(items=[_comment_out(v) for v in views], next_cursor=next_cursor)


@router.post(
    "/posts/{post_id}/comments",
    response_model=schemas.CommentOut,
    status_code=status.HTTP_201_CREATED,
)
async def add_comment(
    platform: PlatformDep, member: CurrentMember, post_id: uuid.UUID, body: schemas.CommentCreate
) -> schemas.CommentOut:
    viewer = _viewer(member)
    async with platform.db.write() as session:
        comment = await service.add_comment(
            session,
            platform.clock,
            post_id,
            viewer,
            body=body.body,
            parent_id=body.parent_id,
            rules=await service.activity_rules(session, platform.settings),
        )
        return _comment_out(await service.get_comment(session, comment.id, viewer))


@router.patch("/comments/{comment_id}", response_model=schemas.CommentOut)
async def edit_comment(
    platform: PlatformDep,
    member: CurrentMember,
    comment_id: uuid.UUID,
    body: schemas.CommentUpdate,
) -> schemas.CommentOut:
    viewer = _viewer(member)
    async with platform.db.write() as session:
        comment = await service.edit_comment(
            session, platform.clock, comment_id, viewer, body=body.body
        )
        return _comment_out(await service.get_comment(session, comment.id, viewer))


@router.delete("/comments/{comment_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_comment(
    platform: PlatformDep, member: CurrentMember, comment_id: uuid.UUID
) -> Response:
    async with platform.db.write() as session:
        await service.delete_comment(session, platform.clock, comment_id, _viewer(member))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/comments/{comment_id}/remove", status_code=status.HTTP_204_NO_CONTENT)
async def remove_comment(
    platform: PlatformDep,
    member: CurrentMember,
    comment_id: uuid.UUID,
    body: schemas.RemoveRequest,
    request: Request,
) -> Response:
    """A moderator removes a comment for a policy violation; the reason is shown in its place."""
    async with platform.db.write() as session:
        await service.delete_comment(
            session,
            platform.clock,
            comment_id,
            _viewer(member),
            reason=body.reason,
            ip=client_ip(request),
        )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ---- reactions and bookmarks ------------------------------------------------------------------


async def _react(
    platform: Any, member: Principal, target: str, target_id: uuid.UUID, kind: str, on: bool
) -> schemas.ReactionChange:
    async with platform.db.write() as session:
        changed = await service.react(
            session, platform.clock, target, target_id, _viewer(member), kind, on=on
        )
    return schemas.ReactionChange(changed=changed)


@router.put("/posts/{post_id}/reactions/{kind}", response_model=schemas.ReactionChange)
async def react_to_post(
    platform: PlatformDep, member: CurrentMember, post_id: uuid.UUID, kind: schemas.ReactionKind
) -> schemas.ReactionChange:
    return await _react(platform, member, "post", post_id, kind, True)


@router.delete("/posts/{post_id}/reactions/{kind}", response_model=schemas.ReactionChange)
async def unreact_to_post(
    platform: PlatformDep, member: CurrentMember, post_id: uuid.UUID, kind: schemas.ReactionKind
) -> schemas.ReactionChange:
    return await _react(platform, member, "post", post_id, kind, False)


@router.put("/comments/{comment_id}/reactions/{kind}", response_model=schemas.ReactionChange)
async def react_to_comment(
    platform: PlatformDep, member: CurrentMember, comment_id: uuid.UUID, kind: schemas.ReactionKind
) -> schemas.ReactionChange:
    return await _react(platform, member, "comment", comment_id, kind, True)


@router.delete("/comments/{comment_id}/reactions/{kind}", response_model=schemas.ReactionChange)
async def unreact_to_comment(
    platform: PlatformDep, member: CurrentMember, comment_id: uuid.UUID, kind: schemas.ReactionKind
) -> schemas.ReactionChange:
    return await _react(platform, member, "comment", comment_id, kind, False)


@router.put("/posts/{post_id}/bookmark", status_code=status.HTTP_204_NO_CONTENT)
async def bookmark(platform: PlatformDep, member: CurrentMember, post_id: uuid.UUID) -> Response:
    async with platform.db.write() as session:
        await service.set_bookmark(session, platform.clock, post_id, _viewer(member), on=True)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/posts/{post_id}/bookmark", status_code=status.HTTP_204_NO_CONTENT)
async def unbookmark(platform: PlatformDep, member: CurrentMember, post_id: uuid.UUID) -> Response:
    async with platform.db.write() as session:
        await service.set_bookmark(session, platform.clock, post_id, _viewer(member), on=False)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me/bookmarks", response_model=schemas.PostPage)
async def my_bookmarks(
    platform: PlatformDep,
    member: CurrentMember,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> schemas.PostPage:
    async with platform.db.read() as session:
        return _page(
            await service.feed(session, _viewer(member), bookmarks=True, limit=limit, cursor=cursor)
        )


# ---- people: profiles, follows, blocks --------------------------------------------------------


@router.get("/members/{member_id}/profile", response_model=schemas.ProfileOut)
async def member_profile(
    platform: PlatformDep, principal: OptionalMember, member_id: uuid.UUID
) -> schemas.ProfileOut:
    async with platform.db.read() as session:
        view = await service.profile(session, _viewer(principal), member_id)
    return schemas.ProfileOut(
        id=view.member_id,
        nickname=view.nickname,
        followers=view.followers,
        following=view.following,
        i_follow=view.i_follow,
        i_block=view.i_block,
    )


@router.get("/members/{member_id}/posts", response_model=schemas.PostPage)
async def member_posts(
    platform: PlatformDep,
    principal: OptionalMember,
    member_id: uuid.UUID,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> schemas.PostPage:
    async with platform.db.read() as session:
        return _page(
            await service.feed(
                session, _viewer(principal), author_id=member_id, limit=limit, cursor=cursor
            )
        )


@router.get("/members/{member_id}/{direction}", response_model=schemas.MemberRefPage)
async def follow_list(
    platform: PlatformDep,
    member_id: uuid.UUID,
    direction: Literal["followers", "following"],
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> schemas.MemberRefPage:
    async with platform.db.read() as session:
        rows, next_cursor = await service.follow_list(
            session, member_id, direction=direction, limit=limit, cursor=cursor
        )
    return schemas.MemberRefPage(
        items=[schemas.MemberRef(id=m, nickname=n) for m, n in rows], next_cursor=next_cursor
    )


async def _follow(
    platform: Any, member: Principal, target_type: str, target_id: uuid.UUID, on: bool
) -> Response:
    async with platform.db.write() as session:
        await service.follow(
            session, platform.clock, _viewer(member), target_type, target_id, on=on
        )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/members/{member_id}/follow", status_code=status.HTTP_204_NO_CONTENT)
async def follow_member(
    platform: PlatformDep, member: CurrentMember, member_id: uuid.UUID
) -> Response:
    return await _follow(platform, member, "member", member_id, True)


@router.delete("/members/{member_id}/follow", status_code=status.HTTP_204_NO_CONTENT)
async def unfollow_member(
    platform: PlatformDep, member: CurrentMember, member_id: uuid.UUID
) -> Response:
    return await _follow(platform, member, "member", member_id, False)


@router.put("/brands/{brand_id}/follow", status_code=status.HTTP_204_NO_CONTENT)
async def follow_brand(
    platform: PlatformDep, member: CurrentMember, brand_id: uuid.UUID
) -> Response:
    return await _follow(platform, member, "brand", brand_id, True)


@router.delete("/brands/{brand_id}/follow", status_code=status.HTTP_204_NO_CONTENT)
async def unfollow_brand(
    platform: PlatformDep, member: CurrentMember, brand_id: uuid.UUID
) -> Response:
    return await _follow(platform, member, "brand", brand_id, False)


@router.get("/brands/{brand_id}/followers", response_model=schemas.BrandFollowers)
async def brand_followers(
    platform: PlatformDep, principal: OptionalMember, brand_id: uuid.UUID
) -> schemas.BrandFollowers:
    """How many members follow the brand, and whether you do."""
    async with platform.db.read() as session:
        count, following = await service.brand_follow_state(session, brand_id, _viewer(principal))
    return schemas.BrandFollowers(brand_id=brand_id, follower_count=count, following=following)


@router.get("/me/following/brands", response_model=schemas.BrandRefPage)
async def my_brands(
    platform: PlatformDep,
    member: CurrentMember,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> schemas.BrandRefPage:
    async with platform.db.read() as session:
        brands, next_cursor = await service.followed_brands(
            session, member.member_id, limit=limit, cursor=cursor
        )
    return schemas.BrandRefPage(
        items=[schemas.BrandRef(id=i, slug=s, name=n) for i, s, n in brands],
        next_cursor=next_cursor,
    )


async def _block(platform: Any, member: Principal, member_id: uuid.UUID, on: bool) -> Response:
    async with platform.db.write() as session:
        await service.block(session, platform.clock, _viewer(member), member_id, on=on)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/members/{member_id}/block", status_code=status.HTTP_204_NO_CONTENT)
async def block_member(
    platform: PlatformDep, member: CurrentMember, member_id: uuid.UUID
) -> Response:
    return await _block(platform, member, member_id, True)


@router.delete("/members/{member_id}/block", status_code=status.HTTP_204_NO_CONTENT)
async def unblock_member(
    platform: PlatformDep, member: CurrentMember, member_id: uuid.UUID
) -> Response:
    return await _block(platform, member, member_id, False)


@router.get("/me/blocks", response_model=schemas.MemberRefPage)
async def my_blocks(platform: PlatformDep, member: CurrentMember) -> schemas.MemberRefPage:
    async with platform.db.read() as session:
        rows = await service.blocked_members(session, _viewer(member))
    return schemas.MemberRefPage(
        items=[schemas.MemberRef(id=m, nickname=n) for m, n in rows], next_cursor=None
    )


# ---- feeds and hashtags -----------------------------------------------------------------------


@router.get("/feed", response_model=schemas.PostPage)
async def home_feed(
    platform: PlatformDep,
    principal: OptionalMember,
    mode: Literal["latest", "following", "trending"] = "latest",
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Any:
    """The posts the viewer may read: newest first (latest), by the members they follow
    (following), or by engagement that fades with age over the last 72 hours (trending)."""
    viewer = _viewer(principal)
    if mode != "trending":
        # the hottest community read: one statement on the lean reader
        return json_response(
            await reads.home_page(
                platform.db.reader,
                viewer,
                following=mode == "following",
                limit=limit,
                cursor=cursor,
            )
        )
    async with platform.db.read() as session:
        page = await service.trending(session, platform.clock, viewer, limit=limit, cursor=cursor)
    return _page(page)


@router.get("/hashtags/trending", response_model=schemas.HashtagList)
async def trending_hashtags(
    platform: PlatformDep, hours: Annotated[int, Query(ge=1, le=24 * 30)] = 24
) -> schemas.HashtagList:
    async with platform.db.read() as session:
        rows = await service.trending_hashtags(session, platform.clock, hours=hours)
    return schemas.HashtagList(items=[schemas.HashtagCount(tag=t, posts=n) for t, n in rows])


@router.get("/hashtags/{tag}/posts", response_model=schemas.PostPage)
async def hashtag_feed(
    platform: PlatformDep,
    principal: OptionalMember,
    tag: Annotated[str, "hashtag, with or without #"],
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> schemas.PostPage:
    async with platform.db.read() as session:
        return _page(
            await service.feed(session, _viewer(principal), hashtag=tag, limit=limit, cursor=cursor)
        )
