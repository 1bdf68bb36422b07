"""ideas/admin_routes.py: the admin pages for boards and statuses, driven as a browser would."""

from __future__ import annotations

import re

import pytest

from ideas.models import Board, Status
from portal.models import AuditEntry
from tests.browser import Client
from tests.factories import make_user

NEW_BOARD = {
    "slug": "mobile-app",
    "name": "Mobile app",
    "visibility": "public",
    "description": "Our iOS and Android apps.",
    "min_tier": "",
    "response_target_hours": "48",
}


async def _as(client: Client, role: str) -> None:
    await client.sign_in_as(await make_user(role=role))


async def test_admin_creates_a_board(client: Client) -> None:
    await _as(client, "admin")
    page = await client.get("/admin/boards")
    assert page.status_code == 200
    assert 'name="csrf_token"' in page.text
    for field in ("slug", "name", "visibility", "description", "min_tier", "response_target_hours"):
        assert f'<label for="f-{field}"' in page.text

    response = await client.post_form("/admin/boards", NEW_BOARD)

    assert response.status_code == 303
    assert response.headers["location"] == "/admin/boards"
    board = await Board.get(slug="mobile-app")
    assert (board.name, board.visibility, board.response_target_hours) == ("Mobile app", "public", 48)
    assert board.description == "Our iOS and Android apps."
    listing = await client.get("/admin/boards")
    assert "Board “Mobile app” is created." in listing.text
    assert f'href="/admin/boards/{board.id}"' in listing.text
    assert await AuditEntry.filter(action="board.create", object_id=board.id).exists()


async def test_an_insider_board_opens_from_a_tier_that_exists(client: Client) -> None:
    await _as(client, "admin")
    page = await client.get("/admin/boards")
    # A choice among the tiers, the default (Insider) chosen, rather than a name to type and mistype.
    assert re.search(r'<select id="f-min_tier" name="min_tier"', page.text)
    assert re.search(r'<option value="insider"\s+selected>Insider</option>', page.text)
    assert '<option value="champion" >Champion</option>' in page.text

    response = await client.post_form(
        "/admin/boards", NEW_BOARD | {"visibility": "insiders", "min_tier": "Insdier"}
    )
    assert response.status_code == 422
    assert re.search(r'id="f-min_tier"[^>]*aria-invalid="true"', response.text, re.S)
    assert "Choose one of Member, Contributor, Insider, Champion." in response.text
    assert not await Board.exists(slug="mobile-app")

    response = await client.post_form("/admin/boards", NEW_BOARD | {"visibility": "insiders", "min_tier": ""})
    assert response.status_code == 303
    assert (await Board.get(slug="mobile-app")).min_tier == "insider", "empty: the default tier, by its key"


async def test_the_api_names_an_unknown_tier(client: Client) -> None:
    await _as(client, "admin")
    response = await client.api(
        "POST",
        "/api/v1/boards",
        json={"slug": "lab", "name": "Lab", "visibility": "insiders", "min_tier": "gold"},
    )
    assert response.status_code == 422
    assert response.json()["errors"] == {"min_tier": "Choose one of Member, Contributor, Insider, Champion."}
    assert not await Board.exists(slug="lab")


async def test_invalid_board_is_shown_again_with_every_error_and_nothing_written(client: Client) -> None:
    await _as(client, "admin")
    bad = NEW_BOARD | {"slug": "Not A Slug!", "name": "", "response_target_hours": "0"}

    response = await client.post_form("/admin/boards", bad)

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    for field in ("slug", "name", "response_target_hours"):
        assert re.search(rf'id="f-{field}"[^>]*aria-invalid="true"', response.text, re.S), field
        assert f'id="f-{field}-note"' in response.text
    assert "Enter a name of 1–80 characters." in response.text
    assert 'value="Not A Slug!"' in response.text  # what was typed comes back
    assert await Board.all().count() == 0
    assert not await AuditEntry.filter(action="board.create").exists()


async def test_duplicate_slug_is_a_field_error(client: Client) -> None:
    await _as(client, "admin")
    assert (await client.post_form("/admin/boards", NEW_BOARD)).status_code == 303

    response = await client.post_form("/admin/boards", NEW_BOARD | {"name": "Another"})

    assert response.status_code == 422
    assert "A board with this slug exists already." in response.text
    assert await Board.filter(slug="mobile-app").count() == 1


