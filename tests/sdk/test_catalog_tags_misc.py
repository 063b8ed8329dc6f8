"""DescribeRegions / DescribeAvailableZones, tags, resource groups, NotImplemented, unknown ids."""
from __future__ import annotations

import pytest
from alibabacloud_starrocks20221019 import models as m
from alibabacloud_tea_openapi.exceptions import ServerException

from sdkhelpers import assert_ok, create, create_running, describe, describe_one, expect_error

UNKNOWN_ID = "c-0123456789abcdef"


def test_describe_regions(client):
    resp = client.describe_regions()
    assert_ok(resp)
    regions = {r.region_id: r for r in resp.body.data}
    assert {"cn-hangzhou", "cn-beijing"} <= set(regions), list(regions)
    for r in resp.body.data:
        assert r.region_id and r.region_name and r.description and r.description_en, r.to_map()


def test_describe_available_zones(client):
    resp = client.describe_available_zones(m.DescribeAvailableZonesRequest(region_id="cn-hangzhou"))
    assert_ok(resp)
    data = resp.body.data
    assert "cn-hangzhou-i" in data.official_available_zones, data.to_map()
    assert isinstance(data.trial_available_zones, list), data.to_map()
    assert all(z.startswith("cn-hangzhou-") for z in data.official_available_zones + data.trial_available_zones)
    bj = client.describe_available_zones(m.DescribeAvailableZonesRequest(region_id="cn-beijing")).body.data
    assert bj.official_available_zones and all(z.startswith("cn-beijing-") for z in bj.official_available_zones)


def test_describe_available_zones_unknown_region(client):
    expect_error(lambda: client.describe_available_zones(m.DescribeAvailableZonesRequest(region_id="cn-nowhere")),
                 status=400, code="InvalidParams", message_names=["Region"])


def _tags(client, iid):
    return sorted((t.key, t.value) for t in (describe_one(client, iid).tags or []))


def _tag(client, iid, **pairs):
    resp = client.tag_resources(m.TagResourcesRequest(
        region_id="cn-hangzhou", resource_type="instance", resource_id=[iid],
        tag=[m.TagResourcesRequestTag(key=k, value=v) for k, v in pairs.items()]))
    assert resp.status_code == 200 and resp.body.request_id
    return resp


def test_tag_and_untag_resources(client):
    iid = create_running(client)
    other = create_running(client, instance_name="other", tags=[])
    _tag(client, iid, env="prod", team="data")
    assert _tags(client, iid) == [("env", "prod"), ("k1", "v1"), ("team", "data")]
    assert _tags(client, other) == []

    def tagged(key, value):
        body = describe(client, tag=[m.DescribeInstancesRequestTag(key=key, value=value)])
        return [d.instance_id for d in body.data]

    assert tagged("env", "prod") == [iid]
    assert tagged("env", "dev") == []

    resp = client.un_tag_resources(m.UnTagResourcesRequest(
        region_id="cn-hangzhou", resource_type="instance", resource_id=[iid], tag_key=["env"]))
    assert resp.status_code == 200 and resp.body.request_id
    assert _tags(client, iid) == [("k1", "v1"), ("team", "data")]
    assert tagged("env", "prod") == []

    resp = client.un_tag_resources(m.UnTagResourcesRequest(
        region_id="cn-hangzhou", resource_type="instance", resource_id=[iid], all=True))
    assert resp.status_code == 200
    assert _tags(client, iid) == []


def test_tag_several_resources(client):
    a = create_running(client, tags=[])
    b = create_running(client, instance_name="b", tags=[])
    resp = client.tag_resources(m.TagResourcesRequest(
        region_id="cn-hangzhou", resource_type="instance", resource_id=[a, b],
        tag=[m.TagResourcesRequestTag(key="env", value="prod")]))
    assert resp.status_code == 200
    assert _tags(client, a) == _tags(client, b) == [("env", "prod")]
    body = describe(client, tag=[m.DescribeInstancesRequestTag(key="env", value="prod")])
    assert sorted(d.instance_id for d in body.data) == sorted([a, b]) and body.total == 2


def test_tag_unknown_instance(client):
    expect_error(lambda: _tag(client, UNKNOWN_ID, env="prod"), status=404, code="InstanceNotFound")


def test_change_resource_group(client):
    iid = create_running(client)
    resp = client.change_resource_group(m.ChangeResourceGroupRequest(
        instance_id=iid, new_resource_group_id="rg-newgroup123", resource_type="instance", region_id="cn-hangzhou"))
    assert resp.status_code == 200 and resp.body.request_id
    assert describe_one(client, iid).resource_group_id == "rg-newgroup123"
    assert [d.instance_id for d in describe(client, resource_group_id="rg-newgroup123").data] == [iid]
    assert describe(client, resource_group_id="rg-aekzllkih7jqxxx").total == 0


