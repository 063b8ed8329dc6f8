"""Several cloudtwin replicas on one PostgreSQL database, driven by the official SDKs.

What is checked:
- three `cloudtwin serve --store postgres://...` processes started together share one state:
  StarRocks creates (Alibaba SDK) and RocketMQ creates (Huawei SDK) spread across them, the
  same `ClientToken` sent to every replica at once and again later, describes on every
  replica; one replica is killed with SIGKILL half-way;
- every instance reaches its steady status exactly once (the outcome of its create job was
  applied once: the row's version is 2), each token made one instance and every answer to it
  was the same, and no job ran twice (read from the database: one finished job per instance,
  with the worker that finished it);
- a signature nonce used on one replica is refused on another (`SignatureNonceUsed`);
- while the database is unreachable a replica answers 503 in each dialect's envelope, quickly,
  and serves again by itself once the database is back.

The database: `CLOUDTWIN_TEST_PG` (a URL to an administrative database), else PostgreSQL at
127.0.0.1:5432 as `postgres` or `root`. Each test creates its own database and drops it.
Without a server the tests are skipped, loudly.
"""
from __future__ import annotations

import os
import secrets
import socket
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit, urlunsplit

import pytest
from alibabacloud_tea_openapi.exceptions import ServerException
from alibabacloud_tea_openapi.utils import Utils
from huaweicloudsdkcore.exceptions.exceptions import ServerResponseException

from conftest import Server
from sdkhelpers import assert_ok, describe, describe_one, expect_error, make_client, new_request
from test_rocketmq import create_seed, rmq, show

psycopg = pytest.importorskip("psycopg", reason="psycopg is in tests/sdk/requirements.txt")

DEFAULT_URLS = ("postgres://postgres@127.0.0.1:5432/postgres", "postgres://root@127.0.0.1:5432/postgres")
LIFECYCLE = "2s"


def loud(config, line: str) -> None:
    """Writes a line to the terminal past pytest's output capture."""
    capture = config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        sys.stderr.write(line + "\n")
        sys.stderr.flush()


def _admin_connection(config):
    """An autocommit connection to the first server that answers, or a loud skip."""
    wanted = os.environ.get("CLOUDTWIN_TEST_PG", "").strip()
    urls = [wanted] if wanted else list(DEFAULT_URLS)
    tried = []
    for url in urls:
        tried.append(urlsplit(url).hostname or url)
        try:
            return psycopg.connect(url, autocommit=True, connect_timeout=2), url
        except psycopg.Error:
            continue
    reason = f"multi-replica tests: no PostgreSQL at {' or '.join(tried)}; set CLOUDTWIN_TEST_PG"
    loud(config, f"SKIPPED: {reason}")
    pytest.skip(reason)


@pytest.fixture
def pg_url(request):
    """A fresh database for this test; yields its URL and drops it afterwards."""
    admin, url = _admin_connection(request.config)
    name = f"cloudtwin_replicas_{uuid.uuid4().hex}"
    admin.execute(f"CREATE DATABASE {name}")
    parts = urlsplit(url)
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


class Replica(Server):
    """A Server that keeps its state in PostgreSQL and shares the master key."""

    def __init__(self, workdir, store_url: str, master_key: str, ak: str, sk: str):
        super().__init__(workdir, LIFECYCLE)
        self.extra_args = ["--store", store_url]
        self.access_key_id, self.access_key_secret = ak, sk
        self.master_key = master_key

    @property
    def env(self) -> dict:
        env = super().env
        env["CLOUDTWIN_MASTER_KEY"] = self.master_key
        return env


@pytest.fixture
def replicas(request, tmp_path, pg_url):
    """make(count, store_url=None) -> started replicas on the test's database, started at once."""
    made: list[Replica] = []
    request.node._cloudtwin_servers = made
    master_key = secrets.token_hex(32)
    ak, sk = "LTAI" + secrets.token_hex(10), secrets.token_urlsafe(24)

    def make(count: int, store_url: str | None = None) -> list[Replica]:
        group = [Replica(tmp_path / f"replica{len(made) + i}", store_url or pg_url, master_key, ak, sk)
                 for i in range(count)]
        made.extend(group)
        # Together: they race to migrate the schema and to create the default account.
        with ThreadPoolExecutor(len(group)) as pool:
            list(pool.map(lambda r: r.start(), group))
        return group

    yield make
    for r in made:
        r.kill()


