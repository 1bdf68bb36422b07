"""Jinja2 rendering: pages, and the fragments htmx asks for."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from jinja2.runtime import Macro
from markupsafe import escape
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from portal import csrf, markup, permissions, template_filters
from portal.auth import current_user
from portal.fragments import FragmentCacheExtension

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
templates = Jinja2Templates(directory=TEMPLATES_DIR)
# Templates ship with the code: checking each file's mtime on every include cost a stat() per card.
templates.env.auto_reload = False
templates.env.add_extension(FragmentCacheExtension)
templates.env.globals["STATIC_VERSION"] = "1"
# The one way to put stored HTML on a page: only `portal.markup` output is stored as HTML.
templates.env.filters["safe_html"] = markup.safe
templates.env.filters["time_tag"] = template_filters.time_tag
templates.env.filters["urlencode"] = template_filters.urlencode


def slot_macros(names: list[str]) -> list[Macro]:
    """The `slot` macros of extension templates. They read only their arguments, so their modules
    are loaded without a page's context, once per process."""
    return [templates.env.get_template(name).module.slot for name in names]


templates.env.globals["slot_macros"] = slot_macros


def flash(request: Request, message: str, kind: str = "info") -> None:
    # Reassign rather than append in place: the session notices only assignments.
    request.session["flash"] = [*request.session.get("flash", []), {"kind": kind, "message": message}]


def _pop_flashes(request: Request) -> list[dict[str, str]]:
    return request.session.pop("flash", []) if "session" in request.scope else []


# Pages print this wherever the reader's CSRF token goes, and `render` puts the token in once the
# page is drawn. Markup kept by `{% cache %}` (portal/fragments.py) may then hold forms: it is the
# same for every reader. Random per process, so no stored text can contain it by design; and a page
# that prints no form never makes a token, so an anonymous reader's session stays empty (no cookie
# is signed or set, and readers stay cheap to serve).
CSRF_SLOT = escape(f"csrf-slot-{secrets.token_hex(16)}")  # Markup, so it prints as it is


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    fragment: str | None = None,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Renders `name`, or only `fragment` when htmx asks, from one context (so they never differ)."""
    user = current_user(request)
    settings = request.app.state.settings
    ctx: dict[str, Any] = {
        "user": user,
        "settings": settings,
        "nav": request.app.state.nav,
        "csrf_token": CSRF_SLOT,
        "can": lambda action, obj=None: permissions.can(user, action, obj),
    }
    if context:
        ctx.update(context)
    template = fragment if fragment is not None and is_htmx(request) else name
    if template == name:
        ctx["flashes"] = _pop_flashes(request)
    ctx["request"] = request
    html = templates.get_template(template).render(ctx)
    if CSRF_SLOT in html:
        token = csrf.token_for(request) if "session" in request.scope else ""
        html = html.replace(CSRF_SLOT, token)
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    if fragment is not None:
        response.headers["Vary"] = "HX-Request"
    return response
