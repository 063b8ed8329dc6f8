//! Secrets never reach the disk or the wire in plain text.

mod common;

use cloudtwin_core::Lifecycle;
use common::{seed_create, start, Req, SK};

fn files_contain(dir: &std::path::Path, needle: &[u8]) -> Vec<String> {
    let mut hits = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            if bytes.windows(needle.len()).any(|w| w == needle) {
                hits.push(path.display().to_string());
            }
        }
    }
    hits
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_password_and_key_secret_are_sealed() {
    let server = start(Lifecycle::Instant).await;
    let addr = server.addr;
    let mut body = seed_create();
    body["AdminPassword"] = serde_json::json!("Unmistakable#Pw2026");
    let responses = tokio::task::spawn_blocking(move || {
        let (status, created) = Req::new("CreateInstanceV1", "/webapi/cluster/createV1")
            .json(body)
            .send(addr);
        assert_eq!(status, 200, "{created}");
        let (_, listed) =
            Req::new("DescribeInstances", "/webapi/starrocks/describeInstances").send(addr);
        let id = created["Data"]["InstanceId"].as_str().unwrap().to_string();
        let (_, groups) = Req::new("DescribeNodeGroups", "/webapi/nodegroup/describeNodeGroups")
            .query(&format!("ClusterId={id}"))
            .send(addr);
        format!("{created}{listed}{groups}")
    })
    .await
    .unwrap();
    assert!(
        !responses.contains("Unmistakable#Pw2026"),
        "password on the wire"
    );
    assert!(
        !responses.to_lowercase().contains("password"),
        "no password field at all: {responses}"
    );
    let running = server.running.unwrap();
    running.stop().await;
    let dir = server.dir.path();
    assert_eq!(
        files_contain(dir, b"Unmistakable#Pw2026"),
        Vec::<String>::new()
    );
    assert_eq!(files_contain(dir, SK.as_bytes()), Vec::<String>::new());
    let mode = std::fs::metadata(dir.join("master.key")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(mode.permissions().mode() & 0o777, 0o600);
    }
    let _ = mode;
}
