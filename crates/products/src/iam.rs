//! Huawei Cloud IAM (Keystone v3), the part SDKs and Terraform call before anything else:
//! the account's projects (one per region; how `huaweicloudsdkcore` finds a project id for
//! `with_region(...)`), its domain, and password tokens for `X-Auth-Token`.
//!
//! Served: KeystoneListProjects, KeystoneListAuthProjects, KeystoneShowProject,
//! KeystoneListAuthDomains, KeystoneCreateUserTokenByPassword, KeystoneValidateToken.
//! Every other operation of huaweicloudsdkiam answers 501.
//!
//! Each account has one IAM user, named like the account (and its domain), whose password
//! `cloudtwin accounts password NAME` sets; only a PBKDF2 hash of it is stored.

use async_trait::async_trait;
use cloudtwin_core::{Account, Caller};
use cloudtwin_huawei::password::{unmatchable_hash, verify_password};
use cloudtwin_huawei::tokens::iso_ms;
use cloudtwin_huawei::{
    project_id_for, user_id_for, Call, HuaweiApi, HwError, Regions, Reply, Route, TokenClaims,
    TokenKey, TOKEN_TTL_MS,
};
use serde_json::{json, Value};

use crate::Context;

/// Where links in IAM answers point (IAM's global endpoint).
const IAM_BASE: &str = "https://iam.myhuaweicloud.com";
const WRONG_CREDENTIALS: &str = "The username or password is wrong.";

pub struct Iam {
    ctx: Context,
    tokens: TokenKey,
    regions: Regions,
    /// Verified against when the user does not exist, so timing does not tell.
    dummy_hash: String,
}

impl Iam {
    pub fn new(ctx: Context) -> Self {
        let tokens = TokenKey::derive(&ctx.master_key);
        Self {
            ctx,
            tokens,
            regions: Regions::embedded(),
            dummy_hash: unmatchable_hash(),
        }
    }

    async fn account(&self, caller: &Caller) -> Result<Account, HwError> {
        self.ctx
            .store
            .account(&caller.account_id)
            .await
            .map_err(crate::hw_store_error)?
            .ok_or_else(|| {
                HwError::unauthenticated("the account of this credential no longer exists")
            })
    }

    /// The caller's account, with `X-Domain-Id` (sent by GlobalCredentials) checked.
    async fn caller_account(&self, call: &Call<'_>) -> Result<Account, HwError> {
        let account = self.account(call.caller()?).await?;
        if let Some(d) = call
            .header("x-domain-id")
            .map(str::trim)
            .filter(|d| !d.is_empty())
        {
            if d != account.domain_id {
                return Err(HwError::unauthenticated(
                    "the domain in X-Domain-Id is not the signing account's",
                ));
            }
        }
        Ok(account)
    }

    fn project_json(&self, account: &Account, region: &str) -> Value {
        let id = project_id_for(&account.id, region);
        json!({
            "id": id,
            "name": region,
            "domain_id": account.domain_id,
            "parent_id": account.domain_id,
            "is_domain": false,
            "enabled": true,
            "description": "",
            "links": {"self": format!("{IAM_BASE}/v3/projects/{id}")},
        })
    }

    fn projects(&self, account: &Account, call: &Call<'_>) -> Result<Vec<Value>, HwError> {
        let name = call.query("name");
        let mut out: Vec<Value> = self
            .regions
            .regions
            .iter()
            .filter(|r| name.is_none_or(|n| n == r.id))
            .map(|r| self.project_json(account, &r.id))
            .collect();
        let matches = |field: &str, want: Option<&str>, v: &Value| {
            want.is_none_or(|w| v[field].as_str() == Some(w))
        };
        let (domain, parent) = (call.query("domain_id"), call.query("parent_id"));
        out.retain(|p| matches("domain_id", domain, p) && matches("parent_id", parent, p));
        for (field, value) in [
            ("enabled", call.query("enabled")),
            ("is_domain", call.query("is_domain")),
        ] {
            if let Some(v) = value {
                let want = parse_bool(field, v)?;
                out.retain(|p| p[field].as_bool() == Some(want));
            }
        }
        let page = positive(call.query("page"), "page", 1, i64::MAX)?;
        let per_page = positive(call.query("per_page"), "per_page", 5000, 5000)?;
        if call.query("page").is_some() || call.query("per_page").is_some() {
            let skip = ((page - 1).saturating_mul(per_page)) as usize;
            out = out.into_iter().skip(skip).take(per_page as usize).collect();
        }
        Ok(out)
    }