def query(pg_url: str, sql: str, *args):
    with psycopg.connect(pg_url, autocommit=True) as conn:
        return conn.execute(sql, args).fetchall()


def reached(value, wanted):
    """True once `value` is `wanted`; else the value, for the failure message."""
    return True if value == wanted else value


def wait_until(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last is True:
            return
        time.sleep(0.1)
    raise AssertionError(f"{what}: still {last!r} after {timeout}s")


def test_three_replicas_share_jobs_tokens_and_nonces(request, replicas, pg_url, monkeypatch):
    servers = replicas(3)
    ali = [make_client(s.endpoint, s.access_key_id, s.access_key_secret) for s in servers]
    hw = [rmq(s) for s in servers]

    answers: dict[str, list[tuple[str, object]]] = {}

    def create_on(n: int, token: str):
        # One client per call: the SDK clients are not shared between threads.
        s = servers[n]
        resp = make_client(s.endpoint, s.access_key_id, s.access_key_secret).create_instance_v1(
            new_request(client_token=token, instance_name=f"rep-{token[:8]}"))
        assert_ok(resp)
        return resp.body.data.instance_id, resp.body.data.order_id

    def token_everywhere(token: str, alive: list[int]):
        """The same token on every live replica at once, as a client retrying on a timeout might."""
        with ThreadPoolExecutor(len(alive)) as pool:
            got = list(pool.map(lambda n: create_on(n, token), alive))
        answers.setdefault(token, []).extend(got)

    # Before the kill: tokens sent to all three at once, and RocketMQ creates on each.
    first_tokens = [str(uuid.uuid4()) for _ in range(6)]
    for token in first_tokens:
        token_everywhere(token, [0, 1, 2])
    # Tokens first answered by the replica about to die, retried later elsewhere.
    doomed_tokens = [str(uuid.uuid4()) for _ in range(3)]
    for token in doomed_tokens:
        answers.setdefault(token, []).append(create_on(2, token))
    rocketmq = {}
    for n, client in enumerate(hw):
        for k in range(2):
            name = f"rmq-{n}-{k}-{secrets.token_hex(3)}"
            rocketmq[create_seed(client, name=name)] = name

    # Half-way, with every create job still pending (the lifecycle is 2 s): SIGKILL one.
    servers[2].kill()
    alive = [0, 1]
    for token in doomed_tokens:
        for n in alive:
            answers[token].append(create_on(n, token))
    later_tokens = [str(uuid.uuid4()) for _ in range(4)]
    for i, token in enumerate(later_tokens):
        answers.setdefault(token, []).append(create_on(alive[i % 2], token))
        answers[token].append(create_on(alive[(i + 1) % 2], token))

    # Each token: one instance, and every replica gave the first answer.
    for token, got in answers.items():
        assert len(set(got)) == 1, f"token {token} got different answers: {got}"
    starrocks = {got[0][0] for got in answers.values()}
    assert len(starrocks) == len(answers), "two tokens share an instance"

    # Every instance is seen by every live replica and reaches its steady status. (Rarely the
    # killed replica held a job's lease at the kill; another takes it over when the 30 s
    # lease ends, hence the long wait.)
    for iid in starrocks:
        for n in alive:
            wait_until(lambda: reached(describe_one(ali[n], iid).instance_status, "running"),
                       45, f"StarRocks {iid} on replica {n}")
    for iid in rocketmq:
        for n in alive:
            wait_until(lambda: reached(show(hw[n], iid).status, "RUNNING"), 45, f"RocketMQ {iid} on replica {n}")
    listed = {d.instance_id for d in (describe(ali[1], page_size=100).data or [])}
    assert listed == starrocks

    # The database: one row per instance, each create applied exactly once, no job run twice.
    rows = query(pg_url, "SELECT id, product, status, version FROM instances")
    assert {r[0] for r in rows} == starrocks | set(rocketmq)
    for iid, product, status, version in rows:
        assert status == ("running" if product == "starrocks" else "RUNNING"), (iid, status)
        assert version == 2, f"{iid}: version {version}; its create outcome was applied more than once"
    # prePaid instances also hold their term's expiry, a job of its own (billing's).
    expiries = query(pg_url, "SELECT instance_id FROM jobs WHERE operation = 'Expire'")
    assert {e[0] for e in expiries} <= starrocks | set(rocketmq)
    jobs = query(pg_url, "SELECT instance_id, operation, state, lease_owner, attempts FROM jobs "
                         "WHERE operation <> 'Expire'")
    assert sorted(j[0] for j in jobs) == sorted(r[0] for r in rows), "one create job per instance"
    owners = set()
    for instance_id, operation, state, owner, attempts in jobs:
        assert (operation, state) == ("CreateInstance", "succeeded"), (instance_id, operation, state)
        assert owner and owner.startswith("cloudtwin-"), f"{instance_id}: finished by {owner!r}"
        assert attempts >= 1
        owners.add(owner)
    claims = sum(j[4] for j in jobs)
    loud(request.config, f"replicas: {len(jobs)} jobs, {claims} claims, finished by {len(owners)} workers")
    tokens = query(pg_url, "SELECT count(*) FROM idempotency")[0][0]
    assert tokens == len(answers)

    # A nonce seen by one replica is refused by another.
    nonce = secrets.token_hex(16)
    monkeypatch.setattr(Utils, "get_nonce", staticmethod(lambda: nonce))
    assert_ok(ali[0].describe_regions())
    expect_error(lambda: ali[1].describe_regions(), status=400, code="SignatureNonceUsed")
    monkeypatch.undo()
    assert_ok(ali[1].describe_regions())
    assert query(pg_url, "SELECT count(*) FROM nonces")[0][0] > 0, "nonces are kept in the database"


class CuttableProxy:
    """A loopback TCP proxy to PostgreSQL that the test can cut (every connection is closed
    and new ones are closed at once, as when the database host goes away) and restore."""

    def __init__(self, upstream: tuple[str, int]):
        self.upstream = upstream
        self.cut = threading.Event()
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.cut.is_set():
                client.close()
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=2)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self.lock:
                self.sockets += [client, server]
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket):
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def sever(self):
        self.cut.set()
        with self.lock:
            for s in self.sockets:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
            self.sockets.clear()

    def restore(self):
        self.cut.clear()

    def close(self):
        self.sever()
        self.listener.close()


