"""Reset puts a served district back to its generated state after ticks and rollovers."""

from __future__ import annotations

from pathlib import Path

import httpx

from mock_provider.app import create_app
from mock_provider.connections import ALL_SCOPES_V12, Connection
from mock_provider.district import DistrictSpec, build_district
from mock_provider.store import Store

from .live_server import live_server

ADMIN = "reset-admin-token"


def _hash(path: Path) -> str:
    with Store(path) as store:
        return store.content_hash()


def test_reset_undoes_ticks_and_rollovers(tmp_path: Path) -> None:
    spec = DistrictSpec(seed=11, students=60, size="custom")
    served_path, pristine_path = tmp_path / "served.sqlite", tmp_path / "pristine.sqlite"
    build_district(spec, served_path)
    build_district(spec, pristine_path)
    generated = _hash(pristine_path)
    store = Store(served_path)
    connection = Connection(name="c", client_id="c", client_secret="c-secret",
                            scopes=ALL_SCOPES_V12)
    with live_server(create_app(store, [connection], admin_token=ADMIN,
                                close_store=True)) as url:
        admin = {"Authorization": f"Bearer {ADMIN}"}
        assert httpx.post(f"{url}/admin/tick?days=7", headers=admin).status_code == 200
        assert httpx.post(f"{url}/admin/rollover", headers=admin).status_code == 200
        assert _hash(served_path) != generated
        token = httpx.post(f"{url}/oauth2/token", data={"grant_type": "client_credentials"},
                           auth=("c", "c-secret")).json()["access_token"]
        bearer = {"Authorization": f"Bearer {token}"}
        terms = f"{url}/ims/oneroster/rostering/v1p2/terms"
        assert {t["schoolYear"] for t in httpx.get(terms, headers=bearer).json()[
            "academicSessions"]} == {"2028"}

        reset = httpx.post(f"{url}/admin/reset", headers=admin)
        assert reset.status_code == 200, reset.text
        assert reset.json()["clock"] == "2026-11-02T07:00:00Z"
        assert reset.json()["schoolYear"] == 2027
        assert _hash(served_path) == generated
        assert {t["schoolYear"] for t in httpx.get(terms, headers=bearer).json()[
            "academicSessions"]} == {"2027"}
        assert httpx.get(f"{url}/admin/clock", headers=admin).json() == {
            "clock": "2026-11-02T07:00:00Z"}
        assert httpx.post(f"{url}/admin/reset?now=1", headers=admin).status_code == 400
        assert httpx.post(f"{url}/admin/reset").status_code == 401


def test_reset_is_absent_when_admin_is_off(tmp_path: Path) -> None:
    path = tmp_path / "d.sqlite"
    build_district(DistrictSpec(seed=11, students=60, size="custom"), path)
    with live_server(create_app(Store(path), [], close_store=True)) as url:
        assert httpx.post(f"{url}/admin/reset").status_code == 404