    fn token_body(&self, account: &Account, claims: &TokenClaims) -> Value {
        let domain = json!({"id": account.domain_id, "name": account.name});
        let mut token = json!({
            "methods": claims.methods,
            "expires_at": iso_ms(claims.expires_ms),
            "issued_at": iso_ms(claims.issued_ms),
            "user": {
                "domain": domain,
                "id": claims.user_id,
                "name": account.name,
                "password_expires_at": "",
            },
            "roles": [{"id": "0", "name": "te_admin"}],
            "catalog": [],
        });
        match claims.project_id.as_deref() {
            Some(pid) => {
                let name = self
                    .regions
                    .region_of_project(&account.id, pid)
                    .map(|r| r.id.clone())
                    .unwrap_or_default();
                token["project"] = json!({"domain": domain, "id": pid, "name": name});
            }
            None => token["domain"] = domain,
        }
        token
    }

    async fn create_token(&self, call: &Call<'_>) -> Result<Reply, HwError> {
        let body = call.json()?;
        let auth = &body["auth"];
        let identity = &auth["identity"];
        let methods: Vec<&str> = identity["methods"]
            .as_array()
            .map(|m| m.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if methods.is_empty() {
            return Err(bad_body("auth.identity.methods is required"));
        }
        if methods != ["password"] {
            let op = if methods.contains(&"assume_role") {
                "KeystoneCreateAgencyToken"
            } else {
                "KeystoneCreateUserTokenByPasswordAndMfa"
            };
            return Err(HwError::not_implemented(op));
        }
        let user = &identity["password"]["user"];
        let (Some(name), Some(password)) = (user["name"].as_str(), user["password"].as_str())
        else {
            return Err(bad_body(
                "auth.identity.password.user needs name and password",
            ));
        };
        let domain = &user["domain"];
        let account = match (domain["name"].as_str(), domain["id"].as_str()) {
            (Some(n), _) => self.ctx.store.account_by_name(n).await,
            (None, Some(id)) => self
                .ctx
                .store
                .accounts()
                .await
                .map(|all| all.into_iter().find(|a| a.domain_id == id)),
            (None, None) => {
                return Err(bad_body(
                    "auth.identity.password.user.domain needs name or id",
                ))
            }
        }
        .map_err(crate::hw_store_error)?
        .filter(|a| a.name == name);
        let stored = match &account {
            Some(a) => self
                .ctx
                .store
                .iam_password(&a.id)
                .await
                .map_err(crate::hw_store_error)?
                .map(|p| p.hash),
            None => None,
        };
        let known = stored.is_some();
        let hash = stored.unwrap_or_else(|| self.dummy_hash.clone());
        let password = password.to_owned();
        let matches = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
            .await
            .map_err(HwError::internal)?;
        let account = match account {
            Some(a) if known && matches => a,
            _ => return Err(HwError::keystone(401, "Unauthorized", WRONG_CREDENTIALS)),
        };
        let project_id = self.scope_project(&account, &auth["scope"])?;
        let now = self.ctx.clock.now_ms();
        let claims = TokenClaims {
            account_id: account.id.clone(),
            user_id: user_id_for(&account.id),
            project_id,
            methods: vec!["password".into()],
            issued_ms: now,
            expires_ms: now + TOKEN_TTL_MS,
        };
        let token = self.tokens.issue(&claims);
        Ok(
            Reply::created(json!({"token": self.token_body(&account, &claims)}))
                .header("x-subject-token", token),
        )
    }

    /// The project a token request asks to be scoped to (`None`: domain-scoped/unscoped).
    fn scope_project(&self, account: &Account, scope: &Value) -> Result<Option<String>, HwError> {
        let unauthorized = |what: &str| {
            HwError::keystone(
                401,
                "Unauthorized",
                format!("The {what} in the scope is not one of this account's."),
            )
        };
        if let Some(project) = scope.get("project").filter(|p| p.is_object()) {
            let region = match (project["id"].as_str(), project["name"].as_str()) {
                (Some(id), _) => self.regions.region_of_project(&account.id, id),
                (None, Some(name)) => self.regions.get(name),
                (None, None) => return Err(bad_body("auth.scope.project needs id or name")),
            };
            let region = region.ok_or_else(|| unauthorized("project"))?;
            return Ok(Some(project_id_for(&account.id, &region.id)));
        }
        if let Some(domain) = scope.get("domain").filter(|d| d.is_object()) {
            let ok = match (domain["id"].as_str(), domain["name"].as_str()) {
                (Some(id), _) => id == account.domain_id,
                (None, Some(name)) => name == account.name,
                (None, None) => return Err(bad_body("auth.scope.domain needs id or name")),
            };
            if !ok {
                return Err(unauthorized("domain"));
            }
        }
        Ok(None)
    }

    async fn validate_token(&self, call: &Call<'_>, account: &Account) -> Result<Reply, HwError> {
        let subject = call
            .header("x-subject-token")
            .ok_or_else(|| bad_body("the X-Subject-Token header is required"))?;
        let not_found = || HwError::keystone(404, "Not Found", "Could not find token.");
        let claims = self
            .tokens
            .verify(subject, self.ctx.clock.now_ms())
            .map_err(|_| not_found())?;
        if claims.account_id != account.id {
            return Err(not_found());
        }
        Ok(
            Reply::ok(json!({"token": self.token_body(account, &claims)}))
                .header("x-subject-token", subject),
        )
    }
}

fn bad_body(message: &str) -> HwError {
    HwError::keystone(400, "Bad Request", format!("Invalid request: {message}"))
}

fn parse_bool(field: &str, v: &str) -> Result<bool, HwError> {
    match v {
        "true" | "True" => Ok(true),
        "false" | "False" => Ok(false),
        _ => Err(HwError::keystone(
            400,
            "Bad Request",
            format!("Invalid input for field '{field}': {v:?} is not a boolean."),
        )),
    }
}

fn positive(v: Option<&str>, field: &str, default: i64, max: i64) -> Result<i64, HwError> {
    let Some(v) = v else { return Ok(default) };
    v.parse::<i64>()
        .ok()
        .filter(|n| (1..=max).contains(n))
        .ok_or_else(|| {
            HwError::keystone(
                400,
                "Bad Request",
                format!(
                    "Invalid input for field '{field}': {v:?} must be an integer from 1 to {max}."
                ),
            )
        })
}

#[async_trait]
impl HuaweiApi for Iam {
    fn service(&self) -> &'static str {
        "iam"
    }

