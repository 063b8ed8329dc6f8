"""Shared helpers for the cloudtwin SDK conformance suite.

Everything here talks to the server through the official Alibaba SDK
(alibabacloud-starrocks20221019), exactly as a user would.
"""
from __future__ import annotations

import json
import re
import time
import uuid

import pytest
from alibabacloud_starrocks20221019 import models as m
from alibabacloud_starrocks20221019.client import Client
from alibabacloud_tea_openapi import utils_models as open_api_models
from alibabacloud_tea_openapi.exceptions import ClientException, ServerException

INSTANCE_ID_RE = re.compile(r"^c-[0-9a-f]{16}$")

# The seed example (sdk-contract.md §3.2), exactly as probe_starrocks_alibaba.py sends it.
SEED_PASSWORD = "password_example"
SEED_CLIENT_TOKEN = "123e4567-e89b-12d3-a456-426655440000"
REGION = "cn-hangzhou"
ZONE = "cn-hangzhou-i"

# Every AdminPassword a test sends is registered here; no response may ever echo one.
SENT_PASSWORDS: set[str] = {SEED_PASSWORD}


# --------------------------------------------------------------------------- clients

def make_client(endpoint: str, ak: str, sk: str, signature_algorithm: str | None = None) -> Client:
    """An SDK client pointed at the emulator (sdk-contract.md §1.1).

    signature_algorithm='v2' selects the legacy ROA HMAC-SHA1 signer (sdk-contract.md §1.4).
    The client records every raw response body the SDK receives (client.raw_responses)
    and asserts that none of them carries an AdminPassword.
    """
    cfg = open_api_models.Config(
        access_key_id=ak,
        access_key_secret=sk,
        endpoint=endpoint,
        protocol="http",
        region_id=REGION,
    )
    if signature_algorithm:
        cfg.signature_algorithm = signature_algorithm
    client = Client(cfg)
    client.raw_responses = []

    def recording(orig, action_of):
        def wrapper(*args):
            res = orig(*args)
            action = action_of(args)
            client.raw_responses.append((action, res.get("body")))
            assert_no_password(res.get("body"), where=f"{action} response body", key_too=True)
            return res
        return wrapper

    # ACS3 path: do_request(params, request, runtime); v2 ROA path: do_roarequest(action, ...)
    client.do_request = recording(client.do_request, lambda a: a[0].action)
    client.do_roarequest = recording(client.do_roarequest, lambda a: a[0])
    return client


def assert_no_password(body, where: str, key_too: bool) -> None:
    text = json.dumps(body, ensure_ascii=False)
    if key_too:
        assert "adminpassword" not in text.lower(), f"{where} mentions AdminPassword: {text[:500]}"
    for pw in SENT_PASSWORDS:
        assert pw not in text, f"{where} echoes an admin password: {text[:500]}"


# --------------------------------------------------------------------------- requests

def frontend(**kw) -> m.CreateInstanceV1RequestFrontendNodeGroups:
    d = dict(cu=8, storage_size=100, storage_performance_level="pl1", disk_number=1,
             resident_node_number=3, spec_type="standard", zone_id=ZONE)
    d.update(kw)
    return m.CreateInstanceV1RequestFrontendNodeGroups(**d)


def backend(**kw) -> m.CreateInstanceV1RequestBackendNodeGroups:
    d = dict(cu=8, storage_size=100, storage_performance_level="pl1", disk_number=1,
             resident_node_number=3, spec_type="standard", zone_id=ZONE)
    d.update(kw)
    return m.CreateInstanceV1RequestBackendNodeGroups(**d)


def observer(**kw) -> m.CreateInstanceV1RequestObserverNodeGroups:
    d = dict(cu=8, storage_size=100, storage_performance_level="pl1", disk_number=1,
             resident_node_number=1, spec_type="standard", zone_id=ZONE)
    d.update(kw)
    return m.CreateInstanceV1RequestObserverNodeGroups(**d)


def seed_request(**overrides) -> m.CreateInstanceV1Request:
    """The seed CreateInstanceV1 request, field for field as the probe sends it.

    Keyword overrides replace fields (None removes a field)."""
    fields = dict(
        instance_name="c1",
        admin_password=SEED_PASSWORD,
        version="3",
        auto_renew=True,
        run_mode="shared_data",
        region_id=REGION,
        package_type="official",
        pay_type="prePaid",
        vpc_id="vpc-bp1fll2mci6d7pw8m****",
        pricing_cycle="Month",
        v_switches=[m.CreateInstanceV1RequestVSwitches(vsw_id="vsw-bp19mlh98tm9teyyd****", zone_id=ZONE)],
        zone_id=ZONE,
        oss_accessing_role_name="AliyunEMRStarRocksAccessingOSSRole",
        duration=1,
        tags=[m.CreateInstanceV1RequestTags(key="k1", value="v1")],
        resource_group_id="rg-aekzllkih7jqxxx",
        client_token=SEED_CLIENT_TOKEN,
        backend_node_groups=[backend()],
        frontend_node_groups=[frontend()],
        encrypted=False,
    )
    fields.update(overrides)
    pw = fields.get("admin_password")
    if isinstance(pw, str) and pw:
        SENT_PASSWORDS.add(pw)
    return m.CreateInstanceV1Request(**fields)


def new_request(**overrides) -> m.CreateInstanceV1Request:
    """The seed request with a fresh ClientToken (so several creates never collide)."""
    overrides.setdefault("client_token", str(uuid.uuid4()))
    return seed_request(**overrides)


