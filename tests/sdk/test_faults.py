"""Fault injection observed through the official SDKs: injected errors (with a count),
latency, throttling with the back-off each SDK reads, and clearing.

Rules go in over the admin API (docs/admin.md)."""
from __future__ import annotations

import time

import pytest
from alibabacloud_tea_openapi.exceptions import ServerException, ThrottlingException
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkrocketmq.v2 import RocketMQClient
from huaweicloudsdkrocketmq.v2 import model as rm

from sdkhelpers import admin, create, describe, expect_error
from test_rocketmq import REQUEST_ID_RE, create_seed, project_of, seed_fields, show, wait_status


def add_fault(server, **rule) -> dict:
    status, body = admin(server, "POST", "/faults", rule)
    assert status == 201, body
    return body


def faults(server) -> list:
    status, body = admin(server, "GET", "/faults")
    assert status == 200, body
    return body["faults"]


def test_an_error_with_count_two_fails_twice_then_succeeds(server, client):
    iid = create(client)
    rule = add_fault(server, product="starrocks", operation="DescribeInstances",
                     error={"code": "InternalError", "status": 500,
                            "message": "The request processing has failed due to some unknown error."},
                     count=2)
    for _ in range(2):
        expect_error(lambda: describe(client, instance_id=iid), status=500, code="InternalError",
                     exc=ServerException, message_names=["unknown error"])
    assert describe(client, instance_id=iid).data[0].instance_id == iid
    assert faults(server) == [], "a rule whose count ran out is gone"
    # Other operations were never touched.
    assert rule["operation"] == "DescribeInstances"


def test_latency_is_seen_by_the_sdk(server, client):
    iid = create(client)
    add_fault(server, product="starrocks", operation="DescribeInstances", latency_ms=700, count=1)
    started = time.monotonic()
    describe(client, instance_id=iid)
    assert time.monotonic() - started >= 0.7
    started = time.monotonic()
    describe(client, instance_id=iid)
    assert time.monotonic() - started < 0.7


def test_alibaba_throttling_carries_the_retry_after_the_sdk_reads(server, client):
    iid = create(client)
    add_fault(server, product="starrocks", operation="*",
              error={"code": "Throttling.User", "status": 400,
                     "message": "Request was denied due to user flow control.", "retry_after_ms": 2500})
    with pytest.raises(ThrottlingException) as ei:
        describe(client, instance_id=iid)
    e = ei.value
    assert (e.status_code, e.code, e.retry_after) == (400, "Throttling.User", 2500), e
    assert e.request_id and e.request_id != "None"

    # Clearing removes it.
    status, cleared = admin(server, "DELETE", "/faults")
    assert (status, cleared) == (200, {"cleared": 1})
    assert describe(client, instance_id=iid).data[0].instance_id == iid


def rmq_with_retries(server, retries: int) -> RocketMQClient:
    config = HttpConfig.get_default_config()
    config.retry_times = retries
    creds = BasicCredentials(server.access_key_id, server.access_key_secret, project_of(server))
    return (RocketMQClient.new_builder().with_credentials(creds).with_http_config(config)
            .with_endpoints([server.url]).build())


def test_huawei_throttling_is_429_in_huaweis_envelope(server):
    client = rmq_with_retries(server, 0)
    add_fault(server, product="rocketmq", operation="CreatePostPaidInstance",
              error={"code": "APIGW.0308", "status": 429,
                     "message": "The throttling threshold has been reached: policy user over ratelimit"},
              count=1)
    with pytest.raises(ClientRequestException) as ei:
        client.create_post_paid_instance(rm.CreatePostPaidInstanceRequest(
            body=rm.CreatePostPaidInstanceReq(**seed_fields())))
    e = ei.value
    assert (e.status_code, e.error_code) == (429, "APIGW.0308"), e
    assert "throttling" in e.error_msg
    assert REQUEST_ID_RE.match(e.request_id), e.request_id
    # The rule ran out: the same create now goes through.
    iid = create_seed(client)
    assert wait_status(client, iid, "RUNNING")[-1] == "RUNNING"


def test_huawei_sdk_backs_off_for_retry_after_then_succeeds(server):
    client = rmq_with_retries(server, 1)
    iid = create_seed(client)
    wait_status(client, iid, "RUNNING")
    add_fault(server, product="rocketmq", operation="ShowInstance",
              error={"code": "APIGW.0308", "status": 429, "retry_after_ms": 1200}, count=1)
    started = time.monotonic()
    # urllib3 (the SDK's retry for 429) waits Retry-After seconds, then asks again.
    assert show(client, iid).status == "RUNNING"
    assert time.monotonic() - started >= 1.0
    assert faults(server) == []


def test_fault_rules_are_listed_and_removed_one_by_one(server, client):
    iid = create(client)
    first = add_fault(server, product="starrocks", operation="DescribeInstances",
                      error={"code": "InternalError", "status": 500})
    second = add_fault(server, product="rocketmq", latency_ms=5, probability=0.5)
    listed = faults(server)
    assert [r["id"] for r in listed] == [first["id"], second["id"]]
    assert listed[1]["probability"] == 0.5 and listed[1]["operation"] == "*"
    status, _ = admin(server, "DELETE", f"/faults/{first['id']}")
    assert status == 204
    assert [r["id"] for r in faults(server)] == [second["id"]]
    assert describe(client, instance_id=iid).data[0].instance_id == iid
