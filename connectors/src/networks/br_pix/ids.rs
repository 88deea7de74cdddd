//! Brazil's Pix keys that are tax ids: CPF (individuals) and CNPJ (companies). Phone and
//! e-mail keys use the shared formats in `alias.rs`, random keys (EVP) the UUID check in
//! `uuid.rs`.

use crate::id_format::{all_digits, digit_values, Check, FormatError};

/// Brazilian CPF: 11 digits, two mod-11 check digits, not all the same digit.
pub fn cpf(value: &str) -> Check {
    if !all_digits(value) || value.len() != 11 {
        return Err(FormatError::layout("11 digits"));
    }
    let d: Vec<u32> = digit_values(value.as_bytes()).collect();
    if d.iter().all(|&x| x == d[0]) {
        return Err(FormatError::not_allowed("repeated digits are not a CPF"));
    }
    for n in [9usize, 10] {
        let sum: u32 = (0..n).map(|i| d[i] * (n as u32 + 1 - i as u32)).sum();
        let r = sum * 10 % 11;
        if r % 10 != d[n] {
            return Err(FormatError::CheckDigits("check digits do not match"));
        }
    }
    Ok(())
}

/// Brazilian CNPJ, numeric or the alphanumeric form from July 2026: 12 characters of digits
/// or upper-case letters (each worth its ASCII code − 48), then two mod-11 check digits.
pub fn cnpj(value: &str) -> Check {
    let b = value.as_bytes();
    if b.len() != 14
        || !b[..12].iter().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        || !b[12..].iter().all(u8::is_ascii_digit)
    {
        return Err(FormatError::layout("12 digits or upper-case letters and 2 check digits"));
    }
    if b.iter().all(|&c| c == b[0]) {
        return Err(FormatError::not_allowed("repeated characters are not a CNPJ"));
    }
    let v: Vec<u32> = b.iter().map(|&c| u32::from(c - b'0')).collect();
    const W1: [u32; 12] = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2];
    const W2: [u32; 13] = [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2];
    let check = |n: usize, w: &[u32]| {
        let r = v[..n].iter().zip(w).map(|(a, b)| a * b).sum::<u32>() % 11;
        if r < 2 {
            0
        } else {
            11 - r
        }
    };
    if check(12, &W1) == v[12] && check(13, &W2) == v[13] {
        Ok(())
    } else {
        Err(FormatError::CheckDigits("check digits do not match"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id_format::NON_ASCII_SAMPLES;

    #[test]
    fn cpfs_and_cnpjs() {
        assert!(cpf("52998224725").is_ok());
        assert!(cpf("52998224724").is_err());
        assert!(cpf("11111111111").is_err());
        assert!(cnpj("11222333000181").is_ok());
        assert!(cnpj("12ABC34501DE35").is_ok());
        assert!(cnpj("11222333000182").is_err());
    }

    #[test]
    fn non_ascii_values_are_refused_cleanly() {
        for value in NON_ASCII_SAMPLES.iter().chain(&["12ÀBC34501DE35", "12ABC34501DE3é"]) {
            assert!(matches!(cpf(value), Err(FormatError::Layout(_))), "{value}");
            assert!(matches!(cnpj(value), Err(FormatError::Layout(_))), "{value}");
        }
    }
}
