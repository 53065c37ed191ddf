//! Limits on what the parser accepts, so hostile input cannot make it work or allocate
//! out of proportion.

/// Bounds applied while parsing a message. Exceeding any of them rejects the message
/// with 513 Message Too Large (for requests). Whatever the limits, a head (start line
/// and headers) is at most 65,535 bytes; the body may be larger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The largest message (head and body) accepted, in bytes. Default 65,535, the
    /// largest UDP payload.
    pub max_message_size: usize,
    /// The most header lines accepted. Default 256.
    pub max_headers: usize,
    /// The longest header line (after unfolding) accepted, in bytes. Default 16 KiB.
    pub max_line_len: usize,
    /// The most Via values accepted. Default 100.
    pub max_vias: usize,
}

impl Limits {
    /// The largest `max_message_size` that can be configured.
    pub const MAX_MESSAGE_SIZE_CAP: usize = u32::MAX as usize;
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_message_size: 65_535,
            max_headers: 256,
            max_line_len: 16 * 1024,
            max_vias: 100,
        }
    }
}
