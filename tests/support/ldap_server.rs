//! A minimal LDAPv3 server for PostgreSQL's `ldap` authentication method in
//! simple-bind mode (pg_hba.conf `ldap ldapserver=127.0.0.1 ldapport=N
//! ldapprefix="cn=" ldapsuffix=",ou=…"`): PostgreSQL asks the client for its
//! password in clear text (as RDS does for an IAM user) and binds as
//! `PREFIX + user + SUFFIX` with it. This server answers the BindRequest
//! (RFC 4511 §4.2) with `success` or `invalidCredentials` as a check function
//! decides, and records each decision for the test to assert on.
//!
//! Why LDAP and not RADIUS: PostgreSQL's `radius` method refuses any password
//! longer than 128 characters before asking the server (auth.c
//! `RADIUS_MAX_PASSWORD_LENGTH`, after RFC 2865 §5.2's 128-octet
//! User-Password), and an RDS IAM token is over 300. The `ldap` method has no
//! such limit. One in-process thread, like the other support servers.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One bind the server answered.
#[derive(Clone, Debug)]
pub struct Decision {
    /// The user of the bind DN (prefix and suffix removed).
    pub user: String,
    /// The password as received (kept in memory for the test only).
    pub password: String,
    /// None: accepted; Some: why it was refused.
    pub refused: Option<String>,
}

/// Decides a bind: Ok accepts it, Err(reason) refuses it.
pub type Check = dyn Fn(&str, &str) -> Result<(), String> + Send + Sync;

/// The running server; it lives until the test process ends.
pub struct LdapServer {
    pub port: u16,
    pub prefix: String,
    pub suffix: String,
    decisions: Arc<Mutex<Vec<Decision>>>,
}

impl LdapServer {
    /// Starts on a free loopback port; binds whose DN is `prefix USER suffix`
    /// go to `check(USER, password)`, any other DN is refused.
    pub fn start(prefix: &str, suffix: &str, check: Box<Check>) -> LdapServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the LDAP server");
        let port = listener.local_addr().expect("address").port();
        let decisions = Arc::new(Mutex::new(Vec::new()));
        let shared = Arc::new((
            prefix.to_string(),
            suffix.to_string(),
            check,
            decisions.clone(),
        ));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let shared = shared.clone();
                std::thread::spawn(move || {
                    let (prefix, suffix, check, decisions) = &*shared;
                    let _ = serve(stream, prefix, suffix, check.as_ref(), decisions);
                });
            }
        });
        LdapServer {
            port,
            prefix: prefix.to_string(),
            suffix: suffix.to_string(),
            decisions,
        }
    }

    /// The pg_hba.conf line sending `user`'s TLS logins from loopback here.
    pub fn hba_line(&self, user: &str) -> String {
        format!(
            "hostssl all {user} 127.0.0.1/32 ldap ldapserver=127.0.0.1 ldapport={} ldapprefix=\"{}\" ldapsuffix=\"{}\"\n",
            self.port, self.prefix, self.suffix
        )
    }

    /// Every bind answered so far, in order.
    pub fn decisions(&self) -> Vec<Decision> {
        self.decisions.lock().expect("decisions").clone()
    }
}

/// LDAP result codes (RFC 4511 §4.1.9).
const SUCCESS: u8 = 0;
const PROTOCOL_ERROR: u8 = 2;
const AUTH_METHOD_NOT_SUPPORTED: u8 = 7;
const INVALID_CREDENTIALS: u8 = 49;

