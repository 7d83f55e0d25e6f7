"""Community content pages: the snap composer and snap page, a product's community tab (reviews,
snaps, questions), asking about a product, question pages with answers and acceptance, and
polls. Every read and write goes through /api/v1 like any client."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from starlette.datastructures import UploadFile
from starlette.responses import Response

from jangteo.web.client import ApiProblem
from jangteo.web.forms import FormErrors, problem_message
from jangteo.web.i18n import N_
from jangteo.web.page import CheckedWeb, Web, WebDep, cursor
from jangteo.web.storefront.common import cart_count, is_uuid, notice
from jangteo.web.storefront.rewards import post_open_graph, touch_later
from jangteo.web.storefront.tips import send_tip, tip_panel

router = APIRouter()

MAX_PHOTOS = 4
MAX_TAGS = 20
SECTIONS = {
    "reviews": N_("Reviews"),
    "snaps": N_("Snaps"),
    "questions": N_("Questions"),
}
QUESTION_STATUSES = {
    "open": N_("Open"),
    "accepted": N_("Answered"),
    "expired": N_("Closed"),
}


def _not_found(web: Web) -> Response:
    return web.render("errors/404.html", status_code=404)


def shown_on_form(problem: ApiProblem, *fatal: int) -> bool:
    """A problem the form shows next to its fields (the others become the error page)."""
    return problem.status < 500 and problem.status not in (401, *fatal)


async def upload_photos(
    web: Web, files: list[UploadFile], images: list[dict[str, str]], errors: FormErrors
) -> None:
    """Send chosen files to the API's image upload, adding each accepted one to `images`; the
    first refusal (not an image, too large, too many uploads) goes under the photos field."""
    for upload in files:
        content = await upload.read()
        try:
            image = await web.api.call(
                "POST",
                "/api/v1/community/images",
                files={
                    "file": (
                        upload.filename or "photo",
                        content,
                        upload.content_type or "application/octet-stream",
                    )
                },
            )
        except ApiProblem as problem:
            if not shown_on_form(problem):
                raise
            errors.add("photos", problem_message(problem, web.locale))
            return
        images.append({"token": image["token"], "url": image["url"]})


# ---- snaps -----------------------------------------------------------------------------------


def _unit(value: str) -> float | None:
    """A tag's x or y as typed (0..1); None when it is not a number in range."""
    try:
        number = float(value.replace(",", "."))
    except ValueError:
        return None
    return number if 0.0 <= number <= 1.0 else None


async def _list(web: Web, name: str) -> list[str]:
    return [v.strip() for v in (await web.form()).getlist(name) if isinstance(v, str)]


async def _draft(web: Web) -> dict[str, Any]:
    """The composer's state carried in its hidden fields between the steps."""
    tokens = (await _list(web, "image_token"))[:MAX_PHOTOS]
    urls = (await _list(web, "image_url"))[: len(tokens)]
    # only paths of this site are shown back as photos
    urls = [u if u.startswith("/") and not u.startswith("//") else "" for u in urls]
    columns = [await _list(web, f"tag_{n}") for n in ("image", "product", "name", "x", "y")]
    tags = [
        {"image": int(i), "product_id": p, "name": n[:200], "x": float(x), "y": float(y)}
        for i, p, n, x, y in zip(*columns, strict=False)
        if i.isdigit()
        and int(i) < len(tokens)
        and is_uuid(p)
        and _unit(x) is not None
        and _unit(y) is not None
    ][:MAX_TAGS]
    return {
        "images": [{"token": t, "url": u} for t, u in zip(tokens, urls, strict=False)],
        "tags": tags,
        "title": await web.field("title"),
        "body": await web.field("body"),
        "q": (await web.field("q"))[:100],
        "new_image": await web.field("new_image") or "0",
        "new_product": await web.field("new_product"),
        "new_name": "",
        "new_x": await web.field("new_x"),
        "new_y": await web.field("new_y"),
        "publish_key": await web.field("publish_key"),
    }


