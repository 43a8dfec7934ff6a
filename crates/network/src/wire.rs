//! Noise transport messages on a byte stream, and application frames inside them.
//!
//! On the socket every Noise message is `len: u16 BE ‖ ciphertext`. The decrypted plaintexts
//! form one byte stream carrying frames `payload_len: u32 BE ‖ channel: u8 ‖ payload`; a frame
//! may span many Noise messages. An empty Noise message is a keep-alive.

use std::sync::Arc;
use std::time::Duration;

use snow::StatelessTransportState;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::config::{
    FRAME_HEADER_BYTES, NOISE_MAX_MESSAGE_BYTES, NOISE_MAX_PLAINTEXT_BYTES, NOISE_TAG_BYTES,
};
use crate::error::LinkError;

/// Buffered ciphertext is written to the socket once it reaches this size.
const WRITE_FLUSH_BYTES: usize = 256 * 1024;

/// Reads `[u16 BE len][bytes]` into `buf`, refusing lengths above `max_bytes` before reading.
/// End of stream before the length is `LinkError::Closed`.
pub(crate) async fn read_prefixed<R: AsyncRead + Unpin>(
    io: &mut R,
    buf: &mut [u8],
    max_bytes: usize,
) -> Result<usize, LinkError> {
    let mut len = [0u8; 2];
    io.read_exact(&mut len).await.map_err(eof_is_closed)?;
    let len = usize::from(u16::from_be_bytes(len));
    if len > max_bytes.min(buf.len()) {
        return Err(LinkError::HandshakeMessageTooLarge {
            bytes: len,
            max_bytes,
        });
    }
    let dst = buf
        .get_mut(..len)
        .ok_or(LinkError::HandshakeMessageTooLarge {
            bytes: len,
            max_bytes,
        })?;
    io.read_exact(dst).await.map_err(eof_is_closed)?;
    Ok(len)
}

/// Writes `[u16 BE len][bytes]`; `bytes` is at most a Noise message, so the length fits.
pub(crate) async fn write_prefixed<W: AsyncWrite + Unpin>(
    io: &mut W,
    bytes: &[u8],
) -> Result<(), LinkError> {
    let len = u16::try_from(bytes.len()).map_err(|_| LinkError::HandshakeMessageTooLarge {
        bytes: bytes.len(),
        max_bytes: NOISE_MAX_MESSAGE_BYTES,
    })?;
    let mut out = Vec::with_capacity(2 + bytes.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
    io.write_all(&out).await?;
    io.flush().await?;
    Ok(())
}

fn eof_is_closed(e: std::io::Error) -> LinkError {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        LinkError::Closed
    } else {
        LinkError::Io(e)
    }
}

fn next_nonce(nonce: &mut u64) -> Result<u64, LinkError> {
    let n = *nonce;
    *nonce = n.checked_add(1).ok_or(LinkError::NonceExhausted)?;
    Ok(n)
}

/// The receiving half of an established link.
pub(crate) struct NoiseReader<R> {
    io: R,
    noise: Arc<StatelessTransportState>,
    nonce: u64,
    cipher: Vec<u8>,
    plain: Vec<u8>,
    pos: usize,
    len: usize,
}

impl<R: AsyncRead + Unpin> NoiseReader<R> {
    pub(crate) fn new(io: R, noise: Arc<StatelessTransportState>) -> Self {
        NoiseReader {
            io,
            noise,
            nonce: 0,
            cipher: vec![0; NOISE_MAX_MESSAGE_BYTES],
            plain: vec![0; NOISE_MAX_MESSAGE_BYTES],
            pos: 0,
            len: 0,
        }
    }

    /// Reads and decrypts one Noise message of at most `max_bytes` on the wire; returns its
    /// plaintext, which counts as consumed (it is not part of the frame stream). Only for
    /// messages outside the frame stream (the identity message): discards unread plaintext.
    pub(crate) async fn read_message(&mut self, max_bytes: usize) -> Result<&[u8], LinkError> {
        self.next_message(max_bytes).await?;
        self.pos = self.len;
        Ok(self.plain.get(..self.len).unwrap_or_default())
    }

    /// Reads and decrypts the next Noise message into the plaintext buffer, unconsumed.
    async fn next_message(&mut self, max_bytes: usize) -> Result<(), LinkError> {
        let n = read_prefixed(&mut self.io, &mut self.cipher, max_bytes).await?;
        if n < NOISE_TAG_BYTES {
            return Err(LinkError::RuntMessage { bytes: n });
        }
        let nonce = next_nonce(&mut self.nonce)?;
        let cipher = self.cipher.get(..n).unwrap_or_default();
        self.len = self.noise.read_message(nonce, cipher, &mut self.plain)?;
        self.pos = 0;
        Ok(())
    }

