"""Writing and editing reviews of delivered order lines (with photos and the edit history), a
review's own page, and community search. Every read and write goes through /api/v1."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from markupsafe import Markup
from starlette.datastructures import UploadFile
from starlette.responses import Response

from jangteo.web.client import ApiProblem
from jangteo.web.forms import FormErrors
from jangteo.web.i18n import N_
from jangteo.web.page import CheckedWeb, Web, WebDep, cursor
from jangteo.web.storefront.common import cart_count, highlighted, is_uuid
from jangteo.web.storefront.community_content import shown_on_form, upload_photos
from jangteo.web.storefront.rewards import touch_later

router = APIRouter()

RATINGS = (5, 4, 3, 2, 1)
# the API takes this many order lines (and answers this many reviews) per call
LINES_PER_CALL = 100
REVISIONS_PER_PAGE = 50
SEARCH_PAGE_SIZE = 20
MAX_QUERY_CHARS = 100
SNIPPET_CHARS = 160
KIND_LABELS = {
    "text": N_("Post"),
    "snap": N_("Snap"),
    "review": N_("Review"),
    "question": N_("Question"),
    "poll": N_("Poll"),
}
KIND_PATHS = {
    "snap": "/community/snaps/",
    "review": "/community/reviews/",
    "question": "/community/questions/",
    "poll": "/community/polls/",
}
ACCEPTED_IMAGES = "image/jpeg,image/png,image/webp,image/gif"


def _not_found(web: Web) -> Response:
    return web.render("errors/404.html", status_code=404)


def _shown_on_form(problem: ApiProblem) -> bool:
    return shown_on_form(problem, 404)


# ---- which lines of an order are reviewed (the order page's links) ----------------------------


async def reviewed_lines(web: Web, order: dict[str, Any]) -> dict[str, str] | None:
    """Line id → the id of the member's review of it, for a delivered order; None for an order
    whose lines cannot be reviewed (yet)."""
    if order["status"] != "delivered":
        return None
    line_ids = [str(line["id"]) for line in order["lines"]]
    chunks = [
        line_ids[start : start + LINES_PER_CALL]
        for start in range(0, len(line_ids), LINES_PER_CALL)
    ]
    pages = await asyncio.gather(
        *[
            web.api.get("/api/v1/me/reviews", order_line_id=chunk, limit=LINES_PER_CALL)
            for chunk in chunks
        ]
    )
    return {
        str(item["review"]["order_line_id"]): str(item["post"]["id"])
        for page in pages
        for item in page["items"]
    }


async def _my_line(
    web: Web, order_id: str, line_id: str
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The member's order and its line; None when either is not theirs or does not exist (the
    API answers another member's order as one that does not exist)."""
    if not (is_uuid(order_id) and is_uuid(line_id)):
        return None
    try:
        order = await web.api.get(f"/api/v1/orders/{order_id}")
    except ApiProblem as problem:
        if problem.status == 404:
            return None
        raise
    line = next((li for li in order["lines"] if str(li["id"]) == line_id), None)
    return (order, line) if line is not None else None


# ---- the write form --------------------------------------------------------------------------


def _max_photos(web: Web) -> int:
    return int(web.settings.community_max_post_images)


def _rating(value: str) -> int | None:
    return int(value) if value in {str(r) for r in RATINGS} else None


async def _carried_photos(web: Web) -> list[dict[str, str]]:
    """Photos uploaded by an earlier attempt of this form, carried in its hidden fields."""
    form = await web.form()
    tokens = [t for t in form.getlist("image_token") if isinstance(t, str) and t.strip()]
    urls = [u for u in form.getlist("image_url") if isinstance(u, str)]
    photos = []
    for token, url in zip(tokens[: _max_photos(web)], urls, strict=False):
        # only paths of this site are shown back as photos
        shown = url if url.startswith("/") and not url.startswith("//") else ""
        photos.append({"token": token.strip(), "url": shown})
    return photos


def _write_form(
    web: Web,
    order: dict[str, Any],
    line: dict[str, Any],
    values: dict[str, Any],
    *,
    errors: FormErrors | None = None,
    status_code: int = 200,
    count: int | None = None,
) -> Response:
    if not is_uuid(values.get("review_key", "")):
        values["review_key"] = web.new_idempotency_key()
    return web.render(
        "community/review_new.html",
        status_code=status_code,
        order=order,
        line=line,
        values=values,
        ratings=RATINGS,
        max_photos=_max_photos(web),
        accepted_images=ACCEPTED_IMAGES,
        errors=errors or FormErrors(),
        cart_count=count,
    )


