"""Every figure of every summary of the hand-costed ledger (see conftest), worked out by hand.

The lines (one per person per published session, cost fixed at publication, delivered =
cost × fraction taken rounded half-up; hours 4 except Cal's 1.5 h evening sessions):

    line  session               who  planned  taken       delivered        hours  hours taken
    L1    S1  29 Dec AM         Ada    48000  1            48000            4      4
    L2    S2  30 Dec AM         Bea    16400  0.5           8200            4      2
    L3    S3  31 Dec EVE        Cal     7875  0.3           2362.5 → 2363   1.5    0.45
    L4    S4  31 Dec AM team    Ada    48000  1            48000            4      4
    L5    S4                    Bea    16400  1            16400            4      4
    L6    S4                    Cal    21000  lost             0            4      0
    L7    S5  15 Dec PM         Dan    16400  lost             0            4      0
    L8    S6  5 Jan AM          Ada    48000  0.25         12000            4      1
    L9    S7  6 Jan AM          Bea    17200  1            17200            4      4
    L10   S8  7 Jan EVE         Cal     7875  0.25          1968.75 → 1969  1.5    0.375
    L11   S9  7 Jan AM team     Ada    48000  not recorded     0            4      0
    L12   S9                    Bea    17200  0.5           8600            4      2
    L13   S9                    Cal    21000  1            21000            4      4
    L14   S10 12 Jan PM         Dan    17200  1            17200            4      4

    December  planned 48000+16400+7875+48000+16400+21000+16400 = 174075
              delivered 48000+8200+2363+48000+16400 = 122963; hours 25.5, taken 14.45
    January   planned 48000+17200+7875+48000+17200+21000+17200 = 176475
              delivered 12000+17200+1969+8600+21000+17200 = 77969; hours 25.5, taken 15.375
    Total     planned 350550 (£3,505.50), delivered 200932 (£2,009.32), hours 51, taken 29.825

(2362.5 is rounded up, where round-half-to-even would give 2362.)

Budgets over 1 Dec 2026 – 31 Jan 2027 (62 days of the 365 in 2026/27), by month:

    Clinical Director (KCH, KCH-CD)  £36,500 a year: 3650000 × 31/365 = 310000 each month
    Nurse Lead (KCH, KCH-NL)         £7,300 a year:   730000 × 31/365 =  62000 each month
    Care Lead (Lambeth, LBL-CL)      £1,000 a year:   100000 × 31/365 = 8493.1507 each month
    Lambeth Place Team (LPT)         £1,000 a year:   as Care Lead
    Place Lead                       no budget
    Total: 2 × (310000 + 62000 + 2 × 8493.1507) = 777972.603 → 777973 (£7,779.73)

Rows' budgets are whole pence adding up to the total: floors first, then the pence left over
to the largest remainders, ties to the row shown first.

Cost per delivered hour = delivered ÷ hours taken, half-up to the penny; hours half-up to two
places.
"""
from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient

from sel_time.finance import backfill
from tests.finance.conftest import PERIOD, Ledger

COLUMNS = ("sessions", "planned", "delivered", "budget", "variance_planned", "variance_delivered",
           "hours_planned", "hours_delivered", "cost_per_delivered_hour")


def R(key: str | None, sessions: int, planned: str, delivered: str, budget: str | None,
      var_planned: str | None, var_delivered: str | None, hours: str, hours_taken: str,
      per_hour: str | None) -> tuple[Any, ...]:
    return (key, sessions, planned, delivered, budget, var_planned, var_delivered, hours,
            hours_taken, per_hour)


# Totals whenever budgets apply: budget 7779.73; 7779.73 − 3505.50 = 4274.23;
# 7779.73 − 2009.32 = 5770.41; hours taken 29.825 → 29.83; 200932 / 29.825 = 6737.03 p/h.
TOTAL = R(None, 14, "3505.50", "2009.32", "7779.73", "4274.23", "5770.41", "51", "29.83", "67.37")
# Department, profession and staff group carry no budgets (a budget belongs to a role or team).
TOTAL_NO_BUDGET = R(None, 14, "3505.50", "2009.32", None, None, None, "51", "29.83", "67.37")

