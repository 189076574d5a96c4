//! Authentication context classes (`acr`, OIDC Core §2): the two we offer, which one a request
//! prefers, and which one a sign-in (its `amr`, RFC 8176) reached. No I/O.

/// The REFEDS MFA profile: a sign-in with a second factor.
pub const REFEDS_MFA: &str = "https://refeds.org/profile/mfa";
/// A sign-in with a password (or another single factor) alone.
pub const ACR_PASSWORD: &str = "urn:hccc:sso:acr:password";
/// What discovery advertises, weakest first.
pub const SUPPORTED: [&str; 2] = [ACR_PASSWORD, REFEDS_MFA];

/// The `acr` a sign-in reached, from how it was made.
pub fn acr_of(amr: &[String]) -> &'static str {
    if amr.iter().any(|m| m == "mfa") {
        REFEDS_MFA
    } else {
        ACR_PASSWORD
    }
}

/// The first of `values` (in the request's order of preference, OIDC Core §3.1.2.1) that this
/// provider can satisfy; values it does not know are passed over.
pub fn preferred<'a>(values: impl IntoIterator<Item = &'a str>) -> Option<&'static str> {
    values
        .into_iter()
        .find_map(|v| SUPPORTED.iter().copied().find(|known| *known == v))
}

/// The `acr` an ID token states: the value the request chose when the sign-in satisfies it (a
/// multi-factor sign-in satisfies the password class too), otherwise what the sign-in reached.
pub fn stated(chosen: Option<&str>, amr: &[String]) -> &'static str {
    let reached = acr_of(amr);
    match chosen {
        Some(ACR_PASSWORD) => ACR_PASSWORD,
        Some(REFEDS_MFA) if reached == REFEDS_MFA => REFEDS_MFA,
        _ => reached,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amr(methods: &[&str]) -> Vec<String> {
        methods.iter().map(|m| (*m).to_owned()).collect()
    }

    #[test]
    fn the_first_value_we_can_satisfy_is_preferred() {
        assert_eq!(preferred(SUPPORTED), Some(ACR_PASSWORD));
        assert_eq!(preferred([REFEDS_MFA, ACR_PASSWORD]), Some(REFEDS_MFA));
        assert_eq!(preferred(["urn:unknown", REFEDS_MFA]), Some(REFEDS_MFA));
        assert_eq!(preferred(["1", "2"]), None);
        assert_eq!(preferred(["https://refeds.org/profile/mfa2"]), None);
        assert_eq!(preferred([]), None);
    }

    #[test]
    fn the_stated_acr_is_the_chosen_one_when_the_sign_in_meets_it() {
        let pwd = amr(&["pwd"]);
        let mfa = amr(&["pwd", "otp", "mfa"]);
        assert_eq!(acr_of(&pwd), ACR_PASSWORD);
        assert_eq!(acr_of(&mfa), REFEDS_MFA);
        assert_eq!(stated(None, &mfa), REFEDS_MFA);
        assert_eq!(stated(Some(ACR_PASSWORD), &mfa), ACR_PASSWORD);
        assert_eq!(stated(Some(REFEDS_MFA), &mfa), REFEDS_MFA);
        // Never claims more than happened.
        assert_eq!(stated(Some(REFEDS_MFA), &pwd), ACR_PASSWORD);
        assert_eq!(stated(Some("urn:other"), &pwd), ACR_PASSWORD);
    }
}
