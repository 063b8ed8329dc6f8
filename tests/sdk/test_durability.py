"""State survives SIGKILL / SIGTERM: an interrupted creation still completes after a restart."""
from __future__ import annotations

import pytest
from alibabacloud_starrocks20221019 import models as m

from sdkhelpers import (assert_ok, be_group, create_running, describe, describe_one, new_request,
                        operations, seed_request, wait_status)


@pytest.mark.lifecycle("3s")
@pytest.mark.parametrize("hard", [True, False], ids=["sigkill", "sigterm"])
def test_creating_instance_survives_restart(server, hard):
    client = server.client()
    req = seed_request()
    resp = client.create_instance_v1(req)
    assert_ok(resp)
    iid = resp.body.data.instance_id
    assert describe_one(client, iid).instance_status == "creating"

    if hard:
        server.kill()
    else:
        rc = server.stop()
        assert rc == 0, f"cloudtwin exited {rc} on SIGTERM"
    server.start()
    client = server.client()            # the port changed

    seen = wait_status(client, iid, "running", timeout=8)
    assert seen[-1] == "running" and set(seen) <= {"creating", "running"}, seen
    d = describe_one(client, iid)
    assert d.instance_name == "c1" and [(t.key, t.value) for t in d.tags] == [("k1", "v1")]
    assert describe(client).total == 1

    # the create's ClientToken, retried after the restart, returns the same instance
    again = client.create_instance_v1(seed_request())
    assert_ok(again)
    assert again.body.data.instance_id == iid
    assert describe(client).total == 1
    ops = operations(client, iid)
    assert [(o.operation_type, o.operation_status) for o in ops.data] == [("CreateInstance", "SUCCESS")]


def test_state_survives_restart_instant(server):
    client = server.client()
    iid = create_running(client, instance_name="persisted")
    be = be_group(client, iid)
    assert_ok(client.modify_cu(m.ModifyCuRequest(instance_id=iid, node_group_id=be.node_group_id, target=16)))
    wait_status(client, iid, "running")
    released = create_running(client, instance_name="released")
    assert_ok(client.release_instance(m.ReleaseInstanceRequest(instance_id=released)))
    wait_status(client, released, None)
    acct = server.create_account("survivor")

    server.kill()
    server.start()
    client = server.client()
    d = describe_one(client, iid)
    assert d.instance_name == "persisted" and d.instance_status == "running"
    assert be_group(client, iid).cu == 16
    assert describe(client).total == 1
    assert operations(client, iid).total == 2
    other = server.client(acct["access_key_id"], acct["access_key_secret"])
    assert describe(other).total == 0
    assert_ok(other.create_instance_v1(new_request()))
