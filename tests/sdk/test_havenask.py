"""OpenSearch Havenask (alibabacloud-searchengine20211025) through the official SDK:
the lifecycle with both signers, every validation rule of the CreateInstance page (seeds/004)
and shared/DESIGN.md, not-found answers, idempotent delete, the region taken from the Host
header, and 501 for operations cloudtwin does not serve."""
from __future__ import annotations

import re
import socket
import time

import pytest
from alibabacloud_searchengine20211025 import models as hm
from alibabacloud_searchengine20211025.client import Client as SearchEngineClient
from alibabacloud_tea_openapi import utils_models as open_api_models
from alibabacloud_tea_openapi.exceptions import ServerException

from sdkhelpers import expect_error

INSTANCE_RE = r"^ha-cn-[0-9a-f]{11}$"
NOT_FOUND = "instance.NotFound"
UNKNOWN_ID = "ha-cn-00000000000"
VPC = "vpc-bp1fll2mci6d7pw8m0001"
VSW = "vsw-bp19mlh98tm9teyyd0001"


def ha_client(server, signature_algorithm=None, endpoint=None) -> SearchEngineClient:
    cfg = open_api_models.Config(access_key_id=server.access_key_id,
                                 access_key_secret=server.access_key_secret,
                                 endpoint=endpoint or server.endpoint, protocol="http")
    if signature_algorithm:
        cfg.signature_algorithm = signature_algorithm
    return SearchEngineClient(cfg)


@pytest.fixture
def ha(server):
    return ha_client(server)


def comp(code, value):
    return hm.CreateInstanceRequestComponents(code=code, value=value)


def probe_components():
    """The components of sdk-probes/probe_havenask_alibaba.py."""
    return [comp("instance_type", "vector"), comp("vpc_id", VPC), comp("vswitch", VSW), comp("qrs_resource", "1")]


def create_request(components=None, **kw) -> hm.CreateInstanceRequest:
    """The probe's request; keyword arguments replace its fields (None removes one)."""
    d = dict(charge_type="PREPAY",
             components=probe_components() if components is None else components,
             order=hm.CreateInstanceRequestOrder(auto_renew=True, duration=1, pricing_cycle="Month"),
             resource_group_id="rg-acfmxxx",
             tags=[hm.CreateInstanceRequestTags(key="k1", value="v1")])
    d.update(kw)
    return hm.CreateInstanceRequest(**{k: v for k, v in d.items() if v is not None})


def order(**kw):
    d = dict(auto_renew=True, duration=1, pricing_cycle="Month")
    d.update(kw)
    return hm.CreateInstanceRequestOrder(**{k: v for k, v in d.items() if v is not None})


def create(client, **kw) -> str:
    resp = client.create_instance(create_request(**kw))
    assert resp.status_code == 200
    assert resp.body.request_id
    iid = resp.body.result.instance_id
    assert re.match(INSTANCE_RE, iid), iid
    return iid


def get(client, iid):
    resp = client.get_instance(iid)
    assert resp.status_code == 200 and resp.body.request_id
    return resp.body.result


def wait_status(client, iid, target, timeout=10.0):
    """Polls GetInstance until status == target; returns the statuses seen, in order."""
    seen = []
    deadline = time.monotonic() + timeout
    while True:
        st = get(client, iid).status
        if not seen or seen[-1] != st:
            seen.append(st)
        if st == target:
            return seen
        assert time.monotonic() < deadline, f"{iid}: no {target} after {timeout}s; saw {seen}"
        time.sleep(0.05)


def list_instances(client, **kw):
    resp = client.list_instances(hm.ListInstancesRequest(**kw))
    assert resp.status_code == 200 and resp.body.request_id
    return resp.body


# ------------------------------------------------------------------------------ lifecycle

