"""The HTTP APIs fuzzed from their own OpenAPI documents (issue 7).

The four services run as processes on the run's real Kafka and PostgreSQL. Each service's
OpenAPI document is read from the running service; schemathesis generates requests for every
operation, valid ones and invalid ones, with a customer's and a staff member's bearer token,
and with the ids of things that really exist (an order, its invoice, a ticket, a catalogue
plan) as well as made-up ones. Every answer must be below 500, have a status, content type,
headers and body the document declares. The tokens include ones without the optional claims
(email, name, locale), as an identity provider may issue them; dates and times are drawn
from the ends of the calendar (with offsets past them) as often as from the middle. Every
query parameter that takes a number, a date or a time is also sent each of its boundary values
(the documented bounds, one past them, the ends of int32 and int64). Separately, every operation
that declares the bearer scheme must refuse (401) a request without a token and with each kind
of bad token.

``FUZZ_EXAMPLES`` (default 300) is the number of generated requests per operation, shared
between the two tokens and the valid and invalid data; an operation whose inputs allow fewer
distinct requests gets fewer."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.formats import (
    get_default_format_strategies,
    unregister_string_format,
)

from services.kit.settings import LOCAL_JWT_SECRET
from tests.apps import bearer
from tests.e2e.system import SERVICES, System
from tests.helpers import eventually

pytestmark = pytest.mark.timeout(900)

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))
PATIENCE = 90.0

CUSTOMER_ID = "c-fuzz"
CUSTOMER = bearer("customer", CUSTOMER_ID, name="Fuzz Customer", email="fuzz@example.com")
STAFF = bearer("staff", "s-fuzz", name="Fuzz Staff")


def bare_bearer(role: str, sub: str) -> dict[str, str]:
    """A valid token with the required claims only: no email, name or locale."""
    now = datetime.now(UTC)
    claims = {"sub": sub, "role": role, "aud": "order-platform", "iat": now}
    token = jwt.encode({**claims, "exp": now + timedelta(hours=6)}, LOCAL_JWT_SECRET)
    return {"Authorization": f"Bearer {token}"}


TOKENS = {
    "customer": CUSTOMER,
    "staff": STAFF,
    # The same people, as a provider that issues no optional claims knows them.
    "customer without optional claims": bare_bearer("customer", CUSTOMER_ID),
    "staff without optional claims": bare_bearer("staff", "s-fuzz"),
}

#: Dates and times at the ends of the calendar, and offsets that push them past it.
EDGE_VALUES: dict[str, list[str]] = {
    "date": ["0001-01-01", "0001-01-02", "1970-01-01", "9999-12-30", "9999-12-31"],
    "date-time": [
        "0001-01-01T00:00:00Z",
        "0001-01-01T00:00:00+01:00",
        "0001-01-01T00:59:59+01:00",
        "9999-12-31T23:59:59.999999Z",
        "9999-12-31T23:00:00-01:00",
        "9999-12-31T23:59:59+14:00",
        "2025-01-01T00:00:00",
    ],
}
#: Integers at the ends of the columns behind them (int32, int64) and beyond.
INTEGER_EDGES = [0, -1, 2**31 - 1, 2**31, 2**63 - 1, 2**63, -(2**63) - 1, 10**30]

POSITIVE_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
#: What uvicorn answers (400, text/plain) to a request it cannot parse as HTTP at all; the
#: application never sees it, so no document can describe it.
MALFORMED_HTTP = "Invalid HTTP request received."
#: Invalid input gets the same checks. Whether it is refused is not one of them: FastAPI reads
#: query values leniently (a number as a date, unknown parameters ignored), as documented.
NEGATIVE_CHECKS = POSITIVE_CHECKS


@pytest.fixture(scope="module", autouse=True)
def edge_dates_and_times() -> Iterator[None]:
    """Dates and times drawn from the calendar's ends half the time, for this module only."""
    defaults = get_default_format_strategies()
    for name, edges in EDGE_VALUES.items():
        schemathesis.openapi.format(name, st.sampled_from(edges) | defaults[name])
    yield
    for name in EDGE_VALUES:
        unregister_string_format(name)


