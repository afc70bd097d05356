def test_health(client):
    r = client.get("/health")
    assert r.status_code == 200
    assert r.json["database"] == "ok"


def test_create_and_list(client, login_as, make):
    org = make("organisations")
    h = login_as("rota_manager")
    r = client.post("/api/v1/people", json={"email": "a@nhs.net", "name": "Amara Okafor",
                    "profession": "nurse", "band": "7", "organisation_id": org.id}, headers=h)
    assert r.status_code == 201, r.json
    r = client.get("/api/v1/people?q=amara", headers=h)
    assert r.json["total"] == 1
