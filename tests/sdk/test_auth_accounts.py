"""ACS3 authentication (the SDK signs every request itself) and account isolation."""
from __future__ import annotations

import datetime

from alibabacloud_starrocks20221019 import models as m
from alibabacloud_tea_openapi.utils import Utils

from sdkhelpers import (assert_ok, be_group, create, create_running, current_status, describe, describe_one,
                        expect_error, new_request, node_groups, operations, seed_request)


def _utc_stamp(delta_seconds: float) -> str:
    now = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=delta_seconds)
    return now.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_valid_signature_accepted(client):
    assert_ok(client.describe_regions())
    assert_ok(client.describe_instances(m.DescribeInstancesRequest()))


def test_wrong_secret(server):
    bad = server.client(server.access_key_id, server.access_key_secret + "x")
    expect_error(lambda: bad.describe_regions(), status=400, code="SignatureDoesNotMatch")
    expect_error(lambda: bad.create_instance_v1(new_request()),
                 status=400, code="SignatureDoesNotMatch")
    assert describe(server.client()).total == 0


def test_unknown_access_key_id(server):
    bad = server.client("LTAIdoesnotexist0000", server.access_key_secret)
    expect_error(lambda: bad.describe_regions(), status=404, code="InvalidAccessKeyId.NotFound")


def test_stale_date_rejected(client, monkeypatch):
    monkeypatch.setattr(Utils, "get_timestamp", staticmethod(lambda: _utc_stamp(-16 * 60)))
    expect_error(lambda: client.describe_regions(), status=400, code="InvalidTimeStamp.Expired")


def test_slightly_old_date_accepted(client, monkeypatch):
    monkeypatch.setattr(Utils, "get_timestamp", staticmethod(lambda: _utc_stamp(-10 * 60)))
    assert_ok(client.describe_regions())


def test_replayed_nonce_rejected(client, monkeypatch):
    nonce = "0123456789abcdef0123456789abcdef"
    monkeypatch.setattr(Utils, "get_nonce", staticmethod(lambda: nonce))
    assert_ok(client.describe_regions())
    expect_error(lambda: client.describe_regions(), status=400, code="SignatureNonceUsed")
    # a fresh nonce works again
    monkeypatch.undo()
    assert_ok(client.describe_regions())


def test_replayed_nonce_on_create_does_not_create(client, monkeypatch):
    monkeypatch.setattr(Utils, "get_nonce", staticmethod(lambda: "fedcba9876543210fedcba9876543210"))
    create(client)
    expect_error(lambda: client.create_instance_v1(new_request(instance_name="second")),
                 status=400, code="SignatureNonceUsed")
    monkeypatch.undo()
    assert describe(client).total == 1


def test_second_account_is_isolated(server):
    root = server.client()
    iid = create_running(root)
    be = be_group(root, iid).node_group_id

    acct = server.create_account("tenant-b")
    assert acct["access_key_id"] != server.access_key_id
    other = server.client(acct["access_key_id"], acct["access_key_secret"])

    body = describe(other)
    assert body.total == 0 and body.data == []
    nf = dict(status=404, code="InstanceNotFound")
    assert current_status(other, iid) is None       # describe-by-id finds nothing
    expect_error(lambda: other.describe_node_groups(m.DescribeNodeGroupsRequest(cluster_id=iid)), **nf)
    expect_error(lambda: other.modify_cu(m.ModifyCuRequest(instance_id=iid, node_group_id=be, target=16)), **nf)
    expect_error(lambda: other.update_instance_name(
        m.UpdateInstanceNameRequest(instance_id=iid, cluster_name="stolen")), **nf)
    expect_error(lambda: other.restart_instance(m.RestartInstanceRequest(instance_id=iid)), **nf)
    expect_error(lambda: other.list_operation_history(m.ListOperationHistoryRequest(instance_id=iid)), **nf)
    expect_error(lambda: other.release_instance(m.ReleaseInstanceRequest(instance_id=iid)), **nf)

    # nothing happened to the first account's instance
    d = describe_one(root, iid)
    assert d.instance_status == "running" and d.instance_name == "c1"
    assert be_group(root, iid).cu == 8
    assert [o.operation_type for o in operations(root, iid).data] == ["CreateInstance"]

    # the second account's own instance is invisible to the first
    mine = create_running(other, instance_name="tenant-b-instance")
    assert [x.instance_id for x in describe(other).data] == [mine]
    assert [x.instance_id for x in describe(root).data] == [iid]
    expect_error(lambda: root.release_instance(m.ReleaseInstanceRequest(instance_id=mine)), **nf)
    assert len(node_groups(other, mine).data) == 2


def test_second_account_describe_by_id_finds_nothing(server):
    """Another account's instance reads exactly like a missing one: an empty list."""
    root = server.client()
    iid = create_running(root)
    acct = server.create_account("tenant-e")
    other = server.client(acct["access_key_id"], acct["access_key_secret"])
    body = other.describe_instances(m.DescribeInstancesRequest(instance_id=iid)).body
    assert body.total == 0 and body.data == []


def test_client_token_is_per_account(server):
    """The same ClientToken used by two accounts creates two instances."""
    root = server.client()
    acct = server.create_account("tenant-c")
    other = server.client(acct["access_key_id"], acct["access_key_secret"])
    a = create(root, req=seed_request())
    b = create(other, req=seed_request())
    assert a != b
    assert describe(root).total == 1 and describe(other).total == 1


def test_second_account_keys_are_checked(server):
    acct = server.create_account("tenant-d")
    bad = server.client(acct["access_key_id"], server.access_key_secret)
    expect_error(lambda: bad.describe_regions(), status=400, code="SignatureDoesNotMatch")
