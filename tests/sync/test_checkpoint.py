import sqlite3
import threading

from sync.state.records import CursorState
from sync.state.store import StateStore
from tests.sync.fakes import BASE


def _checkpoint_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "leadsync-checkpoint"]


def test_a_file_store_checkpoints_its_wal_on_its_own_thread_until_closed(tmp_path):
    before = len(_checkpoint_threads())
    store = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}", now=BASE)
    for n in range(50):
        store.put_cursor("acme", "contact", CursorState(resume=str(n) * 100), now=BASE)
    assert len(_checkpoint_threads()) == before + 1
    assert store.checkpoint()
    # `immutable` reads the database file alone, without the WAL: the last write is there
    raw = sqlite3.connect(f"file:{tmp_path / 'state.db'}?immutable=1", uri=True)
    (resume,) = raw.execute("SELECT resume FROM leadsync_cursors").fetchone()
    raw.close()
    assert resume == "49" * 100
    store.close()
    assert len(_checkpoint_threads()) == before
    assert not store.checkpoint()


def test_reading_and_in_memory_stores_start_no_checkpoint_thread(tmp_path):
    before = len(_checkpoint_threads())
    StateStore.open(f"sqlite:///{tmp_path / 'state.db'}", now=BASE).close()
    reader = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}", now=BASE)
    assert reader.get_cursor("acme", "contact") == CursorState()
    memory = StateStore.open("sqlite://", now=BASE)
    memory.put_cursor("acme", "contact", CursorState(resume="1"), now=BASE)
    assert (reader.checkpoint(), memory.checkpoint()) == (False, False)
    assert len(_checkpoint_threads()) == before
    reader.close()
    memory.close()