    /// Fills `out` from the plaintext stream; each wait for a Noise message is bounded by `idle`.
    async fn read_plain(&mut self, out: &mut [u8], idle: Duration) -> Result<(), LinkError> {
        let mut filled = 0;
        while filled < out.len() {
            if self.pos == self.len {
                tokio::time::timeout(idle, self.next_message(NOISE_MAX_MESSAGE_BYTES))
                    .await
                    .map_err(|_| LinkError::Timeout { what: "idle link" })??;
                continue;
            }
            let take = (self.len - self.pos).min(out.len() - filled);
            let (src, dst) = (
                self.plain.get(self.pos..self.pos + take),
                out.get_mut(filled..filled + take),
            );
            if let (Some(src), Some(dst)) = (src, dst) {
                dst.copy_from_slice(src);
            }
            self.pos += take;
            filled += take;
        }
        Ok(())
    }

    /// Reads one application frame. The length is checked against `max_frame_bytes` before the
    /// payload buffer is allocated.
    pub(crate) async fn read_frame(
        &mut self,
        max_frame_bytes: usize,
        idle: Duration,
    ) -> Result<(u8, Vec<u8>), LinkError> {
        let mut header = [0u8; FRAME_HEADER_BYTES];
        self.read_plain(&mut header, idle).await?;
        let [l0, l1, l2, l3, channel] = header;
        let len = u32::from_be_bytes([l0, l1, l2, l3]) as usize;
        if len > max_frame_bytes {
            return Err(LinkError::FrameTooLarge {
                bytes: len,
                max_bytes: max_frame_bytes,
            });
        }
        let mut payload = vec![0u8; len];
        self.read_plain(&mut payload, idle).await?;
        Ok((channel, payload))
    }
}

/// The sending half of an established link.
pub(crate) struct NoiseWriter<W> {
    io: W,
    noise: Arc<StatelessTransportState>,
    nonce: u64,
    plain: Vec<u8>,
    out: Vec<u8>,
}

impl<W: AsyncWrite + Unpin> NoiseWriter<W> {
    pub(crate) fn new(io: W, noise: Arc<StatelessTransportState>) -> Self {
        NoiseWriter {
            io,
            noise,
            nonce: 0,
            plain: Vec::with_capacity(NOISE_MAX_PLAINTEXT_BYTES),
            out: Vec::with_capacity(WRITE_FLUSH_BYTES + NOISE_MAX_MESSAGE_BYTES + 2),
        }
    }

    /// Encrypts `self.plain` as one Noise message appended to `self.out`.
    fn seal_plain(&mut self) -> Result<(), LinkError> {
        let nonce = next_nonce(&mut self.nonce)?;
        let ct_len = self.plain.len() + NOISE_TAG_BYTES;
        let start = self.out.len();
        let len = u16::try_from(ct_len).map_err(|_| LinkError::FrameTooLarge {
            bytes: ct_len,
            max_bytes: NOISE_MAX_MESSAGE_BYTES,
        })?;
        self.out.extend_from_slice(&len.to_be_bytes());
        self.out.resize(start + 2 + ct_len, 0);
        let dst = self.out.get_mut(start + 2..).unwrap_or_default();
        let written = self.noise.write_message(nonce, &self.plain, dst)?;
        debug_assert_eq!(written, ct_len, "ChaChaPoly adds exactly one tag");
        self.plain.clear();
        Ok(())
    }

    async fn flush_out(&mut self) -> Result<(), LinkError> {
        if !self.out.is_empty() {
            self.io.write_all(&self.out).await?;
            self.out.clear();
        }
        Ok(())
    }

    /// Sends one Noise message carrying `plaintext` (≤ one message; empty = keep-alive).
    /// Half-closes the socket: the peer reads to the end of what was written, then EOF.
    pub(crate) async fn shutdown(&mut self) -> Result<(), LinkError> {
        tokio::io::AsyncWriteExt::shutdown(&mut self.io).await?;
        Ok(())
    }

    pub(crate) async fn write_message(&mut self, plaintext: &[u8]) -> Result<(), LinkError> {
        self.plain.clear();
        self.plain.extend_from_slice(plaintext);
        if self.plain.len() > NOISE_MAX_PLAINTEXT_BYTES {
            return Err(LinkError::FrameTooLarge {
                bytes: plaintext.len(),
                max_bytes: NOISE_MAX_PLAINTEXT_BYTES,
            });
        }
        self.seal_plain()?;
        self.flush_out().await?;
        self.io.flush().await?;
        Ok(())
    }

    /// Sends one application frame, split over as many Noise messages as needed.
    pub(crate) async fn write_frame(
        &mut self,
        channel: u8,
        payload: &[u8],
    ) -> Result<(), LinkError> {
        let len = u32::try_from(payload.len()).map_err(|_| LinkError::FrameTooLarge {
            bytes: payload.len(),
            max_bytes: u32::MAX as usize,
        })?;
        self.plain.clear();
        self.plain.extend_from_slice(&len.to_be_bytes());
        self.plain.push(channel);
        let mut rest = payload;
        loop {
            let room = NOISE_MAX_PLAINTEXT_BYTES - self.plain.len();
            let (now, later) = rest.split_at(room.min(rest.len()));
            self.plain.extend_from_slice(now);
            rest = later;
            self.seal_plain()?;
            if self.out.len() >= WRITE_FLUSH_BYTES {
                self.flush_out().await?;
            }
            if rest.is_empty() {
                break;
            }
        }
        self.flush_out().await?;
        self.io.flush().await?;
        Ok(())
    }
}
