from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from sync.state.store import StateStore
from tests.sync.fakes import BASE

PG_ENV = "LEADSYNC_TEST_POSTGRES_URL"


def postgres_url() -> str:
    """The test PostgreSQL URL, or a pytest skip saying why there is none."""
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"{PG_ENV} is not set (.ci/run sets it to the local PostgreSQL)")
    try:
        engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        pytest.skip(f"PostgreSQL at {PG_ENV} is unreachable: {type(exc).__name__}")
    return url


def unique_prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}_"


@pytest.fixture
def store(tmp_path) -> Iterator[StateStore]:
    s = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}", now=BASE)
    yield s
    s.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request, tmp_path) -> Iterator[StateStore]:
    """The store on SQLite and on PostgreSQL (unique table prefix, dropped afterwards)."""
    if request.param == "sqlite":
        s = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}", now=BASE)
        yield s
        s.close()
        return
    s = StateStore.open(postgres_url(), now=BASE, table_prefix=unique_prefix())
    try:
        yield s
    finally:
        s.drop_all()
        s.close()
