//! Hand-made clients for hostile tests: raw TCP requests (slow headers, slow bodies, floods),
//! a minimal WebSocket client (RFC 6455 frames), and this process's memory and CPU use.

use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Longest any read in these tests may block (CI machines may be 3x slower).
pub const READ_BOUND: Duration = Duration::from_secs(30);

/// Open a TCP connection to the server.
pub fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(READ_BOUND)).unwrap();
    s.set_nodelay(true).unwrap();
    s
}

/// Read an HTTP/1.1 response head and its `content-length` body: (status, body as JSON or
/// `Null`). `None` when the server closed the connection without a response.
pub fn read_response(s: &mut TcpStream) -> Option<(u16, Value)> {
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match s.read(&mut b) {
            Ok(1) => head.push(b[0]),
            _ => return None,
        }
        assert!(head.len() < 64 * 1024, "response head too long");
    }
    let text = String::from_utf8_lossy(&head).to_string();
    let status: u16 = text.split(' ').nth(1)?.parse().ok()?;
    let len = text
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).ok()?;
    Some((status, serde_json::from_slice(&body).unwrap_or(Value::Null)))
}

/// True when the server closes the connection (EOF or reset) before `bound`.
pub fn closed_within(s: &mut TcpStream, bound: Duration) -> bool {
    s.set_read_timeout(Some(bound)).unwrap();
    let mut buf = [0u8; 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue, // e.g. a 408 before the close
            Err(e) => {
                return !matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                );
            }
        }
    }
}

/// A minimal WebSocket client.
pub struct Ws {
    s: TcpStream,
}

impl Ws {
    /// Open `/ws`; the refusal's status and JSON body if the server does not upgrade.
    pub fn open(port: u16) -> Result<Ws, (u16, Value)> {
        let mut s = connect(port);
        let req = format!(
            "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             Sec-WebSocket-Version: 13\r\n\r\n"
        );
        s.write_all(req.as_bytes()).unwrap();
        match read_response(&mut s) {
            Some((101, _)) => Ok(Ws { s }),
            Some(refused) => Err(refused),
            None => Err((0, Value::Null)),
        }
    }

    fn write_frame(&mut self, opcode: u8, payload: &[u8]) -> std::io::Result<()> {
        let mut f = vec![0x80 | opcode];
        let len = payload.len();
        if len < 126 {
            f.push(0x80 | len as u8);
        } else if len <= 0xffff {
            f.push(0x80 | 126);
            f.extend((len as u16).to_be_bytes());
        } else {
            f.push(0x80 | 127);
            f.extend((len as u64).to_be_bytes());
        }
        let mask = [0x12, 0x34, 0x56, 0x78];
        f.extend(mask);
        f.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.s.write_all(&f)
    }

    fn read_frame(&mut self) -> std::io::Result<(u8, Vec<u8>)> {
        let mut h = [0u8; 2];
        self.s.read_exact(&mut h)?;
        let mut len = u64::from(h[1] & 0x7f);
        if len == 126 {
            let mut l = [0u8; 2];
            self.s.read_exact(&mut l)?;
            len = u64::from(u16::from_be_bytes(l));
        } else if len == 127 {
            let mut l = [0u8; 8];
            self.s.read_exact(&mut l)?;
            len = u64::from_be_bytes(l);
        }
        assert!(len < 64 << 20, "frame of {len} bytes");
        let mut p = vec![0u8; len as usize];
        self.s.read_exact(&mut p)?;
        Ok((h[0] & 0x0f, p))
    }

    /// Send a text message.
    pub fn send(&mut self, v: &Value) {
        self.write_frame(1, v.to_string().as_bytes()).unwrap();
    }

    /// Next text message as JSON (answering pings); `None` once the server closed.
    pub fn recv(&mut self) -> Option<Value> {
        loop {
            match self.read_frame() {
                Ok((1, p)) => return Some(serde_json::from_slice(&p).unwrap()),
                Ok((9, p)) => self.write_frame(10, &p).ok()?,
                Ok((8, _)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
    }

    /// Send a call and return its reply (notifications in between are skipped).
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        let id = 77;
        self.send(&serde_json::json!({"jsonrpc":"2.0","id":id,"method":method,"params":params}));
        loop {
            let v = self.recv().expect("the server closed the WebSocket");
            if v["id"] == id {
                return v;
            }
        }
    }

    /// Wait (at most `bound`) for the server to close the connection, not answering pings.
    pub fn closed_by_server_within(&mut self, bound: Duration) -> bool {
        self.s.set_read_timeout(Some(bound)).unwrap();
        loop {
            match self.read_frame() {
                Ok((8, _)) => return true,
                Ok(_) => continue,
                Err(e) => {
                    return !matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    );
                }
            }
        }
    }
}

/// `VmRSS` and `VmHWM` (peak) of this process, KiB.
pub fn rss_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// CPU time this process used (user + system), in clock ticks (100 per second on Linux).
pub fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // Fields after the parenthesised command name: state is field 3; utime 14, stime 15.
    let rest = stat.rsplit_once(')').unwrap().1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}
