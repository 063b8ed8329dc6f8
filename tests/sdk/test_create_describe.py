"""CreateInstanceV1 / DescribeInstances / ReleaseInstance / ClientToken."""
from __future__ import annotations

import json
import threading
import time
import uuid

import pytest
from alibabacloud_starrocks20221019 import models as m
from alibabacloud_tea_openapi.exceptions import ClientException

from sdkhelpers import (INSTANCE_ID_RE, REGION, SEED_CLIENT_TOKEN, ZONE, all_instance_ids, assert_ok,
                        backend, create, create_running, describe, describe_one, expect_error, frontend,
                        make_client, new_request, node_groups, operations, seed_request, wait_status)


def test_seed_create_succeeds_and_reaches_running(client):
    t0 = int(time.time() * 1000)
    resp = client.create_instance_v1(seed_request())
    assert_ok(resp)
    data = resp.body.data
    assert INSTANCE_ID_RE.match(data.instance_id), data.instance_id
    assert isinstance(data.order_id, int) and not isinstance(data.order_id, bool), data.order_id
    assert data.order_id != 0, "prePaid create must return a non-zero OrderId"
    seen = wait_status(client, data.instance_id, "running")
    assert seen[-1] == "running"
    assert set(seen) <= {"creating", "running"}, seen

    d = describe_one(client, data.instance_id)
    assert d.instance_name == "c1"
    assert d.instance_status == "running"
    assert d.region_id == REGION
    assert d.version == "3"
    assert d.run_mode == "shared_data"
    assert d.package_type == "official"
    assert d.pay_type == "prePaid"
    assert d.vpc_id == "vpc-bp1fll2mci6d7pw8m****"
    assert d.resource_group_id == "rg-aekzllkih7jqxxx"
    assert d.encrypted is False
    assert [(v.vsw_id, v.zone_id) for v in d.v_switches] == [("vsw-bp19mlh98tm9teyyd****", ZONE)]
    assert d.v_switches[0].primary is True
    assert [(t.key, t.value) for t in d.tags] == [("k1", "v1")]
    assert isinstance(d.begin_time, int), d.begin_time
    assert t0 - 60_000 <= d.begin_time <= int(time.time() * 1000) + 60_000, (t0, d.begin_time)


def test_postpaid_create_has_zero_order_id(client):
    resp = client.create_instance_v1(new_request(pay_type="postPaid", pricing_cycle=None, duration=None,
                                                 auto_renew=None))
    assert_ok(resp)
    assert resp.body.data.order_id == 0
    wait_status(client, resp.body.data.instance_id, "running")
    assert describe_one(client, resp.body.data.instance_id).pay_type == "postPaid"


def test_describe_envelope_and_total(client):
    ids = [create(client, instance_name=f"n{i}") for i in range(3)]
    body = describe(client)
    assert body.total == 3
    assert sorted(d.instance_id for d in body.data) == sorted(ids)
    raw = client.raw_responses[-1][1]
    assert raw["Success"] is True and raw["HttpStatusCode"] == 200 and raw["RequestId"]
    assert isinstance(raw["Total"], int)


def test_describe_empty_account(client):
    body = describe(client)
    assert body.total == 0
    assert body.data == []


def test_describe_filters(client):
    a = create_running(client, instance_name="alpha-prod", resource_group_id="rg-aaa",
                       tags=[m.CreateInstanceV1RequestTags(key="env", value="prod")])
    b = create_running(client, instance_name="beta-prod", resource_group_id="rg-bbb",
                       tags=[m.CreateInstanceV1RequestTags(key="env", value="dev")])
    c = create_running(client, instance_name="gamma", resource_group_id="rg-aaa", tags=[])

    def ids(**kw):
        body = describe(client, **kw)
        assert body.total == len(body.data), body.to_map()
        return sorted(d.instance_id for d in body.data)

    assert ids(instance_id=b) == [b]
    assert ids(instance_name="prod") == sorted([a, b])        # substring match
    assert ids(instance_name="gamma") == [c]
    assert ids(instance_name="nothing-like-this") == []
    assert ids(instance_status="running") == sorted([a, b, c])
    assert ids(instance_status="creating") == []
    assert ids(region_id=REGION) == sorted([a, b, c])
    assert ids(region_id="cn-beijing") == []
    assert ids(resource_group_id="rg-aaa") == sorted([a, c])
    assert ids(tag=[m.DescribeInstancesRequestTag(key="env", value="prod")]) == [a]
    assert ids(tag=[m.DescribeInstancesRequestTag(key="env", value="dev")]) == [b]
    assert ids(instance_name="prod", resource_group_id="rg-bbb") == [b]