EXPECTED: dict[str, tuple[list[tuple[Any, ...]], tuple[Any, ...]]] = {
    "organisation": ([
        # Team budgets stand on their own (a team spans organisations): 16986.30 → its share.
        # Floors 16986 + 744000 + 16986 = 777972, one penny short of 777973; the two .30137
        # remainders tie, so the first row shown takes it: 16987.
        R("(team budgets)", 0, "0.00", "0.00", "169.87", "169.87", "169.87", "0", "0", None),
        # Ada and Bea. Planned 4 × 48000 + 16400 + 16400 + 17200 + 17200 = 259200;
        # delivered 48000+48000+12000+0 + 8200+16400+17200+8600 = 158400;
        # budget 620000 + 124000 = 744000; hours 8 × 4 = 32, taken 4+4+1+0 + 2+4+4+2 = 21;
        # 158400 / 21 = 7542.86 p/h
        R("King's College Hospital", 8, "2592.00", "1584.00", "7440.00", "4848.00", "5856.00",
          "32", "21", "75.43"),
        # Cal and Dan. Planned 7875+21000+7875+21000 + 16400+17200 = 91350;
        # delivered 2363+0+1969+21000 + 0+17200 = 42532; budget (Care Lead) 16986;
        # 169.86 − 913.50 = −743.64; 169.86 − 425.32 = −255.46; hours 11 + 8 = 19,
        # taken 0.45+0+0.375+4 + 0+4 = 8.825 → 8.83; 42532 / 8.825 = 4819.49 p/h
        R("London Borough of Lambeth", 6, "913.50", "425.32", "169.86", "-743.64", "-255.46",
          "19", "8.83", "48.19"),
    ], TOTAL),
    "department": ([
        # A department is named with its organisation (every council has an Adult Social Care).
        # Dan has no department: 16400+17200 = 33600, delivered 17200, 8 h, 4 taken → £43.00/h
        R("(none)", 2, "336.00", "172.00", None, None, None, "8", "4", "43.00"),
        # Cal: 57750, delivered 2363+1969+21000 = 25332, 11 h, 4.825 taken → 4.83;
        # 25332 / 4.825 = 5250.16 p/h
        R("Adult Social Care, London Borough of Lambeth", 4, "577.50", "253.32", None, None, None,
          "11", "4.83", "52.50"),
        # Bea: 16400+16400+17200+17200 = 67200, delivered 8200+16400+17200+8600 = 50400;
        # 16 h, 12 taken → 4200 p/h
        R("Community Nursing, King's College Hospital", 4, "672.00", "504.00", None, None, None,
          "16", "12", "42.00"),
        # Ada: 4 × 48000 = 192000, delivered 48000+48000+12000 = 108000; 16 h, 9 taken
        R("Emergency Department, King's College Hospital", 4, "1920.00", "1080.00", None, None,
          None, "16", "9", "120.00"),
    ], TOTAL_NO_BUDGET),
    "profession": ([
        R("consultant", 4, "1920.00", "1080.00", None, None, None, "16", "9", "120.00"),
        # Bea and Dan: 67200 + 33600 = 100800; 50400 + 17200 = 67600; 24 h, 16 taken
        R("nurse", 6, "1008.00", "676.00", None, None, None, "24", "16", "42.25"),
        R("social worker", 4, "577.50", "253.32", None, None, None, "11", "4.83", "52.50"),
    ], TOTAL_NO_BUDGET),
    "staff_group": ([
        R("afc_band_7", 6, "1008.00", "676.00", None, None, None, "24", "16", "42.25"),
        R("consultant", 4, "1920.00", "1080.00", None, None, None, "16", "9", "120.00"),
        # Cal is costed at her own rate but stays in her staff group
        R("social_worker", 4, "577.50", "253.32", None, None, None, "11", "4.83", "52.50"),
    ], TOTAL_NO_BUDGET),
    "role": ([
        # L3 + L10: 7875 + 7875 = 15750; 2363 + 1969 = 4332; 3 h, 0.825 taken → 0.83.
        # Budget: Care Lead and the team both have remainder .30137; Care Lead is shown first
        # and takes the spare penny: 16987. 169.87 − 157.50 = 12.37; 169.87 − 43.32 = 126.55;
        # 4332 / 0.825 = 5250.91 p/h
        R("Care Lead", 2, "157.50", "43.32", "169.87", "12.37", "126.55", "3", "0.83", "52.51"),
        # L1 + L8: 96000; 48000 + 12000 = 60000; budget 620000; 8 h, 5 taken
        R("Clinical Director", 2, "960.00", "600.00", "6200.00", "5240.00", "5600.00", "8", "5",
          "120.00"),
        # L2 + L9: 16400 + 17200 = 33600; 8200 + 17200 = 25400; budget 124000; 8 h, 6 taken;
        # 25400 / 6 = 4233.33 p/h
        R("Nurse Lead", 2, "336.00", "254.00", "1240.00", "904.00", "986.00", "8", "6", "42.33"),
        # L7 + L14: no budget, so the whole cost is over it
        R("Place Lead", 2, "336.00", "172.00", "0.00", "-336.00", "-172.00", "8", "4", "43.00"),
        # The team has no funding role: its sessions are its own line. L4–L6 + L11–L13:
        # 48000+16400+21000+48000+17200+21000 = 171600; 48000+16400+0+0+8600+21000 = 94000;
        # budget 16986; 24 h, 14 taken; 94000 / 14 = 6714.29 p/h
        R("Team: Lambeth Place Team", 6, "1716.00", "940.00", "169.86", "-1546.14", "-770.14",
          "24", "14", "67.14"),
    ], TOTAL),
    "team": ([
        # Everything but the team: 96000+33600+15750+33600 = 178950;
        # 60000+25400+4332+17200 = 106932; budget 620000+124000+16986.30 = 760986.30, which
        # ties with the team's .30 and is shown first: 760987; 7609.87 − 1069.32 = 6540.55;
        # 27 h, 15.825 taken → 15.83; 106932 / 15.825 = 6757.16 p/h
        R("(individual sessions)", 8, "1789.50", "1069.32", "7609.87", "5820.37", "6540.55",
          "27", "15.83", "67.57"),
        R("Lambeth Place Team", 6, "1716.00", "940.00", "169.86", "-1546.14", "-770.14",
          "24", "14", "67.14"),
    ], TOTAL),
    "budget_code": ([
        # Place Lead has no budget code
        R("(none)", 2, "336.00", "172.00", "0.00", "-336.00", "-172.00", "8", "4", "43.00"),
        R("KCH-CD", 2, "960.00", "600.00", "6200.00", "5240.00", "5600.00", "8", "5", "120.00"),
        R("KCH-NL", 2, "336.00", "254.00", "1240.00", "904.00", "986.00", "8", "6", "42.33"),
        # LBL-CL and LPT tie; LBL-CL is shown first and takes the spare penny
        R("LBL-CL", 2, "157.50", "43.32", "169.87", "12.37", "126.55", "3", "0.83", "52.51"),
        R("LPT", 6, "1716.00", "940.00", "169.86", "-1546.14", "-770.14", "24", "14", "67.14"),
    ], TOTAL),
    "month": ([
        # Budget each month 310000 + 62000 + 8493.15 + 8493.15 = 388986.30; the tie goes to
        # December: 388987 and 388986. 3889.87 − 1740.75 = 2149.12; 3889.87 − 1229.63 = 2660.24;
        # 122963 / 14.45 = 8509.55 p/h
        R("2026-12", 7, "1740.75", "1229.63", "3889.87", "2149.12", "2660.24", "25.5", "14.45",
          "85.10"),
        # 3889.86 − 1764.75 = 2125.11; 3889.86 − 779.69 = 3110.17; 15.375 h → 15.38;
        # 77969 / 15.375 = 5071.15 p/h
        R("2027-01", 7, "1764.75", "779.69", "3889.86", "2125.11", "3110.17", "25.5", "15.38",
          "50.71"),
    ], TOTAL),
    "quarter": ([
        # NHS financial year April–March: Q3 is October–December, Q4 January–March
        R("2026/27 Q3", 7, "1740.75", "1229.63", "3889.87", "2149.12", "2660.24", "25.5", "14.45",
          "85.10"),
        R("2026/27 Q4", 7, "1764.75", "779.69", "3889.86", "2125.11", "3110.17", "25.5", "15.38",
          "50.71"),
    ], TOTAL),
    "year": ([
        R("2026/27", 14, "3505.50", "2009.32", "7779.73", "4274.23", "5770.41", "51", "29.83",
          "67.37"),
    ], TOTAL),
}


