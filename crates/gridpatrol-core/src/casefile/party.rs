//! Parties to a work (参建单位): builders (建设单位), contractors (施工单位)
//! and third-party safety services (第三方安全技术服务), each identified by
//! its unified social credit code (统一社会信用代码, GB 32100-2015).

use serde::{Deserialize, Serialize};

use crate::domain::{Invalid, check_name, check_text, vocabulary};

vocabulary! {
    /// The role a party plays on a work.
    PartyRole, "role" {
        Builder = "builder" ["建设单位"],
        Contractor = "contractor" ["施工单位", "施工企业"],
        SafetyService = "safety_service" ["第三方安全技术服务", "第三方安全技术服务机构"],
    }
}

/// The 31 characters of a unified social credit code (no I, O, Z, S, V),
/// in the order of their values.
const USCC_CHARS: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// The weights of the first 17 characters (3^i mod 31).
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// The check character GB 32100-2015 gives for the first 17 characters of a
/// code; `None` when one of them is not in the code's alphabet.
#[must_use]
pub fn uscc_check_char(first17: &str) -> Option<char> {
    if first17.len() != 17 {
        return None;
    }
    let mut sum = 0u32;
    for (c, w) in first17.bytes().zip(USCC_WEIGHTS) {
        let v = USCC_CHARS.iter().position(|x| *x == c)?;
        sum += u32::try_from(v).ok()? * w;
    }
    let check = (31 - sum % 31) % 31;
    USCC_CHARS
        .get(usize::try_from(check).ok()?)
        .map(|b| char::from(*b))
}

/// Checks a unified social credit code: 18 characters of its alphabet
/// (upper case) whose last is the check character of the first 17.
pub fn check_uscc(field: &str, code: &str) -> Result<(), Invalid> {
    if code.chars().count() != 18 {
        return Err(Invalid::new(
            field,
            "统一社会信用代码 must be 18 characters",
        ));
    }
    if let Some(bad) = code
        .chars()
        .find(|c| !u8::try_from(*c).is_ok_and(|b| USCC_CHARS.contains(&b)))
    {
        return Err(Invalid::new(
            field,
            format!("统一社会信用代码 holds {bad:?}, not one of 0-9 and A-Y without I, O, S, V, Z"),
        ));
    }
    let expected = uscc_check_char(&code[..17]);
    let given = code.chars().last();
    if expected != given {
        return Err(Invalid::new(
            field,
            format!(
                "统一社会信用代码 check character is {}, expected {} (GB 32100-2015)",
                given.unwrap_or(' '),
                expected.unwrap_or(' ')
            ),
        ));
    }
    Ok(())
}

/// A party as written: its name, code, contact person and phone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Party {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub name: String,
    /// 统一社会信用代码, 18 characters with its GB 32100-2015 check character.
    #[cfg_attr(feature = "openapi", schema(min_length = 18, max_length = 18))]
    pub uscc: String,
    /// The contact person (联系人).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 100))]
    pub contact: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 40))]
    pub phone: String,
}

impl Party {
    pub fn validate(&self) -> Result<(), Invalid> {
        check_name("name", &self.name)?;
        check_uscc("uscc", &self.uscc)?;
        check_text("contact", &self.contact)?;
        if self.contact.chars().count() > 100 {
            return Err(Invalid::new("contact", "must be at most 100 characters"));
        }
        if self.phone.chars().count() > 40
            || !self
                .phone
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')'))
        {
            return Err(Invalid::new(
                "phone",
                "must be at most 40 digits, spaces and + - ( )",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_check_character_is_gb_32100s() {
        // published codes (阿里巴巴（中国）, 中国石化, 腾讯, the standard's example)
        for good in [
            "91330100716105852F",
            "91110000100017643K",
            "91440300708461136T",
            "91350100M000100Y43",
        ] {
            assert!(check_uscc("uscc", good).is_ok(), "{good}");
        }
        let code = "91310117MA1J3XY00";
        let c = uscc_check_char(code).expect("alphabet");
        let full = format!("{code}{c}");
        assert!(check_uscc("uscc", &full).is_ok(), "{full}");
        let wrong = if c == '0' { '1' } else { '0' };
        assert!(check_uscc("uscc", &format!("{code}{wrong}")).is_err());
        assert!(check_uscc("uscc", "91310117MA1J3XYZ").is_err(), "too short");
        assert!(
            check_uscc("uscc", "91310117MA1J3XIZ00").is_err(),
            "I is not used"
        );
    }
}