# --- things that exist, so the fuzzer reaches past "not found" ---------------------------------


async def existing_ids(system: System) -> dict[str, str]:
    """An order of the fuzzing customer with its invoice and a ticket; a catalogue plan."""
    async with httpx.AsyncClient(timeout=30) as http:
        orders, billing, notifier = (system.url(name) for name in ("orders", "billing", "notifier"))
        catalogue = (await http.get(f"{orders}/catalogue", headers=CUSTOMER)).json()
        product = catalogue["products"][0]
        plan = product["plans"][0]
        placed = await http.post(
            f"{orders}/orders",
            json={"plan": plan["id"], "period_months": plan["periods"][0]},
            headers=CUSTOMER,
        )
        assert placed.status_code == 201, placed.text
        order_id = placed.json()["id"]

        async def invoiced() -> Any:
            page = (
                await http.get(f"{billing}/invoices?order_id={order_id}", headers=CUSTOMER)
            ).json()
            return page["items"][0]["id"] if page["items"] else None

        async def ticketed() -> Any:
            opened = await http.post(
                f"{notifier}/tickets",
                json={"order_id": order_id, "subject": "Fuzz", "message": "Hello"},
                headers=CUSTOMER,
            )
            return opened.json()["id"] if opened.status_code == 201 else None

        invoice_id = await eventually(invoiced, timeout=PATIENCE, interval=0.5)
        ticket_id = await eventually(ticketed, timeout=PATIENCE, interval=0.5)
    return {
        "order_id": order_id,
        "invoice_id": invoice_id,
        "ticket_id": ticket_id,
        "plan_id": plan["id"],
        "product_id": product["id"],
        "customer_id": CUSTOMER_ID,
    }


# --- fuzzing ------------------------------------------------------------------------------------


@dataclass
class Tally:
    operations: int = 0
    sent: int = 0
    server_errors: int = 0
    schema_violations: int = 0
    #: Requests uvicorn itself refused as malformed HTTP, before any application code.
    malformed_http: int = 0
    problems: list[str] = field(default_factory=list)

    def record(
        self, label: str, who: str, failures: tuple[Failure, ...], status: int, curl: str
    ) -> None:
        if status >= 500:  # its "undocumented status" is the same finding
            self.server_errors += 1
        else:
            self.schema_violations += len(failures)
        for failure in failures:
            line = f"{label} as {who}: {status} {failure.title}: {failure.message[:300]}"
            if not any(problem.startswith(line) for problem in self.problems):
                self.problems.append(f"{line}\n    {curl[:3000]}")


def fuzz_operation(
    operation: Any,
    base_url: str,
    ids: dict[str, str],
    tally: Tally,
    session: requests.Session,
) -> None:
    """Send up to ``EXAMPLES`` generated requests to one operation and check every answer."""
    path_names = [p.name for p in operation.path_parameters]
    known = {name: ids[name] for name in path_names if name in ids}
    variants: list[tuple[str, GenerationMode, dict[str, str] | None]] = []
    for who in TOKENS:
        if known:
            variants.append((who, GenerationMode.POSITIVE, known))
        variants.append((who, GenerationMode.POSITIVE, None))
        variants.append((who, GenerationMode.NEGATIVE, None))
    per_variant = max(1, EXAMPLES // len(variants))
    for who, mode, path_parameters in variants:
        strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)
        checks = NEGATIVE_CHECKS if mode is GenerationMode.NEGATIVE else POSITIVE_CHECKS
        label = f"{operation.label} ({mode.value})"
        run = _runner(strategy, label, who, checks, base_url, tally, session, per_variant)
        try:
            run()
        except Unsatisfiable:
            # Nothing of the request can be made invalid (no parameters, no body).
            assert mode is GenerationMode.NEGATIVE, operation.label