def as_tuple(key: str | None, row: dict[str, Any]) -> tuple[Any, ...]:
    """A JSON row as (key, sessions, then each figure as an exact decimal or None)."""
    def exact(v: Any) -> Decimal | None:
        return None if v is None else Decimal(str(v))
    return (key, row["sessions"], *(exact(row[c]) for c in COLUMNS[1:]))


def expected_tuple(r: tuple[Any, ...]) -> tuple[Any, ...]:
    return (r[0], r[1], *(None if v is None else Decimal(v) for v in r[2:]))


@pytest.fixture()
def finance_user(login_as: Callable[..., dict[str, str]]) -> dict[str, str]:
    return login_as("finance")


def test_every_figure_of_every_grouping_to_the_penny(
        ledger: Ledger, client: FlaskClient, finance_user: dict[str, str]) -> None:
    wrong = {}
    for grouping, (rows, total) in EXPECTED.items():
        r = client.get("/api/v1/costs", query_string={"by": grouping, **PERIOD},
                       headers=finance_user)
        assert r.status_code == 200, r.get_data(as_text=True)
        doc = r.get_json()
        assert (doc["by"], doc["from"], doc["to"]) == ([grouping], PERIOD["from"], PERIOD["to"])
        got = [as_tuple(row[grouping], row) for row in doc["rows"]]
        got.append(as_tuple(None, doc["totals"]))
        want = [expected_tuple(e) for e in [*rows, total]]
        if got != want:
            wrong[grouping] = [(g, w) for g, w in zip(got, want) if g != w] or (got, want)
    assert set(EXPECTED) == set(backfill.GROUPINGS)
    assert not wrong, wrong


