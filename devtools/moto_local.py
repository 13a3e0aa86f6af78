"""moto as the tests and local runs use it: as atomic as DynamoDB, and quicker where moto spends
its time on work DynamoDB's behaviour does not need.

- `item_level_transaction_rollback`: a failed TransactWriteItems puts back only the items it
  named, not a snapshot of every table (moto's copy per action made each transaction cost the
  whole table, and its restore erased other requests' writes).
- `one_request_at_a_time`: moto in server mode answers DynamoDB requests on many threads and is
  not atomic under concurrency, which DynamoDB is.
- `direct_attribute_values`: moto's response serializer writes each DynamoDB attribute value
  from the members it holds, instead of asking for every one of the ten an AttributeValue may
  hold (the same output; a Scan of a few hundred items spent seconds there).
- `moto_server`: moto in server mode on 127.0.0.1 with the first and the third, a dispatcher
  that remembers which backend a Host names, and a stop() that returns at once.

The patches are process-wide (moto's backends are): each is installed while at least one user
holds it, whatever order in-process stacks and servers start and stop in.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from typing import Any

_patch_lock = threading.Lock()
_patches: dict[str, tuple[int, Callable[[], None]]] = {}


@contextmanager
def _process_wide(name: str, install: Callable[[], Callable[[], None]]) -> Iterator[None]:
    """`install()` on the first user's entry; the undo it returns on the last user's exit."""
    with _patch_lock:
        if name in _patches:
            users, undo = _patches[name]
            _patches[name] = (users + 1, undo)
        else:
            _patches[name] = (1, install())
    try:
        yield
    finally:
        with _patch_lock:
            users, undo = _patches.pop(name)
            if users > 1:
                _patches[name] = (users - 1, undo)
            else:
                undo()


def one_request_at_a_time() -> AbstractContextManager[None]:
    """moto's DynamoDB answering one request at a time.

    DynamoDB applies each request atomically; moto does not under concurrent requests (a failed
    transaction rolls back by restoring what it saved, erasing writes other threads made
    meanwhile). One request at a time restores DynamoDB's guarantee; races between one client's
    read and its conditional write, the ones the tests are after, are untouched.
    """
    return _process_wide("one request at a time", _install_request_lock)


def _install_request_lock() -> Callable[[], None]:
    from moto.dynamodb.responses import DynamoHandler

    lock = threading.Lock()
    call_action = DynamoHandler.call_action

    def atomic_call_action(self: Any) -> Any:
        with lock:
            return call_action(self)

    setattr(DynamoHandler, "call_action", atomic_call_action)  # noqa: B010 - put back by undo
    return lambda: setattr(DynamoHandler, "call_action", call_action)


def item_level_transaction_rollback() -> AbstractContextManager[None]:
    """moto's TransactWriteItems, rolled back item by item instead of table by table.

    DynamoDB applies a transaction all or nothing
    (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html).
    moto keeps that by deep-copying every table the transaction names, once per action, before
    it starts, and putting the copies back if an action fails: each transaction then costs time
    in proportion to the whole table, and a test that stores a few hundred stories spends most
    of its time copying. Only the items the actions name can change, so this copies just those
    and puts them back (or removes them, if they were new) when the transaction fails. A table
    with a stream is left to moto's own copy: its stream records would need putting back too.
    """
    return _process_wide("item-level rollback", _install_item_level_rollback)


def _install_item_level_rollback() -> Callable[[], None]:
    import copy

    from moto.dynamodb import models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    original = DynamoDBBackend.transact_write_items

    class _TablesKept:
        """`copy` as moto's DynamoDB backend sees it: a table "copy" is the table itself."""

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            if isinstance(value, Table) and value.stream_shard is None:
                return value
            return copy.deepcopy(value, memo)

    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        saved: list[tuple[Table, DynamoType, DynamoType | None, Any]] = []
        for action in transact_items:
            _, op = next(iter(action.items()))
            table = self.tables.get(op.get("TableName", ""))
            key = op.get("Item") if "Item" in op else op.get("Key")
            if table is None or table.stream_shard is not None or not isinstance(key, dict):
                continue
            if table.hash_key_attr not in key or (table.range_key_attr and table.range_key_attr not in key):
                continue  # moto refuses the action itself
            hash_key = DynamoType(key[table.hash_key_attr])
            range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
            saved.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
        try:
            original(self, transact_items)
        except BaseException:
            for table, hash_key, range_key, item in reversed(saved):
                if item is None:
                    table.delete_item(hash_key, range_key)
                elif range_key is None:
                    table.items[hash_key] = item
                else:
                    table.items[hash_key][range_key] = item
            raise

    saved_copy = models.copy
    setattr(models, "copy", _TablesKept)  # noqa: B010 - a module's name, put back below
    setattr(DynamoDBBackend, "transact_write_items", transact_write_items)  # noqa: B010

    def undo() -> None:
        setattr(DynamoDBBackend, "transact_write_items", original)  # noqa: B010
        setattr(models, "copy", saved_copy)  # noqa: B010

    return undo


