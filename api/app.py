"""The FastAPI app: services, error rendering, authentication and account endpoints.

Errors are problem+json (RFC 9457) with a Chinese ``title`` and ``detail``; the same
exception classes the CLI renders as one line (``graph.errors``) carry their status.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from api import pages, routes
from api.accounts import Accounts, LoginThrottle, Role, User
from api.config import ApiSettings
from api.deps import AdminDep, Services, ServicesDep, UserDep, client_ip, token_of
from graph.engine import CoverageEngine
from graph.errors import FugaiError, TooManyAttempts, Unauthorized
from graph.store import Store
from graph.stores import open_store

STATIC = Path(__file__).parent / "static"
PROBLEM = "application/problem+json"
_HTTP_TITLES = {404: "未找到", 405: "方法不允许", 401: "需要登录", 403: "无权操作",
                422: "请求参数有误", 413: "请求过大"}


def problem(status: int, title: str, detail: str) -> JSONResponse:
    return JSONResponse({"type": "about:blank", "title": title, "status": status,
                         "detail": detail}, status_code=status, media_type=PROBLEM)


def create_app(settings: ApiSettings | None = None, store: Store | None = None) -> FastAPI:
    """The staff server. ``store`` may be given (tests); otherwise it is opened from the
    settings and closed with the app."""
    settings = settings or ApiSettings()
    settings.check()
    own_store = store is None
    svc = Services(settings, store or open_store(settings.store_uri()), None,  # type: ignore[arg-type]
                   Accounts(settings.accounts_path(), settings.secret_key), LoginThrottle())
    svc.engine = CoverageEngine(svc.store)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        svc.accounts.close()
        if own_store:
            svc.store.close()

    # the API docs (/docs, /redoc) with their scripts served by fugai itself: the staff's
    # intranets have no internet, so the CDN that FastAPI's docs pages load is not there
    app = FastAPIOffline(title="fugai 两新组织党组织覆盖", version=routes.VERSION, lifespan=lifespan,
                  description="两新工委覆盖情况查询接口。所有查询按登录用户的区划范围限定。")
    app.state.services = svc

    @app.exception_handler(FugaiError)
    async def fugai_error(request: Request, exc: FugaiError) -> Any:
        if pages.wants_html(request):
            return pages.error_page(request, exc.http_status, exc.title, exc.message)
        return problem(exc.http_status, exc.title, exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Any:
        title = _HTTP_TITLES.get(exc.status_code, "请求有误")
        if pages.wants_html(request):
            return pages.error_page(request, exc.status_code, title, title)
        return problem(exc.status_code, title, str(exc.detail) if exc.status_code != 404
                       else "没有这个地址")

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Any:
        detail = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}"
                           for e in exc.errors()[:5])
        return problem(422, "请求参数有误", detail)

    app.include_router(routes.router)
    app.include_router(auth_router())
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in_hours: float


class UserIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=10, max_length=200)
    role: Role = Role.viewer
    region: str = Field("", pattern=r"^\d{0,12}$")


class UserPatch(BaseModel):
    role: Role | None = None
    region: str | None = Field(None, pattern=r"^\d{0,12}$")
    active: bool | None = None
    password: str | None = Field(None, min_length=10, max_length=200)


def user_json(u: User) -> dict[str, Any]:
    return {"username": u.username, "role": u.role.name, "role_zh": u.role.zh,
            "region": u.region, "active": u.active}


def login(svc: Services, request: Request, username: str, password: str) -> User:
    """Check a password, rate-limited per user name and per address; audited."""
    ip = client_ip(request)
    keys = [f"u:{username}", f"ip:{ip}"]
    now = time.monotonic()
    if svc.throttle.blocked(keys, now):
        svc.accounts.audit(username, "login_blocked", "", ip)
        raise TooManyAttempts("登录失败次数过多，请 5 分钟后再试")
    user = svc.accounts.verify(username, password)
    if user is None:
        svc.throttle.failed(keys, now)
        svc.accounts.audit(username, "login_failed", "", ip)
        raise Unauthorized("用户名或密码错误")
    svc.throttle.succeeded(keys)
    svc.accounts.audit(username, "login", "", ip)
    return user


def auth_router() -> APIRouter:
    r = APIRouter(prefix="/api/v1", tags=["accounts"])

    @r.post("/auth/token", response_model=TokenOut)
    def token(request: Request, svc: ServicesDep, username: Annotated[str, Form()],
              password: Annotated[str, Form()]) -> TokenOut:
        """A bearer token for other systems (OAuth2 password form)."""
        user = login(svc, request, username, password)
        hours = svc.settings.token_hours
        return TokenOut(access_token=svc.accounts.issue(user, "api", hours),
                        expires_in_hours=hours)

    @r.post("/auth/logout", status_code=204)
    def logout(request: Request, svc: ServicesDep, user: UserDep) -> None:
        tok = token_of(request)
        if tok:
            svc.accounts.revoke(tok)

    @r.get("/me")
    def me(user: UserDep) -> dict[str, Any]:
        return user_json(user)

    @r.get("/users")
    def users(svc: ServicesDep, admin: AdminDep) -> list[dict[str, Any]]:
        return [user_json(u) for u in svc.accounts.users()]

    @r.post("/users", status_code=201)
    def add_user(body: UserIn, svc: ServicesDep, admin: AdminDep) -> dict[str, Any]:
        u = svc.accounts.add_user(body.username, body.password, body.role, body.region)
        svc.accounts.audit(admin.username, "user_add", f"{u.username} {u.role.name} {u.region}")
        return user_json(u)

    @r.patch("/users/{username}")
    def patch_user(username: str, body: UserPatch, svc: ServicesDep,
                   admin: AdminDep) -> dict[str, Any]:
        u = svc.accounts.update(username, role=body.role, region=body.region,
                                active=body.active, password=body.password)
        svc.accounts.audit(admin.username, "user_update", username)
        return user_json(u)

    @r.get("/audit")
    def audit(svc: ServicesDep, admin: AdminDep, limit: int = 200) -> list[dict[str, Any]]:
        return svc.accounts.audit_log(min(max(limit, 1), 2000))

    return r
