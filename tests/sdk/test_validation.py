"""CreateInstanceV1 parameter validation: one failing request per rule.

Each rejected request must raise ClientException, HTTP 400, the exact code, a Message naming the
parameter, and leave no trace (DescribeInstances still empty)."""
from __future__ import annotations

import pytest
from alibabacloud_starrocks20221019 import models as m
from alibabacloud_tea_openapi.exceptions import ClientException

from sdkhelpers import ZONE, assert_ok, backend, describe, expect_error, frontend, new_request, observer, wait_status

FOREIGN = object()      # placeholder: a real zone of cn-beijing (not of cn-hangzhou), looked up at run time
BAD_ZONE = "cn-hangzhou-zz"


def vsw(vsw_id="vsw-bp19mlh98tm9teyyd****", zone_id=ZONE):
    return m.CreateInstanceV1RequestVSwitches(vsw_id=vsw_id, zone_id=zone_id)


def tags(n, key=lambda i: f"key{i}"):
    return [m.CreateInstanceV1RequestTags(key=key(i), value=f"v{i}") for i in range(n)]


def one_tag(key):
    return [m.CreateInstanceV1RequestTags(key=key, value="v")]


MISSING = "MissingParameter"
INVALID = "InvalidParams"

# (id, overrides, code, names that the message may use for the parameter)
CASES = [
    # required parameters
    ("missing-InstanceName", dict(instance_name=None), MISSING, ["InstanceName"]),
    ("missing-AdminPassword", dict(admin_password=None), MISSING, ["AdminPassword"]),
    ("missing-Version", dict(version=None), MISSING, ["Version"]),
    ("missing-RunMode", dict(run_mode=None), MISSING, ["RunMode"]),
    ("missing-RegionId", dict(region_id=None), MISSING, ["RegionId"]),
    ("missing-PackageType", dict(package_type=None), MISSING, ["PackageType"]),
    ("missing-PayType", dict(pay_type=None), MISSING, ["PayType"]),
    ("missing-VpcId", dict(vpc_id=None), MISSING, ["VpcId"]),
    ("missing-ZoneId", dict(zone_id=None), MISSING, ["ZoneId"]),
    ("prepaid-missing-PricingCycle", dict(pricing_cycle=None), MISSING, ["PricingCycle"]),
    ("encrypted-missing-KmsKeyId", dict(encrypted=True, kms_key_id=None), MISSING, ["KmsKeyId"]),
    ("vswitch-missing-VswId", dict(v_switches=[m.CreateInstanceV1RequestVSwitches(zone_id=ZONE)]), MISSING,
     ["VswId"]),
    # InstanceName
    ("InstanceName-65-chars", dict(instance_name="n" * 65), INVALID, ["InstanceName"]),
    # AdminPassword
    ("AdminPassword-7-chars", dict(admin_password="Ab1!xyz"), INVALID, ["AdminPassword"]),
    ("AdminPassword-33-chars", dict(admin_password="Ab1!" + "x" * 29), INVALID, ["AdminPassword"]),
    ("AdminPassword-space", dict(admin_password="has space 123"), INVALID, ["AdminPassword"]),
    ("AdminPassword-non-ascii", dict(admin_password="pässwörd1234"), INVALID, ["AdminPassword"]),
    ("AdminPassword-control-char", dict(admin_password="tab\there1234"), INVALID, ["AdminPassword"]),
    # enumerations
    ("Version-unknown", dict(version="2.5"), INVALID, ["Version"]),
    ("RunMode-unknown", dict(run_mode="serverless"), INVALID, ["RunMode"]),
    ("PackageType-unknown", dict(package_type="enterprise"), INVALID, ["PackageType"]),
    ("PayType-unknown", dict(pay_type="free"), INVALID, ["PayType"]),
    # zones / network
    ("ZoneId-unknown", dict(zone_id=BAD_ZONE), INVALID, ["ZoneId"]),
    ("ZoneId-other-region", dict(zone_id=FOREIGN), INVALID, ["ZoneId"]),
    ("VpcId-prefix", dict(vpc_id="net-bp1fll2mci6d7pw8m"), INVALID, ["VpcId"]),
    ("VswId-prefix", dict(v_switches=[vsw(vsw_id="sw-bp19mlh98tm9teyyd")]), INVALID, ["VswId"]),
    ("VSwitch-zone-other-region", dict(v_switches=[vsw(zone_id=FOREIGN)]), INVALID, ["ZoneId"]),
    ("VSwitch-zone-unknown", dict(v_switches=[vsw(zone_id=BAD_ZONE)]), INVALID, ["ZoneId"]),
    # subscription
    ("PricingCycle-unknown", dict(pricing_cycle="Week"), INVALID, ["PricingCycle"]),
    ("Duration-month-0", dict(pricing_cycle="Month", duration=0), INVALID, ["Duration"]),
    ("Duration-month-10", dict(pricing_cycle="Month", duration=10), INVALID, ["Duration"]),
    ("Duration-year-6", dict(pricing_cycle="Year", duration=6), INVALID, ["Duration"]),
    ("Duration-year-0", dict(pricing_cycle="Year", duration=0), INVALID, ["Duration"]),
    # node groups
    ("BE-cu-not-in-catalog", dict(backend_node_groups=[backend(cu=12)]), INVALID, [("Backend", "cu")]),
    ("FE-cu-96", dict(frontend_node_groups=[frontend(cu=96)]), INVALID, [("Frontend", "cu")]),
    ("FE-cu-4", dict(frontend_node_groups=[frontend(cu=4)]), INVALID, [("Frontend", "cu")]),
    ("FE-residentNodeNumber-2", dict(frontend_node_groups=[frontend(resident_node_number=2)]), INVALID,
     [("Frontend", "residentNodeNumber")]),
    ("BE-residentNodeNumber-0", dict(backend_node_groups=[backend(resident_node_number=0)]), INVALID,
     [("Backend", "residentNodeNumber")]),
    ("BE-residentNodeNumber-101", dict(backend_node_groups=[backend(resident_node_number=101)]), INVALID,
     [("Backend", "residentNodeNumber")]),
    ("BE-storageSize-19", dict(backend_node_groups=[backend(storage_size=19)]), INVALID, [("Backend", "storageSize")]),
    ("BE-storageSize-65001", dict(backend_node_groups=[backend(storage_size=65001)]), INVALID,
     [("Backend", "storageSize")]),
    ("FE-storageSize-19", dict(frontend_node_groups=[frontend(storage_size=19)]), INVALID,
     [("Frontend", "storageSize")]),
    ("BE-storagePerformanceLevel-pl4", dict(backend_node_groups=[backend(storage_performance_level="pl4")]),
     INVALID, [("Backend", "storagePerformanceLevel")]),
    ("FE-storagePerformanceLevel-pl2", dict(frontend_node_groups=[frontend(storage_performance_level="pl2")]),
     INVALID, [("Frontend", "storagePerformanceLevel")]),
    ("BE-specType-unknown", dict(backend_node_groups=[backend(spec_type="huge")]), INVALID, [("Backend", "specType")]),
    ("FE-specType-ramEnhanced", dict(frontend_node_groups=[frontend(spec_type="ramEnhanced")]), INVALID,
     [("Frontend", "specType")]),
    ("BE-zoneId-other-region", dict(backend_node_groups=[backend(zone_id=FOREIGN)]), INVALID, [("Backend", "zoneId")]),
    ("FE-zoneId-unknown", dict(frontend_node_groups=[frontend(zone_id=BAD_ZONE)]), INVALID, [("Frontend", "zoneId")]),
    ("two-FE-groups", dict(frontend_node_groups=[frontend(), frontend()]), INVALID, ["FrontendNodeGroups"]),
    # tags
    ("Tags-21", dict(tags=tags(21)), INVALID, ["Tags", "Tag"]),
    ("Tag-key-empty", dict(tags=one_tag("")), INVALID, ["Key", "Tag"]),
    ("Tag-key-129-chars", dict(tags=one_tag("k" * 129)), INVALID, ["Key", "Tag"]),
    ("Tag-key-aliyun-prefix", dict(tags=one_tag("aliyun-env")), INVALID, ["Key", "Tag"]),
    ("Tag-key-acs-prefix", dict(tags=one_tag("acs:env")), INVALID, ["Key", "Tag"]),
    # misc
    ("ResourceGroupId-prefix", dict(resource_group_id="group-aekzllkih7jqxxx"), INVALID, ["ResourceGroupId"]),
    ("ClientToken-65-chars", dict(client_token="t" * 65), INVALID, ["ClientToken"]),
    ("ClientToken-non-ascii", dict(client_token="tökén-123"), INVALID, ["ClientToken"]),
]