def test_change_resource_group_invalid(client):
    iid = create_running(client)
    expect_error(lambda: client.change_resource_group(m.ChangeResourceGroupRequest(
        instance_id=iid, new_resource_group_id="group-1", resource_type="instance")),
        status=400, code="InvalidParams", message_names=["ResourceGroupId"])
    assert describe_one(client, iid).resource_group_id == "rg-aekzllkih7jqxxx"


NOT_IMPLEMENTED = [
    ("ModifyDiskType", lambda c, i: c.modify_disk_type(m.ModifyDiskTypeRequest(
        instance_id=i, node_group_id="ng-1", target_disk_type="cloud_essd", target_performance_level="pl2"))),
    ("UpgradeVersion", lambda c, i: c.upgrade_version(m.UpgradeVersionRequest(instance_id=i, target_version="3.3"))),
    ("ListGateway", lambda c, i: c.list_gateway(m.ListGatewayRequest(instance_id=i))),
    ("CreateServiceLinkedRole", lambda c, i: c.create_service_linked_role()),
]


@pytest.mark.parametrize("call", [n[1] for n in NOT_IMPLEMENTED], ids=[n[0] for n in NOT_IMPLEMENTED])
def test_other_operations_not_implemented(client, call):
    iid = create_running(client)
    expect_error(lambda: call(client, iid), status=501, code="NotImplemented", exc=ServerException)
    assert describe_one(client, iid).instance_status == "running"


UNKNOWN_ID_CALLS = [
    ("DescribeNodeGroups", lambda c: c.describe_node_groups(m.DescribeNodeGroupsRequest(cluster_id=UNKNOWN_ID))),
    ("ModifyCu", lambda c: c.modify_cu(m.ModifyCuRequest(instance_id=UNKNOWN_ID, node_group_id="ng-x", target=16))),
    ("ModifyNodeNumber", lambda c: c.modify_node_number(
        m.ModifyNodeNumberRequest(instance_id=UNKNOWN_ID, node_group_id="ng-x", target=4))),
    ("ModifyDiskSize", lambda c: c.modify_disk_size(
        m.ModifyDiskSizeRequest(instance_id=UNKNOWN_ID, node_group_id="ng-x", target=200))),
    ("RestartInstance", lambda c: c.restart_instance(m.RestartInstanceRequest(instance_id=UNKNOWN_ID))),
    ("UpdateInstanceName", lambda c: c.update_instance_name(
        m.UpdateInstanceNameRequest(instance_id=UNKNOWN_ID, cluster_name="x"))),
    ("ReleaseInstance", lambda c: c.release_instance(m.ReleaseInstanceRequest(instance_id=UNKNOWN_ID))),
    ("ListOperationHistory", lambda c: c.list_operation_history(
        m.ListOperationHistoryRequest(instance_id=UNKNOWN_ID))),
    ("ChangeResourceGroup", lambda c: c.change_resource_group(m.ChangeResourceGroupRequest(
        instance_id=UNKNOWN_ID, new_resource_group_id="rg-x1", resource_type="instance"))),
    ("UnTagResources", lambda c: c.un_tag_resources(m.UnTagResourcesRequest(
        region_id="cn-hangzhou", resource_type="instance", resource_id=[UNKNOWN_ID], all=True))),
]


@pytest.mark.parametrize("call", [u[1] for u in UNKNOWN_ID_CALLS], ids=[u[0] for u in UNKNOWN_ID_CALLS])
def test_unknown_instance_id_is_404(client, call):
    create(client)          # an instance exists, just not this one
    expect_error(lambda: call(client), status=404, code="InstanceNotFound")


def test_tag_overwrites_existing_key(client):
    iid = create_running(client)
    _tag(client, iid, k1="v2")
    assert _tags(client, iid) == [("k1", "v2")]


def test_tag_limit_is_20_per_instance(client):
    iid = create_running(client)                    # already carries k1
    expect_error(lambda: _tag(client, iid, **{f"x{i}": "v" for i in range(20)}),
                 status=400, code="InvalidParams", message_names=["20"])
    assert _tags(client, iid) == [("k1", "v1")]
    _tag(client, iid, **{f"x{i}": "v" for i in range(19)})
    assert len(_tags(client, iid)) == 20


@pytest.mark.parametrize("key", ["aliyun-x", "acs:x", "", "k" * 129])
def test_tag_resources_validates_keys(client, key):
    iid = create_running(client)
    expect_error(lambda: _tag(client, iid, **{key: "v"}), status=400, code="InvalidParams",
                 message_names=["Key", "Tag"])
    assert _tags(client, iid) == [("k1", "v1")]
