#!/usr/bin/env python3
"""Reruns the attacks of issue 12 against a real release server and checks each is refused or
bounded. Python 3 standard library only; talks to 127.0.0.1 only.

    python3 scripts/attack_check.py BINARY

Starts `BINARY serve --database <tmp>/g.db --demo` on a free loopback port with an open-file
limit of 1024, creates tokens with `BINARY token create`, runs the attacks, samples the server's
VmRSS/VmHWM and open descriptors from /proc throughout, stops the server and prints one line per
check, then `N passed, M failed` (exit status 1 if M > 0). See docs/api.md, "Checking the limits
against a release server".
"""

import http.client
import itertools
import json
import os
import resource
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET

HOST = "127.0.0.1"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEMO = os.path.join(ROOT, "fixtures", "demo-district.geojson")

# Server settings (the attacks are sized against them).
NOFILE = 1024
MAX_CONNECTIONS = 256
HEADER_TIMEOUT_S = 2
BODY_IDLE_TIMEOUT_S = 3
MEMORY_BOUND = 1024 * 1024 * 1024  # bytes, VmHWM over the whole run
# Growth of VmRSS allowed for 50 concurrent `at=1` lookups: one past atlas of the demo district
# (tens of MB) fits many times; one build per request would not.
AT_GROWTH_BOUND = 256 * 1024 * 1024

# A point in street 310116101 (朱泾镇), looked up while the slow attacks run.
LOOKUP = "/api/v1/lookup?lon=121.1712&lat=30.8996"
# A point in street 310116001, near the road segments the scope attack targets.
SCOPE_POINT = (121.33473, 30.71531)
IMPOSTOR = "冒充者"
INJECTED_SEGMENT = "注入路段"

T0 = time.monotonic()
PORT = 0
SERVER = None  # the Server under attack
RESULTS = []  # (ok, name)


# ----------------------------------------------------------------------------------------------
# Reporting


def check(name, cond, detail):
    """Records and prints one check: ok/FAIL, its name, what was sent and what came back, the
    time since the run began and the server's memory now."""
    ok = bool(cond)
    RESULTS.append((ok, name))
    mem = SERVER.mem.now() if SERVER else ""
    print(
        f"{'ok  ' if ok else 'FAIL'} {name:<40} {detail}  [t={time.monotonic() - T0:5.1f}s{mem}]",
        flush=True,
    )
    return ok


def short(b, n=160):
    """A readable excerpt of a body."""
    if isinstance(b, (bytes, bytearray)):
        b = b.decode("utf-8", "replace")
    b = " ".join(str(b).split())
    return b if len(b) <= n else b[:n] + "…"


def mb(n):
    if n < 1048576:
        return f"{n / 1024:.0f} KiB"
    return f"{n / 1048576:.0f} MB"


# ----------------------------------------------------------------------------------------------
# The server


class Memory:
    """Samples VmRSS, VmHWM and the open descriptors of a process every 50 ms."""

    def __init__(self, pid):
        self.pid = pid
        self.rss = self.hwm = self.peak_rss = self.fds = self.peak_fds = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def sample(self):
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        self.rss = int(line.split()[1]) * 1024
                    elif line.startswith("VmHWM:"):
                        self.hwm = int(line.split()[1]) * 1024
            self.fds = len(os.listdir(f"/proc/{self.pid}/fd"))
        except (OSError, ValueError):
            return
        self.samples += 1
        self.peak_rss = max(self.peak_rss, self.rss)
        self.peak_fds = max(self.peak_fds, self.fds)

    def _run(self):
        while not self._stop.wait(0.05):
            self.sample()

    def stop(self):
        self.sample()
        self._stop.set()
        self._thread.join(2)

    def now(self):
        return f" rss={mb(self.rss)} hwm={mb(self.hwm)} fds={self.fds}"


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, binary, workdir, extra=(), name="server"):
        self.binary = binary
        self.db = os.path.join(workdir, "g.db")
        self.port = free_port()
        self.log_path = os.path.join(workdir, f"{name}.log")
        self.log = open(self.log_path, "wb")
        args = [
            binary, "serve", "--database", self.db, "--demo",
            "--listen", f"{HOST}:{self.port}",
            "--max-connections", str(MAX_CONNECTIONS),
            "--header-timeout-s", str(HEADER_TIMEOUT_S),
            "--body-idle-timeout-s", str(BODY_IDLE_TIMEOUT_S),
            *extra,
        ]
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "GRIDATLAS_LISTEN")}
        env.setdefault("RUST_LOG", "warn")

        def limit():  # `ulimit -n 1024` for the server only
            resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))

        self.proc = subprocess.Popen(
            args, stdout=self.log, stderr=subprocess.STDOUT, env=env, preexec_fn=limit
        )
        self.mem = Memory(self.proc.pid)
        self.started = time.monotonic()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode}; see {self.log_path}")
            try:
                if get("/healthz", port=self.port, timeout=2).status == 200:
                    self.ready_s = time.monotonic() - self.started
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the server did not answer /healthz within 90 s; see {self.log_path}")

    def nofile_limit(self):
        try:
            with open(f"/proc/{self.proc.pid}/limits") as f:
                for line in f:
                    if line.startswith("Max open files"):
                        return int(line.split()[3])
        except (OSError, ValueError, IndexError):
            pass
        return None

    def alive(self):
        return self.proc.poll() is None

    def token(self, role, streets=()):
        cmd = [self.binary, "token", "create", "--role", role, "--database", self.db]
        for s in streets:
            cmd += ["--street", s]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=60)
        return out.stdout.strip()

    def stop(self):
        self.mem.stop()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()
        return self.proc.returncode


