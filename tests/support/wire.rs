//! Loopback endpoints for the `--connect` tests: a port nothing listens on,
//! and a PostgreSQL-protocol listener that keeps the cleartext password a
//! client sends (an RDS IAM token as it travels on the wire).
#![allow(dead_code)]

/// A loopback port nothing listens on.
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

/// A PostgreSQL-protocol endpoint that asks for the password in clear text
/// (AuthenticationCleartextPassword, as RDS does for IAM users), keeps what the
/// client sent, and refuses the login: the IAM token as it travels on the wire.
pub fn capture_password() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let keep = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(10)));
            let read_message = |stream: &mut std::net::TcpStream| -> Option<Vec<u8>> {
                let mut len = [0u8; 4];
                stream.read_exact(&mut len).ok()?;
                let len = u32::from_be_bytes(len) as usize;
                let mut body = vec![0u8; len.checked_sub(4)?];
                stream.read_exact(&mut body).ok()?;
                Some(body)
            };
            // SSLRequest (code 80877103): no TLS here; then the StartupMessage.
            let Some(first) = read_message(&mut stream) else {
                continue;
            };
            if first == 80877103u32.to_be_bytes() {
                let _ = stream.write_all(b"N");
                if read_message(&mut stream).is_none() {
                    continue;
                }
            }
            let _ = stream.write_all(&[b'R', 0, 0, 0, 8, 0, 0, 0, 3]);
            let mut tag = [0u8; 1];
            if stream.read_exact(&mut tag).is_err() || tag[0] != b'p' {
                continue;
            }
            if let Some(body) = read_message(&mut stream) {
                let password = String::from_utf8_lossy(body.strip_suffix(&[0]).unwrap_or(&body));
                if let Ok(mut seen) = keep.lock() {
                    seen.push(password.into_owned());
                }
            }
            let mut fields = Vec::new();
            for (code, text) in [
                (b'S', "FATAL"),
                (b'C', "28P01"),
                (b'M', "token captured by the test"),
            ] {
                fields.push(code);
                fields.extend_from_slice(text.as_bytes());
                fields.push(0);
            }
            fields.push(0);
            let mut message = vec![b'E'];
            message.extend_from_slice(&((fields.len() + 4) as u32).to_be_bytes());
            message.extend_from_slice(&fields);
            let _ = stream.write_all(&message);
        }
    });
    (port, seen)
}