def test_describe_region_filter_other_region(client):
    zones = client.describe_available_zones(m.DescribeAvailableZonesRequest(region_id="cn-beijing"))
    assert_ok(zones)
    bj_zone = zones.body.data.official_available_zones[0]
    bj = create_running(client, region_id="cn-beijing", zone_id=bj_zone, instance_name="bj",
                        v_switches=[m.CreateInstanceV1RequestVSwitches(vsw_id="vsw-bj1", zone_id=bj_zone)],
                        frontend_node_groups=[frontend(zone_id=bj_zone)],
                        backend_node_groups=[backend(zone_id=bj_zone)])
    hz = create_running(client, instance_name="hz")
    assert [d.instance_id for d in describe(client, region_id="cn-beijing").data] == [bj]
    assert [d.instance_id for d in describe(client, region_id="cn-hangzhou").data] == [hz]
    assert describe_one(client, bj).region_id == "cn-beijing"


def test_describe_pagination(client):
    ids = sorted(create(client, instance_name=f"p{i:02d}") for i in range(12))
    first = describe(client)                       # defaults: PageNumber 1, PageSize 10
    assert first.total == 12 and len(first.data) == 10
    second = describe(client, page_number=2)
    assert second.total == 12 and len(second.data) == 2
    assert sorted(d.instance_id for d in first.data + second.data) == ids
    pages = [describe(client, page_number=p, page_size=5) for p in (1, 2, 3, 4)]
    assert [len(p.data) for p in pages] == [5, 5, 2, 0]
    assert all(p.total == 12 for p in pages)
    assert sorted(d.instance_id for p in pages for d in p.data) == ids
    big = describe(client, page_size=100)
    assert len(big.data) == 12 and big.total == 12


def test_describe_page_size_over_100(client):
    """PageSize max is 100: a larger one is either refused (InvalidParams) or capped."""
    create(client)
    try:
        body = describe(client, page_size=101)
    except ClientException as e:
        assert e.status_code == 400 and e.code == "InvalidParams", (e.status_code, e.code)
    else:
        assert len(body.data) <= 100 and body.total == 1


def test_release_instance(client):
    iid = create_running(client)
    resp = client.release_instance(m.ReleaseInstanceRequest(instance_id=iid))
    assert_ok(resp)
    assert resp.body.data is True
    seen = wait_status(client, iid, None)
    assert set(seen) <= {"running", "deleting", None}, seen
    assert iid not in all_instance_ids(client)
    assert describe(client).total == 0
    expect_error(lambda: client.release_instance(m.ReleaseInstanceRequest(instance_id=iid)),
                 status=404, code="InstanceNotFound")


@pytest.mark.lifecycle("1s")
def test_release_twice_while_deleting(client):
    iid = create(client)
    wait_status(client, iid, "running")
    assert client.release_instance(m.ReleaseInstanceRequest(instance_id=iid)).body.data is True
    d = describe(client, instance_id=iid)
    assert [x.instance_status for x in d.data] == ["deleting"], d.to_map()
    again = client.release_instance(m.ReleaseInstanceRequest(instance_id=iid))
    assert_ok(again)
    assert again.body.data is True
    # a modify while deleting is refused
    expect_error(lambda: client.restart_instance(m.RestartInstanceRequest(instance_id=iid)),
                 status=400, code="IncorrectInstanceStatus")
    seen = wait_status(client, iid, None, timeout=5)
    assert seen[0] == "deleting", seen
    assert describe(client).total == 0
    expect_error(lambda: client.release_instance(m.ReleaseInstanceRequest(instance_id=iid)),
                 status=404, code="InstanceNotFound")