@pytest.mark.parametrize("signer", [None, "v2"], ids=["acs3", "v2"])
def test_lifecycle(server, signer):
    c = ha_client(server, signer)
    iid = create(c)
    seen = wait_status(c, iid, "READY")
    assert set(seen) <= {"INIT", "READY"}, seen

    r = get(c, iid)
    assert r.instance_id == iid
    assert r.edition == "vector"
    assert r.charge_type == "PREPAY"
    assert r.resource_group_id == "rg-acfmxxx"
    assert r.network.vpc_id == VPC and r.network.v_switch_id == VSW
    assert r.network.endpoint
    assert r.spec.qrs_resource.node_count == 1
    assert r.spec.search_resource.node_count >= 1 and r.spec.search_resource.disk > 0
    assert isinstance(r.in_debt, bool) and r.in_debt is False
    assert isinstance(r.zone_count, int)
    assert [(t.key, t.value) for t in r.tags] == [("k1", "v1")]
    assert r.create_time and r.expired_time and r.expired_time > r.create_time

    other = create(c, components=[comp("instance_type", "engine"), comp("vpc_id", VPC), comp("vswitch", VSW)],
                   tags=[hm.CreateInstanceRequestTags(key="k2", value="v2")])
    body = list_instances(c, page_number=1, page_size=10)
    assert body.total_count == 2 and len(body.result) == 2
    body = list_instances(c, edition="vector", tags=[hm.ListInstancesRequestTags(key="k1", value="v1")])
    assert body.total_count == 1 and [i.instance_id for i in body.result] == [iid]
    assert body.result[0].spec.qrs_resource.node_count == 1
    assert body.result[0].network.vpc_id == VPC
    assert list_instances(c, instance_id=other).result[0].edition == "engine"
    page2 = list_instances(c, page_number=2, page_size=1)
    assert page2.total_count == 2 and len(page2.result) == 1

    up = c.update_instance(iid, hm.UpdateInstanceRequest(
        components=[hm.UpdateInstanceRequestComponents(code="qrs_resource", value="2")], order_type="UPGRADE"))
    assert up.status_code == 200 and up.body.request_id
    assert up.body.result.instance_id == iid
    assert up.body.result.status in ("CONFIG_UPDATING", "READY")
    wait_status(c, iid, "READY")
    assert get(c, iid).spec.qrs_resource.node_count == 2

    up = c.update_instance(iid, hm.UpdateInstanceRequest(description="search one"))
    assert up.body.result.description == "search one"
    assert [i.instance_id for i in list_instances(c, description="one").result] == [iid]

    specs = c.list_instance_specs(iid, hm.ListInstanceSpecsRequest(type="qrs")).body.result
    assert specs and all(s.cpu > 0 and s.mem > 0 for s in specs)
    regions = c.describe_regions(hm.DescribeRegionsRequest()).body.result
    assert "cn-hangzhou" in {r.region_id for r in regions}
    assert all(r.endpoint == f"searchengine.{r.region_id}.aliyuncs.com" and r.local_name for r in regions)

    d = c.delete_instance(iid)
    assert d.status_code == 200 and d.body.request_id
    expect_error(lambda: c.get_instance(iid), status=404, code=NOT_FOUND)
    c.delete_instance(iid)  # twice is safe
    assert [i.instance_id for i in list_instances(c).result] == [other]
    c.delete_instance(other)
    assert list_instances(c).total_count == 0


@pytest.mark.lifecycle("1s")
def test_statuses_move_over_time(server):
    c = ha_client(server)
    iid = create(c)
    assert get(c, iid).status == "INIT"
    expect_error(lambda: c.update_instance(iid, hm.UpdateInstanceRequest(
        components=[hm.UpdateInstanceRequestComponents(code="qrs_resource", value="2")])),
        status=400, code="IncorrectInstanceStatus")
    assert wait_status(c, iid, "READY") == ["INIT", "READY"]
    up = c.update_instance(iid, hm.UpdateInstanceRequest(
        components=[hm.UpdateInstanceRequestComponents(code="search_resource", value="3")], order_type="UPGRADE"))
    assert up.body.result.status == "CONFIG_UPDATING"
    assert wait_status(c, iid, "READY") == ["CONFIG_UPDATING", "READY"]
    assert get(c, iid).spec.search_resource.node_count == 3


def test_charge_type_defaults_to_prepay(ha):
    iid = create(ha, charge_type=None)
    assert get(ha, iid).charge_type == "PREPAY"


@pytest.mark.parametrize("duration,cycle", [(10, "Month"), (12, "Month"), (1, "Year")])
def test_valid_durations(ha, duration, cycle):
    create(ha, order=order(duration=duration, pricing_cycle=cycle))


# ------------------------------------------------------------------------------ validation

def with_component(code, value):
    return probe_components() + [comp(code, value)]