def _runner(
    strategy: Any,
    label: str,
    who: str,
    checks: list[Any],
    base_url: str,
    tally: Tally,
    session: requests.Session,
    examples: int,
) -> Callable[[], None]:
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        response = case.call(base_url=base_url, headers=TOKENS[who], session=session, timeout=30)
        tally.sent += 1
        malformed = response.status_code == 400 and response.text == MALFORMED_HTTP
        if malformed and label.endswith("(negative)"):  # valid input must reach the app
            tally.malformed_http += 1
            return
        failures: tuple[Failure, ...] = ()
        try:
            case.validate_response(response, checks=checks, headers=TOKENS[who])
        except FailureGroup as group:
            failures = group.exceptions
        except Failure as failure:
            failures = (failure,)
        if failures or response.status_code >= 500:
            curl = case.as_curl_command(headers={"Authorization": "Bearer <token>"})
            tally.record(label, who, failures, response.status_code, curl)

    return run


def operations_of(system: System, service: str) -> list[Any]:
    schema = schemathesis.openapi.from_url(f"{system.url(service)}/openapi.json")
    found = []
    for result in schema.get_all_operations():
        found.append(result.ok())
    return found


async def test_fuzzed_apis_answer_within_their_documents(system: System, figures: Any) -> None:
    ids = await existing_ids(system)
    tally = Tally()
    started = time.monotonic()

    def fuzz_all() -> None:
        with requests.Session() as session:
            for service in SERVICES:
                for operation in operations_of(system, service):
                    tally.operations += 1
                    fuzz_operation(operation, system.url(service), ids, tally, session)

    await asyncio.to_thread(fuzz_all)
    seconds = round(time.monotonic() - started)
    figures(
        operations=tally.operations,
        examples_sent=tally.sent,
        server_errors_found=tally.server_errors,
        schema_violations_found=tally.schema_violations,
        malformed_http_refused_by_server=tally.malformed_http,
        examples_per_operation=EXAMPLES,
        seconds=seconds,
    )
    assert tally.operations >= 30, "every service's operations were found in its document"
    assert not tally.problems, "\n".join(tally.problems[:40])
    assert tally.sent >= tally.operations * min(EXAMPLES, 20) // 2


# --- boundaries ---------------------------------------------------------------------------------


def boundary_values(schema: dict[str, Any]) -> list[Any]:
    """The values at and past the edges of what a parameter's schema allows."""
    for kind in [schema, *schema.get("anyOf", [])]:
        if kind.get("format") in EDGE_VALUES:
            return EDGE_VALUES[kind["format"]]
        if kind.get("type") == "integer":
            bounds = [kind.get("minimum"), kind.get("maximum")]
            near = [b + step for b in bounds if b is not None for step in (-1, 0, 1)]
            return sorted(set(near + INTEGER_EDGES))
    return []


def send_boundaries(
    operation: Any, base_url: str, ids: dict[str, str], session: requests.Session
) -> tuple[int, list[str]]:
    """Each boundary value of each query parameter, alone, with every token; returns how many
    requests went out and the answers that were server errors."""
    path = operation.path
    for parameter in operation.path_parameters:
        path = path.replace(f"{{{parameter.name}}}", ids.get(parameter.name, str(uuid.uuid4())))
    sent, errors = 0, []
    for parameter in operation.query:
        for value in boundary_values(parameter.definition.get("schema", {})):
            for who, headers in TOKENS.items():
                asked = f"{operation.label}?{parameter.name}={value} as {who}"
                sent += 1
                try:
                    response = session.request(
                        operation.method.upper(),
                        base_url + path,
                        params={parameter.name: value},
                        headers=headers,
                        timeout=30,
                    )
                except requests.ConnectionError as error:  # what an unhandled error can end in
                    errors.append(f"{asked}: the connection broke ({error})")
                    continue
                if response.status_code >= 500:
                    errors.append(f"{asked}: {response.status_code} {response.text[:300]}")
    return sent, errors