@pytest.fixture
def foreign_zone(client):
    resp = client.describe_available_zones(m.DescribeAvailableZonesRequest(region_id="cn-beijing"))
    assert_ok(resp)
    zones = resp.body.data.official_available_zones
    assert zones, resp.body.to_map()
    return zones[0]


def _resolve(value, zone):
    """Replace the FOREIGN placeholder (also inside node-group / vswitch models)."""
    if value is FOREIGN:
        return zone
    if isinstance(value, list):
        out = []
        for item in value:
            if getattr(item, "zone_id", None) is FOREIGN:
                item = type(item)().from_map(item.to_map())
                item.zone_id = zone
            out.append(item)
        return out
    return value


def _uses_foreign(overrides):
    for v in overrides.values():
        if v is FOREIGN:
            return True
        if isinstance(v, list) and any(getattr(i, "zone_id", None) is FOREIGN for i in v):
            return True
    return False


@pytest.mark.parametrize("overrides,code,names", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_create_rejected(client, request, overrides, code, names):
    if _uses_foreign(overrides):
        zone = request.getfixturevalue("foreign_zone")
        overrides = {k: _resolve(v, zone) for k, v in overrides.items()}
    req = new_request(**overrides)
    e = expect_error(lambda: client.create_instance_v1(req), status=400, code=code, message_names=names)
    if code == INVALID:
        assert e.data["Message"].startswith("Invalid params:"), e.data["Message"]
    body = describe(client)
    assert body.total == 0 and body.data == [], f"a rejected create left an instance: {body.to_map()}"


def test_unknown_region_message(client):
    e = expect_error(lambda: client.create_instance_v1(new_request(region_id="cn-nowhere")),
                     status=400, code=INVALID)
    msg = e.data["Message"]
    assert msg.startswith("Invalid params: [Region id should be select from set ["), msg
    assert msg.endswith("]]"), msg
    listed = msg[len("Invalid params: [Region id should be select from set ["):-2].split(", ")
    assert "cn-hangzhou" in listed and "cn-beijing" in listed, listed
    assert describe(client).total == 0


def test_rejected_token_is_not_consumed(client):
    """A create rejected by validation does not bind its ClientToken."""
    token = "token-reused-after-rejection"
    expect_error(lambda: client.create_instance_v1(new_request(client_token=token, version="2.5")),
                 status=400, code=INVALID, message_names=["Version"])
    resp = client.create_instance_v1(new_request(client_token=token))
    assert_ok(resp)
    assert describe(client).total == 1


# Boundary values that must be accepted.
ACCEPTED = [
    ("InstanceName-64-chars", dict(instance_name="n" * 64)),
    ("InstanceName-1-char", dict(instance_name="n")),
    ("AdminPassword-8-chars", dict(admin_password="Ab1!wxyz")),
    ("AdminPassword-32-chars", dict(admin_password="Ab1!~`[]{}" + "y" * 22)),
    ("Version-3.1", dict(version="3.1")),
    ("Version-3.2", dict(version="3.2")),
    ("Version-3.3", dict(version="3.3")),
    ("RunMode-shared_nothing", dict(run_mode="shared_nothing")),
    ("RunMode-lakehouse", dict(run_mode="lakehouse")),
    ("PackageType-trial", dict(package_type="trial")),
    ("postPaid-without-PricingCycle", dict(pay_type="postPaid", pricing_cycle=None, duration=None)),
    ("Duration-month-9", dict(pricing_cycle="Month", duration=9)),
    ("Duration-year-5", dict(pricing_cycle="Year", duration=5)),
    ("FE-1-node-cu-64", dict(frontend_node_groups=[frontend(resident_node_number=1, cu=64)])),
    ("BE-100-nodes-cu-128", dict(backend_node_groups=[backend(resident_node_number=100, cu=128)])),
    ("BE-storage-20", dict(backend_node_groups=[backend(storage_size=20, storage_performance_level="pl0")])),
    ("BE-storage-65000", dict(backend_node_groups=[backend(storage_size=65000, storage_performance_level="pl3")])),
    ("BE-ramEnhanced", dict(backend_node_groups=[backend(spec_type="ramEnhanced")])),
    ("BE-networkEnhanced", dict(backend_node_groups=[backend(spec_type="networkEnhanced")])),
    ("BE-localSSD", dict(backend_node_groups=[backend(spec_type="localSSD")])),
    ("BE-bigData", dict(backend_node_groups=[backend(spec_type="bigData")])),
    ("two-BE-groups", dict(backend_node_groups=[backend(), backend(cu=16)])),
    ("observer-group", dict(observer_node_groups=[observer()])),
    ("Tags-20", dict(tags=tags(20))),
    ("Tag-key-128-chars", dict(tags=one_tag("k" * 128))),
    ("no-tags-no-vswitches", dict(tags=None, v_switches=None)),
    ("Encrypted-with-KmsKeyId", dict(encrypted=True, kms_key_id="key-123")),
    ("ClientToken-64-chars", dict(client_token="t" * 64)),
]


@pytest.mark.parametrize("overrides", [c[1] for c in ACCEPTED], ids=[c[0] for c in ACCEPTED])
def test_create_accepted(client, overrides):
    try:
        resp = client.create_instance_v1(new_request(**overrides))
    except ClientException as e:
        pytest.fail(f"valid create refused: HTTP {e.status_code} {e.code}: {e.data}")
    assert_ok(resp)
    wait_status(client, resp.body.data.instance_id, "running")
    assert describe(client).total == 1
