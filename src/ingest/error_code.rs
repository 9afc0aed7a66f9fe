//! One spelling for an error code, whatever the source wrote: agents send
//! `-2016281112`, Intune exports `0x87D1FDE8` or `2278686184`, and all three
//! are the same failure, so `setting_failures` must see one code. A code that
//! is a 32-bit integer (signed or unsigned; a number, decimal text or `0x`
//! hex) is stored as `0x` and 8 upper-case hex digits, Intune's own form;
//! `0` means no error. Anything else is kept as given, trimmed.

/// The stored spelling of an error code, or `None` for no error (`0`, or
/// nothing but spaces).
pub fn normalize(text: &str) -> Option<String> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let hex = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X"));
    let value = match hex {
        Some(digits) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_hexdigit()) => {
            u64::from_str_radix(digits, 16).ok().map(i128::from)
        }
        Some(_) => None,
        None => text.parse::<i128>().ok(),
    };
    match value.and_then(int32_bits) {
        Some(0) => None,
        Some(bits) => Some(format!("0x{bits:08X}")),
        None => Some(text.to_owned()),
    }
}

/// The stored spelling of an integer code (a JSON number).
pub fn from_integer(value: i128) -> Option<String> {
    match int32_bits(value) {
        Some(0) => None,
        Some(bits) => Some(format!("0x{bits:08X}")),
        None => Some(value.to_string()),
    }
}

/// The 32 bits of a value that fits in an `i32` or a `u32`.
fn int32_bits(value: i128) -> Option<u32> {
    if let Ok(v) = i32::try_from(value) {
        Some(v as u32)
    } else {
        u32::try_from(value).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_failure_has_one_spelling() {
        for given in [
            "0x87D1FDE8",
            "0x87d1fde8",
            "0X87D1FDE8",
            "-2016281112",
            "2278686184",
            " 0x87D1FDE8 ",
        ] {
            assert_eq!(normalize(given).as_deref(), Some("0x87D1FDE8"), "{given}");
        }
        assert_eq!(from_integer(-2016281112).as_deref(), Some("0x87D1FDE8"));
        assert_eq!(from_integer(2278686184).as_deref(), Some("0x87D1FDE8"));
    }

    #[test]
    fn small_and_edge_values_are_padded_to_eight_digits() {
        assert_eq!(normalize("1").as_deref(), Some("0x00000001"));
        assert_eq!(normalize("0x1").as_deref(), Some("0x00000001"));
        assert_eq!(normalize("-1").as_deref(), Some("0xFFFFFFFF"));
        assert_eq!(normalize("4294967295").as_deref(), Some("0xFFFFFFFF"));
        assert_eq!(normalize("-2147483648").as_deref(), Some("0x80000000"));
        assert_eq!(normalize("+65000").as_deref(), Some("0x0000FDE8"));
    }

    #[test]
    fn zero_and_blank_are_no_error() {
        for given in ["0", "0x0", "0x00000000", "-0", "", "   "] {
            assert_eq!(normalize(given), None, "{given:?}");
        }
        assert_eq!(from_integer(0), None);
    }

    #[test]
    fn what_is_not_a_32_bit_integer_is_kept_trimmed() {
        assert_eq!(normalize("4294967296").as_deref(), Some("4294967296"));
        assert_eq!(normalize("-2147483649").as_deref(), Some("-2147483649"));
        assert_eq!(normalize("0x100000000").as_deref(), Some("0x100000000"));
        assert_eq!(normalize("0x").as_deref(), Some("0x"));
        assert_eq!(normalize("0xZZ").as_deref(), Some("0xZZ"));
        assert_eq!(
            normalize(" Remediation failed ").as_deref(),
            Some("Remediation failed")
        );
        assert_eq!(from_integer(1 << 40).as_deref(), Some("1099511627776"));
    }
}
