"""The staff pages in a real browser (headless Debian Chromium through Playwright) at
an office screen's 1366×768: log in, filter the worklist, open an organisation,
download an export. Screenshots go to tests/artifacts/. Reported as not run where
no Chromium is found (``scripts/install-test-deps.sh`` installs it)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.accounts import Role
from api.app import create_app
from api.config import ApiSettings
from graph.embedded import EmbeddedStore
from tests.conftest import PERSON_KEY, ingest_district

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="Chromium not found at /usr/bin/chromium (not run)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import uvicorn

    d = tmp_path_factory.mktemp("browser")
    store = EmbeddedStore(d / "store.sqlite")
    ingest_district(store, d / "q")
    store.close()
    port = _free_port()
    settings = ApiSettings(secret_key="b" * 32, data_dir=d, store=str(d / "store.sqlite"),
                           person_key=PERSON_KEY.hex(), port=port)
    app = create_app(settings)
    app.state.services.accounts.add_user("analyst", "analyst-password", Role.analyst)
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(100):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


def test_staff_workflow(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        page = browser.new_page(viewport={"width": 1366, "height": 768}, accept_downloads=True)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(server + "/")
        assert "/login" in page.url
        page.fill("input[name=username]", "analyst")
        page.fill("input[name=password]", "analyst-password")
        page.click("button[type=submit]")
        page.wait_for_url(server + "/")
        assert "党组织覆盖率" in page.content() and "68.2%" in page.content()
        assert page.evaluate("document.documentElement.scrollWidth") <= 1366
        page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

        page.goto(server + "/gaps")
        page.check("input[name=finding][value=should_establish]")
        page.fill("#gaps-filter input[name=region]", "445202003")
        page.click("#gaps-filter button[type=submit]")
        page.wait_for_load_state()
        rows = page.locator("table.list tbody tr")
        assert rows.count() == 1 and "榕东辛贸易" in rows.first.inner_text()
        page.screenshot(path=str(ARTIFACTS / "gaps.png"), full_page=True)

        with page.expect_download() as dl:
            page.click("#export-xlsx")
        target = tmp_path / "gaps.xlsx"
        dl.value.save_as(target)
        assert target.read_bytes()[:2] == b"PK"

        page.click("table.list tbody tr a")
        page.wait_for_load_state()
        assert "覆盖状态: 未覆盖" in page.content()
        assert "责任党委" in page.content()
        page.screenshot(path=str(ARTIFACTS / "org.png"), full_page=True)

        with page.context.expect_page() as new_tab:
            page.click("a.pic")
        pic = new_tab.value
        pic.wait_for_load_state()
        pic.wait_for_selector("canvas")
        pic.screenshot(path=str(ARTIFACTS / "org-picture.png"))
        pic.close()

        for path in ("/tree", "/alliances", "/alliances/A01", "/runs"):
            page.goto(server + path)
            assert page.evaluate("document.documentElement.scrollWidth") <= 1366, path
            page.screenshot(path=str(ARTIFACTS / f"{path.strip('/').replace('/', '-')}.png"))
        browser.close()
    assert errors == []
