"""The portal's policies for each role, banned users and visitors; and token ownership over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal import accounts, permissions
from portal.errors import Forbidden, NotFound, Unauthorized
from portal.models import ROLES, ApiToken, User
from tests.browser import Client
from tests.factories import make_user

BANNED_AT = datetime(2026, 1, 1, tzinfo=UTC)


def person(role: str, *, banned: bool = False, id: int = 1) -> User:
    """An unsaved user: policies decide from the object alone, without the database."""
    return User(
        id=id, email=f"{role}{id}@example.com", name=role, role=role, banned_at=BANNED_AT if banned else None
    )


EVERYONE: list[tuple[str, User | None]] = [
    ("visitor", None),
    *[(role, person(role)) for role in ROLES],
    *[(f"banned {role}", person(role, banned=True)) for role in ROLES],
]

# Who may, for each action that takes no object.
EXPECTED = {
    "account.view": {"member", "staff", "community_manager", "admin"},
    "users.manage": {"admin"},
    "audit.view": {"staff", "community_manager", "admin"},
}


def test_roles_are_the_four_known_ones() -> None:
    assert set(ROLES) == {"member", "staff", "community_manager", "admin"}


@pytest.mark.parametrize("action", sorted(EXPECTED))
@pytest.mark.parametrize(("who", "user"), EVERYONE, ids=[who for who, _ in EVERYONE])
def test_policy_for_each_role(action: str, who: str, user: User | None) -> None:
    assert permissions.can(user, action) is (who in EXPECTED[action])


@pytest.mark.parametrize(("who", "user"), EVERYONE, ids=[who for who, _ in EVERYONE])
def test_everyone_active_manages_their_own_tokens_and_only_admins_others(who: str, user: User | None) -> None:
    active = user is not None and user.banned_at is None
    assert permissions.can(user, "token.manage", user) is active
    other = person("member", id=99)
    assert permissions.can(user, "token.manage", other) is (who == "admin")


def test_require_answers_with_the_right_error() -> None:
    member = person("member")
    permissions.require(member, "account.view")  # allowed: no error
    permissions.require(person("admin"), "users.manage")
    with pytest.raises(Unauthorized):
        permissions.require(None, "account.view")
    with pytest.raises(Forbidden):
        permissions.require(member, "users.manage")
    with pytest.raises(Forbidden):
        permissions.require(person("admin", banned=True), "users.manage")
    with pytest.raises(NotFound):
        permissions.require(member, "token.manage", person("member", id=2), hide=True)
    with pytest.raises(NotFound):
        permissions.require(None, "account.view", hide=True)


def test_an_unknown_action_is_a_programming_error() -> None:
    with pytest.raises(RuntimeError, match=r"no policy for action 'ideas\.teleport'"):
        permissions.can(person("admin"), "ideas.teleport")


def test_a_policy_cannot_be_defined_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(permissions, "_policies", dict(permissions._policies))

    def first(user: User | None, obj: object) -> bool:
        return True

    def second(user: User | None, obj: object) -> bool:
        return False

    permissions.policy("test.action")(first)
    permissions.policy("test.action")(first)  # the same function again is harmless (re-import)
    with pytest.raises(RuntimeError, match="defined twice"):
        permissions.policy("test.action")(second)
    assert permissions.can(None, "test.action") is True


# Over HTTP and the services


async def test_revoking_someone_elses_token_is_not_found_and_leaves_it_active(
    client: Client, anon: Client
) -> None:
    owner = await make_user()
    token = await accounts.create_token(actor=None, owner=owner)
    row = await ApiToken.get(user_id=owner.id)
    for role in ("member", "staff", "community_manager"):
        await client.sign_in_as(await make_user(role=role))
        response = await client.post_form(f"/account/tokens/{row.id}/revoke")
        assert response.status_code == 404, role
    assert (await ApiToken.get(id=row.id)).revoked_at is None
    assert (await anon.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})).json()[
        "id"
    ] == owner.id


async def test_a_missing_token_looks_the_same_as_someone_elses(client: Client) -> None:
    owner = await make_user()
    await accounts.create_token(actor=None, owner=owner)
    row = await ApiToken.get(user_id=owner.id)
    await client.sign_in_as(await make_user())
    theirs = await client.post_form(f"/account/tokens/{row.id}/revoke")
    missing = await client.post_form(f"/account/tokens/{row.id + 1000}/revoke")
    assert theirs.status_code == missing.status_code == 404


async def test_an_admin_may_revoke_anyones_token(client: Client) -> None:
    owner = await make_user()
    await accounts.create_token(actor=None, owner=owner)
    row = await ApiToken.get(user_id=owner.id)
    await client.sign_in_as(await make_user(role="admin"))
    assert (await client.post_form(f"/account/tokens/{row.id}/revoke")).status_code == 303
    assert (await ApiToken.get(id=row.id)).revoked_at is not None


async def test_only_admins_create_accounts_through_the_service(client: Client) -> None:
    member = await make_user(role="member")
    staff = await make_user(role="staff")
    admin = await make_user(role="admin")
    for actor in (member, staff):
        with pytest.raises(Forbidden):
            await accounts.create_user(actor=actor, email="made@example.com", role="member")
    assert not await User.filter(email="made@example.com").exists()
    made = await accounts.create_user(actor=admin, email="Made@Example.com", role="staff")
    assert (made.email, made.role, made.verified) == ("made@example.com", "staff", True)


async def test_a_member_cannot_make_tokens_for_someone_else(client: Client) -> None:
    member = await make_user()
    other = await make_user()
    with pytest.raises(Forbidden):
        await accounts.create_token(actor=member, owner=other)
    assert await ApiToken.all().count() == 0


async def test_the_account_page_is_for_signed_in_users(client: Client) -> None:
    user = await make_user(name="Dana")
    assert (await client.get("/account")).status_code == 303
    await client.sign_in_as(user)
    page = await client.get("/account")
    assert page.status_code == 200
    assert "Dana" in page.text and user.email in page.text
