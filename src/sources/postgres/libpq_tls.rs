//! Which root certificate and which sslmode a URI means, decided as libpq
//! decides them ("SSL Support" in the libpq chapter of the PostgreSQL
//! manual), since sqlx applies none of these rules itself:
//!
//! - the root CA file is `sslrootcert`, else `PGSSLROOTCERT`, else
//!   `~/.postgresql/root.crt`;
//! - `require` with a root CA file that exists behaves as `verify-ca`; a named
//!   one that does not exist is ignored under `require` (and weaker modes);
//! - `verify-ca` / `verify-full` without any root CA file is an error naming
//!   the file libpq looked for;
//! - `sslrootcert=system` (libpq 16+) trusts the system's CAs and implies
//!   `verify-full`; a weaker sslmode given with it is an error;
//! - with no `sslcert`, `~/.postgresql/postgresql.crt` and `postgresql.key`
//!   are the client certificate when they exist.
//!
//! Pure: the caller passes the environment and the home directory in.

use sqlx::postgres::PgSslMode;
use std::path::{Path, PathBuf};
use url::Url;

/// The URI parameter names sqlx reads as the root CA file.
pub const ROOT_PARAMS: &[&str] = &["sslrootcert", "ssl-root-cert", "ssl-ca"];

/// What the caller must do to the connection options.
#[derive(Debug)]
pub struct Decision {
    /// The sslmode to connect with.
    pub mode: PgSslMode,
    /// Root parameters to take out of the URI before sqlx reads it: a named
    /// file libpq would ignore, or the word `system` (not a file).
    pub strip_root: bool,
    /// A root CA file to use that the URI does not name (`~/.postgresql/root.crt`).
    pub default_root: Option<PathBuf>,
}

/// The environment libpq reads for TLS.
pub struct Env<'a> {
    /// `PGSSLMODE`, when set (sqlx has already applied it to `mode`).
    pub sslmode: Option<&'a str>,
    /// `PGSSLROOTCERT`, when set and not empty.
    pub sslrootcert: Option<&'a str>,
    /// `$HOME`, where libpq looks for `.postgresql/root.crt`.
    pub home: Option<&'a Path>,
}

/// Decides as libpq does. `mode` is the sslmode sqlx parsed (URI, else
/// `PGSSLMODE`, else prefer); `is_file` tells whether a path is a file.
pub fn decide(
    url: &Url,
    mode: PgSslMode,
    env: &Env<'_>,
    is_file: &dyn Fn(&Path) -> bool,
) -> Result<Decision, String> {
    let named_in_uri = url
        .query_pairs()
        .find(|(key, _)| ROOT_PARAMS.contains(&key.as_ref()))
        .map(|(_, value)| value.into_owned());
    let mode_given = url
        .query_pairs()
        .any(|(key, _)| matches!(key.as_ref(), "sslmode" | "ssl-mode"))
        || env.sslmode.is_some();
    let keep = |mode| Decision {
        mode,
        strip_root: false,
        default_root: None,
    };
    if named_in_uri.is_none() && env.sslrootcert == Some("system") {
        return Err(
            "PGSSLROOTCERT=system: give sslrootcert=system in the URI instead (sqlready reads the word system only there)"
                .into(),
        );
    }
    if named_in_uri.as_deref() == Some("system") {
        if mode_given && !matches!(mode, PgSslMode::VerifyFull) {
            return Err(format!(
                "sslrootcert=system trusts the system's CAs and needs sslmode=verify-full (libpq refuses the weaker sslmode={}: anyone can get a publicly trusted certificate for a host name they control); remove sslmode or set it to verify-full",
                mode_name(mode)
            ));
        }
        return Ok(Decision {
            mode: PgSslMode::VerifyFull,
            strip_root: true,
            default_root: None,
        });
    }
    let named = named_in_uri.or_else(|| env.sslrootcert.map(str::to_string));
    let verifying = matches!(mode, PgSslMode::VerifyCa | PgSslMode::VerifyFull);
    match named {
        // A named file is read (and its absence named) by the caller under verify-*.
        Some(_) if verifying => Ok(keep(mode)),
        Some(path) if is_file(Path::new(&path)) => Ok(keep(match mode {
            PgSslMode::Require => PgSslMode::VerifyCa,
            other => other,
        })),
        // libpq ignores a root CA file that is not there unless it verifies.
        Some(_) => Ok(Decision {
            mode,
            strip_root: true,
            default_root: None,
        }),
        None => {
            let default = env.home.map(|home| home.join(".postgresql/root.crt"));
            match default {
                Some(file) if is_file(&file) => Ok(Decision {
                    mode: match mode {
                        PgSslMode::Require => PgSslMode::VerifyCa,
                        other => other,
                    },
                    strip_root: false,
                    default_root: (verifying || matches!(mode, PgSslMode::Require)).then_some(file),
                }),
                _ if verifying => {
                    let looked = default.map_or_else(
                        || "~/.postgresql/root.crt (HOME is not set)".to_string(),
                        |file| format!("{} does not exist", file.display()),
                    );
                    Err(format!(
                        "sslmode={} verifies the server's certificate but no root certificate was given: sslrootcert is not in the URI, PGSSLROOTCERT is not set and {looked} (libpq looks there too); give sslrootcert=PATH (the CA that signed the server's certificate), sslrootcert=system with sslmode=verify-full to trust the system's CAs, or sslmode=require to encrypt without verifying",
                        mode_name(mode)
                    ))
                }
                _ => Ok(keep(mode)),
            }
        }
    }
}