async def test_every_number_date_and_time_parameter_at_its_boundaries(
    system: System, figures: Any
) -> None:
    ids = await existing_ids(system)
    sent, errors = 0, []

    def probe() -> None:
        nonlocal sent
        with requests.Session() as session:
            for service in SERVICES:
                for operation in operations_of(system, service):
                    count, found = send_boundaries(operation, system.url(service), ids, session)
                    sent += count
                    errors.extend(found)

    await asyncio.to_thread(probe)
    figures(boundary_requests=sent, server_errors_found=len(errors))
    assert sent >= 100, "the list and journal parameters were found and tried"
    assert not errors, "\n".join(errors[:40])


# --- credentials --------------------------------------------------------------------------------


def bad_credentials() -> dict[str, dict[str, str]]:
    """Each way a request can lack valid credentials."""
    now = datetime.now(UTC)

    def signed(secret: str, **changes: Any) -> dict[str, str]:
        claims = {
            "sub": CUSTOMER_ID,
            "role": "staff",
            "name": "Mallory",
            "aud": "order-platform",
            "iat": now,
            "exp": now + timedelta(hours=1),
            **changes,
        }
        claims = {key: value for key, value in claims.items() if value is not None}
        return {"Authorization": f"Bearer {jwt.encode(claims, secret, algorithm='HS256')}"}

    unsigned = jwt.encode(
        {
            "sub": CUSTOMER_ID,
            "role": "staff",
            "aud": "order-platform",
            "iat": now,
            "exp": now + timedelta(hours=1),
        },
        None,
        algorithm="none",
    )
    return {
        "no token": {},
        "not a JWT": {"Authorization": "Bearer not-a-token"},
        "another scheme": {"Authorization": f"Basic {CUSTOMER_ID}:secret"},
        "wrong signature": signed("x" * 32),
        "expired": signed(
            LOCAL_JWT_SECRET, iat=now - timedelta(hours=3), exp=now - timedelta(hours=2)
        ),
        "another audience": signed(LOCAL_JWT_SECRET, aud="another-platform"),
        "no subject": signed(LOCAL_JWT_SECRET, sub=None),
        "unknown role": signed(LOCAL_JWT_SECRET, role="root"),
        "unsigned": {"Authorization": f"Bearer {unsigned}"},
    }


def probe_credentials(
    operation: Any,
    url: str,
    known: dict[str, str],
    session: requests.Session,
    answers: dict[bool, list[str]],
) -> None:
    """A few generated requests to one operation, each sent with every kind of bad credentials;
    ``answers[True]`` collects the refusals (401 with a Bearer challenge), ``[False]`` the rest."""
    credentials = bad_credentials()

    @settings(
        max_examples=3,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(path_parameters=known or None))
    def send(case: Any) -> None:
        for name, headers in credentials.items():
            case.headers.pop("Authorization", None)
            response = case.call(base_url=url, headers=headers, session=session, timeout=30)
            challenged = response.headers.get("www-authenticate") == ["Bearer"]
            refused = response.status_code == 401 and challenged
            answers[refused].append(f"{operation.label} with {name}: {response.status_code}")

    send()


async def test_no_request_is_accepted_without_valid_credentials(
    system: System, figures: Any
) -> None:
    ids = await existing_ids(system)
    answers: dict[bool, list[str]] = {True: [], False: []}
    secured: list[str] = []

    def probe() -> None:
        with requests.Session() as session:
            for service in SERVICES:
                for operation in operations_of(system, service):
                    if not operation.definition.raw.get("security"):
                        # The journal's public key is published for anyone to check with.
                        public = ("/healthz", "/readyz", "/journal/public-key")
                        assert operation.path in public, operation.label
                        continue
                    secured.append(operation.label)
                    names = [p.name for p in operation.path_parameters]
                    known = {name: ids[name] for name in names if name in ids}
                    probe_credentials(operation, system.url(service), known, session, answers)

    await asyncio.to_thread(probe)
    figures(
        secured_operations=len(secured),
        requests=len(answers[True]) + len(answers[False]),
        accepted_without_credentials=len(answers[False]),
    )
    assert len(secured) >= 30, secured
    assert not answers[False], "\n".join(answers[False][:30])
    assert len(answers[True]) >= len(secured) * len(bad_credentials())
