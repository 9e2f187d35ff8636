"""Where the state lives: SREKIT_HOME, else the project's .srekit in the current directory, else
the user's data directory ($XDG_DATA_HOME/srekit, by default ~/.local/share/srekit); each case
run from a temporary working directory, and nothing created by looking."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from srekit.config import Settings


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory of its own, a HOME of its own, none of srekit's variables set."""
    cwd = tmp_path / "work"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.delenv("SREKIT_HOME", raising=False)
    return cwd


def test_srekit_home_wins_and_is_made_absolute(
    elsewhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (elsewhere / ".srekit").mkdir()
    monkeypatch.setenv("XDG_DATA_HOME", str(elsewhere / "xdg"))
    monkeypatch.setenv("SREKIT_HOME", "state")
    settings = Settings()
    assert settings.home == elsewhere / "state"
    assert settings.home_origin == "SREKIT_HOME"
    assert settings.events_path == elsewhere / "state" / "events"
    assert settings.effective_database_url == f"sqlite:///{elsewhere / 'state' / 'srekit.db'}"


def test_srekit_home_expands_the_user(elsewhere: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SREKIT_HOME", "~/srekit-state")
    assert Settings().home == elsewhere.parent / "user" / "srekit-state"


def test_an_empty_srekit_home_is_refused(elsewhere: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SREKIT_HOME", " ")
    with pytest.raises(ValidationError, match="expected the path of a directory"):
        Settings()


def test_the_project_directory_when_the_current_directory_has_one(
    elsewhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (elsewhere / ".srekit").mkdir()
    monkeypatch.setenv("XDG_DATA_HOME", str(elsewhere / "xdg"))
    settings = Settings()
    assert settings.home == elsewhere / ".srekit"
    assert settings.home_origin == ".srekit in the current directory"


def test_a_project_file_named_srekit_is_not_a_state_directory(elsewhere: Path) -> None:
    (elsewhere / ".srekit").write_text("not a directory")
    assert Settings().home == elsewhere.parent / "user" / ".local" / "share" / "srekit"


def test_the_xdg_data_directory_when_neither(
    elsewhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    xdg = elsewhere.parent / "xdg"
    monkeypatch.setenv("XDG_DATA_HOME", str(xdg))
    settings = Settings()
    assert settings.home == xdg / "srekit"
    assert settings.home_origin.startswith("$XDG_DATA_HOME/srekit, as SREKIT_HOME is not set")
    assert settings.effective_database_url == f"sqlite:///{xdg / 'srekit' / 'srekit.db'}"
    assert not (elsewhere / ".srekit").exists()
    assert not xdg.exists()  # resolving creates nothing


def test_the_default_data_directory_when_xdg_is_unset_or_relative(
    elsewhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = elsewhere.parent / "user" / ".local" / "share" / "srekit"
    assert Settings().home == expected
    assert Settings().home_origin.startswith("the user's data directory ~/.local/share/srekit")
    monkeypatch.setenv("XDG_DATA_HOME", "relative/data")  # invalid by the XDG spec: ignored
    assert Settings().home == expected
    assert not (elsewhere / ".srekit").exists()
