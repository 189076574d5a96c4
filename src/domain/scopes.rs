//! The OAuth scopes this provider knows, as a small set type instead of split strings.

use std::fmt;

use crate::i18n::Message;

/// A scope we know. Anything else a client asks for is dropped (RFC 6749 §3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Openid,
    Profile,
    Email,
    /// Releases the `roles` and `groups` claims.
    Roles,
    /// Refresh tokens that outlive the browser session.
    OfflineAccess,
    /// Lets an access token act at /api/v1 with the person's own rights.
    Api,
}

impl Scope {
    /// Every scope, in the order they are written out.
    pub const ALL: [Scope; 6] = [
        Scope::Openid,
        Scope::Profile,
        Scope::Email,
        Scope::Roles,
        Scope::OfflineAccess,
        Scope::Api,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Openid => "openid",
            Scope::Profile => "profile",
            Scope::Email => "email",
            Scope::Roles => "roles",
            Scope::OfflineAccess => "offline_access",
            Scope::Api => "api",
        }
    }

    pub fn from_name(name: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// The catalog key of what the scope means to a person (the consent page, the admin pages).
    pub fn key(self) -> &'static str {
        match self {
            Scope::Openid => "scope-openid",
            Scope::Profile => "scope-profile",
            Scope::Email => "scope-email",
            Scope::Roles => "scope-roles",
            Scope::OfflineAccess => "scope-offline-access",
            Scope::Api => "scope-api",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of known scopes. Written out space-separated in a stable order (`Display`), and to JSON as
/// a list of names, so stored requests keep their shape.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct ScopeSet(u8);

impl ScopeSet {
    pub const EMPTY: ScopeSet = ScopeSet(0);

    /// What a new client may request unless an admin says otherwise; `roles` and `api` are
    /// given by an admin explicitly.
    pub const CLIENT_DEFAULT: ScopeSet = ScopeSet::of(&[
        Scope::Openid,
        Scope::Profile,
        Scope::Email,
        Scope::OfflineAccess,
    ]);

    pub const fn of(scopes: &[Scope]) -> ScopeSet {
        let mut bits = 0u8;
        let mut rest = scopes;
        while let [first, tail @ ..] = rest {
            bits |= 1 << (*first as u8);
            rest = tail;
        }
        ScopeSet(bits)
    }

    /// The known scopes of a space-separated list; unknown names are dropped.
    pub fn parse(list: &str) -> ScopeSet {
        list.split(' ')
            .filter_map(Scope::from_name)
            .fold(ScopeSet::EMPTY, ScopeSet::with)
    }

    /// Every name must be known, for settings an admin types; the unknown one is the error.
    pub fn from_names<S: AsRef<str>>(names: &[S]) -> Result<ScopeSet, Message> {
        names.iter().try_fold(ScopeSet::EMPTY, |set, name| {
            let name = name.as_ref().trim();
            Scope::from_name(name).map(|s| set.with(s)).ok_or_else(|| {
                Message::new("invalid-scope")
                    .with("value", super::shown(name))
                    .with("scopes", Scope::ALL.map(Scope::as_str).join(", "))
            })
        })
    }

    pub fn with(self, scope: Scope) -> ScopeSet {
        ScopeSet(self.0 | scope.bit())
    }

    pub fn without(self, scope: Scope) -> ScopeSet {
        ScopeSet(self.0 & !scope.bit())
    }

    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// The scopes in both.
    pub fn intersect(self, other: ScopeSet) -> ScopeSet {
        ScopeSet(self.0 & other.0)
    }

    /// Whether every scope of `other` is in `self`.
    pub fn covers(self, other: ScopeSet) -> bool {
        other.0 & !self.0 == 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }

    pub fn names(self) -> Vec<String> {
        self.iter().map(|s| s.as_str().to_owned()).collect()
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, scope) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(scope.as_str())?;
        }
        Ok(())
    }
}

impl fmt::Debug for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ScopeSet({self})")
    }
}

impl serde::Serialize for ScopeSet {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter().map(Scope::as_str))
    }
}

impl<'de> serde::Deserialize<'de> for ScopeSet {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<ScopeSet, D::Error> {
        let names = Vec::<String>::deserialize(deserializer)?;
        Ok(names
            .iter()
            .filter_map(|n| Scope::from_name(n))
            .fold(ScopeSet::EMPTY, ScopeSet::with))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing_keeps_known_scopes_in_order_without_repeats() {
        let set = ScopeSet::parse("email bogus openid email  api");
        assert_eq!(set.to_string(), "openid email api");
        assert!(ScopeSet::parse("").is_empty());
        assert!(
            ScopeSet::parse("OPENID").is_empty(),
            "scopes are case-sensitive"
        );
    }

    #[test]
    fn set_operations() {
        let granted = ScopeSet::parse("openid profile email");
        assert!(granted.covers(ScopeSet::parse("openid email")));
        assert!(!granted.covers(ScopeSet::parse("openid api")));
        assert_eq!(
            granted.intersect(ScopeSet::parse("email api")).to_string(),
            "email"
        );
        assert_eq!(granted.without(Scope::Email).to_string(), "openid profile");
        assert!(!ScopeSet::CLIENT_DEFAULT.contains(Scope::Api));
        assert!(!ScopeSet::CLIENT_DEFAULT.contains(Scope::Roles));
    }

    #[test]
    fn admin_settings_name_every_scope_exactly() {
        assert_eq!(
            ScopeSet::from_names(&["openid", " roles "]).map(|s| s.to_string()),
            Ok("openid roles".to_owned())
        );
        let err = ScopeSet::from_names(&["openid", "admin"]).expect_err("unknown scope");
        assert_eq!(err.key, "invalid-scope");
        assert!(
            err.to_string().contains("\"admin\" is not a scope"),
            "{err}"
        );
    }

    #[test]
    fn json_is_a_list_of_names() {
        let set = ScopeSet::parse("openid api");
        let json = serde_json::to_string(&set).expect("json");
        assert_eq!(json, r#"["openid","api"]"#);
        let back: ScopeSet = serde_json::from_str(r#"["api","openid","unknown"]"#).expect("parse");
        assert_eq!(back, set);
    }
}
