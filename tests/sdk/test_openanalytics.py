"""Openanalytics (DLA) Spark/Presto through the official SDK
(alibabacloud-openanalytics-open20180619 1.0.0, RPC style), with the default ACS3 signer
and the legacy RPC HMAC-SHA1 signer (Config.signature_algorithm='v2').

How an instance is observed (the SDK has no describe call): CreateInstance's Result is
the instance id; ValidateVirtualClusterName answers Legal="false" while a live instance
uses the name (its Message names the instance) and "true" once the name is free.
"""
from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest
from alibabacloud_openanalytics_open20180619 import models as om
from alibabacloud_openanalytics_open20180619.client import Client
from alibabacloud_tea_openapi import models as open_api_models
from alibabacloud_tea_openapi.exceptions import ClientException, ServerException

INSTANCE_ID_RE = re.compile(r"^dla-[0-9a-f]{22}$")
VERSION = "2018-06-19"


def oa_client(server, signature_algorithm=None, ak=None, sk=None) -> Client:
    cfg = open_api_models.Config(
        access_key_id=ak or server.access_key_id,
        access_key_secret=sk or server.access_key_secret,
        endpoint=server.endpoint,
        protocol="http",
        region_id="cn-hangzhou",
    )
    if signature_algorithm:
        cfg.signature_algorithm = signature_algorithm
    return Client(cfg)


def component(**overrides) -> dict:
    """The page's Component example (its InstanceType must be CU_SPARK to agree with engine)."""
    c = {"operable": "false", "max_cu": "8", "instance_name": "api-test-9", "min_cu": "0",
         "engine": "spark", "region": "cn-hangzhou", "app_name": "xx", "app_version_name": "xx"}
    for k, v in overrides.items():
        if v is None:
            c.pop(k, None)
        else:
            c[k] = v
    return c


def create_request(component_value=None, **overrides) -> om.CreateInstanceRequest:
    comp = component_value if component_value is not None else component()
    fields = dict(charge_type="POSTPAY",
                  component=comp if isinstance(comp, str) else json.dumps(comp, separators=(",", ":")),
                  instance_type="CU_SPARK", region_id="cn-hangzhou")
    fields.update(overrides)
    return om.CreateInstanceRequest(**fields)


def create(client, **kw) -> str:
    resp = client.create_instance(create_request(**kw))
    assert resp.status_code == 200
    body = resp.body
    assert body.success is True, body.to_map()
    assert INSTANCE_ID_RE.match(body.result or ""), body.to_map()
    assert body.request_id and len(body.request_id) == 36
    assert body.error_code is None and body.error_info is None
    return body.result


def release(client, instance_id, region="cn-hangzhou"):
    resp = client.release_instance(om.ReleaseInstanceRequest(instance_id=instance_id, region_id=region))
    assert resp.status_code == 200
    assert resp.body.success is True, resp.body.to_map()
    assert resp.body.result == "success"
    return resp


def vc_name_check(client, name):
    resp = client.validate_virtual_cluster_name(om.ValidateVirtualClusterNameRequest(vc_name=name))
    assert resp.status_code == 200
    assert resp.body.request_id
    return resp.body.data.legal, resp.body.data.message


