"""Routes: POST /fetch and the paragraph CRUD under /paragraphs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status
from pydantic import AfterValidator
from sqlalchemy.ext.asyncio import AsyncSession

from paragraphs import errors
from paragraphs.corpus import cursor as paging
from paragraphs.corpus import service as corpus_service
from paragraphs.corpus.schemas import ParagraphCreate, ParagraphPage, ParagraphRead, ParagraphUpdate
from paragraphs.db.models import Paragraph, Source
from paragraphs.deps import DatabaseDep, FetchLimit, ResourcesDep, WriteAccess, WriteLimit

router = APIRouter(tags=["paragraphs"])

ParagraphId = Annotated[int, Path(ge=1, le=paging.MAX_ID, description="The paragraph's id.")]
NOT_FOUND = errors.error_responses(corpus_service.ParagraphNotFound)
LIMITED = errors.error_responses(errors.RateLimited)


def _created(paragraph: Paragraph, response: Response) -> ParagraphRead:
    """A 201's body, with `Location` naming where the new paragraph lives."""
    response.headers["Location"] = router.url_path_for("get_paragraph", paragraph_id=str(paragraph.id))
    return ParagraphRead.model_validate(paragraph)


@router.post(
    "/fetch",
    status_code=status.HTTP_201_CREATED,
    dependencies=[FetchLimit, WriteAccess],
    responses=errors.error_responses(errors.UpstreamError, errors.UpstreamTimeout, errors.RateLimited),
)
async def fetch_paragraph(resources: ResourcesDep, response: Response) -> ParagraphRead:
    """Fetch one paragraph of 50 sentences from the configured source and store it."""
    content = await corpus_service.fetch_text(resources.source)
    paragraph = await resources.db.transact(
        lambda session: corpus_service.create_paragraph(session, content, resources.source.source)
    )
    await resources.after_write()
    return _created(paragraph, response)


@router.post(
    "/paragraphs", status_code=status.HTTP_201_CREATED, responses=LIMITED, dependencies=[WriteLimit, WriteAccess]
)
async def create_paragraph(body: ParagraphCreate, resources: ResourcesDep, response: Response) -> ParagraphRead:
    """Store a paragraph of your own text."""
    paragraph = await resources.db.transact(
        lambda session: corpus_service.create_paragraph(session, body.content, Source.USER)
    )
    await resources.after_write()
    return _created(paragraph, response)


@router.get("/paragraphs")
async def list_paragraphs(
    db: DatabaseDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="Paragraphs per page.")] = 50,
    cursor: Annotated[
        str | None,
        Query(
            description="`next_cursor` of the previous page.",
            json_schema_extra={"pattern": paging.PATTERN},
        ),
        AfterValidator(paging.validate),
    ] = None,
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


@router.put("/paragraphs/{paragraph_id}", responses=NOT_FOUND | LIMITED, dependencies=[WriteLimit, WriteAccess])
async def update_paragraph(paragraph_id: ParagraphId, body: ParagraphUpdate, resources: ResourcesDep) -> ParagraphRead:
    """Replace a paragraph's text; its word count, index entry and the word counts follow."""

    async def replace(session: AsyncSession) -> Paragraph:
        paragraph = await corpus_service.lock_paragraph(session, paragraph_id)
        return await corpus_service.update_paragraph(session, paragraph, body.content)

    paragraph = await resources.db.transact(replace)
    await resources.after_write()
    return ParagraphRead.model_validate(paragraph)


@router.delete(
    "/paragraphs/{paragraph_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=NOT_FOUND | LIMITED,
    dependencies=[WriteLimit, WriteAccess],
)
async def delete_paragraph(paragraph_id: ParagraphId, resources: ResourcesDep, response: Response) -> Response:
    """Delete a paragraph; its index entry and word counts go with it."""

    async def delete(session: AsyncSession) -> None:
        await corpus_service.delete_paragraph(session, await corpus_service.lock_paragraph(session, paragraph_id))

    await resources.db.transact(delete)
    await resources.after_write()
    # A returned Response does not get the headers dependencies set (RateLimit-*): pass them on.
    return Response(status_code=status.HTTP_204_NO_CONTENT, headers=dict(response.headers))
