import pytest
from api.core.auth import Role

async def test_smoke(client, world):
    r = await client.get("/api/v1/auth/me")
    assert r.status_code == 401, r.text
    await client.login(world.a.users[Role.GUARD])
    r = await client.get("/api/v1/auth/me")
    assert r.status_code == 200, r.text
    print(r.json())