def test_an_organisation_sees_its_own_people_and_its_roles_budgets(
        ledger: Ledger, client: FlaskClient, finance_user: dict[str, str]) -> None:
    """Lambeth only: Cal's and Dan's lines (Cal's team sessions included), the budgets of the
    roles Lambeth hosts, and no team budgets (a team is not one organisation's)."""
    r = client.get("/api/v1/costs", headers=finance_user,
                   query_string={"by": "role", "organisation": "lbl", **PERIOD})
    assert r.status_code == 200, r.get_data(as_text=True)
    doc = r.get_json()
    assert [as_tuple(row["role"], row) for row in doc["rows"]] == [expected_tuple(e) for e in [
        # 16986.30 alone rounds to 16986; 169.86 − 157.50 = 12.36; 169.86 − 43.32 = 126.54
        R("Care Lead", 2, "157.50", "43.32", "169.86", "12.36", "126.54", "3", "0.83", "52.51"),
        R("Place Lead", 2, "336.00", "172.00", "0.00", "-336.00", "-172.00", "8", "4", "43.00"),
        # Cal's part of the two team sessions: 21000 + 21000, one lost, one taken
        R("Team: Lambeth Place Team", 2, "420.00", "210.00", "0.00", "-420.00", "-210.00", "8",
          "4", "52.50"),
    ]]
    # 91350 planned, 42532 delivered, 16986 budget (as Lambeth's row above, less team budgets)
    assert as_tuple(None, doc["totals"]) == expected_tuple(
        R(None, 6, "913.50", "425.32", "169.86", "-743.64", "-255.46", "19", "8.83", "48.19"))


def test_the_period_filters_by_the_day_of_the_session(
        ledger: Ledger, client: FlaskClient, finance_user: dict[str, str]) -> None:
    """January only: 31 of the 365 days' budgets, and January's lines."""
    r = client.get("/api/v1/costs", headers=finance_user,
                   query_string={"by": "year", "from": "2027-01-01", "to": "2027-01-31"})
    # 310000 + 62000 + 8493.15 + 8493.15 = 388986.30 → 388986
    assert as_tuple(None, r.get_json()["totals"]) == expected_tuple(
        R(None, 7, "1764.75", "779.69", "3889.86", "2125.11", "3110.17", "25.5", "15.38", "50.71"))
    # Without a period: from the first to the last published session (30 Nov – 2 Feb), so
    # the two sessions outside December–January count too (16400 + 17200, both taken).
    whole = backfill.summarise(["year"])
    assert (whole.first.isoformat(), whole.last.isoformat()) == ("2026-11-30", "2027-02-02")
    assert (whole.total.sessions, whole.total.planned, whole.total.delivered) == (
        16, 350550 + 16400 + 17200, 200932 + 16400 + 17200)