def wait_name_free(client, name, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        legal, message = vc_name_check(client, name)
        if legal == "true":
            return
        assert time.monotonic() < deadline, f"{name} still in use: {message}"
        time.sleep(0.05)


def expect(fn, *, status, code):
    with pytest.raises(ClientException) as info:
        fn()
    e = info.value
    assert e.status_code == status, (e.code, e.message)
    assert e.code == code, e.message
    assert e.request_id and len(e.request_id) == 36
    return e


# ---------------------------------------------------------------------------- lifecycle

@pytest.mark.parametrize("signer", [None, "v2"], ids=["acs3", "rpc-v1"])
def test_lifecycle(server, signer):
    client = oa_client(server, signer)
    iid = create(client)
    legal, message = vc_name_check(client, "api-test-9")
    assert legal == "false" and iid in message and "CU_SPARK" in message and "cn-hangzhou" in message

    # The name is taken while the instance lives.
    expect(lambda: client.create_instance(create_request()), status=400,
           code="Openanalytics.InstanceNameExists.Exception")

    release(client, iid)
    release(client, iid)  # twice is safe
    wait_name_free(client, "api-test-9")
    release(client, iid)  # and after it is gone
    assert vc_name_check(client, "api-test-9") == ("true", "null")

    # The name can be used again.
    again = create(client)
    assert again != iid
    release(client, again)


def test_presto_and_region_display_name(server):
    client = oa_client(server)
    iid = create(client, component_value=component(engine="presto", region="China (Beijing)",
                                                   instance_name="presto-vc", max_cu=16, min_cu=2),
                 instance_type="CU_PRESTO", region_id="China (Beijing)")
    legal, message = vc_name_check(client, "presto-vc")
    assert legal == "false" and "cn-beijing" in message and "CU_PRESTO" in message
    # Another region's endpoint does not see it.
    expect(lambda: release(client, iid, region="cn-hangzhou"), status=404,
           code="Openanalytics.NotFound.Exception")
    release(client, iid, region="China (Beijing)")


def test_release_by_virtual_cluster_name(server):
    client = oa_client(server)
    create(client, component_value=component(instance_name="by-name"))
    release(client, "by-name")
    wait_name_free(client, "by-name")


def test_cu_values_may_be_numbers(server):
    client = oa_client(server)
    iid = create(client, component_value=component(min_cu=0, max_cu=8, operable=True))
    release(client, iid)


def test_unknown_ids_are_not_found(server):
    client = oa_client(server)
    for iid in ("dla-0000000000000000000000", "no-such-vc"):
        e = expect(lambda: release(client, iid), status=404, code="Openanalytics.NotFound.Exception")
        assert iid in e.message


def test_other_accounts_instance_reads_as_missing(server, create_account):
    owner = oa_client(server)
    iid = create(owner, component_value=component(instance_name="private-vc"))
    acct = create_account("other")
    other = oa_client(server, ak=acct["access_key_id"], sk=acct["access_key_secret"])
    expect(lambda: release(other, iid), status=404, code="Openanalytics.NotFound.Exception")
    # Names are per account.
    assert vc_name_check(other, "private-vc") == ("true", "null")
    release(owner, iid)


def test_validate_virtual_cluster_name_rules(server):
    client = oa_client(server)
    assert vc_name_check(client, "abc123") == ("true", "null")
    for bad in ("Abc", "9abc", "abc-", "a b", "x" * 65):
        legal, message = vc_name_check(client, bad)
        assert legal == "false" and "invalid" in message, bad


def test_spark_job_calls_are_not_implemented(server):
    client = oa_client(server)
    with pytest.raises(ServerException) as info:
        client.get_job_status(om.GetJobStatusRequest(job_id="j-1", vc_name="api-test-9"))
    assert info.value.status_code == 501 and info.value.code == "NotImplemented"


# ---------------------------------------------------------------------------- validation

VALIDATION_CASES = [
    # (id, request overrides, code)
    ("page-example-presto-with-spark-engine", dict(instance_type="CU_PRESTO"),
     "Openanalytics.EngineMismatch.Exception"),
    ("missing-charge-type", dict(charge_type=None), "MissingParameter"),
    ("missing-component", dict(component=None), "MissingParameter"),
    ("missing-instance-type", dict(instance_type=None), "MissingParameter"),
    ("missing-region", dict(region_id=None), "MissingParameter"),
    ("prepay", dict(charge_type="PREPAY"), "Openanalytics.InvalidChargeType.Exception"),
    ("unknown-type", dict(instance_type="CU_HIVE"), "Openanalytics.InvalidInstanceType.Exception"),
    ("unknown-region", dict(region_id="China (Atlantis)"), "Openanalytics.InvalidRegionId.Exception"),
    ("component-not-json", dict(component="{not json"), "Openanalytics.InvalidComponent.Exception"),
    ("component-not-object", dict(component="[1,2]"), "Openanalytics.InvalidComponent.Exception"),
    ("component-without-name", dict(component_value=component(instance_name=None)),
     "Openanalytics.InvalidComponent.Exception"),
    ("component-without-engine", dict(component_value=component(engine=None)),
     "Openanalytics.InvalidComponent.Exception"),
    ("component-without-region", dict(component_value=component(region=None)),
     "Openanalytics.InvalidComponent.Exception"),
    ("component-without-min-cu", dict(component_value=component(min_cu=None)),
     "Openanalytics.InvalidComponent.Exception"),
    ("operable-not-boolean", dict(component_value=component(operable="maybe")),
     "Openanalytics.InvalidComponent.Exception"),
    ("app-name-too-long", dict(component_value=component(app_name="x" * 129)),
     "Openanalytics.InvalidComponent.Exception"),
    ("engine-disagrees", dict(component_value=component(engine="presto")),
     "Openanalytics.EngineMismatch.Exception"),
    ("cu-not-whole", dict(component_value=component(max_cu="8.5")), "Openanalytics.InvalidCu.Exception"),
    ("cu-negative", dict(component_value=component(min_cu=-1)), "Openanalytics.InvalidCu.Exception"),
    ("max-cu-zero", dict(component_value=component(max_cu="0")), "Openanalytics.InvalidCu.Exception"),
    ("max-cu-too-big", dict(component_value=component(max_cu=1025)), "Openanalytics.InvalidCu.Exception"),
    ("min-above-max", dict(component_value=component(min_cu="9")), "Openanalytics.InvalidCuRange.Exception"),
    ("name-uppercase", dict(component_value=component(instance_name="ApiTest")),
     "Openanalytics.InvalidInstanceName.Exception"),
    ("name-too-long", dict(component_value=component(instance_name="a" * 65)),
     "Openanalytics.InvalidInstanceName.Exception"),
    ("region-mismatch", dict(component_value=component(region="cn-beijing")),
     "Openanalytics.RegionMismatch.Exception"),
]


@pytest.mark.parametrize("overrides,code", [c[1:] for c in VALIDATION_CASES],
                         ids=[c[0] for c in VALIDATION_CASES])
def test_each_rule_fails_with_its_code(server, overrides, code):
    client = oa_client(server)
    e = expect(lambda: client.create_instance(create_request(**overrides)), status=400, code=code)
    assert e.message
    # Nothing was created.
    assert vc_name_check(client, "api-test-9") == ("true", "null")


def test_release_validation(server):
    client = oa_client(server)
    expect(lambda: client.release_instance(om.ReleaseInstanceRequest(region_id="cn-hangzhou")),
           status=400, code="MissingParameter")
    expect(lambda: client.release_instance(om.ReleaseInstanceRequest(instance_id="dla-x")),
           status=400, code="MissingParameter")
    expect(lambda: client.release_instance(om.ReleaseInstanceRequest(instance_id="dla-x", region_id="mars")),
           status=400, code="Openanalytics.InvalidRegionId.Exception")


# ---------------------------------------------------------------------------- legacy RPC, XML

def rfc3986(s: str) -> str:
    return urllib.parse.quote(s, safe="~")


def rpc_v1(server, action: str, form: dict, fmt: str = "XML"):
    """A raw legacy RPC request (sdk-contract.md §1.4): protocol params in the query,
    business params in the form body, HMAC-SHA1 over both."""
    query = {
        "Action": action, "Format": fmt, "Version": VERSION,
        "Timestamp": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "SignatureNonce": uuid.uuid4().hex, "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0",
        "AccessKeyId": server.access_key_id,
    }
    params = {**query, **form}
    canonical = "&".join(f"{rfc3986(k)}={rfc3986(v)}" for k, v in sorted(params.items()))
    to_sign = "POST&%2F&" + rfc3986(canonical)
    digest = hmac.new((server.access_key_secret + "&").encode(), to_sign.encode(), hashlib.sha1).digest()
    query["Signature"] = base64.b64encode(digest).decode()
    url = f"{server.url}/?{urllib.parse.urlencode(query)}"
    req = urllib.request.Request(url, data=urllib.parse.urlencode(form).encode(), method="POST",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode()


def test_rpc_v1_format_xml(server):
    comp = json.dumps(component(instance_name="xml-vc"), separators=(",", ":"))
    status, ctype, body = rpc_v1(server, "CreateInstance", {
        "ChargeType": "POSTPAY", "Component": comp, "InstanceType": "CU_SPARK", "RegionId": "cn-hangzhou"})
    assert status == 200, body
    assert ctype.startswith("text/xml"), ctype
    m = re.search(r"<CreateInstanceResponse>.*<Result>(dla-[0-9a-f]{22})</Result>.*</CreateInstanceResponse>", body)
    assert m and "<Success>true</Success>" in body, body
    iid = m.group(1)

    status, ctype, body = rpc_v1(server, "ReleaseInstance", {"InstanceId": "dla-missing", "RegionId": "cn-hangzhou"})
    assert status == 404 and ctype == "text/xml;charset=utf-8", (status, ctype)
    assert "<Error>" in body and "<Code>Openanalytics.NotFound.Exception</Code>" in body, body

    status, ctype, body = rpc_v1(server, "ReleaseInstance", {"InstanceId": iid, "RegionId": "cn-hangzhou"},
                                 fmt="JSON")
    assert status == 200 and ctype.startswith("application/json")
    assert json.loads(body)["Result"] == "success"
