"""Every setting TrialScout reads, kept as one table of name, default and help.

Settings are data so that the environment (``TRIALSCOUT_<NAME>``), the command line and
the documentation all come from the same place. Nothing here is instantiated at import
time: callers build a :class:`Settings` with :func:`load_settings`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

ENV_PREFIX = "TRIALSCOUT_"


@dataclass(frozen=True)
class SettingSpec:
    name: str
    default: Any
    help: str
    parse: Callable[[str], Any] = str


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected a boolean (true/false), got {text!r}")


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise ValueError(f"expected a positive integer, got {text!r}")
    return value


def _note_chars(text: str) -> int:
    value = _positive_int(text)
    if value > 200_000:
        raise ValueError(f"expected at most 200000 (the profile's text limit), got {text!r}")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(f"expected 0 or a positive integer, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise ValueError(f"expected a positive number, got {text!r}")
    return value


def _similar_backend(text: str) -> str:
    value = text.strip().lower()
    if value not in {"lexical", "embeddings"}:
        raise ValueError(f"expected lexical or embeddings, got {text!r}")
    return value


def _index_role(text: str) -> str:
    value = text.strip().lower()
    if value not in {"auto", "build", "open"}:
        raise ValueError(f"expected auto, build or open, got {text!r}")
    return value


def _warm_up_mode(text: str) -> str:
    value = text.strip().lower()
    if value not in {"wait", "background", "off"}:
        raise ValueError(f"expected wait, background or off, got {text!r}")
    return value


def _smtp_security(text: str) -> str:
    value = text.strip().lower()
    if value not in {"none", "starttls", "tls"}:
        raise ValueError(f"expected none, starttls or tls, got {text!r}")
    return value


def default_database_url() -> str:
    """A SQLite file in the user's data directory, created on first use."""
    from platformdirs import user_data_dir

    return f"sqlite:///{Path(user_data_dir('trialscout')) / 'trialscout.db'}"


SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec("database_url", None,
                "SQLAlchemy URL of the trial store. Default: a SQLite file in the user's data "
                "directory. PostgreSQL: postgresql+psycopg://user@host/db."),
    SettingSpec("ctgov_base_url", "https://clinicaltrials.gov/api/v2",
                "Base URL of the ClinicalTrials.gov API v2 used by `trialscout sync`."),
    SettingSpec("sync_page_size", 1000, "Studies per API page during sync (1-1000).",
                _positive_int),
    SettingSpec("sync_timeout", 30.0, "Seconds before one API request times out.",
                _positive_float),
    SettingSpec("sync_max_retries", 6,
                "Attempts per page on 429, 5xx, timeouts and dropped connections.",
                _positive_int),
    SettingSpec("sync_backoff_base", 1.0,
                "First retry delay in seconds; it doubles per attempt, with full jitter.",
                _positive_float),
    SettingSpec("sync_backoff_max", 60.0, "Longest delay between two retries, in seconds.",
                _positive_float),
    SettingSpec("import_batch_size", 500,
                "Records written per transaction during import and sync.", _positive_int),
    SettingSpec("import_reader_process", True,
                "Read and normalize the records of a large import (4 MB of files or more) in "
                "a second process while this one writes them; false reads them inline.",
                _bool),
    SettingSpec("criteria_workers", 0,
                "Processes that parse eligibility criteria after a large import or sync "
                "(0: one per CPU core).", _non_negative_int),
    SettingSpec("host", "127.0.0.1", "Address `trialscout serve` listens on."),
    SettingSpec("port", 8000, "Port `trialscout serve` listens on.", _positive_int),
    SettingSpec("secret_key", None,
                "Key that signs session cookies and CSRF tokens. Default: a random key per "
                "process, so sessions end on restart."),
    SettingSpec("max_request_bytes", 1_000_000, "Largest request body the web app accepts.",
                _positive_int),
    SettingSpec("max_upload_bytes", 20_000_000,
                "Largest patient record upload (FHIR bundle or note) the profile page and "
                "API accept.", _positive_int),
    SettingSpec("max_note_chars", 200_000,
                "Longest clinical note (in characters) read into a profile; a longer one is "
                "refused with an error saying so (at most 200000).", _note_chars),
    SettingSpec("log_level", "INFO", "Python logging level for the CLI and the server."),
    SettingSpec("search_index_dir", None,
                "Directory for the saved search index. Default: beside a SQLite file "
                "(<file>.search), else in the user data directory; 'none' keeps it in "
                "memory only."),
    SettingSpec("search_index_role", "auto",
                "Whether this process may build the search index: build, open (only open "
                "what `trialscout index` published: web workers of a shared deployment) or "
                "auto (open in `serve` on PostgreSQL or with web_workers > 1, else build).",
                _index_role),
    SettingSpec("llm_base_url", None,
                "OpenAI-compatible API (ending in /v1) that rewrites trial summaries in plain "
                "words. Unset (default): offline summaries only. Trial text is sent to this "
                "URL and nowhere else; patient data never is."),
    SettingSpec("llm_model", None, "Model name sent to the summary LLM API."),
    SettingSpec("llm_api_key", None, "Bearer key for the summary LLM API, if it needs one."),
    SettingSpec("llm_timeout", 20.0, "Seconds before a summary LLM request gives up.",
                _positive_float),
    SettingSpec("similar_backend", "lexical",
                "How similar trials compare texts: lexical (TF-IDF, default) or embeddings "
                "(needs the `embeddings` extra).", _similar_backend),
    SettingSpec("question_rate_limit", 5,
                "Questions one visitor may send per question_rate_window.", _positive_int),
    SettingSpec("question_rate_window", 3600,
                "Seconds of the per-visitor question window.", _positive_int),
    SettingSpec("question_daily_limit", 200,
                "Questions accepted from all visitors together per 24 hours.", _positive_int),
    SettingSpec("question_address_limit", 10,
                "Questions one client address may send per question_rate_window, whatever "
                "sessions it uses.", _positive_int),
    SettingSpec("question_address_daily_limit", 20,
                "Questions one client address may send per 24 hours, so that no client can "
                "use up question_daily_limit for everyone.", _positive_int),
    SettingSpec("contact_daily_limit", 5,
                "Inquiries to study teams one account (or anonymous session) may send per "
                "24 hours.", _positive_int),
    SettingSpec("contact_address_daily_limit", 10,
                "Inquiries one client address may send per 24 hours, so that no client can "
                "use up contact_site_daily_limit for everyone.", _positive_int),
    SettingSpec("contact_site_daily_limit", 300,
                "Inquiries the whole site accepts per 24 hours.", _positive_int),
    SettingSpec("account_verify_hours", 48,
                "Hours an email-address verification link works (once).", _positive_int),
    SettingSpec("account_link_minutes", 30,
                "Minutes a password-reset or sign-in link works (once).", _positive_int),
    SettingSpec("login_lockout_after", 5,
                "Failed sign-ins for one email address before each further failure locks it "
                "for a doubling delay (a client address gets four times as many).",
                _positive_int),
    SettingSpec("login_lockout_max_seconds", 900,
                "Longest sign-in lock, in seconds; failures older than this are forgotten.",
                _positive_int),
    SettingSpec("password_hash_memory_kib", 65536,
                "Memory (KiB) of each argon2id password hash; more is slower to attack and "
                "to sign in (at least 8192 in production).", _positive_int),
    SettingSpec("session_max_age_days", 30,
                "Days an unused anonymous web session (remembered answers, profile) is kept.",
                _positive_int),
    SettingSpec("web_warm_up", "wait",
                "When a web worker loads the search index, vocabularies and related-trials "
                "index: wait (before it accepts connections), background, or off (on the "
                "first request that needs each).", _warm_up_mode),
    SettingSpec("web_workers", 1, "Worker processes `trialscout serve` starts.", _positive_int),
    SettingSpec("page_cache_size", 512,
                "Rendered pages each web worker keeps for visitors with no stored answers or "
                "profile (0 turns the cache off).", int),
    SettingSpec("public_url", "http://127.0.0.1:8000",
                "Address at which people reach this TrialScout; links in emails and feeds "
                "start with it."),
    SettingSpec("smtp_host", None,
                "SMTP server that sends alert and account emails. Unset: mail stays in the "
                "outbox."),
    SettingSpec("smtp_port", 587, "Port of the SMTP server.", _positive_int),
    SettingSpec("smtp_security", "starttls",
                "How the SMTP connection is protected: none, starttls or tls.", _smtp_security),
    SettingSpec("smtp_user", None, "SMTP user name, if the server needs a login."),
    SettingSpec("smtp_password", None, "SMTP password, if the server needs a login."),
    SettingSpec("smtp_timeout", 30.0, "Seconds before one SMTP operation gives up.",
                _positive_float),
    SettingSpec("mail_sender", "TrialScout <alerts@localhost>",
                "From address of every email; its domain also names the Message-IDs."),
    SettingSpec("mail_retry_base", 60.0,
                "Seconds before a message that met a temporary SMTP failure is tried again; "
                "the delay doubles per attempt.", _positive_float),
    SettingSpec("mail_retry_max", 21600.0, "Longest delay between two tries of a message.",
                _positive_float),
    SettingSpec("mail_max_attempts", 12,
                "Tries of one message before it is recorded as failed.", _positive_int),
)