# ----------------------------------------------------------------------------------------------
# HTTP


class Resp:
    def __init__(self, status, headers, body, secs, sent=0):
        self.status = status
        self.headers = headers  # lower-case names
        self.body = body
        self.secs = secs
        self.sent = sent

    def json(self):
        try:
            return json.loads(self.body)
        except (ValueError, TypeError):
            return None

    def is_problem(self):
        return self.headers.get("content-type", "").startswith("application/problem+json")

    def __str__(self):
        if self.status == 0:
            return f"no complete answer after {self.secs:.1f} s ({short(self.body) or 'nothing'})"
        return f"{self.status} {short(self.body)}"


def request(method, path, body=None, headers=None, token=None, port=None, timeout=60):
    """One request on a fresh connection (http.client)."""
    h = dict(headers or {})
    if token:
        h["Authorization"] = f"Bearer {token}"
    if isinstance(body, (dict, list)):
        body = json.dumps(body, ensure_ascii=False).encode()
        h.setdefault("Content-Type", "application/json")
    elif isinstance(body, str):
        body = body.encode()
    conn = http.client.HTTPConnection(HOST, port or PORT, timeout=timeout)
    t = time.monotonic()
    try:
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        return Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, data, time.monotonic() - t)
    except (OSError, http.client.HTTPException) as e:
        # No answer (connection refused, reset or closed, timeout): status 0, the error as body.
        return Resp(0, {}, f"no answer: {type(e).__name__}: {e}".encode(), time.monotonic() - t)
    finally:
        conn.close()


def get(path, **kw):
    return request("GET", path, **kw)


def problem_ok(r, status, **members):
    """Whether `r` is a problem+json answer with `status` and these members: a value is compared
    for equality, a callable is a predicate of the member."""
    if r.status != status or not r.is_problem():
        return False
    v = r.json()
    if not isinstance(v, dict) or v.get("status") != status:
        return False
    for k, want in members.items():
        got = v.get(k)
        if callable(want):
            if not want(got):
                return False
        elif got != want:
            return False
    return True


def contains(s):
    return lambda v: isinstance(v, str) and s in v


def parse_head(raw):
    """(status, headers) of a response head."""
    lines = raw.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    return status, headers


def read_response(sock, deadline):
    """Reads one response (Content-Length, chunked, or until close) from `sock` until
    `deadline`; returns (status, headers, body), status 0 if nothing complete arrived."""
    buf = b""
    head = None
    while True:
        if head is None and b"\r\n\r\n" in buf:
            end = buf.index(b"\r\n\r\n")
            head = parse_head(buf[:end])
            buf = buf[end + 4:]
        if head is not None:
            status, headers = head
            if "content-length" in headers and len(buf) >= int(headers["content-length"]):
                return status, headers, buf[: int(headers["content-length"])]
            if "chunked" in headers.get("transfer-encoding", "") and buf.endswith(b"0\r\n\r\n"):
                return status, headers, dechunk(buf)
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            sock.settimeout(min(left, 0.5))
            data = sock.recv(65536)
        except socket.timeout:
            continue
        except OSError:
            break
        if not data:
            break
        buf += data
    if head is None:
        return 0, {}, buf
    status, headers = head
    if "chunked" in headers.get("transfer-encoding", ""):
        buf = dechunk(buf)
    return status, headers, buf


def dechunk(buf):
    out = b""
    while buf:
        line, _, rest = buf.partition(b"\r\n")
        try:
            n = int(line.split(b";")[0], 16)
        except ValueError:
            break
        if n == 0:
            break
        out += rest[:n]
        buf = rest[n + 2:]
    return out


