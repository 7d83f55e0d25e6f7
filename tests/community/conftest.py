"""Community tests run with members trusted enough to post freely, unless a test says otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import Backend, make_settings
from tests.factories.community import TRUSTED_FROM_THE_START

from jangteo.settings import Settings


@pytest.fixture
def settings(backend: Backend, tmp_path: Path) -> Settings:
    return make_settings(backend, tmp_path, **TRUSTED_FROM_THE_START)
