"""Fixtures of the configuration tests."""

from __future__ import annotations

import os

import pytest


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A config folder with a model file `models/m.yaml`, no `LEADSYNC_*` variables set."""
    for name in list(os.environ):
        if name.startswith("LEADSYNC_"):
            monkeypatch.delenv(name)
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "m.yaml").write_text("name: m\n")
    return tmp_path