    fn routes(&self) -> &'static [Route] {
        ROUTES
    }

    async fn call(&self, call: Call<'_>) -> Result<Reply, HwError> {
        let op = call.route.operation;
        if op == "KeystoneCreateUserTokenByPassword" {
            return self.create_token(&call).await;
        }
        let account = self.caller_account(&call).await?;
        let links = |path: &str| json!({"self": format!("{IAM_BASE}{path}")});
        match op {
            "KeystoneListProjects" => {
                let projects = self.projects(&account, &call)?;
                let mut l = links("/v3/projects");
                l["previous"] = Value::Null;
                l["next"] = Value::Null;
                Ok(Reply::ok(json!({"projects": projects, "links": l})))
            }
            "KeystoneListAuthProjects" => {
                let projects: Vec<Value> = self
                    .regions
                    .regions
                    .iter()
                    .map(|r| self.project_json(&account, &r.id))
                    .collect();
                Ok(Reply::ok(
                    json!({"projects": projects, "links": links("/v3/auth/projects")}),
                ))
            }
            "KeystoneShowProject" => {
                // The gateway checked that the path's project is the caller's.
                let project = call.project()?;
                Ok(Reply::ok(
                    json!({"project": self.project_json(&account, &project.region)}),
                ))
            }
            "KeystoneListAuthDomains" => Ok(Reply::ok(json!({
                "domains": [{
                    "id": account.domain_id,
                    "name": account.name,
                    "enabled": true,
                    "description": "",
                    "links": links(&format!("/v3/domains/{}", account.domain_id)),
                }],
                "links": links("/v3/auth/domains"),
            }))),
            "KeystoneValidateToken" => self.validate_token(&call, &account).await,
            _ => Err(HwError::not_implemented(op)),
        }
    }
}

