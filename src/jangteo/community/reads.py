"""The home feed (latest, following), the community's hottest read: one statement for the page
with its spaces, boards, reaction counts and bookmarks, one for the authors' nicknames, run on
the lean reader (core.reader) and shaped straight into the API's JSON (PostOut).

The same rules as `service.feed`: published posts of readable spaces (members-only spaces for
their active members, never for banned ones; staff read all), without the authors the viewer
blocked; the following feed leaves out anonymous boards.
"""

from __future__ import annotations

import uuid
from typing import Any

from jangteo.accounts import service as accounts
from jangteo.community import service
from jangteo.core.pagination import id_after, id_cursor
from jangteo.core.reader import IN_IDS, JSON_FUNCTIONS, Reader, id_text, json_value


def _page_sql(dialect: str, *, following: bool, after: bool) -> str:
    fn = JSON_FUNCTIONS[dialect]
    member = "$1"
    conditions = [
        "p.status = 'published'",
        "s.status = 'active'",
        # $2: the viewer is staff and reads every space
        "($2 OR s.visibility <> 'members_only' OR EXISTS (SELECT 1 FROM community_space_members"
        f" sm WHERE sm.space_id = s.id AND sm.member_id = {member} AND sm.status = 'active'))",
        "($2 OR NOT EXISTS (SELECT 1 FROM community_space_members sb WHERE sb.space_id = s.id"
        f" AND sb.member_id = {member} AND sb.status = 'banned'))",
        "NOT EXISTS (SELECT 1 FROM community_blocks bl WHERE bl.blocker_id = "
        f"{member} AND bl.blocked_id = p.author_id)",
    ]
    if following:
        conditions += [f"p.author_id {IN_IDS[dialect].format(p='$4')}", "b.anonymous = false"]
    if after:
        conditions.append(f"p.id < {'$5' if following else '$4'}")
    return (
        "SELECT p.id, p.kind, p.title, p.body, p.hashtags, p.status, p.removed_reason, "
        "p.comment_count, p.like_count, p.created_at, p.edited_at, p.author_id, "
        "s.id, s.slug, s.name, b.slug, b.name, b.anonymous, "
        f"(SELECT {fn['agg']}({fn['array']}(r.kind, r.n, r.mine)) FROM (SELECT kind, "
        f"count(*) AS n, sum(CASE WHEN member_id = {member} THEN 1 ELSE 0 END) AS mine "
        "FROM community_reactions WHERE target_type = 'post' AND target_id = p.id "
        "GROUP BY kind) r), "
        "EXISTS (SELECT 1 FROM community_bookmarks k WHERE k.member_id = "
        f"{member} AND k.post_id = p.id) "
        "FROM community_posts p JOIN community_spaces s ON s.id = p.space_id "
        "JOIN community_boards b ON b.id = p.board_id "
        f"WHERE {' AND '.join(conditions)} ORDER BY p.id DESC LIMIT $3"
    )


_PAGE_SQL = {
    (dialect, following, after): _page_sql(dialect, following=following, after=after)
    for dialect in JSON_FUNCTIONS
    for following in (False, True)
    for after in (False, True)
}

_FOLLOWED = (
    "SELECT target_id FROM community_follows WHERE follower_id = $1 AND target_type = 'member'"
)


async def home_page(
    reader: Reader,
    viewer: service.Viewer,
    *,
    following: bool,
    limit: int,
    cursor: str | None,
) -> dict[str, Any]:
    """`{items, next_cursor}` of the latest feed or the following feed, newest first."""
    after = id_after(cursor)
    member = reader.id_param(viewer.member_id) if viewer.member_id else None
    # $1 the viewer, $2 staff, $3 the page size (+1), then the followed ids, then the cursor
    args: list[Any] = [member, viewer.staff, limit + 1]
    if following:
        if member is None:
            return {"items": [], "next_cursor": None}
        followed = await reader.fetch(_FOLLOWED, member)
        if not followed:
            return {"items": [], "next_cursor": None}
        args.append(reader.ids_param([uuid.UUID(id_text(r[0])) for r in followed]))
    if after is not None:
        args.append(reader.id_param(after))
    sql = _PAGE_SQL[reader.dialect, following, after is not None]
    # how many the viewer follows decides the best plan: plan it for these values
    rows = await reader.fetch(sql, *args, plan_for_values=following)
    last = rows[limit - 1][0] if len(rows) > limit else None
    next_cursor = id_cursor(uuid.UUID(id_text(last))) if last is not None else None
    rows = rows[:limit]
    names = await accounts.nickname_map(
        reader, [uuid.UUID(id_text(r[11])) for r in rows if not r[17]]
    )
    items = []
    for row in rows:
        anonymous = bool(row[17])
        author_id = id_text(row[11])
        reactions = {kind: n for kind, n, _ in json_value(row[18]) or []}
        mine = sorted(kind for kind, _, by_me in json_value(row[18]) or [] if by_me)
        items.append(
            {
                "id": id_text(row[0]),
                "kind": row[1],
                "space": {"id": id_text(row[12]), "slug": row[13], "name": row[14]},
                "board": {"slug": row[15], "name": row[16], "anonymous": anonymous},
                "author": {
                    "id": author_id if not anonymous or viewer.staff else None,
                    "name": "글쓴이" if anonymous else names.get(author_id, ""),
                    "anonymous": anonymous,
                },
                "title": row[2],
                "body": row[3],
                "hashtags": json_value(row[4]),
                "status": row[5],
                "removed_reason": row[6],
                "comment_count": row[7],
                "like_count": row[8],
                "reactions": reactions,
                "my_reactions": mine,
                "bookmarked": bool(row[19]),
                "created_at": reader.time_value(row[9]),
                "edited_at": reader.time_value(row[10]) if row[10] is not None else None,
            }
        )
    return {"items": items, "next_cursor": next_cursor}
