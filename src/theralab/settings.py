"""Platform settings from ``THERALAB_*`` environment variables and an optional ``theralab.toml``.

Precedence (highest first): explicit keyword arguments, environment variables, the TOML file named
by ``THERALAB_CONFIG`` (or ``./theralab.toml`` when present), then the defaults below. The data
directory holds everything the platform writes (database, jobs, models, libraries), so one
variable moves a whole installation.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "theralab"


def _toml_path() -> Path | None:
    explicit = os.environ.get("THERALAB_CONFIG")
    if explicit:
        return Path(explicit)
    local = Path("theralab.toml")
    return local if local.exists() else None


class Settings(BaseSettings):
    """All run-time settings of a theralab installation.

    Attributes:
        data_dir: root for the SQLite database, job outputs, models and libraries.
        database_url: SQLAlchemy URL; defaults to ``sqlite:///<data_dir>/theralab.db``.
        executor: ``local`` for worker processes on this machine, or a Dask scheduler address
            such as ``tcp://10.0.0.5:8786``.
        workers: number of local worker processes (default: all cores).
        secret_key: signs access tokens; generated and stored in the data dir when unset.
        token_minutes: lifetime of an access token (short on purpose).
        llm_base_url: optional OpenAI-compatible endpoint for LLM-assisted features (off when empty).
    """

    model_config = SettingsConfigDict(env_prefix="THERALAB_", extra="ignore")

    data_dir: Path = Field(default_factory=_default_data_dir)
    database_url: str = ""
    executor: str = "local"
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1)
    secret_key: str = ""
    token_minutes: int = 30
    host: str = "127.0.0.1"
    port: int = 8000
    llm_base_url: str = ""
    llm_model: str = ""

    @field_validator("executor")
    @classmethod
    def _check_executor(cls, value: str) -> str:
        if value != "local" and "://" not in value and ":" not in value:
            raise ValueError("executor must be 'local' or a Dask scheduler address like tcp://host:8786")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml = _toml_path()
        if toml is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml))
        return tuple(sources)

    def model_post_init(self, __context: Any) -> None:
        self.data_dir = Path(self.data_dir).expanduser()
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'theralab.db'}"

    def ensure_dirs(self) -> None:
        """Create the data directory tree (idempotent)."""
        for sub in ("", "jobs", "models", "libraries", "uploads"):
            (self.data_dir / sub).mkdir(parents=True, exist_ok=True)


def normalise_url(url: str) -> str:
    """A database URL as SQLAlchemy wants it: users write ``postgresql://``; psycopg 3 is the driver installed."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("postgres://"):
        return "postgresql+psycopg://" + url[len("postgres://") :]
    return url


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings (cached; call ``reset_settings`` after changing env vars)."""
    return Settings()


#: Functions run by :func:`reset_settings` (caches built from settings register here, e.g. the
#: database engines in :mod:`theralab.runtime.db`); kept as hooks so ``settings`` imports nothing
#: of the project and the foundation has no import cycle.
RESET_HOOKS: list[Any] = []


def reset_settings() -> None:
    """Forget cached settings, engines and sessions, e.g. in tests that change ``THERALAB_*``."""
    get_settings.cache_clear()
    for hook in RESET_HOOKS:
        hook()
