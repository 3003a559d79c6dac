from api.core.auth import Role

async def test_probe(client, world):
    r = await client.post("/api/v1/auth/login", json={"username": "a\u0000b", "password": "x"})
    print("nul login", r.status_code, r.text[:300])
    await client.login(world.admins[Role.SECURITY_ADMIN])
    r = await client.get("/api/v1/accounts/", params={"q": "a\x00"})
    print("nul q", r.status_code, r.text[:300])
    r = await client.post("/api/v1/accounts/", json={"username": "abc", "display_name": "a\x00b", "password": "Xk9#mq2!vLp7", "role": {"role": "guard", "community_id": str(world.a.community)}})
    print("nul display", r.status_code, r.text[:300])
