"""The staff server over the hand-built district: roles, region scope, escaping,
errors, exports and web ingest.

The district's 西马街道 (445202002) unit E07 is renamed ``<script>…越界哨兵…</script>``:
it tests escaping for users who may see it, and for the 中山街道-only user (region
445202001) it is the sentinel that must appear in no answer at all.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from api import pages
from api.accounts import Role
from api.app import create_app
from api.config import DEFAULT_SECRET, ApiSettings
from graph.embedded import EmbeddedStore
from graph.errors import UsageError
from ingest.pipeline import IngestRequest, run_ingest
from tests.conftest import DISTRICT, PERSON_KEY, TODAY, district_files

E07 = "91445202700000079N"
E01 = "9144520270000001XE"
SENTINEL = "越界哨兵"
EVIL = f"<script>alert(1)</script>{SENTINEL}"
PASSWORDS = {"admin": "admin-password-1", "analyst": "analyst-password", "viewer":
             "viewer-password-1", "zs": "zhongshan-password"}


@pytest.fixture(scope="module")
def app_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("api")
    src = d / "district"
    src.mkdir()
    for f in district_files():
        text = f.read_text(encoding="utf-8")
        if f.name == "enterprises.csv":
            text = text.replace("揭阳市榕城区庚网络科技有限公司", EVIL)
        (src / f.name).write_text(text, encoding="utf-8")
    store = EmbeddedStore(d / "store.sqlite")
    run_ingest(store, [IngestRequest(p, mode="full") for p in sorted(src.glob("*.csv"))],
               person_key=PERSON_KEY, quarantine_dir=d / "q", today=TODAY)
    run_ingest(store, [IngestRequest(p, mode="delta") for p in
                       sorted((DISTRICT.parent / "district_extra").glob("*.csv"))],
               person_key=PERSON_KEY, quarantine_dir=d / "q", today=TODAY)
    store.close()
    return d


@pytest.fixture(scope="module")
def client(app_dir: Path) -> Iterator[TestClient]:
    settings = ApiSettings(secret_key="k" * 32, data_dir=app_dir,
                           store=str(app_dir / "store.sqlite"), person_key=PERSON_KEY.hex())
    app = create_app(settings)
    acc = app.state.services.accounts
    acc.add_user("admin", PASSWORDS["admin"], Role.admin)
    acc.add_user("analyst", PASSWORDS["analyst"], Role.analyst)
    acc.add_user("viewer", PASSWORDS["viewer"], Role.viewer)
    acc.add_user("zs", PASSWORDS["zs"], Role.analyst, "445202001")
    with TestClient(app) as c:
        yield c


def bearer(client: TestClient, user: str) -> dict[str, str]:
    res = client.post("/api/v1/auth/token", data={"username": user,
                                                  "password": PASSWORDS[user]})
    assert res.status_code == 200, res.text
    return {"Authorization": f"Bearer {res.json()['access_token']}"}


def test_default_secret_is_refused_outside_demo(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        create_app(ApiSettings(secret_key=DEFAULT_SECRET, data_dir=tmp_path,
                               store=str(tmp_path / "s.sqlite")))
    app = create_app(ApiSettings(secret_key=DEFAULT_SECRET, demo=True, data_dir=tmp_path,
                                 store=str(tmp_path / "s.sqlite")))
    assert app.title.startswith("fugai")


def test_health_and_problem_json(client: TestClient) -> None:
    assert client.get("/api/v1/health").json()["status"] == "ok"
    res = client.get("/api/v1/summary")
    assert res.status_code == 401
    assert res.headers["content-type"].startswith("application/problem+json")
    assert res.json()["title"] == "需要登录"
    h = bearer(client, "admin")
    missing = client.get("/api/v1/orgs/91445202MA0000000X", headers=h)
    assert missing.status_code == 404 and missing.json()["title"] == "未找到"
    bad = client.get("/api/v1/findings?finding=nonsense", headers=h)
    assert bad.status_code == 400 and "未知的问题类型" in bad.json()["detail"]
    invalid = client.get("/api/v1/findings?page=0", headers=h)
    assert invalid.status_code == 422 and invalid.json()["title"] == "请求参数有误"


def test_figures_match_the_engine(client: TestClient) -> None:
    h = bearer(client, "viewer")
    data = client.get("/api/v1/summary?by=street", headers=h).json()
    assert data["in_scope"] == 22 and data["rates"]["org_coverage"]["numerator"] == 15
    assert [b["code"] for b in data["breakdown"]] == ["445202001", "445202002", "445202003"]
    page = client.get("/api/v1/findings?finding=uncovered&size=2", headers=h).json()
    assert page["counts"] == {"uncovered": 5} and len(page["items"]) == 2
    assert client.get("/api/v1/tree", headers=h).json()["roots"][0]["total"]["in_scope"] == 22
    assert client.get("/api/v1/alliances/A01/candidates?hops=3",
                      headers=h).json()["candidates"][0]["uscc"] == E07
    assert [p["run_id"] for p in client.get("/api/v1/trend", headers=h).json()["points"]] == [1, 2]


def test_region_scoped_user_sees_only_their_street(client: TestClient) -> None:
    h = bearer(client, "zs")
    data = client.get("/api/v1/summary", headers=h).json()
    assert data["in_scope"] == 5  # 中山街道 only
    # asking for the whole district or another street gives the user's street or nothing
    assert client.get("/api/v1/summary?region=445202", headers=h).json()["in_scope"] == 5
    assert client.get("/api/v1/summary?region=445202002", headers=h).json()["in_scope"] == 0
    assert client.get(f"/api/v1/orgs/{E07}", headers=h).status_code == 404
    assert client.get(f"/api/v1/orgs/{E01}", headers=h).status_code == 200
    assert client.get("/api/v1/alliances/A01", headers=h).status_code == 404


SCOPED_GETS = [
    "/api/v1/summary", "/api/v1/summary?by=county", "/api/v1/summary?by=street&region=445202002",
    "/api/v1/findings?size=1000", "/api/v1/findings?region=445202002&size=1000",
    "/api/v1/findings/export.csv", "/api/v1/findings/export.csv?region=445202002",
    "/api/v1/findings/export.xlsx", f"/api/v1/orgs/{E07}", "/api/v1/orgs/91445202700000052Y",
    "/api/v1/tree", "/api/v1/alliances", "/api/v1/alliances/suggestions?min_size=2",
    "/api/v1/alliances/A01", "/api/v1/alliances/A01/candidates?hops=6", "/api/v1/trend",
    "/api/v1/runs", "/", "/?region=445202002", "/gaps", "/gaps?region=445202002&page=1",
    f"/orgs/{E07}", "/orgs/91445202700000052Y", "/tree", "/alliances", "/alliances/A01",
    "/runs", "/pictures/structure", "/pictures/region?code=445202",
    "/pictures/region?code=445202002", f"/pictures/org?code={E07}",
    f"/pictures/org?code={E01}", "/pictures/alliance?code=A01", "/charts/rates.svg",
    "/charts/rates.svg?by=street", "/charts/trend.svg", "/charts/findings.svg",
]


@pytest.mark.parametrize("path", SCOPED_GETS)
def test_nothing_leaks_outside_the_region(client: TestClient, path: str) -> None:
    h = bearer(client, "zs")
    res = client.get(path, headers={**h, "accept": "text/html"})
    body = res.content
    if path.endswith(".xlsx") and res.status_code == 200:
        import zipfile

        with zipfile.ZipFile(io.BytesIO(body)) as z:
            body = b"".join(z.read(n) for n in z.namelist())
    assert SENTINEL.encode() not in body, path
    assert "揭阳市戊五金".encode() not in body, path  # another 西马街道 unit


def test_untrusted_names_are_escaped(client: TestClient) -> None:
    h = bearer(client, "admin")
    for path in ("/gaps", f"/orgs/{E07}", "/alliances/A01", "/", f"/pictures/org?code={E07}",
                 "/pictures/region?code=445202002"):
        html = client.get(path, headers=h).text
        assert "<script>alert" not in html, path
        assert "&lt;script&gt;" in html or path == "/" or path.startswith("/pictures"), path
    data = client.get(f"/api/v1/orgs/{E07}", headers=h).json()
    assert data["organization"]["name"] == EVIL  # JSON carries the text as text


def test_exports(client: TestClient) -> None:
    h = bearer(client, "analyst")
    res = client.get("/api/v1/findings/export.csv?finding=uncovered", headers=h)
    assert res.status_code == 200 and res.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(res.content.decode("utf-8-sig"))))
    assert rows[0][0] == "问题类型" and len(rows) == 6
    xlsx = client.get("/api/v1/findings/export.xlsx", headers=h)
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert client.get("/api/v1/findings/export.csv",
                      headers=bearer(client, "viewer")).status_code == 403


def test_login_page_sessions_and_csrf(client: TestClient) -> None:
    c = TestClient(client.app)
    assert c.get("/", follow_redirects=False).status_code in (303, 401)
    res = c.post("/login", data={"username": "admin", "password": PASSWORDS["admin"],
                                 "next": "/gaps"}, follow_redirects=False)
    assert res.status_code == 303 and res.headers["location"] == "/gaps"
    assert "httponly" in res.headers["set-cookie"].lower()
    assert "samesite=strict" in res.headers["set-cookie"].lower()
    assert c.get("/gaps").status_code == 200
    forged = c.post("/users", data={"username": "x", "password": "y" * 12, "role": 1,
                                    "csrf": "forged"})
    assert forged.status_code == 403
    assert c.get("/users").status_code == 200


def test_failed_logins_are_throttled(client: TestClient) -> None:
    for _ in range(5):
        assert client.post("/api/v1/auth/token", data={"username": "viewer",
                                                       "password": "wrong-password"}
                           ).status_code == 401
    blocked = client.post("/api/v1/auth/token", data={"username": "viewer",
                                                      "password": PASSWORDS["viewer"]})
    assert blocked.status_code == 429
    client.app.state.services.throttle.succeeded(["u:viewer", "ip:testclient"])
    audit = client.get("/api/v1/audit", headers=bearer(client, "admin")).json()
    assert any(a["action"] == "login_failed" for a in audit)


def test_upload_runs_the_pipeline(client: TestClient, tmp_path: Path) -> None:
    h = bearer(client, "admin")
    body = ("统一社会信用代码,企业名称,企业类型,登记状态,区划代码\n"
            "914452027000002807,揭阳市榕东上传测试有限公司,有限责任公司,存续,445202003\n")
    from ingest.validate import uscc_check_char

    code = "91445202700000280" + uscc_check_char("91445202700000280")
    body = body.replace("914452027000002807", code)
    res = client.post("/api/v1/ingest", headers=h, data={"mode": "delta"},
                      files={"files": ("新登记.csv", body.encode("utf-8"), "text/csv")})
    assert res.status_code == 202, res.text
    job = res.json()["job_id"]
    for _ in range(200):
        state = client.get(f"/api/v1/ingest/{job}", headers=h).json()
        if state["status"] in ("complete", "failed"):
            break
        time.sleep(0.1)
    assert state["status"] == "complete", state
    assert state["report"]["files"][0]["created"] == 1
    org = client.get(f"/api/v1/orgs/{code}", headers=h).json()
    assert org["status"] == "uncovered"
    assert client.post("/api/v1/ingest", headers=bearer(client, "analyst"), data={"mode": "delta"},
                       files={"files": ("x.csv", b"a,b\n", "text/csv")}).status_code == 403


#: the least role each route needs; a route missing here fails the matrix test
MIN_ROLE: dict[tuple[str, str], int] = {
    ("GET", "/api/v1/health"): 0, ("POST", "/api/v1/auth/token"): 0,
    ("GET", "/login"): 0, ("POST", "/login"): 0,
    ("POST", "/api/v1/auth/logout"): 1, ("GET", "/api/v1/me"): 1,
    ("GET", "/api/v1/summary"): 1, ("GET", "/api/v1/findings"): 1,
    ("GET", "/api/v1/findings/export.csv"): 2, ("GET", "/api/v1/findings/export.xlsx"): 2,
    ("GET", "/api/v1/orgs/{uscc}"): 1, ("GET", "/api/v1/tree"): 1,
    ("GET", "/api/v1/alliances"): 1, ("GET", "/api/v1/alliances/suggestions"): 1,
    ("GET", "/api/v1/alliances/{code}"): 1, ("GET", "/api/v1/alliances/{code}/candidates"): 1,
    ("GET", "/api/v1/trend"): 1, ("GET", "/api/v1/runs"): 1,
    ("GET", "/api/v1/runs/{run_id}/quarantine/{name}"): 3,
    ("POST", "/api/v1/ingest"): 3, ("GET", "/api/v1/ingest/{job_id}"): 3,
    ("GET", "/api/v1/users"): 3, ("POST", "/api/v1/users"): 3,
    ("PATCH", "/api/v1/users/{username}"): 3, ("GET", "/api/v1/audit"): 3,
    ("POST", "/logout"): 1, ("GET", "/"): 1, ("GET", "/gaps"): 1,
    ("GET", "/orgs/{uscc}"): 1, ("GET", "/tree"): 1, ("GET", "/alliances"): 1,
    ("GET", "/alliances/{code}"): 1, ("GET", "/runs"): 1, ("POST", "/runs/upload"): 3,
    ("GET", "/users"): 3, ("POST", "/users"): 3,
    ("GET", "/pictures/{picture}"): 1, ("GET", "/charts/{chart}.svg"): 1,
}
SAMPLE = {"{uscc}": E01, "{code}": "A01", "{run_id}": "1", "{name}": "x.csv",
          "{job_id}": "nojob", "{username}": "nobody",
          "{picture}": "structure", "{chart}": "rates"}


def _routes(client: TestClient) -> list[tuple[str, str]]:
    """Every route: the API's from its OpenAPI document, the pages' from their router."""
    out = [(method.upper(), path) for path, ops in client.app.openapi()["paths"].items()
           for method in ops]
    for route in pages.router.routes:
        assert isinstance(route, APIRoute)
        out.extend((m, route.path) for m in route.methods if m not in ("HEAD", "OPTIONS"))
    return out


def test_every_route_is_in_the_matrix(client: TestClient) -> None:
    assert sorted(set(_routes(client))) == sorted(MIN_ROLE)


@pytest.mark.parametrize("role", ["anonymous", "viewer", "analyst", "admin"])
def test_authorization_matrix(client: TestClient, role: str) -> None:
    level = {"anonymous": 0, "viewer": 1, "analyst": 2, "admin": 3}[role]
    headers = {} if role == "anonymous" else bearer(client, role)
    for (method, path), need in MIN_ROLE.items():
        url = path
        for k, v in SAMPLE.items():
            url = url.replace(k, v)
        if (method, path) in {("POST", "/api/v1/auth/token"), ("POST", "/login"),
                              ("POST", "/api/v1/auth/logout"), ("POST", "/logout")}:
            continue  # exercised by the login tests; a logout would revoke the token
        res = client.request(method, url, headers=headers, follow_redirects=False)
        if level < need:
            expected = {401, 303} if level == 0 else {403}
            assert res.status_code in expected, (role, method, path, res.status_code)
        else:
            assert res.status_code not in (401, 403), (role, method, path, res.status_code)
            assert res.status_code < 500, (role, method, path, res.text[:200])


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_api_docs_work_without_internet(client: TestClient, page: str) -> None:
    """The docs pages load their scripts and styles from fugai itself (intranets have
    no CDN), and every one of them is served."""
    import re

    res = client.get(page)
    assert res.status_code == 200
    refs = re.findall(r"""(?:src|href|url)\s*[=:(]\s*['"]([^'"]+)['"]""", res.text)
    assets = [r for r in refs if r.endswith((".js", ".css"))]
    assert assets and not [r for r in refs if r.startswith(("http://", "https://", "//"))]
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


def test_a_wrong_password_on_the_login_page_is_shown_on_the_form(client: TestClient) -> None:
    res = client.post("/login", data={"username": "analyst", "password": "not-the-password",
                                      "next": "/"}, follow_redirects=False)
    assert res.status_code == 401
    assert "<form" in res.text and "用户名或密码错误" in res.text
    client.app.state.services.throttle.succeeded(["u:analyst", "ip:testclient"])
