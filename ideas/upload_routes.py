"""Image uploads: a JSON endpoint for scripts and editors, and a plain form page that needs no JavaScript.

`POST /uploads` answers JSON (201, or a problem document) unless the request asks for HTML, as a
browser submitting the form does; then it answers with the page again, showing the Markdown to paste.
"""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ideas import uploads
from ideas.models import Attachment
from portal import permissions
from portal.error_pages import problem
from portal.errors import HearkenError, Invalid, RateLimited
from portal.templating import render
from portal.web import limit_writes, user_of


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


async def upload_page(request: Request) -> Response:
    permissions.require(user_of(request), "image.upload")
    return _page(request)


def _page(
    request: Request,
    *,
    attachment: Attachment | None = None,
    alt: str = "",
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    context = {"attachment": attachment, "alt": alt, "errors": errors or {}}
    if attachment is not None:
        context |= {"url": uploads.media_url(attachment), "markdown": uploads.markdown_for(attachment, alt)}
    return render(request, "ideas/upload.html", context, status_code=status_code)


async def _read(request: Request) -> tuple[bytes, str]:
    """The uploaded file's first bytes (one more than allowed, so that too big shows) and its alt text."""
    async with request.form(max_files=1, max_fields=10) as data:
        file, alt = data.get("file"), data.get("alt")
        if not isinstance(file, UploadFile):
            raise Invalid({"file": "Choose an image to upload."})
        return await file.read(uploads.MAX_BYTES + 1), alt if isinstance(alt, str) else ""


async def upload(request: Request) -> Response:
    user = user_of(request)
    html = _wants_html(request)
    alt = ""
    try:
        permissions.require(user, "image.upload")
        await limit_writes(request, user, "upload")
        data, alt = await _read(request)
        attachment = await uploads.upload_image(actor=user, data=data, storage=request.app.state.storage)
    except Invalid as exc:
        if html:
            return _page(request, alt=alt, errors=exc.errors, status_code=422)
        return problem(422, exc.detail, title=exc.title, errors=exc.errors)
    except HearkenError as exc:
        if html:
            raise
        response = problem(exc.status, exc.detail, title=exc.title)
        if isinstance(exc, RateLimited):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    url = uploads.media_url(attachment)
    if html:
        return _page(request, attachment=attachment, alt=alt, status_code=201)
    return JSONResponse(
        {"url": url, "markdown": uploads.markdown_for(attachment, alt)},
        status_code=201,
        headers={"Location": url},
    )


def routes() -> list[BaseRoute]:
    return [
        Route("/uploads", upload_page, methods=["GET"]),
        Route("/uploads", upload, methods=["POST"]),
    ]