def stream(head, chunks, within, pause=0.0):
    """Sends `head`, then `chunks` (an iterable of bytes) until the server answers or `within`
    seconds pass; returns the answer (a Resp with the body bytes sent as `sent`). The answer is
    read by a thread of its own, so a server answering early stops the sending."""
    sock = socket.create_connection((HOST, PORT), timeout=10)
    t = time.monotonic()
    deadline = t + within
    out = {}
    answered = threading.Event()

    def reader():
        out["r"] = read_response(sock, deadline)
        answered.set()

    sent = 0
    try:
        sock.sendall(head.encode() if isinstance(head, str) else head)
        th = threading.Thread(target=reader, daemon=True)
        th.start()
        for chunk in chunks:
            view = memoryview(chunk)
            while view and not answered.is_set() and time.monotonic() < deadline:
                try:
                    n = sock.send(view)
                except socket.timeout:
                    continue
                except OSError:
                    view = None
                    break
                sent += n
                view = view[n:]
            if view is None or answered.is_set() or time.monotonic() > deadline:
                break
            if pause:
                answered.wait(pause)
        th.join(max(0.0, deadline - time.monotonic()) + 1)
    finally:
        sock.close()
    status, headers, body = out.get("r", (0, {}, b""))
    return Resp(status, headers, body, time.monotonic() - t, sent)


