from __future__ import annotations

import pytest
from sqlalchemy import Engine

from .seed import seed


@pytest.fixture
def seeded(any_engine: Engine) -> Engine:
    seed(any_engine)
    return any_engine
