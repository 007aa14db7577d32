"""Staff accounts: users with a role and a region scope, login tokens, the audit log.

Kept in their own SQLite file (``FUGAI_ACCOUNTS``, default ``<data dir>/accounts.sqlite``)
whichever graph store is used, so a Neo4j deployment and the embedded store manage
people alike and the graph never holds passwords. Passwords are hashed with argon2
(argon2-cffi's defaults); an unknown user is checked against a dummy hash so the answer
takes as long as for a known one. Tokens are random; only their keyed hash is stored,
so a copy of the file does not let anyone log in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from graph.errors import NotFound, UsageError

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY, pw_hash TEXT NOT NULL, role INTEGER NOT NULL,
    region TEXT NOT NULL, active INTEGER NOT NULL DEFAULT 1, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
    token_hash TEXT PRIMARY KEY, username TEXT NOT NULL, kind TEXT NOT NULL,
    created_at TEXT NOT NULL, expires_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit (
    ts TEXT NOT NULL, username TEXT, action TEXT NOT NULL, detail TEXT NOT NULL,
    ip TEXT);
CREATE INDEX IF NOT EXISTS audit_ts ON audit (ts);
"""


class Role(IntEnum):
    """What a user may do; each role includes the ones below it."""

    viewer = 1    # read figures, lists, pages, pictures
    analyst = 2   # + export CSV/XLSX, statistics sheets
    admin = 3     # + ingest, users, audit log

    @property
    def zh(self) -> str:
        return {1: "查看", 2: "分析(可导出)", 3: "管理员"}[self.value]


@dataclass(frozen=True)
class User:
    username: str
    role: Role
    #: region code prefix the user is limited to; "" for the whole area
    region: str
    active: bool = True


def _now() -> datetime:
    return datetime.now(UTC)


