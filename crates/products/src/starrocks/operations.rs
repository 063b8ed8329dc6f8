//! Every operation of `alibabacloud-starrocks20221019` 1.6.5, as its client sends it
//! (generated from the SDK's client.py; see shared/reference/sdk-operations-appendix.md).

use cloudtwin_aliyun::Operation;

pub static OPERATIONS: &[Operation] = &[
    Operation {
        action: "AddBackupPolicy",
        method: "POST",
        path: "/webapi/backupRestore/policy/add",
    },
    Operation {
        action: "AddGateway",
        method: "POST",
        path: "/webapi/gateway/add",
    },
    Operation {
        action: "ChangeResourceGroup",
        method: "POST",
        path: "/webapi/resourceGroup/change",
    },
    Operation {
        action: "CheckInventory",
        method: "POST",
        path: "/webapi/check/inventory",
    },
    Operation {
        action: "CreateAgentResource",
        method: "POST",
        path: "/webapi/lifecycle/createAgentNodeGroup",
    },
    Operation {
        action: "CreateInstanceV1",
        method: "POST",
        path: "/webapi/cluster/createV1",
    },
    Operation {
        action: "CreateScalingRule",
        method: "POST",
        path: "/webapi/scalingRule/createScalingRule",
    },
    Operation {
        action: "CreateServiceLinkedRole",
        method: "POST",
        path: "/webapi/user/create_default_role",
    },
    Operation {
        action: "DeleteBackup",
        method: "POST",
        path: "/webapi/backup/manage/delete",
    },
    Operation {
        action: "DeleteBackupPolicy",
        method: "POST",
        path: "/webapi/backupRestore/policy/delete",
    },
    Operation {
        action: "DeleteGateway",
        method: "POST",
        path: "/webapi/gateway/delete",
    },
    Operation {
        action: "DeleteInnerIpWhitelistGroup",
        method: "POST",
        path: "/webapi/securityGroup/delete",
    },
    Operation {
        action: "DeleteScalingRule",
        method: "POST",
        path: "/webapi/scalingRule/deleteScalingRule",
    },
    Operation {
        action: "DescribeAvailableZones",
        method: "POST",
        path: "/webapi/zone/describeZones",
    },
    Operation {
        action: "DescribeBackupPolicies",
        method: "POST",
        path: "/webapi/backupRestore/policy/describe",
    },
    Operation {
        action: "DescribeBackups",
        method: "POST",
        path: "/webapi/backup/manage/describe",
    },
    Operation {
        action: "DescribeConfigHistory",
        method: "POST",
        path: "/webapi/config/describeConfigHistory",
    },
    Operation {
        action: "DescribeEventNames",
        method: "POST",
        path: "/webapi/event/describeEventNames",
    },
    Operation {
        action: "DescribeInnerIpWhitelistGroups",
        method: "POST",
        path: "/webapi/securityGroup/list",
    },
    Operation {
        action: "DescribeInstanceConfigs",
        method: "POST",
        path: "/webapi/config/describeInstanceConfigs",
    },
    Operation {
        action: "DescribeInstanceDiagnosisResult",
        method: "POST",
        path: "/webapi/diagnosis/describe",
    },
    Operation {
        action: "DescribeInstanceMetaToken",
        method: "POST",
        path: "/webapi/migration/getMetaToken",
    },
    Operation {
        action: "DescribeInstances",
        method: "POST",
        path: "/webapi/starrocks/describeInstances",
    },
    Operation {
        action: "DescribeNodeGroups",
        method: "POST",
        path: "/webapi/nodegroup/describeNodeGroups",
    },
    Operation {
        action: "DescribeRegions",
        method: "POST",
        path: "/webapi/region/list",
    },
    Operation {
        action: "DescribeResourceConstraints",
        method: "GET",
        path: "/webapi/starrocks/describeResourceConstraints",
    },
    Operation {
        action: "DescribeSystemTimezone",
        method: "POST",
        path: "/webapi/timezone/query",
    },
    Operation {
        action: "DescribeTimeTriggerScalingRules",
        method: "POST",
        path: "/webapi/scalingRule/describeTimeTriggerScalingRules",
    },
    Operation {
        action: "DisableSSLConnection",
        method: "POST",
        path: "/webapi/starrocks/disableSSLConnection",
    },
    Operation {
        action: "EnableInternalSlb",
        method: "POST",
        path: "/webapi/gateway/enableInternalSlb",
    },
    Operation {
        action: "EnableMultiAz",
        method: "POST",
        path: "/webapi/lifecycle/enableMultiAz",
    },
    Operation {
        action: "EnableSSLConnection",
        method: "POST",
        path: "/webapi/starrocks/enableSSLConnection",
    },
    Operation {
        action: "GetInstanceFeatureGate",
        method: "POST",
        path: "/webapi/features/featureGate",
    },
    Operation {
        action: "GetNodeGroupFeatureGate",
        method: "POST",
        path: "/webapi/features/nodeGroupFeatureGate",
    },
    Operation {
        action: "IsolateLeader",
        method: "POST",
        path: "/webapi/gateway/isolateLeader",
    },
    Operation {
        action: "ListGateway",
        method: "POST",
        path: "/webapi/gateway/list",
    },
    Operation {
        action: "ListOperationActivity",
        method: "POST",
        path: "/webapi/operation/listOperationActivity",
    },
    Operation {
        action: "ListOperationHistory",
        method: "POST",
        path: "/webapi/operation/listOperationHistory",
    },
    Operation {
        action: "ListSSLDetails",
        method: "POST",
        path: "/webapi/starrocks/listSSLDetails",
    },
    Operation {
        action: "ModifyChargeType",
        method: "POST",
        path: "/webapi/cluster/modifyChargeType",
    },
    Operation {
        action: "ModifyCu",
        method: "POST",
        path: "/webapi/resourceChange/modifyCu",
    },
    Operation {
        action: "ModifyCuPreCheck",
        method: "POST",
        path: "/webapi/resourceChange/modifyCuPreCheck",
    },
    Operation {
        action: "ModifyDiskNumber",
        method: "POST",
        path: "/webapi/resourceChange/modifyDiskNumber",
    },
    Operation {
        action: "ModifyDiskPerformanceLevel",
        method: "POST",
        path: "/webapi/resourceChange/modifyDiskPerformanceLevel",
    },
    Operation {
        action: "ModifyDiskSize",
        method: "POST",
        path: "/webapi/resourceChange/modifyDiskSize",
    },
    Operation {
        action: "ModifyDiskType",
        method: "POST",
        path: "/webapi/resourceChange/modifyDiskType",
    },
    Operation {
        action: "ModifyHostAlias",
        method: "POST",
        path: "/webapi/network/modifyHostAlias",
    },
    Operation {
        action: "ModifyInstanceConfig",
        method: "POST",
        path: "/webapi/config/modifyInstanceConfig",
    },
    Operation {
        action: "ModifyInstanceConfigPreCheck",
        method: "POST",
        path: "/webapi/config/modifyInstanceConfigPreCheck",
    },
    Operation {
        action: "ModifyMaintainableTime",
        method: "POST",
        path: "/webapi/starrocks/modifyMaintainableTime",
    },
    Operation {
        action: "ModifyNodeNumber",
        method: "POST",
        path: "/webapi/resourceChange/modifyNodeNumber",
    },
    Operation {
        action: "ModifyNodeNumberPreCheck",
        method: "POST",
        path: "/webapi/resourceChange/modifyNodeNumberPreCheck",
    },
    Operation {
        action: "ModifyScalingRule",
        method: "POST",
        path: "/webapi/scalingRule/modifyScalingRule",
    },
    Operation {
        action: "ModifySpecType",
        method: "POST",
        path: "/webapi/resourceChange/modifySpecType",
    },
    Operation {
        action: "ModifySpecTypePreCheck",
        method: "POST",
        path: "/webapi/resourceChange/modifySpecTypePreCheck",
    },
    Operation {
        action: "ModifyUserPassword",
        method: "POST",
        path: "/webapi/password/modify",
    },
    Operation {
        action: "QueryEnableMultiAzPrice",
        method: "POST",
        path: "/webapi/priceInquiry/enableMultiAz",
    },
    Operation {
        action: "QueryMinorVersion",
        method: "POST",
        path: "/webapi/starrocks/queryAppDefineVersion",
    },
    Operation {
        action: "QueryModifyChargeTypePrice",
        method: "POST",
        path: "/webapi/buy/query_modify_charge_type_price",
    },
    Operation {
        action: "QueryModifyCuPrice",
        method: "POST",
        path: "/webapi/priceInquiry/modifyCu",
    },
    Operation {
        action: "QueryModifyDiskNumberPrice",
        method: "POST",
        path: "/webapi/priceInquiry/modifyDiskNumber",
    },
    Operation {
        action: "QueryModifyDiskPerformanceLevelPrice",
        method: "POST",
        path: "/webapi/priceInquiry/modifyDiskPerformanceLevel",
    },
    Operation {
        action: "QueryModifyDiskSizePrice",
        method: "POST",
        path: "/webapi/priceInquiry/modifyDiskSize",
    },
    Operation {
        action: "QueryModifyDiskTypePrice",
        method: "POST",
        path: "/webapi/priceInquiry/modifyDiskType",
    },
    Operation {
        action: "QueryModifyNodeNumberPrice",
        method: "POST",
        path: "/webapi/priceInquiry/modifyNodeNumber",
    },
    Operation {
        action: "QueryModifySpecTypePrice",
        method: "POST",
        path: "/webapi/priceInquiry/modifySpecType",
    },
    Operation {
        action: "QueryPriceV1",
        method: "POST",
        path: "/webapi/price/create",
    },
    Operation {
        action: "QueryRefundPrice",
        method: "POST",
        path: "/webapi/buy/queryRefundPrice",
    },
    Operation {
        action: "QueryRenewPrice",
        method: "POST",
        path: "/webapi/price/renew",
    },
    Operation {
        action: "QueryUnpaidOrder",
        method: "POST",
        path: "/webapi/order/queryUnpaidOrder",
    },
    Operation {
        action: "QueryUpgradableVersions",
        method: "POST",
        path: "/webapi/starrocks/queryUpgradableVersions",
    },
    Operation {
        action: "RebootECS",
        method: "POST",
        path: "/webapi/event/rebootEcs",
    },
    Operation {
        action: "ReleaseInstance",
        method: "POST",
        path: "/webapi/cluster/release",
    },
    Operation {
        action: "RenewInstance",
        method: "POST",
        path: "/webapi/order/renew_instance",
    },
    Operation {
        action: "RestartInstance",
        method: "POST",
        path: "/webapi/starrocks/restartCluster",
    },
    Operation {
        action: "RestartNodeGroup",
        method: "POST",
        path: "/webapi/nodegroup/restart",
    },
    Operation {
        action: "RestartNodes",
        method: "POST",
        path: "/webapi/restart/restart",
    },
    Operation {
        action: "RestoreInstance",
        method: "POST",
        path: "/webapi/restore/restoreInstance",
    },
    Operation {
        action: "ResumeInstance",
        method: "POST",
        path: "/webapi/lifecycle/resumeInstance",
    },
    Operation {
        action: "RollbackConfigModification",
        method: "POST",
        path: "/webapi/config/rollbackConfigModification",
    },
    Operation {
        action: "SwitchActiveStandbyZones",
        method: "POST",
        path: "/webapi/recovery/switchZones",
    },
    Operation {
        action: "TagResources",
        method: "POST",
        path: "/webapi/tags",
    },
    Operation {
        action: "ToggleAutoMinorVersionUpgrade",
        method: "POST",
        path: "/webapi/starrocks/toggleAutoMinorVersionUpgrade",
    },
    Operation {
        action: "TogglePublicSlb",
        method: "POST",
        path: "/webapi/gateway/togglePublicSlb",
    },
    Operation {
        action: "UnTagResources",
        method: "DELETE",
        path: "/webapi/tags",
    },
    Operation {
        action: "UpdateBackup",
        method: "POST",
        path: "/webapi/backup/manage/update",
    },
    Operation {
        action: "UpdateBackupPolicy",
        method: "POST",
        path: "/webapi/backupRestore/policy/update",
    },
    Operation {
        action: "UpdateGateway",
        method: "POST",
        path: "/webapi/gateway/update",
    },
    Operation {
        action: "UpdateInnerIpWhitelistGroup",
        method: "POST",
        path: "/webapi/securityGroup/update",
    },
    Operation {
        action: "UpdateInstanceName",
        method: "POST",
        path: "/webapi/cluster/update_name",
    },
    Operation {
        action: "UpdateNodeGroupDescription",
        method: "POST",
        path: "/webapi/nodegroup/updateDescription",
    },
    Operation {
        action: "UpdatePublicNetworkStatus",
        method: "POST",
        path: "/webapi/network/updatePublicNetworkStatus",
    },
    Operation {
        action: "UpgradeVersion",
        method: "POST",
        path: "/webapi/starrocks/upgradeVersion",
    },
];
