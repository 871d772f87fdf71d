mod socket;
pub mod tls;

pub use socket::{
    connect_tcp, connect_uds, BufferedSocket, Socket, SocketIntoBox, WithSocket, WriteBuffer,
};
// sqlready patch: the message size cap (see vendor/README.md).
pub use socket::{message_too_large, MAX_MESSAGE_BYTES};
// sqlready patch: `--resolve` (see vendor/README.md).
pub use socket::{connect_override, set_connect_override};