class Accounts:
    """The accounts file. Safe to share between the request threads of one process."""

    def __init__(self, path: Path, secret: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._secret = secret.encode()
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: no fsync per audit line (a crash may lose the last lines, never
        # corrupt the file) — an audit insert on every page view must not cost a disk sync
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(SCHEMA)
        self._lock = threading.Lock()
        self._hasher = PasswordHasher()
        self._dummy = self._hasher.hash(secrets.token_hex(16))

    def close(self) -> None:
        self._conn.close()

    def _exec(self, sql: str, args: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._conn.execute(sql, args)

    # --- users ----------------------------------------------------------------------

    def add_user(self, username: str, password: str, role: Role, region: str = "") -> User:
        username = username.strip()
        if not username or len(username) > 64:
            raise UsageError("用户名不能为空，且不超过 64 个字符")
        if len(password) < 10:
            raise UsageError("密码至少 10 位")
        if region and not region.isdigit():
            raise UsageError(f"区划代码应为数字前缀: {region!r}")
        try:
            self._exec("INSERT INTO users (username, pw_hash, role, region, active, created_at)"
                       " VALUES (?, ?, ?, ?, 1, ?)",
                       (username, self._hasher.hash(password), int(role), region,
                        _now().isoformat(timespec="seconds")))
        except sqlite3.IntegrityError as exc:
            raise UsageError(f"用户 {username} 已存在") from exc
        return User(username, role, region)

    def get(self, username: str) -> User | None:
        row = self._exec("SELECT username, role, region, active FROM users WHERE username = ?",
                         (username,)).fetchone()
        return User(row[0], Role(row[1]), row[2], bool(row[3])) if row else None

    def users(self) -> list[User]:
        return [User(u, Role(r), reg, bool(a)) for u, r, reg, a in self._exec(
            "SELECT username, role, region, active FROM users ORDER BY username")]

    def update(self, username: str, *, role: Role | None = None, region: str | None = None,
               active: bool | None = None, password: str | None = None) -> User:
        user = self.get(username)
        if user is None:
            raise NotFound(f"没有用户 {username}")
        if password is not None:
            if len(password) < 10:
                raise UsageError("密码至少 10 位")
            self._exec("UPDATE users SET pw_hash = ? WHERE username = ?",
                       (self._hasher.hash(password), username))
        if role is not None:
            self._exec("UPDATE users SET role = ? WHERE username = ?", (int(role), username))
        if region is not None:
            if region and not region.isdigit():
                raise UsageError(f"区划代码应为数字前缀: {region!r}")
            self._exec("UPDATE users SET region = ? WHERE username = ?", (region, username))
        if active is not None:
            self._exec("UPDATE users SET active = ? WHERE username = ?", (int(active), username))
            if not active:
                self._exec("DELETE FROM tokens WHERE username = ?", (username,))
        return self.get(username)  # type: ignore[return-value]

    def has_admin(self) -> bool:
        return self._exec("SELECT 1 FROM users WHERE role = ? AND active = 1 LIMIT 1",
                          (int(Role.admin),)).fetchone() is not None

    def verify(self, username: str, password: str) -> User | None:
        """The user if the password matches (and the account is active), else None."""
        row = self._exec("SELECT pw_hash FROM users WHERE username = ?", (username,)).fetchone()
        try:
            self._hasher.verify(row[0] if row else self._dummy, password)
        except (VerificationError, InvalidHashError):
            return None
        user = self.get(username) if row else None
        if user is None or not user.active:
            return None
        if self._hasher.check_needs_rehash(row[0]):
            self._exec("UPDATE users SET pw_hash = ? WHERE username = ?",
                       (self._hasher.hash(password), username))
        return user

    # --- tokens ---------------------------------------------------------------------

    def _hash(self, token: str) -> str:
        return hmac.new(self._secret, token.encode(), hashlib.sha256).hexdigest()

    def issue(self, user: User, kind: str, hours: float) -> str:
        token = secrets.token_urlsafe(32)
        now = _now()
        self._exec("INSERT INTO tokens (token_hash, username, kind, created_at, expires_at)"
                   " VALUES (?, ?, ?, ?, ?)",
                   (self._hash(token), user.username, kind, now.isoformat(),
                    (now + timedelta(hours=hours)).isoformat()))
        return token

    def resolve(self, token: str) -> User | None:
        row = self._exec("SELECT username, expires_at FROM tokens WHERE token_hash = ?",
                         (self._hash(token),)).fetchone()
        if row is None or datetime.fromisoformat(row[1]) < _now():
            return None
        user = self.get(row[0])
        return user if user and user.active else None

    def revoke(self, token: str) -> None:
        self._exec("DELETE FROM tokens WHERE token_hash = ?", (self._hash(token),))

    # --- audit log ------------------------------------------------------------------

    def audit(self, username: str | None, action: str, detail: str = "",
              ip: str | None = None) -> None:
        self._exec("INSERT INTO audit (ts, username, action, detail, ip) VALUES (?, ?, ?, ?, ?)",
                   (_now().isoformat(timespec="seconds"), username, action, detail[:500], ip))

    def audit_log(self, limit: int = 200) -> list[dict[str, Any]]:
        cur = self._exec("SELECT ts, username, action, detail, ip FROM audit"
                         " ORDER BY rowid DESC LIMIT ?", (limit,))
        return [dict(zip(("ts", "username", "action", "detail", "ip"), row, strict=True))
                for row in cur]


class LoginThrottle:
    """At most ``attempts`` failed logins per user name and per address in ``window``
    seconds; in memory (one process), which is what a single staff server needs."""

    def __init__(self, attempts: int = 5, window: float = 300.0) -> None:
        self.attempts = attempts
        self.window = window
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> list[float]:
        kept = [t for t in self._failures.get(key, []) if now - t < self.window]
        self._failures[key] = kept
        return kept

    def blocked(self, keys: list[str], now: float) -> bool:
        with self._lock:
            return any(len(self._recent(k, now)) >= self.attempts for k in keys)

    def failed(self, keys: list[str], now: float) -> None:
        with self._lock:
            for k in keys:
                self._recent(k, now).append(now)

    def succeeded(self, keys: list[str]) -> None:
        with self._lock:
            for k in keys:
                self._failures.pop(k, None)
