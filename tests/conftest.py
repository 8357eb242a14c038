"""Every test runs without the developer's house defaults: no user config directory, no
PLANNER_CONFIG (planner/config.py), so a config file on this machine cannot change answers."""

import pytest


@pytest.fixture(autouse=True)
def no_house_defaults(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg-config")))
    monkeypatch.delenv("PLANNER_CONFIG", raising=False)