@router.get("/my/orders/{order_id}/lines/{line_id}/review", include_in_schema=False)
async def review_form(order_id: str, line_id: str, web: WebDep) -> Response:
    web.require_member()
    found = await _my_line(web, order_id, line_id)
    if found is None:
        return _not_found(web)
    order, line = found
    if order["status"] == "delivered":
        reviewed = await reviewed_lines(web, {"status": order["status"], "lines": [line]})
        if reviewed and line_id in reviewed:
            return web.redirect(f"/community/reviews/{reviewed[line_id]}/edit")
    values: dict[str, Any] = {"rating": None, "body": "", "photos": []}
    return _write_form(web, order, line, values, count=await cart_count(web))


async def _upload_photos(web: Web, photos: list[dict[str, str]], errors: FormErrors) -> None:
    """Send the chosen files to the API's image upload, adding each accepted one to `photos`;
    the first refusal (not an image, too large, too many uploads) goes under the photos field."""
    chosen = (await web.form()).getlist("photos")
    files = [f for f in chosen if isinstance(f, UploadFile) and f.filename]
    if len(photos) + len(files) > _max_photos(web):
        errors.add("photos", web._("Up to %(n)s photos.", n=_max_photos(web)))
        return
    await upload_photos(web, files, photos, errors)


@router.post("/my/orders/{order_id}/lines/{line_id}/review", include_in_schema=False)
async def write_review(order_id: str, line_id: str, web: CheckedWeb) -> Response:
    """Uploads the chosen photos through the API, then writes the review with their tokens;
    photos already uploaded by a refused attempt are carried over, not uploaded again."""
    web.require_member()
    found = await _my_line(web, order_id, line_id)
    if found is None:
        return _not_found(web)
    order, line = found
    values: dict[str, Any] = {
        "rating": _rating(await web.field("rating")),
        "body": await web.field("body"),
        "photos": await _carried_photos(web),
        "review_key": await web.field("review_key"),
    }
    errors = FormErrors()
    await _upload_photos(web, values["photos"], errors)
    if errors:
        return _write_form(web, order, line, values, errors=errors, status_code=422)
    body: dict[str, Any] = {
        "order_line_id": line_id,
        "body": values["body"],
        "images": [p["token"] for p in values["photos"]],
    }
    if values["rating"] is not None:
        body["rating"] = values["rating"]
    try:
        review = await web.api.post(
            "/api/v1/reviews",
            json=body,
            headers={"Idempotency-Key": values["review_key"] or web.new_idempotency_key()},
        )
    except ApiProblem as problem:
        if not _shown_on_form(problem):
            raise
        # a corrected form is a new request, not a retry of the refused one
        values["review_key"] = ""
        if problem.code == "invalid-image-token":
            values["photos"] = []  # expired or foreign: they have to be chosen again
        errors = FormErrors.from_problem(
            problem,
            web.locale,
            {"body": values["body"], "rating": str(values["rating"] or "")},
            code_fields={"invalid-image-token": "photos", "posting-limit-reached": "body"},
            rename={"images": "photos"},
        )
        if errors.get("rating"):
            errors.fields["rating"] = web._("Choose from 1 to 5 stars.")
        return _write_form(web, order, line, values, errors=errors, status_code=problem.status)
    return web.redirect(f"/community/reviews/{review['post']['id']}")


# ---- a review's page and its edit page -------------------------------------------------------


@router.get("/community/reviews/{post_id}", include_in_schema=False)
async def review_page(post_id: str, web: WebDep) -> Response:
    if not is_uuid(post_id):
        return _not_found(web)
    review, count = await asyncio.gather(web.api.get(f"/api/v1/reviews/{post_id}"), cart_count(web))
    touch_later(web, post_id)
    return web.render(
        "community/review_page.html",
        review=review,
        # the API shows which order line it was to the review's author only
        mine=review["review"]["order_line_id"] is not None,
        cart_count=count,
    )


