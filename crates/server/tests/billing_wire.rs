//! The wire error bodies of billing: StarRocks' price, renewal and charge-type calls
//! (Alibaba envelope) and Huawei BSS (`CBC.*` and 501), snapshot-tested through the real
//! server on port 0.

mod common;

use cloudtwin_core::Lifecycle;
use common::huawei::{check_error, Req as HwReq};
use common::{seed_create, start, Req};
use serde_json::{json, Value};

const CREATE: (&str, &str) = ("CreateInstanceV1", "/webapi/cluster/createV1");
const RENEW: (&str, &str) = ("RenewInstance", "/webapi/order/renew_instance");
const PRICE: (&str, &str) = ("QueryPriceV1", "/webapi/price/create");
const CHARGE: (&str, &str) = ("ModifyChargeType", "/webapi/cluster/modifyChargeType");

/// Request ids and instance ids vary between runs.
fn stable(mut body: Value, ids: &[(&str, &str)]) -> Value {
    if let Some(obj) = body.as_object_mut() {
        if obj.contains_key("RequestId") {
            obj.insert("RequestId".into(), json!("[request-id]"));
        }
        if obj.contains_key("HostId") {
            obj.insert("HostId".into(), json!("[host]"));
        }
        if let Some(Value::String(m)) = obj.get_mut("Message") {
            for (id, label) in ids {
                *m = m.replace(id, label);
            }
        }
    }
    body
}

fn assert_ali(name: &str, got: (u16, Value), status: u16, code: &str, ids: &[(&str, &str)]) {
    assert_eq!(got.0, status, "{name}: {}", got.1);
    assert_eq!(got.1["Code"], code, "{name}: {}", got.1);
    insta::assert_json_snapshot!(name, stable(got.1, ids));
}

/// A BSS request signed with the test server's key pair.
fn hw(method: &'static str, path: &str) -> HwReq {
    let mut r = HwReq::new(method, path);
    r.ak = common::AK.into();
    r.sk = common::SK.into();
    r
}

fn assert_hw(name: &str, got: common::huawei::Answer, status: u16, code: &str) {
    insta::assert_json_snapshot!(name, check_error(name, got, status, code, &[]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn billing_wire_errors() {
    let server = start(Lifecycle::Instant).await;
    let addr = server.addr;
    tokio::task::spawn_blocking(move || {
        let mut post = seed_create();
        post["PayType"] = json!("postPaid");
        let (status, created) = Req::new(CREATE.0, CREATE.1).json(post).send(addr);
        assert_eq!(status, 200, "{created}");
        let id = created["Data"]["InstanceId"].as_str().unwrap().to_owned();
        let ids = [(id.as_str(), "[instance-id]")];
        let renew = |q: &str| Req::new(RENEW.0, RENEW.1).query(q).send(addr);

        assert_ali(
            "renew_postpaid",
            renew(&format!("InstanceId={id}&PricingCycle=Month&Duration=1")),
            400,
            "IncorrectInstanceStatus",
            &ids,
        );
        assert_ali(
            "renew_without_cycle",
            renew(&format!("InstanceId={id}&Duration=1")),
            400,
            "MissingParameter",
            &ids,
        );
        assert_ali(
            "renew_duration_out_of_range",
            renew(&format!("InstanceId={id}&PricingCycle=Year&Duration=6")),
            400,
            "InvalidParams",
            &ids,
        );
        assert_ali(
            "renew_unknown_instance",
            renew("InstanceId=c-0000000000000000&PricingCycle=Month&Duration=1"),
            404,
            "InstanceNotFound",
            &ids,
        );
        assert_ali(
            "price_without_pay_type",
            Req::new(PRICE.0, PRICE.1)
                .json(json!({"RegionId": "cn-hangzhou"}))
                .send(addr),
            400,
            "MissingParameter",
            &ids,
        );
        assert_ali(
            "price_bad_cu",
            Req::new(PRICE.0, PRICE.1)
                .json(json!({"PayType": "postPaid", "BackendNodeGroups": [{"cu": 7}]}))
                .send(addr),
            400,
            "InvalidParams",
            &ids,
        );
        assert_ali(
            "charge_type_to_prepaid_without_cycle",
            Req::new(CHARGE.0, CHARGE.1)
                .query(&format!("InstanceId={id}"))
                .send(addr),
            400,
            "MissingParameter",
            &ids,
        );

        let pay = |body: Value| {
            hw("POST", "/v3/orders/customer-orders/pay")
                .json(body)
                .send(addr)
        };
        assert_hw("bss_pay_without_order", pay(json!({})), 400, "CBC.0100");
        assert_hw(
            "bss_pay_unknown_order",
            pay(json!({"order_id": "CS000000000000AAAAA"})),
            400,
            "CBC.0100",
        );
        assert_hw(
            "bss_order_details_unknown",
            hw(
                "GET",
                "/v2/orders/customer-orders/details/CS000000000000AAAAA",
            )
            .send(addr),
            400,
            "CBC.0100",
        );
        assert_hw(
            "bss_resources_without_filter",
            hw("POST", "/v2/orders/suscriptions/resources/query")
                .json(json!({"limit": 10}))
                .send(addr),
            400,
            "CBC.0100",
        );
        assert_hw(
            "bss_unsubscribe_bad_type",
            hw("POST", "/v2/orders/subscriptions/resources/unsubscribe")
                .json(json!({"resource_ids": ["x"], "unsubscribe_type": 9}))
                .send(addr),
            400,
            "CBC.0100",
        );
        assert_hw(
            "bss_autorenew_unknown_resource",
            hw(
                "POST",
                "/v2/orders/subscriptions/resources/autorenew/nothing",
            )
            .send(addr),
            400,
            "CBC.0100",
        );
        assert_hw(
            "bss_renew_bad_period",
            hw("POST", "/v2/orders/subscriptions/resources/renew")
                .json(json!({"resource_ids": ["x"], "period_type": 2, "period_num": 12}))
                .send(addr),
            400,
            "CBC.0100",
        );
        let usage = |q: &str| {
            hw("GET", "/v2/bills/customer-bills/res-fee-records")
                .query_str(q)
                .send(addr)
        };
        assert_hw("bss_usage_without_cycle", usage(""), 400, "CBC.0100");
        assert_hw(
            "bss_usage_bad_cycle",
            usage("cycle=2026-13"),
            400,
            "CBC.0100",
        );
        assert_hw(
            "bss_usage_bad_limit",
            usage("cycle=2026-11&limit=0"),
            400,
            "CBC.0100",
        );
        assert_hw(
            "bss_monthly_sum_without_cycle",
            hw("GET", "/v2/bills/customer-bills/monthly-sum").send(addr),
            400,
            "CBC.0100",
        );
        assert_hw(
            "bss_not_built",
            hw("GET", "/v2/orders/customer-orders").send(addr),
            501,
            "APIGW.0501",
        );
    })
    .await
    .unwrap();
}