def repeat(piece, total, size=256 * 1024):
    """`total` bytes made of `piece`, in chunks of about `size`."""
    block = piece * max(1, size // len(piece))
    left = total
    while left > 0:
        c = block[:left]
        left -= len(c)
        yield c


def chunked(chunks):
    """Chunked transfer coding of `chunks`."""
    for c in chunks:
        yield b"%x\r\n" % len(c) + c + b"\r\n"
    yield b"0\r\n\r\n"


class LookupWatch:
    """GET lookups back to back on one kept-alive connection (opened before the attack), in a
    thread: counts answers, other statuses and the longest time without a 200. A connection
    the server closes is reopened (and that wait counts in the gap)."""

    def __init__(self, path=LOOKUP, interval=0.02, min_secs=2.0):
        self.path = path
        # The watch runs at least this long, however quickly the attack is refused.
        self.min_secs = min_secs
        self.interval = interval
        self.ok = self.bad = self.reconnects = 0
        self.bad_sample = ""
        self.max_gap = 0.0
        self._stop = threading.Event()

    def _conn(self):
        return http.client.HTTPConnection(HOST, PORT, timeout=10)

    def __enter__(self):
        self.conn = self._conn()
        self.conn.request("GET", self.path)
        r = self.conn.getresponse()
        r.read()
        self.first_status = r.status
        self.last_ok = time.monotonic()
        self.started = self.last_ok
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            try:
                self.conn.request("GET", self.path)
                r = self.conn.getresponse()
                body = r.read()
                now = time.monotonic()
                if r.status == 200 and b'"generation"' in body:
                    self.ok += 1
                    self.max_gap = max(self.max_gap, now - self.last_ok)
                    self.last_ok = now
                else:
                    self.bad += 1
                    self.bad_sample = f"{r.status} {short(body, 100)}"
            except (OSError, http.client.HTTPException):
                self.reconnects += 1
                self.conn.close()
                self.conn = self._conn()
            self._stop.wait(self.interval)

    def __exit__(self, *exc):
        self._stop.wait(max(0.0, self.started + self.min_secs - time.monotonic()))
        self._stop.set()
        self._thread.join(15)
        self.max_gap = max(self.max_gap, time.monotonic() - self.last_ok)
        self.secs = time.monotonic() - self.started
        self.conn.close()
        return False

    def report(self, label):
        check(
            f"{label}: lookups go on",
            self.first_status == 200 and self.ok >= 20 and self.bad == 0 and self.max_gap <= 5.0,
            f"GET {self.path} back to back during the attack → {self.ok} answered 200 in "
            f"{self.secs:.1f} s, {self.bad} other ({self.bad_sample or '-'}), "
            f"{self.reconnects} reconnects, longest gap {self.max_gap:.2f} s (≤ 5 s)",
        )


# ----------------------------------------------------------------------------------------------
# The demo district (for realistic uploads)


def load_demo():
    with open(DEMO, encoding="utf-8") as f:
        d = json.load(f)
    by_code = {f["properties"]["code"]: f for f in d["features"]}

    def street_of(code):
        for _ in range(10):
            f = by_code.get(code)
            if f is None:
                return None
            if f["properties"]["layer"] == "street":
                return code
            code = f["properties"].get("parent")
        return None

    return d, street_of


DEMO_FC, STREET_OF = load_demo()


def street_features(street, rename=None):
    """The demo's features of one street (and everything under it), copied; `rename` =
    (code, new name)."""
    out = []
    for f in DEMO_FC["features"]:
        if STREET_OF(f["properties"]["code"]) == street:
            f = json.loads(json.dumps(f))
            if rename and f["properties"]["code"] == rename[0]:
                f["properties"]["name"] = rename[1]
            out.append(f)
    return out


def collection(features, units=None):
    fc = {"type": "FeatureCollection", "features": features}
    if units is not None:
        fc["management_units"] = units
    return json.dumps(fc, ensure_ascii=False)


def upload(token, body, query="", port=None):
    return request(
        "POST", f"/api/v1/drafts{query}", body=body, token=token, port=port,
        headers={"Content-Type": "application/geo+json"},
    )


# ----------------------------------------------------------------------------------------------
# The attacks


def attack_1_big_upload_bogus_token(t):
    """16 concurrent 199 MB uploads with a bogus token, sending their body slowly: each 401 on
    its headers."""
    head = (
        "POST /api/v1/drafts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer bogus-attack-token\r\n"
        "Content-Type: application/geo+json\r\nContent-Length: 199000000\r\n\r\n"
    )
    answers = [None] * 16

    def one(i):
        # 1 KiB every 50 ms, at most 256 KiB: the answer must come long before.
        answers[i] = stream(head, repeat(b" ", 256 * 1024, 1024), within=15, pause=0.05)

    with LookupWatch() as w:
        threads = [threading.Thread(target=one, args=(i,)) for i in range(16)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(30)
    refused = [
        a for a in answers
        if a and problem_ok(a, 401, type="urn:gridatlas:problem:unauthorized", detail=contains("token"))
    ]
    slowest = max((a.secs for a in answers if a), default=0)
    most = max((a.sent for a in answers if a), default=0)
    bad = next((a for a in answers if a not in refused), None)
    check(
        "1 199 MB uploads, bogus token",
        len(refused) == 16 and slowest < 5,
        f"16× POST /api/v1/drafts Content-Length: 199000000, Bearer bogus, body 1 KiB/50 ms → "
        f"{len(refused)}/16 401 unauthorized ('{short(refused[0].json()['detail'], 60) if refused else ''}'), "
        f"slowest {slowest:.2f} s, at most {most} body bytes sent"
        + (f"; other: {bad}" if bad else ""),
    )
    w.report("1 uploads")


def attack_2_scope(t):
    """A planner reaching another street through a road segment, a management unit or a second
    district; nothing published."""
    segment = {
        "type": "Feature",
        "properties": {
            "layer": "road_segment", "code": "310116001S06B01R99", "name": INJECTED_SEGMENT,
            "parent": "310116001S06B01",
            "people": [{"role": "block_head", "name": IMPOSTOR, "phone": "13900000000"}],
        },
        "geometry": {"type": "LineString", "coordinates": [list(SCOPE_POINT), [121.3333, 30.7132]]},
    }
    r = upload(t["nobody"], collection([segment]))
    check(
        "2a road segment under another street",
        problem_ok(r, 403, type="urn:gridatlas:problem:forbidden", streets=["310116001"]),
        f"planner (no streets) POST /api/v1/drafts road_segment 310116001S06B01R99 → {r}",
    )

    unit = next(u for u in DEMO_FC["management_units"] if u["code"] == "310116001C01")
    unit = dict(unit, people=[{"role": "enforcement_officer", "name": IMPOSTOR, "phone": "13900000000"}])
    r = upload(t["nobody"], collection([], [unit]))
    check(
        "2b management unit hijack",
        problem_ok(r, 403, type="urn:gridatlas:problem:forbidden", streets=["310116001"]),
        f"planner (no streets) POST /api/v1/drafts management_units=[310116001C01, people replaced] → {r}",
    )

    fake = street_features("310116101")
    fake.append({
        "type": "Feature",
        "properties": {"layer": "district", "code": "999999", "name": "假区"},
        "geometry": {"type": "Polygon", "coordinates": [[[121.0, 30.6], [121.01, 30.6], [121.01, 30.61], [121.0, 30.6]]]},
    })
    r = upload(t["p101"], collection(fake), "?streets=310116101")
    check(
        "2c second district",
        problem_ok(r, 422, detail=contains("one district")),
        f"planner 310116101 POST /api/v1/drafts?streets=310116101 its street + district 999999 → {r}",
    )

    r = get("/api/v1/generations")
    v = r.json() or {}
    check(
        "2 nothing published",
        r.status == 200 and v.get("current") == 1,
        f"GET /api/v1/generations → {r.status} current={v.get('current')}",
    )
    r = get(f"/api/v1/lookup?lon={SCOPE_POINT[0]}&lat={SCOPE_POINT[1]}")
    text = r.body.decode("utf-8", "replace")
    check(
        "2 lookup shows the real people",
        r.status == 200 and '"block"' in text and IMPOSTOR not in text and INJECTED_SEGMENT not in text,
        f"GET /api/v1/lookup?lon={SCOPE_POINT[0]}&lat={SCOPE_POINT[1]} → {r.status}, "
        f"{len(r.body)} bytes, {IMPOSTOR!r} {'present' if IMPOSTOR in text else 'absent'}, "
        f"{INJECTED_SEGMENT!r} {'present' if INJECTED_SEGMENT in text else 'absent'}",
    )


def attack_3_draft_report(t):
    """A draft's report read without a token and by a planner of another street."""
    r = upload(t["p101"], collection(street_features("310116101", ("310116101009", "攻击回归草稿"))), "?streets=310116101")
    draft = (r.json() or {}).get("id")
    if not check("3 draft uploaded (setup)", r.status == 201 and draft, f"planner 310116101 uploads its street → {r}"):
        return
    path = f"/api/v1/drafts/{draft}/report"
    r = get(path)
    check("3 report without token", problem_ok(r, 401), f"GET {path} (no token) → {r}")
    r = get(path, token=t["p102"])
    check(
        "3 report by another street's planner",
        problem_ok(r, 403, streets=["310116101"]),
        f"GET {path} as planner 310116102 → {r}",
    )
    r = get(path, token=t["p101"])
    check("3 report by its planner", r.status == 200 and (r.json() or {}).get("draft") == draft,
          f"GET {path} as planner 310116101 → {r.status}")


def attack_4_slow_clients(t):
    """1,100 connections that send part of a request head and stall (more than the server's 1,024
    descriptors): lookups on a kept-alive connection keep being answered, every slow connection is
    closed by the server, new clients get in afterwards."""
    n = 1100
    partial = b"GET /api/v1/lookup?lon=121.2&lat=30.8 HTTP/1.1\r\nHost: x\r\n"
    socks, refused = [], 0
    t0 = time.monotonic()
    with LookupWatch() as w:
        for _ in range(n):
            if time.monotonic() - t0 > 30:
                break
            try:
                s = socket.create_connection((HOST, PORT), timeout=5)
                s.sendall(partial)
                socks.append(s)
            except OSError:
                refused += 1
        opened_s = time.monotonic() - t0
        # Wait (at most 40 s) for the server to close each of them.
        sel = selectors.DefaultSelector()
        for s in socks:
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ)
        open_left, answered = len(socks), 0
        deadline = time.monotonic() + 40
        while open_left and time.monotonic() < deadline:
            for key, _ in sel.select(1):
                s = key.fileobj
                try:
                    data = s.recv(4096)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if data:
                    answered += 1  # an answer (e.g. 408) before closing: fine, keep reading
                    continue
                sel.unregister(s)
                s.close()
                open_left -= 1
        closed_s = time.monotonic() - t0
        for key in list(sel.get_map().values()):
            key.fileobj.close()
        sel.close()
    check(
        "4 1,100 stalled request heads",
        len(socks) == n and open_left == 0 and SERVER.alive(),
        f"{n} connections sending half a request head each (server: ulimit -n {SERVER.nofile_limit()}, "
        f"--max-connections {MAX_CONNECTIONS}, --header-timeout-s {HEADER_TIMEOUT_S}) → {len(socks)} opened "
        f"in {opened_s:.1f} s ({refused} failed to connect), {len(socks) - open_left} closed by the server "
        f"within {closed_s:.1f} s, {open_left} still open; server descriptors peak {SERVER.mem.peak_fds}",
    )
    check(
        "4 descriptors stay under the limit",
        SERVER.mem.peak_fds < NOFILE,
        f"peak open descriptors of the server {SERVER.mem.peak_fds} (< {NOFILE})",
    )
    w.report("4 slow clients")
    r = get(LOOKUP, timeout=10)
    check("4 new client afterwards", r.status == 200 and r.secs < 2,
          f"GET {LOOKUP} on a new connection → {r.status} in {r.secs:.2f} s")


def attack_5_ndjson(t):
    """One 190 MB NDJSON line, streamed: 413 on the line, quickly; an unknown ?crs=: 400."""
    head = (
        "POST /api/v1/lookup HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n"
        "Content-Length: 190000000\r\n\r\n"
    )
    before = SERVER.mem.rss
    with LookupWatch() as w:
        r = stream(head, repeat(b"1", 190_000_000), within=60)
        SERVER.mem.sample()
    check(
        "5 190 MB NDJSON line",
        problem_ok(r, 413, line=1, detail=contains("line 1")) and r.secs < 5,
        f"POST /api/v1/lookup x-ndjson, one line of 190 MB, streamed → {r} after {r.secs:.2f} s, "
        f"{mb(r.sent)} sent; rss {mb(before)} → {mb(SERVER.mem.rss)}",
    )
    w.report("5 NDJSON line")
    r = request("POST", "/api/v1/lookup?crs=gcj2", body="[121.1712,30.8996]\n",
                headers={"Content-Type": "application/x-ndjson"})
    check("5 ?crs=gcj2", problem_ok(r, 400, parameter="crs", detail=contains("crs")),
          f"POST /api/v1/lookup?crs=gcj2 x-ndjson → {r}")


def attack_6_json_batch(t):
    """A JSON batch of 10,000,000 points, streamed (chunked): 413, memory bounded."""
    n = 10_000_000
    point = b"[121.1712,30.8996],"
    first, last = b'{"points": [', b"[121.1712,30.8996]]}"
    length = len(first) + len(point) * n + len(last)

    def body():
        return itertools.chain([first], repeat(point, len(point) * n), [last])

    head = (
        "POST /api/v1/lookup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    )
    before = SERVER.mem.rss
    with LookupWatch() as w:
        r = stream(head, chunked(body()), within=60)
        SERVER.mem.sample()
    check(
        "6 JSON batch of 10M points (chunked)",
        problem_ok(r, 413, type="urn:gridatlas:problem:too-large", detail=contains("100000")) and r.secs < 10,
        f"POST /api/v1/lookup {{\"points\": [10,000,000 points]}} chunked ({mb(length)}) → {r} "
        f"after {r.secs:.2f} s, {mb(r.sent)} sent; rss {mb(before)} → {mb(SERVER.mem.rss)}",
    )
    w.report("6 JSON batch")
    head = (
        "POST /api/v1/lookup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\n\r\n"
    )
    r = stream(head, body(), within=30)
    check(
        "6 JSON batch of 10M points (length)",
        problem_ok(r, 413, detail=contains("100000")) and r.secs < 2,
        f"the same with Content-Length: {length} → {r} after {r.secs:.2f} s, {mb(r.sent)} sent",
    )


def attack_7_cases(t):
    """A case event backdated to 1999, a 20 MB case description, an out-of-range indicator date."""
    cats = (get("/api/v1/categories").json() or {}).get("items", [])
    code = next((c["code"] for c in cats if c.get("layer") == "resident_grid" and not c.get("street")),
                cats[0]["code"] if cats else "RG0101")
    t["category"] = code
    r = request("POST", "/api/v1/cases", token=t["intake"], body={
        "lon": 121.1712, "lat": 30.8996, "category": code, "source": "hotline",
        "description": "攻击回归测试",
    })
    case = (r.json() or {}).get("id")
    if check("7 case created (setup)", r.status == 201 and case, f"POST /api/v1/cases category {code} → {r}"):
        path = f"/api/v1/cases/{case}/events"
        r = request("POST", path, token=t["dispatcher"],
                    body={"action": "accept", "at": "1999-01-01T00:00:00Z"})
        check("7 event backdated to 1999", problem_ok(r, 422, field="at"),
              f"POST {path} {{action: accept, at: 1999-01-01T00:00:00Z}} → {r}")
        r = request("POST", path, token=t["intake"], body={"action": "close"})
        check("7 an intake token takes no workflow action", problem_ok(r, 403),
              f"POST {path} {{action: close}} as intake → {r}")

    size = 20 * 1024 * 1024
    prefix = json.dumps({"lon": 121.1712, "lat": 30.8996, "category": code, "source": "app"})[:-1] + ', "description": "'
    body = itertools.chain([prefix.encode()], repeat(b"x", size), [b'"}'])
    head = (
        f"POST /api/v1/cases HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {t['intake']}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(prefix) + size + 2}\r\n\r\n"
    )
    r = stream(head, body, within=30)
    check(
        "7 20 MB case description",
        problem_ok(r, 413, limit_bytes=131072, detail=contains("/api/v1/cases")) and r.secs < 2,
        f"POST /api/v1/cases with a 20 MB description (Content-Length {len(prefix) + size + 2}) → {r} "
        f"after {r.secs:.2f} s, {mb(r.sent)} sent",
    )

    r = get("/api/v1/indicators?to=-262143-01-02")
    alive = get("/healthz")
    check(
        "7 indicators to=-262143-01-02",
        400 <= r.status < 500 and r.is_problem() and (r.json() or {}).get("parameter") == "to"
        and alive.status == 200,
        f"GET /api/v1/indicators?to=-262143-01-02 → {r}; then /healthz {alive.status}",
    )


def attack_8_open311_xml(t):
    """An Open311 request with U+FFFE and `]]>&<` in its description; the XML list stays
    well-formed."""
    nasty = "攻击\ufffe回归]]>&<b>\"'"
    form = urllib.parse.urlencode({
        "api_key": t["intake"], "service_code": t.get("category", "RG0101"),
        "lat": "30.8996", "long": "121.1712", "description": nasty,
    })
    r = request("POST", "/open311/v2/requests.json", body=form,
                headers={"Content-Type": "application/x-www-form-urlencoded"})
    check("8 Open311 POST with U+FFFE ]]>&<", r.status == 201, f"POST /open311/v2/requests.json description={nasty!r} → {r}")
    for who, token in (("public", None), ("intake", t["intake"])):
        r = get("/open311/v2/requests.xml", token=token)
        try:
            root = ET.fromstring(r.body)
            texts = [e.text or "" for e in root.iter("description")]
            err = None
        except ET.ParseError as e:
            texts, err = [], str(e)
        hit = [x for x in texts if "回归]]>&<b>" in x]
        if who == "public":
            ok = r.status == 200 and err is None
            seen = f"well-formed, {len(root)} request(s)" if err is None else f"not well-formed: {err}"
        else:
            ok = r.status == 200 and err is None and len(hit) == 1 and "\ufffd" in hit[0] and "\ufffe" not in hit[0]
            seen = (f"well-formed, description {hit[0]!r}" if hit else "the description is missing") if err is None \
                else f"not well-formed: {err}"
        check(f"8 requests.xml ({who}) well-formed", ok,
              f"GET /open311/v2/requests.xml {'as intake' if token else 'without token'} → {r.status}, {seen}")


def attack_9_past_generation(t):
    """Generation 2 published; 50 concurrent `at=1` lookups answer generation 1, memory bounded."""
    r = upload(t["admin"], collection(street_features("310116101", ("310116101009", "攻击回归改名"))), "?streets=310116101")
    draft = (r.json() or {}).get("id")
    if not check("9 rename uploaded (setup)", r.status == 201 and draft, f"admin uploads street 310116101 renamed → {r}"):
        return
    r = request("POST", f"/api/v1/drafts/{draft}/publish", token=t["admin"])
    gen = (r.json() or {}).get("generation")
    if not check("9 generation 2 published (setup)", r.status == 200 and gen == 2, f"POST /api/v1/drafts/{draft}/publish → {r}"):
        return
    live = get(LOOKUP).json() or {}
    code = (live.get("block") or {}).get("code")
    before, hwm_before = SERVER.mem.rss, SERVER.mem.hwm
    answers = [None] * 50

    def one(i):
        answers[i] = get(LOOKUP + "&at=1", timeout=60)

    started = time.monotonic()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(50)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(90)
    secs = time.monotonic() - started
    SERVER.mem.sample()
    good = [a for a in answers if a and a.status == 200 and (a.json() or {}).get("generation") == 1
            and ((a.json() or {}).get("block") or {}).get("code") == code]
    bad = next((a for a in answers if a not in good), None)
    grown = SERVER.mem.rss - before
    check(
        "9 50× at=1 after generation 2",
        live.get("generation") == 2 and len(good) == 50 and grown < AT_GROWTH_BOUND
        and SERVER.mem.hwm < MEMORY_BOUND,
        f"50 concurrent GET {LOOKUP}&at=1 (live generation {live.get('generation')}) → {len(good)}/50 200 "
        f"generation 1 block {code} in {secs:.2f} s; rss {mb(before)} → {mb(SERVER.mem.rss)} "
        f"(+{mb(max(grown, 0))}, < {mb(AT_GROWTH_BOUND)}), hwm {mb(hwm_before)} → {mb(SERVER.mem.hwm)}"
        + (f"; other: {bad}" if bad else ""),
    )


def attack_10_small(t):
    """Lower-case bearer, TileJSON and the Host header, an unknown method, a repeated key."""
    r = get("/api/v1/cases", headers={"Authorization": f"bearer {t['admin']}"})
    check("10 lower-case bearer", r.status == 200, f"GET /api/v1/cases Authorization: bearer <admin> → {r.status}")
    r = get("/api/v1/tiles.json", headers={"Host": "evil.example"})
    check("10 TileJSON ignores Host", r.status == 200 and b"evil.example" not in r.body and b"tiles" in r.body,
          f"GET /api/v1/tiles.json Host: evil.example → {r.status}, tiles {short(json.dumps((r.json() or {}).get('tiles')), 60)}")
    r = request("BREW", "/api/v1/lookup")
    check("10 BREW /api/v1/lookup", problem_ok(r, 405, type="urn:gridatlas:problem:method-not-allowed"),
          f"BREW /api/v1/lookup → {r}")
    grid = json.dumps(street_features("310116101")[0], ensure_ascii=False)
    dup = grid.replace('"properties": {', '"properties": {"name": "重复键", ', 1)
    body = '{"type": "FeatureCollection", "features": [' + dup + "]}"
    r = upload(t["admin"], body, "?streets=310116101")
    probs = (r.json() or {}).get("problems") or [{}]
    check(
        "10 repeated property key",
        dup != grid and problem_ok(r, 422) and str(probs[0].get("path", "")).endswith("properties.name")
        and "more than once" in json.dumps(probs[0]),
        f"POST /api/v1/drafts with \"name\" twice in a feature's properties → {r}",
    )


def attack_8b_private_reads(workdir):
    """With --private-reads (a second server on the same store): Open311 and lookups need a token."""
    global PORT
    main_port = PORT
    s = Server(SERVER.binary, workdir, ["--private-reads"], name="private")
    try:
        PORT = s.port
        intake = s.token("intake")
        r1 = get("/open311/v2/requests.json")
        r2 = get("/open311/v2/requests.json", token=intake)
        r3 = get(LOOKUP)
        check(
            "8 private reads (second server)",
            r1.status == 401 and r2.status == 200 and r3.status == 401,
            f"--private-reads: GET /open311/v2/requests.json no token → {r1.status}, as intake → {r2.status}; "
            f"GET {LOOKUP} no token → {r3.status}",
        )
    finally:
        PORT = main_port
        s.stop()


# ----------------------------------------------------------------------------------------------


def main():
    global PORT, SERVER
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    binary = os.path.abspath(sys.argv[1])
    # The client needs more descriptors than the server has (1,100 slow connections at once).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 4096 if hard == resource.RLIM_INFINITY else min(hard, 4096)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    workdir = tempfile.mkdtemp(prefix="gridatlas-attack-")
    print(f"gridatlas attack check: {binary}, store and logs in {workdir}", flush=True)
    SERVER = Server(binary, workdir)
    PORT = SERVER.port
    print(
        f"server pid {SERVER.proc.pid} on {HOST}:{PORT}, ready in {SERVER.ready_s:.1f} s, "
        f"open-file limit {SERVER.nofile_limit()}, --max-connections {MAX_CONNECTIONS} "
        f"--header-timeout-s {HEADER_TIMEOUT_S} --body-idle-timeout-s {BODY_IDLE_TIMEOUT_S}",
        flush=True,
    )
    t = {
        "nobody": SERVER.token("planner"),
        "p101": SERVER.token("planner", ["310116101"]),
        "p102": SERVER.token("planner", ["310116102"]),
        "intake": SERVER.token("intake"),
        "dispatcher": SERVER.token("dispatcher", ["*"]),
        "admin": SERVER.token("admin"),
    }
    attacks = [
        attack_1_big_upload_bogus_token,
        attack_2_scope,
        attack_3_draft_report,
        attack_5_ndjson,
        attack_6_json_batch,
        attack_7_cases,
        attack_8_open311_xml,
        attack_10_small,
        attack_4_slow_clients,
        attack_9_past_generation,
    ]
    for attack in attacks:
        try:
            attack(t)
        except Exception as e:  # a crash of one attack is a failure, not the end of the run
            check(attack.__name__, False, f"raised {type(e).__name__}: {e}")
        if not SERVER.alive():
            check("server alive", False, f"the server exited ({SERVER.proc.returncode}) after {attack.__name__}")
            break
    alive = SERVER.alive() and get("/healthz").status == 200
    check("server alive at the end", alive, "GET /healthz → 200" if alive else "no answer")
    if os.environ.get("ATTACK_SKIP_PRIVATE") != "1":
        try:
            attack_8b_private_reads(workdir)
        except Exception as e:
            check("8 private reads (second server)", False, f"raised {type(e).__name__}: {e}")
    rc = SERVER.stop()
    m = SERVER.mem
    check(
        "memory bound (whole run)",
        0 < m.hwm < MEMORY_BOUND and m.samples > 0,
        f"server VmHWM {mb(m.hwm)} (< {mb(MEMORY_BOUND)}), highest VmRSS sampled {mb(m.peak_rss)}, "
        f"{m.samples} samples; peak descriptors {m.peak_fds}; exit status {rc} after SIGTERM",
    )
    failed = sum(1 for ok, _ in RESULTS if not ok)
    print(f"peak server memory: VmHWM {mb(m.hwm)}; total run time {time.monotonic() - T0:.1f} s")
    if failed:
        print(f"server log kept: {SERVER.log_path}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"{len(RESULTS) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