def direct_attribute_values() -> AbstractContextManager[None]:
    """moto's DynamoDB responses serialized with each attribute value's members looked up
    directly.

    moto's serializer walks a response by its botocore shape, and for a structure it asks its
    attribute picker for every member the shape defines: for an AttributeValue, ten lookups
    (each building a context object and trying two spellings of the name) to find the one or
    two members an attribute value holds. A test comparing whole tables Scans a few hundred
    items of a dozen attributes each, and spent most of its time there. This asks the picker
    only for the members the value holds under either spelling, in the shape's order, so the
    serializer writes the same JSON (`tests/devtools/test_moto_local.py` compares both on
    generated attribute values).
    """
    return _process_wide("direct attribute values", _install_direct_attribute_values)


def _install_direct_attribute_values() -> Callable[[], None]:
    from moto.core.serialize import AttributePickerContext, BaseJSONSerializer

    original = BaseJSONSerializer._serialize_type_structure
    known: dict[tuple[int, int], tuple[Any, Any, tuple[tuple[str, Any, frozenset[str]], ...]]] = {}

    def members_of(self: Any, shape: Any) -> tuple[tuple[str, Any, frozenset[str]], ...]:
        # Each member with every key the picker would try for it on a plain dict (its name,
        # its snake_case spelling, any alias the model gives), worked out once per shape.
        picker = self._value_picker
        entry = known.get((id(shape), id(type(picker))))
        if entry is None or entry[0] is not shape or entry[1] is not type(picker):
            members = []
            for name, member in shape.members.items():
                member.parent = shape  # what moto's own loop sets on every call
                context = AttributePickerContext(obj={}, key=name, shape=member)
                members.append((name, member, frozenset(picker.get_possible_keys(context))))
            entry = known[(id(shape), id(type(picker)))] = (shape, type(picker), tuple(members))
        return entry[2]

    def serialize_structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if (
            shape.name != "AttributeValue"
            or type(value) is not dict
            or self.operation_model.service_model.service_name != "dynamodb"
            or getattr(self._value_picker, "response_transformers", None)
        ):
            original(self, serialized, value, shape, key)
            return
        wrapper: Any = self.MAP_TYPE() if key else serialized
        for name, member, spellings in members_of(self, shape):
            # A member the value holds under none of the picker's keys is one the picker
            # finds nothing for (None), which moto's own loop skips.
            if not spellings.isdisjoint(value):
                self._serialize_structure_member(wrapper, value, member, name)
        if key:
            self._default_serialize(serialized, wrapper, shape, key)

    setattr(BaseJSONSerializer, "_serialize_type_structure", serialize_structure)  # noqa: B010
    return lambda: setattr(BaseJSONSerializer, "_serialize_type_structure", original)


def moto_server(*, serialized: bool = False) -> Any:
    """moto in server mode on 127.0.0.1, an ephemeral port, started, with item-level rollback
    (and, if `serialized`, one DynamoDB request at a time) until it is stopped.

    Its stop() returns at once: moto's own server loop checks for shutdown every 0.5 s
    (`serve_forever`'s default), which every test that stopped one waited out.
    """
    import logging

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from moto.server import ThreadedMotoServer
    from werkzeug.serving import make_server

    class RememberedHosts(DomainDispatcherApplication):
        """moto matches every request's Host against each of its services' URL patterns, several
        hundred regexes, before it falls back to the signature's service: a sixth of the CPU
        of a threaded race on 127.0.0.1. Which backend a host names never changes, so the
        answer is remembered (misses too)."""

        def __init__(self, create_app: Any) -> None:
            super().__init__(create_app)
            self._backend_of_host: dict[str | None, Any] = {}

        def get_backend_for_host(self, host: str | None) -> Any:
            if host not in self._backend_of_host:
                self._backend_of_host[host] = super().get_backend_for_host(host)
            return self._backend_of_host[host]

    class QuickStop(ThreadedMotoServer):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.patches = ExitStack()

        def _server_entry(self) -> None:  # moto's own, with a short poll interval
            app = RememberedHosts(create_backend_app)
            self._server = make_server(self._ip_address, self._port, app, True, request_handler=MotoRequestHandler)
            self._server_ready_event.set()
            self._server.serve_forever(poll_interval=0.02)

        def stop(self) -> None:
            try:
                super().stop()
            finally:
                self.patches.close()

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request access log
    server = QuickStop(ip_address="127.0.0.1", port=0, verbose=False)
    server.patches.enter_context(item_level_transaction_rollback())
    server.patches.enter_context(direct_attribute_values())
    if serialized:
        server.patches.enter_context(one_request_at_a_time())
    server.start()
    return server
