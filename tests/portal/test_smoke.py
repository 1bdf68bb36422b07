from __future__ import annotations

from tests.browser import Client
from tests.factories import make_user


async def test_sign_in_and_me(client: Client) -> None:
    user = await make_user(name="Mo")
    await client.sign_in_as(user)
    response = await client.get("/api/v1/me")
    assert response.json() == {"id": user.id, "name": "Mo", "email": user.email, "role": "member"}
