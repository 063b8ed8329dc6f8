//! Every operation of `alibabacloud-openanalytics-open20180619` 1.0.0, as its client sends it:
//! RPC style, `POST /` (see shared/reference/sdk-operations-appendix.md §3).

use cloudtwin_aliyun::Operation;

pub static OPERATIONS: &[Operation] = &[
    Operation {
        action: "CancelSparkStatement",
        method: "POST",
        path: "/",
    },
    Operation {
        action: "CreateInstance",
        method: "POST",
        path: "/",
    },
    Operation {
        action: "ExecuteSparkStatement",
        method: "POST",
        path: "/",
    },
    Operation {
        action: "GetJobAttemptLog",
        method: "POST",
        path: "/",
    },
    Operation {
        action: "GetJobDetail",
        method: "POST",
        path: "/",
    },
    Operation {
        action: "GetJobLog",
        method: "POST",
        path: "/",
    },
    Operation {
        action: "GetJobStatus",
        method: "POST",
        path: "/",
    },
    Operation {
        action: "GetSparkSessionState",
        method: "POST",
        path: "/",
    },
    Operation {
        action: "GetSparkStatement",
        method: "POST",
        path: "/",
    },
    Operation {
        action: "KillSparkJob",
        method: "POST",
        path: "/",
    },
    Operation {
        action: "ListSparkJob",
        method: "POST",
        path: "/",
    },
    Operation {
        action: "ListSparkJobAttempt",
        method: "POST",
        path: "/",
    },
    Operation {
        action: "ListSparkStatements",
        method: "POST",
        path: "/",
    },
    Operation {
        action: "ReleaseInstance",
        method: "POST",
        path: "/",
    },
    Operation {
        action: "SubmitSparkJob",
        method: "POST",
        path: "/",
    },
    Operation {
        action: "SubmitSparkSQL",
        method: "POST",
        path: "/",
    },
    Operation {
        action: "ValidateVirtualClusterName",
        method: "POST",
        path: "/",
    },
];
