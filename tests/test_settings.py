"""Settings come from one table; the environment and overrides resolve in a fixed order."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from trialscout.settings import SETTINGS, Settings, SettingsError, load_settings, settings_table

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_setting_has_a_field_and_help() -> None:
    names = {f.name for f in dataclasses.fields(Settings)}
    specs = {s.name for s in SETTINGS}
    assert names == specs
    assert all(s.help.strip() for s in SETTINGS)


def test_environment_then_overrides() -> None:
    env = {"TRIALSCOUT_SYNC_PAGE_SIZE": "200", "TRIALSCOUT_DATABASE_URL": "sqlite://"}
    settings = load_settings(environ=env)
    assert settings.sync_page_size == 200 and settings.database_url == "sqlite://"
    settings = load_settings({"sync_page_size": "50", "database_url": None}, environ=env)
    assert settings.sync_page_size == 50 and settings.database_url == "sqlite://"


def test_default_database_is_a_user_data_sqlite_file() -> None:
    settings = load_settings(environ={})
    assert settings.database_url.startswith("sqlite:///")
    assert settings.database_url.endswith("trialscout.db")


@pytest.mark.parametrize("env", [
    {"TRIALSCOUT_SYNC_PAGE_SIZE": "0"},
    {"TRIALSCOUT_SYNC_PAGE_SIZE": "many"},
    {"TRIALSCOUT_SYNC_PAGE_SIZE": "5000"},
    {"TRIALSCOUT_SYNC_TIMEOUT": "-1"},
])
def test_bad_values_are_clear_errors(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(environ=env)
    assert "sync_" in str(info.value).lower()


def test_unknown_override_is_rejected() -> None:
    with pytest.raises(SettingsError, match="unknown setting"):
        load_settings({"no_such_setting": "1"}, environ={})


def test_every_setting_is_documented_in_the_readme() -> None:
    text = README.read_text()
    for _name, env_var, _default, _help in settings_table():
        assert env_var in text, f"{env_var} is not documented in README.md"
