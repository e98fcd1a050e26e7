"""``wrk`` (Debian's package) as the load generator: a fixed number of connections for a fixed
time, requests made by a Lua script, throughput and latency percentiles read from its report.

Requests cycle through a list of (method, path, body) given by the benchmark: each of wrk's
threads takes every n-th one, so a request that may only succeed once (cancel this order) is
sent once."""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

THREADS = 2
CONNECTIONS = 16
SECONDS = 10

_SCRIPT = """
local requests = {}
local headers = %(headers)s
local threads = %(threads)d
local thread_count = 0
local counter = 0
local failed = 0

for line in io.lines(%(file)s) do
  local method, path, body = line:match("^(%%S+) (%%S+) ?(.*)$")
  table.insert(requests, {method, path, body})
end

function setup(thread)
  thread:set("id", thread_count)
  thread_count = thread_count + 1
end

function request()
  local item = requests[(counter * threads + id) %% #requests + 1]
  counter = counter + 1
  local body = item[3]
  if body == "" then body = nil end
  return wrk.format(item[1], item[2], headers, body)
end

function response(status, headers, body)
  if status >= 300 then
    failed = failed + 1
    if failed <= 3 then io.stderr:write(status .. " " .. body:sub(1, 300) .. "\\n") end
  end
end
"""


@dataclass(frozen=True)
class Load:
    """What wrk measured: requests per second, latency percentiles (ms), failures."""

    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    failures: int
    output: str


Request = tuple[str, str, str]
"""(method, path, body): a body is one line of JSON or empty."""


def run(
    url: str,
    requests: Sequence[Request],
    headers: Mapping[str, str],
    *,
    seconds: int = SECONDS,
    connections: int = CONNECTIONS,
    threads: int = THREADS,
) -> Load:
    """Load ``url`` with ``requests`` (cycled) for ``seconds``."""
    folder = Path(tempfile.mkdtemp(prefix="wrk-"))
    listing = folder / "requests.txt"
    listing.write_text("".join(f"{m} {p} {b}\n" for m, p, b in requests))
    pairs = (f"[{json.dumps(name)}] = {json.dumps(value)}" for name, value in headers.items())
    lua_headers = "{" + ", ".join(pairs) + "}"
    script = folder / "script.lua"
    script.write_text(
        _SCRIPT % {"headers": lua_headers, "threads": threads, "file": json.dumps(str(listing))}
    )
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    result = subprocess.run(
        [*command, "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    )
    return parse(result.stdout + result.stderr)


def parse(output: str) -> Load:
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    # A read error is the server closing after a failed answer, counted already.
    socket = r"Socket errors: connect (\d+), read \d+, write (\d+), timeout (\d+)"
    errors = re.search(socket, output)
    failures = (int(bad.group(1)) if bad else 0) + (
        sum(int(n) for n in errors.groups()) if errors else 0
    )
    return Load(rate, _percentile(output, "50"), _percentile(output, "99"), total, failures, output)


def _percentile(output: str, which: str) -> float:
    found = re.search(rf"^\s+{which}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
    assert found, output
    value, unit = float(found.group(1)), found.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