_SPECS = {spec.name: spec for spec in SETTINGS}


@dataclass(frozen=True)
class Settings:
    """Resolved settings for one app. Build with :func:`load_settings`."""

    database_url: str = field(default_factory=default_database_url)
    ctgov_base_url: str = "https://clinicaltrials.gov/api/v2"
    sync_page_size: int = 1000
    sync_timeout: float = 30.0
    sync_max_retries: int = 6
    sync_backoff_base: float = 1.0
    sync_backoff_max: float = 60.0
    import_batch_size: int = 500
    import_reader_process: bool = True
    criteria_workers: int = 0
    host: str = "127.0.0.1"
    port: int = 8000
    secret_key: str | None = None
    max_request_bytes: int = 1_000_000
    max_upload_bytes: int = 20_000_000
    max_note_chars: int = 200_000
    log_level: str = "INFO"
    search_index_dir: str | None = None
    search_index_role: str = "auto"
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None
    llm_timeout: float = 20.0
    similar_backend: str = "lexical"
    question_rate_limit: int = 5
    question_rate_window: int = 3600
    question_daily_limit: int = 200
    question_address_limit: int = 10
    question_address_daily_limit: int = 20
    contact_daily_limit: int = 5
    contact_address_daily_limit: int = 10
    contact_site_daily_limit: int = 300
    account_verify_hours: int = 48
    account_link_minutes: int = 30
    login_lockout_after: int = 5
    login_lockout_max_seconds: int = 900
    password_hash_memory_kib: int = 65536
    session_max_age_days: int = 30
    web_warm_up: str = "wait"
    web_workers: int = 1
    page_cache_size: int = 512
    public_url: str = "http://127.0.0.1:8000"
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_security: str = "starttls"
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_timeout: float = 30.0
    mail_sender: str = "TrialScout <alerts@localhost>"
    mail_retry_base: float = 60.0
    mail_retry_max: float = 21600.0
    mail_max_attempts: int = 12


class SettingsError(ValueError):
    """A setting was given a value it cannot take."""


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve settings: explicit overrides win over the environment, which wins over defaults.

    ``None`` in ``overrides`` means "not given" so that CLI options left unset fall through.
    """
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for spec in SETTINGS:
        raw = env.get(ENV_PREFIX + spec.name.upper())
        if raw is not None and raw != "":
            try:
                values[spec.name] = spec.parse(raw)
            except ValueError as exc:
                raise SettingsError(f"{ENV_PREFIX}{spec.name.upper()}: {exc}") from exc
    for name, value in (overrides or {}).items():
        if name not in _SPECS:
            raise SettingsError(f"unknown setting {name!r}")
        if value is None:
            continue
        if isinstance(value, str) and _SPECS[name].parse is not str:
            try:
                value = _SPECS[name].parse(value)
            except ValueError as exc:
                raise SettingsError(f"{name}: {exc}") from exc
        values[name] = value
    if values.get("sync_page_size", 1) > 1000:
        raise SettingsError("sync_page_size: the API allows at most 1000")
    return Settings(**values)


def settings_table() -> list[tuple[str, str, str, str]]:
    """Rows of (name, environment variable, default, help) for docs and `trialscout settings`."""
    defaults = {f.name: f for f in fields(Settings)}
    rows = []
    for spec in SETTINGS:
        assert spec.name in defaults, spec.name
        default = "(user data dir SQLite file)" if spec.name == "database_url" else spec.default
        rows.append((spec.name, ENV_PREFIX + spec.name.upper(), str(default), spec.help))
    return rows
