"""``fugai serve`` and ``fugai user …``: the staff server and its accounts."""

from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from api.accounts import Accounts, Role
from api.cli_common import app, console, print_json
from api.config import ApiSettings
from graph.errors import UsageError

user_app = typer.Typer(help="用户管理 (accounts)", no_args_is_help=True)
app.add_typer(user_app, name="user")


def _accounts(settings: ApiSettings) -> Accounts:
    return Accounts(settings.accounts_path(), settings.secret_key)


def _role(name: str) -> Role:
    try:
        return Role[name]
    except KeyError:
        raise UsageError(f"角色应为 viewer / analyst / admin: {name!r}") from None


@user_app.command("add")
def user_add(username: Annotated[str, typer.Argument(help="用户名")],
             role: Annotated[str, typer.Option(help="viewer / analyst / admin")] = "viewer",
             region: Annotated[str, typer.Option(help="区划前缀; 留空为全域")] = "",
             password: Annotated[str | None, typer.Option(
                 help="初始密码; 不指定时随机生成并显示一次")] = None) -> None:
    """新增用户 (the first admin of a deployment is made this way)."""
    settings = ApiSettings()
    pw = password or secrets.token_urlsafe(12)
    accounts = _accounts(settings)
    try:
        user = accounts.add_user(username, pw, _role(role), region)
        accounts.audit(None, "user_add", f"{user.username} {user.role.name} {user.region} (cli)")
    finally:
        accounts.close()
    console.print(f"已新增用户 {user.username} ({user.role.zh}, {user.region or '全域'})")
    if not password:
        console.print(f"初始密码 (只显示这一次): {pw}")


@user_app.command("list")
def user_list(format: Annotated[str, typer.Option("--format", help="table 或 json")] = "table"
              ) -> None:
    """列出用户."""
    accounts = _accounts(ApiSettings())
    try:
        users = accounts.users()
    finally:
        accounts.close()
    rows = [{"username": u.username, "role": u.role.name, "region": u.region,
             "active": u.active} for u in users]
    if format == "json":
        print_json(rows)
        return
    for u in users:
        console.print(f"{u.username}\t{u.role.zh}\t{u.region or '全域'}\t"
                      f"{'正常' if u.active else '停用'}")


@user_app.command("set")
def user_set(username: Annotated[str, typer.Argument(help="用户名")],
             role: Annotated[str | None, typer.Option(help="新角色")] = None,
             region: Annotated[str | None, typer.Option(help="新区划前缀")] = None,
             active: Annotated[bool | None, typer.Option("--active/--disabled")] = None,
             reset_password: Annotated[bool, typer.Option(help="重置密码并显示一次")] = False
             ) -> None:
    """修改用户角色、区划、状态或重置密码."""
    pw = secrets.token_urlsafe(12) if reset_password else None
    accounts = _accounts(ApiSettings())
    try:
        accounts.update(username, role=_role(role) if role else None, region=region,
                        active=active, password=pw)
        accounts.audit(None, "user_update", f"{username} (cli)")
    finally:
        accounts.close()
    console.print(f"已更新用户 {username}")
    if pw:
        console.print(f"新密码 (只显示这一次): {pw}")


def serve(settings: ApiSettings) -> None:
    import uvicorn

    from api.app import create_app

    application = create_app(settings)  # refuses the default secret outside demo mode
    console.print(f"两新组织党组织覆盖: http://{settings.host}:{settings.port}/")
    uvicorn.run(application, host=settings.host, port=settings.port, log_level="warning")


@app.command("serve")
def serve_cmd(host: Annotated[str | None, typer.Option(help="监听地址 (FUGAI_HOST)")] = None,
              port: Annotated[int | None, typer.Option(help="端口 (FUGAI_PORT)")] = None,
              ) -> None:
    """启动工作人员页面和接口服务."""
    settings = ApiSettings()
    if host:
        settings.host = host
    if port:
        settings.port = port
    serve(settings)


def demo_admin(settings: ApiSettings) -> str | None:
    """Make the demo's admin once; its password is printed once (None if it exists)."""
    accounts = _accounts(settings)
    try:
        if accounts.get("admin") is not None:
            return None
        pw = secrets.token_urlsafe(12)
        accounts.add_user("admin", pw, Role.admin)
        return pw
    finally:
        accounts.close()


@app.command("inbox")
def inbox_cmd(directory: Annotated[Path, typer.Argument(help="收件目录")],
              mode: Annotated[str, typer.Option(help="full 全量 / delta 增量")] = "full",
              at: Annotated[str | None, typer.Option(
                  help="每天在此时间 (HH:MM) 导入; 不指定时导入一次后退出")] = None,
              format: Annotated[str, typer.Option("--format", help="table 或 json")] = "table",
              ) -> None:
    """导入收件目录中的文件 (夜间任务): 成功移至 processed/, 失败移至 failed/."""
    from api.inbox import next_time, process_inbox, wait_until
    from graph.settings import person_key
    from graph.stores import open_store
    from ingest import shard

    if mode not in ("full", "delta"):
        raise UsageError("--mode 应为 full 或 delta")
    settings = ApiSettings()
    workers = shard.workers(settings.ingest_workers)   # a wrong setting fails now, not at night
    while True:
        if at:
            wait_until(next_time(at, datetime.now()))
        store = open_store(settings.store_uri())
        try:
            result = process_inbox(store, directory, mode=mode,
                                   person_key=person_key(settings, settings.store_uri()),
                                   quarantine_dir=settings.quarantine_path(),
                                   coverage=settings.coverage(),
                                   workers=workers)
        finally:
            store.close()
        if format == "json":
            print_json(result.__dict__)
        else:
            console.print(f"收件目录 {directory}: {result.status}, {len(result.files)} 个文件"
                          + (f" → {result.moved_to}" if result.moved_to else "")
                          + (f" ({result.error})" if result.error else ""))
        if not at:
            if result.status == "failed":
                raise typer.Exit(1)
            return
