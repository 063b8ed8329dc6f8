"""DescribeNodeGroups, Modify*, RestartInstance, UpdateInstanceName, ListOperationHistory, status rules."""
from __future__ import annotations

import time

import pytest
from alibabacloud_starrocks20221019 import models as m

from sdkhelpers import (ZONE, assert_ok, backend, be_group, create, create_running, describe, describe_one,
                        expect_error, fe_group, node_groups, observer, operations, wait_status)


def test_describe_node_groups_shape(client):
    iid = create_running(client)
    body = node_groups(client, iid)
    assert body.total == 2 and len(body.data) == 2, body.to_map()
    kinds = sorted(g.component_type for g in body.data)
    assert kinds[0] in ("BE", "CN") and kinds[1] == "FE", kinds
    ids = [g.node_group_id for g in body.data]
    assert all(ids) and len(set(ids)) == 2, ids
    for g in body.data:
        assert g.cu == 8
        assert g.resident_node_number == 3
        assert g.storage_size == 100
        assert g.storage_performance_level == "pl1"
        assert g.disk_number == 1
        assert g.spec_type == "standard"
        assert g.zone_id == ZONE
        assert g.status == "RUNNING"


def test_describe_node_groups_with_observer(client):
    iid = create_running(client, observer_node_groups=[observer()],
                         backend_node_groups=[backend(), backend(cu=16, resident_node_number=2)])
    body = node_groups(client, iid)
    assert body.total == 4, body.to_map()
    kinds = sorted(g.component_type for g in body.data)
    assert kinds.count("FE") == 1 and kinds.count("OBSERVER") == 1, kinds
    be = sorted((g.cu, g.resident_node_number) for g in body.data if g.component_type in ("BE", "CN"))
    assert be == [(8, 3), (16, 2)]


def test_describe_node_groups_filters(client):
    iid = create_running(client)
    other = create_running(client, instance_name="other")
    fe = fe_group(client, iid)
    be = be_group(client, iid)

    def ids(**kw):
        body = node_groups(client, iid, **kw)
        assert body.total == len(body.data)
        return sorted(g.node_group_id for g in body.data)

    assert ids(component_type="FE") == [fe.node_group_id]
    assert ids(component_type=be.component_type) == [be.node_group_id]
    assert ids(node_group_ids=[be.node_group_id]) == [be.node_group_id]
    assert ids(status="RUNNING") == sorted([fe.node_group_id, be.node_group_id])
    assert ids(status="SCALING_UP") == []
    # the other instance's groups never leak in
    other_ids = {g.node_group_id for g in node_groups(client, other).data}
    assert not other_ids & {fe.node_group_id, be.node_group_id}
    # the deprecated body instanceId works like ClusterId
    resp = client.describe_node_groups(m.DescribeNodeGroupsRequest(instance_id=iid))
    assert_ok(resp)
    assert sorted(g.node_group_id for g in resp.body.data) == sorted([fe.node_group_id, be.node_group_id])


def test_modify_cu(client):
    iid = create_running(client)
    be = be_group(client, iid)
    resp = client.modify_cu(m.ModifyCuRequest(instance_id=iid, node_group_id=be.node_group_id, target=16))
    assert_ok(resp)
    assert isinstance(resp.body.data, int) and not isinstance(resp.body.data, bool), resp.body.to_map()
    seen = wait_status(client, iid, "running")
    assert set(seen) <= {"scaling_up", "running"}, seen
    assert be_group(client, iid).cu == 16
    assert fe_group(client, iid).cu == 8
    assert be_group(client, iid).status == "RUNNING"


def test_modify_node_number(client):
    iid = create_running(client)
    be = be_group(client, iid)
    resp = client.modify_node_number(m.ModifyNodeNumberRequest(instance_id=iid, node_group_id=be.node_group_id,
                                                               target=5))
    assert_ok(resp)
    assert isinstance(resp.body.data, int) and not isinstance(resp.body.data, bool), resp.body.to_map()
    seen = wait_status(client, iid, "running")
    assert set(seen) <= {"scaling_out", "running"}, seen
    assert be_group(client, iid).resident_node_number == 5