def without(code):
    return [c for c in probe_components() if c.code != code]


def replaced(code, value):
    return [comp(c.code, value) if c.code == code else c for c in probe_components()]


CREATE_RULES = [
    ("postpay refused", dict(charge_type="POSTPAY"), "InvalidParameter"),
    ("unknown chargeType", dict(charge_type="MONTHLY"), "InvalidParameter"),
    ("order missing", dict(order=None), "MissingParameter"),
    ("duration missing", dict(order=order(duration=None)), "MissingParameter"),
    ("page example duration 29", dict(order=order(duration=29)), "InvalidParameter"),
    ("duration 11", dict(order=order(duration=11)), "InvalidParameter"),
    ("duration 0", dict(order=order(duration=0)), "InvalidParameter"),
    ("pricingCycle missing", dict(order=order(pricing_cycle=None)), "MissingParameter"),
    ("pricingCycle Week", dict(order=order(pricing_cycle="Week")), "InvalidParameter"),
    ("unknown component code", dict(components=with_component("gpu_count", "1")), "InvalidParameter"),
    ("component twice", dict(components=with_component("qrs_resource", "2")), "InvalidParameter"),
    ("component without code", dict(components=with_component(None, "1")), "MissingParameter"),
    ("component without value", dict(components=with_component("search_spec", None)), "MissingParameter"),
    ("vpc_id missing", dict(components=without("vpc_id")), "MissingParameter"),
    ("vswitch missing", dict(components=without("vswitch")), "MissingParameter"),
    ("vpc_id malformed", dict(components=replaced("vpc_id", "vsw-123")), "InvalidParameter"),
    ("vswitch malformed", dict(components=replaced("vswitch", "vpc-123")), "InvalidParameter"),
    ("unknown edition", dict(components=replaced("instance_type", "industry")), "InvalidParameter"),
    ("node count 0", dict(components=replaced("qrs_resource", "0")), "InvalidParameter"),
    ("node count 51", dict(components=with_component("search_resource", "51")), "InvalidParameter"),
    ("node count not a number", dict(components=replaced("qrs_resource", "two")), "InvalidParameter"),
    ("unknown spec", dict(components=with_component("search_spec", "3C7G")), "InvalidParameter"),
    ("disk below the spec", dict(components=with_component("searcherdocsize", "10")), "InvalidParameter"),
    ("disk above the spec", dict(components=with_component("searcherdocsize", "99999")), "InvalidParameter"),
    ("resource group malformed", dict(resource_group_id="group-1"), "InvalidParameter"),
    ("reserved tag key", dict(tags=[hm.CreateInstanceRequestTags(key="aliyun:x", value="v")]), "InvalidParameter"),
    ("empty tag key", dict(tags=[hm.CreateInstanceRequestTags(key="", value="v")]), "InvalidParameter"),
    ("tag key twice", dict(tags=[hm.CreateInstanceRequestTags(key="a", value="1"),
                                 hm.CreateInstanceRequestTags(key="a", value="2")]), "InvalidParameter"),
    ("21 tags", dict(tags=[hm.CreateInstanceRequestTags(key=f"k{i}", value="v") for i in range(21)]),
     "InvalidParameter"),
]


@pytest.mark.parametrize("name,changes,code", CREATE_RULES, ids=[r[0] for r in CREATE_RULES])
def test_create_rules(ha, name, changes, code):
    expect_error(lambda: ha.create_instance(create_request(**changes)), status=400, code=code)
    assert list_instances(ha).total_count == 0, "a rejected create leaves no trace"


def test_update_rules(ha):
    iid = create(ha)
    wait_status(ha, iid, "READY")

    def update(**kw):
        return ha.update_instance(iid, hm.UpdateInstanceRequest(**kw))

    def comps(code, value):
        return [hm.UpdateInstanceRequestComponents(code=code, value=value)]

    cases = [
        (dict(components=comps("vpc_id", "vpc-other0001")), "InvalidParameter"),
        (dict(components=comps("instance_type", "engine")), "InvalidParameter"),
        (dict(components=comps("nope", "1")), "InvalidParameter"),
        (dict(components=comps("qrs_resource", "0")), "InvalidParameter"),
        (dict(order_type="SIDEWAYS"), "InvalidParameter"),
        (dict(description="d" * 65), "InvalidParameter"),
    ]
    for kw, code in cases:
        expect_error(lambda: update(**kw), status=400, code=code)
    update(components=comps("searcherdocsize", "300"))
    wait_status(ha, iid, "READY")
    expect_error(lambda: update(components=comps("searcherdocsize", "200")), status=400, code="InvalidParameter",
                 message_names=["shrink"])
    r = get(ha, iid)
    assert r.spec.search_resource.disk == 300 and r.network.vpc_id == VPC and r.edition == "vector"


