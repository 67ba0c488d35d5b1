"""CRM objects endpoints: list, read, update, search, batch read and batch update.

Shapes follow https://developers.hubspot.com/docs/api/crm/understanding-the-crm: a record is
`{"id", "properties" (all strings), "createdAt", "updatedAt", "archived"}`; lists page with
`paging.next.after` (+ `link`); batch endpoints answer 200 `{"status": "COMPLETE", "results",
"startedAt", "completedAt"}` or 207 with `numErrors` and `errors[]` (each naming the failed ids in
`context.ids`).
"""

from __future__ import annotations

import bisect
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from sandbox.httpserver import Request, Response
from sandbox.hubspot import errors, history
from sandbox.hubspot.faults import Faults
from sandbox.hubspot.schema import DEFAULT_RETURNED, OBJECT_ALIASES, OBJECT_TYPES
from sandbox.hubspot.search import MAX_RESULTS, Searcher, SearchError, body_problem, parse
from sandbox.hubspot.store import ASSOCIATION_NAMES, Row, Store, Table, ValueProblem
from sandbox.hubspot.values import iso_ms

LIST_MAX = 100
BATCH_MAX = 100


def object_type(name: str) -> str | None:
    """The canonical object type of a path segment (`contacts`, `contact`, `0-1`...)."""
    if name in OBJECT_TYPES:
        return name
    return OBJECT_ALIASES.get(name.lower())


def read_scope(name: str) -> str:
    """The scope reading an object type needs; engagements fall under contacts in HubSpot."""
    if name in ("companies", "deals"):
        return f"crm.objects.{name}.read"
    return "crm.objects.contacts.read"


def write_scope(name: str) -> str:
    """The scope writing an object type needs."""
    if name in ("companies", "deals"):
        return f"crm.objects.{name}.write"
    return "crm.objects.contacts.write"


def parse_json(request: Request) -> tuple[Any, Response | None]:
    """The JSON body, or HubSpot's 400 for malformed JSON."""
    try:
        return request.json(), None
    except (ValueError, UnicodeDecodeError) as exc:
        return None, errors.validation(f"Invalid input JSON on line 1, column 1: {exc}")


def table_of(store: Store, request: Request) -> Table | Response:
    """The table the `{object}` path segment names, or HubSpot's 400."""
    name = object_type(request.params["object"])
    if name is None:
        return errors.validation(f"Unable to infer object type from: {request.params['object']}")
    return store.table(name)


def table_and_body(store: Store, request: Request) -> tuple[Table, Any] | Response:
    """The table the `{object}` path segment names and the JSON body, or HubSpot's 400."""
    table = table_of(store, request)
    if isinstance(table, Response):
        return table
    body, problem = parse_json(request)
    if problem is not None:
        return problem
    return table, body


def batch_response(
    results: list[dict[str, Any]], failures: list[dict[str, Any]], started: int
) -> Response:
    """A batch endpoint's 200 `COMPLETE`, or 207 with `numErrors` and `errors[]`."""
    body: dict[str, Any] = {"status": "COMPLETE", "results": results}
    if failures:
        body["numErrors"] = len(failures)
        body["errors"] = failures
    body["startedAt"] = iso_ms(started)
    body["completedAt"] = iso_ms(int(time.time() * 1000))
    return Response(207 if failures else 200, body)


def _property_list(raw: Any) -> list[str] | None:
    """Property names from query values (repeated keys and/or comma lists) or a JSON list."""
    if raw is None:
        return None
    names: list[str] = []
    for item in raw if isinstance(raw, list) else [raw]:
        names.extend(part.strip() for part in str(item).split(",") if part.strip())
    return names


def _invalid_properties(problems: list[ValueProblem]) -> str:
    details = [
        {
            "isValid": False,
            "message": problem.message,
            "error": problem.code,
            "name": problem.name,
            "localizedErrorMessage": problem.message,
        }
        for problem in problems
    ]
    return f"Property values were not valid: {json.dumps(details)}"