def test_modify_disk_size(client):
    iid = create_running(client)
    be = be_group(client, iid)
    resp = client.modify_disk_size(m.ModifyDiskSizeRequest(instance_id=iid, node_group_id=be.node_group_id,
                                                           target=200))
    assert_ok(resp)
    assert isinstance(resp.body.data, int) and not isinstance(resp.body.data, bool), resp.body.to_map()
    seen = wait_status(client, iid, "running")
    assert set(seen) <= {"updating", "running"}, seen
    assert be_group(client, iid).storage_size == 200


def test_modify_disk_size_shrink_refused(client):
    iid = create_running(client)
    be = be_group(client, iid)
    expect_error(lambda: client.modify_disk_size(m.ModifyDiskSizeRequest(
        instance_id=iid, node_group_id=be.node_group_id, target=50)), status=400, code="InvalidParams")
    assert be_group(client, iid).storage_size == 100
    assert describe_one(client, iid).instance_status == "running"
    assert [o.operation_type for o in operations(client, iid).data] == ["CreateInstance"]


def test_restart_instance(client):
    iid = create_running(client)
    resp = client.restart_instance(m.RestartInstanceRequest(instance_id=iid))
    assert_ok(resp)
    assert resp.body.data is True
    seen = wait_status(client, iid, "running")
    assert set(seen) <= {"restarting", "running"}, seen


def test_update_instance_name(client):
    iid = create_running(client)
    resp = client.update_instance_name(m.UpdateInstanceNameRequest(instance_id=iid, cluster_name="renamed"))
    assert_ok(resp)
    assert resp.body.data is True
    d = describe_one(client, iid)          # at once, no polling
    assert d.instance_name == "renamed"
    assert d.instance_status == "running"
    assert [x.instance_id for x in describe(client, instance_name="renamed").data] == [iid]
    assert describe(client, instance_name="c1").total == 0


TRANSITIONS = [
    # id, create overrides, call(client, iid, group) -> response, transitional status, check(client, iid)
    ("ModifyCu-up", {},
     lambda c, i, g: c.modify_cu(m.ModifyCuRequest(instance_id=i, node_group_id=g, target=16)),
     "scaling_up", lambda c, i: be_group(c, i).cu == 16),
    ("ModifyCu-down", {"backend_node_groups": [backend(cu=16)]},
     lambda c, i, g: c.modify_cu(m.ModifyCuRequest(instance_id=i, node_group_id=g, target=8)),
     "scaling_down", lambda c, i: be_group(c, i).cu == 8),
    ("ModifyNodeNumber-out", {},
     lambda c, i, g: c.modify_node_number(m.ModifyNodeNumberRequest(instance_id=i, node_group_id=g, target=4)),
     "scaling_out", lambda c, i: be_group(c, i).resident_node_number == 4),
    ("ModifyNodeNumber-in", {},
     lambda c, i, g: c.modify_node_number(m.ModifyNodeNumberRequest(instance_id=i, node_group_id=g, target=2)),
     "scaling_in", lambda c, i: be_group(c, i).resident_node_number == 2),
    ("ModifyDiskSize", {},
     lambda c, i, g: c.modify_disk_size(m.ModifyDiskSizeRequest(instance_id=i, node_group_id=g, target=300)),
     "updating", lambda c, i: be_group(c, i).storage_size == 300),
    ("RestartInstance", {},
     lambda c, i, g: c.restart_instance(m.RestartInstanceRequest(instance_id=i)),
     "restarting", lambda c, i: True),
]


@pytest.mark.lifecycle("1s")
@pytest.mark.parametrize("overrides,call,transitional,check", [t[1:] for t in TRANSITIONS],
                         ids=[t[0] for t in TRANSITIONS])
