//! Every wire error body cloudtwin answers over the Huawei dialect, snapshot-tested, through
//! the real server on port 0, with SDK-HMAC-SHA256 requests signed as huaweicloudsdkcore does.

mod common;

use cloudtwin_core::Lifecycle;
use cloudtwin_huawei::project_id_for;
use cloudtwin_server::Config;
use common::huawei::{check_error, Answer, Req, AK, SK};
use serde_json::{json, Value};

const PASSWORD: &str = "wire-test-password";

/// Snapshots are named after this file, so the snapshot call stays here.
fn assert_error(name: &str, got: Answer, status: u16, code: &str, ids: &[(&str, &str)]) {
    insta::assert_json_snapshot!(name, check_error(name, got, status, code, ids));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huawei_wire_errors() {
    let dir = tempfile::tempdir().unwrap();
    let running = cloudtwin_server::start(Config {
        access_key: Some((AK.into(), SK.into())),
        ..Config::new("127.0.0.1:0", dir.path(), Lifecycle::Instant)
    })
    .await
    .unwrap();
    let addr = running.addr;
    let opened = cloudtwin_server::open(dir.path(), None).unwrap();
    opened
        .keyring
        .set_password("default", PASSWORD)
        .await
        .unwrap();
    let me = opened
        .store
        .account_by_name("default")
        .await
        .unwrap()
        .unwrap();
    let other = opened.keyring.create_account("other", None).await.unwrap();
    let mine = project_id_for(&me.id, "cn-north-4");
    let mine_east = project_id_for(&me.id, "cn-east-3");
    let theirs = project_id_for(&other.account_id, "cn-north-4");

    tokio::task::spawn_blocking(move || {
        let ids = [
            (mine.as_str(), "[my-project]"),
            (mine_east.as_str(), "[my-other-project]"),
            (theirs.as_str(), "[their-project]"),
        ];
        let ok = Req::new("GET", "/v3/projects").send(addr);
        assert_eq!(ok.status, 200, "{}", ok.body);
        assert_eq!(ok.header("x-request-id").map(str::len), Some(32));

        assert_error("unknown_path", Req::new("GET", "/v3/nothing").send(addr), 404, "APIGW.0101", &ids);
        assert_error("wrong_method", Req::new("DELETE", "/v3/projects").send(addr), 404, "APIGW.0101", &ids);
        assert_error("not_built", Req::new("GET", "/v3/regions").send(addr), 501, "APIGW.0501", &ids);
        assert_error(
            "no_credentials",
            Req::new("GET", "/v3/projects").unsigned().header("x-sdk-date", "20250102T030405Z").send(addr),
            401,
            "APIGW.0301",
            &ids,
        );
        assert_error(
            "authorization_without_signature",
            Req::new("GET", "/v3/projects")
                .header("authorization", &format!("SDK-HMAC-SHA256 Access={AK}, SignedHeaders=host;x-sdk-date"))
                .send(addr),
            401,
            "APIGW.0301",
            &ids,
        );
        assert_error(
            "date_not_signed",
            Req::new("GET", "/v3/projects")
                .header("authorization", &format!("SDK-HMAC-SHA256 Access={AK}, SignedHeaders=host, Signature=00"))
                .send(addr),
            401,
            "APIGW.0301",
            &ids,
        );
        assert_error(
            "unsupported_algorithm",
            Req::new("GET", "/v3/projects")
                .header("authorization", &format!("SDK-HMAC-SM3 Access={AK}, SignedHeaders=host;x-sdk-date, Signature=00"))
                .send(addr),
            401,
            "APIGW.0301",
            &ids,
        );
        let mut wrong_secret = Req::new("GET", "/v3/projects");
        wrong_secret.sk = "not-the-secret".into();
        assert_error("wrong_secret", wrong_secret.send(addr), 401, "APIGW.0301", &ids);
        let mut unknown_key = Req::new("GET", "/v3/projects");
        unknown_key.ak = "HPUAunknown".into();
        assert_error("unknown_access_key", unknown_key.send(addr), 401, "APIGW.0301", &ids);
        for (name, offset) in [("date_too_old", -16 * 60), ("date_too_new", 16 * 60)] {
            let mut stale = Req::new("GET", "/v3/projects");
            stale.date_offset_s = offset;
            assert_error(name, stale.send(addr), 401, "APIGW.0301", &ids);
        }
        let mut within = Req::new("GET", "/v3/projects");
        within.date_offset_s = -14 * 60;
        assert_eq!(within.send(addr).status, 200, "14 minutes of skew is accepted");
        assert_error(
            "bad_date_format",
            Req::new("GET", "/v3/projects").unsigned().header("x-sdk-date", "2025-01-02T03:04:05Z")
                .header("authorization", &format!("SDK-HMAC-SHA256 Access={AK}, SignedHeaders=host;x-sdk-date, Signature=00"))
                .send(addr),
            401,
            "APIGW.0301",
            &ids,
        );
        assert_error(
            "security_token",
            Req::new("GET", "/v3/projects").header("x-security-token", "t").send(addr),
            401,
            "APIGW.0301",
            &ids,
        );
        assert_error(
            "foreign_project_header",
            Req::new("GET", "/v3/projects").header("x-project-id", &theirs).send(addr),
            401,
            "APIGW.0301",
            &ids,
        );
        assert_error(
            "foreign_project_path",
            Req::new("GET", &format!("/v3/projects/{theirs}")).send(addr),
            403,
            "APIGW.0302",
            &ids,
        );
        assert_error(
            "unset_project_path",
            Req::new("GET", "/v3/projects/%7Bproject_id%7D").send(addr),
            403,
            "APIGW.0302",
            &ids,
        );
        assert_error(
            "path_and_header_disagree",
            Req::new("GET", &format!("/v3/projects/{mine}")).header("x-project-id", &mine_east).send(addr),
            403,
            "APIGW.0302",
            &ids,
        );
        assert_error(
            "foreign_domain_header",
            Req::new("GET", "/v3/projects").header("x-domain-id", &"0".repeat(32)).send(addr),
            401,
            "APIGW.0301",
            &ids,
        );
        assert_error(
            "bad_token",
            Req::new("GET", "/v3/projects").unsigned().header("x-auth-token", "CTW1.e30.AAAA").send(addr),
            401,
            "APIGW.0301",
            &ids,
        );

        // Tokens.
        let password_body = |password: &str, scope: Value| {
            json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {
                "name": "default", "password": password, "domain": {"name": "default"}}}}, "scope": scope}})
        };
        let issued = Req::new("POST", "/v3/auth/tokens")
            .unsigned()
            .json(password_body(PASSWORD, json!({"project": {"name": "cn-north-4"}})))
            .send(addr);
        assert_eq!(issued.status, 201, "{}", issued.body);
        let token = issued.header("x-subject-token").unwrap().to_string();
        assert_eq!(issued.body["token"]["project"]["id"], mine.as_str());
        let with_token = Req::new("GET", "/v3/auth/domains").unsigned().header("x-auth-token", &token).send(addr);
        assert_eq!(with_token.status, 200, "{}", with_token.body);
        assert_error(
            "token_scoped_elsewhere",
            Req::new("GET", &format!("/v3/projects/{mine_east}")).unsigned().header("x-auth-token", &token).send(addr),
            403,
            "APIGW.0302",
            &ids,
        );
        assert_error(
            "token_header_project_disagrees",
            Req::new("GET", "/v3/projects").unsigned().header("x-auth-token", &token)
                .header("x-project-id", &mine_east).send(addr),
            401,
            "APIGW.0301",
            &ids,
        );
        assert_error(
            "wrong_password",
            Req::new("POST", "/v3/auth/tokens").unsigned().json(password_body("nope-nope", Value::Null)).send(addr),
            401,
            "401",
            &ids,
        );
        assert_error(
            "token_scope_unknown_project",
            Req::new("POST", "/v3/auth/tokens").unsigned()
                .json(password_body(PASSWORD, json!({"project": {"id": theirs}}))).send(addr),
            401,
            "401",
            &ids,
        );
        assert_error(
            "token_without_methods",
            Req::new("POST", "/v3/auth/tokens").unsigned().json(json!({"auth": {}})).send(addr),
            400,
            "400",
            &ids,
        );
        let mut not_json = Req::new("POST", "/v3/auth/tokens").unsigned();
        not_json.body = "{not json".into();
        assert_error("token_body_not_json", not_json.send(addr), 400, "APIGW.0201", &ids);
        assert_error(
            "agency_token_not_built",
            Req::new("POST", "/v3/auth/tokens").unsigned()
                .json(json!({"auth": {"identity": {"methods": ["assume_role"]}}})).send(addr),
            501,
            "APIGW.0501",
            &ids,
        );
        // Unsigned calls elsewhere are not Huawei's: they fall to the Alibaba gateway.
        let unsigned = Req::new("GET", "/v3/projects").unsigned().send(addr);
        assert!(unsigned.body.get("Code").is_some(), "{}", unsigned.body);
    })
    .await
    .unwrap();
    running.stop().await;
}