async def _edit_page(
    web: Web,
    post_id: str,
    *,
    values: dict[str, Any] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    review = await web.api.get(f"/api/v1/reviews/{post_id}")
    if review["review"]["order_line_id"] is None:
        # someone else's review: its history is its author's (the API says the same)
        return web.render_problem(
            ApiProblem(403, "forbidden", N_("Only the author can edit this review."))
        )
    revisions, count = await asyncio.gather(
        web.api.get(
            f"/api/v1/reviews/{post_id}/revisions", cursor=cursor(web), limit=REVISIONS_PER_PAGE
        ),
        cart_count(web),
    )
    if values is None:
        values = {"rating": review["review"]["rating"], "body": review["post"]["body"]}
    return web.render(
        "community/review_edit.html",
        status_code=status_code,
        review=review,
        revisions=revisions["items"],
        next_cursor=revisions["next_cursor"],
        first_page=not cursor(web),
        values=values,
        ratings=RATINGS,
        errors=errors or FormErrors(),
        cart_count=count,
    )


@router.get("/community/reviews/{post_id}/edit", include_in_schema=False)
async def edit_review_page(post_id: str, web: WebDep) -> Response:
    web.require_member()
    if not is_uuid(post_id):
        return _not_found(web)
    return await _edit_page(web, post_id)


@router.post("/community/reviews/{post_id}/edit", include_in_schema=False)
async def edit_review(post_id: str, web: CheckedWeb) -> Response:
    """A new rating and text; the API keeps what the review said before as a revision."""
    web.require_member()
    if not is_uuid(post_id):
        return _not_found(web)
    values: dict[str, Any] = {
        "rating": _rating(await web.field("rating")),
        "body": await web.field("body"),
    }
    change: dict[str, Any] = {"body": values["body"]}
    if values["rating"] is not None:
        change["rating"] = values["rating"]
    try:
        await web.api.patch(f"/api/v1/reviews/{post_id}", json=change)
    except ApiProblem as problem:
        if not _shown_on_form(problem) or problem.status == 403:
            raise
        errors = FormErrors.from_problem(
            problem,
            web.locale,
            {"body": values["body"]},
            code_fields={"posting-limit-reached": "body", "muted-in-space": "body"},
        )
        return await _edit_page(
            web, post_id, values=values, errors=errors, status_code=problem.status
        )
    return web.redirect(f"/community/reviews/{post_id}")


# ---- community search ------------------------------------------------------------------------


def snippet(text: str, spans: list[dict[str, int]]) -> Markup:
    """About SNIPPET_CHARS characters of `text` around its first match, the matches marked."""
    if len(text) <= SNIPPET_CHARS:
        return highlighted(text, spans)
    first = min((s["start"] for s in spans), default=0)
    start = max(0, min(first - SNIPPET_CHARS // 4, len(text) - SNIPPET_CHARS))
    end = start + SNIPPET_CHARS
    shifted = [
        {"start": max(s["start"], start) - start, "end": min(s["end"], end) - start}
        for s in spans
        if s["end"] > start and s["start"] < end
    ]
    before = Markup("…") if start else Markup("")
    after = Markup("…") if end < len(text) else Markup("")
    return before + highlighted(text[start:end], shifted) + after


def post_path(post: dict[str, Any]) -> str:
    return KIND_PATHS.get(post["kind"], "/community/p/") + str(post["id"])


def _searchable(query: str) -> bool:
    """Words to look for: within the API's length and with at least one letter or digit."""
    return len(query) <= MAX_QUERY_CHARS and any(ch.isalnum() for ch in query)


@router.get("/community/search", include_in_schema=False)
async def community_search(web: WebDep) -> Response:
    query = web.request.query_params.get("q", "").strip()
    page: dict[str, Any] = {"items": [], "next_cursor": None}
    invalid = bool(query) and not _searchable(query)
    if query and not invalid:
        try:
            page = await web.api.get(
                "/api/v1/community/search", q=query, cursor=cursor(web), limit=SEARCH_PAGE_SIZE
            )
        except ApiProblem as problem:
            # a query or cursor the API refuses is the visitor's to correct, not an error page
            if problem.status not in (400, 422):
                raise
            invalid = True
    return web.render(
        "community/search.html",
        query=query[:MAX_QUERY_CHARS],
        invalid=invalid,
        hits=page["items"],
        next_cursor=page["next_cursor"],
        kinds=KIND_LABELS,
        post_path=post_path,
        highlighted=highlighted,
        snippet=snippet,
        max_query=MAX_QUERY_CHARS,
        cart_count=await cart_count(web),
    )
