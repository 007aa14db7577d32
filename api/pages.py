"""The staff pages: server-rendered Jinja2 (autoescaped), no CDN, usable at 1366×768.

Each page calls the same query functions as the JSON API with the scope from
``api.deps.scope``. Forms post with a CSRF token derived from the session (the
session cookie is also SameSite=Strict and HttpOnly).
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from api import jobs
from api.accounts import Role
from api.deps import (
    SESSION_COOKIE,
    AdminDep,
    FactsDep,
    ScopeDep,
    ServicesDep,
    SettingsDep,
    UserDep,
    token_of,
)
from graph import model as m
from graph import rules as r
from graph.alliances import alliance_candidates, alliance_detail, alliance_list, suggested_alliances
from graph.coverage import breakdown, committee_tree, flatten_tree, summary
from graph.errors import Forbidden, FugaiError, UsageError
from graph.explain import explain_org
from graph.findings import findings_page
from graph.trend import trend
from ingest.report import run_as_json

TEMPLATES = Path(__file__).parent / "templates"
env = Environment(loader=FileSystemLoader(TEMPLATES),
                  autoescape=select_autoescape(["html", "j2"]), trim_blocks=True,
                  lstrip_blocks=True)
env.globals.update(STATUS_ZH=r.STATUS_ZH, FINDING_ZH=r.FINDING_ZH, RATE_ZH=r.RATE_ZH,
                   FINDINGS=r.FINDINGS, REL_ZH={k: v.zh for k, v in m.RELATIONSHIPS.items()},
                   EXCLUSION_ZH=r.EXCLUSION_ZH)


def rate_text(rate: dict[str, Any]) -> str:
    return r.Rate(rate["numerator"], rate["denominator"]).text()


env.filters["rate"] = rate_text
router = APIRouter(include_in_schema=False)


def wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and \
        "text/html" in request.headers.get("accept", "text/html")


def csrf_token(request: Request) -> str:
    svc = request.app.state.services
    token = token_of(request) or ""
    return hmac.new(svc.settings.secret_key.encode(), b"csrf:" + token.encode(),
                    hashlib.sha256).hexdigest()


def check_csrf(request: Request, sent: str) -> None:
    if not hmac.compare_digest(csrf_token(request), sent or ""):
        raise Forbidden("表单已过期，请刷新页面后重试")


def render(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    user = getattr(request.state, "user", None)
    query: dict[str, Any] = {}
    for k, v in request.query_params.multi_items():
        query[k] = [*query[k], v] if isinstance(query.get(k), list) else (
            [query[k], v] if k in query else v)
    html = env.get_template(name).render(request=request, user=user, csrf=csrf_token(request),
                                         query=query, **ctx)
    return HTMLResponse(html, status_code=status, headers={
        "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                                   "style-src 'self' 'unsafe-inline'; script-src 'self'",
        "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"})


def error_page(request: Request, status: int, title: str, message: str) -> Response:
    if status == 401:
        return RedirectResponse("/login?" + urlencode({"next": request.url.path}), 303)
    return render(request, "error.html", status=status, title=title, message=message)


def qs(query: dict[str, Any], **changes: Any) -> str:
    q = {k: v for k, v in {**query, **changes}.items() if v not in (None, "")}
    return "?" + urlencode(q, doseq=True)


env.globals["qs"] = qs


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> HTMLResponse:
    return render(request, "login.html", next=next if next.startswith("/") else "/")


@router.post("/login")
def login_post(request: Request, svc: ServicesDep, username: Annotated[str, Form()],
               password: Annotated[str, Form()], next: Annotated[str, Form()] = "/") -> Response:
    from api.app import login

    try:
        user = login(svc, request, username, password)
    except FugaiError as exc:   # wrong password, throttled, bad input: shown on the form
        return render(request, "login.html", status=exc.http_status, error=exc.message,
                      next=next)
    token = svc.accounts.issue(user, "session", svc.settings.session_hours)
    resp = RedirectResponse(next if next.startswith("/") and not next.startswith("//") else "/",
                            303)
    resp.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict",
                    max_age=int(svc.settings.session_hours * 3600))
    return resp


@router.post("/logout")
def logout_post(request: Request, svc: ServicesDep, user: UserDep,
                csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf)
    tok = token_of(request)
    if tok:
        svc.accounts.revoke(tok)
    resp = RedirectResponse("/login", 303)
    resp.delete_cookie(SESSION_COOKIE)
    return resp


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, facts: FactsDep, scope: ScopeDep, settings: SettingsDep,
              user: UserDep, svc: ServicesDep) -> HTMLResponse:
    data = svc.engine.query(summary, scope=scope, settings=settings)
    by = "street" if len(scope.region) >= 6 else "county"
    return render(request, "dashboard.html", data=data,
                  districts=svc.engine.query(breakdown, scope=scope, settings=settings, by=by)["rows"],
                  committees=flatten_tree(svc.engine.query(committee_tree, scope=scope,
                                                         settings=settings))[:12],
                  top=svc.engine.query(findings_page, scope=scope, settings=settings, size=10)["items"],
                  trend=_trend(svc, scope), by=by)


def _trend(svc: Any, scope: Any) -> list[dict[str, Any]]:
    try:
        return trend(svc.store.view(), scope=scope, limit=30)["points"]  # type: ignore[no-any-return]
    except UsageError:
        return []


@router.get("/gaps", response_class=HTMLResponse)
def gaps(request: Request, facts: FactsDep, scope: ScopeDep, settings: SettingsDep,
         user: UserDep, svc: ServicesDep, finding: Annotated[list[str] | None, Query()] = None,
         page: Annotated[int, Query(ge=1)] = 1) -> HTMLResponse:
    kinds = [f for f in finding or [] if f] or None
    data = svc.engine.query(findings_page, scope=scope, settings=settings, kinds=kinds, page=page, size=50)
    return render(request, "gaps.html", data=data, kinds=kinds or [], page=page,
                  pages=max(1, -(-data["total"] // 50)),
                  can_export=user.role >= Role.analyst)


@router.get("/orgs/{uscc}", response_class=HTMLResponse)
def org_page(uscc: str, request: Request, facts: FactsDep, scope: ScopeDep,
             settings: SettingsDep, user: UserDep, svc: ServicesDep) -> HTMLResponse:
    data = explain_org(facts, svc.store.view(), uscc, scope=scope, settings=settings)
    if data["members"]["ids"]:
        svc.accounts.audit(user.username, "view_members", uscc)
    return render(request, "org.html", d=data)


@router.get("/tree", response_class=HTMLResponse)
def tree_page(request: Request, facts: FactsDep, scope: ScopeDep, settings: SettingsDep,
              user: UserDep, svc: ServicesDep) -> HTMLResponse:
    data = svc.engine.query(committee_tree, scope=scope, settings=settings)
    return render(request, "tree.html", data=data, rows=flatten_tree(data))


@router.get("/alliances", response_class=HTMLResponse)
def alliances_page(request: Request, facts: FactsDep, scope: ScopeDep, settings: SettingsDep,
                   user: UserDep, svc: ServicesDep) -> HTMLResponse:
    return render(request, "alliances.html",
                  data=svc.engine.query(alliance_list, scope=scope, settings=settings),
                  suggestions=svc.engine.query(suggested_alliances, scope=scope,
                                                  settings=settings)["suggestions"])


@router.get("/alliances/{code}", response_class=HTMLResponse)
def alliance_page(code: str, request: Request, facts: FactsDep, scope: ScopeDep,
                  settings: SettingsDep, user: UserDep, svc: ServicesDep,
                  hops: Annotated[int, Query(ge=1, le=6)] = 2) -> HTMLResponse:
    return render(request, "alliance.html",
                  d=svc.engine.query(alliance_detail, code, scope=scope, settings=settings),
                  c=svc.engine.query(alliance_candidates, code, scope=scope, settings=settings, hops=hops))


@router.get("/runs", response_class=HTMLResponse)
def runs_page(request: Request, user: UserDep, svc: ServicesDep) -> HTMLResponse:
    return render(request, "runs.html", runs=[run_as_json(x) for x in svc.store.view().runs(30)],
                  is_admin=user.role >= Role.admin, whole_area=not user.region)


@router.post("/runs/upload")
async def upload(request: Request, svc: ServicesDep, user: AdminDep,
                 files: jobs.UploadFiles, mode: jobs.ModeForm = "delta",
                 csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf)
    job = await jobs.start(svc, user, files, mode)
    return RedirectResponse(f"/runs?job={job.job_id}", 303)


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, svc: ServicesDep, user: AdminDep) -> HTMLResponse:
    return render(request, "users.html", users=svc.accounts.users(),
                  audit=svc.accounts.audit_log(100), roles=list(Role))


@router.post("/users")
def users_post(request: Request, svc: ServicesDep, admin: AdminDep,
               username: Annotated[str, Form()], password: Annotated[str, Form()],
               role: Annotated[int, Form()], region: Annotated[str, Form()] = "",
               csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf)
    u = svc.accounts.add_user(username, password, Role(role), region.strip())
    svc.accounts.audit(admin.username, "user_add", f"{u.username} {u.role.name} {u.region}")
    return RedirectResponse("/users", 303)


def picture_link(kind: str, code: str) -> str:
    """Drill-down links inside a picture open the finer picture on this server."""
    return "/pictures/" + kind + qs({}, code=code)


@router.get("/pictures/{picture}", response_class=HTMLResponse)
def picture_page(picture: str, request: Request, facts: FactsDep, scope: ScopeDep,
            settings: SettingsDep, user: UserDep, code: str | None = None,
            budget: Annotated[int, Query(ge=50, le=5000)] = 1500) -> HTMLResponse:
    """A network picture (structure / alliance / org / region), self-contained HTML
    carrying its own Content-Security-Policy."""
    from viz.pictures import build_picture
    from viz.render import render_html

    pic = build_picture(picture, facts, code or None, scope=scope, settings=settings,
                        budget=budget)
    return HTMLResponse(render_html(pic, linker=picture_link),
                        headers={"X-Content-Type-Options": "nosniff"})


@router.get("/charts/{chart}.svg")
def chart_svg(chart: str, request: Request, facts: FactsDep, scope: ScopeDep, settings: SettingsDep,
          user: UserDep, svc: ServicesDep,
          by: Annotated[str, Query(pattern="^(county|street|committee)$")] = "county",
          ) -> Response:
    """The dashboard's charts as SVG (rates per district/committee, trend, findings)."""
    from graph.findings import finding_counts
    from viz import charts

    if chart == "rates":
        rows = svc.engine.query(breakdown, scope=scope, settings=settings, by=by)["rows"]
        c = charts.rates_chart(rows, "三率对比")
    elif chart == "trend":
        c = charts.trend_chart(_trend(svc, scope), "覆盖率趋势")
    elif chart == "findings":
        c = charts.findings_chart(svc.engine.query(finding_counts, scope=scope, settings=settings),
                                  "问题数量")
    else:
        raise UsageError(f"未知的图表: {chart} (可选: rates, trend, findings)")
    return Response(c.document(), media_type="image/svg+xml",
                    headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
                             "X-Content-Type-Options": "nosniff"})
