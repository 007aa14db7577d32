"""Settings from the environment (``FUGAI_*``) and defaults, read once per process."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path

import platformdirs
from pydantic_settings import BaseSettings, SettingsConfigDict

from graph.errors import UsageError
from graph.rules import CoverageSettings


class Settings(BaseSettings):
    """Deployment settings. Every one can be set as ``FUGAI_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="FUGAI_", extra="ignore")

    #: a file path for the embedded store, or a neo4j:// / bolt:// URI
    store: str = ""
    data_dir: Path = Path(platformdirs.user_data_dir("fugai"))
    #: key for hashing ID numbers (hex); when empty a key file beside the store is used
    person_key: str = ""
    #: where quarantine files go; default: <data_dir>/quarantine
    quarantine_dir: Path | None = None

    #: the Neo4j account and database when ``store`` is a neo4j:// or bolt:// URI
    neo4j_user: str = "neo4j"
    neo4j_password: str = ""
    neo4j_database: str = "neo4j"

    #: coverage policy (docs/coverage-rules.md): individual businesses in the denominator
    include_individual: bool = False
    #: full members from which a unit should set up its own Party organisation
    full_member_threshold: int = 3

    #: processes a command-line ingest cleans a big file with (docs/ingest.md):
    #: 0 = automatic (2 where the system can fork and 2 cores are ours), 1 or 2
    ingest_workers: int = 0

    def coverage(self) -> CoverageSettings:
        return CoverageSettings(include_individual=self.include_individual,
                                full_member_threshold=self.full_member_threshold)

    def store_uri(self) -> str:
        return self.store or str(self.data_dir / "fugai.sqlite")

    def quarantine_path(self) -> Path:
        return self.quarantine_dir or self.data_dir / "quarantine"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def person_key(settings: Settings, store_uri: str) -> bytes:
    """The key ID numbers are hashed with (HMAC-SHA256), so hashes cannot be looked up
    in a table of all possible ID numbers by someone who only has the store.

    From ``FUGAI_PERSON_KEY`` when set (required for shared deployments, so every
    process hashes alike); otherwise made once and kept, mode 0600, beside an
    embedded store file as ``<store>.key``.
    """
    if settings.person_key:
        try:
            return bytes.fromhex(settings.person_key)
        except ValueError as exc:
            raise UsageError("FUGAI_PERSON_KEY 应为十六进制字符串") from exc
    if "://" in store_uri:
        raise UsageError("使用 Neo4j 时必须设置 FUGAI_PERSON_KEY (十六进制密钥)")
    path = Path(store_uri + ".key")
    if path.exists():
        return bytes.fromhex(path.read_text().strip())
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return bytes.fromhex(key)