def test_an_unreachable_database_answers_503_then_recovers(request, replicas, pg_url):
    parts = urlsplit(pg_url)
    proxy = CuttableProxy((parts.hostname, parts.port or 5432))
    try:
        netloc = f"{parts.username}@127.0.0.1:{proxy.port}" if parts.username else f"127.0.0.1:{proxy.port}"
        (srv,) = replicas(1, urlunsplit(parts._replace(netloc=netloc)))
        ali = srv.client()
        hw = rmq(srv)
        iid = create_seed(hw, name=f"rmq-{secrets.token_hex(3)}")
        describe(ali)

        proxy.sever()
        started = time.monotonic()
        expect_error(lambda: describe(ali), status=503, code="ServiceUnavailable", exc=ServerException)
        with pytest.raises(ServerResponseException) as e:
            show(hw, iid)
        assert e.value.status_code == 503, e.value
        assert e.value.error_code == "APIGW.0202", e.value
        assert e.value.request_id
        waited = time.monotonic() - started
        loud(request.config, f"replicas: two 503 answers took {waited:.2f} s")
        assert waited < 12, "503 should come within the store's timeouts"

        proxy.restore()
        deadline = time.monotonic() + 15
        while True:
            try:
                describe(ali)
                assert show(hw, iid).status in ("CREATING", "RUNNING")
                break
            except (ServerException, ServerResponseException):
                assert time.monotonic() < deadline, "the replica did not recover by itself"
                time.sleep(0.2)
        wait_until(lambda: reached(show(hw, iid).status, "RUNNING"), 15, "the create job after the outage")
    finally:
        proxy.close()
