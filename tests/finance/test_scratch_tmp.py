import json
from sel_time import finance
def test_print(ledger, client, login_as):
    h = login_as("finance")
    for g in finance.GROUPINGS:
        r = client.get(f"/api/v1/costs?by={g}&from=2026-12-01&to=2027-01-31", headers=h)
        print(g, json.dumps(r.get_json(), indent=None))
