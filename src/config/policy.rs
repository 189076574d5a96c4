//! The sign-in policies the settings set: throttling of failed sign-ins, and who must use a
//! second factor.

/// Sign-in throttling: failures are counted per account name and per client IP.
#[derive(Clone, Debug)]
pub struct LoginPolicy {
    /// Failures within `window` after which each further attempt is slowed down.
    pub slowdown_after: i64,
    /// Extra delay per failure past `slowdown_after`, in milliseconds (capped at 5 s).
    pub slowdown_step_ms: u64,
    /// Failures within `window` for one account name that lock it for `lockout`.
    pub max_failures_per_account: i64,
    /// Failures within `window` from one IP address that lock that address for `lockout`.
    pub max_failures_per_ip: i64,
    pub window: i64,
    pub lockout: i64,
}

impl Default for LoginPolicy {
    fn default() -> Self {
        LoginPolicy {
            slowdown_after: 3,
            slowdown_step_ms: 500,
            max_failures_per_account: 10,
            max_failures_per_ip: 100,
            window: 900,
            lockout: 900,
        }
    }
}

/// `HCCC_SSO_MFA_REQUIRED_ROLES` and `HCCC_SSO_MFA_GRACE_DAYS`.
#[derive(Debug, Clone)]
pub struct MfaPolicy {
    /// Accounts holding any of these roles must use a second factor (default `admin`).
    pub required_roles: Vec<String>,
    /// Seconds from the first sign-in without one until enrolment is enforced (default 0).
    pub grace: i64,
    /// The WebAuthn relying-party id (`HCCC_SSO_WEBAUTHN_RP_ID`); the issuer's host when unset.
    /// Changing it makes every registered passkey unusable.
    pub webauthn_rp_id: Option<String>,
    /// Seconds a browser may skip the second step once the person asks (HCCC_SSO_MFA_REMEMBER_DAYS,
    /// default 30, at most 30; 0 turns the offer off).
    pub remember: i64,
    /// Networks of shared computers (HCCC_SSO_SHARED_NETWORKS, CIDRs): no browser there is
    /// remembered, nor skips the second step.
    pub shared_networks: Vec<ipnet::IpNet>,
}
