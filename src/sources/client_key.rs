//! Client certificate keys in every form libpq and the mysql client read.
//! sqlx's native-tls backend takes a key only as PKCS#8 (`BEGIN PRIVATE
//! KEY`, what OpenSSL 3 writes); keys made with older tools or
//! `openssl genrsa -traditional` are PKCS#1 (`BEGIN RSA PRIVATE KEY`) or
//! SEC1 (`BEGIN EC PRIVATE KEY`). Such a key is converted in memory here,
//! never written anywhere.

const PKCS8: &[u8] = b"-----BEGIN PRIVATE KEY-----";

/// The key as PKCS#8 PEM when `pem` is in another PEM form (`None` when it is
/// PKCS#8 already). The error says why the key cannot be used, without any
/// of its content.
pub fn as_pkcs8(pem: &[u8]) -> Result<Option<Vec<u8>>, String> {
    if pem.starts_with(PKCS8) {
        return Ok(None);
    }
    if pem.windows(9).any(|w| w == b"ENCRYPTED") {
        return Err(
            "the key is encrypted with a passphrase, which sqlready cannot be given: write it out unencrypted (openssl pkey -in KEY -out KEY.pem) to a file only the auditing user can read".into(),
        );
    }
    let key = openssl::pkey::PKey::private_key_from_pem(pem)
        .map_err(|_| "it is not a PEM private key (BEGIN PRIVATE KEY, BEGIN RSA PRIVATE KEY or BEGIN EC PRIVATE KEY)".to_string())?;
    key.private_key_to_pem_pkcs8()
        .map(Some)
        .map_err(|err| format!("the key could not be converted to PKCS#8: {err}"))
}

/// Reads the key file `path` (named in the URI as `param`) and returns it as
/// PKCS#8 PEM when it needs converting. Errors name the parameter and path.
pub fn read_converted(param: &str, path: &str) -> Result<Option<Vec<u8>>, String> {
    let pem = std::fs::read(path).map_err(|err| {
        format!("{param}={path} cannot be read ({err}): give the path of a readable PEM file")
    })?;
    as_pkcs8(&pem).map_err(|why| format!("{param}={path}: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pkcs1_key_becomes_pkcs8_and_pkcs8_is_left_alone() {
        let rsa = openssl::rsa::Rsa::generate(2048).unwrap();
        let pkcs1 = rsa.private_key_to_pem().unwrap();
        assert!(pkcs1.starts_with(b"-----BEGIN RSA PRIVATE KEY-----"));
        let converted = as_pkcs8(&pkcs1).unwrap().expect("converted");
        assert!(converted.starts_with(PKCS8));
        assert_eq!(as_pkcs8(&converted).unwrap(), None);
    }

    #[test]
    fn a_file_that_is_no_key_is_refused_without_its_content() {
        let err = as_pkcs8(b"secret-looking text").unwrap_err();
        assert!(err.contains("not a PEM private key"), "{err}");
        assert!(!err.contains("secret-looking"), "{err}");
    }
}