async def test_admin_edits_a_board(client: Client) -> None:
    await _as(client, "admin")
    await client.post_form("/admin/boards", NEW_BOARD)
    board = await Board.get(slug="mobile-app")

    page = await client.get(f"/admin/boards/{board.id}")
    assert page.status_code == 200
    assert 'value="mobile-app"' in page.text
    assert f'action="/admin/boards/{board.id}"' in page.text

    changed = NEW_BOARD | {"name": "Apps", "visibility": "insiders", "min_tier": "Champion"}
    response = await client.post_form(f"/admin/boards/{board.id}", changed)

    assert response.status_code == 303
    assert response.headers["location"] == "/admin/boards"
    await board.refresh_from_db()
    assert (board.name, board.visibility, board.min_tier) == ("Apps", "insiders", "champion")
    assert await AuditEntry.filter(action="board.update", object_id=board.id).exists()


async def test_invalid_edit_changes_nothing(client: Client) -> None:
    await _as(client, "admin")
    await client.post_form("/admin/boards", NEW_BOARD)
    board = await Board.get(slug="mobile-app")

    response = await client.post_form(
        f"/admin/boards/{board.id}", NEW_BOARD | {"name": "Apps", "visibility": "everyone"}
    )

    assert response.status_code == 422
    assert re.search(r'id="f-visibility"[^>]*aria-invalid="true"', response.text)
    await board.refresh_from_db()
    assert board.name == "Mobile app"


async def test_editing_a_missing_board_is_404(client: Client) -> None:
    await _as(client, "admin")
    assert (await client.get("/admin/boards/999")).status_code == 404
    assert (await client.post_form("/admin/boards/999", NEW_BOARD)).status_code == 404


async def test_admin_archives_and_unarchives_a_board(client: Client) -> None:
    await _as(client, "admin")
    await client.post_form("/admin/boards", NEW_BOARD)
    board = await Board.get(slug="mobile-app")
    page = await client.get("/admin/boards")
    assert f'action="/admin/boards/{board.id}/archive"' in page.text

    response = await client.post_form(f"/admin/boards/{board.id}/archive")
    assert response.status_code == 303
    await board.refresh_from_db()
    assert board.archived_at is not None
    page = await client.get("/admin/boards")
    assert "archived" in page.text
    assert f'action="/admin/boards/{board.id}/unarchive"' in page.text

    response = await client.post_form(f"/admin/boards/{board.id}/unarchive")
    assert response.status_code == 303
    await board.refresh_from_db()
    assert board.archived_at is None
    actions = await AuditEntry.filter(object_kind="board").order_by("id").values_list("action", flat=True)
    assert actions == ["board.create", "board.archive", "board.unarchive"]


@pytest.mark.parametrize("role", ["member", "staff", "community_manager"])
async def test_only_admins_manage_boards(client: Client, role: str) -> None:
    board = await Board.create(slug="api", name="API")
    await _as(client, role)

    for path in ("/admin/boards", f"/admin/boards/{board.id}", "/admin/statuses"):
        assert (await client.get(path)).status_code == 403, path
    writes = {
        "/admin/boards": NEW_BOARD,
        f"/admin/boards/{board.id}": NEW_BOARD,
        f"/admin/boards/{board.id}/archive": {},
        "/admin/statuses": {"new": "1", "key": "wontfix", "name": "Won't fix", "color": "#000000"},
    }
    for path, data in writes.items():
        response = await client.post_form(path, data)
        assert response.status_code == 403, path
        assert "You are not allowed to do that." in response.text  # the policy, not the CSRF check

    await board.refresh_from_db()
    assert (board.name, board.archived_at) == ("API", None)
    assert await Board.all().count() == 1
    assert not await Status.filter(key="wontfix").exists()
    assert 'href="/admin/boards"' not in (await client.get("/")).text


async def test_visitors_are_sent_to_sign_in(client: Client) -> None:
    for path in ("/admin/boards", "/admin/boards/1", "/admin/statuses"):
        response = await client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"] == f"/auth/signin?next={path}"
    assert (await client.post_form("/admin/boards", NEW_BOARD)).status_code == 401
    assert await Board.all().count() == 0


