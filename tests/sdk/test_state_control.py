"""State control, observed through the official SDKs.

Rules (`PRODUCT:OPERATION=MODE`) are set at start-up (`serve --state-control`), at run time
over the admin API (`/_cloudtwin/state-control/rules`) or with `cloudtwin control`; each mode
is checked by what an SDK polling loop sees:
- manual: StarRocks reads `creating` until a step (CLI or admin API), then `running`; a
  parked job survives SIGKILL and a restart without the rule;
- delay: the create takes about that long;
- fail: StarRocks `creating_failed` (ListOperationHistory FAILED with the code), RocketMQ
  `CREATEFAILED`, HTAP StarRocks `createfail` with its job `Failed`; the failed instance
  can still be released;
- instant: overrides a slow global mode;
- a failed change is undone (StarRocks ModifyCu back to `running`, Havenask UpdateInstance
  back to `READY`), a failed Havenask create shows `CREATE_FAILED`.
"""
from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request

from alibabacloud_searchengine20211025 import models as hm
from alibabacloud_starrocks20221019 import models as m
from huaweicloudsdkgaussdb.v3 import model as gm
from huaweicloudsdkrocketmq.v2 import model as rm

from sdkhelpers import assert_ok, be_group, create, current_status, operations, wait_status
from test_havenask import create as create_havenask, get as get_havenask, ha_client
from test_havenask import wait_status as wait_havenask
from test_rocketmq import create_seed, rmq, show
from test_taurusdb import gauss, make_parent, show_sr, sr_body

RULES = "/_cloudtwin/state-control/rules"