def create(client, req=None, **overrides) -> str:
    """Create an instance and return its id (asserting the success envelope)."""
    if req is None:
        req = new_request(**overrides)
    resp = client.create_instance_v1(req)
    assert_ok(resp)
    iid = resp.body.data.instance_id
    assert iid and INSTANCE_ID_RE.match(iid), f"bad InstanceId {iid!r}"
    return iid


def create_running(client, **overrides) -> str:
    iid = create(client, **overrides)
    wait_status(client, iid, "running")
    return iid


# --------------------------------------------------------------------------- responses

def assert_ok(resp) -> None:
    """The success envelope: HTTP 200, RequestId, Success=true, HttpStatusCode=200."""
    assert resp.status_code == 200, resp.status_code
    body = resp.body
    assert body is not None, "SDK could not parse the body (wrong JSON type somewhere?)"
    assert body.request_id, f"empty RequestId in {body.to_map()}"
    if hasattr(body, "success"):
        assert body.success is True, body.to_map()
    if hasattr(body, "http_status_code"):
        assert body.http_status_code == 200, body.to_map()


def expect_error(fn, *, status: int, code: str, exc=None, message_names=None):
    """Call fn(), which must raise the SDK exception for HTTP `status` with `code`.

    message_names: names of which at least one must appear (case-insensitive) in the server's
    Message; a tuple entry means all of its parts must appear. Returns the exception."""
    if exc is None:
        exc = ClientException if 400 <= status < 500 else ServerException
    with pytest.raises(Exception) as ei:
        fn()
    e = ei.value
    data = getattr(e, "data", None) or {}
    detail = (f"{type(e).__module__}.{type(e).__name__} status={getattr(e, 'status_code', None)} "
              f"code={getattr(e, 'code', None)!r} data={data!r}")
    assert isinstance(e, exc), f"expected {exc.__name__}, got {detail}"
    assert e.status_code == status, f"expected HTTP {status}: {detail}"
    assert e.code == code, f"expected code {code!r}: {detail}"
    assert e.request_id, f"empty request id: {detail}"
    server_message = data.get("Message") or data.get("message") or ""
    assert server_message, f"empty Message: {detail}"
    if message_names:
        low = server_message.lower()

        def named(n):
            parts = n if isinstance(n, tuple) else (n,)
            return all(p.lower() in low for p in parts)

        assert any(named(n) for n in message_names), (
            f"message {server_message!r} names none of {message_names}")
    assert_no_password(data, where="error body", key_too=False)
    return e


def describe(client, **kw):
    resp = client.describe_instances(m.DescribeInstancesRequest(**kw))
    assert_ok(resp)
    return resp.body


def describe_one(client, iid):
    body = describe(client, instance_id=iid)
    assert body.total == 1 and len(body.data) == 1, body.to_map()
    assert body.data[0].instance_id == iid
    return body.data[0]


def all_instance_ids(client) -> list[str]:
    body = describe(client, page_size=100)
    return [d.instance_id for d in (body.data or [])]


def current_status(client, iid):
    """The instance's InstanceStatus, or None when it is gone (empty Data or 404)."""
    try:
        body = describe(client, instance_id=iid)
    except ClientException as e:
        if e.status_code == 404 and e.code == "InstanceNotFound":
            return None
        raise
    data = body.data or []
    if not data:
        return None
    assert len(data) == 1, body.to_map()
    assert data[0].instance_id == iid
    return data[0].instance_status


def wait_status(client, instance_id, target, timeout=10.0, interval=0.1):
    """Poll DescribeInstances until InstanceStatus == target (None: the instance is gone).

    Returns the statuses seen, in order, consecutive duplicates collapsed."""
    seen = []
    deadline = time.monotonic() + timeout
    while True:
        st = current_status(client, instance_id)
        if not seen or seen[-1] != st:
            seen.append(st)
        if st == target:
            return seen
        if time.monotonic() > deadline:
            raise AssertionError(f"{instance_id}: no status {target!r} after {timeout}s; saw {seen}")
        time.sleep(interval)


def node_groups(client, iid, **kw):
    resp = client.describe_node_groups(m.DescribeNodeGroupsRequest(cluster_id=iid, **kw))
    assert_ok(resp)
    return resp.body


def fe_group(client, iid):
    groups = [g for g in node_groups(client, iid).data if g.component_type == "FE"]
    assert len(groups) == 1, [g.to_map() for g in node_groups(client, iid).data]
    return groups[0]


def be_group(client, iid):
    groups = [g for g in node_groups(client, iid).data if g.component_type in ("BE", "CN")]
    assert len(groups) == 1, [g.to_map() for g in node_groups(client, iid).data]
    return groups[0]


def operations(client, iid, **kw):
    resp = client.list_operation_history(m.ListOperationHistoryRequest(instance_id=iid, **kw))
    assert_ok(resp)
    return resp.body


def admin(server, method: str, path: str, body=None, token: str | None = None):
    """Calls the admin API (`/_cloudtwin<path>`); answers (status, parsed JSON or text)."""
    import json
    import urllib.error
    import urllib.request
    data = None if body is None else (body if isinstance(body, (bytes, str)) else json.dumps(body))
    if isinstance(data, str):
        data = data.encode()
    req = urllib.request.Request(f"{server.url}/_cloudtwin{path}", data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            status, raw = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    text = raw.decode()
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text
