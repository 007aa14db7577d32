"""Request dependencies: who is asking, what they may do, and the scope they see.

The region scope is filled here, once, from the logged-in user (``scope``), and every
query function in ``graph/`` requires it as a keyword — so a handler cannot forget
it: a region-limited user's request is intersected with their prefix before any
query runs, and an object outside it answers 404 (``graph.errors.NotFound``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request

from api.accounts import Accounts, LoginThrottle, Role, User
from api.config import ApiSettings
from graph import rules as r
from graph.engine import CoverageEngine
from graph.errors import Forbidden, Unauthorized
from graph.facts import Facts
from graph.scope import Scope
from graph.store import Store

SESSION_COOKIE = "fugai_session"


@dataclass
class Services:
    """What the app holds for its lifetime (on ``app.state.services``)."""

    settings: ApiSettings
    store: Store
    engine: CoverageEngine
    accounts: Accounts
    throttle: LoginThrottle


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


ServicesDep = Annotated[Services, Depends(services)]


def token_of(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    return request.cookies.get(SESSION_COOKIE)


def current_user(request: Request, svc: ServicesDep) -> User:
    token = token_of(request)
    user = svc.accounts.resolve(token) if token else None
    if user is None:
        raise Unauthorized("请先登录")
    request.state.user = user
    return user


UserDep = Annotated[User, Depends(current_user)]


def require(role: Role) -> Callable[[User], User]:
    def dep(user: UserDep) -> User:
        if user.role < role:
            raise Forbidden(f"需要“{role.zh}”及以上权限")
        return user
    return dep


AnalystDep = Annotated[User, Depends(require(Role.analyst))]
AdminDep = Annotated[User, Depends(require(Role.admin))]


def facts(svc: ServicesDep) -> Facts:
    return svc.engine.facts()


FactsDep = Annotated[Facts, Depends(facts)]


def scope(user: UserDep,
          region: Annotated[str, Query(description="区划代码前缀", examples=["445202"])] = "",
          committee: Annotated[str | None, Query(description="党委编码 (含下级)")] = None,
          kind: Annotated[str | None, Query(description="enterprise / social_org")] = None,
          industry: Annotated[str | None, Query(description="行业代码前缀")] = None,
          size_band: Annotated[str | None, Query(description="lt10/10-49/50-99/100+")] = None,
          above_scale: Annotated[bool | None, Query(description="规上")] = None,
          alliance: Annotated[str | None, Query(description="联盟编码")] = None) -> Scope:
    """The requested scope, limited to the user's region."""
    return Scope(region, committee or None, kind or None, industry or None, size_band or None,
                 above_scale, alliance or None).within(user.region)


ScopeDep = Annotated[Scope, Depends(scope)]


def coverage_settings(
        svc: ServicesDep,
        include_individual: Annotated[bool | None, Query(description="个体工商户计入")] = None,
        threshold: Annotated[int | None, Query(ge=1, le=50, description="应建标准")] = None,
) -> r.CoverageSettings:
    base = svc.settings.coverage()
    return r.CoverageSettings(
        include_individual=base.include_individual if include_individual is None
        else include_individual,
        full_member_threshold=threshold or base.full_member_threshold)


SettingsDep = Annotated[r.CoverageSettings, Depends(coverage_settings)]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "-"