/// Every operation of huaweicloudsdkiam 3.1.219 (`v3/iam_client.py`), one row per method and
/// path. `POST /v3/auth/tokens` serves the password, agency and MFA token operations alike.
pub const ROUTES: &[Route] = &[
    Route::new("GET", "/", "KeystoneListVersions"),
    Route::new("GET", "/v3", "KeystoneShowVersion"),
    Route::new("GET", "/v3-ext/OS-FEDERATION/identity_providers/{idp_id}/protocols/{protocol_id}/metadata", "ShowMetadata"),
    Route::new("POST", "/v3-ext/OS-FEDERATION/identity_providers/{idp_id}/protocols/{protocol_id}/metadata", "CreateMetadata"),
    Route::new("GET", "/v3-ext/projects/{project_id}", "ShowProjectDetailsAndStatus"),
    Route::new("PUT", "/v3-ext/projects/{project_id}", "UpdateProjectStatus"),
    Route::new("GET", "/v3.0/OS-AGENCY/agencies", "ListAgencies"),
    Route::new("POST", "/v3.0/OS-AGENCY/agencies", "CreateAgency"),
    Route::new("DELETE", "/v3.0/OS-AGENCY/agencies/{agency_id}", "DeleteAgency"),
    Route::new("GET", "/v3.0/OS-AGENCY/agencies/{agency_id}", "ShowAgency"),
    Route::new("PUT", "/v3.0/OS-AGENCY/agencies/{agency_id}", "UpdateAgency"),
    Route::new("GET", "/v3.0/OS-AGENCY/domains/{domain_id}/agencies/{agency_id}/roles", "ListDomainPermissionsForAgency"),
    Route::new("DELETE", "/v3.0/OS-AGENCY/domains/{domain_id}/agencies/{agency_id}/roles/{role_id}", "RemoveDomainPermissionFromAgency"),
    Route::new("HEAD", "/v3.0/OS-AGENCY/domains/{domain_id}/agencies/{agency_id}/roles/{role_id}", "CheckDomainPermissionForAgency"),
    Route::new("PUT", "/v3.0/OS-AGENCY/domains/{domain_id}/agencies/{agency_id}/roles/{role_id}", "AssociateAgencyWithDomainPermission"),
    Route::new("GET", "/v3.0/OS-AGENCY/projects/{project_id}/agencies/{agency_id}/roles", "ListProjectPermissionsForAgency"),
    Route::new("DELETE", "/v3.0/OS-AGENCY/projects/{project_id}/agencies/{agency_id}/roles/{role_id}", "RemoveProjectPermissionFromAgency"),
    Route::new("HEAD", "/v3.0/OS-AGENCY/projects/{project_id}/agencies/{agency_id}/roles/{role_id}", "CheckProjectPermissionForAgency"),
    Route::new("PUT", "/v3.0/OS-AGENCY/projects/{project_id}/agencies/{agency_id}/roles/{role_id}", "AssociateAgencyWithProjectPermission"),
    Route::new("POST", "/v3.0/OS-AUTH/id-token/tokens", "CreateTokenWithIdToken"),
    Route::new("POST", "/v3.0/OS-AUTH/securitytoken/logintokens", "CreateLoginToken"),
    Route::new("GET", "/v3.0/OS-CREDENTIAL/credentials", "ListPermanentAccessKeys"),
    Route::new("POST", "/v3.0/OS-CREDENTIAL/credentials", "CreatePermanentAccessKey"),
    Route::new("DELETE", "/v3.0/OS-CREDENTIAL/credentials/{access_key}", "DeletePermanentAccessKey"),
    Route::new("GET", "/v3.0/OS-CREDENTIAL/credentials/{access_key}", "ShowPermanentAccessKey"),
    Route::new("PUT", "/v3.0/OS-CREDENTIAL/credentials/{access_key}", "UpdatePermanentAccessKey"),
    Route::new("POST", "/v3.0/OS-CREDENTIAL/securitytokens", "CreateTemporaryAccessKeyByAgency"),
    Route::new("GET", "/v3.0/OS-FEDERATION/identity-providers/{idp_id}/openid-connect-config", "ShowOpenIdConnectConfig"),
    Route::new("POST", "/v3.0/OS-FEDERATION/identity-providers/{idp_id}/openid-connect-config", "CreateOpenIdConnectConfig"),
    Route::new("PUT", "/v3.0/OS-FEDERATION/identity-providers/{idp_id}/openid-connect-config", "UpdateOpenIdConnectConfig"),
    Route::new("POST", "/v3.0/OS-FEDERATION/tokens", "CreateUnscopeTokenByIdpInitiated"),
    Route::new("GET", "/v3.0/OS-INHERIT/domains/{domain_id}/agencies/{agency_id}/roles/inherited_to_projects", "ListAllProjectsPermissionsForAgency"),
    Route::new("DELETE", "/v3.0/OS-INHERIT/domains/{domain_id}/agencies/{agency_id}/roles/{role_id}/inherited_to_projects", "RemoveAllProjectsPermissionFromAgency"),
    Route::new("HEAD", "/v3.0/OS-INHERIT/domains/{domain_id}/agencies/{agency_id}/roles/{role_id}/inherited_to_projects", "CheckAllProjectsPermissionForAgency"),
    Route::new("PUT", "/v3.0/OS-INHERIT/domains/{domain_id}/agencies/{agency_id}/roles/{role_id}/inherited_to_projects", "AssociateAgencyWithAllProjectsPermission"),
    Route::new("PUT", "/v3.0/OS-MFA/mfa-devices/bind", "CreateBindingDevice"),
    Route::new("PUT", "/v3.0/OS-MFA/mfa-devices/unbind", "DeleteBindingDevice"),
    Route::new("GET", "/v3.0/OS-MFA/users/{user_id}/virtual-mfa-device", "ShowUserMfaDevice"),
    Route::new("DELETE", "/v3.0/OS-MFA/virtual-mfa-devices", "DeleteMfaDevice"),
    Route::new("GET", "/v3.0/OS-MFA/virtual-mfa-devices", "ListUserMfaDevices"),
    Route::new("POST", "/v3.0/OS-MFA/virtual-mfa-devices", "CreateMfaDevice"),
    Route::new("GET", "/v3.0/OS-PERMISSION/enterprise-projects/{enterprise_project_id}/groups", "ListGroupsForEnterpriseProject"),
    Route::new("GET", "/v3.0/OS-PERMISSION/enterprise-projects/{enterprise_project_id}/groups/{group_id}/roles", "ListRolesForGroupOnEnterpriseProject"),
    Route::new("DELETE", "/v3.0/OS-PERMISSION/enterprise-projects/{enterprise_project_id}/groups/{group_id}/roles/{role_id}", "RevokeRoleFromGroupOnEnterpriseProject"),
    Route::new("PUT", "/v3.0/OS-PERMISSION/enterprise-projects/{enterprise_project_id}/groups/{group_id}/roles/{role_id}", "AssociateRoleToGroupOnEnterpriseProject"),
    Route::new("GET", "/v3.0/OS-PERMISSION/enterprise-projects/{enterprise_project_id}/users", "ListUsersForEnterpriseProject"),
    Route::new("GET", "/v3.0/OS-PERMISSION/enterprise-projects/{enterprise_project_id}/users/{user_id}/roles", "ListRolesForUserOnEnterpriseProject"),
    Route::new("DELETE", "/v3.0/OS-PERMISSION/enterprise-projects/{enterprise_project_id}/users/{user_id}/roles/{role_id}", "RevokeRoleFromUserOnEnterpriseProject"),
    Route::new("PUT", "/v3.0/OS-PERMISSION/enterprise-projects/{enterprise_project_id}/users/{user_id}/roles/{role_id}", "AssociateRoleToUserOnEnterpriseProject"),
    Route::new("GET", "/v3.0/OS-PERMISSION/groups/{group_id}/enterprise-projects", "ListEnterpriseProjectsForGroup"),
    Route::new("GET", "/v3.0/OS-PERMISSION/role-assignments", "ShowDomainRoleAssignments"),
    Route::new("DELETE", "/v3.0/OS-PERMISSION/subjects/agency/scopes/enterprise-project/role-assignments", "RevokeRoleFromAgencyOnEnterpriseProject"),
    Route::new("PUT", "/v3.0/OS-PERMISSION/subjects/agency/scopes/enterprise-project/role-assignments", "AssociateRoleToAgencyOnEnterpriseProject"),
    Route::new("GET", "/v3.0/OS-PERMISSION/users/{user_id}/enterprise-projects", "ListEnterpriseProjectsForUser"),
    Route::new("GET", "/v3.0/OS-QUOTA/domains/{domain_id}", "ShowDomainQuota"),
    Route::new("GET", "/v3.0/OS-QUOTA/projects/{project_id}", "ShowProjectQuota"),
    Route::new("GET", "/v3.0/OS-ROLE/roles", "ListCustomPolicies"),
    Route::new("POST", "/v3.0/OS-ROLE/roles", "CreateAgencyCustomPolicy"),
    Route::new("DELETE", "/v3.0/OS-ROLE/roles/{role_id}", "DeleteCustomPolicy"),
    Route::new("GET", "/v3.0/OS-ROLE/roles/{role_id}", "ShowCustomPolicy"),
    Route::new("PATCH", "/v3.0/OS-ROLE/roles/{role_id}", "UpdateAgencyCustomPolicy"),
    Route::new("GET", "/v3.0/OS-SECURITYPOLICY/domains/{domain_id}/api-acl-policy", "ShowDomainApiAclPolicy"),
    Route::new("PUT", "/v3.0/OS-SECURITYPOLICY/domains/{domain_id}/api-acl-policy", "UpdateDomainApiAclPolicy"),
    Route::new("GET", "/v3.0/OS-SECURITYPOLICY/domains/{domain_id}/console-acl-policy", "ShowDomainConsoleAclPolicy"),
    Route::new("PUT", "/v3.0/OS-SECURITYPOLICY/domains/{domain_id}/console-acl-policy", "UpdateDomainConsoleAclPolicy"),
    Route::new("GET", "/v3.0/OS-SECURITYPOLICY/domains/{domain_id}/login-policy", "ShowDomainLoginPolicy"),
    Route::new("PUT", "/v3.0/OS-SECURITYPOLICY/domains/{domain_id}/login-policy", "UpdateDomainLoginPolicy"),
    Route::new("GET", "/v3.0/OS-SECURITYPOLICY/domains/{domain_id}/password-policy", "ShowDomainPasswordPolicy"),
    Route::new("PUT", "/v3.0/OS-SECURITYPOLICY/domains/{domain_id}/password-policy", "UpdateDomainPasswordPolicy"),
    Route::new("GET", "/v3.0/OS-SECURITYPOLICY/domains/{domain_id}/protect-policy", "ShowDomainProtectPolicy"),
    Route::new("PUT", "/v3.0/OS-SECURITYPOLICY/domains/{domain_id}/protect-policy", "UpdateDomainProtectPolicy"),
    Route::new("GET", "/v3.0/OS-USER/login-protects", "ListUserLoginProtects"),
    Route::new("POST", "/v3.0/OS-USER/users", "CreateUser"),
    Route::new("GET", "/v3.0/OS-USER/users/{user_id}", "ShowUser"),
    Route::new("PUT", "/v3.0/OS-USER/users/{user_id}", "UpdateUser"),
    Route::new("PUT", "/v3.0/OS-USER/users/{user_id}/info", "UpdateUserInformation"),
    Route::new("GET", "/v3.0/OS-USER/users/{user_id}/login-protect", "ShowUserLoginProtect"),
    Route::new("PUT", "/v3.0/OS-USER/users/{user_id}/login-protect", "UpdateLoginProtect"),
    Route::new("GET", "/v3/OS-FEDERATION/domains", "KeystoneListFederationDomains"),
    Route::new("GET", "/v3/OS-FEDERATION/identity_providers", "KeystoneListIdentityProviders"),
    Route::new("GET", "/v3/OS-FEDERATION/identity_providers/{idp_id}/protocols", "KeystoneListProtocols"),
    Route::new("DELETE", "/v3/OS-FEDERATION/identity_providers/{idp_id}/protocols/{protocol_id}", "KeystoneDeleteProtocol"),
    Route::new("GET", "/v3/OS-FEDERATION/identity_providers/{idp_id}/protocols/{protocol_id}", "KeystoneShowProtocol"),
    Route::new("PATCH", "/v3/OS-FEDERATION/identity_providers/{idp_id}/protocols/{protocol_id}", "KeystoneUpdateProtocol"),
    Route::new("PUT", "/v3/OS-FEDERATION/identity_providers/{idp_id}/protocols/{protocol_id}", "KeystoneCreateProtocol"),
    Route::new("POST", "/v3/OS-FEDERATION/identity_providers/{idp_id}/protocols/{protocol_id}/auth", "CreateUnscopedTokenWithIdToken"),
    Route::new("DELETE", "/v3/OS-FEDERATION/identity_providers/{id}", "KeystoneDeleteIdentityProvider"),
    Route::new("GET", "/v3/OS-FEDERATION/identity_providers/{id}", "KeystoneShowIdentityProvider"),
    Route::new("PATCH", "/v3/OS-FEDERATION/identity_providers/{id}", "KeystoneUpdateIdentityProvider"),
    Route::new("PUT", "/v3/OS-FEDERATION/identity_providers/{id}", "KeystoneCreateIdentityProvider"),
    Route::new("GET", "/v3/OS-FEDERATION/mappings", "KeystoneListMappings"),
    Route::new("DELETE", "/v3/OS-FEDERATION/mappings/{id}", "KeystoneDeleteMapping"),
    Route::new("GET", "/v3/OS-FEDERATION/mappings/{id}", "KeystoneShowMapping"),
    Route::new("PATCH", "/v3/OS-FEDERATION/mappings/{id}", "KeystoneUpdateMapping"),
    Route::new("PUT", "/v3/OS-FEDERATION/mappings/{id}", "KeystoneCreateMapping"),
    Route::new("GET", "/v3/OS-FEDERATION/projects", "KeystoneListFederationProjects"),
    Route::new("GET", "/v3/OS-INHERIT/domains/{domain_id}/groups/{group_id}/roles/inherited_to_projects", "KeystoneListAllProjectPermissionsForGroup"),
    Route::new("DELETE", "/v3/OS-INHERIT/domains/{domain_id}/groups/{group_id}/roles/{role_id}/inherited_to_projects", "DeleteDomainGroupInheritedRole"),
    Route::new("HEAD", "/v3/OS-INHERIT/domains/{domain_id}/groups/{group_id}/roles/{role_id}/inherited_to_projects", "KeystoneCheckroleForGroup"),
    Route::new("PUT", "/v3/OS-INHERIT/domains/{domain_id}/groups/{group_id}/roles/{role_id}/inherited_to_projects", "UpdateDomainGroupInheritRole"),
    Route::new("GET", "/v3/auth/catalog", "KeystoneShowCatalog"),
    Route::new("GET", "/v3/auth/domains", "KeystoneListAuthDomains"),
    Route::new("GET", "/v3/auth/projects", "KeystoneListAuthProjects"),
    Route::new("GET", "/v3/auth/tokens", "KeystoneValidateToken"),
    Route::public("POST", "/v3/auth/tokens", "KeystoneCreateUserTokenByPassword"),
    Route::new("GET", "/v3/domains/{domain_id}/config/security_compliance", "KeystoneShowSecurityCompliance"),
    Route::new("GET", "/v3/domains/{domain_id}/config/security_compliance/{option}", "KeystoneShowSecurityComplianceByOption"),
    Route::new("GET", "/v3/domains/{domain_id}/groups/{group_id}/roles", "KeystoneListDomainPermissionsForGroup"),
    Route::new("DELETE", "/v3/domains/{domain_id}/groups/{group_id}/roles/{role_id}", "KeystoneRemoveDomainPermissionFromGroup"),
    Route::new("HEAD", "/v3/domains/{domain_id}/groups/{group_id}/roles/{role_id}", "KeystoneCheckDomainPermissionForGroup"),
    Route::new("PUT", "/v3/domains/{domain_id}/groups/{group_id}/roles/{role_id}", "KeystoneAssociateGroupWithDomainPermission"),
    Route::new("GET", "/v3/endpoints", "KeystoneListEndpoints"),
    Route::new("GET", "/v3/endpoints/{endpoint_id}", "KeystoneShowEndpoint"),
    Route::new("GET", "/v3/groups", "KeystoneListGroups"),
    Route::new("POST", "/v3/groups", "KeystoneCreateGroup"),
    Route::new("DELETE", "/v3/groups/{group_id}", "KeystoneDeleteGroup"),
    Route::new("GET", "/v3/groups/{group_id}", "KeystoneShowGroup"),
    Route::new("PATCH", "/v3/groups/{group_id}", "KeystoneUpdateGroup"),
    Route::new("GET", "/v3/groups/{group_id}/users", "KeystoneListUsersForGroupByAdmin"),
    Route::new("DELETE", "/v3/groups/{group_id}/users/{user_id}", "KeystoneRemoveUserFromGroup"),
    Route::new("HEAD", "/v3/groups/{group_id}/users/{user_id}", "KeystoneCheckUserInGroup"),
    Route::new("PUT", "/v3/groups/{group_id}/users/{user_id}", "KeystoneAddUserToGroup"),
    Route::new("GET", "/v3/projects", "KeystoneListProjects"),
    Route::new("POST", "/v3/projects", "KeystoneCreateProject"),
    Route::new("GET", "/v3/projects/{project_id}", "KeystoneShowProject"),
    Route::new("PATCH", "/v3/projects/{project_id}", "KeystoneUpdateProject"),
    Route::new("GET", "/v3/projects/{project_id}/groups/{group_id}/roles", "KeystoneListProjectPermissionsForGroup"),
    Route::new("DELETE", "/v3/projects/{project_id}/groups/{group_id}/roles/{role_id}", "KeystoneRemoveProjectPermissionFromGroup"),
    Route::new("HEAD", "/v3/projects/{project_id}/groups/{group_id}/roles/{role_id}", "KeystoneCheckProjectPermissionForGroup"),
    Route::new("PUT", "/v3/projects/{project_id}/groups/{group_id}/roles/{role_id}", "KeystoneAssociateGroupWithProjectPermission"),
    Route::new("GET", "/v3/regions", "KeystoneListRegions"),
    Route::new("GET", "/v3/regions/{region_id}", "KeystoneShowRegion"),
    Route::new("GET", "/v3/roles", "KeystoneListPermissions"),
    Route::new("GET", "/v3/roles/{role_id}", "KeystoneShowPermission"),
    Route::new("GET", "/v3/services", "KeystoneListServices"),
    Route::new("GET", "/v3/services/{service_id}", "KeystoneShowService"),
    Route::new("GET", "/v3/users", "KeystoneListUsers"),
    Route::new("POST", "/v3/users", "KeystoneCreateUser"),
    Route::new("DELETE", "/v3/users/{user_id}", "KeystoneDeleteUser"),
    Route::new("GET", "/v3/users/{user_id}", "KeystoneShowUser"),
    Route::new("PATCH", "/v3/users/{user_id}", "KeystoneUpdateUserByAdmin"),
    Route::new("GET", "/v3/users/{user_id}/groups", "KeystoneListGroupsForUser"),
    Route::new("POST", "/v3/users/{user_id}/password", "KeystoneUpdateUserPassword"),
    Route::new("GET", "/v3/users/{user_id}/projects", "KeystoneListProjectsForUser"),
];