def test_list_rules(ha):
    expect_error(lambda: ha.list_instances(hm.ListInstancesRequest(page_size=51)), status=400,
                 code="InvalidParameter")
    expect_error(lambda: ha.list_instances(hm.ListInstancesRequest(page_number=0)), status=400,
                 code="InvalidParameter")


def test_specs_rules(ha):
    iid = create(ha)
    expect_error(lambda: ha.list_instance_specs(iid, hm.ListInstanceSpecsRequest()), status=400,
                 code="MissingParameter")
    expect_error(lambda: ha.list_instance_specs(iid, hm.ListInstanceSpecsRequest(type="gpu")), status=400,
                 code="InvalidParameter")
    search = ha.list_instance_specs(iid, hm.ListInstanceSpecsRequest(type="search")).body.result
    assert all(s.min_disk <= s.max_disk for s in search)


def test_unknown_ids_are_not_found(ha):
    for fn in (lambda: ha.get_instance(UNKNOWN_ID),
               lambda: ha.delete_instance(UNKNOWN_ID),
               lambda: ha.update_instance(UNKNOWN_ID, hm.UpdateInstanceRequest(description="x")),
               lambda: ha.list_instance_specs(UNKNOWN_ID, hm.ListInstanceSpecsRequest(type="qrs"))):
        expect_error(fn, status=404, code=NOT_FOUND)


def test_other_accounts_instances_are_not_found(server, ha):
    iid = create(ha)
    acct = server.create_account("other")
    cfg = open_api_models.Config(access_key_id=acct["access_key_id"], access_key_secret=acct["access_key_secret"],
                                 endpoint=server.endpoint, protocol="http")
    other = SearchEngineClient(cfg)
    expect_error(lambda: other.get_instance(iid), status=404, code=NOT_FOUND)
    expect_error(lambda: other.delete_instance(iid), status=404, code=NOT_FOUND)
    assert list_instances(other).total_count == 0
    assert get(ha, iid).instance_id == iid


def test_unimplemented_operations_answer_501(ha):
    iid = create(ha)
    expect_error(lambda: ha.list_clusters(iid), status=501, code="NotImplemented", exc=ServerException)
    expect_error(lambda: ha.list_tables(iid, hm.ListTablesRequest()), status=501, code="NotImplemented",
                 exc=ServerException)


# ------------------------------------------------------------------------------ region

@pytest.fixture
def fake_dns(monkeypatch):
    """Resolves *.aliyuncs.com to 127.0.0.1 so the SDK sends its real regional Host header."""
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kw):
        if isinstance(host, str) and host.endswith(".aliyuncs.com"):
            host = "127.0.0.1"
        return real(host, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)


def test_region_comes_from_the_host_header(server, ha, fake_dns):
    shanghai = ha_client(server, endpoint=f"searchengine.cn-shanghai.aliyuncs.com:{server.port}")
    shanghai_v2 = ha_client(server, "v2", endpoint=f"searchengine.cn-shanghai.aliyuncs.com:{server.port}")
    iid = create(shanghai)
    assert get(shanghai, iid).instance_id == iid
    assert get(shanghai_v2, iid).instance_id == iid
    # The default region's endpoint (cn-hangzhou) does not see it.
    expect_error(lambda: ha.get_instance(iid), status=404, code=NOT_FOUND)
    assert list_instances(ha).total_count == 0
    assert [i.instance_id for i in list_instances(shanghai).result] == [iid]
    unknown = ha_client(server, endpoint=f"searchengine.mars-east-1.aliyuncs.com:{server.port}")
    expect_error(lambda: unknown.create_instance(create_request()), status=400, code="InvalidRegionId")
    shanghai.delete_instance(iid)
    assert list_instances(shanghai).total_count == 0