def test_describe_unknown_instance_id_is_empty(client):
    """DescribeInstances is a filtered list: an unknown id matches nothing (Terraform reads
    an empty Data as not found, client-flows B.1)."""
    create(client)
    body = describe(client, instance_id="c-0123456789abcdef")
    assert body.total == 0 and body.data == []


def test_admin_password_never_returned(client):
    """AdminPassword never appears in any response (every response of the suite is checked too)."""
    iid = create_running(client, admin_password="Sup3r-Secret-Pw!")
    describe(client)
    describe_one(client, iid)
    node_groups(client, iid)
    operations(client, iid)
    assert len(client.raw_responses) >= 5
    for action, body in client.raw_responses:
        text = json.dumps(body)
        assert "Sup3r-Secret-Pw!" not in text and "adminpassword" not in text.lower(), (action, body)


def test_client_token_same_body_is_idempotent(client):
    req_a = seed_request()
    req_b = seed_request()
    r1 = client.create_instance_v1(req_a)
    r2 = client.create_instance_v1(req_b)
    assert_ok(r1)
    assert_ok(r2)
    assert r1.body.data.instance_id == r2.body.data.instance_id
    body = describe(client)
    assert body.total == 1 and [d.instance_id for d in body.data] == [r1.body.data.instance_id]


def test_client_token_different_body_is_mismatch(client):
    iid = create(client, req=seed_request())
    expect_error(lambda: client.create_instance_v1(seed_request(instance_name="other-name")),
                 status=400, code="IdempotentParameterMismatch")
    body = describe(client)
    assert body.total == 1 and body.data[0].instance_id == iid
    assert body.data[0].instance_name == "c1"


def test_without_client_token_creates_distinct_instances(client):
    a = create(client, client_token=None)
    b = create(client, client_token=None)
    assert a != b
    assert describe(client).total == 2


def test_client_token_is_per_token(client):
    a = create(client, client_token=SEED_CLIENT_TOKEN)
    b = create(client, client_token=str(uuid.uuid4()))
    assert a != b


def test_concurrent_creates_with_same_token(server):
    """Eight clients racing with one ClientToken and one body get one instance."""
    results = []

    def go():
        try:
            results.append(server.client().create_instance_v1(seed_request()).body.data.instance_id)
        except Exception as e:  # noqa: BLE001 - reported below
            results.append(repr(e))

    threads = [threading.Thread(target=go) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results)) == 1 and INSTANCE_ID_RE.match(results[0]), results
    assert describe(server.client()).total == 1


@pytest.mark.lifecycle("3s")
def test_describe_status_filter_sees_creating(client):
    iid = create(client)
    assert [d.instance_id for d in describe(client, instance_status="creating").data] == [iid]
    assert describe(client, instance_status="running").total == 0


@pytest.mark.lifecycle("realistic")
def test_realistic_mode_takes_time(client):
    iid = create(client)
    time.sleep(0.5)
    assert describe_one(client, iid).instance_status == "creating"
    op = operations(client, iid).data[0]
    assert op.operation_status == "RUNNING" and 0 <= op.progress < 100, op.to_map()


def test_legacy_v2_signature_accepted(server):
    """Config.signature_algorithm='v2' (ROA HMAC-SHA1, sdk-contract.md §1.4) works too."""
    client = server.client(signature_algorithm="v2")
    iid = create_running(client)
    assert describe_one(client, iid).instance_name == "c1"
    assert any(a == "CreateInstanceV1" for a, _ in client.raw_responses)
    bad = server.client(server.access_key_id, server.access_key_secret + "x", signature_algorithm="v2")
    expect_error(lambda: bad.describe_regions(), status=400, code="SignatureDoesNotMatch")


def test_endpoint_with_scheme_in_host_header(server):
    """endpoint='http://127.0.0.1:PORT' makes the SDK send and sign `host: http://...` (sdk-contract.md §1.1)."""
    client = make_client("http://" + server.endpoint, server.access_key_id, server.access_key_secret)
    assert_ok(client.describe_regions())
    iid = create_running(client)
    assert describe_one(client, iid).instance_status == "running"
