"""Location DescribeEndpoints and STS GetCallerIdentity through their official SDKs
(alibabacloud-location20150612 1.0.0, which always signs with the legacy RPC HMAC-SHA1;
alibabacloud-sts20150401 1.2.0, ACS3 by default and RPC v1 with signature_algorithm='v2')."""
from __future__ import annotations

import pytest
from alibabacloud_location20150612 import models as lm
from alibabacloud_location20150612.client import Client as LocationClient
from alibabacloud_sts20150401.client import Client as StsClient
from alibabacloud_tea_openapi import models as open_api_models
from alibabacloud_tea_openapi.exceptions import ClientException
from Tea.exceptions import TeaException

# The location codes of the products cloudtwin serves (Terraform's productCodeToLocationCode
# and the SDKs' product ids).
SERVED = ["emrstarrocks", "starrocks", "opensearch", "searchengine", "openanalytics",
          "openanalytics-open", "sts", "location"]


def config(server, ak=None, sk=None, **kw):
    return open_api_models.Config(access_key_id=ak or server.access_key_id,
                                  access_key_secret=sk or server.access_key_secret,
                                  endpoint=server.endpoint, protocol="http", **kw)


def location(server) -> LocationClient:
    return LocationClient(config(server, region_id="cn-hangzhou"))


def describe(client, **kw):
    resp = client.describe_endpoints(lm.DescribeEndpointsRequest(**kw))
    assert resp.body.success is True
    assert resp.body.request_id
    return resp.body.endpoints.endpoint or []


@pytest.mark.parametrize("code", SERVED)
def test_describe_endpoints_points_at_cloudtwin(server, code):
    endpoints = describe(location(server), id="cn-hangzhou", service_code=code)
    assert len(endpoints) == 1
    e = endpoints[0]
    assert e.type == "openAPI"
    assert e.endpoint == server.endpoint  # the Host header the request came with
    assert e.serivce_code == code
    assert e.id == "cn-hangzhou"
    assert "HTTP" in e.protocols.protocols


def test_describe_endpoints_type_and_case(server):
    client = location(server)
    assert describe(client, id="eu-central-1", service_code="EMRStarRocks", type="openAPI")[0].endpoint \
        == server.endpoint
    assert describe(client, id="cn-hangzhou", service_code="sts", type="innerAPI") == []


def test_unserved_service_has_no_endpoint(server):
    assert describe(location(server), id="cn-hangzhou", service_code="ecs") == []


def test_describe_endpoints_needs_service_code_and_region(server):
    client = location(server)
    for kw in (dict(id="cn-hangzhou"), dict(service_code="sts")):
        with pytest.raises(TeaException) as info:
            client.describe_endpoints(lm.DescribeEndpointsRequest(**kw))
        assert info.value.code == "MissingParameter"


def test_other_location_operations_are_not_implemented(server):
    with pytest.raises(TeaException) as info:
        location(server).describe_regions(lm.DescribeRegionsRequest())
    assert info.value.code == "NotImplemented"


@pytest.mark.parametrize("signer", [None, "v2"], ids=["acs3", "rpc-v1"])
def test_get_caller_identity(server, create_account, signer):
    extra = {"signature_algorithm": signer} if signer else {}
    body = StsClient(config(server, **extra)).get_caller_identity().body
    account = body.account_id
    assert account and account.isdigit()
    assert body.user_id == account and body.principal_id == account
    assert body.arn == f"acs:ram::{account}:root"
    assert body.identity_type == "Account"
    assert body.request_id and len(body.request_id) == 36

    acct = create_account("second")
    other = StsClient(config(server, acct["access_key_id"], acct["access_key_secret"], **extra))
    other_body = other.get_caller_identity().body
    assert other_body.account_id != account
    assert other_body.arn == f"acs:ram::{other_body.account_id}:root"


def test_get_caller_identity_needs_a_valid_key(server):
    with pytest.raises(ClientException) as info:
        StsClient(config(server, sk="wrong-secret")).get_caller_identity()
    assert info.value.code == "SignatureDoesNotMatch"
