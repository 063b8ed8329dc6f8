//! Every operation of `alibabacloud-searchengine20211025` 5.2.4, as its client sends it
//! (generated from the SDK's client.py; see shared/reference/sdk-operations-appendix.md §5).
//! Path parameters are `{name}` templates, matched by the gateway.

use cloudtwin_aliyun::Operation;

pub static OPERATIONS: &[Operation] = &[
    Operation {
        action: "BuildIndex",
        method: "POST",
        path: "/openapi/ha3/instances/{instanceId}/actions/build-index",
    },
    Operation {
        action: "ChangeResourceGroup",
        method: "POST",
        path: "/openapi/ha3/instances/{instanceId}/actions/change-resource-group",
    },
    Operation {
        action: "CloneSqlInstance",
        method: "POST",
        path: "/openapi/ha3/instances/{instanceId}/sql-studio/databases/{database}/sql-instances/{sqlInstanceId}/actions/clone",
    },
    Operation {
        action: "CreateAlias",
        method: "POST",
        path: "/openapi/ha3/instances/{instanceId}/aliases",
    },
    Operation {
        action: "CreateCluster",
        method: "POST",
        path: "/openapi/ha3/instances/{instanceId}/clusters",
    },
    Operation {
        action: "CreateConfigDir",
        method: "POST",
        path: "/openapi/ha3/instances/{instanceId}/advanced-configs/{configName}/dir",
    },
    Operation {
        action: "CreateConfigFile",
        method: "POST",
        path: "/openapi/ha3/instances/{instanceId}/advanced-configs/{configName}/file",
    },
    Operation {
        action: "CreateDataSource",
        method: "POST",
        path: "/openapi/ha3/instances/{instanceId}/data-sources",
    },
    Operation {
        action: "CreateFolder",
        method: "POST",
        path: "/openapi/ha3/instances/{instanceId}/sql-studio/databases/{database}/folders",
    },
    Operation {
        action: "CreateIndex",
        method: "POST",
        path: "/openapi/ha3/instances/{instanceId}/indexes",
    },
    Operation {
        action: "CreateInstance",
        method: "POST",
        path: "/openapi/ha3/instances",
    },
    Operation {
        action: "CreateModel",
        method: "POST",
        path: "/openapi/ha3/instances/{instanceId}/models",
    },
    Operation {
        action: "CreatePublicUrl",
        method: "POST",
        path: "/openapi/ha3/instances/{instanceId}/public-url",
    },
    Operation {
        action: "CreateSqlInstance",
        method: "POST",
        path: "/openapi/ha3/instances/{instanceId}/sql-studio/databases/{database}/sql-instances",
    },
    Operation {
        action: "CreateTable",
        method: "POST",
        path: "/openapi/ha3/instances/{instanceId}/tables",
    },
    Operation {
        action: "DebugModel",
        method: "POST",
        path: "/openapi/ha3/instances/{instanceId}/models/{modelName}/actions/debug",
    },
    Operation {
        action: "DeleteAdvanceConfig",
        method: "DELETE",
        path: "/openapi/ha3/instances/{instanceId}/advanced-configs/{configName}",
    },
    Operation {
        action: "DeleteAlias",
        method: "DELETE",
        path: "/openapi/ha3/instances/{instanceId}/aliases/{alias}",
    },
    Operation {
        action: "DeleteConfigDir",
        method: "DELETE",
        path: "/openapi/ha3/instances/{instanceId}/advanced-configs/{configName}/dir",
    },
    Operation {
        action: "DeleteConfigFile",
        method: "DELETE",
        path: "/openapi/ha3/instances/{instanceId}/advanced-configs/{configName}/file",
    },
    Operation {
        action: "DeleteDataSource",
        method: "DELETE",
        path: "/openapi/ha3/instances/{instanceId}/data-sources/{dataSourceName}",
    },
    Operation {
        action: "DeleteFolder",
        method: "DELETE",
        path: "/openapi/ha3/instances/{instanceId}/sql-studio/databases/{database}/folders/{folderId}",
    },
    Operation {
        action: "DeleteIndex",
        method: "DELETE",
        path: "/openapi/ha3/instances/{instanceId}/indexes/{indexName}",
    },
    Operation {
        action: "DeleteIndexVersion",
        method: "DELETE",
        path: "/openapi/ha3/instances/{instanceId}/indexes/{indexName}/versions/{versionName}",
    },
    Operation {
        action: "DeleteInstance",
        method: "DELETE",
        path: "/openapi/ha3/instances/{instanceId}",
    },
    Operation {
        action: "DeleteModel",
        method: "DELETE",
        path: "/openapi/ha3/instances/{instanceId}/models/{modelName}",
    },
    Operation {
        action: "DeletePublicUrl",
        method: "DELETE",
        path: "/openapi/ha3/instances/{instanceId}/public-url",
    },
    Operation {
        action: "DeleteSqlInstance",
        method: "DELETE",
        path: "/openapi/ha3/instances/{instanceId}/sql-studio/databases/{database}/sql-instances/{sqlInstanceId}",
    },
    Operation {
        action: "DeleteTable",
        method: "DELETE",
        path: "/openapi/ha3/instances/{instanceId}/tables/{tableName}",
    },
    Operation {
        action: "DescribeRegions",
        method: "GET",
        path: "/openapi/ha3/regions",
    },
    Operation {
        action: "ExecuteSqlInstance",
        method: "POST",
        path: "/openapi/ha3/instances/{instanceId}/sql-studio/databases/{database}/sql-instances/{sqlInstanceId}/actions/execution",
    },
    Operation {
        action: "ForceSwitch",
        method: "PUT",
        path: "/openapi/ha3/instances/{instanceId}/force-switch/{fsmId}",
    },
    Operation {
        action: "GetAdvanceConfig",
        method: "GET",
        path: "/openapi/ha3/instances/{instanceId}/advanced-configs/{configName}",
    },
    Operation {
        action: "GetAdvanceConfigFile",
        method: "GET",
        path: "/openapi/ha3/instances/{instanceId}/advanced-configs/{configName}/file",
    },
    Operation {
        action: "GetCluster",
        method: "GET",
        path: "/openapi/ha3/instances/{instanceId}/clusters/{clusterName}",
    },
    Operation {
        action: "GetClusterRunTimeInfo",
        method: "GET",
        path: "/openapi/ha3/instances/{instanceId}/cluster-run-time-info",
    },
    Operation {
        action: "GetDataSource",
        method: "GET",
        path: "/openapi/ha3/instances/{instanceId}/data-sources/{dataSourceName}",
    },
    Operation {
        action: "GetDataSourceDeploy",
        method: "GET",
        path: "/openapi/ha3/instances/{instanceId}/data-sources/{dataSourceName}/deploys/{deployName}",
    },
    Operation {
        action: "GetDatabaseSchema",
        method: "GET",
        path: "/openapi/ha3/instances/{instanceId}/sql-studio/databases/{database}/tables/{tableName}/schema",
    },
    Operation {
        action: "GetDeployGraph",
        method: "GET",
        path: "/openapi/ha3/instances/{instanceId}/deploy-graph",
    },
    Operation {
        action: "GetFile",
        method: "GET",
        path: "/openapi/ha3/instances/{instanceId}/indexes/{indexName}/versions/{versionName}/file",
    },
    Operation {
        action: "GetIndex",
        method: "GET",
        path: "/openapi/ha3/instances/{instanceId}/indexes/{indexName}",
    },
    Operation {
        action: "GetIndexOnlineStrategy",
        method: "GET",
        path: "/openapi/ha3/instances/{instanceId}/data-sources/{dataSourceName}/deploys/{deployName}/indexes/{indexName}/online-strategy",
    },
    Operation {
        action: "GetIndexVersion",
        method: "GET",
        path: "/openapi/ha3/instances/{instanceId}/clusters/{clusterName}/index-version",
    },
    Operation {
        action: "GetInstance",
        method: "GET",
        path: "/openapi/ha3/instances/{instanceId}",
    },
    Operation {
        action: "GetModel",
        method: "GET",
        path: "/openapi/ha3/instances/{instanceId}/models/{modelName}",
    },
    Operation {
        action: "GetNodeConfig",
        method: "GET",
        path: "/openapi/ha3/instances/{instanceId}/node-config",
    },
    Operation {
        action: "GetSqlInstance",
        method: "GET",
        path: "/openapi/ha3/instances/{instanceId}/sql-studio/databases/{database}/sql-instances/{sqlInstanceId}",
    },
    Operation {
        action: "GetTable",
        method: "GET",
        path: "/openapi/ha3/instances/{instanceId}/tables/{tableName}",
    },
    Operation {
        action: "GetTableGeneration",
        method: "GET",
        path: "/openapi/ha3/instances/{instanceId}/tables/{tableName}/index_versions/{generationId}",
    },
    Operation {
        action: "ListAdvanceConfigDir",
        method: "GET",
        path: "/openapi/ha3/instances/{instanceId}/advanced-configs/{configName}/dir",
    },
    Operation {
        action: "ListAdvanceConfigs",
        method: "GET",
        path: "/openapi/ha3/instances/{instanceId}/advanced-configs",
    },
    Operation {
        action: "ListAliases",
        method: "GET",
        path: "/openapi/ha3/instances/{instanceId}/aliases",
    },
    Operation {
        action: "ListClusterNames",
        method: "GET",
        path: "/openapi/ha3/cluster-names",
    },
    Operation {
        action: "ListClusterTasks",
        method: "GET",
        path: "/openapi/ha3/instances/{instanceId}/cluster-tasks",
    },
    Operation {
        action: "ListClusters",
        method: "GET",
        path: "/openapi/ha3/instances/{instanceId}/clusters",
    },
    Operation {
        action: "ListDataSourceSchemas",
        method: "GET",
        path: "/openapi/ha3/instances/{instanceId}/data-sources/{dataSourceName}/schemas",
    },
    Operation {
        action: "ListDataSourceTasks",
        method: "GET",
        path: "/openapi/ha3/instances/{instanceId}/data-source-tasks",
    },
    Operation {
        action: "ListDataSources",
        method: "GET",
        path: "/openapi/ha3/instances/{instanceId}/data-sources",
    },
    Operation {
        action: "ListDatabases",
        method: "GET",
        path: "/openapi/ha3/instances/{instanceId}/sql-studio/databases",
    },
    Operation {
        action: "ListDateSourceGenerations",
        method: "GET",
        path: "/openapi/ha3/instances/{instanceId}/data-sources/{dataSourceName}/generations",
    },
    Operation {
        action: "ListIndexRecoverRecords",
        method: "GET",
        path: "/openapi/ha3/instances/{instanceId}/indexes/{indexName}/actions/list-recover-records",
    },
    Operation {
        action: "ListIndexes",
        method: "GET",
        path: "/openapi/ha3/instances/{instanceId}/indexes",
    },
    Operation {
        action: "ListInstanceSpecs",
        method: "GET",
        path: "/openapi/ha3/instances/{instanceId}/specs",
    },
    Operation {
        action: "ListInstances",
        method: "GET",
        path: "/openapi/ha3/instances",
    },
    Operation {
        action: "ListLogs",
        method: "GET",
        path: "/openapi/ha3/instances/{instanceId}/logs",
    },
    Operation {
        action: "ListModels",
        method: "GET",
        path: "/openapi/ha3/instances/{instanceId}/models",
    },
    Operation {
        action: "ListOnlineConfigs",
        method: "GET",
        path: "/openapi/ha3/instances/{instanceId}/node/{nodeName}/online-configs",
    },
    Operation {
        action: "ListPausePolicys",
        method: "GET",
        path: "/openapi/ha3/instances/{instanceId}/pause-policies",
    },
    Operation {
        action: "ListPostQueryResult",
        method: "POST",
        path: "/openapi/ha3/instances/{instanceId}/query",
    },
    Operation {
        action: "ListQueryResult",
        method: "GET",
        path: "/openapi/ha3/instances/{instanceId}/query",
    },
    Operation {
        action: "ListRestQueryResult",
        method: "POST",
        path: "/openapi/ha3/instances/{instanceId}/rest-query",
    },
    Operation {
        action: "ListSchemas",
        method: "GET",
        path: "/openapi/ha3/instances/{instanceId}/schemas",
    },
    Operation {
        action: "ListTableGenerations",
        method: "GET",
        path: "/openapi/ha3/instances/{instanceId}/tables/{tableName}/index_versions",
    },
    Operation {
        action: "ListTables",
        method: "GET",
        path: "/openapi/ha3/instances/{instanceId}/tables",
    },
    Operation {
        action: "ListTagResources",
        method: "GET",
        path: "/openapi/ha3/resource-tags",
    },
    Operation {
        action: "ListTasks",
        method: "GET",
        path: "/openapi/ha3/instances/{instanceId}/tasks",
    },
    Operation {
        action: "ListVectorQueryResult",
        method: "POST",
        path: "/openapi/ha3/instances/{instanceId}/vector-query",
    },
    Operation {
        action: "ModifyAdvanceConfig",
        method: "PUT",
        path: "/openapi/ha3/instances/{instanceId}/advanced-configs/{configName}",
    },
    Operation {
        action: "ModifyAdvanceConfigFile",
        method: "PUT",
        path: "/openapi/ha3/instances/{instanceId}/advanced-configs/{configName}/file",
    },
    Operation {
        action: "ModifyAlias",
        method: "PUT",
        path: "/openapi/ha3/instances/{instanceId}/aliases/{alias}",
    },
    Operation {
        action: "ModifyClusterDesc",
        method: "PUT",
        path: "/openapi/ha3/instances/{instanceId}/clusters/{clusterName}/desc",
    },
    Operation {
        action: "ModifyClusterOfflineConfig",
        method: "PUT",
        path: "/openapi/ha3/instances/{instanceId}/cluster-offline-config",
    },
    Operation {
        action: "ModifyClusterOnlineConfig",
        method: "PUT",
        path: "/openapi/ha3/instances/{instanceId}/cluster-online-config",
    },
    Operation {
        action: "ModifyDataSourceDeploy",
        method: "PUT",
        path: "/openapi/ha3/instances/{instanceId}/data-sources/{dataSourceName}/deploys/{deployName}",
    },
    Operation {
        action: "ModifyFile",
        method: "PUT",
        path: "/openapi/ha3/instances/{instanceId}/indexes/{indexName}/versions/{versionName}/file",
    },
    Operation {
        action: "ModifyIndex",
        method: "PUT",
        path: "/openapi/ha3/instances/{instanceId}/indexes/{indexName}",
    },
    Operation {
        action: "ModifyIndexOnlineStrategy",
        method: "PUT",
        path: "/openapi/ha3/instances/{instanceId}/data-sources/{dataSourceName}/deploys/{deployName}/indexes/{indexName}/online-strategy",
    },
    Operation {
        action: "ModifyIndexPartition",
        method: "PUT",
        path: "/openapi/ha3/instances/{instanceId}/index-partition",
    },
    Operation {
        action: "ModifyIndexVersion",
        method: "PUT",
        path: "/openapi/ha3/instances/{instanceId}/clusters/{clusterName}/index-version",
    },
    Operation {
        action: "ModifyModel",
        method: "PUT",
        path: "/openapi/ha3/instances/{instanceId}/models/{modelName}",
    },
    Operation {
        action: "ModifyNodeConfig",
        method: "PUT",
        path: "/openapi/ha3/instances/{instanceId}/node-config",
    },
    Operation {
        action: "ModifyOnlineConfig",
        method: "PUT",
        path: "/openapi/ha3/instances/{instanceId}/node/{nodeName}/online-configs/{indexName}",
    },
    Operation {
        action: "ModifyPassword",
        method: "PUT",
        path: "/openapi/ha3/instances/{instanceId}/password",
    },
    Operation {
        action: "ModifyPausePolicy",
        method: "PUT",
        path: "/openapi/ha3/instances/{instanceId}/pause-policies",
    },
    Operation {
        action: "ModifyPublicUrlIpList",
        method: "PUT",
        path: "/openapi/ha3/instances/{instanceId}/public-url-ip-list",
    },
    Operation {
        action: "ModifySearcherReplica",
        method: "PUT",
        path: "/openapi/ha3/instances/{instanceId}/replica",
    },
    Operation {
        action: "ModifyTable",
        method: "PUT",
        path: "/openapi/ha3/instances/{instanceId}/tables/{tableName}",
    },
    Operation {
        action: "PublishAdvanceConfig",
        method: "POST",
        path: "/openapi/ha3/instances/{instanceId}/advanced-configs/{configName}/actions/publish",
    },
    Operation {
        action: "PublishIndexVersion",
        method: "POST",
        path: "/openapi/ha3/instances/{instanceId}/indexes/{indexName}/actions/publish",
    },
    Operation {
        action: "PushDocuments",
        method: "POST",
        path: "/openapi/ha3/instances/{instanceId}/data-sources/{dataSourceName}/actions/bulk",
    },
    Operation {
        action: "RecoverIndex",
        method: "POST",
        path: "/openapi/ha3/instances/{instanceId}/recover-index",
    },
    Operation {
        action: "Reindex",
        method: "POST",
        path: "/openapi/ha3/instances/{instanceId}/tables/{tableName}/reindex",
    },
    Operation {
        action: "RemoveCluster",
        method: "DELETE",
        path: "/openapi/ha3/instances/{instanceId}/clusters/{clusterName}",
    },
    Operation {
        action: "RenameFolder",
        method: "PUT",
        path: "/openapi/ha3/instances/{instanceId}/sql-studio/databases/{database}/folders/{folderId}/name",
    },
    Operation {
        action: "StartIndex",
        method: "POST",
        path: "/openapi/ha3/instances/{instanceId}/indexes/{indexName}/startIndex",
    },
    Operation {
        action: "StopIndex",
        method: "POST",
        path: "/openapi/ha3/instances/{instanceId}/indexes/{indexName}/stopIndex",
    },
    Operation {
        action: "StopTask",
        method: "PUT",
        path: "/openapi/ha3/instances/{instanceId}/stop-task/{fsmId}",
    },
    Operation {
        action: "TagResources",
        method: "POST",
        path: "/openapi/ha3/resource-tags",
    },
    Operation {
        action: "UntagResources",
        method: "DELETE",
        path: "/openapi/ha3/resource-tags",
    },
    Operation {
        action: "UpdateInstance",
        method: "PUT",
        path: "/openapi/ha3/instances/{instanceId}",
    },
    Operation {
        action: "UpdateSqlInstanceContent",
        method: "PUT",
        path: "/openapi/ha3/instances/{instanceId}/sql-studio/databases/{database}/sql-instances/{sqlInstanceId}/content",
    },
    Operation {
        action: "UpdateSqlInstanceName",
        method: "PUT",
        path: "/openapi/ha3/instances/{instanceId}/sql-studio/databases/{database}/sql-instances/{sqlInstanceId}/name",
    },
    Operation {
        action: "UpdateSqlInstanceParams",
        method: "PUT",
        path: "/openapi/ha3/instances/{instanceId}/sql-studio/databases/{database}/sql-instances/{sqlInstanceId}/params",
    },
];