/// libpq's default client certificate: `~/.postgresql/postgresql.crt` and
/// `postgresql.key`, sent when neither the URI (`sslcert`) nor `PGSSLCERT`
/// names one and the file exists. `None` when there is none to send; an error
/// when the certificate is there without its key (libpq refuses that too).
pub fn default_client_cert(
    url: &Url,
    env_cert: bool,
    home: Option<&Path>,
    is_file: &dyn Fn(&Path) -> bool,
) -> Result<Option<(PathBuf, PathBuf)>, String> {
    let named = url
        .query_pairs()
        .any(|(key, _)| matches!(key.as_ref(), "sslcert" | "ssl-cert"));
    let Some(dir) = home.map(|home| home.join(".postgresql")) else {
        return Ok(None);
    };
    let (cert, key) = (dir.join("postgresql.crt"), dir.join("postgresql.key"));
    if named || env_cert || !is_file(&cert) {
        return Ok(None);
    }
    if !is_file(&key) {
        return Err(format!(
            "{} is there (libpq's default client certificate, sent as psql sends it) but its key {} is not: add the key, or move the certificate away",
            cert.display(),
            key.display()
        ));
    }
    Ok(Some((cert, key)))
}

/// The URI with the root CA parameters taken out.
pub fn without_root(url: &Url) -> Url {
    let mut stripped = url.clone();
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(key, _)| !ROOT_PARAMS.contains(&key.as_ref()))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        stripped.set_query(None);
    } else {
        stripped.query_pairs_mut().clear().extend_pairs(kept);
    }
    stripped
}