def test_transition_statuses(client, overrides, call, transitional, check):
    """With --lifecycle 1s every transition is observable: creating -> running, X -> running."""
    iid = create(client, **overrides)
    seen = wait_status(client, iid, "running", timeout=5)
    assert seen == ["creating", "running"], seen
    group = be_group(client, iid).node_group_id
    t0 = time.monotonic()
    assert_ok(call(client, iid, group))
    seen = wait_status(client, iid, "running", timeout=5)
    elapsed = time.monotonic() - t0
    assert seen == [transitional, "running"], seen
    assert 0.5 <= elapsed <= 4, f"transition took {elapsed:.2f}s with --lifecycle 1s"
    assert check(client, iid)
    assert be_group(client, iid).status == "RUNNING"


@pytest.mark.lifecycle("1s")
def test_operation_history_while_running(client):
    iid = create(client)
    ops = operations(client, iid)
    assert ops.total == 1, ops.to_map()
    op = ops.data[0]
    assert op.operation_type == "CreateInstance"
    assert op.operation_status == "RUNNING"
    assert 0 <= op.progress < 100
    assert op.instance_id == iid
    wait_status(client, iid, "running", timeout=5)
    op = operations(client, iid).data[0]
    assert op.operation_status == "SUCCESS" and op.progress == 100


@pytest.mark.lifecycle("3s")
def test_modify_while_creating_is_refused(client):
    iid = create(client)
    assert describe_one(client, iid).instance_status == "creating"
    groups = node_groups(client, iid).data
    assert {g.status for g in groups} == {"CREATING"}, [g.to_map() for g in groups]
    be = [g for g in groups if g.component_type in ("BE", "CN")][0].node_group_id
    calls = {
        "ModifyCu": lambda: client.modify_cu(m.ModifyCuRequest(instance_id=iid, node_group_id=be, target=16)),
        "ModifyNodeNumber": lambda: client.modify_node_number(
            m.ModifyNodeNumberRequest(instance_id=iid, node_group_id=be, target=4)),
        "ModifyDiskSize": lambda: client.modify_disk_size(
            m.ModifyDiskSizeRequest(instance_id=iid, node_group_id=be, target=200)),
        "RestartInstance": lambda: client.restart_instance(m.RestartInstanceRequest(instance_id=iid)),
    }
    for name, call in calls.items():
        expect_error(call, status=400, code="IncorrectInstanceStatus")
    assert describe_one(client, iid).instance_status == "creating"
    ops = operations(client, iid)
    assert [o.operation_type for o in ops.data] == ["CreateInstance"], ops.to_map()


def test_operation_history(client):
    iid = create_running(client)
    be = be_group(client, iid)
    assert_ok(client.modify_cu(m.ModifyCuRequest(instance_id=iid, node_group_id=be.node_group_id, target=16)))
    wait_status(client, iid, "running")
    body = operations(client, iid)
    assert body.total == 2 and len(body.data) == 2, body.to_map()
    assert sorted(o.operation_type for o in body.data) == ["CreateInstance", "ModifyCu"]
    for o in body.data:
        assert o.operation_id
        assert o.instance_id == iid
        assert o.operation_status == "SUCCESS", o.to_map()
        assert o.progress == 100
        assert isinstance(o.gmt_create, int) and isinstance(o.gmt_end, int), o.to_map()
        assert o.gmt_end >= o.gmt_create > 1_600_000_000_000
    assert len({o.operation_id for o in body.data}) == 2

    create_op = [o for o in body.data if o.operation_type == "CreateInstance"][0]
    by_id = operations(client, iid, operation_id=create_op.operation_id)
    assert by_id.total == 1 and by_id.data[0].operation_id == create_op.operation_id
    by_type = operations(client, iid, operation_type="ModifyCu")
    assert by_type.total == 1 and by_type.data[0].operation_type == "ModifyCu"
    assert operations(client, iid, operation_status="SUCCESS").total == 2
    assert operations(client, iid, operation_status="FAILED").total == 0
    paged = operations(client, iid, page_number=1, page_size=1)
    assert paged.total == 2 and len(paged.data) == 1
    paged2 = operations(client, iid, page_number=2, page_size=1)
    assert paged2.total == 2 and len(paged2.data) == 1
    assert paged.data[0].operation_id != paged2.data[0].operation_id


