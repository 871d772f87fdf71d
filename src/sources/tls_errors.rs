//! TLS failures in words: why OpenSSL (through sqlx's native-tls backend,
//! docs/tls.md) refused a server's certificate, and which URI parameter
//! resolves it. Pure, shared by the PostgreSQL and MySQL sources, which only
//! differ in their parameter names.

/// The URI parameter names of one engine's client (libpq or the mysql client).
pub struct Params {
    /// The mode parameter as written in URIs (`sslmode` / `ssl-mode`).
    pub mode: &'static str,
    /// The mode that encrypts without verifying (`require` / `REQUIRED`).
    pub require: &'static str,
    /// The mode that verifies the chain but not the host name (`verify-ca` / `VERIFY_CA`).
    pub verify_ca: &'static str,
    /// The CA file parameter (`sslrootcert` / `ssl-ca`).
    pub ca: &'static str,
    /// The client certificate and key parameters (`sslcert`+`sslkey` / `ssl-cert`+`ssl-key`).
    pub client_cert: &'static str,
}

pub const POSTGRES: Params = Params {
    mode: "sslmode",
    require: "require",
    verify_ca: "verify-ca",
    ca: "sslrootcert",
    client_cert: "sslcert and sslkey",
};

pub const MYSQL: Params = Params {
    mode: "ssl-mode",
    require: "REQUIRED",
    verify_ca: "VERIFY_CA",
    ca: "ssl-ca",
    client_cert: "ssl-cert and ssl-key",
};

/// A refused handshake as "the server's certificate was refused: WHY; FIX"
/// when OpenSSL said why, else the library's message with the generic fix.
/// `detail` is the error text of the TLS library.
pub fn describe(detail: &str, params: &Params) -> String {
    let lower = detail.to_lowercase();
    let Params {
        mode,
        require,
        verify_ca,
        ca,
        client_cert,
    } = params;
    let refused = |why: &str, fix: String| {
        format!("the server's certificate was refused: {why} ({detail}); {fix}")
    };
    if lower.contains("hostname mismatch") || lower.contains("ip address mismatch") {
        return refused(
            "it is not issued for the host name in the URI",
            format!(
                "connect with the name the certificate names, or use {mode}={verify_ca} to check the chain only"
            ),
        );
    }
    if lower.contains("certificate has expired") || lower.contains("not yet valid") {
        return refused(
            "it is outside its validity dates",
            format!(
                "renew the server's certificate, or use {mode}={require} to encrypt without verifying (as psql and the mysql client allow)"
            ),
        );
    }
    if lower.contains("self-signed")
        || lower.contains("self signed")
        || lower.contains("unable to get local issuer")
        || lower.contains("unable to get issuer")
        || lower.contains("unable to verify the first certificate")
        || lower.contains("certificate signature failure")
    {
        return refused(
            "it is not signed by a CA the client trusts",
            format!(
                "give the CA that signed it with {ca}=PATH, or use {mode}={require} to encrypt without verifying"
            ),
        );
    }
    if lower.contains("certificate required")
        || lower.contains("alert handshake failure") && lower.contains("certificate")
        || lower.contains("tlsv13 alert certificate required")
    {
        return format!(
            "the server requires a client certificate ({detail}); give one with {client_cert}"
        );
    }
    if lower.contains("unsupported certificate") || lower.contains("certificate verify failed") {
        return refused(
            "OpenSSL did not accept it",
            format!("check the certificate, its CA ({ca}) and {mode}"),
        );
    }
    format!("{detail}; check {mode}, {ca} and {client_cert}")
}

/// The first certificate or key file a URI names (`names`, as written in the
/// URI) that cannot be read, as a message naming the parameter, the path and
/// the cause. Checked before connecting because the driver's own error ("No
/// such file or directory") names neither and reads like an unreachable host.
pub fn unreadable_file(url: &url::Url, names: &[&str]) -> Option<String> {
    url.query_pairs()
        .filter(|(key, _)| names.contains(&key.as_ref()))
        .find_map(|(key, path)| {
            std::fs::File::open(path.as_ref()).err().map(|err| {
                format!("{key}={path} cannot be read ({err}): give the path of a readable PEM file")
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Messages as OpenSSL 3.0 (Debian 12) words them through native-tls.
    const EXPIRED: &str = "error:0A000086:SSL routines:tls_post_process_server_certificate:certificate verify failed:../ssl/statem/statem_clnt.c:1889: (certificate has expired)";
    const SELF_SIGNED: &str = "error:0A000086:SSL routines:tls_post_process_server_certificate:certificate verify failed:../ssl/statem/statem_clnt.c:1889: (self-signed certificate)";
    const UNKNOWN_CA: &str = "error:0A000086:SSL routines:tls_post_process_server_certificate:certificate verify failed:../ssl/statem/statem_clnt.c:1889: (unable to get local issuer certificate)";
    const HOSTNAME: &str = "error:0A000086:SSL routines:tls_post_process_server_certificate:certificate verify failed:../ssl/statem/statem_clnt.c:1889: (Hostname mismatch)";

    #[test]
    fn each_cause_names_the_parameter_that_resolves_it() {
        let expired = describe(EXPIRED, &POSTGRES);
        assert!(expired.contains("validity dates"), "{expired}");
        assert!(expired.contains("sslmode=require"), "{expired}");
        let self_signed = describe(SELF_SIGNED, &MYSQL);
        assert!(self_signed.contains("not signed by a CA"), "{self_signed}");
        assert!(self_signed.contains("ssl-ca=PATH"), "{self_signed}");
        assert!(self_signed.contains("ssl-mode=REQUIRED"), "{self_signed}");
        let unknown = describe(UNKNOWN_CA, &POSTGRES);
        assert!(unknown.contains("sslrootcert=PATH"), "{unknown}");
        let host = describe(HOSTNAME, &POSTGRES);
        assert!(host.contains("not issued for the host name"), "{host}");
        assert!(host.contains("sslmode=verify-ca"), "{host}");
    }

    #[test]
    fn an_unrecognised_failure_keeps_the_library_text() {
        let text = describe("handshake went sideways", &MYSQL);
        assert!(text.starts_with("handshake went sideways"), "{text}");
        assert!(text.contains("ssl-mode"), "{text}");
    }

    #[test]
    fn an_unreadable_certificate_file_is_named_with_its_parameter() {
        let url = url::Url::parse(
            "postgres://h/db?sslmode=verify-ca&sslrootcert=/nonexistent/root.crt&application_name=x",
        )
        .unwrap();
        let message = super::unreadable_file(&url, &["sslrootcert", "sslcert"]).unwrap();
        assert!(
            message.starts_with("sslrootcert=/nonexistent/root.crt cannot be read ("),
            "{message}"
        );
        assert!(super::unreadable_file(&url, &["sslcert"]).is_none());
    }
}