def admin(server, method, path, body=None):
    """One admin call; answers (status, JSON body)."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(server.url + path, data=data, method=method,
                                 headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def control(server, *args):
    """`cloudtwin control ARGS --server URL`: answers the parsed JSON it printed."""
    r = subprocess.run([server.binary, "control", *args, "--server", server.url],
                       capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, f"control {args} exited {r.returncode}\n{r.stdout}\n{r.stderr}"
    return json.loads(r.stdout)


def stays(client, iid, status, seconds):
    """The instance reads `status` on every poll for `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert current_status(client, iid) == status
        time.sleep(0.1)


def test_manual_create_reads_creating_until_a_step(server_factory):
    server = server_factory(extra_args=["--state-control", "starrocks:CreateInstance=manual"])
    client = server.client()
    assert [r["rule"] for r in control(server, "rules")["rules"]] == ["starrocks:CreateInstance=manual"]
    iid = create(client)
    stays(client, iid, "creating", 1.5)
    parked = control(server, "jobs", "--state", "parked", "--instance", iid)["jobs"]
    assert [(j["operation"], j["state"]) for j in parked] == [("CreateInstance", "parked")]
    assert [o.operation_status for o in operations(client, iid).data] == ["RUNNING"]

    stepped = control(server, "step", "--instance", iid)["stepped"]
    assert stepped["id"] == parked[0]["id"]
    seen = wait_status(client, iid, "running", timeout=5)
    assert set(seen) <= {"creating", "running"}, seen
    assert control(server, "jobs", "--state", "parked")["jobs"] == []

    # Only the rule's operation is held: a release goes at the global (instant) pace.
    assert_ok(client.release_instance(m.ReleaseInstanceRequest(instance_id=iid)))
    wait_status(client, iid, None, timeout=5)


def test_a_parked_job_survives_sigkill_and_a_restart_without_the_rule(server):
    client = server.client()
    status, _ = admin(server, "POST", RULES, {"rule": "starrocks:*=manual"})
    assert status == 200
    iid = create(client)
    server.kill()
    server.start()  # the rule was in memory only; the parked job is in the store
    client = server.client()
    assert admin(server, "GET", RULES)[1] == {"rules": []}
    stays(client, iid, "creating", 1.0)
    status, body = admin(server, "POST", f"/_cloudtwin/instances/{iid}/step")
    assert status == 200, body
    wait_status(client, iid, "running", timeout=5)
    status, body = admin(server, "POST", f"/_cloudtwin/instances/{iid}/step")
    assert (status, body["error"]["code"]) == (409, "NothingParked")


def test_delay_takes_about_that_long(server):
    client = server.client()
    assert control(server, "set", "starrocks:*=delay:2s")["rule"]["mode"] == "delay:2s"
    started = time.monotonic()
    iid = create(client)
    seen = wait_status(client, iid, "running", timeout=8, interval=0.05)
    took = time.monotonic() - started
    assert seen == ["creating", "running"], seen
    assert 1.8 <= took <= 5.0, took


def test_fail_shows_creating_failed_and_the_instance_can_be_released(server):
    client = server.client()
    status, _ = admin(server, "POST", RULES,
                      {"rule": "starrocks:CreateInstance=fail:InternalError.Provision:No capacity in the zone"})
    assert status == 200
    iid = create(client)
    seen = wait_status(client, iid, "creating_failed", timeout=5)
    assert seen in (["creating", "creating_failed"], ["creating_failed"]), seen
    ops = operations(client, iid).data
    assert [(o.operation_type, o.operation_status) for o in ops] == [("CreateInstance", "FAILED")]
    assert ops[0].operation_detail == "InternalError.Provision: No capacity in the zone"
    failed = control(server, "jobs", "--state", "failed", "--instance", iid)["jobs"]
    assert failed[0]["error"] == {"code": "InternalError.Provision", "message": "No capacity in the zone"}

    assert_ok(client.release_instance(m.ReleaseInstanceRequest(instance_id=iid)))
    wait_status(client, iid, None, timeout=5)


def test_rocketmq_create_under_fail_shows_createfailed(server):
    control(server, "set", "rocketmq:CreateInstance=fail:DMS.00500000:Broker provisioning failed")
    client = rmq(server)
    iid = create_seed(client)
    deadline = time.monotonic() + 5
    while (status := show(client, iid).status) == "CREATING":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert status == "CREATEFAILED"
    # The API's include_failure selects failed creates.
    listed = client.list_instances(rm.ListInstancesRequest(engine="reliability", include_failure="true"))
    assert [(i.instance_id, i.status) for i in listed.instances] == [(iid, "CREATEFAILED")]
    # all_failure deletes the failed creates, and only them.
    assert control(server, "clear") == {"cleared": 1}
    healthy = create_seed(client, name="healthy-one")
    deleted = client.batch_delete_instances(rm.BatchDeleteInstancesRequest(
        body=rm.BatchDeleteInstanceReq(action="delete", all_failure="reliability")))
    assert [(r.instance, r.result) for r in deleted.results] == [(iid, "success")]
    assert show(client, healthy).status in ("CREATING", "RUNNING")


def test_htap_create_under_fail_shows_createfail_and_its_job_failed(server):
    c = gauss(server)
    pid = make_parent(c)  # the parent's create is not governed by the rule
    control(server, "set", "htap-starrocks:CreateStarRocksInstance=fail:DBS.280001:Insufficient resources")
    resp = c.create_starrocks_instance(gm.CreateStarrocksInstanceRequest(instance_id=pid, body=sr_body()))
    deadline = time.monotonic() + 5
    while (job := c.show_gauss_my_sql_job_info(gm.ShowGaussMySqlJobInfoRequest(id=resp.job_id)).job).status \
            in ("Pending", "Running"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert job.status == "Failed"
    assert job.fail_reason == "DBS.280001: Insufficient resources"
    shown = show_sr(c, pid, resp.instance.id)
    assert (shown.status, shown.create_fail_error_code) == ("createfail", "DBS.280001")
    listed = c.list_htap_instance_info(gm.ListHtapInstanceInfoRequest(instance_id=pid)).instances
    assert [(i.instance_state.instance_status, i.instance_state.create_fail_error_code,
             i.instance_state.fail_message) for i in listed] == \
        [("createfail", "DBS.280001", "Insufficient resources")]


def test_instant_overrides_a_slow_global_mode(server_factory):
    server = server_factory(lifecycle="realistic",
                            extra_args=["--state-control", "starrocks:CreateInstance=instant"])
    client = server.client()
    iid = create(client)
    wait_status(client, iid, "running", timeout=5)  # a realistic create takes 10 s
    # Without the rule, the realistic pace (10 s for a create) applies again.
    assert control(server, "clear") == {"cleared": 1}
    slow = create(client)
    stays(client, slow, "creating", 1.0)


def test_a_failed_change_is_undone_and_a_failed_create_shows_the_products_status(server):
    ha = ha_client(server)
    ready = create_havenask(ha)
    wait_havenask(ha, ready, "READY")
    control(server, "set", "havenask:*=fail")
    comps = [hm.UpdateInstanceRequestComponents(code="searcherdocsize", value="300")]
    ha.update_instance(ready, hm.UpdateInstanceRequest(components=comps))
    seen = wait_havenask(ha, ready, "READY")
    assert set(seen) <= {"CONFIG_UPDATING", "READY"}, seen
    assert get_havenask(ha, ready).spec.search_resource.disk != 300, "the failed change is undone"
    failed = create_havenask(ha)
    wait_havenask(ha, failed, "CREATE_FAILED")
    ha.delete_instance(failed)

    client = server.client()
    control(server, "set", "starrocks:ModifyCu=fail:InternalError:Out of CU")
    iid = create(client)
    wait_status(client, iid, "running")
    be = be_group(client, iid)
    assert_ok(client.modify_cu(m.ModifyCuRequest(instance_id=iid, node_group_id=be.node_group_id,
                                                 target=be.cu * 2)))
    ops = []
    deadline = time.monotonic() + 5
    while [o.operation_status for o in ops] != ["SUCCESS", "FAILED"]:
        assert time.monotonic() < deadline, [o.to_map() for o in ops]
        time.sleep(0.1)
        ops = sorted(operations(client, iid).data, key=lambda o: o.gmt_create)
    assert current_status(client, iid) == "running"
    assert be_group(client, iid).cu == be.cu, "the failed change is undone"