class CrmApi:
    """The objects endpoints over a store."""

    def __init__(
        self,
        store: Store,
        faults: Faults,
        *,
        base_url: Callable[[], str],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.faults = faults
        self.base_url = base_url
        self.clock = clock
        self.searchers = {name: Searcher(store.table(name)) for name in OBJECT_TYPES}
        self._last_write_ms = 0

    def reset(self, store: Store) -> None:
        """Serve a new store."""
        self.store = store
        self.searchers = {name: Searcher(store.table(name)) for name in OBJECT_TYPES}

    def now_ms(self) -> int:
        """The write timestamp: the clock in epoch ms, never going backwards."""
        now = max(int(self.clock() * 1000), self._last_write_ms)
        self._last_write_ms = now
        return now

    def _associations(self, table: Table, row: Row, targets: list[str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for target in targets:
            kind = object_type(target)
            if kind is None:
                continue
            ids = self.store.associated(table.object_type, row.id, kind)
            if not ids:
                continue
            name = ASSOCIATION_NAMES.get(
                (table.object_type, kind), f"{table.object_type}_to_{kind}"
            )
            results = []
            for index, other in enumerate(ids):
                if index == 0 and kind == "companies":
                    results.append({"id": str(other), "type": name})
                results.append(
                    {"id": str(other), "type": f"{name}_unlabeled" if kind == "companies" else name}
                )
            found[kind] = {"results": results}
        return found

    # -- GET /crm/v3/objects/{object} -----------------------------------------------------

    def list_objects(self, request: Request) -> Response:
        """A page of records in id order."""
        table = table_of(self.store, request)
        if isinstance(table, Response):
            return table
        query = request.query
        try:
            limit = int(query.get("limit", ["10"])[0])
        except ValueError:
            return errors.validation("limit must be an integer")
        if limit < 1 or limit > LIST_MAX:
            return errors.validation(f"limit must be between 1 and {LIST_MAX}, was {limit}")
        after_text = query.get("after", [""])[0]
        try:
            after = int(after_text) if after_text else 0
        except ValueError:
            return errors.validation(f"Invalid after: {after_text}")
        names = _property_list(query.get("properties")) or list(DEFAULT_RETURNED[table.object_type])
        targets = _property_list(query.get("associations")) or []
        archived = query.get("archived", ["false"])[0].lower() == "true"
        with self.store.lock:
            render = table.renderer(names)
            ids, rows = table.ids, table.rows
            position = bisect.bisect_left(ids, after)
            page: list[dict[str, Any]] = []
            next_id: int | None = None
            while position < len(ids):
                row = rows[ids[position]]
                position += 1
                if row.archived != archived:
                    continue
                if len(page) == limit:
                    next_id = row.id
                    break
                record = render(row)
                if targets:
                    linked = self._associations(table, row, targets)
                    if linked:
                        record["associations"] = linked
                page.append(record)
        body: dict[str, Any] = {"results": page}
        if next_id is not None:
            params = [(k, v) for k, values in query.items() if k != "after" for v in values]
            params.append(("after", str(next_id)))
            link = f"{self.base_url()}{request.path}?{urlencode(params)}"
            body["paging"] = {"next": {"after": str(next_id), "link": link}}
        return Response(200, body)

    # -- GET/PATCH /crm/v3/objects/{object}/{id} ------------------------------------------

    def get_object(self, request: Request) -> Response:
        """One record."""
        table = table_of(self.store, request)
        if isinstance(table, Response):
            return table
        names = _property_list(request.query.get("properties")) or list(
            DEFAULT_RETURNED[table.object_type]
        )
        targets = _property_list(request.query.get("associations")) or []
        with self.store.lock:
            row = self._row(table, request.params["id"])
            if row is None:
                return errors.not_found("resource not found")
            return Response(200, table.render(row, names, self._associations(table, row, targets)))

    @staticmethod
    def _row(table: Table, id_text: str) -> Row | None:
        if not id_text.isdigit():
            return None
        row = table.rows.get(int(id_text))
        return None if row is None or row.archived else row

    def update_object(self, request: Request) -> Response:
        """Update one record's properties."""
        parsed = table_and_body(self.store, request)
        if isinstance(parsed, Response):
            return parsed
        table, body = parsed
        props = body.get("properties") if isinstance(body, dict) else None
        if not isinstance(props, dict):
            return errors.validation("properties is required")
        with self.store.lock:
            row = self._row(table, request.params["id"])
            if row is None:
                return errors.not_found("resource not found")
            values, problems = self._validate(table, props)
            if problems:
                return errors.validation(_invalid_properties(problems))
            self._apply(table, row, values, self.now_ms())
            return Response(200, table.render(row, self._echo(table, values)))

    # -- writes ---------------------------------------------------------------------------

    @staticmethod
    def _validate(table: Table, props: dict[str, Any]) -> tuple[dict[str, Any], list[ValueProblem]]:
        values: dict[str, Any] = {}
        problems: list[ValueProblem] = []
        for name, value in props.items():
            coerced, problem = table.coerce(str(name), value)
            if problem:
                problems.append(problem)
            else:
                values[str(name)] = coerced
        return values, problems

    @staticmethod
    def _apply(table: Table, row: Row, values: dict[str, Any], now_ms: int) -> None:
        for name, value in values.items():
            if name == table.created_prop:
                row.created = value if value is not None else row.created
            else:
                table.record_change(row, name, value, now_ms, "INTEGRATION")
        table.touch(row, now_ms)
        table.version += 1
        table.updates[row.id] += 1

    @staticmethod
    def _echo(table: Table, values: dict[str, Any]) -> list[str]:
        return [*values, "hs_object_id", table.created_prop, *sorted(table.modified_props)]

    # -- POST /crm/v3/objects/{object}/search ---------------------------------------------

    def search(self, request: Request) -> Response:
        """Filter, sort and page records (offset paging, 10,000-result cap, bodies of at most
        3,000 characters)."""
        too_long = body_problem(request.body)
        if too_long is not None:
            return errors.validation(too_long)
        parsed = table_and_body(self.store, request)
        if isinstance(parsed, Response):
            return parsed
        table, body = parsed
        try:
            query = parse(table, body)
        except SearchError as exc:
            return errors.validation(str(exc))
        if query.after >= MAX_RESULTS:
            # https://developers.hubspot.com/docs/api/crm/search#limitations
            return errors.validation(
                f"Cannot page past {MAX_RESULTS} results: after={query.after}, limit={query.limit}"
            )
        names = _property_list(body.get("properties")) or list(DEFAULT_RETURNED[table.object_type])
        with self.store.lock:
            try:
                ids = self.searchers[table.object_type].matching_ids(query)
            except SearchError as exc:
                return errors.validation(str(exc))
            rows = table.rows
            lag_s = self.faults.rates.search_lag_s
            if lag_s > 0:
                indexed_until = int((self.clock() - lag_s) * 1000)
                ids = [id_ for id_ in ids if rows[id_].updated <= indexed_until]
            stop = min(query.after + query.limit, MAX_RESULTS)
            render = table.renderer(names)
            results = [render(rows[id_]) for id_ in ids[query.after : stop]]
        response: dict[str, Any] = {"total": len(ids), "results": results}
        if len(ids) > stop and query.limit:
            response["paging"] = {"next": {"after": str(stop)}}
        return Response(200, response)

    # -- POST /crm/v3/objects/{object}/batch/read -----------------------------------------

    def _batch_request(self, request: Request) -> tuple[Table, Any, list[str]] | Response:
        """The table, body and input ids of a batch request, or HubSpot's 400."""
        parsed = table_and_body(self.store, request)
        if isinstance(parsed, Response):
            return parsed
        table, body = parsed
        inputs = body.get("inputs") if isinstance(body, dict) else None
        if not isinstance(inputs, list):
            return errors.validation("inputs is required")
        if len(inputs) > BATCH_MAX:
            return errors.validation(
                f"Batch input size exceeded: {len(inputs)} inputs, the maximum is {BATCH_MAX}"
            )
        ids = []
        for item in inputs:
            if not isinstance(item, dict) or "id" not in item:
                return errors.validation("Each input needs an id")
            ids.append(str(item["id"]))
        return table, body, ids

    def batch_read(self, request: Request) -> Response:
        """Read up to 100 records by id (or by a unique property via `idProperty`); with
        `propertiesWithHistory`, up to 50 with those properties' past values (`history`)."""
        started = int(time.time() * 1000)
        parsed = self._batch_request(request)
        if isinstance(parsed, Response):
            return parsed
        table, body, ids = parsed
        names = _property_list(body.get("properties")) or list(DEFAULT_RETURNED[table.object_type])
        with_history = _property_list(body.get("propertiesWithHistory"))
        if with_history and len(ids) > history.HISTORY_BATCH_MAX:
            return errors.validation(history.TOO_MANY)
        id_property = body.get("idProperty") or "hs_object_id"
        results: list[dict[str, Any]] = []
        missing: list[str] = []
        with self.store.lock:
            lookup = self._lookup(table, id_property)
            render = table.renderer(names)
            for id_text in ids:
                row = lookup(id_text)
                if row is None:
                    missing.append(id_text)
                    continue
                result = render(row)
                if with_history:
                    result["propertiesWithHistory"] = history.render(table, row, with_history)
                results.append(result)
        return batch_response(results, [_not_found(table, missing)] if missing else [], started)

    def _lookup(self, table: Table, id_property: str) -> Callable[[str], Row | None]:
        if id_property == "hs_object_id":
            return lambda text: self._row(table, text)
        by_value: dict[str, Row] = {}
        for row in table.live():
            value = table.raw(row, id_property)
            if value is not None:
                by_value.setdefault(str(value).casefold(), row)
        return lambda text: by_value.get(text.casefold())

    # -- POST /crm/v3/objects/{object}/batch/update ---------------------------------------

    def batch_update(self, request: Request) -> Response:
        """Update up to 100 records; per-record failures make a 207."""
        started = int(time.time() * 1000)
        parsed = self._batch_request(request)
        if isinstance(parsed, Response):
            return parsed
        table, body, ids = parsed
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            return errors.validation(
                f"Duplicate IDs found in batch input: [{', '.join(duplicates)}]. "
                "IDs must be unique",
                context={"ids": duplicates},
            )
        results: list[dict[str, Any]] = []
        failures: list[dict[str, Any]] = []
        missing: list[str] = []
        # A batch's inputs nearly always set the same properties: compile each echo once.
        renderers: dict[tuple[str, ...], Callable[[Row], dict[str, Any]]] = {}
        with self.store.lock:
            now_ms = self.now_ms()
            for item in body["inputs"]:
                id_text = str(item["id"])
                row = self._row(table, id_text)
                if row is None:
                    missing.append(id_text)
                    continue
                props = item.get("properties")
                if not isinstance(props, dict):
                    failures.append(
                        _failure(
                            id_text,
                            [ValueProblem("properties", "INVALID", "properties is required")],
                        )
                    )
                    continue
                values, problems = self._validate(table, props)
                if problems:
                    failures.append(_failure(id_text, problems))
                    continue
                if self.faults.fail_input():
                    failures.append(
                        {
                            "status": "error",
                            "category": "INTERNAL_ERROR",
                            "message": "An internal error occurred while updating this object; "
                            "retry it.",
                            "context": {"ids": [id_text]},
                        }
                    )
                    continue
                self._apply(table, row, values, now_ms)
                echo = tuple(values)
                render = renderers.get(echo)
                if render is None:
                    render = renderers[echo] = table.renderer(self._echo(table, values))
                results.append(render(row))
        if missing:
            failures.insert(0, _not_found(table, missing))
        return batch_response(results, failures, started)


def _not_found(table: Table, missing: list[str]) -> dict[str, Any]:
    return {
        "status": "error",
        "category": "OBJECT_NOT_FOUND",
        "message": f"Could not get some {table.singular} objects, they may be deleted "
        "or not exist. Check that ids are valid.",
        "context": {"ids": missing},
    }


def _failure(id_text: str, problems: list[ValueProblem]) -> dict[str, Any]:
    return {
        "status": "error",
        "category": "VALIDATION_ERROR",
        "message": _invalid_properties(problems),
        "context": {"ids": [id_text], "propertyName": [p.name for p in problems]},
        "errors": [
            {"message": p.message, "code": p.code, "context": {"propertyName": [p.name]}}
            for p in problems
        ],
    }
