"""Routes: POST /fetch and the paragraph CRUD under /paragraphs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from paragraphs import errors
from paragraphs.corpus import service as corpus_service
from paragraphs.corpus.schemas import ParagraphCreate, ParagraphPage, ParagraphRead, ParagraphUpdate
from paragraphs.db.models import Source
from paragraphs.deps import DatabaseDep, ResourcesDep, WriteAccess

router = APIRouter(tags=["paragraphs"])

MAX_ID = 2**63 - 1
ParagraphId = Annotated[int, Path(ge=1, le=MAX_ID, description="The paragraph's id.")]
NOT_FOUND = errors.error_responses(corpus_service.ParagraphNotFound)


@router.post(
    "/fetch",
    status_code=status.HTTP_201_CREATED,
    dependencies=[WriteAccess],
    responses=errors.error_responses(errors.UpstreamError, errors.UpstreamTimeout),
)
async def fetch_paragraph(resources: ResourcesDep) -> ParagraphRead:
    """Fetch one paragraph of 50 sentences from the configured source and store it."""
    content = await corpus_service.fetch_text(resources.source)
    async with resources.db.write() as session:
        paragraph = await corpus_service.create_paragraph(session, content, resources.source.source)
    await resources.after_write()
    return ParagraphRead.model_validate(paragraph)


@router.post("/paragraphs", status_code=status.HTTP_201_CREATED, dependencies=[WriteAccess])
async def create_paragraph(body: ParagraphCreate, resources: ResourcesDep) -> ParagraphRead:
    """Store a paragraph of your own text."""
    async with resources.db.write() as session:
        paragraph = await corpus_service.create_paragraph(session, body.content, Source.USER)
    await resources.after_write()
    return ParagraphRead.model_validate(paragraph)


@router.get("/paragraphs")
async def list_paragraphs(
    db: DatabaseDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="Paragraphs per page.")] = 50,
    cursor: Annotated[str | None, Query(max_length=64, description="`next_cursor` of the previous page.")] = None,
) -> ParagraphPage:
    """List stored paragraphs, newest first, a page at a time."""
    async with db.read() as session:
        rows, next_cursor = await corpus_service.list_paragraphs(session, limit, cursor)
    return ParagraphPage(paragraphs=[ParagraphRead.model_validate(row) for row in rows], next_cursor=next_cursor)


@router.get("/paragraphs/{paragraph_id}", responses=NOT_FOUND)
async def get_paragraph(paragraph_id: ParagraphId, db: DatabaseDep) -> ParagraphRead:
    """One stored paragraph."""
    async with db.read() as session:
        paragraph = await corpus_service.get_paragraph(session, paragraph_id)
    return ParagraphRead.model_validate(paragraph)


@router.put("/paragraphs/{paragraph_id}", responses=NOT_FOUND, dependencies=[WriteAccess])
async def update_paragraph(paragraph_id: ParagraphId, body: ParagraphUpdate, resources: ResourcesDep) -> ParagraphRead:
    """Replace a paragraph's text; its word count, index entry and the word counts follow."""
    async with resources.db.write() as session:
        paragraph = await corpus_service.get_paragraph(session, paragraph_id)
        await corpus_service.update_paragraph(session, paragraph, body.content)
    await resources.after_write()
    return ParagraphRead.model_validate(paragraph)


@router.delete(
    "/paragraphs/{paragraph_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=NOT_FOUND,
    dependencies=[WriteAccess],
)
async def delete_paragraph(paragraph_id: ParagraphId, resources: ResourcesDep) -> Response:
    """Delete a paragraph; its index entry and word counts go with it."""
    async with resources.db.write() as session:
        paragraph = await corpus_service.get_paragraph(session, paragraph_id)
        await corpus_service.delete_paragraph(session, paragraph)
    await resources.after_write()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
