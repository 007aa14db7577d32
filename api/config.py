"""Settings of the staff server (``fugai serve``), on top of the deployment settings.

Every one can be set as ``FUGAI_<NAME>`` in the environment or in an env file
(``FUGAI_ENV_FILE``, default ``.env`` in the working directory).
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic_settings import SettingsConfigDict

from graph.errors import UsageError
from graph.settings import Settings

#: the secret a fresh checkout has; the server refuses it outside demo mode
DEFAULT_SECRET = "change-me-fugai-default-secret"


class ApiSettings(Settings):
    model_config = SettingsConfigDict(env_prefix="FUGAI_", extra="ignore",
                                      env_file=os.environ.get("FUGAI_ENV_FILE", ".env"))

    secret_key: str = DEFAULT_SECRET
    host: str = "127.0.0.1"
    port: int = 8000
    #: the accounts file; default <data dir>/accounts.sqlite
    accounts: Path | None = None
    #: demo mode: the default secret is allowed (local demo only)
    demo: bool = False
    session_hours: float = 10.0
    token_hours: float = 24.0 * 30

    def accounts_path(self) -> Path:
        return self.accounts or self.data_dir / "accounts.sqlite"

    def check(self) -> None:
        """Refuse to serve with the default secret key outside demo mode."""
        if not self.demo and (self.secret_key == DEFAULT_SECRET or len(self.secret_key) < 16):
            raise UsageError("请设置 FUGAI_SECRET_KEY (至少 16 个字符的随机串) 后再启动服务;"
                             " 演示模式 (fugai demo) 除外")