fn mode_name(mode: PgSslMode) -> &'static str {
    match mode {
        PgSslMode::Disable => "disable",
        PgSslMode::Allow => "allow",
        PgSslMode::Prefer => "prefer",
        PgSslMode::Require => "require",
        PgSslMode::VerifyCa => "verify-ca",
        PgSslMode::VerifyFull => "verify-full",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NO_ENV: Env<'static> = Env {
        sslmode: None,
        sslrootcert: None,
        home: None,
    };

    fn url(query: &str) -> Url {
        Url::parse(&format!("postgres://u@h/db?{query}")).unwrap()
    }

    fn files(existing: &'static [&'static str]) -> impl Fn(&Path) -> bool {
        move |path| existing.iter().any(|f| Path::new(f) == path)
    }

    #[test]
    fn system_implies_verify_full_and_refuses_weaker_modes() {
        let yes = files(&[]);
        let decided = decide(&url("sslrootcert=system"), PgSslMode::Prefer, &NO_ENV, &yes).unwrap();
        assert!(matches!(decided.mode, PgSslMode::VerifyFull));
        assert!(decided.strip_root);
        let err = decide(
            &url("sslrootcert=system&sslmode=require"),
            PgSslMode::Require,
            &NO_ENV,
            &yes,
        )
        .unwrap_err();
        assert!(
            err.contains("needs sslmode=verify-full") && err.contains("sslmode=require"),
            "{err}"
        );
        let full = decide(
            &url("sslrootcert=system&sslmode=verify-full"),
            PgSslMode::VerifyFull,
            &NO_ENV,
            &yes,
        )
        .unwrap();
        assert!(matches!(full.mode, PgSslMode::VerifyFull));
    }

    #[test]
    fn require_with_an_existing_root_file_verifies_and_ignores_a_missing_one() {
        let exists = files(&["/ca.crt"]);
        let found = decide(
            &url("sslmode=require&sslrootcert=/ca.crt"),
            PgSslMode::Require,
            &NO_ENV,
            &exists,
        )
        .unwrap();
        assert!(matches!(found.mode, PgSslMode::VerifyCa));
        let missing = decide(
            &url("sslmode=require&sslrootcert=/gone.crt"),
            PgSslMode::Require,
            &NO_ENV,
            &exists,
        )
        .unwrap();
        assert!(matches!(missing.mode, PgSslMode::Require));
        assert!(missing.strip_root);
    }

    #[test]
    fn verify_without_any_root_names_the_file_libpq_looked_for() {
        let home = Path::new("/home/me");
        let env = Env {
            home: Some(home),
            ..NO_ENV
        };
        let err = decide(
            &url("sslmode=verify-ca"),
            PgSslMode::VerifyCa,
            &env,
            &files(&[]),
        )
        .unwrap_err();
        assert!(
            err.contains("/home/me/.postgresql/root.crt does not exist"),
            "{err}"
        );
        assert!(err.contains("sslrootcert=PATH") && err.contains("sslrootcert=system"));
        let found = decide(
            &url("sslmode=verify-full"),
            PgSslMode::VerifyFull,
            &env,
            &files(&["/home/me/.postgresql/root.crt"]),
        )
        .unwrap();
        assert_eq!(
            found.default_root.as_deref(),
            Some(Path::new("/home/me/.postgresql/root.crt"))
        );
    }

    #[test]
    fn the_environment_root_counts_as_named() {
        let env = Env {
            sslrootcert: Some("/env.crt"),
            ..NO_ENV
        };
        let decided = decide(
            &url("sslmode=require"),
            PgSslMode::Require,
            &env,
            &files(&["/env.crt"]),
        )
        .unwrap();
        assert!(matches!(decided.mode, PgSslMode::VerifyCa));
    }

    #[test]
    fn the_default_client_certificate_is_sent_only_when_none_is_named() {
        let home = Path::new("/home/me");
        let both = files(&[
            "/home/me/.postgresql/postgresql.crt",
            "/home/me/.postgresql/postgresql.key",
        ]);
        let found = default_client_cert(&url("sslmode=require"), false, Some(home), &both)
            .unwrap()
            .expect("sent");
        assert_eq!(found.1, Path::new("/home/me/.postgresql/postgresql.key"));
        assert!(
            default_client_cert(&url("sslcert=/c.crt"), false, Some(home), &both)
                .unwrap()
                .is_none()
        );
        assert!(
            default_client_cert(&url(""), true, Some(home), &both)
                .unwrap()
                .is_none()
        );
        let cert_only = files(&["/home/me/.postgresql/postgresql.crt"]);
        let err = default_client_cert(&url(""), false, Some(home), &cert_only).unwrap_err();
        assert!(err.contains("postgresql.key is not"), "{err}");
    }

    #[test]
    fn stripping_keeps_the_other_parameters() {
        let stripped = without_root(&url("sslrootcert=system&sslmode=verify-full"));
        assert_eq!(stripped.query(), Some("sslmode=verify-full"));
        assert_eq!(without_root(&url("sslrootcert=system")).query(), None);
    }
}