async def test_admins_see_the_admin_and_audit_links(client: Client) -> None:
    await _as(client, "admin")
    home = (await client.get("/")).text
    assert '<a href="/admin/boards">Admin</a>' in home
    assert '<a href="/staff/audit">Audit log</a>' in home


async def test_staff_see_the_audit_link_only(client: Client, anon: Client) -> None:
    await _as(client, "staff")
    home = (await client.get("/")).text
    assert '<a href="/staff/audit">Audit log</a>' in home
    assert '<a href="/admin/boards">Admin</a>' not in home
    public = (await anon.get("/")).text
    assert "/staff/audit" not in public
    assert "/admin/boards" not in public


STATUS = {"new": "1", "key": "wont_fix", "name": "Won't fix", "color": "#aa3300", "position": "9"}


async def test_admin_adds_a_status(client: Client) -> None:
    await _as(client, "admin")
    page = await client.get("/admin/statuses")
    assert page.status_code == 200
    assert '<label for="st-new-key">' in page.text

    response = await client.post_form("/admin/statuses", STATUS | {"is_closed": "1"})

    assert response.status_code == 303
    assert response.headers["location"] == "/admin/statuses"
    status = await Status.get(key="wont_fix")
    assert (status.name, status.color, status.is_closed, status.position) == ("Won't fix", "#aa3300", True, 9)
    page = await client.get("/admin/statuses")
    assert "Status “Won&#39;t fix” is added." in page.text
    assert '<label for="st-wont_fix-name">' in page.text


async def test_admin_renames_recolours_reorders_and_reopens_a_status(client: Client) -> None:
    await _as(client, "admin")
    await client.post_form("/admin/statuses", STATUS | {"is_closed": "1"})

    response = await client.post_form(
        "/admin/statuses", {"key": "wont_fix", "name": "Not planned", "color": "#123456", "position": "2"}
    )

    assert response.status_code == 303
    status = await Status.get(key="wont_fix")
    assert (status.name, status.color, status.position, status.is_closed) == (
        "Not planned",
        "#123456",
        2,
        False,
    )
    assert await AuditEntry.filter(action="status.save").count() == 2


async def test_adding_a_status_whose_key_exists_changes_nothing(client: Client) -> None:
    await _as(client, "admin")
    await client.post_form("/admin/statuses", STATUS)

    response = await client.post_form("/admin/statuses", STATUS | {"name": "Duplicate"})

    assert response.status_code == 422
    assert "A status with this key exists already." in response.text
    assert (await Status.get(key="wont_fix")).name == "Won't fix"


async def test_invalid_status_is_shown_with_its_errors(client: Client) -> None:
    await _as(client, "admin")
    await client.post_form("/admin/statuses", STATUS)

    response = await client.post_form(
        "/admin/statuses", {"key": "wont_fix", "name": "", "color": "red", "position": "first"}
    )

    assert response.status_code == 422
    for field in ("name", "color", "position"):
        assert re.search(rf'id="st-wont_fix-{field}"[^>]*aria-invalid="true"', response.text), field
    assert "Use a colour like #3046c8." in response.text
    status = await Status.get(key="wont_fix")
    assert (status.name, status.color) == ("Won't fix", "#aa3300")

    # A colour that white badge text cannot be read on.
    response = await client.post_form(
        "/admin/statuses", {"key": "wont_fix", "name": "Beta", "color": "#f2c94c"}
    )
    assert response.status_code == 422
    assert re.search(r'id="st-wont_fix-color"[^>]*aria-invalid="true"', response.text)
    assert "a contrast of 1.6:1, below the 4.5:1" in response.text
    assert (await Status.get(key="wont_fix")).color == "#aa3300"

    response = await client.post_form("/admin/statuses", STATUS | {"key": "Bad Key"})
    assert response.status_code == 422
    assert re.search(r'id="st-new-key"[^>]*aria-invalid="true"', response.text)
    assert 'value="Bad Key"' in response.text
    assert not await Status.filter(name="Won't fix").exclude(key="wont_fix").exists()