def _composer(
    web: Web,
    draft: dict[str, Any],
    *,
    results: list[dict[str, Any]] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    if not is_uuid(draft.get("publish_key", "")):
        draft["publish_key"] = web.new_idempotency_key()
    return web.render(
        "community/snap_new.html",
        status_code=status_code,
        draft=draft,
        results=results or [],
        max_photos=MAX_PHOTOS,
        errors=errors or FormErrors(),
    )


@router.get("/community/snaps/new", include_in_schema=False)
async def snap_composer(web: WebDep) -> Response:
    web.require_member()
    return _composer(web, {"images": [], "tags": [], "title": "", "body": ""})


@router.post("/community/snaps/new", include_in_schema=False)
async def snap_compose(web: CheckedWeb) -> Response:
    """One form, several steps: `upload` the photos, `search` products and `add` tags (the
    typed way; snap-tagging.js adds them by clicking the photo), then `publish`."""
    web.require_member()
    draft = await _draft(web)
    if is_uuid(draft["new_product"]):
        draft["new_name"] = (await web.field(f"name_{draft['new_product']}"))[:200]
    action = await web.field("action")
    errors = FormErrors()
    if action == "upload":
        chosen = (await web.form()).getlist("photos")
        files = [f for f in chosen if isinstance(f, UploadFile) and f.filename]
        if not files:
            errors.add("photos", web._("Choose at least one photo."))
        elif len(files) + len(draft["images"]) > MAX_PHOTOS:
            errors.add("photos", web._("Up to %(n)s photos.", n=MAX_PHOTOS))
        else:
            await upload_photos(web, files, draft["images"], errors)
        return _composer(web, draft, errors=errors, status_code=422 if errors else 200)
    if action == "search":
        results: list[dict[str, Any]] = []
        if draft["q"]:
            page = await web.api.call(
                "GET", "/api/v1/products", params={"q": draft["q"], "limit": 8}, auth=False
            )
            results = page["items"]
        return _composer(web, draft, results=results)
    if action.startswith("remove-") and action[7:].isdigit():
        index = int(action[7:])
        draft["tags"] = [t for n, t in enumerate(draft["tags"]) if n != index]
        return _composer(web, draft)
    if action not in ("add", "publish"):
        return _composer(web, draft)
    pending = _pending_tag(web, draft, errors, required=action == "add")
    if pending is not None:
        draft["tags"].append(pending)
        draft["new_product"] = draft["new_x"] = draft["new_y"] = ""
    if action == "add" or errors:
        return _composer(web, draft, errors=errors, status_code=422 if errors else 200)
    return await _publish(web, draft)


def _pending_tag(
    web: Web, draft: dict[str, Any], errors: FormErrors, *, required: bool
) -> dict[str, Any] | None:
    """The tag typed in the "new tag" fields; on publish it is taken only when filled in."""
    product, x, y = draft["new_product"], draft["new_x"], draft["new_y"]
    if not required and not (product or x or y):
        return None
    if not is_uuid(product):
        errors.add("new_product", web._("Choose a product from the search results."))
    for name, value in (("new_x", x), ("new_y", y)):
        if _unit(value) is None:
            errors.add(name, web._("Enter a number from 0 to 1."))
    image = int(draft["new_image"]) if draft["new_image"].isdigit() else 0
    if errors or image >= len(draft["images"]):
        return None
    name = draft["new_name"]
    return {"image": image, "product_id": product, "name": name, "x": _unit(x), "y": _unit(y)}


async def _publish(web: Web, draft: dict[str, Any]) -> Response:
    body = {
        "title": draft["title"],
        "body": draft["body"],
        "images": [i["token"] for i in draft["images"]],
        "tags": [
            {"image": t["image"], "product_id": t["product_id"], "x": t["x"], "y": t["y"]}
            for t in draft["tags"]
        ],
    }
    try:
        snap = await web.api.post(
            "/api/v1/snaps", json=body, headers={"Idempotency-Key": draft["publish_key"]}
        )
    except ApiProblem as problem:
        if not shown_on_form(problem):
            raise
        # a corrected draft is a new request, not a retry of the refused one
        draft["publish_key"] = web.new_idempotency_key()
        errors = FormErrors.from_problem(
            problem,
            web.locale,
            {"body": draft["body"], "title": draft["title"]},
            code_fields={"posting-limit-reached": "body", "unknown-product": "new_product"},
            rename={"images": "photos", "images.0": "photos"},
        )
        return _composer(web, draft, errors=errors, status_code=problem.status)
    return web.redirect(f"/community/snaps/{snap['post']['id']}")


async def _snap_page(
    web: Web,
    post_id: str,
    *,
    tip_form: tuple[dict[str, str], FormErrors] | None = None,
    status_code: int = 200,
) -> Response:
    snap, count = await asyncio.gather(web.api.get(f"/api/v1/snaps/{post_id}"), cart_count(web))
    tip = await tip_panel(
        web, snap["post"], action=f"/community/snaps/{post_id}/tip", form=tip_form
    )
    og = post_open_graph(web, snap["post"], snap["images"])
    return web.render(
        "community/snap.html",
        status_code=status_code,
        snap=snap,
        cart_count=count,
        og=og,
        tip=tip,
        notice=notice(web),
    )


@router.get("/community/snaps/{post_id}", include_in_schema=False)
async def snap_page(post_id: str, web: WebDep) -> Response:
    if not is_uuid(post_id):
        return _not_found(web)
    touch_later(web, post_id)
    return await _snap_page(web, post_id)


@router.post("/community/snaps/{post_id}/tip", include_in_schema=False)
async def tip_snap(post_id: str, web: CheckedWeb) -> Response:
    """A tip to the snap's creator: in points at once, by card through the payment page."""
    web.require_member()
    if not is_uuid(post_id):
        return _not_found(web)
    sent = await send_tip(web, post_id, back=f"/community/snaps/{post_id}")
    if isinstance(sent, Response):
        return sent
    values, errors, status_code = sent
    return await _snap_page(web, post_id, tip_form=(values, errors), status_code=status_code)


# ---- a product's community tab ---------------------------------------------------------------


async def _product_or_none(web: Web, product_id: str) -> dict[str, Any] | None:
    if not is_uuid(product_id):
        return None
    try:
        return await web.api.call("GET", f"/api/v1/products/{product_id}", auth=False)  # type: ignore[no-any-return]
    except ApiProblem as problem:
        if problem.status == 404:
            return None
        raise


@router.get("/p/{product_id}/community", include_in_schema=False)
async def product_community(product_id: str, web: WebDep) -> Response:
    """The product page's community section (htmx loads it into the page), or a page of its own."""
    product = await _product_or_none(web, product_id)
    if product is None:
        return _not_found(web)
    reviews, snaps, questions, brand = await asyncio.gather(
        web.api.get(f"/api/v1/products/{product_id}/reviews", limit=3),
        web.api.get(f"/api/v1/products/{product_id}/snaps", limit=6),
        web.api.get("/api/v1/questions", product_id=product_id, limit=5),
        web.api.get(f"/api/v1/brands/{product['brand']['id']}/followers"),
    )
    values = {
        "product": product,
        "brand_followers": brand,
        "reviews": reviews["items"],
        "summary": reviews["summary"],
        "snaps": snaps["items"],
        "questions": questions["items"],
        "statuses": QUESTION_STATUSES,
    }
    if web.is_htmx:
        return web.render("community/_product_community.html", **values)
    count = await cart_count(web)
    return web.render("community/product_community.html", cart_count=count, **values)


@router.post("/p/{product_id}/brand/{action}", include_in_schema=False)
async def follow_brand(product_id: str, action: str, web: CheckedWeb) -> Response:
    """Follow or unfollow the brand of the product on show, and come back to it."""
    web.require_member()
    product = await _product_or_none(web, product_id)
    if product is None or action not in ("follow", "unfollow"):
        return _not_found(web)
    method = "PUT" if action == "follow" else "DELETE"
    await web.api.call(method, f"/api/v1/brands/{product['brand']['id']}/follow")
    return web.redirect(f"/p/{product_id}#product-community")


@router.get("/p/{product_id}/community/{section}", include_in_schema=False)
async def product_section(product_id: str, section: str, web: WebDep) -> Response:
    """All of a product's reviews, snaps or questions, a page at a time."""
    product = await _product_or_none(web, product_id)
    if product is None or section not in SECTIONS:
        return _not_found(web)
    if section == "questions":
        page = await web.api.get(
            "/api/v1/questions", product_id=product_id, cursor=cursor(web), limit=20
        )
    else:
        page = await web.api.get(
            f"/api/v1/products/{product_id}/{section}", cursor=cursor(web), limit=20
        )
    return web.render(
        "community/product_section.html",
        product=product,
        section=section,
        title=SECTIONS[section],
        items=page["items"],
        summary=page.get("summary"),
        next_cursor=page["next_cursor"],
        statuses=QUESTION_STATUSES,
        cart_count=await cart_count(web),
    )


# ---- questions -------------------------------------------------------------------------------


def _ask_form(
    web: Web,
    product: dict[str, Any],
    values: dict[str, str],
    *,
    balance: int | None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    return web.render(
        "community/question_new.html",
        status_code=status_code,
        product=product,
        values=values,
        balance=balance,
        errors=errors or FormErrors(),
    )


async def _balance(web: Web) -> int | None:
    return int((await web.api.get("/api/v1/me/wallet"))["balance"])


@router.get("/p/{product_id}/questions/new", include_in_schema=False)
async def ask_page(product_id: str, web: WebDep) -> Response:
    web.require_member()
    product = await _product_or_none(web, product_id)
    if product is None:
        return _not_found(web)
    values = {"title": "", "body": "", "bounty": "0", "ask_key": web.new_idempotency_key()}
    return _ask_form(web, product, values, balance=await _balance(web))


@router.post("/p/{product_id}/questions/new", include_in_schema=False)
async def ask(product_id: str, web: CheckedWeb) -> Response:
    web.require_member()
    product = await _product_or_none(web, product_id)
    if product is None:
        return _not_found(web)
    values = {name: await web.field(name) for name in ("title", "body", "bounty", "ask_key")}
    if not is_uuid(values["ask_key"]):
        values["ask_key"] = web.new_idempotency_key()
    bounty_text = values["bounty"].replace(",", "") or "0"
    if not bounty_text.isdigit():
        errors = FormErrors()
        errors.add("bounty", web._("Enter a whole number of points."))
        return _ask_form(
            web, product, values, balance=await _balance(web), errors=errors, status_code=422
        )
    try:
        question = await web.api.post(
            "/api/v1/questions",
            json={
                "title": values["title"],
                "body": values["body"],
                "product_id": product_id,
                "bounty": int(bounty_text),
            },
            headers={"Idempotency-Key": values["ask_key"]},
        )
    except ApiProblem as problem:
        if not shown_on_form(problem):
            raise
        errors = FormErrors.from_problem(
            problem,
            web.locale,
            values,
            code_fields={
                "invalid-input": "bounty",
                "insufficient-points": "bounty",
                "posting-limit-reached": "body",
            },
        )
        if problem.code == "invalid-input" and "min_bounty" in problem.body:
            errors.fields["bounty"] = web._(
                "A bounty is 0 or between %(min)s and %(max)s points.",
                min=f"{problem.body['min_bounty']:,}",
                max=f"{problem.body['max_bounty']:,}",
            )
        # a new attempt after a refusal is a new request
        values["ask_key"] = web.new_idempotency_key()
        return _ask_form(
            web,
            product,
            values,
            balance=await _balance(web),
            errors=errors,
            status_code=problem.status,
        )
    return web.redirect(f"/community/questions/{question['post']['id']}")


async def _question_page(
    web: Web,
    post_id: str,
    *,
    values: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    me: Any = web.api.get("/api/v1/me") if web.session.logged_in else asyncio.sleep(0)
    question, answers, viewer, count = await asyncio.gather(
        web.api.get(f"/api/v1/questions/{post_id}"),
        web.api.get(f"/api/v1/posts/{post_id}/comments", cursor=cursor(web), limit=50),
        me,
        cart_count(web),
    )
    state = question["question"]
    product = None
    if state["product_id"]:
        product = await _product_or_none(web, str(state["product_id"]))
    viewer_id = str(viewer["id"]) if viewer else None
    asker_id = question["post"]["author"]["id"]
    return web.render(
        "community/question.html",
        status_code=status_code,
        question=question,
        state=state,
        product=product,
        answers=[a for a in answers["items"] if not a["parent_id"]],
        next_cursor=answers["next_cursor"],
        is_asker=viewer_id is not None and str(asker_id) == viewer_id,
        viewer_id=viewer_id,
        statuses=QUESTION_STATUSES,
        accept_key=web.new_idempotency_key(),
        values=values or {"body": ""},
        errors=errors or FormErrors(),
        cart_count=count,
        notice=notice(web),
    )


@router.get("/community/questions/{post_id}", include_in_schema=False)
async def question_page(post_id: str, web: WebDep) -> Response:
    if not is_uuid(post_id):
        return _not_found(web)
    touch_later(web, post_id)
    return await _question_page(web, post_id)


@router.post("/community/questions/{post_id}/answers", include_in_schema=False)
async def answer(post_id: str, web: CheckedWeb) -> Response:
    web.require_member()
    if not is_uuid(post_id):
        return _not_found(web)
    body = await web.field("body")
    try:
        await web.api.post(f"/api/v1/posts/{post_id}/comments", json={"body": body})
    except ApiProblem as problem:
        if not shown_on_form(problem, 404):
            raise
        errors = FormErrors.from_problem(
            problem,
            web.locale,
            {"body": body},
            code_fields={
                "blocked-by-member": "body",
                "posting-limit-reached": "body",
                "muted-in-space": "body",
            },
        )
        return await _question_page(
            web, post_id, values={"body": body}, errors=errors, status_code=problem.status
        )
    return web.redirect(f"/community/questions/{post_id}#answers")


@router.post("/community/questions/{post_id}/accept", include_in_schema=False)
async def accept(post_id: str, web: CheckedWeb) -> Response:
    web.require_member()
    comment_id = await web.field("comment_id")
    key = await web.field("accept_key")
    if not is_uuid(post_id) or not is_uuid(comment_id):
        return _not_found(web)
    try:
        await web.api.post(
            f"/api/v1/questions/{post_id}/accept",
            json={"comment_id": comment_id},
            headers={"Idempotency-Key": key if is_uuid(key) else web.new_idempotency_key()},
        )
    except ApiProblem as problem:
        if not shown_on_form(problem, 404):
            raise
        errors = FormErrors.from_problem(problem, web.locale)
        return await _question_page(web, post_id, errors=errors, status_code=problem.status)
    return web.redirect(f"/community/questions/{post_id}#answers")


# ---- polls -----------------------------------------------------------------------------------


async def _poll_page(
    web: Web, post_id: str, *, errors: FormErrors | None = None, status_code: int = 200
) -> Response:
    poll, count = await asyncio.gather(web.api.get(f"/api/v1/polls/{post_id}"), cart_count(web))
    state = poll["poll"]
    total = state["vote_count"] or 0
    return web.render(
        "community/poll.html",
        status_code=status_code,
        poll=poll,
        state=state,
        shown=state["vote_count"] is not None,
        percents={
            str(o["id"]): round(100 * (o["votes"] or 0) / total) if total else 0
            for o in state["options"]
        },
        errors=errors or FormErrors(),
        cart_count=count,
    )


@router.get("/community/polls/{post_id}", include_in_schema=False)
async def poll_page(post_id: str, web: WebDep) -> Response:
    if not is_uuid(post_id):
        return _not_found(web)
    touch_later(web, post_id)
    return await _poll_page(web, post_id)


@router.post("/community/polls/{post_id}/vote", include_in_schema=False)
async def vote(post_id: str, web: CheckedWeb) -> Response:
    web.require_member()
    if not is_uuid(post_id):
        return _not_found(web)
    option = await web.field("option_id")
    if not is_uuid(option):
        errors = FormErrors()
        errors.add("option_id", web._("Choose one of the options."))
        return await _poll_page(web, post_id, errors=errors, status_code=422)
    try:
        await web.api.call("PUT", f"/api/v1/polls/{post_id}/vote", json={"option_id": option})
    except ApiProblem as problem:
        if not shown_on_form(problem, 404):
            raise
        errors = FormErrors.from_problem(problem, web.locale, code_fields={})
        return await _poll_page(web, post_id, errors=errors, status_code=problem.status)
    return web.redirect(f"/community/polls/{post_id}")
