"""The crash test: a burst of signed StarRocks creates from several threads, some repeated
with the same ClientToken (in turn and at once from two threads), while the server is killed
with SIGKILL and restarted on the same data directory. A client whose call failed retries it
with the same token once the server is back (on its new port).

Afterwards every acknowledged create exists exactly once, every answer for a token carries
the same InstanceId, and every instance reaches `running`.
"""
from __future__ import annotations

import threading
import time
import uuid

import pytest
from alibabacloud_tea_openapi.exceptions import ClientException

from sdkhelpers import all_instance_ids, describe, new_request, wait_status

THREADS = 6
CREATES_PER_THREAD = 8
KILLS = 2
RETRY_FOR_SECONDS = 30.0
PAUSE_BETWEEN_CREATES = 0.02


class Burst:
    def __init__(self, server):
        self.server = server
        self.lock = threading.Lock()
        self.progress = threading.Condition(self.lock)
        self.answers: dict[str, list[str]] = {}   # token -> every InstanceId answered for it
        self.failures: list[str] = []
        self.retried_after_error = 0

    def create(self, token: str, name: str) -> str:
        """Creates until acknowledged, retrying with the same token across restarts."""
        deadline = time.monotonic() + RETRY_FOR_SECONDS
        while True:
            try:
                resp = self.server.client().create_instance_v1(new_request(client_token=token, instance_name=name))
                iid = resp.body.data.instance_id
                with self.lock:
                    self.answers.setdefault(token, []).append(iid)
                    self.progress.notify_all()
                return iid
            except ClientException as e:
                # A refusal (400s) is never expected: the same token carries the same request.
                raise AssertionError(f"{name}: refused {e.status_code} {e.code}: {e.message}")
            except Exception:  # the server was killed under the call, or is restarting
                with self.lock:
                    self.retried_after_error += 1
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def wait_for_answers(self, count: int) -> None:
        with self.progress:
            assert self.progress.wait_for(lambda: len(self.answers) >= count, timeout=30), \
                f"only {len(self.answers)} creates acknowledged"

    def worker(self, tokens: list[tuple[str, str]]) -> None:
        try:
            for n, (token, name) in enumerate(tokens):
                self.create(token, name)
                if n % 3 == 0:
                    self.create(token, name)  # the same token again: the first answer
                time.sleep(PAUSE_BETWEEN_CREATES)
        except BaseException as e:  # noqa: BLE001 - reported by the test
            with self.lock:
                self.failures.append(repr(e))


@pytest.mark.lifecycle("300ms")
def test_creates_survive_sigkill_exactly_once(server):
    burst = Burst(server)
    shared = [(str(uuid.uuid4()), f"shared-{n}") for n in range(CREATES_PER_THREAD)]
    plans = [shared, shared] + [
        [(str(uuid.uuid4()), f"t{t}-{n}") for n in range(CREATES_PER_THREAD)] for t in range(THREADS - 2)
    ]
    threads = [threading.Thread(target=burst.worker, args=(plan,)) for plan in plans]
    for t in threads:
        t.start()
    total = len({token for plan in plans for token, _ in plan})
    for k in range(1, KILLS + 1):
        # Mid-burst: once a share of the creates is acknowledged, with clients still sending.
        burst.wait_for_answers(total * k // (KILLS + 2))
        server.kill()
        server.start()
    for t in threads:
        t.join(timeout=60)
        assert not t.is_alive(), "a client never got its create acknowledged"
    assert burst.failures == [], burst.failures
    assert server.runs == KILLS + 1
    assert burst.retried_after_error > 0, "no call was cut off by a kill"

    tokens = {token for plan in plans for token, _ in plan}
    assert set(burst.answers) == tokens, "every create was acknowledged"
    for token, ids in burst.answers.items():
        assert len(set(ids)) == 1, f"token {token} answered different instances: {ids}"
    acknowledged = {ids[0] for ids in burst.answers.values()}
    assert len(acknowledged) == len(tokens)

    client = server.client()
    listed = all_instance_ids(client)
    assert describe(client, page_size=100).total == len(tokens)
    assert sorted(listed) == sorted(acknowledged), "each acknowledged create exists exactly once"
    for iid in listed:
        wait_status(client, iid, "running", timeout=15)
