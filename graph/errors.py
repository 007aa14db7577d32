"""Domain errors. Each carries its HTTP status and CLI exit code, so the API and the
CLI render the same exception classes the same way (one line, no traceback)."""

from __future__ import annotations


class FugaiError(Exception):
    """Base of every error a user can cause or fix."""

    http_status: int = 500
    exit_code: int = 1
    title: str = "内部错误"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(FugaiError):
    """A wrong argument, file or setting given by the user."""

    http_status = 400
    exit_code = 2
    title = "请求有误"


class StoreUnavailable(FugaiError):
    """The store cannot be opened or reached."""

    http_status = 503
    exit_code = 4
    title = "数据库不可用"


class StoreBusy(FugaiError):
    """Another ingest run holds the write lock."""

    http_status = 409
    exit_code = 5
    title = "另一批导入正在进行"


class NotFound(FugaiError):
    """No such object, or one outside the caller's region scope (the same answer, so a
    scoped user cannot learn that another district's organisation exists)."""

    http_status = 404
    exit_code = 3
    title = "未找到"


class Unauthorized(FugaiError):
    """Not logged in, or the token has expired."""

    http_status = 401
    exit_code = 6
    title = "需要登录"


class Forbidden(FugaiError):
    """Logged in, but the role does not allow this."""

    http_status = 403
    exit_code = 7
    title = "无权操作"


class TooManyAttempts(FugaiError):
    """Too many failed logins in a short time."""

    http_status = 429
    exit_code = 8
    title = "尝试次数过多"