def test_operation_history_is_per_instance(client):
    a = create_running(client)
    b = create_running(client, instance_name="b")
    assert [o.instance_id for o in operations(client, a).data] == [a]
    assert [o.instance_id for o in operations(client, b).data] == [b]


MODIFY_INVALID = [
    # id, call(client, iid, fe_id, be_id), names in message
    ("ModifyCu-BE-not-in-catalog",
     lambda c, i, fe, be: c.modify_cu(m.ModifyCuRequest(instance_id=i, node_group_id=be, target=12)), ["cu"]),
    ("ModifyCu-FE-96",
     lambda c, i, fe, be: c.modify_cu(m.ModifyCuRequest(instance_id=i, node_group_id=fe, target=96)), ["cu"]),
    ("ModifyNodeNumber-FE-2",
     lambda c, i, fe, be: c.modify_node_number(m.ModifyNodeNumberRequest(instance_id=i, node_group_id=fe, target=2)),
     ["residentNodeNumber"]),
    ("ModifyNodeNumber-BE-101",
     lambda c, i, fe, be: c.modify_node_number(
         m.ModifyNodeNumberRequest(instance_id=i, node_group_id=be, target=101)), ["residentNodeNumber"]),
    ("ModifyNodeNumber-BE-0",
     lambda c, i, fe, be: c.modify_node_number(m.ModifyNodeNumberRequest(instance_id=i, node_group_id=be, target=0)),
     ["residentNodeNumber"]),
    ("ModifyDiskSize-65001",
     lambda c, i, fe, be: c.modify_disk_size(m.ModifyDiskSizeRequest(instance_id=i, node_group_id=be, target=65001)),
     ["storageSize"]),
]


@pytest.mark.parametrize("call,names", [x[1:] for x in MODIFY_INVALID], ids=[x[0] for x in MODIFY_INVALID])
def test_modify_target_validated(client, call, names):
    """Modify targets obey the same catalog rules as create; a refused modify leaves no trace."""
    iid = create_running(client)
    fe, be = fe_group(client, iid), be_group(client, iid)
    expect_error(lambda: call(client, iid, fe.node_group_id, be.node_group_id), status=400, code="InvalidParams",
                 message_names=names)
    assert describe_one(client, iid).instance_status == "running"
    assert [o.operation_type for o in operations(client, iid).data] == ["CreateInstance"]
    after = {g.node_group_id: (g.cu, g.resident_node_number, g.storage_size) for g in node_groups(client, iid).data}
    assert after == {fe.node_group_id: (8, 3, 100), be.node_group_id: (8, 3, 100)}


def test_modify_missing_target(client):
    iid = create_running(client)
    be = be_group(client, iid).node_group_id
    expect_error(lambda: client.modify_cu(m.ModifyCuRequest(instance_id=iid, node_group_id=be)),
                 status=400, code="MissingParameter", message_names=["Target"])


def test_modify_unknown_node_group(client):
    """Not fixed by the contract: the server answers 404 NodeGroupNotFound."""
    iid = create_running(client)
    expect_error(lambda: client.modify_cu(m.ModifyCuRequest(instance_id=iid, node_group_id="ng-nope", target=16)),
                 status=404, code="NodeGroupNotFound")
    other = create_running(client, instance_name="other")
    foreign = be_group(client, other).node_group_id
    expect_error(lambda: client.modify_cu(m.ModifyCuRequest(instance_id=iid, node_group_id=foreign, target=16)),
                 status=404, code="NodeGroupNotFound")
    assert be_group(client, other).cu == 8
