"""What the browser tests do often: sign in, wait for htmx, check a page with axe-core."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from playwright.async_api import Page, expect

from tests.factories import PASSWORD

# axe-core from the npm package of the same name (`npm pack axe-core@4.14.1`, file axe.min.js),
# kept with the tests only: it is injected into pages under test, never served to users.
AXE = Path(__file__).with_name("vendor") / "axe-core-4.14.1.min.js"
# WCAG 2.x A and AA, plus axe's best practices; a violation of impact serious or critical fails.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
FAILING_IMPACTS = ("serious", "critical")


async def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    await page.goto("/auth/signin")
    form = page.locator("main form[action='/auth/signin']")
    await form.get_by_label("E-mail").fill(email)
    await form.get_by_label("Password").fill(password)
    await form.get_by_role("button", name="Sign in").click()
    await expect(page.locator(".flash-success")).to_contain_text("Signed in as")


async def htmx_settled(page: Page) -> None:
    """Waits until htmx has no request in flight (it marks elements with .htmx-request meanwhile)."""
    await page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping')"
    )


async def mark_document(page: Page) -> None:
    """Marks the current document, so that `same_document` tells whether the page was reloaded."""
    await page.evaluate("() => { window.__hearkenMark = 'still here'; }")


async def same_document(page: Page) -> bool:
    return await page.evaluate("() => window.__hearkenMark === 'still here'")


def card(page: Page, title: str) -> Any:
    """The idea card in a list whose title is `title`."""
    return page.locator("article.idea-card").filter(has=page.get_by_role("link", name=title, exact=True))


async def axe_violations(page: Page, *, exclude: list[str] | None = None) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
        await page.add_script_tag(path=str(AXE))
    context = {"exclude": [[s] for s in exclude]} if exclude else {"exclude": []}
    results = await page.evaluate(
        """async ([context, tags]) => {
            const r = await axe.run(context.exclude.length ? context : document,
                                    { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
            return r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({ target: n.target.join(' '), summary: n.failureSummary,
                                           html: n.html.slice(0, 200) })) }));
        }""",
        [context, AXE_TAGS],
    )
    return [v for v in results if v["impact"] in FAILING_IMPACTS]


def describe(violations: list[dict[str, Any]]) -> str:
    return json.dumps(violations, indent=1)[:6000]


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