/// One connection: BindRequests answered until an UnbindRequest or EOF.
fn serve(
    mut stream: TcpStream,
    prefix: &str,
    suffix: &str,
    check: &Check,
    decisions: &Mutex<Vec<Decision>>,
) -> Result<(), String> {
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    loop {
        let (tag, message) = read_tlv(&mut stream)?;
        if tag != 0x30 {
            return Err(format!("not an LDAPMessage (tag {tag:#x})"));
        }
        let fields = parse_tlvs(&message)?;
        let [(0x02, id), (op, body), ..] = fields[..] else {
            return Err("an LDAPMessage without messageID and protocolOp".into());
        };
        match op {
            // BindRequest ::= [APPLICATION 0] SEQUENCE { version, name, authentication }
            0x60 => {
                let (code, why) = match parse_tlvs(body)?[..] {
                    [(0x02, _), (0x04, name), (0x80, password), ..] => {
                        let name = String::from_utf8_lossy(name);
                        let password = String::from_utf8_lossy(password).into_owned();
                        let user = name
                            .strip_prefix(prefix)
                            .and_then(|rest| rest.strip_suffix(suffix))
                            .map(str::to_string);
                        let verdict = match &user {
                            Some(user) => check(user.as_str(), password.as_str()),
                            None => Err(format!("bind DN {name} is not {prefix}USER{suffix}")),
                        };
                        decisions.lock().expect("decisions").push(Decision {
                            user: user.unwrap_or_else(|| name.into_owned()),
                            password,
                            refused: verdict.clone().err(),
                        });
                        match verdict {
                            Ok(()) => (SUCCESS, String::new()),
                            Err(why) => (INVALID_CREDENTIALS, why),
                        }
                    }
                    [(0x02, _), (0x04, _), (0xA3, _), ..] => {
                        (AUTH_METHOD_NOT_SUPPORTED, "simple bind only".into())
                    }
                    _ => (PROTOCOL_ERROR, "a malformed BindRequest".into()),
                };
                let result = [
                    tlv(0x0A, &[code]),
                    tlv(0x04, b""),
                    tlv(0x04, why.as_bytes()),
                ]
                .concat();
                let response = tlv(0x30, &[tlv(0x02, id), tlv(0x61, &result)].concat());
                stream.write_all(&response).map_err(|e| e.to_string())?;
            }
            // UnbindRequest ::= [APPLICATION 2] NULL
            0x42 => return Ok(()),
            other => return Err(format!("operation {other:#x} is not served")),
        }
    }
}

/// The largest message read (a bind with a long token is a few KiB).
const MAX_MESSAGE: usize = 64 * 1024;

/// One BER element from the stream: its tag and contents.
fn read_tlv(stream: &mut TcpStream) -> Result<(u8, Vec<u8>), String> {
    let mut byte = [0u8; 1];
    let mut next = |stream: &mut TcpStream| -> Result<u8, String> {
        stream.read_exact(&mut byte).map_err(|e| e.to_string())?;
        Ok(byte[0])
    };
    let tag = next(stream)?;
    let first = next(stream)?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 {
            return Err(format!("length of {count} bytes"));
        }
        let mut len = 0usize;
        for _ in 0..count {
            len = (len << 8) | usize::from(next(stream)?);
        }
        len
    };
    if len > MAX_MESSAGE {
        return Err(format!("a message of {len} bytes"));
    }
    let mut contents = vec![0u8; len];
    stream
        .read_exact(&mut contents)
        .map_err(|e| e.to_string())?;
    Ok((tag, contents))
}

/// The BER elements of a constructed element's contents.
fn parse_tlvs(mut bytes: &[u8]) -> Result<Vec<(u8, &[u8])>, String> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let short = || "a truncated BER element".to_string();
        let tag = bytes[0];
        let first = *bytes.get(1).ok_or_else(short)?;
        let (len, header) = if first < 0x80 {
            (usize::from(first), 2)
        } else {
            let count = usize::from(first & 0x7f);
            let digits = bytes.get(2..2 + count).ok_or_else(short)?;
            if count == 0 || count > 4 {
                return Err(format!("length of {count} bytes"));
            }
            let len = digits
                .iter()
                .fold(0usize, |n, d| (n << 8) | usize::from(*d));
            (len, 2 + count)
        };
        let contents = bytes.get(header..header + len).ok_or_else(short)?;
        out.push((tag, contents));
        bytes = &bytes[header + len..];
    }
    Ok(out)
}

/// A BER element: tag, definite length (short or long form), contents.
fn tlv(tag: u8, contents: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = contents.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let digits: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | digits.len() as u8);
        out.extend(digits);
    }
    out.extend_from_slice(contents);
    out
}
