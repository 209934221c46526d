"""Pages that write: add, fetch, edit and delete a paragraph, and the API-key form.

Every form posts here and, when it worked, redirects (303) to a page that shows the result, so the
back and reload buttons never send a form twice. A form that did not work comes back with the
reason and with what was typed.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from paragraphs import errors
from paragraphs.corpus import service as corpus_service
from paragraphs.corpus.router import ParagraphId
from paragraphs.corpus.schemas import ParagraphCreate
from paragraphs.db.models import Source
from paragraphs.deps import ResourcesDep
from paragraphs.resources import Resources
from paragraphs.web import keys
from paragraphs.web.pages import problems
from paragraphs.web.render import PageRoute, page

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


async def _form_text(request: Request, name: str) -> str:
    form = await request.form()
    value = form.get(name)
    # Browsers send a textarea's line breaks as CRLF; people typed newlines.
    return value.replace("\r\n", "\n") if isinstance(value, str) else ""


def _write_context(resources: Resources, request: Request, **extra: Any) -> dict[str, Any]:
    return {"needs_key": keys.needs_key(resources.settings, request), "here": request.url.path, **extra}


def _validated(content: str) -> tuple[str | None, list[str]]:
    try:
        return ParagraphCreate(content=content).content, []
    except ValidationError as exc:
        return None, problems(exc)


@router.get("/add", name="web_add")
async def add_page(request: Request, resources: ResourcesDep) -> Response:
    """Add a paragraph of your own, or fetch one."""
    return page(request, "add.html", _write_context(resources, request, content=""))


@router.post("/add")
async def add_paragraph(request: Request, resources: ResourcesDep) -> Response:
    content = await _form_text(request, "content")
    refused = keys.check(resources.settings, request)
    if refused is not None:
        context = _write_context(resources, request, content=content, problems=[refused])
        return page(request, "add.html", context, status_code=401)
    valid, found = _validated(content)
    if valid is None:
        return page(
            request, "add.html", _write_context(resources, request, content=content, problems=found), status_code=422
        )
    paragraph = await resources.db.transact(
        lambda session: corpus_service.create_paragraph(session, valid, Source.USER)
    )
    await resources.after_write()
    return _see_other(f"/browse/{paragraph.id}?done=added")


@router.post("/add/fetch", name="web_fetch")
async def fetch_paragraph(request: Request, resources: ResourcesDep) -> Response:
    refused = keys.check(resources.settings, request)
    if refused is not None:
        return page(
            request, "add.html", _write_context(resources, request, content="", problems=[refused]), status_code=401
        )
    try:
        content = await corpus_service.fetch_text(resources.source)
    except errors.UpstreamError as exc:
        context = _write_context(resources, request, content="", fetch_problem=exc.detail)
        return page(request, "add.html", context, status_code=exc.status_code)
    paragraph = await resources.db.transact(
        lambda session: corpus_service.create_paragraph(session, content, resources.source.source)
    )
    await resources.after_write()
    return _see_other(f"/browse/{paragraph.id}?done=fetched")


@router.get("/browse/{paragraph_id}/edit", name="web_edit")
async def edit_page(request: Request, paragraph_id: ParagraphId, resources: ResourcesDep) -> Response:
    """Change a paragraph's text."""
    async with resources.db.read() as session:
        paragraph = await corpus_service.get_paragraph(session, paragraph_id)
    context = _write_context(resources, request, paragraph=paragraph, content=paragraph.content)
    return page(request, "edit.html", context)


@router.post("/browse/{paragraph_id}/edit")
async def edit_paragraph(request: Request, paragraph_id: ParagraphId, resources: ResourcesDep) -> Response:
    content = await _form_text(request, "content")
    async with resources.db.read() as session:
        paragraph = await corpus_service.get_paragraph(session, paragraph_id)
    refused = keys.check(resources.settings, request)
    valid, found = _validated(content)
    if refused is not None or valid is None:
        context = _write_context(
            resources, request, paragraph=paragraph, content=content, problems=[refused] if refused else found
        )
        return page(request, "edit.html", context, status_code=401 if refused else 422)

    async def replace(session: AsyncSession) -> None:
        # As PUT /paragraphs/{id}: the row locked, so concurrent writers of one paragraph take turns.
        await corpus_service.update_paragraph(
            session, await corpus_service.lock_paragraph(session, paragraph_id), valid
        )

    await resources.db.transact(replace)
    await resources.after_write()
    return _see_other(f"/browse/{paragraph_id}?done=updated")


@router.get("/browse/{paragraph_id}/delete", name="web_delete")
async def delete_page(request: Request, paragraph_id: ParagraphId, resources: ResourcesDep) -> Response:
    """Ask before deleting a paragraph."""
    async with resources.db.read() as session:
        paragraph = await corpus_service.get_paragraph(session, paragraph_id)
    return page(request, "delete.html", _write_context(resources, request, paragraph=paragraph))


@router.post("/browse/{paragraph_id}/delete")
async def delete_paragraph(request: Request, paragraph_id: ParagraphId, resources: ResourcesDep) -> Response:
    refused = keys.check(resources.settings, request)
    if refused is not None:
        async with resources.db.read() as session:
            paragraph = await corpus_service.get_paragraph(session, paragraph_id)
        context = _write_context(resources, request, paragraph=paragraph, problems=[refused])
        return page(request, "delete.html", context, status_code=401)

    async def delete(session: AsyncSession) -> None:
        await corpus_service.delete_paragraph(session, await corpus_service.lock_paragraph(session, paragraph_id))

    await resources.db.transact(delete)
    await resources.after_write()
    return _see_other(f"/browse?deleted={paragraph_id}")


@router.post("/key")
async def remember_key(request: Request, resources: ResourcesDep) -> Response:
    """Check the key typed in the key form; keep it for this browser session when it is valid."""
    keys.same_origin(request)
    form = await request.form()
    typed = str(form.get("api_key") or "").strip()
    back = keys.safe_next(str(form.get("next") or "/"))
    settings = resources.settings
    if not keys.keys_required(settings):
        return _see_other(back)
    if not typed or len(typed) > keys.MAX_KEY_CHARS or not keys.is_valid(settings, typed):
        problem = (
            "That API key is not valid. Nothing was changed; check the key and try again."
            if typed
            else "Type the API key first."
        )
        context = {"keys_required": True, "has_key": False, "next": back, "problems": [problem]}
        return page(request, "key.html", context, status_code=401)
    response = _see_other(back)
    keys.remember(response, request, typed)
    return response


@router.post("/key/forget", name="web_forget_key")
async def forget_key(request: Request) -> Response:
    keys.same_origin(request)
    response = _see_other("/key")
    keys.forget(response)
    return response
